#include "nativeseg.cuh"

// Column matrix for a block of images and output rows, used when cuDNN is not available: for each
// image, rows are (c, r, s) with c over all channels (so each group's rows are one contiguous block)
// and columns are the output pixels of rows [p0, p0 + rows). Out-of-image taps read as zero.
extern "C" __global__ void conv2d_im2col_f32(
    const float* x, float* col, int images, int C, int H, int W, int R, int S,
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
        float v = 0.0f;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W)
            v = x[((image * C + c) * H + ih) * (int64_t)W + iw];
        col[i] = v;
    }
}

// y is [outer, channels, inner]: adds bias[channel] (when given) and applies ReLU (when asked).
extern "C" __global__ void bias_activation_f32(
    float* y, const float* bias, int64_t total, int64_t inner, int channels, int relu)
{
    NS_GRID_LOOP(i, total) {
        float v = y[i];
        if (bias) v += bias[(i / inner) % channels];
        if (relu && v < 0.0f) v = 0.0f;
        y[i] = v;
    }
}
