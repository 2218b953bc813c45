// TensorKit's AVX2/FMA SGEMM (see include/_TensorKitGEMM.h), for x86-64 CPUs without AVX-512
// (AMD Zen 2 and 3, Intel before Ice Lake): the products of Winograd filters with an A packed
// once per call or per frozen layer (OpenBLAS would pack the same filters again on every call: at
// batch 1 those products are narrow, 14-56 columns, and that packing cost as much as the
// multiplications), and every other product, with op(B) packed per call and A read in place
// unless it is transposed.
//
// Structure (Goto/BLIS, as gemm.c for AVX-512): for each K slice of at most 256 and each block of
// at most 192 columns, op(B) is packed into 16-column strips (`strip[k * 16 + j]`, the block
// staying in L2), and a 6 x 16 micro-kernel runs every six rows of A (6 KiB a slice, in L1)
// against every strip. A comes in 6-row panels, K-major (`panel[k * 6 + r]`: packed once, or per
// call when transposed), or as six rows of a row-major matrix read where it lies (an untransposed
// A of a one-off product: the weight gradients' dM, im2col's filters; copying it first cost
// more than the six row streams do). The kernel keeps its tile of C in 12 YMM registers: per k,
// two aligned strip loads, six broadcasts, twelve FMAs. Packed strips turn B's loads into
// unit-stride streams the prefetcher follows and are zero-padded, so only stores are masked.
// Deeper products (im2col's K = 9 C, weight gradients' K = tiles) add each slice into C.
//
// x86-64 only, behind a target attribute and `tkgemm_avx2_available()`; elsewhere the products
// are plain scalar C with the same contracts (and `tkgemm_avx2_available()` returns 0).

#include "_TensorKitGEMM.h"

#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { AMR = 6, ANR = 16 };

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
    __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    for (; kk + 8 <= k; kk += 8) {
        __m256 r[8], col[8];
        for (int i = 0; i < AMR; ++i) r[i] = _mm256_loadu_ps(a + i * lda + kk);
        r[6] = r[7] = _mm256_setzero_ps();
        tkgemm_transpose8x8_registers(r, col);
        float *out = panel + kk * AMR;
        for (int j = 0; j < 7; ++j) _mm256_storeu_ps(out + j * AMR, col[j]);
        _mm256_maskstore_ps(out + 7 * AMR, six, col[7]);
    }
    *done = kk;
}

#endif

