#include "nativeseg.cuh"

// Concat and gather move whole rows of bytes whatever the dtype; the host picks the 4-byte variant
// when every row length and offset is a multiple of 4 and the byte variant otherwise.

// Copies src (outer rows of src_row words) into columns [offset, offset + src_row) of dst's rows.
extern "C" __global__ void concat_rows_u32(const uint32_t* src, uint32_t* dst, int64_t outer, int64_t src_row, int64_t dst_row, int64_t offset)
{
    NS_GRID_LOOP(i, outer * src_row) {
        int64_t r = i / src_row;
        dst[r * dst_row + offset + (i - r * src_row)] = src[i];
    }
}

extern "C" __global__ void concat_rows_u8(const uint8_t* src, uint8_t* dst, int64_t outer, int64_t src_row, int64_t dst_row, int64_t offset)
{
    NS_GRID_LOOP(i, outer * src_row) {
        int64_t r = i / src_row;
        dst[r * dst_row + offset + (i - r * src_row)] = src[i];
    }
}

// The inverse copy of concat: row r of dst is the src_row units at offset in row r of src (torch.narrow, made contiguous).
extern "C" __global__ void narrow_rows_u32(const uint32_t* src, uint32_t* dst, int64_t outer, int64_t src_row, int64_t dst_row, int64_t offset)
{
    NS_GRID_LOOP(i, outer * dst_row) {
        int64_t r = i / dst_row;
        dst[i] = src[r * src_row + offset + (i - r * dst_row)];
    }
}

extern "C" __global__ void narrow_rows_u8(const uint8_t* src, uint8_t* dst, int64_t outer, int64_t src_row, int64_t dst_row, int64_t offset)
{
    NS_GRID_LOOP(i, outer * dst_row) {
        int64_t r = i / dst_row;
        dst[i] = src[r * src_row + offset + (i - r * dst_row)];
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
