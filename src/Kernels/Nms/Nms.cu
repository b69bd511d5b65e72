#include "nativeseg.cuh"

// Segmented batched (per-class) NMS in three launches, all on the device, however many segments: rank sort
// by descending score within each segment, the 64-box-block IoU bitmask within each segment, then one block
// per segment sweeping it and writing its kept indices and their count. Segments are the rows of [S, n]
// inputs (gridDim.y or .z picks one), so a box head's classes and a batch's images never interact.

#ifdef NATIVESEG_EMULATION
#define nms_mul(a, b) ((a) * (b))
#define nms_add(a, b) ((a) + (b))
#define nms_sub(a, b) ((a) - (b))
#else
// Unfused arithmetic: a contracted FMA would round differently from torchvision's CPU kernel and from
// the C# twin, and flip IoU decisions that sit exactly on the threshold.
#define nms_mul(a, b) __fmul_rn(a, b)
#define nms_add(a, b) __fadd_rn(a, b)
#define nms_sub(a, b) __fsub_rn(a, b)
#endif

#define NMS_RANK_THREADS 256

// True when score b (index j) sorts before score a (index i): descending, NaN first as torch sorts,
// ties to the lower index so the order is total and matches a stable sort.
__device__ inline bool nms_before(float b, int j, float a, int i)
{
    bool bnan = b != b, anan = a != a;
    if (bnan || anan) return bnan && (!anan || j < i);
    return b > a || (b == a && j < i);
}

// order[rank(i)] = i, where rank counts the scores of segment blockIdx.y that sort before score i. O(n^2)
// comparisons per segment from shared-memory tiles, with no atomics, so the permutation does not depend on
// scheduling.
extern "C" __global__ void nms_rank_f32(const float* scores, int n, int* order)
{
    __shared__ float tile[NMS_RANK_THREADS];
    scores += (int64_t)blockIdx.y * n;
    order += (int64_t)blockIdx.y * n;
    int i = blockIdx.x * NMS_RANK_THREADS + threadIdx.x;
    float si = i < n ? scores[i] : 0.0f;
    int rank = 0;
    for (int base = 0; base < n; base += NMS_RANK_THREADS) {
        int j = base + threadIdx.x;
        tile[threadIdx.x] = j < n ? scores[j] : 0.0f;
        __syncthreads();
        int len = min(NMS_RANK_THREADS, n - base);
        for (int k = 0; k < len; k++) rank += nms_before(tile[k], base + k, si, i) ? 1 : 0;
        __syncthreads();
    }
    if (i < n) order[rank] = i;
}

__device__ inline float nms_iou(const float* a, const float* b, float extra)
{
    float left = fmaxf(a[0], b[0]), top = fmaxf(a[1], b[1]);
    float right = fminf(a[2], b[2]), bottom = fminf(a[3], b[3]);
    float width = fmaxf(nms_add(nms_sub(right, left), extra), 0.0f);
    float height = fmaxf(nms_add(nms_sub(bottom, top), extra), 0.0f);
    float inter = nms_mul(width, height);
    float area_a = nms_mul(nms_add(nms_sub(a[2], a[0]), extra), nms_add(nms_sub(a[3], a[1]), extra));
    float area_b = nms_mul(nms_add(nms_sub(b[2], b[0]), extra), nms_add(nms_sub(b[3], b[1]), extra));
    return inter / nms_sub(nms_add(area_a, area_b), inter);
}

