using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The AVX-512 register-blocked GEMM micro-kernel of the CPU convolutions: an 8 × 48 block of the product of
/// packed operands, used by the implicit GEMM (<see cref="Conv2dImplicitGemm"/>) and by Winograd's
/// per-frequency products (<see cref="Conv2dWinograd"/>).
/// </summary>
internal static unsafe class PanelKernel
{
    /// <summary>Filters (rows of c) per call.</summary>
    public const int Mr = 8;

    /// <summary>Columns of c per call: three zmm registers.</summary>
    public const int Nr = 48;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// c[8 × 48] (row stride ldc) = a[k × 8]ᵀ · b[k × 48] + bias, then ReLU: 24 accumulators, one
    /// broadcast and three FMAs per filter per tap, the sum never leaving registers.
    /// </summary>
    public static void Run(int k, float* a, float* b, float* c, long ldc, float* bias, bool relu) => Run(k, a, b, c, ldc, bias, null, relu);

    /// <summary>
    /// As <see cref="Run(int, float*, float*, float*, long, float*, bool)"/>, plus <paramref name="residual"/> (8 × 48,
    /// row stride ldc, null: none) after the bias and before the ReLU: a residual join done while the block is in
    /// registers, in the same order of additions as a separate add, so the sum is the same to the bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int k, float* a, float* b, float* c, long ldc, float* bias, float* residual, bool relu)
    {
        // The 8 residual rows lie a channel plane apart, hundreds of streams over a conv that no hardware prefetcher
        // follows: asked for now, they arrive while the sum runs instead of stalling the stores.
        if (residual != null) PrefetchRows(residual, ldc);
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<float> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int t = 0; t < k; t++, a += Mr, b += Nr)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var v = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(v, b0, c00); c01 = Avx512F.FusedMultiplyAdd(v, b1, c01); c02 = Avx512F.FusedMultiplyAdd(v, b2, c02);
            v = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(v, b0, c10); c11 = Avx512F.FusedMultiplyAdd(v, b1, c11); c12 = Avx512F.FusedMultiplyAdd(v, b2, c12);
            v = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(v, b0, c20); c21 = Avx512F.FusedMultiplyAdd(v, b1, c21); c22 = Avx512F.FusedMultiplyAdd(v, b2, c22);
            v = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(v, b0, c30); c31 = Avx512F.FusedMultiplyAdd(v, b1, c31); c32 = Avx512F.FusedMultiplyAdd(v, b2, c32);
            v = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(v, b0, c40); c41 = Avx512F.FusedMultiplyAdd(v, b1, c41); c42 = Avx512F.FusedMultiplyAdd(v, b2, c42);
            v = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(v, b0, c50); c51 = Avx512F.FusedMultiplyAdd(v, b1, c51); c52 = Avx512F.FusedMultiplyAdd(v, b2, c52);
            v = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(v, b0, c60); c61 = Avx512F.FusedMultiplyAdd(v, b1, c61); c62 = Avx512F.FusedMultiplyAdd(v, b2, c62);
            v = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(v, b0, c70); c71 = Avx512F.FusedMultiplyAdd(v, b1, c71); c72 = Avx512F.FusedMultiplyAdd(v, b2, c72);
        }
        Store(c, bias, residual, 0, ldc, relu, c00, c01, c02);
        Store(c, bias, residual, 1, ldc, relu, c10, c11, c12);
        Store(c, bias, residual, 2, ldc, relu, c20, c21, c22);
        Store(c, bias, residual, 3, ldc, relu, c30, c31, c32);
        Store(c, bias, residual, 4, ldc, relu, c40, c41, c42);
        Store(c, bias, residual, 5, ldc, relu, c50, c51, c52);
        Store(c, bias, residual, 6, ldc, relu, c60, c61, c62);
        Store(c, bias, residual, 7, ldc, relu, c70, c71, c72);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows(float* rows, long stride)
    {
        for (int row = 0; row < Mr; row++, rows += stride)
        {
            Sse.Prefetch0(rows);
            Sse.Prefetch0(rows + 16);
            Sse.Prefetch0(rows + 32);
            Sse.Prefetch0(rows + Nr - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, float* bias, float* residual, int row, long ldc, bool relu, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2)
    {
        if (bias != null)
        {
            var b = Vector512.Create(bias[row]);
            v0 += b;
            v1 += b;
            v2 += b;
        }
        if (residual != null)
        {
            float* r = residual + row * ldc;
            v0 += Vector512.Load(r);
            v1 += Vector512.Load(r + 16);
            v2 += Vector512.Load(r + 32);
        }
        if (relu)
        {
            // vmaxps returns its second operand when either is NaN, so NaNs pass through as torch's relu does.
            v0 = Avx512F.Max(Vector512<float>.Zero, v0);
            v1 = Avx512F.Max(Vector512<float>.Zero, v1);
            v2 = Avx512F.Max(Vector512<float>.Zero, v2);
        }
        c += row * ldc;
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
        Vector512.Store(v2, c + 32);
    }
}