// Rows row0 ..< row0 + m of C = A * B + beta * C, A packed by `tkgemm_avx2_pack_a`, one dot
// product at a time: the whole product off x86-64, and the fallback when there is no scratch
// for packing B.
static void packed_a_product_scalar_avx2(ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *packed,
                                         const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
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

// MARK: Packing B

// Columns j0 ..< j0 + nr (nr <= 16) of op(B)'s rows pc ..< pc + kc as one strip,
// strip[kk * 16 + j], zero past nr: the layout the micro-kernel reads with two aligned loads per
// k. B not transposed: rows of 16 contiguous floats. B transposed (op(B)[kk][j] = b[j * ldb + kk]):
// 8 x 8 transposes of eight stored rows at a time.
TK_AVX2 static void pack_b_strip(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t pc, ptrdiff_t kc,
                                 ptrdiff_t j0, ptrdiff_t nr, float *strip) {
    if (!trans_b) {
        const float *src = b + pc * ldb + j0;
        if (nr == ANR) {
            for (ptrdiff_t kk = 0; kk < kc; ++kk) {
                _mm256_store_ps(strip + kk * ANR, _mm256_loadu_ps(src + kk * ldb));
                _mm256_store_ps(strip + kk * ANR + 8, _mm256_loadu_ps(src + kk * ldb + 8));
            }
        } else {
            __m256i m0 = column_mask(nr), m1 = column_mask(nr - 8);
            for (ptrdiff_t kk = 0; kk < kc; ++kk) {
                _mm256_store_ps(strip + kk * ANR, _mm256_maskload_ps(src + kk * ldb, m0));
                _mm256_store_ps(strip + kk * ANR + 8, _mm256_maskload_ps(src + kk * ldb + 8, m1));
            }
        }
        return;
    }
    const float *src = b + j0 * ldb + pc;
    for (ptrdiff_t half = 0; half < ANR; half += 8) {
        ptrdiff_t rows = nr - half < 0 ? 0 : nr - half > 8 ? 8 : nr - half;
        ptrdiff_t kk = 0;
        if (rows == 8) {
            for (; kk + 8 <= kc; kk += 8) tkgemm_transpose8x8(src + half * ldb + kk, ldb, strip + kk * ANR + half, ANR);
        }
        for (; kk < kc; ++kk)
            for (ptrdiff_t j = 0; j < 8; ++j) strip[kk * ANR + half + j] = j < rows ? src[(half + j) * ldb + kk] : 0.0f;
    }
}

// MARK: Packing A

// Rows p ..< p + mr (mr <= 6) of a transposed op(A) (op(A)[r][kk] = a[kk * lda + r]), columns
// pc ..< pc + kc, as one panel panel[kk * 6 + r]: six contiguous floats per k. (An untransposed
// A is read in place by the kernel.)
TK_AVX2 static void pack_a_transposed_panel(const float *a, ptrdiff_t lda, ptrdiff_t p, int mr, ptrdiff_t pc,
                                            ptrdiff_t kc, float *panel) {
    __m256i six = column_mask(mr);
    const float *src = a + pc * lda + p;
    for (ptrdiff_t kk = 0; kk < kc; ++kk) {
        // Two spare lanes are written and then overwritten by the next k's six (the panel has
        // two floats of slack past its end: see `pack_scratch_a_floats`).
        _mm256_storeu_ps(panel + kk * AMR, _mm256_maskload_ps(src + kk * lda, six));
    }
}

// MARK: Micro-kernel

// C[mr x nr] = alpha * A (6 x kc) * strip (kc x 16) + beta * C (C not read when beta == 0).
// A is a packed panel (element (r, k) at pa[k * 6 + r]) or, `in_place`, six rows of a row-major
// matrix (at pa[r * lda + k], rows past mr reading row mr - 1, whose products are not stored).
// Per k: two aligned loads of the strip, six broadcasts from A and twelve FMAs into twelve YMM
// accumulators, in the same order either way. Every loop over rows has a constant trip count,
// so that the accumulators stay in registers; rows past mr and columns past nr are not stored.
TK_AVX2 static inline __attribute__((always_inline)) void kernel_6x16(ptrdiff_t kc, const float *restrict pa,
                                                                     const int in_place, ptrdiff_t lda,
                                                                     const float *restrict pb,
                                                                     float *c, ptrdiff_t ldc, int mr, ptrdiff_t nr,
                                                                     float alpha, float beta,
                                                                     const int stream_a) {
    __m256 acc[AMR][2];
    const float *row[AMR];
    const ptrdiff_t a_step = in_place ? 1 : AMR;
#pragma clang loop unroll(full)
    for (int r = 0; r < AMR; ++r) {
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        row[r] = in_place ? pa + (r < mr ? r : mr - 1) * lda : pa + r;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < AMR; ++r) _mm_prefetch((const char *)(c + (r < mr ? r : 0) * ldc), _MM_HINT_T0);
#pragma clang loop unroll_count(2)
    for (ptrdiff_t kk = 0; kk < kc; ++kk) {
        // One strip (batch 1's layer3/4 products, 14-56 columns): each panel of A is read once,
        // from memory, 24 bytes a step; ask 4 KiB ahead, about a line every other step.
        if (stream_a && (kk & 1)) _mm_prefetch((const char *)(row[0] + kk * a_step + 1024), _MM_HINT_T0);
        __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < AMR; ++r) {
            __m256 ar = _mm256_broadcast_ss(row[r] + kk * a_step);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
        pb += ANR;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256i m0 = column_mask(nr), m1 = column_mask(nr - 8);
#pragma clang loop unroll(full)
    for (int r = 0; r < AMR; ++r) {
        if (r >= mr) continue;
        float *out = c + r * ldc;
        __m256 x0 = alpha == 1.0f ? acc[r][0] : _mm256_mul_ps(va, acc[r][0]);
        __m256 x1 = alpha == 1.0f ? acc[r][1] : _mm256_mul_ps(va, acc[r][1]);
        if (nr == ANR) {
            if (beta != 0.0f) {
                x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out), x0);
                x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out + 8), x1);
            }
            _mm256_storeu_ps(out, x0);
            _mm256_storeu_ps(out + 8, x1);
        } else {
            if (beta != 0.0f) {
                x0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out, m0), x0);
                x1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(out + 8, m1), x1);
            }
            _mm256_maskstore_ps(out, m0, x0);
            _mm256_maskstore_ps(out + 8, m1, x1);
        }
    }
}