// Block (cb, rb, s) sets bit k of word mask[p * col_blocks + cb] of segment s when the box at sorted position
// p = rb*64 + thread suppresses the one at cb*64 + k: later in the order, same class, IoU > threshold.
extern "C" __global__ void nms_mask_f32(
    const float* boxes, const int64_t* classes, const int* order, int n, int col_blocks,
    float threshold, int plus_one, uint64_t* mask)
{
    int row_block = blockIdx.y, col_block = blockIdx.x;
    // The sweep never reads words left of the diagonal.
    if (col_block < row_block) return;
    int64_t segment = blockIdx.z;
    boxes += segment * n * 4;
    classes += segment * n;
    order += segment * n;
    mask += segment * n * col_blocks;
    __shared__ float col_boxes[64 * 4];
    __shared__ int64_t col_classes[64];
    int rows = min(n - row_block * 64, 64), cols = min(n - col_block * 64, 64);
    if ((int)threadIdx.x < cols) {
        int j = order[col_block * 64 + threadIdx.x];
        for (int d = 0; d < 4; d++) col_boxes[threadIdx.x * 4 + d] = boxes[(int64_t)j * 4 + d];
        col_classes[threadIdx.x] = classes[j];
    }
    __syncthreads();
    if ((int)threadIdx.x < rows) {
        int p = row_block * 64 + threadIdx.x;
        int i = order[p];
        float box[4] = { boxes[(int64_t)i * 4], boxes[(int64_t)i * 4 + 1], boxes[(int64_t)i * 4 + 2], boxes[(int64_t)i * 4 + 3] };
        int64_t cls = classes[i];
        float extra = plus_one ? 1.0f : 0.0f;
        uint64_t bits = 0;
        for (int k = col_block == row_block ? (int)threadIdx.x + 1 : 0; k < cols; k++) {
            if (col_classes[k] == cls && nms_iou(box, col_boxes + k * 4, extra) > threshold) bits |= 1ull << k;
        }
        mask[(int64_t)p * col_blocks + col_block] = bits;
    }
}

// Greedy sweep in score order, one block of at least 64 threads per segment (blockIdx.x): the block's 64
// diagonal words are staged in shared memory (so the serial part waits on no global loads), thread 0 settles
// the 64 boxes, then every thread ORs the kept boxes' rows into the removed bits of the later blocks.
extern "C" __global__ void nms_sweep(const uint64_t* mask, const int* order, int n, int col_blocks, int64_t* keep, int64_t* count)
{
    int64_t segment = blockIdx.x;
    mask += segment * n * col_blocks;
    order += segment * n;
    keep += segment * n;
    count += segment;
    NS_DYNAMIC_SHARED(uint64_t, removed);
    __shared__ uint64_t diagonal[64];
    __shared__ int rows_order[64];
    __shared__ uint64_t kept_bits;
    __shared__ int kept_total;
    for (int w = threadIdx.x; w < col_blocks; w += blockDim.x) removed[w] = 0;
    if (threadIdx.x == 0) kept_total = 0;
    __syncthreads();
    for (int b = 0; b < col_blocks; b++) {
        int rows = min(n - b * 64, 64);
        if ((int)threadIdx.x < rows) {
            diagonal[threadIdx.x] = mask[(int64_t)(b * 64 + threadIdx.x) * col_blocks + b];
            rows_order[threadIdx.x] = order[b * 64 + threadIdx.x];
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            uint64_t word = removed[b], bits = 0;
            int total = kept_total;
            for (int k = 0; k < rows; k++) {
                if ((word >> k) & 1ull) continue;
                bits |= 1ull << k;
                word |= diagonal[k];
                keep[total++] = rows_order[k];
            }
            kept_bits = bits;
            kept_total = total;
        }
        __syncthreads();
        uint64_t bits = kept_bits;
        for (int w = b + 1 + threadIdx.x; w < col_blocks; w += blockDim.x) {
            uint64_t acc = removed[w];
            for (int k = 0; k < 64; k++) {
                if ((bits >> k) & 1ull) acc |= mask[(int64_t)(b * 64 + k) * col_blocks + w];
            }
            removed[w] = acc;
        }
        __syncthreads();
    }
    for (int p = kept_total + threadIdx.x; p < n; p += blockDim.x) keep[p] = -1;
    if (threadIdx.x == 0) count[0] = kept_total;
}
