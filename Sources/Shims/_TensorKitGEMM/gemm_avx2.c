// TensorKit's AVX2/FMA SGEMM over an A packed once (see include/_TensorKitGEMM.h): the products of
// frozen Winograd filters on x86-64 CPUs without AVX-512, where OpenBLAS would pack the same
// filters again on every call. At batch 1 those products are narrow (14-56 columns) and that
// packing, which streams the whole filter bank through the cache once more, cost as much as the
// multiplications.
//
// Structure: A is packed into 6-row panels, K-major (`a[k][r]`). For each block of up to 128
// columns and 256 rows (depth) of B, each panel runs a 6 x 16 micro-kernel over 16-column strips
// of B read straight from memory (no packing of B: the block, at most 256 x 128 floats, stays in
// L2 while the panels' 6 x 256 slices stream through it; deeper products, such as im2col's
// K = 9 C, add each depth block's sums into C). The kernel keeps its
// 6 x 16 tile of C in 12 YMM registers; one B row of the strip is two loads, each A value one
// broadcast, 12 FMAs per k. Edge columns use masked loads and stores; edge rows compute on the
// panel's zero padding and store only the rows that exist.
//
// x86-64 only, behind a target attribute and `tkgemm_avx2_available()`; elsewhere the product is
// plain scalar C with the same contract (and `tkgemm_avx2_available()` returns 0).

#include "_TensorKitGEMM.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { AMR = 6, ANR = 16, ANB = 128, AKC = 256 };

size_t tkgemm_avx2_packed_a_size(ptrdiff_t m, ptrdiff_t k) { return (size_t)((m + AMR - 1) / AMR * AMR * k); }

// Columns kk0 ..< k of one panel (rows p ..< p + 6, zero past m), one value at a time.
static void pack_panel_tail(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, ptrdiff_t p, ptrdiff_t kk0,
                            float *panel) {
    for (ptrdiff_t kk = kk0; kk < k; ++kk)
        for (int r = 0; r < AMR; ++r) panel[kk * AMR + r] = p + r < m ? a[(p + r) * lda + kk] : 0.0f;
}

#if defined(__x86_64__)
int tkgemm_avx2_available(void);
// Full panels eight columns at a time: six row loads, an 8 x 8 transpose (rows 6 and 7 zero),
// and eight 8-float stores 6 floats apart, each overwriting the last one's two spare lanes; the
// eighth keeps to its 6 (a masked store), so nothing past the block is touched.
__attribute__((target("avx2,fma"))) static void pack_panel_avx2(ptrdiff_t k, const float *a, ptrdiff_t lda,
                                                                  float *panel, ptrdiff_t *done) {
    ptrdiff_t kk = 0;
    __m256 zero = _mm256_setzero_ps();
    __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    for (; kk + 8 <= k; kk += 8) {
        __m256 r[8];
        for (int i = 0; i < AMR; ++i) r[i] = _mm256_loadu_ps(a + i * lda + kk);
        r[6] = r[7] = zero;
        __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
        __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
        __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        // Column j of the block: rows 0-3 from u(j mod 4) low/high lane, rows 4-7 from u(4 + ...).
        __m256 col[8] = {
            _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
            _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
            _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
            _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31),
        };
        float *out = panel + kk * AMR;
        for (int j = 0; j < 7; ++j) _mm256_storeu_ps(out + j * AMR, col[j]);
        _mm256_maskstore_ps(out + 7 * AMR, six, col[7]);
    }
    *done = kk;
}
#endif

void tkgemm_avx2_pack_a(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, float *packed) {
    for (ptrdiff_t p = 0; p < m; p += AMR) {
        float *panel = packed + p * k;
        ptrdiff_t kk0 = 0;
#if defined(__x86_64__)
        if (p + AMR <= m && tkgemm_avx2_available()) pack_panel_avx2(k, a + p * lda, lda, panel, &kk0);
#endif
        pack_panel_tail(m, k, a, lda, p, kk0, panel);
    }
}

