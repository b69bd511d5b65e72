#include "nativeseg.cuh"

// Multi-level RoIAlign with torchvision.ops.roi_align semantics. The FPN levels travel as separate
// arguments (at most five) so a single launch pools every RoI without a pointer table in device memory
// and without the per-level host sync detectron2's pooler pays.

// The argument of level `level` among five numbered ones (a0 .. a4): the levels travel as scalars.
#define ROI_ALIGN_PICK(level, a) ((level) == 0 ? a##0 : (level) == 1 ? a##1 : (level) == 2 ? a##2 : (level) == 3 ? a##3 : a##4)

// One RoI's sampling grid in map coordinates: bin (ph, pw) averages samples_h x samples_w samples.
struct roi_align_grid {
    float start_h, start_w, bin_h, bin_w;
    int samples_h, samples_w;
    float count;
};

__device__ inline roi_align_grid roi_align_layout(const float* roi, float scale, int out_h, int out_w, int sampling_ratio, int aligned)
{
    roi_align_grid grid;
    float offset = aligned ? 0.5f : 0.0f;
    grid.start_w = roi[1] * scale - offset;
    grid.start_h = roi[2] * scale - offset;
    float end_w = roi[3] * scale - offset;
    float end_h = roi[4] * scale - offset;
    float roi_w = end_w - grid.start_w;
    float roi_h = end_h - grid.start_h;
    if (!aligned) {
        roi_w = fmaxf(roi_w, 1.0f);
        roi_h = fmaxf(roi_h, 1.0f);
    }
    grid.bin_h = roi_h / (float)out_h;
    grid.bin_w = roi_w / (float)out_w;
    grid.samples_h = sampling_ratio > 0 ? sampling_ratio : (int)ceilf(roi_h / (float)out_h);
    grid.samples_w = sampling_ratio > 0 ? sampling_ratio : (int)ceilf(roi_w / (float)out_w);
    grid.count = (float)max(grid.samples_h * grid.samples_w, 1);
    return grid;
}

// The four pixels one bilinear sample reads (offsets into its plane) and their weights.
struct roi_align_taps {
    int i1, i2, i3, i4;
    float w1, w2, w3, w4;
};

// False for samples more than one pixel outside the map, which contribute nothing; the rest clamp to the edge.
__device__ inline bool roi_align_bilinear(int height, int width, float y, float x, roi_align_taps* t)
{
    if (y < -1.0f || y > (float)height || x < -1.0f || x > (float)width) return false;
    if (y <= 0.0f) y = 0.0f;
    if (x <= 0.0f) x = 0.0f;
    int y_low = (int)y, x_low = (int)x, y_high, x_high;
    if (y_low >= height - 1) { y_high = y_low = height - 1; y = (float)y_low; } else { y_high = y_low + 1; }
    if (x_low >= width - 1) { x_high = x_low = width - 1; x = (float)x_low; } else { x_high = x_low + 1; }
    float ly = y - (float)y_low, lx = x - (float)x_low;
    float hy = 1.0f - ly, hx = 1.0f - lx;
    t->w1 = hy * hx;
    t->w2 = hy * lx;
    t->w3 = ly * hx;
    t->w4 = ly * lx;
    t->i1 = y_low * width + x_low;
    t->i2 = y_low * width + x_high;
    t->i3 = y_high * width + x_low;
    t->i4 = y_high * width + x_high;
    return true;
}

// Splits a flat index over [R, C, out_h, out_w] into its coordinates.
__device__ inline void roi_align_coords(int64_t i, int channels, int out_h, int out_w, int* r, int* c, int* ph, int* pw)
{
    *pw = (int)(i % out_w);
    *ph = (int)((i / out_w) % out_h);
    *c = (int)((i / ((int64_t)out_w * out_h)) % channels);
    *r = (int)(i / ((int64_t)out_w * out_h * channels));
}

