#include "nativeseg.cuh"

// One channel of interleaved 8-bit pixels [h, w, channels] into a float plane whose rows are `stride` apart:
// v / divisor * multiplier, less the mean, over the std, each step rounded to float as torch and the CPU twin
// round it (no fused multiply-add can form: no product is added). The plane's padding is left as it is.
extern "C" __global__ void normalise_pixels_u8_f32(const uint8_t* pixels, float* plane, int64_t h, int w, int channels, int channel,
    int stride, float divisor, float multiplier, float mean, float std)
{
    NS_GRID_LOOP(i, h * w) {
        int x = (int)(i % w);
        int64_t y = i / w;
        float v = (float)pixels[i * channels + channel] / divisor * multiplier;
        plane[y * stride + x] = (v - mean) / std;
    }
}
