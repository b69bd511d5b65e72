#include "nativeseg.cuh"

// COCO RLE (pycocotools' encode) of whole-image bitmasks as MaskPaste's mask_paste_bits_f32 leaves them: rows of
// 32-bit words, bit b of word w pixel 32w + b of the column-major scan. A run starts at every pixel whose bit differs
// from the previous pixel's, pixel 0 compared with an unset pixel before it, so a mask whose first pixel is set starts
// with an empty run of zeros. A row's runs are the gaps between its run starts and its end. Rows at or past count[0]
// (the live masks, counted on the device) are never read: the paste leaves them unwritten.
//
// Three steps, so the host can size the result between them: count each chunk's run starts, scan the counts in one
// block into each chunk's place in the list of every live row's boundaries (and the runs per row, what the host reads
// back with the detections), then write the boundaries and turn them into run lengths.

// Words a thread reads in the counting and writing steps: a chunk never spans two rows.
#define MR_CHUNK_WORDS 32

// Bit b set where pixel 32w + b of the row starts a run; bits past the row's last pixel are ignored.
__device__ inline uint32_t mr_run_starts(const uint32_t* row, int64_t w, int64_t pixels)
{
    uint32_t v = row[w];
    // Only a row's last word is partial, so the word before any word is whole and its top bit a pixel.
    uint32_t before = w > 0 ? row[w - 1] >> 31 : 0u;
    uint32_t starts = v ^ ((v << 1) | before);
    int64_t valid = pixels - w * 32;
    return valid < 32 ? starts & ((1u << valid) - 1u) : starts;
}

__device__ inline int64_t mr_live(const int64_t* count, int rows)
{
    return min(max(count[0], (int64_t)0), (int64_t)rows);
}

// chunk_starts[i] = the run starts in chunk i (row i / chunks, its words [32·(i % chunks), +32)); 0 for a dead row.
extern "C" __global__ void mask_rle_chunk_starts(const uint32_t* bits, const int64_t* count, int rows, int64_t words,
    int64_t pixels, int chunks, int* chunk_starts)
{
    int64_t live = mr_live(count, rows);
    NS_GRID_LOOP(i, (int64_t)rows * chunks) {
        int64_t r = i / chunks, first = (i % chunks) * MR_CHUNK_WORDS;
        int n = 0;
        if (r < live) {
            const uint32_t* row = bits + r * words;
            int64_t last = min(first + (int64_t)MR_CHUNK_WORDS, words);
            for (int64_t w = first; w < last; w++) n += __popc(mr_run_starts(row, w, pixels));
        }
        chunk_starts[i] = n;
    }
}

// One block (blockDim.x at most 1024): chunk_offsets[i] = where chunk i's first boundary goes in the list of every
// live row's run starts and end, i.e. the run starts of the chunks before it plus one end per earlier row;
// runs[r] = row r's run count (its run starts and its end), 0 for a dead row.
extern "C" __global__ void mask_rle_scan_chunks(const int* chunk_starts, const int64_t* count, int rows, int chunks,
    int64_t* chunk_offsets, int* runs)
{
    __shared__ int64_t sums[1024];
    int64_t n = (int64_t)rows * chunks;
    int threads = (int)blockDim.x, t = (int)threadIdx.x;
    // Each thread scans a contiguous stretch of chunks; the block scans the stretches' sums.
    int64_t per = (n + threads - 1) / threads;
    int64_t begin = min(n, t * per), end = min(n, begin + per);
    int64_t own = 0;
    for (int64_t i = begin; i < end; i++) own += chunk_starts[i];
    sums[t] = own;
    __syncthreads();
    for (int d = 1; d < threads; d <<= 1) {
        int64_t add = t >= d ? sums[t - d] : 0;
        __syncthreads();
        sums[t] += add;
        __syncthreads();
    }
    int64_t offset = sums[t] - own;
    for (int64_t i = begin; i < end; i++) {
        chunk_offsets[i] = offset + i / chunks;
        offset += chunk_starts[i];
    }
    int64_t total = sums[threads - 1];
    __syncthreads();
    int64_t live = mr_live(count, rows);
    for (int r = t; r < rows; r += threads) {
        int64_t start = chunk_offsets[(int64_t)r * chunks];
        int64_t next = r + 1 < rows ? chunk_offsets[(int64_t)(r + 1) * chunks] : total + rows;
        runs[r] = r < live ? (int)(next - start) : 0;
    }
}

// The n boundaries of every live row, row after row: a run start at pixel p of row r as r·pixels + p, then the row's
// end (r + 1)·pixels, so each difference of neighbours is a run length, a row's first one included. Nothing is
// written at or past n.
extern "C" __global__ void mask_rle_boundaries(const uint32_t* bits, const int64_t* chunk_offsets, const int64_t* count, int rows,
    int64_t words, int64_t pixels, int chunks, int64_t n, int64_t* boundaries)
{
    int64_t live = mr_live(count, rows);
    NS_GRID_LOOP(i, live * chunks) {
        int64_t r = i / chunks, chunk = i % chunks, first = chunk * MR_CHUNK_WORDS;
        const uint32_t* row = bits + r * words;
        int64_t last = min(first + (int64_t)MR_CHUNK_WORDS, words);
        int64_t k = chunk_offsets[i];
        for (int64_t w = first; w < last; w++) {
            for (uint32_t s = mr_run_starts(row, w, pixels); s != 0u; s &= s - 1u) {
                if (k < n) boundaries[k] = r * pixels + w * 32 + (__ffs((int)s) - 1);
                k++;
            }
        }
        if (chunk == chunks - 1 && k < n) boundaries[k] = (r + 1) * pixels;
    }
}

// counts[j] = boundaries[j] − boundaries[j − 1] (the first against 0): the run lengths.
extern "C" __global__ void mask_rle_counts(const int64_t* boundaries, int64_t n, uint32_t* counts)
{
    NS_GRID_LOOP(j, n) counts[j] = (uint32_t)(boundaries[j] - (j > 0 ? boundaries[j - 1] : (int64_t)0));
}
