#include "nativeseg.cuh"
#include "block_sum.cuh"

// One block per (sample, group): a group's channels are contiguous in NCHW, so its elements form one
// run of group_size floats. Two passes (mean, then squared deviations) keep the variance accurate when
// the mean is large compared with the spread.
extern "C" __global__ void group_norm_stats_f32(const float* x, float* stats, int64_t groups, int64_t group_size, float eps)
{
    __shared__ float partial[32];
    for (int64_t g = blockIdx.x; g < groups; g += gridDim.x) {
        const float* p = x + g * group_size;
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < group_size; i += blockDim.x) s += p[i];
        float mean = ns_block_sum(s, partial) / (float)group_size;
        float q = 0.0f;
        for (int64_t i = threadIdx.x; i < group_size; i += blockDim.x) {
            float d = p[i] - mean;
            q += d * d;
        }
        float var = ns_block_sum(q, partial) / (float)group_size;
        if (threadIdx.x == 0) {
            stats[2 * g] = mean;
            stats[2 * g + 1] = 1.0f / sqrtf(var + eps);
        }
    }
}

// y = x·a + b with a = rstd·γ and b = β − mean·a per channel, the form torch's CPU kernel uses.
// gamma and beta may be null (no affine transform).
extern "C" __global__ void group_norm_apply_f32(const float* x, const float* stats, const float* gamma, const float* beta,
    float* y, int64_t n, int64_t spatial, int channels, int channels_per_group, int relu)
{
    NS_GRID_LOOP(i, n) {
        int64_t plane = i / spatial;
        int c = (int)(plane % channels);
        int64_t g = plane / channels_per_group;
        float a = stats[2 * g + 1] * (gamma ? gamma[c] : 1.0f);
        float b = (beta ? beta[c] : 0.0f) - stats[2 * g] * a;
        float v = x[i] * a + b;
        y[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

// Backward, step 1. One block per (sample, channel) plane: sums[2p] = Σ dy and sums[2p + 1] = Σ dy·x̂
// with x̂ = (x − mean)·rstd of the plane's group. Planes are numbered n·C + c, so plane / channels_per_group
// is the group's row in stats.
extern "C" __global__ void group_norm_backward_sums_f32(const float* grad, const float* x, const float* stats, float* sums,
    int64_t planes, int64_t spatial, int channels_per_group)
{
    __shared__ float partial[32];
    for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
        int64_t g = p / channels_per_group;
        float mean = stats[2 * g], rstd = stats[2 * g + 1];
        const float* dy = grad + p * spatial;
        const float* xp = x + p * spatial;
        float s = 0.0f, q = 0.0f;
        for (int64_t i = threadIdx.x; i < spatial; i += blockDim.x) {
            s += dy[i];
            q += dy[i] * (xp[i] - mean) * rstd;
        }
        float total = ns_block_sum(s, partial);
        float weighted = ns_block_sum(q, partial);
        if (threadIdx.x == 0) {
            sums[2 * p] = total;
            sums[2 * p + 1] = weighted;
        }
    }
}

// Step 2, one thread per (sample, group): the group means of γ·dy and γ·dy·x̂ that dx subtracts.
// gamma may be null (no affine transform).
extern "C" __global__ void group_norm_backward_coefficients_f32(const float* sums, const float* gamma, float* coef,
    int64_t groups, int channels, int channels_per_group, int64_t group_size)
{
    NS_GRID_LOOP(g, groups) {
        float a = 0.0f, b = 0.0f;
        for (int j = 0; j < channels_per_group; j++) {
            int64_t p = g * channels_per_group + j;
            float scale = gamma ? gamma[p % channels] : 1.0f;
            a += scale * sums[2 * p];
            b += scale * sums[2 * p + 1];
        }
        coef[2 * g] = a / (float)group_size;
        coef[2 * g + 1] = b / (float)group_size;
    }
}

// Step 3, elementwise: dx = rstd·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂)).
extern "C" __global__ void group_norm_backward_input_f32(const float* grad, const float* x, const float* stats, const float* coef,
    const float* gamma, float* dx, int64_t n, int64_t spatial, int channels, int channels_per_group)
{
    NS_GRID_LOOP(i, n) {
        int64_t plane = i / spatial;
        int64_t g = plane / channels_per_group;
        float mean = stats[2 * g], rstd = stats[2 * g + 1];
        float scale = gamma ? gamma[plane % channels] : 1.0f;
        float xhat = (x[i] - mean) * rstd;
        dx[i] = rstd * (scale * grad[i] - coef[2 * g] - xhat * coef[2 * g + 1]);
    }
}

// Step 4, one thread per channel: dγ = Σ_n Σ dy·x̂ and dβ = Σ_n Σ dy, summed over the batch in order.
extern "C" __global__ void group_norm_backward_params_f32(const float* sums, float* dgamma, float* dbeta, int64_t batch, int channels)
{
    NS_GRID_LOOP(c, channels) {
        float dg = 0.0f, db = 0.0f;
        for (int64_t s = 0; s < batch; s++) {
            db += sums[2 * (s * channels + c)];
            dg += sums[2 * (s * channels + c) + 1];
        }
        dgamma[c] = dg;
        dbeta[c] = db;
    }
}
