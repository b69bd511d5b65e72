#include "nativeseg.cuh"

// Gathers output rows [o0, o0 + outRows) of a block of images from the GEMM columns of input rows
// [i0, i0 + inRows): each output element sums the (r, s) taps that land on it, so no two threads
// write the same element and no atomics are needed. col rows are (co, r, s), columns input pixels.
extern "C" __global__ void conv_transpose2d_col2im_f32(
    const float* col, const float* bias, float* y, int images, int Cout, int H, int W, int R, int S,
    int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
    int OutH, int OutW, int o0, int outRows, int i0, int inRows, int relu)
{
    const int64_t cols = (int64_t)inRows * W;
    const int64_t perImage = (int64_t)Cout * outRows * OutW;
    NS_GRID_LOOP(i, perImage * images) {
        int ow = (int)(i % OutW);
        int oh = o0 + (int)((i / OutW) % outRows);
        int co = (int)((i / ((int64_t)OutW * outRows)) % Cout);
        int64_t image = i / perImage;
        const float* imageCol = col + image * Cout * R * S * cols;
        float sum = bias ? bias[co] : 0.0f;
        for (int r = 0; r < R; r++) {
            int th = oh + padH - r * dilationH;
            if (th < 0 || th % strideH != 0) continue;
            int ih = th / strideH;
            if (ih < i0 || ih >= i0 + inRows) continue;
            for (int s = 0; s < S; s++) {
                int tw = ow + padW - s * dilationW;
                if (tw < 0 || tw % strideW != 0) continue;
                int iw = tw / strideW;
                if (iw >= W) continue;
                sum += imageCol[(((int64_t)co * R + r) * S + s) * cols + (int64_t)(ih - i0) * W + iw];
            }
        }
        if (relu && sum < 0.0f) sum = 0.0f;
        y[((image * Cout + co) * OutH + oh) * OutW + ow] = sum;
    }
}
