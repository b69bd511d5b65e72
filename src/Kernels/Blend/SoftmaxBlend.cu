#include "nativeseg.cuh"

// For each of R items and each of P positions: the softmax over K of logits[r, :, p] weights values[r, :, p];
// out[r, p] = sigmoid of the weighted sum (BlendMask's blender, once its attentions are upsampled to the pooled
// bases' size). The maximum is subtracted before exp, as torch's softmax does.
extern "C" __global__ void softmax_blend_sigmoid_f32(const float* logits, const float* values, float* out, int64_t items, int K, int64_t P)
{
    NS_GRID_LOOP(i, items * P) {
        int64_t r = i / P, p = i - r * P;
        const float* l = logits + r * K * P + p;
        const float* v = values + r * K * P + p;
        float top = l[0];
        for (int k = 1; k < K; k++) top = fmaxf(top, l[k * P]);
        float weights = 0.0f, sum = 0.0f;
        for (int k = 0; k < K; k++) {
            float e = expf(l[k * P] - top);
            weights += e;
            sum += e * v[k * P];
        }
        out[i] = 1.0f / (1.0f + expf(-sum / weights));
    }
}
