using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The emulator's "cuBLAS": OpenBLAS straight on the pointers, since device memory is host memory. The half GEMMs keep
/// cublasGemmEx's contract with CUBLAS_COMPUTE_32F: the half operands are widened exactly, multiplied and summed in
/// float by SGEMM, and each result is rounded to half once, when it is stored.
/// </summary>
internal sealed unsafe class EmulatedBlas : IDeviceBlas
{
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc) =>
        OpenBlas.Sgemm(transA, transB, m, n, k, alpha, (float*)a, lda, (float*)b, ldb, beta, (float*)c, ldc);

    public void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB, float beta, nint c, int ldc, long strideC, int batch)
    {
        for (int i = 0; i < batch; i++)
        {
            OpenBlas.Sgemm(transA, transB, m, n, k, alpha, (float*)a + i * strideA, lda, (float*)b + i * strideB, ldb,
                beta, (float*)c + i * strideC, ldc);
        }
    }

    public void GemmHalf(bool transA, bool transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc)
    {
        if (m == 0 || n == 0) return;
        var wideA = Widen((Half*)a, transA ? k : m, transA ? m : k, lda);
        var wideB = Widen((Half*)b, transB ? n : k, transB ? k : n, ldb);
        var wideC = beta == 0 ? new float[(long)(m - 1) * ldc + n] : Widen((Half*)c, m, n, ldc);
        fixed (float* pa = wideA, pb = wideB, pc = wideC)
            OpenBlas.Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        for (int row = 0; row < m; row++)
            TensorPrimitives.ConvertToHalf(wideC.AsSpan(row * ldc, n), new Span<Half>((Half*)c + (long)row * ldc, n));
    }

    public void GemmHalfStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB, float beta, nint c, int ldc, long strideC, int batch)
    {
        for (int i = 0; i < batch; i++)
        {
            GemmHalf(transA, transB, m, n, k, alpha, a + (nint)(i * strideA * sizeof(Half)), lda, b + (nint)(i * strideB * sizeof(Half)), ldb,
                beta, c + (nint)(i * strideC * sizeof(Half)), ldc);
        }
    }

    /// <summary>A stored rows × columns matrix (row stride <paramref name="ld"/>) as floats at the same offsets.</summary>
    private static float[] Widen(Half* matrix, int rows, int columns, int ld)
    {
        var wide = new float[rows == 0 ? 0 : (long)(rows - 1) * ld + columns];
        for (int row = 0; row < rows; row++)
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(matrix + (long)row * ld, columns), wide.AsSpan(row * ld, columns));
        return wide;
    }
}
