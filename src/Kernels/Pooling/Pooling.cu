#include "nativeseg.cuh"

// Index in the plane of the first maximum of output (oy, ox)'s window, torch's CPU rule: the window is
// clipped to the input (padding never wins), a later element replaces the maximum only if strictly
// greater or NaN (so NaN propagates), and an all -inf window picks its first element.
__device__ inline int max_pool_argmax(const float* plane, int h, int w, int oy, int ox, int kernel, int stride, int pad)
{
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    int y1 = min(y0 + kernel, h), x1 = min(x0 + kernel, w);
    y0 = max(y0, 0);
    x0 = max(x0, 0);
    int best = y0 * w + x0;
    float m = -NS_INFINITY;
    for (int yy = y0; yy < y1; yy++) {
        for (int xx = x0; xx < x1; xx++) {
            float v = plane[yy * w + xx];
            if (v > m || v != v) {
                m = v;
                best = yy * w + xx;
            }
        }
    }
    return best;
}

// One thread per output element.
extern "C" __global__ void max_pool2d_f32(const float* x, float* y, int64_t planes, int h, int w, int oh, int ow,
    int kernel, int stride, int pad)
{
    NS_GRID_LOOP(i, planes * oh * ow) {
        int ox = (int)(i % ow);
        int oy = (int)((i / ow) % oh);
        const float* plane = x + (i / ((int64_t)ow * oh)) * h * w;
        y[i] = plane[max_pool_argmax(plane, h, w, oy, ox, kernel, stride, pad)];
    }
}

// Gather, one thread per input element: it visits the outputs whose window covers it, in output
// order, and adds the gradient of those whose argmax it is. No atomics, and the sum runs in the
// order torch's scatter (and the CPU twin) adds in, so results are deterministic and match.
extern "C" __global__ void max_pool2d_backward_f32(const float* x, const float* grad, float* dx, int64_t planes,
    int h, int w, int oh, int ow, int kernel, int stride, int pad)
{
    NS_GRID_LOOP(i, planes * h * w) {
        int ix = (int)(i % w);
        int iy = (int)((i / w) % h);
        int64_t p = i / ((int64_t)w * h);
        const float* plane = x + p * h * w;
        const float* g = grad + p * oh * ow;
        // Outputs o with o*stride - pad <= i < o*stride - pad + kernel.
        int oy0 = max(iy + pad - kernel + stride, 0) / stride, oy1 = min((iy + pad) / stride, oh - 1);
        int ox0 = max(ix + pad - kernel + stride, 0) / stride, ox1 = min((ix + pad) / stride, ow - 1);
        int self = iy * w + ix;
        float sum = 0.0f;
        for (int oy = oy0; oy <= oy1; oy++) {
            for (int ox = ox0; ox <= ox1; ox++) {
                if (max_pool_argmax(plane, h, w, oy, ox, kernel, stride, pad) == self) sum += g[oy * ow + ox];
            }
        }
        dx[i] = sum;
    }
}
