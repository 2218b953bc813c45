// TensorKit's GEMM with bfloat16 operands and float32 sums (see include/_TensorKitGEMM.h).
//
// The loops are gemm.c's (Goto/BLIS blocking, 8 x 48 register tile of float32 accumulators);
// what differs is the packed layout and the instruction. `vdpbf16ps` multiplies pairs of
// bfloat16 along k and adds both products to one float32 lane:
//
//   acc[j] += a[2p] * b[2p][j] + a[2p+1] * b[2p+1][j]
//
// so the panels hold k in pairs: a B panel is, for each pair p, the 48 columns' (k = 2p, 2p+1)
// values side by side (48 x 32 bits = three ZMM registers), an A panel for each pair the 8 rows'
// pairs (8 x 32 bits, broadcast one at a time). A K slice with an odd depth gets a zero partner.
// Operands are rounded to bfloat16 while they are packed (`vcvtne2ps2bf16`), so callers hand in
// float32 matrices, and C is float32.
//
// Twice the multiplies per instruction of the float32 FMA, and half the bytes per packed
// operand: the K slices are twice as deep (512) for the same cache footprint.
//
// x86-64 with AVX512_BF16 only, checked at run time by `tkgemm_bf16_available()`; other
// architectures get scalar definitions with the same contracts at the end of this file.

#include "_TensorKitGEMM.h"

#include <stdint.h>
#include <string.h>

#include "gemm_internal.h"

#if defined(__x86_64__)
#define TK_BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512bf16,avx2,fma")))
#endif

// K slices of at most this depth (even), in elements; blocks of C as in gemm.c.
static const ptrdiff_t kc_block_bf16 = 512;
#if defined(__x86_64__)
static const ptrdiff_t nc_block_bf16 = 576;  // multiple of NR
static const ptrdiff_t mc_block_bf16 = 256;  // multiple of MR
#endif

// Even slices of K, each at most kc_block_bf16 deep and all but the last of even depth, so
// every slice but the last starts a whole pair.
static void k_slicing_bf16(ptrdiff_t k, ptrdiff_t *kc_max) {
    ptrdiff_t slices = (k + kc_block_bf16 - 1) / kc_block_bf16;
    ptrdiff_t kc = (k + slices - 1) / slices;
    *kc_max = (kc + 1) & ~(ptrdiff_t)1;
}

// MARK: - Rounding (every architecture)

// The bfloat16 nearest to x (ties to even), as vcvtneps2bf16 rounds: NaN stays a (quiet) NaN,
// subnormal inputs become zero of the same sign.
static inline uint16_t bf16_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    if ((u & 0x7f800000u) == 0) u &= 0x80000000u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf16_value(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void tkgemm_round_bf16(const float *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = bf16_value(bf16_bits(src[i]));
}

ptrdiff_t tkgemm_bf16_panel_width(void) { return NR; }

ptrdiff_t tkgemm_bf16_slice_depth(ptrdiff_t k) {
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    return kc_max;
}

// Both packed layouts: panels of the padded width, k rounded up to pairs (every slice but
// the last is of even depth).
size_t tkgemm_packed_b_bf16_size(ptrdiff_t k, ptrdiff_t n) {
    if (k <= 0 || n <= 0) return 0;
    return (size_t)((n + NR - 1) / NR * NR) * (size_t)((k + 1) & ~(ptrdiff_t)1);
}

size_t tkgemm_packed_a_bf16_size(ptrdiff_t m, ptrdiff_t k) {
    if (m <= 0 || k <= 0) return 0;
    return (size_t)((m + MR - 1) / MR * MR) * (size_t)((k + 1) & ~(ptrdiff_t)1);
}

// The packed element (row or column `r` of a panel `width` wide, depth p) in a panel of pairs.
static inline size_t pair_index(ptrdiff_t p, int r, int width) {
    return ((size_t)(p >> 1) * (size_t)width + (size_t)r) * 2 + (size_t)(p & 1);
}

// Element (r, p) of a packed bfloat16 operand (`rows` rows or columns in panels `width` wide, depth
// k): A (width MR) and B (width NR) share the layout. One element at a time, for the scalar paths.
static float packed_value(const uint16_t *packed, ptrdiff_t rows, int width, ptrdiff_t k, ptrdiff_t r, ptrdiff_t p) {
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    ptrdiff_t pc = p / kc_max * kc_max, kc = k - pc < kc_max ? k - pc : kc_max;
    ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1, padded = (rows + width - 1) / width * width;
    return bf16_value(packed[pc * padded + (r / width * width) * kcp + pair_index(p - pc, (int)(r % width), width)]);
}

// C rows row0 ..< row0 + m from an A packed by tkgemm_pack_a_bf16 (m_total rows) and op(B)
// rounded on the fly, one dot product at a time (beta == 0: C not read). The whole product off
// x86-64, and the fallback when there is no scratch for packing B.
static void packed_a_bf16_product_scalar(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                                         ptrdiff_t k, float alpha, const uint16_t *packed_a, const float *b,
                                         ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; ++p) {
                float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += packed_value(packed_a, m_total, MR, k, row0 + i, p) * bf16_value(bf16_bits(bv));
            }
            float *cij = c + i * ldc + j;
            *cij = alpha * sum + (beta != 0.0f ? beta * *cij : 0.0f);
        }
    }
}

