#include "nativeseg.cuh"

// Boundary patch refinement (BPR) around instance masks: boundary levels, greedy patch NMS, crop and resize of
// the image and mask under each patch, and reassembly of refined patches. Masks are uint8 [N, H, W] (0 or not);
// a patch is an int32 triple (instance, x1, y1) naming a patch x patch window of the image.

#define BP_THREADS 256

// Level of pixel (x, y): min(c, 9 - c) for the zero-padded 3x3 box sum c of the binary mask, so 0 away from the
// boundary and 4 at the most curved pixels. Upstream's float score min(|c - 9|, |c|) / 4.5 is 2 * level / 9, so
// levels order patches exactly as the scores do.
extern "C" __global__ void boundary_levels_u8(const uint8_t* masks, int n, int h, int w, uint8_t* levels)
{
    NS_GRID_LOOP(i, (int64_t)n * h * w) {
        int64_t plane = i / ((int64_t)h * w);
        int y = (int)((i / w) % h), x = (int)(i % w);
        const uint8_t* m = masks + plane * h * w;
        int c = 0;
        for (int dy = -1; dy <= 1; dy++) {
            int yy = y + dy;
            if (yy < 0 || yy >= h) continue;
            for (int dx = -1; dx <= 1; dx++) {
                int xx = x + dx;
                if (xx >= 0 && xx < w && m[(int64_t)yy * w + xx] != 0) c++;
            }
        }
        levels[i] = (uint8_t)min(c, 9 - c);
    }
}

// True when a candidate centred (dx, dy) away from a kept one is suppressed: mmcv's CPU NMS rule IoU >= threshold,
// on boxes of side `side` (all the same area), in float as mmcv computes it. Integer operands are exact in float.
__device__ inline bool bp_suppressed(int dx, int dy, int side, float threshold)
{
    int ix = side - abs(dx), iy = side - abs(dy);
    float inter = (float)(max(ix, 0) * max(iy, 0));
    float area = (float)(side * side);
    return inter / (area + area - inter) >= threshold;
}

// One block per instance: greedy NMS over every boundary pixel as the centre of a patch, in descending level and,
// within a level, row-major order (the tie order the engine fixes). A block scans BP_THREADS pixels at a time and
// thread 0 settles the chunk's candidates, which are few, against the kept list. Kept centres go to
// centres[instance, k] (x, y); counts[instance] may exceed capacity, which the caller reports.
extern "C" __global__ void boundary_patch_nms(
    const uint8_t* levels, int n, int h, int w, int side, float threshold, int capacity, int* centres, int* counts)
{
    __shared__ int chunk[BP_THREADS];
    __shared__ int kept;
    int64_t plane = (int64_t)h * w;
    for (int inst = blockIdx.x; inst < n; inst += gridDim.x) {
        const uint8_t* lv = levels + inst * plane;
        int* out = centres + (int64_t)inst * capacity * 2;
        if (threadIdx.x == 0) kept = 0;
        __syncthreads();
        for (int level = 4; level >= 1; level--) {
            for (int64_t base = 0; base < plane; base += BP_THREADS) {
                int64_t p = base + threadIdx.x;
                int flag = p < plane && lv[p] == level;
                chunk[threadIdx.x] = flag;
                if (!__syncthreads_or(flag)) continue;
                if (threadIdx.x == 0) {
                    int count = kept;
                    for (int t = 0; t < BP_THREADS; t++) {
                        if (!chunk[t]) continue;
                        int cx = (int)((base + t) % w), cy = (int)((base + t) / w);
                        bool keep = true;
                        for (int k = 0; k < min(count, capacity) && keep; k++)
                            keep = !bp_suppressed(cx - out[2 * k], cy - out[2 * k + 1], side, threshold);
                        if (!keep) continue;
                        if (count < capacity) { out[2 * count] = cx; out[2 * count + 1] = cy; }
                        count++;
                    }
                    kept = count;
                }
                __syncthreads();
            }
        }
        if (threadIdx.x == 0) counts[inst] = kept;
        __syncthreads();
    }
}