// MARK: Drivers

// Block sizes for Zen 2/3's 32 KiB L1 and 512 KiB L2: K slices of at most AKC (one 6 x AKC panel,
// 6 KiB, stays in L1 across a block's strips) and column blocks of at most ANB (AKC x ANB packed
// floats of B, 192 KiB, stay in L2 across the panels). Both are split evenly, so that no thin last
// slice or block pays for a full one.
enum { AKC = 256, ANB = 192 };

static ptrdiff_t even_split(ptrdiff_t total, ptrdiff_t most, ptrdiff_t multiple) {
    ptrdiff_t parts = (total + most - 1) / most;
    ptrdiff_t each = (total + parts - 1) / parts;
    return (each + multiple - 1) / multiple * multiple;
}

// One (k slice, column block) of C: every 6 rows of A against every strip of B's packed block.
// A in packed panels (panel i at pa_base + i * panel_stride) or, `in_place` (a constant where
// this is inlined), rows of a row-major matrix (row i at pa_base + i * lda).
TK_AVX2 static inline __attribute__((always_inline)) void block_rows(ptrdiff_t m, ptrdiff_t nb, ptrdiff_t kc,
                                                                    const float *pa_base, ptrdiff_t panel_stride,
                                                                    const int in_place, ptrdiff_t lda,
                                                                    const float *packed_b,
                                                                    float alpha, float beta, float *c,
                                                                    ptrdiff_t ldc) {
    for (ptrdiff_t p = 0; p < m; p += AMR) {
        const float *pa = in_place ? pa_base + p * lda : pa_base + p / AMR * panel_stride;
        int mr = m - p < AMR ? (int)(m - p) : AMR;
        if (nb <= ANR) {
            kernel_6x16(kc, pa, in_place, lda, packed_b, c + p * ldc, ldc, mr, nb, alpha, beta, 1);
            continue;
        }
        for (ptrdiff_t j = 0; j < nb; j += ANR) {
            ptrdiff_t nr = nb - j < ANR ? nb - j : ANR;
            kernel_6x16(kc, pa, in_place, lda, packed_b + j * kc, c + p * ldc + j, ldc, mr, nr, alpha, beta, 0);
        }
    }
}

// `block_rows` on packed panels.
TK_AVX2 static void block_product(ptrdiff_t m, ptrdiff_t nb, ptrdiff_t kc, const float *pa_base,
                                  ptrdiff_t panel_stride, const float *packed_b, float alpha, float beta, float *c,
                                  ptrdiff_t ldc) {
    block_rows(m, nb, kc, pa_base, panel_stride, 0, 0, packed_b, alpha, beta, c, ldc);
}

// `block_rows` on A's rows in place: training's operands change on every call, and
// six row streams read as fast as a packed panel, so A is not copied first.
TK_AVX2 static void block_product_rows(ptrdiff_t m, ptrdiff_t nb, ptrdiff_t kc, const float *a, ptrdiff_t lda,
                                       const float *packed_b, float alpha, float beta, float *c, ptrdiff_t ldc) {
    block_rows(m, nb, kc, a, 0, 1, lda, packed_b, alpha, beta, c, ldc);
}