// C = A B^T + beta C from bfloat16 rows (A m x k, B n x k), one dot product at a time: the
// whole product off x86-64, and the fallback when there is no scratch for packing.
static void nt_rows_product_scalar(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint16_t *a, ptrdiff_t lda,
                                   const uint16_t *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; ++p) sum += bf16_value(a[i * lda + p]) * bf16_value(b[j * ldb + p]);
            float *cij = c + i * ldc + j;
            *cij = sum + (beta != 0.0f ? beta * *cij : 0.0f);
        }
    }
}

#if defined(__x86_64__)
int tkgemm_bf16_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = tkgemm_available() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
    }
    return cached;
}

// MARK: - Packing

// Lane i of the result is bf16 lane i / 2 of `lo` for even i and of `hi` for odd i: the pairs
// (lo[j], hi[j]) of two rows of k, for the first 16 columns.
TK_BF16 TK_INLINE __m512i interleave_rows(__m512 lo, __m512 hi) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                           21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(order, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

// Panels from operands whose panel elements are contiguous across the panel (element (r, p) at
// src[p * ld + r]): B not transposed (width NR) and A transposed (width MR). Rows p and p + 1
// are rounded together and interleaved into pairs.
TK_BF16 static void pack_pairs_across(const float *src, ptrdiff_t ld, int count, ptrdiff_t kc, uint16_t *dst,
                                      int width) {
    for (ptrdiff_t p = 0; p < kc; p += 2) {
        const float *r0 = src + p * ld, *r1 = r0 + ld;
        int has_second = p + 1 < kc;
        uint16_t *d = dst + (size_t)p * (size_t)width;
        for (int v = 0; v < width; v += 16) {
            int left = count - v;
            __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
            __m512 lo = _mm512_maskz_loadu_ps(m, r0 + v);
            __m512 hi = has_second ? _mm512_maskz_loadu_ps(m, r1 + v) : _mm512_setzero_ps();
            __m512i pairs = interleave_rows(lo, hi);
            if (width - v >= 16) {
                _mm512_storeu_si512((void *)(d + 2 * v), pairs);
            } else {  // an 8-wide A panel: the first 8 pairs
                _mm256_storeu_si256((__m256i *)(d + 2 * v), _mm512_castsi512_si256(pairs));
            }
        }
    }
}

// Panels from operands contiguous along k (element (r, p) at src[r * ld + p]): A not transposed
// (width MR) and B transposed (width NR). Eight rows at a time, 32 k per step: each row's 32
// values become 16 pairs in order (one vector of 32-bit pairs per row), and the 8 x 16 block of
// pairs is transposed in registers so that each pair index stores its 8 rows side by side.
//
// `rows16`: the source holds bfloat16 already (`src` is then a `const uint16_t *`, `ld` in its
// elements), and each row's 32 values are one load, with no rounding.
TK_BF16 static inline __attribute__((always_inline)) void pack_pairs_along_from(const void *src, int rows16,
                                                                               ptrdiff_t ld, int count, ptrdiff_t kc,
                                                                               uint16_t *dst, int width) {
    ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
    if (count < width) memset(dst, 0, sizeof(uint16_t) * (size_t)kcp * (size_t)width);
    uint32_t *d32 = (uint32_t *)dst;
    for (int r0 = 0; r0 < count; r0 += 8) {
        int rows = count - r0 < 8 ? count - r0 : 8;
        for (ptrdiff_t p = 0; p < kc; p += 32) {
            ptrdiff_t left = kc - p;
            __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            __mmask16 m1 = left >= 32 ? (__mmask16)0xFFFF : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            __mmask32 m16 = left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
            __m512i x[8];
            for (int r = 0; r < 8; ++r) {
                if (r < rows && rows16) {
                    x[r] = _mm512_maskz_loadu_epi16(m16, (const uint16_t *)src + (r0 + r) * ld + p);
                } else if (r < rows) {
                    const float *row = (const float *)src + (r0 + r) * ld + p;
                    x[r] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, row + 16), _mm512_maskz_loadu_ps(m0, row));
                } else {
                    x[r] = _mm512_setzero_si512();
                }
            }
            // Within each 128-bit lane l (pairs 4l ..< 4l + 4): t = rows two by two, u = four by four.
            __m512i t[8], u[8];
            for (int q = 0; q < 4; ++q) {
                t[2 * q] = _mm512_unpacklo_epi32(x[2 * q], x[2 * q + 1]);
                t[2 * q + 1] = _mm512_unpackhi_epi32(x[2 * q], x[2 * q + 1]);
            }
            for (int h = 0; h < 2; ++h) {  // rows 0-3, 4-7
                __m512i *tt = t + 4 * h, *uu = u + 4 * h;
                uu[0] = _mm512_unpacklo_epi64(tt[0], tt[2]);  // pair 4l, 4 rows
                uu[1] = _mm512_unpackhi_epi64(tt[0], tt[2]);  // pair 4l + 1
                uu[2] = _mm512_unpacklo_epi64(tt[1], tt[3]);  // pair 4l + 2
                uu[3] = _mm512_unpackhi_epi64(tt[1], tt[3]);  // pair 4l + 3
            }
            ptrdiff_t pairs = (left + 1) / 2 < 16 ? (left + 1) / 2 : 16;
            uint32_t *d = d32 + (p / 2) * width + r0;
            for (int j = 0; j < 4; ++j) {
                // Lanes (u[j].0, u[j+4].0, u[j].1, u[j+4].1): pairs j and 4 + j, 8 rows each; then 8 + j, 12 + j.
                __m512i lo = _mm512_shuffle_i32x4(u[j], u[j + 4], 0x44), hi = _mm512_shuffle_i32x4(u[j], u[j + 4], 0xEE);
                lo = _mm512_shuffle_i32x4(lo, lo, 0xD8);
                hi = _mm512_shuffle_i32x4(hi, hi, 0xD8);
                int c[4] = {j, 4 + j, 8 + j, 12 + j};
                __m256i v[4] = {_mm512_castsi512_si256(lo), _mm512_extracti64x4_epi64(lo, 1), _mm512_castsi512_si256(hi),
                                _mm512_extracti64x4_epi64(hi, 1)};
                for (int e = 0; e < 4; ++e)
                    if (c[e] < pairs) _mm256_storeu_si256((__m256i *)(d + c[e] * width), v[e]);
            }
        }
    }
}