// One thread per output element (r, c, ph, pw); neighbouring threads share a RoI and a channel plane.
extern "C" __global__ void roi_align_f32(
    const float* f0, const float* f1, const float* f2, const float* f3, const float* f4,
    int h0, int h1, int h2, int h3, int h4,
    int w0, int w1, int w2, int w3, int w4,
    float s0, float s1, float s2, float s3, float s4,
    int level_count, int batch, int channels,
    const float* rois, const int* levels, float* out,
    int roi_count, int out_h, int out_w, int sampling_ratio, int aligned)
{
    int64_t total = (int64_t)roi_count * channels * out_h * out_w;
    NS_GRID_LOOP(i, total) {
        int r, c, ph, pw;
        roi_align_coords(i, channels, out_h, out_w, &r, &c, &ph, &pw);
        const float* roi = rois + (int64_t)r * 5;
        int level = levels[r];
        int n = (int)roi[0];
        if (level < 0 || level >= level_count || n < 0 || n >= batch) { out[i] = 0.0f; continue; }
        int height = ROI_ALIGN_PICK(level, h), width = ROI_ALIGN_PICK(level, w);
        roi_align_grid grid = roi_align_layout(roi, ROI_ALIGN_PICK(level, s), out_h, out_w, sampling_ratio, aligned);

        const float* plane = ROI_ALIGN_PICK(level, f) + ((int64_t)n * channels + c) * height * width;
        float sum = 0.0f;
        for (int iy = 0; iy < grid.samples_h; iy++) {
            float y = grid.start_h + (float)ph * grid.bin_h + ((float)iy + 0.5f) * grid.bin_h / (float)grid.samples_h;
            for (int ix = 0; ix < grid.samples_w; ix++) {
                float x = grid.start_w + (float)pw * grid.bin_w + ((float)ix + 0.5f) * grid.bin_w / (float)grid.samples_w;
                roi_align_taps t;
                if (roi_align_bilinear(height, width, y, x, &t))
                    sum += t.w1 * plane[t.i1] + t.w2 * plane[t.i2] + t.w3 * plane[t.i3] + t.w4 * plane[t.i4];
            }
        }
        out[i] = sum / grid.count;
    }
}

// The adjoint of roi_align_f32: one thread per gradient element (r, c, ph, pw) scatters it onto the
// taps its forward sample read. RoIs share pixels, so the adds are atomic; the level gradients
// (g0 .. g4) must be zeroed by the caller. RoIs with an out-of-range level or batch index add nothing.
extern "C" __global__ void roi_align_backward_f32(
    float* g0, float* g1, float* g2, float* g3, float* g4,
    int h0, int h1, int h2, int h3, int h4,
    int w0, int w1, int w2, int w3, int w4,
    float s0, float s1, float s2, float s3, float s4,
    int level_count, int batch, int channels,
    const float* rois, const int* levels, const float* grad_out,
    int roi_count, int out_h, int out_w, int sampling_ratio, int aligned)
{
    int64_t total = (int64_t)roi_count * channels * out_h * out_w;
    NS_GRID_LOOP(i, total) {
        int r, c, ph, pw;
        roi_align_coords(i, channels, out_h, out_w, &r, &c, &ph, &pw);
        const float* roi = rois + (int64_t)r * 5;
        int level = levels[r];
        int n = (int)roi[0];
        if (level < 0 || level >= level_count || n < 0 || n >= batch) continue;
        int height = ROI_ALIGN_PICK(level, h), width = ROI_ALIGN_PICK(level, w);
        roi_align_grid grid = roi_align_layout(roi, ROI_ALIGN_PICK(level, s), out_h, out_w, sampling_ratio, aligned);

        float* plane = ROI_ALIGN_PICK(level, g) + ((int64_t)n * channels + c) * height * width;
        float share = grad_out[i] / grid.count;
        for (int iy = 0; iy < grid.samples_h; iy++) {
            float y = grid.start_h + (float)ph * grid.bin_h + ((float)iy + 0.5f) * grid.bin_h / (float)grid.samples_h;
            for (int ix = 0; ix < grid.samples_w; ix++) {
                float x = grid.start_w + (float)pw * grid.bin_w + ((float)ix + 0.5f) * grid.bin_w / (float)grid.samples_w;
                roi_align_taps t;
                if (!roi_align_bilinear(height, width, y, x, &t)) continue;
                atomicAdd(plane + t.i1, share * t.w1);
                atomicAdd(plane + t.i2, share * t.w2);
                atomicAdd(plane + t.i3, share * t.w3);
                atomicAdd(plane + t.i4, share * t.w4);
            }
        }
    }
}

// FPN level of each RoI: floor(canonical_level + log2(sqrt(area) / canonical_size)) clamped to
// [min_level, max_level], written relative to min_level. rule 0 = detectron2 (eps 1e-8 inside the log),
// 1 = torchvision (eps 1e-6 added after the log), 2 = maskrcnn-benchmark (+1 box sides, eps 1e-6 inside).
extern "C" __global__ void roi_levels_f32(
    const float* boxes, int columns, int count, int rule,
    int canonical_level, float canonical_size, int min_level, int max_level, int* levels)
{
    NS_GRID_LOOP(i, count) {
        const float* b = boxes + i * columns + (columns - 4);
        float extra = rule == 2 ? 1.0f : 0.0f;
        float size = sqrtf((b[2] - b[0] + extra) * (b[3] - b[1] + extra));
        float level = rule == 1
            ? floorf((float)canonical_level + log2f(size / canonical_size) + 1e-6f)
            : floorf((float)canonical_level + log2f(size / canonical_size + (rule == 0 ? 1e-8f : 1e-6f)));
        level = fminf(fmaxf(level, (float)min_level), (float)max_level);
        levels[i] = (int)level - min_level;
    }
}
