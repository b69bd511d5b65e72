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
