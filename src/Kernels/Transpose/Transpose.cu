#include "nativeseg.cuh"

// y[b, c, r] = x[b, r, c] for a batch of rows × cols matrices whose elements are `width` 32-bit words each
// (1 for float32, 2 for int64, 4 for a box), one thread per output word.
extern "C" __global__ void transpose_last2_u32(const uint32_t* x, uint32_t* y, int64_t batch, int rows, int cols, int width)
{
    int64_t total = batch * rows * cols * width;
    NS_GRID_LOOP(i, total) {
        int w = (int)(i % width);
        int64_t element = i / width;
        int r = (int)(element % rows);
        int c = (int)((element / rows) % cols);
        int64_t b = element / ((int64_t)rows * cols);
        y[i] = x[((b * rows + r) * cols + c) * width + w];
    }
}