TK_BF16 static void pack_pairs_along(const float *src, ptrdiff_t ld, int count, ptrdiff_t kc, uint16_t *dst,
                                     int width) {
    pack_pairs_along_from(src, 0, ld, count, kc, dst, width);
}

TK_BF16 static void pack_pairs_along_rows16(const uint16_t *src, ptrdiff_t ld, int count, ptrdiff_t kc,
                                            uint16_t *dst, int width) {
    pack_pairs_along_from(src, 1, ld, count, kc, dst, width);
}

// MARK: - Micro-kernel

// C[mr x nr] (+)= alpha * Apanel^T * Bpanel over kp pairs of k, as micro_kernel_nv in gemm.c.
TK_BF16 TK_INLINE void micro_kernel_bf16_nv(ptrdiff_t kp, const uint32_t *restrict pa, const uint32_t *restrict pb,
                                            float *c, ptrdiff_t ldc, int mr, int nr, float alpha, int accumulate,
                                            const int nv) {
    __m512 acc[MR][NV];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i)
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; ++v) acc[i][v] = _mm512_setzero_ps();
    ptrdiff_t p = 0;
    if (nv == 1) {
        // One column vector (N <= 16: layer3/4 at batch 1) gives only 8 independent sums, too
        // few to hide the latency of vdpbf16ps at two per cycle: even and odd pairs go to two
        // sets of sums, added at the end.
        __m512 odd[MR];
        for (int i = 0; i < MR; ++i) odd[i] = _mm512_setzero_ps();
        for (; p + 2 <= kp; p += 2) {
            // Each step reads one 64-byte line of A, used for this product only: with so few
            // columns the filters stream from memory (batch 1), and asking 4 KiB ahead (the next
            // panel, past its end) takes 6-10% off layer2-4's products
            // (Benchmarks/winograd_b1_products.c).
            _mm_prefetch((const char *)(pa + 1024), _MM_HINT_T0);
            __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)pb);
            __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(pb + NR));
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; ++i) {
                acc[i][0] = _mm512_dpbf16_ps(acc[i][0], (__m512bh)_mm512_set1_epi32((int)pa[i]), b0);
                odd[i] = _mm512_dpbf16_ps(odd[i], (__m512bh)_mm512_set1_epi32((int)pa[MR + i]), b1);
            }
            pa += 2 * MR;
            pb += 2 * NR;
        }
        for (int i = 0; i < MR; ++i) acc[i][0] = _mm512_add_ps(acc[i][0], odd[i]);
    }
    for (; p < kp; ++p) {
        __m512bh b[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; ++v) b[v] = (__m512bh)_mm512_load_si512((const void *)(pb + 16 * v));
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; ++i) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)pa[i]);
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], a, b[v]);
        }
        pa += MR;
        pb += NR;
    }
    tkgemm_store_tile(acc, c, ldc, mr, nr, alpha, accumulate, nv);
}

