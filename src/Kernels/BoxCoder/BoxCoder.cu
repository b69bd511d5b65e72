#include "nativeseg.cuh"

#ifdef NATIVESEG_EMULATION
#define bc_mul(a, b) ((a) * (b))
#define bc_add(a, b) ((a) + (b))
#else
// Unfused, like the PyTorch references and the C# twin: a contracted FMA moves box edges by an ulp,
// enough to flip a clip or a small-box test that sits on its boundary.
#define bc_mul(a, b) __fmul_rn(a, b)
#define bc_add(a, b) __fadd_rn(a, b)
#endif

__device__ inline float bc_clamp(float v, float lo, float hi)
{
    // Comparisons rather than fminf/fmaxf so a NaN passes through, as torch.clamp lets it.
    return v < lo ? lo : (v > hi ? hi : v);
}

// One thread per decoded box (r, k): deltas [R, 4K] against reference boxes [R, 4].
// plus_one selects maskrcnn-benchmark's +1 widths and x2 = ctr + w/2 - 1; clip_w/clip_h < 0 skip clipping.
extern "C" __global__ void box_decode_f32(
    const float* deltas, const float* boxes, float* out, int rows, int per_row,
    float wx, float wy, float ww, float wh, float scale_clamp, int plus_one, float clip_w, float clip_h)
{
    int64_t total = (int64_t)rows * per_row;
    NS_GRID_LOOP(i, total) {
        const float* b = boxes + (i / per_row) * 4;
        const float* d = deltas + i * 4;
        float extra = plus_one ? 1.0f : 0.0f;
        float width = bc_add(b[2] - b[0], extra), height = bc_add(b[3] - b[1], extra);
        float ctr_x = bc_add(b[0], bc_mul(0.5f, width)), ctr_y = bc_add(b[1], bc_mul(0.5f, height));
        float dx = d[0] / wx, dy = d[1] / wy, dw = d[2] / ww, dh = d[3] / wh;
        dw = dw > scale_clamp ? scale_clamp : dw;
        dh = dh > scale_clamp ? scale_clamp : dh;
        float pred_x = bc_add(bc_mul(dx, width), ctr_x), pred_y = bc_add(bc_mul(dy, height), ctr_y);
        float pred_w = bc_mul(expf(dw), width), pred_h = bc_mul(expf(dh), height);
        float half_w = bc_mul(0.5f, pred_w), half_h = bc_mul(0.5f, pred_h);
        float x1 = pred_x - half_w, y1 = pred_y - half_h;
        float x2 = bc_add(pred_x, half_w) - extra, y2 = bc_add(pred_y, half_h) - extra;
        if (clip_w >= 0.0f) {
            x1 = bc_clamp(x1, 0.0f, clip_w);
            x2 = bc_clamp(x2, 0.0f, clip_w);
            y1 = bc_clamp(y1, 0.0f, clip_h);
            y2 = bc_clamp(y2, 0.0f, clip_h);
        }
        float* o = out + i * 4;
        o[0] = x1;
        o[1] = y1;
        o[2] = x2;
        o[3] = y2;
    }
}

// One thread per row: the deltas that move reference box r onto target box t, the inverse of box_decode_f32.
// The weight multiplies the offset before the division, as torch evaluates wx * (gt_ctr - ex_ctr) / ex_w.
extern "C" __global__ void box_encode_f32(
    const float* targets, const float* references, float* out, int rows, float wx, float wy, float ww, float wh, int plus_one)
{
    NS_GRID_LOOP(i, rows) {
        const float* r = references + i * 4;
        const float* t = targets + i * 4;
        float extra = plus_one ? 1.0f : 0.0f;
        float ref_w = bc_add(r[2] - r[0], extra), ref_h = bc_add(r[3] - r[1], extra);
        float ref_x = bc_add(r[0], bc_mul(0.5f, ref_w)), ref_y = bc_add(r[1], bc_mul(0.5f, ref_h));
        float width = bc_add(t[2] - t[0], extra), height = bc_add(t[3] - t[1], extra);
        float ctr_x = bc_add(t[0], bc_mul(0.5f, width)), ctr_y = bc_add(t[1], bc_mul(0.5f, height));
        float* o = out + i * 4;
        o[0] = bc_mul(wx, ctr_x - ref_x) / ref_w;
        o[1] = bc_mul(wy, ctr_y - ref_y) / ref_h;
        o[2] = bc_mul(ww, logf(width / ref_w));
        o[3] = bc_mul(wh, logf(height / ref_h));
    }
}

// keep[i] = 1 when both sides reach min_size (>=, torchvision's remove_small_boxes) or exceed it
// (strict, detectron2's nonempty).
extern "C" __global__ void box_keep_f32(const float* boxes, uint8_t* keep, int64_t count, float min_size, int strict)
{
    NS_GRID_LOOP(i, count) {
        const float* b = boxes + i * 4;
        float w = b[2] - b[0], h = b[3] - b[1];
        bool ok = strict ? (w > min_size && h > min_size) : (w >= min_size && h >= min_size);
        keep[i] = ok ? 1 : 0;
    }
}

// Each box clipped to [0, width] × [0, height]; NaN stays NaN, as torch.clamp leaves it.
extern "C" __global__ void box_clip_f32(const float* boxes, float* out, int64_t count, float height, float width)
{
    NS_GRID_LOOP(i, count) {
        const float* b = boxes + i * 4;
        float* o = out + i * 4;
        for (int c = 0; c < 4; c++) {
            float v = b[c], hi = (c % 2 == 0) ? width : height;
            o[c] = v < 0.0f ? 0.0f : (v > hi ? hi : v);
        }
    }
}
