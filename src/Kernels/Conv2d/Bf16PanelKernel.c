/*
 * The bf16 GEMM micro-kernel of the CPU's `--precision bf16` path, and the conversion of its operands.
 * Native because .NET 10 has no AVX512_BF16 intrinsics: VDPBF16PS multiplies pairs of bf16 values and adds both
 * products to a float lane, VCVTNE2PS2BF16 rounds floats to bf16 (round to nearest even, denormals to zero).
 *
 * Operands are "pair-interleaved": a k x n float matrix becomes ceil(k/2) rows of n 32-bit lanes, lane j of pair
 * row p holding bf16(m[2p][j]) in its low half and bf16(m[2p+1][j]) in its high half (zero past an odd k). One
 * VDPBF16PS then adds a[2p]*b[2p] + a[2p+1]*b[2p+1] to each float accumulator.
 * Built by NativeSeg.Kernels.csproj into libnativeseg_bf16.so; Bf16PanelKernel.cs binds it.
 */
#include <immintrin.h>
#include <stdint.h>

#define MR 8
#define NR 48

/*
 * dst[p][j] = pair(bf16(src[2p][j]), bf16(src[2p+1][j])) for p < ceil(k/2), j < n: the rows of src are ld floats apart,
 * the pair rows of dst n lanes apart.
 */
void nativeseg_bf16_pack_pairs(const float *src, long ld, int k, int n, uint32_t *dst)
{
    /* Lane j of a converted pair of rows sits at 16-bit positions j (even row) and 16 + j (odd row); this order interleaves them. */
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int p = 0; p < (k + 1) / 2; p++) {
        const float *even = src + (long)2 * p * ld;
        const float *odd = even + ld;
        int has_odd = 2 * p + 1 < k;
        uint32_t *out = dst + (long)p * n;
        for (int j = 0; j < n; j += 16) {
            int width = n - j < 16 ? n - j : 16;
            __mmask16 lanes = (__mmask16)((1u << width) - 1);
            __m512 e = _mm512_maskz_loadu_ps(lanes, even + j);
            __m512 o = has_odd ? _mm512_maskz_loadu_ps(lanes, odd + j) : _mm512_setzero_ps();
            __m512i both = (__m512i)_mm512_cvtne2ps_pbh(o, e);
            _mm512_mask_storeu_epi32(out + j, lanes, _mm512_permutexvar_epi16(interleave, both));
        }
    }
}

static inline __m512 epilogue(__m512 v, const float *bias, const float *residual, int row, int relu)
{
    if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[row]));
    /* The residual after the bias, as a separate add would come after the conv, so the join is the same to the bit. */
    if (residual) v = _mm512_add_ps(v, _mm512_loadu_ps(residual));
    /* vmaxps returns its second operand when either is NaN, so NaNs pass through as torch's relu does. */
    return relu ? _mm512_max_ps(_mm512_setzero_ps(), v) : v;
}

/*
 * c[8 x 48] (rows ldc floats apart) = a^T b + bias + residual, then ReLU, for pair-interleaved a [pairs][8] and
 * b [pairs][48]: 24 float accumulators, three loads of b and eight broadcast pairs of a per pair row. bias and residual
 * (8 x 48, rows ldc floats apart, as c) may be NULL.
 */
void nativeseg_bf16_panel(int pairs, const uint32_t *a, const uint32_t *b, float *c, long ldc, const float *bias, const float *residual, int relu)
{
    __m512 acc[MR][3];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; p++, a += MR, b += NR) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
        __m512bh b2 = (__m512bh)_mm512_loadu_si512(b + 32);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
            acc[i][2] = _mm512_dpbf16_ps(acc[i][2], ai, b2);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        float *row = c + (long)i * ldc;
        const float *r = residual ? residual + (long)i * ldc : NULL;
        _mm512_storeu_ps(row, epilogue(acc[i][0], bias, r, i, relu));
        _mm512_storeu_ps(row + 16, epilogue(acc[i][1], bias, r ? r + 16 : NULL, i, relu));
        _mm512_storeu_ps(row + 32, epilogue(acc[i][2], bias, r ? r + 32 : NULL, i, relu));
    }
}