TK_BF16 static void micro_kernel_bf16(ptrdiff_t kp, const uint16_t *pa, const uint16_t *pb, float *c, ptrdiff_t ldc,
                                      int mr, int nr, float alpha, int accumulate) {
    const uint32_t *a = (const uint32_t *)pa, *b = (const uint32_t *)pb;
    if (nr > 32) {
        micro_kernel_bf16_nv(kp, a, b, c, ldc, mr, nr, alpha, accumulate, 3);
    } else if (nr > 16) {
        micro_kernel_bf16_nv(kp, a, b, c, ldc, mr, nr, alpha, accumulate, 2);
    } else {
        micro_kernel_bf16_nv(kp, a, b, c, ldc, mr, nr, alpha, accumulate, 1);
    }
}

// MARK: - Driver

// One operand of the driver, as its rows (A) or columns (B) and depth k are stored: float32
// along k (element (r, p) at r * ld + p) or across it (at p * ld + r), rounded while packed; or
// bfloat16 along k (`rows16`), taken as it is.
typedef struct {
    const void *data;
    ptrdiff_t ld;
    int across, rows16;
} OperandBF16;

// Rows or columns r0 ..< r0 + count of `op`, k from pc (kc deep), into one panel `width` wide.
TK_BF16 static void pack_panel_bf16(OperandBF16 op, ptrdiff_t r0, int count, ptrdiff_t pc, ptrdiff_t kc,
                                    uint16_t *dst, int width) {
    if (op.rows16) {
        pack_pairs_along_rows16((const uint16_t *)op.data + r0 * op.ld + pc, op.ld, count, kc, dst, width);
    } else if (op.across) {
        pack_pairs_across((const float *)op.data + pc * op.ld + r0, op.ld, count, kc, dst, width);
    } else {
        pack_pairs_along((const float *)op.data + r0 * op.ld + pc, op.ld, count, kc, dst, width);
    }
}

static OperandBF16 float_operand(const float *data, ptrdiff_t ld, int across) {
    OperandBF16 op = {data, ld, across, 0};
    return op;
}

// Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels of pairs, panel jr at dst + jr * kcp.
TK_BF16 static void pack_b_block_bf16(OperandBF16 b, ptrdiff_t pc, ptrdiff_t kc, ptrdiff_t jc, ptrdiff_t nc,
                                      uint16_t *dst) {
    ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
        int cols = (int)(nc - jr < NR ? nc - jr : NR);
        pack_panel_bf16(b, jc + jr, cols, pc, kc, dst + jr * kcp, NR);
    }
}

