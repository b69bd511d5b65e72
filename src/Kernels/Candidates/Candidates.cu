#include "nativeseg.cuh"

// Detection candidates selected on the device with their counts kept there: a filter that demotes failing
// candidates so that a following NMS ranks them after every passing one and lets them suppress none of
// them; the survivors of per-segment NMS as a score array; and the first k passing entries of a ranking.

// Candidate i (row i / per_row, column i % per_row) passes when keep[i] != 0 (keep may be null), its row is
// below rows[0] (rows may be null), its column is not skip_column and its score reaches min_score (is above
// it when strict; NaN never passes). A passing candidate keeps its score and class (classes[i], or its column
// when classes is null); a failing one gets -inf and class -1, a class no passing candidate has.
extern "C" __global__ void candidates_filter_f32(const float* scores, const uint8_t* keep, const int64_t* classes, const int64_t* rows,
    int64_t n, int per_row, int skip_column, float min_score, int strict, float* out_scores, int64_t* out_classes)
{
    NS_GRID_LOOP(i, n) {
        float s = scores[i];
        int64_t row = i / per_row;
        int column = (int)(i % per_row);
        bool pass = (keep == nullptr || keep[i] != 0) && (rows == nullptr || row < rows[0]) && column != skip_column
            && (strict ? s > min_score : s >= min_score);
        out_scores[i] = pass ? s : -NS_INFINITY;
        out_classes[i] = pass ? (classes != nullptr ? classes[i] : (int64_t)column) : (int64_t)-1;
    }
}

// One block per segment s of n candidates: out[s, j] = scores[s, j] when keep[s, :] (the segment's NMS
// survivors as segment-local indices, -1 padded) lists j, else -inf.
extern "C" __global__ void candidates_kept_scores_f32(const int64_t* keep, const float* scores, int64_t segments, int n, float* out)
{
    for (int64_t s = blockIdx.x; s < segments; s += gridDim.x) {
        const int64_t* k = keep + s * n;
        for (int j = threadIdx.x; j < n; j += blockDim.x) out[s * n + j] = -NS_INFINITY;
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            int64_t j = k[i];
            if (j >= 0 && j < n) out[s * n + j] = scores[s * n + j];
        }
        __syncthreads();
    }
}

// The first k entries of a ranking `order` (n candidate positions, -1 padded) that pass: a position >= 0
// whose score is above -inf. A ranking by score puts every passing entry before every failing one, so the
// passing ones are a prefix and entry i of the output is entry i of the ranking. For each output slot i < k:
// index[i] = the position (-1 past the passing ones), select[i] = i * per_row + its column (a row of an
// [k·per_row, ...] view), column[i] = position % per_row as float, row[i] = position / per_row (-1 past the
// passing ones); count[0] = how many passed. With limit < k the cut keeps ties: slots from limit on take only
// entries scoring at least entry limit - 1 (AdelaiDet's kthvalue cut), and kept[0] (when kept is not null)
// counts every entry of the whole ranking that rule keeps, so a caller can tell when k slots were too few. One block.
extern "C" __global__ void candidates_take_f32(const int64_t* order, const float* scores, int n, int k, int limit, int per_row,
    int64_t* index, int64_t* select, float* column, int64_t* row, int64_t* count, int64_t* kept)
{
    __shared__ unsigned int passed, wanted;
    if (threadIdx.x == 0) passed = wanted = 0u;
    __syncthreads();
    // Entries from `limit` on pass only when they tie with entry limit - 1: a descending ranking cannot exceed it.
    int64_t last = limit >= 1 && limit <= n ? order[limit - 1] : (int64_t)-1;
    float cut = last >= 0 ? scores[last] : NS_INFINITY;
    int span = kept != 0 && n > k ? n : k;
    for (int i = threadIdx.x; i < span; i += blockDim.x) {
        int64_t p = i < n ? order[i] : (int64_t)-1;
        bool ok = p >= 0 && scores[p] > -NS_INFINITY && (i < limit || scores[p] >= cut);
        if (ok && kept != 0) atomicAdd(&wanted, 1u);
        if (i >= k) continue;
        int c = ok ? (int)(p % per_row) : 0;
        index[i] = ok ? p : (int64_t)-1;
        select[i] = (int64_t)i * per_row + c;
        column[i] = (float)c;
        row[i] = ok ? p / per_row : (int64_t)-1;
        if (ok) atomicAdd(&passed, 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        count[0] = (int64_t)passed;
        if (kept != 0) kept[0] = (int64_t)wanted;
    }
}
