#include "nativeseg.cuh"

// Order-preserving float -> unsigned key: larger float, larger key. -0 and +0 share a key so they tie
// (and fall back to index order); every NaN maps to the top, as torch ranks NaN above all numbers.
__device__ inline uint32_t topk_key(float v)
{
    if (v != v) return 0xffffffffu;
    uint32_t bits = (uint32_t)__float_as_int(v);
    if (bits == 0x80000000u) bits = 0u;
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Exclusive prefix sum over the block (blockDim.x a multiple of 32) of one value per thread; the block
// total goes to *total. Warp shuffles inside each warp, then one pass over the per-warp sums.
__device__ inline uint32_t topk_block_scan(uint32_t v, uint32_t* warp_sums, uint32_t* total)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    uint32_t x = v;
    for (int d = 1; d < 32; d <<= 1) {
        uint32_t y = __shfl_up_sync(0xffffffffu, x, d);
        if (lane >= d) x += y;
    }
    if (lane == 31) warp_sums[warp] = x;
    __syncthreads();
    uint32_t before = 0, sum = 0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) {
        uint32_t s = warp_sums[w];
        if (w < warp) before += s;
        sum += s;
    }
    __syncthreads();  // warp_sums is rewritten by the next call
    *total = sum;
    return before + x - v;
}

// Top-k of each row of x (rows × n), sorted descending, ties by lower index first. One block per row:
//  1. radix select, 8 bits per pass from the top, finds the key T of the k-th largest element and how
//     many elements equal to T belong to the top k ("take");
//  2. an order-preserving block compaction writes the elements above T and the first "take" elements
//     equal to T (lowest indices) into this row's scratch, as 64-bit (key, ~index) composites, so a
//     plain descending sort yields value order with lower indices first on ties;
//  3. a bitonic sort of the kpad (k rounded up to a power of two) composites in scratch, padded with
//     zeros, which no real element produces (the smallest real key is that of -inf, 0x007fffff).
// The row is read five times and never sorted whole, so k = 1000 of n = 200k costs a few passes.
extern "C" __global__ void topk_f32(const float* x, float* values, int64_t* indices, uint64_t* scratch,
    int64_t rows, int n, int k, int kpad)
{
    __shared__ uint32_t hist[256];
    __shared__ uint32_t warp_sums[32];
    __shared__ uint32_t chosen_digit, chosen_remaining;
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* xr = x + row * n;
        uint64_t* cand = scratch + row * kpad;

        uint32_t prefix = 0u, mask = 0u, remaining = (uint32_t)k;
        for (int shift = 24; shift >= 0; shift -= 8) {
            for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0u;
            __syncthreads();
            for (int i = threadIdx.x; i < n; i += blockDim.x) {
                uint32_t key = topk_key(xr[i]);
                if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
            }
            __syncthreads();
            if (threadIdx.x == 0) {
                // The bins hold at least `remaining` elements in all, so this stops at b >= 0.
                uint32_t above = 0u;
                int b = 255;
                while (above + hist[b] < remaining) {
                    above += hist[b];
                    b--;
                }
                chosen_digit = (uint32_t)b;
                chosen_remaining = remaining - above;
            }
            __syncthreads();
            prefix |= chosen_digit << shift;
            mask |= 255u << shift;
            remaining = chosen_remaining;
            __syncthreads();  // hist and chosen_* are rewritten by the next pass
        }

        uint32_t threshold = prefix, take = remaining, greater = (uint32_t)k - remaining;
        uint32_t gt_base = 0u, eq_base = 0u;
        // gt_base and eq_base are block totals, so every thread leaves the loop together.
        for (int start = 0; start < n && (gt_base < greater || eq_base < take); start += blockDim.x) {
            int i = start + (int)threadIdx.x;
            uint32_t key = i < n ? topk_key(xr[i]) : 0u;
            uint32_t is_gt = (i < n && key > threshold) ? 1u : 0u;
            uint32_t is_eq = (i < n && key == threshold) ? 1u : 0u;
            uint32_t total;
            // Both counts in one scan: at most 1024 per chunk, so 16 bits each suffice.
            uint32_t before = topk_block_scan(is_gt | (is_eq << 16), warp_sums, &total);
            uint64_t composite = ((uint64_t)key << 32) | (uint64_t)(0xffffffffu - (uint32_t)i);
            if (is_gt) cand[gt_base + (before & 0xffffu)] = composite;
            if (is_eq) {
                uint32_t e = eq_base + (before >> 16);
                if (e < take) cand[greater + e] = composite;
            }
            gt_base += total & 0xffffu;
            eq_base += total >> 16;
        }
        for (int j = k + (int)threadIdx.x; j < kpad; j += blockDim.x) cand[j] = 0ull;
        __syncthreads();

        for (uint32_t size = 2u; size <= (uint32_t)kpad; size <<= 1) {
            for (uint32_t stride = size >> 1; stride > 0u; stride >>= 1) {
                for (uint32_t t = threadIdx.x; t < (uint32_t)kpad / 2u; t += blockDim.x) {
                    uint32_t lo = 2u * t - (t & (stride - 1u));
                    uint32_t hi = lo + stride;
                    uint64_t a = cand[lo], b = cand[hi];
                    bool descending = (lo & size) == 0u;
                    if ((a < b) == descending) {
                        cand[lo] = b;
                        cand[hi] = a;
                    }
                }
                __syncthreads();
            }
        }

        for (int j = threadIdx.x; j < k; j += blockDim.x) {
            uint32_t index = 0xffffffffu - (uint32_t)(cand[j] & 0xffffffffull);
            values[row * k + j] = xr[index];
            indices[row * k + j] = (int64_t)index;
        }
        __syncthreads();
    }
}
