using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The matrices of Winograd's minimal filtering F(4×4, 3×3) (Lavin and Gray 2016, interpolation points
/// 0, ±1, ±2 and ∞): a 6×6 input tile d and a 3×3 filter g give the 4×4 correlation output
/// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 36 multiplications where the direct sum takes 144. Each 2-D transform is
/// the 1-D one applied to the columns and then to the rows. The input and output transforms run on
/// vectors of 16 tiles at once.
/// </summary>
internal static class WinogradF43
{
    /// <summary>Output tile side.</summary>
    public const int M = 4;

    /// <summary>Input tile side, and the number of frequencies per side.</summary>
    public const int Alpha = 6;

    /// <summary>Frequencies per tile.</summary>
    public const int Points = Alpha * Alpha;

    private static readonly double[,] G =
    {
        { 1.0 / 4, 0, 0 },
        { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
        { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
        { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
        { 0, 0, 1 },
    };

    /// <summary>u = G g Gᵀ of one 3×3 filter (row-major), in double, so the only rounding is the final one to float.</summary>
    public static unsafe void Filter(float* g, Span<float> u)
    {
        Span<double> t = stackalloc double[Alpha * 3];
        for (int i = 0; i < Alpha; i++)
        for (int c = 0; c < 3; c++)
            t[i * 3 + c] = G[i, 0] * g[c] + G[i, 1] * g[3 + c] + G[i, 2] * g[6 + c];
        for (int i = 0; i < Alpha; i++)
        for (int j = 0; j < Alpha; j++)
            u[i * Alpha + j] = (float)(t[i * 3] * G[j, 0] + t[i * 3 + 1] * G[j, 1] + t[i * 3 + 2] * G[j, 2]);
    }

    /// <summary>Bᵀ applied to six values: d[0], d[stride], ... in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Input(float* d, int stride)
    {
        var (d0, d1, d2, d3, d4, d5) = Six(d, stride);
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var two = Vector512.Create(2f);
        var d4MinusD2 = d4 - d2;
        var d3MinusD1 = d3 - d1;
        Vector512.Store(four * d0 - five * d2 + d4, d);
        Vector512.Store(d4 + d3 - four * (d1 + d2), d + stride);
        Vector512.Store(d4 - d3 + four * (d1 - d2), d + 2 * stride);
        Vector512.Store(d4MinusD2 + two * d3MinusD1, d + 3 * stride);
        Vector512.Store(d4MinusD2 - two * d3MinusD1, d + 4 * stride);
        Vector512.Store(four * d1 - five * d3 + d5, d + 5 * stride);
    }

    /// <summary>Aᵀ applied to six values m[0], m[stride], ...: four results to o[0], o[outStride], ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Output(float* m, int stride, float* o, int outStride)
    {
        var (m0, m1, m2, m3, m4, m5) = Six(m, stride);
        var sum12 = m1 + m2;
        var diff12 = m1 - m2;
        var sum34 = m3 + m4;
        var diff34 = m3 - m4;
        Vector512.Store(m0 + sum12 + sum34, o);
        Vector512.Store(diff12 + Vector512.Create(2f) * diff34, o + outStride);
        Vector512.Store(sum12 + Vector512.Create(4f) * sum34, o + 2 * outStride);
        Vector512.Store(diff12 + Vector512.Create(8f) * diff34 + m5, o + 3 * outStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Six(float* p, int stride) =>
        (Vector512.Load(p), Vector512.Load(p + stride), Vector512.Load(p + 2 * stride), Vector512.Load(p + 3 * stride),
            Vector512.Load(p + 4 * stride), Vector512.Load(p + 5 * stride));
}
