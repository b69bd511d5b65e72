#include "nativeseg.cuh"

// The host passes torch's float scale per axis (1 when the size is unchanged, 0.5 for exact doubling,
// so the special cases of torch's nearest_idx fall out of the same formula).
extern "C" __global__ void resize_nearest_f32(const float* x, float* y, int64_t planes, int h, int w, int oh, int ow,
    float scale_h, float scale_w)
{
    NS_GRID_LOOP(i, planes * oh * ow) {
        int ox = (int)(i % ow);
        int oy = (int)((i / ow) % oh);
        int64_t plane = i / ((int64_t)ow * oh);
        int sy = min((int)floorf((float)oy * scale_h), h - 1);
        int sx = min((int)floorf((float)ox * scale_w), w - 1);
        y[i] = x[plane * h * w + (int64_t)sy * w + sx];
    }
}

// Gather, one thread per input element: the outputs that copied input row iy are rows
// [ranges[iy], ranges[iy + 1]), and likewise for columns in ranges[h + 1 ..]. Summing them in output
// order needs no atomics and matches torch's scatter and the CPU twin exactly.
extern "C" __global__ void resize_nearest_backward_f32(const float* grad, const int* ranges, float* dx, int64_t planes,
    int h, int w, int oh, int ow)
{
    const int* cols = ranges + h + 1;
    NS_GRID_LOOP(i, planes * h * w) {
        int ix = (int)(i % w);
        int iy = (int)((i / w) % h);
        const float* g = grad + (i / ((int64_t)w * h)) * oh * ow;
        float sum = 0.0f;
        for (int oy = ranges[iy]; oy < ranges[iy + 1]; oy++) {
            for (int ox = cols[ix]; ox < cols[ix + 1]; ox++) sum += g[oy * ow + ox];
        }
        dx[i] = sum;
    }
}

// torch's area_pixel_compute_source_index: half-pixel centres clamped at 0 unless align_corners.
__device__ inline void resize_linear_source(int dst, int in, float scale, int align_corners, int* i0, int* i1, float* lambda1)
{
    float s = align_corners ? scale * (float)dst : scale * ((float)dst + 0.5f) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    int a = min((int)s, in - 1);
    *i0 = a;
    *i1 = a < in - 1 ? a + 1 : a;
    *lambda1 = fminf(fmaxf(s - (float)a, 0.0f), 1.0f);
}

extern "C" __global__ void resize_bilinear_f32(const float* x, float* y, int64_t planes, int h, int w, int oh, int ow,
    float scale_h, float scale_w, int align_corners)
{
    NS_GRID_LOOP(i, planes * oh * ow) {
        int ox = (int)(i % ow);
        int oy = (int)((i / ow) % oh);
        const float* p = x + (i / ((int64_t)ow * oh)) * h * w;
        int y0, y1, x0, x1;
        float ly, lx;
        resize_linear_source(oy, h, scale_h, align_corners, &y0, &y1, &ly);
        resize_linear_source(ox, w, scale_w, align_corners, &x0, &x1, &lx);
        float hy = 1.0f - ly, hx = 1.0f - lx;
        y[i] = hy * (hx * p[y0 * w + x0] + lx * p[y0 * w + x1]) + ly * (hx * p[y1 * w + x0] + lx * p[y1 * w + x1]);
    }
}

// Gather, one thread per input element. The host passes, per axis, the outputs that read input i
// ([lo[i], hi[i]): contiguous because the taps never move backwards) and each output's two taps with
// their weights, so the sum needs no atomics and adds in the CPU twin's order. Layout of taps:
// row_lo[h], row_hi[h], col_lo[w], col_hi[w], row_i0[oh], row_i1[oh], col_i0[ow], col_i1[ow];
// of weights: row_w0[oh], row_w1[oh], col_w0[ow], col_w1[ow].
extern "C" __global__ void resize_bilinear_backward_f32(const float* grad, const int* taps, const float* weights, float* dx,
    int64_t planes, int h, int w, int oh, int ow)
{
    const int* row_lo = taps;
    const int* row_hi = row_lo + h;
    const int* col_lo = row_hi + h;
    const int* col_hi = col_lo + w;
    const int* row_i0 = col_hi + w;
    const int* row_i1 = row_i0 + oh;
    const int* col_i0 = row_i1 + oh;
    const int* col_i1 = col_i0 + ow;
    const float* row_w0 = weights;
    const float* row_w1 = row_w0 + oh;
    const float* col_w0 = row_w1 + oh;
    const float* col_w1 = col_w0 + ow;
    NS_GRID_LOOP(i, planes * h * w) {
        int ix = (int)(i % w);
        int iy = (int)((i / w) % h);
        const float* g = grad + (i / ((int64_t)w * h)) * oh * ow;
        float sum = 0.0f;
        for (int oy = row_lo[iy]; oy < row_hi[iy]; oy++) {
            float wy = (row_i0[oy] == iy ? row_w0[oy] : 0.0f) + (row_i1[oy] == iy ? row_w1[oy] : 0.0f);
            float row = 0.0f;
            for (int ox = col_lo[ix]; ox < col_hi[ix]; ox++) {
                float wx = (col_i0[ox] == ix ? col_w0[ox] : 0.0f) + (col_i1[ox] == ix ? col_w1[ox] : 0.0f);
                row = __fadd_rn(row, __fmul_rn(wx, g[oy * ow + ox]));
            }
            sum = __fadd_rn(sum, __fmul_rn(wy, row));
        }
        dx[i] = sum;
    }
}
