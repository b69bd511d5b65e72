#include "nativeseg.cuh"

// torch.optim.SGD with dampening 0 and nesterov off: d = g + wd·p; m = μ·m + d; p -= lr·m.
// A zero momentum buffer makes the first step m = d exactly, as torch's clone of d does.
extern "C" __global__ void sgd_step_f32(float* param, const float* grad, float* momentum, int64_t n,
                                        float lr, float mu, float weight_decay)
{
    NS_GRID_LOOP(i, n) {
        float d = grad[i] + weight_decay * param[i];
        float m = mu * momentum[i] + d;
        momentum[i] = m;
        param[i] -= lr * m;
    }
}

// One partial sum of squares per block, in double; the host adds the partials (deterministic, no atomics).
extern "C" __global__ void squared_norm_partials_f32(const float* x, int64_t n, double* partials)
{
    __shared__ double sums[256];
    double acc = 0.0;
    NS_GRID_LOOP(i, n) {
        double v = x[i];
        acc += v * v;
    }
    sums[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) sums[threadIdx.x] += sums[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[blockIdx.x] = sums[0];
}