// One MR-row panel of op(A) (rows r0 ..< r0 + rows, k from pc, kc deep) into dst.
TK_BF16 static void pack_a_panel_bf16(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t r0, int rows,
                                      ptrdiff_t pc, ptrdiff_t kc, uint16_t *dst) {
    pack_panel_bf16(float_operand(a, lda, trans_a), r0, rows, pc, kc, dst, MR);
}

// C (+)= alpha op(A) op(B) with gemm.c's loops (Goto/BLIS blocking) on operands described by
// `a` (m rows) and `b` (n columns), k deep. Returns -1, C untouched, when there is no scratch
// for the panels.
TK_BF16 static int gemm_bf16_blocks(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, OperandBF16 a, OperandBF16 b,
                                    float beta, float *c, ptrdiff_t ldc) {
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    ptrdiff_t nc_max = n < nc_block_bf16 ? (n + NR - 1) / NR * NR : nc_block_bf16;
    ptrdiff_t mc_max = m < mc_block_bf16 ? (m + MR - 1) / MR * MR : mc_block_bf16;
    // Scratch is counted in floats; two bfloat16 fit in one.
    Scratch *s = tkgemm_scratch_get((size_t)(mc_max * kc_max) / 2, (size_t)(kc_max * nc_max) / 2);
    if (!s) return -1;
    uint16_t *sa = (uint16_t *)s->a, *sb = (uint16_t *)s->b;
    int first_accumulates = beta != 0.0f;
    if (beta != 0.0f && beta != 1.0f) tkgemm_scale_c(m, n, beta, c, ldc);

    for (ptrdiff_t jc = 0; jc < n; jc += nc_block_bf16) {
        ptrdiff_t nc = n - jc < nc_block_bf16 ? n - jc : nc_block_bf16;
        for (ptrdiff_t pc = 0, slice = 0; pc < k; pc += kc_max, ++slice) {
            ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
            ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
            int accumulate = slice > 0 || first_accumulates;
            pack_b_block_bf16(b, pc, kc, jc, nc, sb);
            for (ptrdiff_t ic = 0; ic < m; ic += mc_block_bf16) {
                ptrdiff_t mc = m - ic < mc_block_bf16 ? m - ic : mc_block_bf16;
                for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                    int rows = (int)(mc - ir < MR ? mc - ir : MR);
                    pack_panel_bf16(a, ic + ir, rows, pc, kc, sa + ir * kcp, MR);
                }
                for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                    int rows = (int)(mc - ir < MR ? mc - ir : MR);
                    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                        int cols = (int)(nc - jr < NR ? nc - jr : NR);
                        micro_kernel_bf16(kcp / 2, sa + ir * kcp, sb + jr * kcp, c + (ic + ir) * ldc + jc + jr, ldc,
                                          rows, cols, alpha, accumulate);
                    }
                }
            }
        }
    }
    return 0;
}

TK_BF16 int tkgemm_sgemm_bf16(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                              const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                              ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return 0;
    // op(B)'s columns lie along k when B is transposed. Out of memory: -1, and the caller falls back.
    return gemm_bf16_blocks(m, n, k, alpha, float_operand(a, lda, trans_a), float_operand(b, ldb, !trans_b), beta, c,
                            ldc);
}

// MARK: - Operands already in bfloat16

TK_BF16 void tkgemm_sgemm_bf16_nt_rows(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint16_t *a, ptrdiff_t lda,
                                       const uint16_t *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (beta != 1.0f) tkgemm_scale_c(m, n, beta, c, ldc);
        return;
    }
    OperandBF16 rows_a = {a, lda, 0, 1}, rows_b = {b, ldb, 0, 1};
    if (gemm_bf16_blocks(m, n, k, 1.0f, rows_a, rows_b, beta, c, ldc) != 0)
        nt_rows_product_scalar(m, n, k, a, lda, b, ldb, beta, c, ldc);
}

// MARK: - Pre-packed A

