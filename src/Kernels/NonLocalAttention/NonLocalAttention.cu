#include "nativeseg.cuh"

// Attention core of the non-local block, one block per (RoI, tile of 32 queries). Everything is
// channel-major as the 1x1 convolutions leave it: q, k [dk, n] and v [dv, n] per RoI, `qk_stride` and
// `v_stride` floats from one RoI to the next (so they may be slices of one stacked projection);
// out [rois, dv, n].
// The tile's 32 x n scores stay in dynamic shared memory from Q.K^T through the softmax to the
// product with V, so the n x n attention matrix never touches global memory.
//
// Shared layout (floats): scores [32][ld] (ld odd, so the 16 rows read together in the V phase fall
// in distinct banks), the inverse row sums [32], then one staging area reused by both phases.
#define NL_THREADS 256
#define NL_QUERIES 32
#define NL_KEY_BLOCK 224     // 32 lanes x 7 keys each in the score phase
#define NL_KEY_CHUNK 16      // channels of Q and K staged at a time
#define NL_VALUE_CHANNELS 64 // output channels per pass of the V phase
#define NL_VALUE_KEYS 32     // keys of V staged at a time

extern "C" __global__ void __launch_bounds__(NL_THREADS) nonlocal_attention_f32(
    const float* q, const float* k, const float* v, float* out,
    int64_t rois, int64_t qk_stride, int64_t v_stride, int n, int dk, int dv, float scale, int ld)
{
    NS_DYNAMIC_SHARED(float, shared);
    float* scores = shared;
    float* inverse_sums = scores + NL_QUERIES * ld;
    float* stage = inverse_sums + NL_QUERIES;
    float* q_stage = stage;                              // [NL_KEY_CHUNK][NL_QUERIES]
    float* k_stage = stage + NL_KEY_CHUNK * NL_QUERIES;  // [NL_KEY_CHUNK][NL_KEY_BLOCK]
    float* v_stage = stage;                              // [NL_VALUE_CHANNELS][NL_VALUE_KEYS]

    const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    const int tiles = (n + NL_QUERIES - 1) / NL_QUERIES;
    for (int64_t block = blockIdx.x; block < rois * tiles; block += gridDim.x) {
        const int64_t roi = block / tiles;
        const int q0 = (int)(block % tiles) * NL_QUERIES;
        const float* qr = q + roi * qk_stride;
        const float* kr = k + roi * qk_stride;
        const float* vr = v + roi * v_stride;
        float* outr = out + roi * dv * n;

        // Scores: each warp owns 4 query rows, each lane keys lane + 32u of the key block.
        for (int kb = 0; kb < n; kb += NL_KEY_BLOCK) {
            float acc[4][7];
            for (int a = 0; a < 4; a++)
                for (int u = 0; u < 7; u++) acc[a][u] = 0.0f;
            for (int c0 = 0; c0 < dk; c0 += NL_KEY_CHUNK) {
                for (int i = t; i < NL_KEY_CHUNK * NL_QUERIES; i += NL_THREADS) {
                    int c = c0 + i / NL_QUERIES, qi = q0 + i % NL_QUERIES;
                    q_stage[i] = c < dk && qi < n ? qr[(int64_t)c * n + qi] : 0.0f;
                }
                for (int i = t; i < NL_KEY_CHUNK * NL_KEY_BLOCK; i += NL_THREADS) {
                    int c = c0 + i / NL_KEY_BLOCK, j = kb + i % NL_KEY_BLOCK;
                    k_stage[i] = c < dk && j < n ? kr[(int64_t)c * n + j] : 0.0f;
                }
                __syncthreads();
                for (int c = 0; c < NL_KEY_CHUNK; c++) {
                    float qv[4], kv[7];
                    for (int a = 0; a < 4; a++) qv[a] = q_stage[c * NL_QUERIES + warp * 4 + a];
                    for (int u = 0; u < 7; u++) kv[u] = k_stage[c * NL_KEY_BLOCK + lane + 32 * u];
                    for (int a = 0; a < 4; a++)
                        for (int u = 0; u < 7; u++) acc[a][u] = fmaf(qv[a], kv[u], acc[a][u]);
                }
                __syncthreads();
            }
            for (int a = 0; a < 4; a++)
                for (int u = 0; u < 7; u++) {
                    int j = kb + lane + 32 * u;
                    if (j < n) scores[(warp * 4 + a) * ld + j] = acc[a][u] * scale;
                }
        }
        __syncthreads();

        // Softmax over keys, one warp per row. The rows keep exp(s - max); the 1/sum is applied to
        // the output instead of to all n entries. Rows past n hold finite zeros and are never stored.
        for (int a = 0; a < 4; a++) {
            float* row = scores + (warp * 4 + a) * ld;
            float m = -NS_INFINITY;
            for (int j = lane; j < n; j += 32) m = fmaxf(m, row[j]);
            for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
            float s = 0.0f;
            for (int j = lane; j < n; j += 32) {
                float e = expf(row[j] - m);
                row[j] = e;
                s += e;
            }
            for (int offset = 16; offset > 0; offset >>= 1) s += __shfl_xor_sync(0xffffffffu, s, offset);
            if (lane == 0) inverse_sums[warp * 4 + a] = 1.0f / s;
        }
        __syncthreads();

        // out[c][i] = sum_j p[i][j] v[c][j]: thread owns queries qa, qa + 16 and channels cb + 16u.
        const int qa = t & 15, cb = t >> 4;
        for (int c0 = 0; c0 < dv; c0 += NL_VALUE_CHANNELS) {
            float acc[2][4];
            for (int a = 0; a < 2; a++)
                for (int u = 0; u < 4; u++) acc[a][u] = 0.0f;
            for (int j0 = 0; j0 < n; j0 += NL_VALUE_KEYS) {
                for (int i = t; i < NL_VALUE_CHANNELS * NL_VALUE_KEYS; i += NL_THREADS) {
                    int c = c0 + i / NL_VALUE_KEYS, j = j0 + i % NL_VALUE_KEYS;
                    v_stage[i] = c < dv && j < n ? vr[(int64_t)c * n + j] : 0.0f;
                }
                __syncthreads();
                const int keys = min(NL_VALUE_KEYS, n - j0);
                for (int jj = 0; jj < keys; jj++) {
                    float p0 = scores[qa * ld + j0 + jj], p1 = scores[(qa + 16) * ld + j0 + jj];
                    for (int u = 0; u < 4; u++) {
                        float vv = v_stage[(cb + 16 * u) * NL_VALUE_KEYS + jj];
                        acc[0][u] = fmaf(p0, vv, acc[0][u]);
                        acc[1][u] = fmaf(p1, vv, acc[1][u]);
                    }
                }
                __syncthreads();
            }
            for (int a = 0; a < 2; a++) {
                int qi = q0 + qa + 16 * a;
                if (qi >= n) continue;
                float inv = inverse_sums[qa + 16 * a];
                for (int u = 0; u < 4; u++) {
                    int c = c0 + cb + 16 * u;
                    if (c < dv) outr[(int64_t)c * n + qi] = acc[a][u] * inv;
                }
            }
        }
        // The next tile overwrites scores and inverse sums that this one's last readers may still use.
        __syncthreads();
    }
}
