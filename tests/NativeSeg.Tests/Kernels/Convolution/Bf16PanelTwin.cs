namespace NativeSeg.Tests.Kernels.Convolution;

/// <summary>
/// The C# twin of the native bf16 kernel (src/Kernels/Conv2d/Bf16PanelKernel.c): operands rounded to bf16 as
/// VCVTNE2PS2BF16 rounds (nearest even, denormals to signed zero, NaNs quieted), the same pair-interleaved layout, and
/// VDPBF16PS's float sums (per lane, the odd element's product added first, then the even one's; the products of two
/// bf16 values are exact in float).
/// </summary>
internal static class Bf16PanelTwin
{
    public const int Mr = 8, Nr = 48;

    public static ushort Round(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7F80_0000) == 0) return (ushort)(bits >> 16 & 0x8000);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)(bits >> 16 | 0x40);
        return (ushort)((bits + 0x7FFF + (bits >> 16 & 1)) >> 16);
    }

    public static float Widen(ushort bf16) => BitConverter.UInt32BitsToSingle((uint)bf16 << 16);

    /// <summary>The value <paramref name="value"/> holds after rounding to bf16.</summary>
    public static float Rounded(float value) => Widen(Round(value));

    /// <summary>dst[p·n + j] = Round(src[2p·ld + j]) | Round(src[(2p + 1)·ld + j]) &lt;&lt; 16, zero past an odd k.</summary>
    public static uint[] PackPairs(ReadOnlySpan<float> src, int ld, int k, int n)
    {
        var dst = new uint[(k + 1) / 2 * n];
        for (int p = 0; p < (k + 1) / 2; p++)
        for (int j = 0; j < n; j++)
        {
            uint odd = 2 * p + 1 < k ? Round(src[(2 * p + 1) * ld + j]) : 0u;
            dst[p * n + j] = Round(src[2 * p * ld + j]) | odd << 16;
        }
        return dst;
    }

    /// <summary>c[8 × 48] (row stride ldc) = aᵀ·b + bias, then ReLU, for pair-interleaved a [pairs][8] and b [pairs][48].</summary>
    public static void Panel(int pairs, ReadOnlySpan<uint> a, ReadOnlySpan<uint> b, Span<float> c, int ldc, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual, bool relu)
    {
        for (int i = 0; i < Mr; i++)
        for (int j = 0; j < Nr; j++)
        {
            float sum = 0;
            for (int p = 0; p < pairs; p++)
            {
                uint x = a[p * Mr + i], y = b[p * Nr + j];
                sum += Widen((ushort)(x >> 16)) * Widen((ushort)(y >> 16));
                sum += Widen((ushort)x) * Widen((ushort)y);
            }
            if (!bias.IsEmpty) sum += bias[i];
            if (!residual.IsEmpty) sum += residual[i * ldc + j];
            // As vmaxps(0, v): a NaN passes through, as torch's relu lets it.
            c[i * ldc + j] = relu && !(sum >= 0) && !float.IsNaN(sum) ? 0 : sum;
        }
    }
}