// Input of the refinement network for each patch, float [K, 4, out, out]: the uint8 RGB image (HWC) under the
// patch resized bilinearly (half-pixel centres, edge-clamped, rounded half up to uint8 as OpenCV's fixed-point
// resize of uint8 does for these exact ratios), then (v - mean) * inv_std per channel; and the mask resized
// nearest (source pixel floor(o * patch / out)) as -1 / +1.
extern "C" __global__ void boundary_patch_crop_u8(
    const uint8_t* image, const uint8_t* masks, int h, int w, const int* patches, int k, int patch, int out,
    float mean0, float mean1, float mean2, float inv_std0, float inv_std1, float inv_std2, float* output)
{
    NS_GRID_LOOP(i, (int64_t)k * 4 * out * out) {
        int ox = (int)(i % out), oy = (int)((i / out) % out), c = (int)((i / ((int64_t)out * out)) % 4);
        int64_t j = i / ((int64_t)4 * out * out);
        int inst = patches[3 * j], x1 = patches[3 * j + 1], y1 = patches[3 * j + 2];
        float scale = (float)patch / (float)out;
        if (c == 3) {
            int sx = min((int)floorf(ox * scale), patch - 1), sy = min((int)floorf(oy * scale), patch - 1);
            output[i] = masks[(int64_t)inst * h * w + (int64_t)(y1 + sy) * w + x1 + sx] != 0 ? 1.0f : -1.0f;
            continue;
        }
        float fx = (ox + 0.5f) * scale - 0.5f, fy = (oy + 0.5f) * scale - 0.5f;
        int sx = (int)floorf(fx), sy = (int)floorf(fy);
        fx -= sx;
        fy -= sy;
        if (sx < 0) { sx = 0; fx = 0.0f; }
        if (sy < 0) { sy = 0; fy = 0.0f; }
        if (sx >= patch - 1) { sx = patch - 1; fx = 0.0f; }
        if (sy >= patch - 1) { sy = patch - 1; fy = 0.0f; }
        int sx1 = min(sx + 1, patch - 1), sy1 = min(sy + 1, patch - 1);
        const uint8_t* row0 = image + ((int64_t)(y1 + sy) * w + x1) * 3 + c;
        const uint8_t* row1 = image + ((int64_t)(y1 + sy1) * w + x1) * 3 + c;
        float top = row0[sx * 3] * (1.0f - fx) + row0[sx1 * 3] * fx;
        float bottom = row1[sx * 3] * (1.0f - fx) + row1[sx1 * 3] * fx;
        float v = floorf(top * (1.0f - fy) + bottom * fy + 0.5f);
        float mean = c == 0 ? mean0 : c == 1 ? mean1 : mean2;
        float inv_std = c == 0 ? inv_std0 : c == 1 ? inv_std1 : inv_std2;
        output[i] = (v - mean) * inv_std;
    }
}

// Refined masks, uint8 [N, H, W]: where patches of an instance cover a pixel, the mean of their foreground
// probabilities (softmax of the two logits [K, 2, patch, patch]), summed in patch order, is > 0.5; elsewhere the
// coarse mask. Instance i's patches are first[i] .. first[i + 1] - 1.
extern "C" __global__ void boundary_patch_reassemble_f32(
    const float* logits, const int* patches, const int* first, const uint8_t* coarse, int n, int h, int w, int patch,
    uint8_t* refined)
{
    NS_GRID_LOOP(i, (int64_t)n * h * w) {
        int inst = (int)(i / ((int64_t)h * w));
        int y = (int)((i / w) % h), x = (int)(i % w);
        float sum = 0.0f;
        int count = 0;
        for (int j = first[inst]; j < first[inst + 1]; j++) {
            int px = x - patches[3 * j + 1], py = y - patches[3 * j + 2];
            if (px < 0 || py < 0 || px >= patch || py >= patch) continue;
            int64_t at = (int64_t)j * 2 * patch * patch + (int64_t)py * patch + px;
            float l0 = logits[at], l1 = logits[at + (int64_t)patch * patch];
            float m = fmaxf(l0, l1);
            float e0 = expf(l0 - m), e1 = expf(l1 - m);
            sum += e1 / (e0 + e1);
            count++;
        }
        refined[i] = count > 0 ? (uint8_t)(sum / (float)count > 0.5f) : (uint8_t)(coarse[i] != 0);
    }
}
