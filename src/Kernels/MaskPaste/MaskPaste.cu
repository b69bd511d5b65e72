#include "nativeseg.cuh"

// Pastes per-instance M×M mask probabilities into binary masks, one thread per output pixel. A binary mask
// covers only its region (the pixels its box can reach), so memory grows with box areas, not with
// instances × image pixels; only the probabilities, for the parity harness, cover the whole image.
// Every step is unfused float arithmetic in the reference's order: a pixel flips when its interpolated
// probability moves across 0.5 by one ulp.

#ifdef NATIVESEG_EMULATION
#define mp_mul(a, b) ((a) * (b))
#define mp_add(a, b) ((a) + (b))
#else
#define mp_mul(a, b) __fmul_rn(a, b)
#define mp_add(a, b) __fadd_rn(a, b)
#endif

__device__ inline float mp_tap(const float* mask, int m, int y, int x)
{
    return (y >= 0 && y < m && x >= 0 && x < m) ? mask[y * m + x] : 0.0f;
}

// Index of the region that packed pixel i belongs to: the last r with offsets[r] <= i (offsets has count + 1
// entries, the last being the total), so empty regions are skipped.
__device__ inline int mp_region_of(const int64_t* offsets, int count, int64_t i)
{
    int lo = 0, hi = count - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (offsets[mid] <= i) lo = mid; else hi = mid - 1;
    }
    return lo;
}

// Image pixel (x, y) of packed pixel i in region r; regions are (x, y, width, height), row-major inside.
__device__ inline void mp_region_pixel(const int* regions, const int64_t* offsets, int r, int64_t i, int* x, int* y)
{
    const int* region = regions + (int64_t)r * 4;
    int64_t local = i - offsets[r];
    *x = region[0] + (int)(local % region[2]);
    *y = region[1] + (int)(local / region[2]);
}

// detectron2 _do_paste_mask: grid_sample (bilinear, zero padding, align_corners=False) at pixel centres;
// >= threshold. Only pixels in [floor(x0) - 1, ceil(x1) + 1) × [floor(y0) - 1, ceil(y1) + 1) can be set: the
// host clips that rectangle to the image as the mask's region (MaskPaste.RegionOf) and asks for no others.
__device__ inline uint8_t mp_detectron2_on(const float* masks, const float* boxes, int r, int m, int x, int y, float threshold)
{
    const float* b = boxes + (int64_t)r * 4;
    float x0 = b[0], y0 = b[1], x1 = b[2], y1 = b[3];
    float gx = mp_add(mp_mul((mp_add((float)x, 0.5f) - x0) / (x1 - x0), 2.0f), -1.0f);
    float gy = mp_add(mp_mul((mp_add((float)y, 0.5f) - y0) / (y1 - y0), 2.0f), -1.0f);
    float half = (float)m / 2.0f;
    float ix = mp_add(mp_mul(mp_add(gx, 1.0f), half), -0.5f);
    float iy = mp_add(mp_mul(mp_add(gy, 1.0f), half), -0.5f);
    float fx = floorf(ix), fy = floorf(iy);
    float w = ix - fx, n = iy - fy, e = 1.0f - w, s = 1.0f - n;
    int cx = (int)fx, cy = (int)fy;
    const float* mask = masks + (int64_t)r * m * m;
    float v = mp_mul(mp_tap(mask, m, cy, cx), mp_mul(s, e));
    v = mp_add(v, mp_mul(mp_tap(mask, m, cy, cx + 1), mp_mul(s, w)));
    v = mp_add(v, mp_mul(mp_tap(mask, m, cy + 1, cx), mp_mul(n, e)));
    v = mp_add(v, mp_mul(mp_tap(mask, m, cy + 1, cx + 1), mp_mul(n, w)));
    return v >= threshold ? 1 : 0;
}

