#include "nativeseg.cuh"

// One axis of a separable filter over 8-bit interleaved pixels [h, w, channels], in integers only, so that every
// device and the CPU twin give the same bytes. Per output index o along the axis the host gives taps laid out as
// start[n] | count[n] | weights[n * k] (n outputs, at most k taps each): output o sums the `count[o]` inputs from
// `start[o]` on, each times its weight, a fixed-point number with `fraction_bits` fraction bits; adding half of the
// last unit and shifting rounds the sum, which is then clipped to 0..255.
__device__ inline uint8_t fixed_point_to_u8(int sum, int fraction_bits)
{
    int v = sum >> fraction_bits;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

// The CPU twin rejects taps that reach outside the input; here they must only never read outside it.
__device__ inline int fixed_point_tap_count(const int* start, const int* count, int o, int k, int in)
{
    int s = start[o], n = count[o];
    if (s < 0 || s >= in) return 0;
    n = min(n, k);
    return min(n, in - s);
}

extern "C" __global__ void resample_horizontal_u8(const uint8_t* x, const int* taps, uint8_t* y, int64_t h, int w, int channels,
    int ow, int k, int fraction_bits)
{
    const int* start = taps;
    const int* count = taps + ow;
    const int* weights = taps + 2 * ow;
    NS_GRID_LOOP(i, h * ow * channels) {
        int c = (int)(i % channels);
        int o = (int)((i / channels) % ow);
        int64_t row = i / ((int64_t)channels * ow);
        int n = fixed_point_tap_count(start, count, o, k, w);
        const uint8_t* p = x + (row * w + (n > 0 ? start[o] : 0)) * channels + c;
        const int* wo = weights + (int64_t)o * k;
        int sum = 1 << (fraction_bits - 1);
        for (int t = 0; t < n; t++) sum += (int)p[(int64_t)t * channels] * wo[t];
        y[i] = fixed_point_to_u8(sum, fraction_bits);
    }
}

extern "C" __global__ void resample_vertical_u8(const uint8_t* x, const int* taps, uint8_t* y, int h, int64_t row, int oh, int k,
    int fraction_bits)
{
    const int* start = taps;
    const int* count = taps + oh;
    const int* weights = taps + 2 * oh;
    NS_GRID_LOOP(i, (int64_t)oh * row) {
        int64_t j = i % row;
        int o = (int)(i / row);
        int n = fixed_point_tap_count(start, count, o, k, h);
        const uint8_t* p = x + (n > 0 ? (int64_t)start[o] : 0) * row + j;
        const int* wo = weights + (int64_t)o * k;
        int sum = 1 << (fraction_bits - 1);
        for (int t = 0; t < n; t++) sum += (int)p[(int64_t)t * row] * wo[t];
        y[i] = fixed_point_to_u8(sum, fraction_bits);
    }
}
