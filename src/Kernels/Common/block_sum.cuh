// Block-wide float sum for kernels that reduce within a block. Include only from sources that already
// cooperate within a block (the emulator runs sources without barriers faster).
#pragma once

// Sum over the block, same value returned to every thread. blockDim.x is a multiple of 32 (at most
// 1024); the final 32-way sum runs in a fixed order so repeated launches give identical results.
// partial is __shared__ float[32].
__device__ inline float ns_block_sum(float v, float* partial)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    __syncthreads();  // partial may still be read by a previous call
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) total += partial[w];
    return total;
}
