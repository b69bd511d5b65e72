#include "nativeseg.cuh"

extern "C" __global__ void cast_f32_f16(const float* x, ns_half* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        y[i] = ns_float_to_half(x[i]);
    }
}

extern "C" __global__ void cast_f16_f32(const ns_half* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        y[i] = ns_half_to_float(x[i]);
    }
}

extern "C" __global__ void cast_u8_f32(const uint8_t* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        y[i] = (float)x[i];
    }
}
