// No block-level cooperation here, so the emulator runs these blocks without barriers between them.
#include "nativeseg.cuh"

extern "C" __global__ void scale_and_count(const float* x, float* y, unsigned long long* count, int64_t n)
{
    NS_GRID_LOOP(i, n) {
        y[i] = 2.0f * x[i];
        atomicAdd(count, 1ull);
    }
}

#include "block_helper.cuh"

// Cooperates only through a header the emulator does not read, which must not go unnoticed.
extern "C" __global__ void hidden_barrier(float* y)
{
    y[threadIdx.x] = 1.0f;
    wait_for_block();
}
