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
