#include "nativeseg.cuh"

#ifdef NATIVESEG_EMULATION
#define iou_mul(a, b) ((a) * (b))
#define iou_add(a, b) ((a) + (b))
#else
// Unfused, like torch and the C# twin: a contracted FMA moves an IoU sitting on a matcher threshold by an ulp.
#define iou_mul(a, b) __fmul_rn(a, b)
#define iou_add(a, b) __fadd_rn(a, b)
#endif

// One thread per (g, a) pair of the [G, A] matrix. zero_without_overlap selects detectron2's pairwise_iou,
// which gives 0 wherever the intersection is not positive; torchvision's box_iou divides regardless, so two
// zero-area boxes give 0/0 = NaN there.
extern "C" __global__ void box_iou_f32(
    const float* boxes1, const float* boxes2, float* out, int rows, int cols, int zero_without_overlap)
{
    int64_t total = (int64_t)rows * cols;
    NS_GRID_LOOP(i, total) {
        const float* p = boxes1 + (i / cols) * 4;
        const float* q = boxes2 + (i % cols) * 4;
        float area1 = iou_mul(p[2] - p[0], p[3] - p[1]);
        float area2 = iou_mul(q[2] - q[0], q[3] - q[1]);
        float w = fminf(p[2], q[2]) - fmaxf(p[0], q[0]);
        float h = fminf(p[3], q[3]) - fmaxf(p[1], q[1]);
        w = w < 0.0f ? 0.0f : w;
        h = h < 0.0f ? 0.0f : h;
        float inter = iou_mul(w, h);
        float iou = inter / (iou_add(area1, area2) - inter);
        out[i] = (zero_without_overlap && !(inter > 0.0f)) ? 0.0f : iou;
    }
}
