#include "nativeseg.cuh"

// Concat, narrow and gather move whole rows of bytes whatever the dtype; the host picks the 4-byte variant
// when every row length and offset is a multiple of 4 and the byte variant otherwise.

// Concat and narrow: a block of width units from each of outer rows, read at src_offset in rows of src_row
// units and written at dst_offset in rows of dst_row units.
extern "C" __global__ void copy_row_blocks_u32(const uint32_t* src, uint32_t* dst, int64_t outer, int64_t width,
    int64_t src_row, int64_t src_offset, int64_t dst_row, int64_t dst_offset)
{
    NS_GRID_LOOP(i, outer * width) {
        int64_t r = i / width, c = i - r * width;
        dst[r * dst_row + dst_offset + c] = src[r * src_row + src_offset + c];
    }
}

extern "C" __global__ void copy_row_blocks_u8(const uint8_t* src, uint8_t* dst, int64_t outer, int64_t width,
    int64_t src_row, int64_t src_offset, int64_t dst_row, int64_t dst_offset)
{
    NS_GRID_LOOP(i, outer * width) {
        int64_t r = i / width, c = i - r * width;
        dst[r * dst_row + dst_offset + c] = src[r * src_row + src_offset + c];
    }
}

// y[r] = x[index[r]]. Device-resident indices are not validated on the host (that would need a copy
// back and a synchronisation), so an out-of-range index yields a zero row instead of a wild read.
extern "C" __global__ void gather_rows_u32(const uint32_t* x, const int64_t* index, uint32_t* y, int64_t count, int64_t row, int64_t rows_in)
{
    NS_GRID_LOOP(i, count * row) {
        int64_t r = i / row;
        int64_t s = index[r];
        y[i] = (s >= 0 && s < rows_in) ? x[s * row + (i - r * row)] : 0u;
    }
}

extern "C" __global__ void gather_rows_u8(const uint8_t* x, const int64_t* index, uint8_t* y, int64_t count, int64_t row, int64_t rows_in)
{
    NS_GRID_LOOP(i, count * row) {
        int64_t r = i / row;
        int64_t s = index[r];
        y[i] = (s >= 0 && s < rows_in) ? x[s * row + (i - r * row)] : (uint8_t)0;
    }
}

// Gather's backward without atomics: the host groups the gathered positions by the row they read
// (unique targets, CSR offsets into positions), so each thread sums one target element's sources in order.
extern "C" __global__ void scatter_rows_add_f32(const float* gy, const int64_t* targets, const int64_t* offsets,
                                                const int64_t* positions, float* dx, int64_t unique, int64_t row)
{
    NS_GRID_LOOP(i, unique * row) {
        int64_t u = i / row;
        int64_t c = i - u * row;
        float sum = 0.0f;
        for (int64_t k = offsets[u]; k < offsets[u + 1]; k++) sum += gy[positions[k] * row + c];
        dx[targets[u] * row + c] = sum;
    }
}