TK_BF16 void tkgemm_sgemm_packed_a_bf16(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                                        ptrdiff_t k, float alpha, const uint16_t *packed_a, const float *b,
                                        ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return;
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    ptrdiff_t m_pad = (m_total + MR - 1) / MR * MR;
    ptrdiff_t nc_max = n < nc_block_bf16 ? (n + NR - 1) / NR * NR : nc_block_bf16;
    Scratch *s = tkgemm_scratch_get(MR, (size_t)(kc_max * nc_max) / 2);
    if (!s) {
        packed_a_bf16_product_scalar(m_total, row0, m, trans_b, n, k, alpha, packed_a, b, ldb, beta, c, ldc);
        return;
    }
    uint16_t *sb = (uint16_t *)s->b;
    if (beta != 0.0f && beta != 1.0f) tkgemm_scale_c(m, n, beta, c, ldc);
    int first_accumulates = beta != 0.0f;

    for (ptrdiff_t jc = 0; jc < n; jc += nc_block_bf16) {
        ptrdiff_t nc = n - jc < nc_block_bf16 ? n - jc : nc_block_bf16;
        for (ptrdiff_t pc = 0, slice = 0; pc < k; pc += kc_max, ++slice) {
            ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
            ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
            int accumulate = slice > 0 || first_accumulates;
            pack_b_block_bf16(float_operand(b, ldb, !trans_b), pc, kc, jc, nc, sb);
            const uint16_t *block = packed_a + pc * m_pad + row0 * kcp;
            for (ptrdiff_t ir = 0; ir < m; ir += MR) {
                int rows = (int)(m - ir < MR ? m - ir : MR);
                for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                    int cols = (int)(nc - jr < NR ? nc - jr : NR);
                    micro_kernel_bf16(kcp / 2, block + ir * kcp, sb + jr * kcp, c + ir * ldc + jc + jr, ldc, rows,
                                      cols, alpha, accumulate);
                }
            }
        }
    }
}

// MARK: - Pre-packed A and B (x86-64)

// Rows of B (element (p, r) at src[p * ldb + r], `count` columns, `kc` rows from a pair
// boundary) into an NR-wide panel of pairs.
TK_BF16 static void pack_b_panel_rows_bf16(const float *src, ptrdiff_t ldb, int count, ptrdiff_t kc, uint16_t *dst) {
    pack_pairs_across(src, ldb, count, kc, dst, NR);
}

TK_BF16 void tkgemm_sgemm_packed_ab_bf16(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                         const uint16_t *packed_a, const uint16_t *packed_b, float *c,
                                         ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        tkgemm_scale_c(m, n, 0.0f, c, ldc);
        return;
    }
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    ptrdiff_t m_pad = (m_total + MR - 1) / MR * MR, n_pad = (n + NR - 1) / NR * NR;
    for (ptrdiff_t pc = 0, slice = 0; pc < k; pc += kc_max, ++slice) {
        ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
        ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
        const uint16_t *block_a = packed_a + pc * m_pad + row0 * kcp, *block_b = packed_b + pc * n_pad;
        for (ptrdiff_t ir = 0; ir < m; ir += MR) {
            int rows = (int)(m - ir < MR ? m - ir : MR);
            for (ptrdiff_t jr = 0; jr < n; jr += NR) {
                int cols = (int)(n - jr < NR ? n - jr : NR);
                micro_kernel_bf16(kcp / 2, block_a + ir * kcp, block_b + jr * kcp, c + ir * ldc + jr, ldc, rows, cols,
                                  1.0f, slice > 0);
            }
        }
    }
}
#endif  // __x86_64__

// MARK: - Portable definitions (every architecture but x86-64)

#if !defined(__x86_64__)
// Scalar packing of any panel: element (r, p) of the panel is src[r * r_stride + p * p_stride]
// for r < count, zero for count <= r < width and in the zero partner of an odd last pair.
static void pack_pairs_scalar(const float *src, ptrdiff_t r_stride, ptrdiff_t p_stride, int count, ptrdiff_t kc,
                              uint16_t *dst, int width) {
    ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
    memset(dst, 0, sizeof(uint16_t) * (size_t)kcp * (size_t)width);
    for (ptrdiff_t p = 0; p < kc; ++p)
        for (int r = 0; r < count; ++r) dst[pair_index(p, r, width)] = bf16_bits(src[r * r_stride + p * p_stride]);
}

int tkgemm_bf16_available(void) { return 0; }

int tkgemm_sgemm_bf16(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                      ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return 0;
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; ++p) {
                float av = trans_a ? a[p * lda + i] : a[i * lda + p];
                float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += bf16_value(bf16_bits(av)) * bf16_value(bf16_bits(bv));
            }
            float *cij = c + i * ldc + j;
            *cij = alpha * sum + (beta != 0.0f ? beta * *cij : 0.0f);
        }
    }
    return 0;
}