// Binary masks, each over its own region only, the regions packed one after another.
extern "C" __global__ void mask_paste_regions_detectron2_f32(
    const float* masks, const float* boxes, const int* regions, const int64_t* offsets, uint8_t* out,
    int count, int m, float threshold)
{
    NS_GRID_LOOP(i, offsets[count]) {
        int r = mp_region_of(offsets, count, i);
        int x, y;
        mp_region_pixel(regions, offsets, r, i, &x, &y);
        out[i] = mp_detectron2_on(masks, boxes, r, m, x, y, threshold);
    }
}

// Source coordinate and weight of upsample_bilinear2d (align_corners=False) along one axis. The
// reference forms scale * (dst + 0.5) - 0.5 in double and rounds once; the product is exact in double,
// so one fused multiply-add reproduces that rounding in float.
__device__ inline void mp_linear(int dst, int in_size, int out_size, int* i0, int* i1, float* l1)
{
    if (in_size == out_size) { *i0 = dst; *i1 = dst; *l1 = 0.0f; return; }
    float scale = (float)in_size / (float)out_size;
    float src = fmaf(scale, (float)dst + 0.5f, -0.5f);
    if (src < 0.0f) src = 0.0f;
    *i0 = (int)src;
    *i1 = *i0 + (*i0 < in_size - 1 ? 1 : 0);
    *l1 = fminf(fmaxf(src - (float)*i0, 0.0f), 1.0f);
}

// torchvision paste_masks_in_image at pixel (x, y) of mask r: the mask zero-padded by `padding`, its box
// expanded by (M + 2p) / M about the centre and truncated to integers, resized with bilinear
// interpolation to the box's (w + 1) × (h + 1) pixels; 0 outside the box.
// torchvision's expanded integer box of mask r: [e[0], e[2]] × [e[1], e[3]], inclusive.
__device__ inline void mp_torchvision_box(const float* boxes, int r, int m, int padding, int64_t* e)
{
    const float* b = boxes + (int64_t)r * 4;
    float scale = (float)(m + 2 * padding) / (float)m;
    float w_half = mp_mul(b[2] - b[0], 0.5f), h_half = mp_mul(b[3] - b[1], 0.5f);
    float x_c = mp_mul(mp_add(b[2], b[0]), 0.5f), y_c = mp_mul(mp_add(b[3], b[1]), 0.5f);
    w_half = mp_mul(w_half, scale);
    h_half = mp_mul(h_half, scale);
    e[0] = (int64_t)(x_c - w_half);
    e[2] = (int64_t)mp_add(x_c, w_half);
    e[1] = (int64_t)(y_c - h_half);
    e[3] = (int64_t)mp_add(y_c, h_half);
}

__device__ inline float mp_torchvision_value(const float* masks, const float* boxes, int r, int m, int padding, int x, int y)
{
    int padded = m + 2 * padding;
    int64_t e[4];
    mp_torchvision_box(boxes, r, m, padding, e);
    int64_t bx0 = e[0], by0 = e[1], bx1 = e[2], by1 = e[3];
    if (x < bx0 || x > bx1 || y < by0 || y > by1) return 0.0f;
    int bw = (int)max(bx1 - bx0 + 1, (int64_t)1), bh = (int)max(by1 - by0 + 1, (int64_t)1);
    int x0i, x1i, y0i, y1i;
    float lx, ly;
    mp_linear((int)(x - bx0), padded, bw, &x0i, &x1i, &lx);
    mp_linear((int)(y - by0), padded, bh, &y0i, &y1i, &ly);
    const float* mask = masks + (int64_t)r * m * m;
    float lx0 = 1.0f - lx, ly0 = 1.0f - ly;
    float top = mp_add(mp_mul(mp_tap(mask, m, y0i - padding, x0i - padding), lx0), mp_mul(mp_tap(mask, m, y0i - padding, x1i - padding), lx));
    float bottom = mp_add(mp_mul(mp_tap(mask, m, y1i - padding, x0i - padding), lx0), mp_mul(mp_tap(mask, m, y1i - padding, x1i - padding), lx));
    return mp_add(mp_mul(top, ly0), mp_mul(bottom, ly));
}

