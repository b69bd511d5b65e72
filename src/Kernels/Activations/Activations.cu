#include "nativeseg.cuh"

extern "C" __global__ void relu_f32(const float* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

extern "C" __global__ void sigmoid_f32(const float* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        y[i] = 1.0f / (1.0f + expf(-x[i]));
    }
}

// IEEE square root (NVRTC's default -prec-sqrt=true), correctly rounded as the CPU's: a negative input gives NaN.
extern "C" __global__ void sqrt_f32(const float* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        y[i] = sqrtf(x[i]);
    }
}

// torch's threshold_backward(grad, output, 0): the gradient is dropped where output <= 0, so a NaN
// output lets it through as in torch.
extern "C" __global__ void relu_backward_f32(const float* grad, const float* y, float* dx, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        dx[i] = y[i] <= 0.0f ? 0.0f : grad[i];
    }
}
