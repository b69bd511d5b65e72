namespace NativeSeg.Engine.Devices;

/// <summary>
/// Row-major GEMM on device pointers: C = alpha·op(A)·op(B) + beta·C, with op(A) of size m×k, op(B) k×n, C m×n,
/// and leading dimensions in elements (row strides). Single precision, or half precision storage with float
/// accumulation (the fp16 inference path): A, B and C are IEEE halves, the products are summed in float and the
/// sum (times alpha, plus beta·C) is rounded to half once, when C is stored.
/// </summary>
public interface IDeviceBlas
{
    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc);

    /// <summary>The same GEMM over <paramref name="batch"/> matrices, each a fixed stride (elements) from the last.</summary>
    void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB, float beta, nint c, int ldc, long strideC, int batch);

    /// <summary><see cref="Sgemm"/> on half A, B and C with float accumulation.</summary>
    void GemmHalf(bool transA, bool transB, int m, int n, int k, float alpha, nint a, int lda, nint b, int ldb, float beta, nint c, int ldc);

    /// <summary><see cref="SgemmStridedBatched"/> on half A, B and C with float accumulation.</summary>
    void GemmHalfStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB, float beta, nint c, int ldc, long strideC, int batch);
}

/// <summary>Geometry of a 2-D convolution (NCHW input, KCRS weight, NKPQ output).</summary>
public readonly record struct Conv2dGeometry(
    int N, int C, int H, int W, int K, int R, int S,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int Groups)
{
    public int OutH => (H + 2 * PadH - DilationH * (R - 1) - 1) / StrideH + 1;

    public int OutW => (W + 2 * PadW - DilationW * (S - 1) - 1) / StrideW + 1;

    /// <summary>Multiply-adds of the whole convolution; FLOPs are twice this.</summary>
    public long Macs => (long)N * K * OutH * OutW * (C / Groups) * R * S;
}

/// <summary>Vendor convolution (cuDNN): the algorithm is chosen once per geometry and cached.</summary>
public interface IDeviceConvolution
{
    /// <summary>y = conv(x, w) without bias; x, w, y are contiguous float32 device pointers.</summary>
    void Forward(in Conv2dGeometry geometry, nint x, nint w, nint y);

    /// <summary>
    /// <see cref="Forward"/> on contiguous half x, w and y, accumulated in float and rounded to half when y is stored
    /// (cuDNN's pseudo-half configuration).
    /// </summary>
    void ForwardHalf(in Conv2dGeometry geometry, nint x, nint w, nint y);

    /// <summary>dx = the gradient of <see cref="Forward"/> with respect to x, given dy; dx is overwritten.</summary>
    void BackwardData(in Conv2dGeometry geometry, nint dy, nint w, nint dx);

    /// <summary>dw = the gradient of <see cref="Forward"/> with respect to w, given x and dy; dw is overwritten.</summary>
    void BackwardFilter(in Conv2dGeometry geometry, nint x, nint dy, nint dw);
}