#if defined(__x86_64__)
#define TK_AVX2 __attribute__((target("avx2,fma")))

int tkgemm_avx2_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

TK_AVX2 static inline __m256i column_mask(ptrdiff_t lanes) {
    int n = lanes <= 0 ? 0 : lanes >= 8 ? 8 : (int)lanes;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// C[mr x nr] = panel (6 x k) * B[k x nr] (+ beta * C unless beta == 0, when C is not read).
TK_AVX2 static inline __attribute__((always_inline)) void kernel_6x16(ptrdiff_t k, const float *pa, const float *b,
                                                                     ptrdiff_t ldb, float *c, ptrdiff_t ldc, int mr,
                                                                     ptrdiff_t nr, float beta) {
    __m256 acc[AMR][2];
    for (int r = 0; r < AMR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    __m256i m0 = column_mask(nr), m1 = column_mask(nr - 8);
    for (ptrdiff_t kk = 0; kk < k; ++kk) {
        const float *row = b + kk * ldb;
        __m256 b0, b1;
        if (nr == ANR) {
            b0 = _mm256_loadu_ps(row);
            b1 = _mm256_loadu_ps(row + 8);
        } else {
            b0 = _mm256_maskload_ps(row, m0);
            b1 = _mm256_maskload_ps(row + 8, m1);
        }
        const float *a = pa + kk * AMR;
        for (int r = 0; r < AMR; ++r) {
            __m256 ar = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    __m256 vb = _mm256_set1_ps(beta);
    for (int r = 0; r < mr; ++r) {
        float *out = c + r * ldc;
        if (nr == ANR) {
            if (beta != 0.0f) {
                acc[r][0] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out), acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out + 8), acc[r][1]);
            }
            _mm256_storeu_ps(out, acc[r][0]);
            _mm256_storeu_ps(out + 8, acc[r][1]);
        } else {
            if (beta != 0.0f) {
                acc[r][0] = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out, m0), acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out + 8, m1), acc[r][1]);
            }
            _mm256_maskstore_ps(out, m0, acc[r][0]);
            _mm256_maskstore_ps(out + 8, m1, acc[r][1]);
        }
    }
}

TK_AVX2 void tkgemm_avx2_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                        const float *packed, const float *b, ptrdiff_t ldb, float beta, float *c,
                                        ptrdiff_t ldc) {
    (void)m_total;
    for (ptrdiff_t jb = 0; jb < n; jb += ANB) {
        ptrdiff_t nb = n - jb < ANB ? n - jb : ANB;
        for (ptrdiff_t k0 = 0; k0 < k; k0 += AKC) {
            ptrdiff_t kc = k - k0 < AKC ? k - k0 : AKC;
            float block_beta = k0 == 0 ? beta : 1.0f;
            for (ptrdiff_t p = 0; p < m; p += AMR) {
                const float *pa = packed + (row0 + p) * k + k0 * AMR;
                int mr = m - p < AMR ? (int)(m - p) : AMR;
                for (ptrdiff_t j = jb; j < jb + nb; j += ANR) {
                    ptrdiff_t nr = jb + nb - j < ANR ? jb + nb - j : ANR;
                    kernel_6x16(kc, pa, b + k0 * ldb + j, ldb, c + p * ldc + j, ldc, mr, nr, block_beta);
                }
            }
        }
    }
}

#else

int tkgemm_avx2_available(void) { return 0; }

void tkgemm_avx2_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                const float *packed, const float *b, ptrdiff_t ldb, float beta, float *c,
                                ptrdiff_t ldc) {
    (void)m_total;
    for (ptrdiff_t i = 0; i < m; ++i) {
        const float *panel = packed + (row0 + i) / AMR * AMR * k;
        int r = (int)((row0 + i) % AMR);
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t kk = 0; kk < k; ++kk) sum += panel[kk * AMR + r] * b[kk * ldb + j];
            c[i * ldc + j] = beta == 0.0f ? sum : sum + beta * c[i * ldc + j];
        }
    }
}
#endif
