#include "nativeseg.cuh"

// Multi-level RoIAlign with torchvision.ops.roi_align semantics. The FPN levels travel as separate
// arguments (at most five) so a single launch pools every RoI without a pointer table in device memory
// and without the per-level host sync detectron2's pooler pays.

__device__ inline float roi_align_sample(const float* plane, int height, int width, float y, float x)
{
    // Samples more than one pixel outside the map contribute nothing; the rest clamp to the edge.
    if (y < -1.0f || y > (float)height || x < -1.0f || x > (float)width) return 0.0f;
    if (y <= 0.0f) y = 0.0f;
    if (x <= 0.0f) x = 0.0f;
    int y_low = (int)y, x_low = (int)x, y_high, x_high;
    if (y_low >= height - 1) { y_high = y_low = height - 1; y = (float)y_low; } else { y_high = y_low + 1; }
    if (x_low >= width - 1) { x_high = x_low = width - 1; x = (float)x_low; } else { x_high = x_low + 1; }
    float ly = y - (float)y_low, lx = x - (float)x_low;
    float hy = 1.0f - ly, hx = 1.0f - lx;
    float w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
    return w1 * plane[y_low * width + x_low] + w2 * plane[y_low * width + x_high]
         + w3 * plane[y_high * width + x_low] + w4 * plane[y_high * width + x_high];
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
        int pw = (int)(i % out_w);
        int ph = (int)((i / out_w) % out_h);
        int c = (int)((i / ((int64_t)out_w * out_h)) % channels);
        int r = (int)(i / ((int64_t)out_w * out_h * channels));
        const float* roi = rois + (int64_t)r * 5;
        int level = levels[r];
        int n = (int)roi[0];
        if (level < 0 || level >= level_count || n < 0 || n >= batch) { out[i] = 0.0f; continue; }
        const float* feature = level == 0 ? f0 : level == 1 ? f1 : level == 2 ? f2 : level == 3 ? f3 : f4;
        int height = level == 0 ? h0 : level == 1 ? h1 : level == 2 ? h2 : level == 3 ? h3 : h4;
        int width = level == 0 ? w0 : level == 1 ? w1 : level == 2 ? w2 : level == 3 ? w3 : w4;
        float scale = level == 0 ? s0 : level == 1 ? s1 : level == 2 ? s2 : level == 3 ? s3 : s4;

        float offset = aligned ? 0.5f : 0.0f;
        float start_w = roi[1] * scale - offset;
        float start_h = roi[2] * scale - offset;
        float end_w = roi[3] * scale - offset;
        float end_h = roi[4] * scale - offset;
        float roi_w = end_w - start_w;
        float roi_h = end_h - start_h;
        if (!aligned) {
            roi_w = fmaxf(roi_w, 1.0f);
            roi_h = fmaxf(roi_h, 1.0f);
        }
        float bin_h = roi_h / (float)out_h;
        float bin_w = roi_w / (float)out_w;
        int grid_h = sampling_ratio > 0 ? sampling_ratio : (int)ceilf(roi_h / (float)out_h);
        int grid_w = sampling_ratio > 0 ? sampling_ratio : (int)ceilf(roi_w / (float)out_w);
        float count = (float)max(grid_h * grid_w, 1);

        const float* plane = feature + ((int64_t)n * channels + c) * height * width;
        float sum = 0.0f;
        for (int iy = 0; iy < grid_h; iy++) {
            float y = start_h + (float)ph * bin_h + ((float)iy + 0.5f) * bin_h / (float)grid_h;
            for (int ix = 0; ix < grid_w; ix++) {
                float x = start_w + (float)pw * bin_w + ((float)ix + 0.5f) * bin_w / (float)grid_w;
                sum += roi_align_sample(plane, height, width, y, x);
            }
        }
        out[i] = sum / count;
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
