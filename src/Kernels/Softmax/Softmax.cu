#include "nativeseg.cuh"
#include "block_sum.cuh"

// Block-wide maximum returned to every thread (the sum is block_sum.cuh's); blockDim.x is a multiple of 32.
// The final combine runs in a fixed order so results do not depend on warp scheduling.
__device__ inline float softmax_block_max(float v, float* partial)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    __syncthreads();
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = partial[0];
    for (int w = 1; w < (int)(blockDim.x >> 5); w++) m = fmaxf(m, partial[w]);
    return m;
}

// One block per row: subtracting the row maximum keeps exp() from overflowing.
extern "C" __global__ void softmax_last_f32(const float* x, float* y, int64_t rows, int cols)
{
    __shared__ float partial[32];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* p = x + row * cols;
        float* q = y + row * cols;
        float m = -NS_INFINITY;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, p[i]);
        m = softmax_block_max(m, partial);
        float s = 0.0f;
        for (int i = threadIdx.x; i < cols; i += blockDim.x) {
            float e = expf(p[i] - m);
            q[i] = e;
            s += e;
        }
        float inv = 1.0f / ns_block_sum(s, partial);
        for (int i = threadIdx.x; i < cols; i += blockDim.x) q[i] *= inv;
    }
}
