#include "nativeseg.cuh"

// One thread per output element. Padding never wins (windows start at -pad but are clipped to the
// input), and NaN propagates as in torch: a NaN replaces the running maximum.
extern "C" __global__ void max_pool2d_f32(const float* x, float* y, int64_t planes, int h, int w, int oh, int ow,
    int kernel, int stride, int pad)
{
    NS_GRID_LOOP(i, planes * oh * ow) {
        int ox = (int)(i % ow);
        int oy = (int)((i / ow) % oh);
        const float* plane = x + (i / ((int64_t)ow * oh)) * h * w;
        int y0 = oy * stride - pad, x0 = ox * stride - pad;
        int y1 = min(y0 + kernel, h), x1 = min(x0 + kernel, w);
        y0 = max(y0, 0);
        x0 = max(x0, 0);
        float m = -NS_INFINITY;
        for (int yy = y0; yy < y1; yy++) {
            for (int xx = x0; xx < x1; xx++) {
                float v = plane[yy * w + xx];
                if (v > m || v != v) m = v;
            }
        }
        y[i] = m;
    }
}
