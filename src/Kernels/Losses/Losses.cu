#include "nativeseg.cuh"
#include "block_sum.cuh"

// Loss kernels: each loss writes one term per row or element, loss_block_sums_f32 folds the terms into
// the scalar on the device, and each backward writes d loss / d input. `factor` is the reduction's
// multiplier (scale, or scale / count for a mean); `grad_loss`, when not null, points at the upstream
// gradient of the scalar loss.

// Sum of x[0 .. n) per block, times factor, into sums[blockIdx.x]. Run once with many blocks and then
// once with one block over their sums: both passes add in a fixed order, so the loss is deterministic.
extern "C" __global__ void loss_block_sums_f32(const float* x, int64_t n, float factor, float* sums)
{
    __shared__ float partial[32];
    float s = 0.0f;
    NS_GRID_LOOP(i, n) s += x[i];
    s = ns_block_sum(s, partial);
    if (threadIdx.x == 0) sums[blockIdx.x] = s * factor;
}

__device__ inline float loss_upstream(const float* grad_loss, float factor)
{
    return grad_loss ? *grad_loss * factor : factor;
}

// log Σ exp(row), stabilised by the row's maximum so logits of ±80 neither overflow nor vanish.
__device__ inline float ce_log_sum_exp(const float* row, int cols)
{
    float m = -NS_INFINITY;
    for (int c = 0; c < cols; c++) m = fmaxf(m, row[c]);
    float s = 0.0f;
    for (int c = 0; c < cols; c++) s += expf(row[c] - m);
    return m + logf(s);
}

// Softmax cross-entropy, one thread per row: logsumexp(row) − row[target]. A target outside
// [0, cols) gives NaN, which the reduction carries into the loss.
extern "C" __global__ void cross_entropy_terms_f32(const float* logits, const int64_t* targets, int64_t rows, int cols, float* terms)
{
    NS_GRID_LOOP(r, rows) {
        const float* row = logits + r * cols;
        int64_t t = targets[r];
        terms[r] = t < 0 || t >= cols ? NS_NAN : ce_log_sum_exp(row, cols) - row[t];
    }
}

// (softmax(row) − onehot(target)) · upstream, one thread per row.
extern "C" __global__ void cross_entropy_backward_f32(
    const float* logits, const int64_t* targets, int64_t rows, int cols, const float* grad_loss, float factor, float* grad)
{
    float g = loss_upstream(grad_loss, factor);
    NS_GRID_LOOP(r, rows) {
        const float* row = logits + r * cols;
        float* out = grad + r * cols;
        int64_t t = targets[r];
        if (t < 0 || t >= cols) {
            for (int c = 0; c < cols; c++) out[c] = NS_NAN;
            continue;
        }
        float lse = ce_log_sum_exp(row, cols);
        for (int c = 0; c < cols; c++) out[c] = (expf(row[c] - lse) - (c == t ? 1.0f : 0.0f)) * g;
    }
}

// Elementwise losses of input x against target t; kind 0 = binary cross-entropy with logits,
// 1 = smooth-L1 with parameter beta (beta 0 = L1).
__device__ inline float pointwise_term(int kind, float x, float t, float beta)
{
    if (kind == 0) return fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x)));
    float d = fabsf(x - t);
    return d < beta ? 0.5f * d * d / beta : d - 0.5f * beta;
}

// torch's conventions: σ(x) − t; for smooth-L1 (x − t) / beta inside the quadratic zone, else the
// sign of x − t, with sign(0) = 0 when beta is 0.
__device__ inline float pointwise_grad(int kind, float x, float t, float beta)
{
    if (kind == 0) return 1.0f / (1.0f + expf(-x)) - t;
    float d = x - t;
    if (d < -beta) return -1.0f;
    if (d > beta) return 1.0f;
    return beta > 0.0f ? d / beta : 0.0f;
}

extern "C" __global__ void pointwise_loss_terms_f32(const float* x, const float* t, int64_t n, int kind, float beta, float* terms)
{
    NS_GRID_LOOP(i, n) terms[i] = pointwise_term(kind, x[i], t[i], beta);
}

extern "C" __global__ void pointwise_loss_backward_f32(
    const float* x, const float* t, int64_t n, int kind, float beta, const float* grad_loss, float factor, float* grad)
{
    float g = loss_upstream(grad_loss, factor);
    NS_GRID_LOOP(i, n) grad[i] = pointwise_grad(kind, x[i], t[i], beta) * g;
}