TK_AVX2 static void pack_b_block(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t pc, ptrdiff_t kc,
                                 ptrdiff_t jb, ptrdiff_t nb, float *packed_b) {
    for (ptrdiff_t j = 0; j < nb; j += ANR)
        pack_b_strip(trans_b, b, ldb, pc, kc, jb + j, nb - j < ANR ? nb - j : ANR, packed_b + j * kc);
}

// Floats of scratch for one packed A slice: the panels plus the two floats of slack that
// `pack_a_transposed_panel` writes past the last one.
static size_t pack_scratch_a_floats(ptrdiff_t m, ptrdiff_t kc) { return (size_t)((m + AMR - 1) / AMR * AMR * kc + 8); }

TK_AVX2 void tkgemm_avx2_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                        const float *packed, const float *b, ptrdiff_t ldb, float beta, float *c,
                                        ptrdiff_t ldc) {
    (void)m_total;
    if (m <= 0 || n <= 0) return;
    ptrdiff_t kc_max = even_split(k, AKC, 1), nb_max = even_split(n, ANB, ANR);
    Scratch *s = tkgemm_scratch_get(8, (size_t)(kc_max * nb_max));
    if (!s) {
        packed_a_product_scalar_avx2(row0, m, n, k, packed, b, ldb, beta, c, ldc);
        return;
    }
    for (ptrdiff_t jb = 0; jb < n; jb += nb_max) {
        ptrdiff_t nb = n - jb < nb_max ? n - jb : nb_max;
        for (ptrdiff_t k0 = 0; k0 < k; k0 += kc_max) {
            ptrdiff_t kc = k - k0 < kc_max ? k - k0 : kc_max;
            pack_b_block(0, b, ldb, k0, kc, jb, nb, s->b);
            // Panel i of the rows at row0 (a multiple of 6) holds all of K: slice k0 starts 6 * k0 in.
            block_product(m, nb, kc, packed + row0 * k + k0 * AMR, AMR * k, s->b, 1.0f, k0 == 0 ? beta : 1.0f,
                          c + jb, ldc);
        }
    }
}

TK_AVX2 int tkgemm_avx2_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                              const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                              ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return 0;
    ptrdiff_t kc_max = even_split(k, AKC, 1), nb_max = even_split(n, ANB, ANR);
    Scratch *s = tkgemm_scratch_get(trans_a ? pack_scratch_a_floats(m, kc_max) : 8, (size_t)(kc_max * nb_max));
    if (!s) return 1;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc_max) {
        ptrdiff_t kc = k - k0 < kc_max ? k - k0 : kc_max;
        if (!trans_a) {
            for (ptrdiff_t jb = 0; jb < n; jb += nb_max) {
                ptrdiff_t nb = n - jb < nb_max ? n - jb : nb_max;
                pack_b_block(trans_b, b, ldb, k0, kc, jb, nb, s->b);
                block_product_rows(m, nb, kc, a + k0, lda, s->b, alpha, k0 == 0 ? beta : 1.0f, c + jb, ldc);
            }
            continue;
        }
        for (ptrdiff_t p = 0; p < m; p += AMR)
            pack_a_transposed_panel(a, lda, p, m - p < AMR ? (int)(m - p) : AMR, k0, kc, s->a + p * kc);
        for (ptrdiff_t jb = 0; jb < n; jb += nb_max) {
            ptrdiff_t nb = n - jb < nb_max ? n - jb : nb_max;
            pack_b_block(trans_b, b, ldb, k0, kc, jb, nb, s->b);
            block_product(m, nb, kc, s->a, AMR * kc, s->b, alpha, k0 == 0 ? beta : 1.0f, c + jb, ldc);
        }
    }
    return 0;
}

#else

int tkgemm_avx2_available(void) { return 0; }

void tkgemm_avx2_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                const float *packed, const float *b, ptrdiff_t ldb, float beta, float *c,
                                ptrdiff_t ldc) {
    (void)m_total;
    packed_a_product_scalar_avx2(row0, m, n, k, packed, b, ldb, beta, c, ldc);
}

int tkgemm_avx2_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                      ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    return tkgemm_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif
