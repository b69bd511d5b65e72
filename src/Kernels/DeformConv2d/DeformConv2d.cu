#include "nativeseg.cuh"

// Bilinear sample of one plane at (h, w) as torchvision's deform_conv2d (and detectron2's modulated
// deformable conv) read it: zero when the point is at or beyond one pixel outside the plane, and each of
// the four corner taps that falls outside reads zero.
__device__ __forceinline__ float dcn_bilinear(const float* plane, int H, int W, float h, float w)
{
    if (h <= -1.0f || h >= (float)H || w <= -1.0f || w >= (float)W) return 0.0f;
    int h0 = (int)floorf(h), w0 = (int)floorf(w);
    int h1 = h0 + 1, w1 = w0 + 1;
    float lh = h - (float)h0, lw = w - (float)w0;
    float hh = 1.0f - lh, hw = 1.0f - lw;
    float v1 = (h0 >= 0 && w0 >= 0) ? plane[(int64_t)h0 * W + w0] : 0.0f;
    float v2 = (h0 >= 0 && w1 <= W - 1) ? plane[(int64_t)h0 * W + w1] : 0.0f;
    float v3 = (h1 <= H - 1 && w0 >= 0) ? plane[(int64_t)h1 * W + w0] : 0.0f;
    float v4 = (h1 <= H - 1 && w1 <= W - 1) ? plane[(int64_t)h1 * W + w1] : 0.0f;
    return hh * hw * v1 + hh * lw * v2 + lh * hw * v3 + lh * lw * v4;
}

// Deformable column matrix of one image for output rows [p0, p0 + rows): row (c, r, s), column (p, q) holds
// the input channel c sampled at its tap (r, s) moved by the learned offset, times the tap's mask (1 when
// mask is null). Offsets are [2·G·R·S, P, Q] with (dy, dx) interleaved per tap, masks [G·R·S, P, Q], where
// G deformable groups each own C / G consecutive input channels.
extern "C" __global__ void deform_conv2d_im2col_f32(
    const float* x, const float* offset, const float* mask, float* col,
    int C, int H, int W, int R, int S, int strideH, int strideW, int padH, int padW,
    int dilationH, int dilationW, int offsetGroups, int P, int Q, int p0, int rows)
{
    const int64_t cols = (int64_t)rows * Q;
    const int64_t planeOut = (int64_t)P * Q;
    const int channelsPerGroup = C / offsetGroups;
    NS_GRID_LOOP(i, (int64_t)C * R * S * cols) {
        int64_t j = i % cols;
        int64_t tap = i / cols;
        int s = (int)(tap % S);
        int r = (int)((tap / S) % R);
        int c = (int)(tap / ((int64_t)R * S));
        int p = p0 + (int)(j / Q);
        int q = (int)(j % Q);
        int64_t k = ((int64_t)(c / channelsPerGroup) * R + r) * S + s;
        int64_t at = (int64_t)p * Q + q;
        float dy = offset[2 * k * planeOut + at];
        float dx = offset[(2 * k + 1) * planeOut + at];
        float h = (float)(p * strideH - padH + r * dilationH) + dy;
        float w = (float)(q * strideW - padW + s * dilationW) + dx;
        float v = dcn_bilinear(x + (int64_t)c * H * W, H, W, h, w);
        col[i] = mask ? v * mask[k * planeOut + at] : v;
    }
}