void tkgemm_sgemm_bf16_nt_rows(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint16_t *a, ptrdiff_t lda,
                               const uint16_t *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    nt_rows_product_scalar(m, n, k, a, lda, b, ldb, beta, c, ldc);
}

// One MR-row panel of op(A), as the x86-64 definition above packs it.
static void pack_a_panel_bf16(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t r0, int rows, ptrdiff_t pc,
                              ptrdiff_t kc, uint16_t *dst) {
    const float *src = trans_a ? a + pc * lda + r0 : a + r0 * lda + pc;
    pack_pairs_scalar(src, trans_a ? 1 : lda, trans_a ? lda : 1, rows, kc, dst, MR);
}

void tkgemm_sgemm_packed_a_bf16(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                                ptrdiff_t k, float alpha, const uint16_t *packed_a, const float *b, ptrdiff_t ldb,
                                float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return;
    packed_a_bf16_product_scalar(m_total, row0, m, trans_b, n, k, alpha, packed_a, b, ldb, beta, c, ldc);
}

// Rows of B into an NR-wide panel of pairs, as the x86-64 definition above packs them.
static void pack_b_panel_rows_bf16(const float *src, ptrdiff_t ldb, int count, ptrdiff_t kc, uint16_t *dst) {
    pack_pairs_scalar(src, 1, ldb, count, kc, dst, NR);
}

void tkgemm_sgemm_packed_ab_bf16(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                 const uint16_t *packed_a, const uint16_t *packed_b, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; ++p)
                sum += packed_value(packed_a, m_total, MR, k, row0 + i, p) * packed_value(packed_b, n, NR, k, j, p);
            c[i * ldc + j] = sum;
        }
    }
}
#endif

// MARK: - Packed B (every architecture)

// Layout in _TensorKitGEMM.h; pack_b_panel_rows_bf16 is the vector packer on x86-64 and the
// scalar one elsewhere. Rows p0 ..< p1 of each K slice they meet, from a pair boundary.
void tkgemm_pack_b_bf16(ptrdiff_t k, ptrdiff_t n, const float *b, ptrdiff_t ldb, ptrdiff_t p0, ptrdiff_t p1,
                        uint16_t *packed) {
    if (k <= 0 || n <= 0) return;
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    ptrdiff_t n_pad = (n + NR - 1) / NR * NR;
    if (p1 > k) p1 = k;
    for (ptrdiff_t pc = 0; pc < k; pc += kc_max) {
        ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
        ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
        ptrdiff_t q0 = p0 > pc ? p0 : pc, q1 = p1 < pc + kc ? p1 : pc + kc;
        if (q1 <= q0) continue;
        for (ptrdiff_t jr = 0; jr < n; jr += NR) {
            int cols = (int)(n - jr < NR ? n - jr : NR);
            pack_b_panel_rows_bf16(b + q0 * ldb + jr, ldb, cols, q1 - q0,
                                   packed + pc * n_pad + jr * kcp + (q0 - pc) * NR);
        }
    }
}

// MARK: - Pre-packed A (every architecture)

// Layout: for each K slice at pc (kc deep, kcp = kc rounded up to even), a block at
// packed + pc * m_pad of m_pad / MR panels, panel ir at + ir * kcp (zero rows past m).
// pack_a_panel_bf16 is the vector packer on x86-64 and the scalar one elsewhere.
void tkgemm_pack_a_bf16(int trans_a, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, uint16_t *packed) {
    if (m <= 0 || k <= 0) return;
    ptrdiff_t kc_max;
    k_slicing_bf16(k, &kc_max);
    ptrdiff_t m_pad = (m + MR - 1) / MR * MR;
    for (ptrdiff_t pc = 0; pc < k; pc += kc_max) {
        ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
        ptrdiff_t kcp = (kc + 1) & ~(ptrdiff_t)1;
        for (ptrdiff_t ir = 0; ir < m_pad; ir += MR) {
            int rows = (int)(m - ir < MR ? m - ir : MR);
            pack_a_panel_bf16(trans_a, a, lda, ir, rows, pc, kc, packed + pc * m_pad + ir * kcp);
        }
    }
}