// Binary masks over their regions, packed as above: value > threshold (torchvision's references and
// maskrcnn-benchmark's Masker).
extern "C" __global__ void mask_paste_regions_torchvision_f32(
    const float* masks, const float* boxes, const int* regions, const int64_t* offsets, uint8_t* out,
    int count, int m, int padding, float threshold)
{
    NS_GRID_LOOP(i, offsets[count]) {
        int r = mp_region_of(offsets, count, i);
        int x, y;
        mp_region_pixel(regions, offsets, r, i, &x, &y);
        out[i] = mp_torchvision_value(masks, boxes, r, m, padding, x, y) > threshold ? 1 : 0;
    }
}

// The probabilities themselves, what paste_masks_in_image returns.
extern "C" __global__ void mask_paste_torchvision_prob_f32(
    const float* masks, const float* boxes, float* out, int count, int m, int padding, int height, int width)
{
    int64_t total = (int64_t)count * height * width;
    NS_GRID_LOOP(i, total) {
        int x = (int)(i % width);
        int y = (int)((i / width) % height);
        int r = (int)(i / ((int64_t)width * height));
        out[i] = mp_torchvision_value(masks, boxes, r, m, padding, x, y);
    }
}

// Whole-image bitmasks of the first count[0] masks (a device-side count; later ones are not written):
// bit b of word w of mask r is pixel p = 32w + b in column-major order (x = p / height, y = p % height), the
// order COCO RLE runs in. detectron2 (method 0) sets a pixel of its region (MaskPaste.RegionOf: [floor(x0) - 1,
// ceil(x1) + 1) x [floor(y0) - 1, ceil(y1) + 1) clipped to the image) where the value is >= threshold, as
// mask_paste_regions_detectron2_f32; torchvision (method 1) a pixel where the value is > threshold, as
// mask_paste_regions_torchvision_f32.
extern "C" __global__ void mask_paste_bits_f32(
    const float* masks, const float* boxes, const int64_t* count, uint32_t* out, int capacity, int m, int method,
    int padding, int height, int width, int64_t words, float threshold)
{
    int64_t live = min(count[0], (int64_t)capacity) * words;
    int64_t pixels = (int64_t)height * width;
    NS_GRID_LOOP(i, live) {
        int r = (int)(i / words);
        int64_t first = (i % words) * 32;
        int64_t last = min(first + 31, pixels - 1);
        const float* b = boxes + (int64_t)r * 4;
        int64_t x_lo, x_hi, y_lo = 0, y_hi = height;
        if (method == 0) {
            x_lo = (int64_t)fmaxf(floorf(b[0]) - 1.0f, 0.0f);
            y_lo = (int64_t)fmaxf(floorf(b[1]) - 1.0f, 0.0f);
            x_hi = (int64_t)fminf(ceilf(b[2]) + 1.0f, (float)width);
            y_hi = (int64_t)fminf(ceilf(b[3]) + 1.0f, (float)height);
        } else {
            int64_t e[4];
            mp_torchvision_box(boxes, r, m, padding, e);
            x_lo = e[0];
            x_hi = e[2] + 1;
        }
        uint32_t bits = 0u;
        // A word spans one or two columns; most lie outside the box and need no interpolation.
        if (first <= last && last / height >= x_lo && first / height < x_hi) {
            for (int64_t p = first; p <= last; p++) {
                int x = (int)(p / height), y = (int)(p % height);
                bool on = method == 0
                    ? x >= x_lo && x < x_hi && y >= y_lo && y < y_hi && mp_detectron2_on(masks, boxes, r, m, x, y, threshold)
                    : mp_torchvision_value(masks, boxes, r, m, padding, x, y) > threshold;
                if (on) bits |= 1u << (int)(p - first);
            }
        }
        out[i] = bits;
    }
}
