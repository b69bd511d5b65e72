#include "nativeseg.cuh"

// op codes shared with Elementwise.cs (BinaryOp): 0 add, 1 sub, 2 mul, 3 div.
__device__ inline float ew_apply(float a, float b, int op)
{
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        default: return a / b;
    }
}

extern "C" __global__ void binary_f32(const float* a, const float* b, float* y, int64_t n, int op)
{
    NS_GRID_LOOP(i, n) {
        y[i] = ew_apply(a[i], b[i], op);
    }
}

extern "C" __global__ void add_relu_f32(const float* a, const float* b, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        float v = a[i] + b[i];
        // fmaxf would turn a NaN sum into 0; torch's relu keeps it, and so does the CPU twin.
        y[i] = v > 0.0f || v != v ? v : 0.0f;
    }
}

// v holds one value per index of the broadcast axis; inner is the product of the dims after that axis.
extern "C" __global__ void binary_channel_f32(const float* x, const float* v, float* y, int64_t n, int64_t inner, int channels, int op)
{
    NS_GRID_LOOP(i, n) {
        y[i] = ew_apply(x[i], v[(i / inner) % channels], op);
    }
}

extern "C" __global__ void affine_f32(const float* x, float* y, int64_t n, float scale, float shift)
{
    NS_GRID_LOOP(i, n) {
        y[i] = x[i] * scale + shift;
    }
}
