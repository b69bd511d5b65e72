using NativeSeg.Engine.Devices;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// Row-major SGEMM (and half GEMM with float accumulation, cublasGemmEx) on cuBLAS, which is column-major: a row-major C = op(A)·op(B) is, read column-major,
/// Cᵀ = op(B)ᵀ·op(A)ᵀ, so the operands swap places (and m with n) while the transpose flags stay.
/// </summary>
internal sealed unsafe class CudaBlas : IDeviceBlas, IDisposable
{
    private const int OpN = 0;
    private const int OpT = 1;
    private const int DataHalf = 2;     // CUDA_R_16F
    private const int ComputeFloat = 68; // CUBLAS_COMPUTE_32F: float accumulation whatever the storage
    private const int DefaultAlgorithm = -1;

    private readonly CublasApi _api;
    private readonly PrimaryContext _context;
    private readonly nint _handle;
    private bool _disposed;

    public CudaBlas(CublasApi api, PrimaryContext context, nint stream)
    {
        _api = api;
        _context = context;
        context.MakeCurrent();
        nint handle;
        api.Check(api.cublasCreate(&handle), "cublasCreate_v2");
        _handle = handle;
        api.Check(api.cublasSetStream(handle, stream), "cublasSetStream_v2");
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc)
    {
        if (m == 0 || n == 0) return;
        _context.MakeCurrent();
        _api.Check(_api.cublasSgemm(_handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc),
            "cublasSgemm_v2");
    }

    public void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB, float beta, nint c, int ldc, long strideC, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        _context.MakeCurrent();
        _api.Check(_api.cublasSgemmStridedBatched(_handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k,
            &alpha, b, ldb, strideB, a, lda, strideA, &beta, c, ldc, strideC, batch), "cublasSgemmStridedBatched");
    }

    public void GemmHalf(bool transA, bool transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc)
    {
        if (m == 0 || n == 0) return;
        _context.MakeCurrent();
        _api.Check(_api.cublasGemmEx(_handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k, &alpha, b, DataHalf, ldb, a, DataHalf, lda,
            &beta, c, DataHalf, ldc, ComputeFloat, DefaultAlgorithm), "cublasGemmEx");
    }

    public void GemmHalfStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB, float beta, nint c, int ldc, long strideC, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        _context.MakeCurrent();
        _api.Check(_api.cublasGemmStridedBatchedEx(_handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k, &alpha,
            b, DataHalf, ldb, strideB, a, DataHalf, lda, strideA, &beta, c, DataHalf, ldc, strideC, batch, ComputeFloat, DefaultAlgorithm),
            "cublasGemmStridedBatchedEx");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _context.MakeCurrent();
        _api.Check(_api.cublasDestroy(_handle), "cublasDestroy_v2");
    }
}
