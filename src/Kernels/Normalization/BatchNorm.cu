#include "nativeseg.cuh"
#include "block_sum.cuh"

// Training-mode batch normalization over NCHW: a channel's M = N·spatial elements are N runs of `spatial`
// floats, `channels·spatial` apart. One block per channel; two passes (mean, then squared deviations) keep the
// variance accurate when the mean is large compared with the spread. Thread 0 writes the batch mean and
// 1/√(var + eps) to stats and moves the running statistics towards the batch's with torch's rule: the running
// variance takes the unbiased variance (M / (M − 1) times the one that normalises).
extern "C" __global__ void batch_norm_stats_f32(const float* x, float* stats, float* running_mean, float* running_var,
    int64_t batch, int64_t channels, int64_t spatial, float momentum, float eps)
{
    __shared__ float partial[32];
    int64_t m = batch * spatial;
    for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < m; i += blockDim.x) s += x[((i / spatial) * channels + c) * spatial + i % spatial];
        float mean = ns_block_sum(s, partial) / (float)m;
        float q = 0.0f;
        for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
            float d = x[((i / spatial) * channels + c) * spatial + i % spatial] - mean;
            q += d * d;
        }
        float var = ns_block_sum(q, partial) / (float)m;
        if (threadIdx.x == 0) {
            stats[2 * c] = mean;
            stats[2 * c + 1] = 1.0f / sqrtf(var + eps);
            running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean;
            running_var[c] = (1.0f - momentum) * running_var[c] + momentum * var * (float)m / (float)(m - 1);
        }
    }
}

// y = (x − mean)·rstd·γ + β, as x·a + b with a = rstd·γ and b = β − mean·a per channel.
extern "C" __global__ void batch_norm_apply_f32(const float* x, const float* stats, const float* gamma, const float* beta,
    float* y, int64_t n, int64_t channels, int64_t spatial)
{
    NS_GRID_LOOP(i, n) {
        int64_t c = (i / spatial) % channels;
        float a = stats[2 * c + 1] * gamma[c];
        y[i] = x[i] * a + (beta[c] - stats[2 * c] * a);
    }
}

// Backward, step 1. One block per channel: dβ = Σ dy and dγ = Σ dy·x̂ with x̂ = (x − mean)·rstd.
extern "C" __global__ void batch_norm_backward_params_f32(const float* grad, const float* x, const float* stats,
    float* dgamma, float* dbeta, int64_t batch, int64_t channels, int64_t spatial)
{
    __shared__ float partial[32];
    int64_t m = batch * spatial;
    for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
        float mean = stats[2 * c], rstd = stats[2 * c + 1];
        float s = 0.0f, q = 0.0f;
        for (int64_t i = threadIdx.x; i < m; i += blockDim.x) {
            int64_t at = ((i / spatial) * channels + c) * spatial + i % spatial;
            s += grad[at];
            q += grad[at] * (x[at] - mean) * rstd;
        }
        float total = ns_block_sum(s, partial);
        float weighted = ns_block_sum(q, partial);
        if (threadIdx.x == 0) {
            dbeta[c] = total;
            dgamma[c] = weighted;
        }
    }
}

// Step 2, elementwise: dx = γ·rstd·(dy − dβ/M − x̂·dγ/M).
extern "C" __global__ void batch_norm_backward_input_f32(const float* grad, const float* x, const float* stats, const float* gamma,
    const float* dgamma, const float* dbeta, float* dx, int64_t n, int64_t channels, int64_t spatial, int64_t m)
{
    NS_GRID_LOOP(i, n) {
        int64_t c = (i / spatial) % channels;
        float mean = stats[2 * c], rstd = stats[2 * c + 1];
        float xhat = (x[i] - mean) * rstd;
        dx[i] = gamma[c] * rstd * (grad[i] - dbeta[c] / (float)m - xhat * dgamma[c] / (float)m);
    }
}
