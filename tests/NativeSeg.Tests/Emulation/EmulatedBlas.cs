using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Tests.Emulation;

/// <summary>The emulator's "cuBLAS": OpenBLAS straight on the pointers, since device memory is host memory.</summary>
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
}
