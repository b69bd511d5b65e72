#include "nativeseg.cuh"
#include "block_sum.cuh"

// Its own source because it cooperates within a block: the other convolution kernels stay free of
// shared memory and barriers, which the emulator runs faster.

// y is [outer, channels, inner]: sums[c] = sum of y[o, c, i] over o and i. One block per channel.
extern "C" __global__ void channel_sum_f32(const float* y, float* sums, int64_t outer, int64_t inner, int channels)
{
    __shared__ float partial[32];
    for (int c = blockIdx.x; c < channels; c += gridDim.x) {
        float s = 0.0f;
        for (int64_t j = threadIdx.x; j < outer * inner; j += blockDim.x) {
            int64_t o = j / inner;
            s += y[(o * channels + c) * inner + (j - o * inner)];
        }
        float total = ns_block_sum(s, partial);
        if (threadIdx.x == 0) sums[c] = total;
    }
}
