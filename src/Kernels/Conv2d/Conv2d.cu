#include "nativeseg.cuh"

// Column matrix for a block of images and output rows, used when cuDNN is not available: for each
// image, rows are (c, r, s) with c over all channels (so each group's rows are one contiguous block)
// and columns are the output pixels of rows [p0, p0 + rows). Out-of-image taps read as zero (T() is
// 0.0f for float and +0 for ns_half).
template <typename T>
__device__ void conv2d_im2col(
    const T* x, T* col, int images, int C, int H, int W, int R, int S,
    int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
    int Q, int p0, int rows)
{
    const int64_t cols = (int64_t)rows * Q;
    const int64_t perImage = (int64_t)C * R * S * cols;
    NS_GRID_LOOP(i, perImage * images) {
        int64_t image = i / perImage;
        int64_t rest = i - image * perImage;
        int64_t j = rest % cols;
        int64_t tap = rest / cols;
        int s = (int)(tap % S);
        int r = (int)((tap / S) % R);
        int c = (int)(tap / ((int64_t)R * S));
        int p = p0 + (int)(j / Q);
        int q = (int)(j % Q);
        int ih = p * strideH - padH + r * dilationH;
        int iw = q * strideW - padW + s * dilationW;
        T v = T();
        if (ih >= 0 && ih < H && iw >= 0 && iw < W)
            v = x[((image * C + c) * H + ih) * (int64_t)W + iw];
        col[i] = v;
    }
}

extern "C" __global__ void conv2d_im2col_f32(
    const float* x, float* col, int images, int C, int H, int W, int R, int S,
    int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
    int Q, int p0, int rows)
{
    conv2d_im2col<float>(x, col, images, C, H, W, R, S, strideH, strideW, padH, padW, dilationH, dilationW, Q, p0, rows);
}

// The fp16 path's columns: half input (already rounded), half columns for the half GEMM.
extern "C" __global__ void conv2d_im2col_f16(
    const ns_half* x, ns_half* col, int images, int C, int H, int W, int R, int S,
    int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
    int Q, int p0, int rows)
{
    conv2d_im2col<ns_half>(x, col, images, C, H, W, R, S, strideH, strideW, padH, padW, dilationH, dilationW, Q, p0, rows);
}

// y is [outer, channels, inner]: adds bias[channel] and residual[i] (when given), then applies ReLU (when asked).
extern "C" __global__ void bias_activation_f32(
    float* y, const float* bias, const float* residual, int64_t total, int64_t inner, int channels, int relu)
{
    NS_GRID_LOOP(i, total) {
        float v = y[i];
        if (bias) v += bias[(i / inner) % channels];
        if (residual) v += residual[i];
        if (relu && v < 0.0f) v = 0.0f;
        y[i] = v;
    }
}

// The fp16 path's epilogue: the half output of a half conv or GEMM (y16, [outer, channels, inner]) widened
// to float, plus bias[channel] and residual[i] in float (when given), then ReLU, stored as float for the fp32 stages after it.
extern "C" __global__ void bias_activation_f16_f32(
    const ns_half* y16, float* y, const float* bias, const float* residual, int64_t total, int64_t inner, int channels, int relu)
{
    NS_GRID_LOOP(i, total) {
        float v = ns_half_to_float(y16[i]);
        if (bias) v += bias[(i / inner) % channels];
        if (residual) v += residual[i];
        if (relu && v < 0.0f) v = 0.0f;
        y[i] = v;
    }
}

// The adjoint of conv2d_im2col_f32 for output rows [p0, p0 + rows): adds into x rows [ih0, ih0 + inRows)
// every column entry read from them. Each thread gathers the (r, s) taps of one input element, so no two
// threads write the same element and no atomics are needed.
extern "C" __global__ void conv2d_col2im_f32(
    const float* col, float* x, int images, int C, int H, int W, int R, int S,
    int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
    int Q, int p0, int rows, int ih0, int inRows)
{
    const int64_t cols = (int64_t)rows * Q;
    const int64_t perImage = (int64_t)C * inRows * W;
    NS_GRID_LOOP(i, perImage * images) {
        int iw = (int)(i % W);
        int ih = ih0 + (int)((i / W) % inRows);
        int c = (int)((i / ((int64_t)W * inRows)) % C);
        int64_t image = i / perImage;
        const float* imageCol = col + image * C * R * S * cols;
        float sum = 0.0f;
        for (int r = 0; r < R; r++) {
            int th = ih + padH - r * dilationH;
            if (th < 0 || th % strideH != 0) continue;
            int p = th / strideH;
            if (p < p0 || p >= p0 + rows) continue;
            for (int s = 0; s < S; s++) {
                int tw = iw + padW - s * dilationW;
                if (tw < 0 || tw % strideW != 0) continue;
                int q = tw / strideW;
                if (q >= Q) continue;
                sum += imageCol[(((int64_t)c * R + r) * S + s) * cols + (int64_t)(p - p0) * Q + q];
            }
        }
        x[((image * C + c) * H + ih) * (int64_t)W + iw] += sum;
    }
}
