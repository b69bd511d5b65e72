// Kernels that exercise the emulator itself: each one leans on one CUDA feature and its result is
// checked exactly by EmulatorSelfTests.
#include "nativeseg.cuh"

// One partial sum per block through static shared memory; launched with a grid smaller than the data.
extern "C" __global__ void __launch_bounds__(256) block_sum(const float* x, float* partial, int64_t n)
{
    __shared__ float sums[256];
    float acc = 0.0f;
    NS_GRID_LOOP(i, n) acc += x[i];
    sums[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) sums[threadIdx.x] += sums[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = sums[0];
}

// Warp totals by shuffles, combined with atomicAdd; a block of 100 threads ends in a 4-lane warp.
extern "C" __global__ void warp_sum(const float* x, float* total, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? x[i] : 0.0f;
    unsigned lanes = __activemask();
    int lane = threadIdx.x % 32, count = __popc(lanes);
    for (int offset = 16; offset > 0; offset /= 2) {
        float other = __shfl_down_sync(lanes, v, offset);
        if (lane + offset < count) v += other;
    }
    if (lane == 0) atomicAdd(total, v);
}

// Every shuffle flavour and a ballot, four results per thread.
extern "C" __global__ void shuffles(int* out)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned lanes = __activemask();
    int v = t * 10;
    out[4 * t + 0] = __shfl_sync(lanes, v, 3);
    out[4 * t + 1] = __shfl_up_sync(lanes, v, 1);
    out[4 * t + 2] = __shfl_xor_sync(lanes, v, 5, 8);
    out[4 * t + 3] = (int)__ballot_sync(lanes, threadIdx.x % 3 == 0);
}

// Many threads updating the same few words.
extern "C" __global__ void atomics(const int* values, int n, int* histogram, int* extremes, unsigned* bits,
                                   uint64_t* count, float* sum, float* largest)
{
    NS_GRID_LOOP(i, n) {
        int v = values[i];
        atomicAdd(&histogram[v % 8], 1);
        atomicSub(&histogram[8], 1);
        atomicMax(&extremes[0], v);
        atomicMin(&extremes[1], v);
        atomicOr(bits, 1u << (v % 32));
        atomicAdd(count, 1ull);  // uint64_t: unsigned long long under NVRTC, unsigned long under g++
        atomicAdd(sum, 0.5f);
        // Float maximum the way kernels build it: a compare-and-swap loop on the bits.
        int* word = (int*)largest;
        int old = *word;
        while (__int_as_float(old) < (float)v) {
            int seen = atomicCAS(word, old, __float_as_int((float)v));
            if (seen == old) break;
            old = seen;
        }
    }
}

// Reverses each block's chunk through dynamic shared memory.
extern "C" __global__ void reverse_chunks(const int* x, int* y, int n)
{
    NS_DYNAMIC_SHARED(int, chunk);
    int base = blockIdx.x * blockDim.x;
    int i = base + threadIdx.x;
    chunk[threadIdx.x] = i < n ? x[i] : -1;
    __syncthreads();
    int j = base + (int)blockDim.x - 1 - (int)threadIdx.x;
    if (j < n) y[j] = chunk[threadIdx.x];
}

// 3-D blocks in a 2-D grid: every thread writes its ids; threads with odd x return before the
// barriers, which the others must still get through.
extern "C" __global__ void indices(int* ids, int* counts)
{
    int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int threads = blockDim.x * blockDim.y * blockDim.z;
    ids[b * threads + t] = b * 10000 + t;
    if (threadIdx.x % 2 == 1) return;
    __syncthreads();
    int c = __syncthreads_count(threadIdx.y == 0);
    if (t == 0) counts[b] = c;
}

// Scales instead of copying: the comparison must catch it.
extern "C" __global__ void almost_copy(const float* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) y[i] = x[i] * 1.01f;
}

// Half of warp 0 waits at __syncthreads while the other half waits for it in a shuffle.
extern "C" __global__ void divergent_barrier(int* out)
{
    if (threadIdx.x < 16) __syncthreads();
    else out[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0);
}

extern "C" __global__ void trap_on_three(int* out)
{
    if (threadIdx.x == 3) __trap();
    out[threadIdx.x] = 1;
}

extern "C" __global__ void copy(const float* x, float* y, int64_t n)
{
    NS_GRID_LOOP(i, n) y[i] = x[i];
}
