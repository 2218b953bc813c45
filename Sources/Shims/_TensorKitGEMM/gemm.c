// TensorKit's packed SGEMM (see include/_TensorKitGEMM.h); the bfloat16 variant is in
// gemm_bf16.c, with the same loops around a `vdpbf16ps` micro-kernel.
//
// Structure (Goto/BLIS): for each NC-column block of C and each KC-deep slice of K, op(B) is
// packed into NR-wide column panels; for each MC-row block, op(A) is packed into MR-tall row
// panels; an MR x NR micro-kernel then runs over every (row panel, column panel) pair, keeping
// its 8 x 48 tile of C in 24 ZMM registers for the whole slice. Packing makes every operand
// layout (A or B transposed or not) look the same to the micro-kernel and turns its loads into
// unit-stride streams; zero-padding the panels lets edge tiles run the same loop (only their
// stores are masked).
//
// The AVX-512 code is compiled with a target attribute instead of package-wide flags (which
// would break use of the package as a dependency), and is only reached after `tkgemm_available()`
// has checked the CPU at run time.
//
// All of that is x86-64 only (`#if defined(__x86_64__)`); other architectures get the plain
// scalar definitions at the end of this file, and `tkgemm_available()` returns 0 there.

#include "_TensorKitGEMM.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_internal.h"

// Block sizes, in elements. KC x NC floats of packed B stay in the 1 MiB L2 across the
// micro-panels of A; one MR x KC panel of A (8 KiB) stays in L1. Measured on Zen 4/5 with
// the conv GEMM shapes (`audiocnn bench gemm`).
static const ptrdiff_t kc_block = 256;
#if defined(__x86_64__)  // the portable definitions below do not block
static const ptrdiff_t nc_block = 576;   // multiple of NR
static const ptrdiff_t mc_block = 256;   // multiple of MR
#endif

// Even K slices (no thin last slice), each at most kc_block deep: the slicing the driver and
// the pre-packed A layout share.
static void k_slicing(ptrdiff_t k, ptrdiff_t *kc_max) {
    ptrdiff_t slices = (k + kc_block - 1) / kc_block;
    *kc_max = (k + slices - 1) / slices;
}

#if defined(__x86_64__)
int tkgemm_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("fma");
    }
    return cached;
}

// MARK: - Packing

// Packs `rows` (<= width) vectors that are contiguous along k (row r at src + r * ld) into a
// panel dst[p * width + r] for p < kc, zero in rows >= `rows`. Used for A not transposed
// (width MR) and for B transposed (width NR).
TK_AVX512 static void pack_rows_transposing(const float *src, ptrdiff_t ld, int rows, ptrdiff_t kc,
                                            float *dst, int width) {
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        const float *s = src + r0 * ld;
        ptrdiff_t p = 0;
        for (; p + 8 <= kc; p += 8) tkgemm_transpose8x8(s + p, ld, dst + p * width + r0, width);
        for (; p < kc; ++p)
            for (int r = 0; r < 8; ++r) dst[p * width + r0 + r] = s[r * ld + p];
    }
    if (r0 < rows) {
        for (ptrdiff_t p = 0; p < kc; ++p) {
            for (int r = r0; r < rows; ++r) dst[p * width + r] = src[r * ld + p];
        }
    }
    if (rows < width) {
        for (ptrdiff_t p = 0; p < kc; ++p) memset(dst + p * width + rows, 0, sizeof(float) * (size_t)(width - rows));
    }
}

// Packs `cols` (<= width) elements per k that are contiguous across the panel (element
// (p, j) at src[p * ld + j]) into dst[p * width + j], zero-padded. Used for B not transposed
// (width NR) and for A transposed (width MR).
TK_AVX512 static void pack_cols_copying(const float *src, ptrdiff_t ld, int cols, ptrdiff_t kc,
                                        float *dst, int width) {
    if (width == NR && cols == NR) {
        for (ptrdiff_t p = 0; p < kc; ++p) {
            const float *s = src + p * ld;
            float *d = dst + p * NR;
            _mm512_store_ps(d, _mm512_loadu_ps(s));
            _mm512_store_ps(d + 16, _mm512_loadu_ps(s + 16));
            _mm512_store_ps(d + 32, _mm512_loadu_ps(s + 32));
        }
        return;
    }
    if (width == MR && cols == MR) {
        for (ptrdiff_t p = 0; p < kc; ++p) _mm256_store_ps(dst + p * MR, _mm256_loadu_ps(src + p * ld));
        return;
    }
    for (ptrdiff_t p = 0; p < kc; ++p) {
        const float *s = src + p * ld;
        float *d = dst + p * width;
        for (int v = 0; v < width; v += 16) {
            int left = cols - v;
            __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
            if (width - v >= 16) {
                _mm512_storeu_ps(d + v, _mm512_maskz_loadu_ps(m, s + v));
            } else {
                for (int j = v; j < width; ++j) d[j] = j < cols ? s[j] : 0.0f;
            }
        }
    }
}

// MARK: - Micro-kernel

// C[mr x nr] (+)= alpha * Apanel[kc x MR]^T * Bpanel[kc x NR]; `accumulate` adds to C,
// otherwise C is overwritten without being read. Only the first `nv` 16-column vectors of the
// panel are computed, so a narrow last panel (N not a multiple of 48) does not pay for 48.
TK_AVX512 TK_INLINE void micro_kernel_nv(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                                         float *c, ptrdiff_t ldc, int mr, int nr, float alpha, int accumulate,
                                         const int nv) {
    __m512 acc[MR][NV];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i)
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; ++v) acc[i][v] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < kc; ++p) {
        // One column vector (batch 1's layer3/4 products): A streams from memory, a line every
        // two steps; ask 4 KiB ahead, as the bfloat16 kernel does.
        if (nv == 1 && (p & 1)) _mm_prefetch((const char *)(pa + 1024), _MM_HINT_T0);
        __m512 b[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; ++v) b[v] = _mm512_load_ps(pb + 16 * v);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; ++i) {
            __m512 a = _mm512_set1_ps(pa[i]);
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
        }
        pa += MR;
        pb += NR;
    }
    tkgemm_store_tile(acc, c, ldc, mr, nr, alpha, accumulate, nv);
}

TK_AVX512 static void micro_kernel(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                                   float *c, ptrdiff_t ldc, int mr, int nr, float alpha, int accumulate) {
    if (nr > 32) {
        micro_kernel_nv(kc, pa, pb, c, ldc, mr, nr, alpha, accumulate, 3);
    } else if (nr > 16) {
        micro_kernel_nv(kc, pa, pb, c, ldc, mr, nr, alpha, accumulate, 2);
    } else {
        micro_kernel_nv(kc, pa, pb, c, ldc, mr, nr, alpha, accumulate, 1);
    }
}
#endif  // __x86_64__

// MARK: - Driver

void tkgemm_scale_c(ptrdiff_t m, ptrdiff_t n, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; ++i) {
        float *row = c + i * ldc;
        if (beta == 0.0f) {
            memset(row, 0, sizeof(float) * (size_t)n);
        } else {
            for (ptrdiff_t j = 0; j < n; ++j) row[j] *= beta;
        }
    }
}

// Rows row0 ..< row0 + m of C = alpha * (A packed by tkgemm_pack_a for m_total rows) * op(B)
// + beta * C, one dot product at a time straight from the packed panels (beta == 0: C not read).
// The whole product on CPUs without the vector kernels, and the x86-64 driver's fallback when it
// cannot allocate scratch for packing B.
static void packed_a_product_scalar(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                                    ptrdiff_t k, float alpha, const float *packed_a, const float *b, ptrdiff_t ldb,
                                    float beta, float *c, ptrdiff_t ldc) {
    ptrdiff_t kc_max;
    k_slicing(k, &kc_max);
    ptrdiff_t m_pad = (m_total + MR - 1) / MR * MR;
    for (ptrdiff_t i = 0; i < m; ++i) {
        ptrdiff_t row = row0 + i;
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t pc = 0; pc < k; pc += kc_max) {
                ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
                const float *panel = packed_a + pc * m_pad + (row / MR * MR) * kc + row % MR;
                for (ptrdiff_t p = 0; p < kc; ++p) {
                    float bv = trans_b ? b[j * ldb + pc + p] : b[(pc + p) * ldb + j];
                    sum += panel[p * MR] * bv;
                }
            }
            float *cij = c + i * ldc + j;
            *cij = alpha * sum + (beta != 0.0f ? beta * *cij : 0.0f);
        }
    }
}

#if defined(__x86_64__)
// Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels, panel jr at dst + jr * kc (zero columns
// past nc in the last one).
TK_AVX512 static void pack_b_block(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t pc, ptrdiff_t kc,
                                   ptrdiff_t jc, ptrdiff_t nc, float *dst) {
    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
        int cols = (int)(nc - jr < NR ? nc - jr : NR);
        if (trans_b) {
            pack_rows_transposing(b + (jc + jr) * ldb + pc, ldb, cols, kc, dst + jr * kc, NR);
        } else {
            pack_cols_copying(b + pc * ldb + jc + jr, ldb, cols, kc, dst + jr * kc, NR);
        }
    }
}

TK_AVX512 int tkgemm_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                            const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                            float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return 0;
    ptrdiff_t kc_max;
    k_slicing(k, &kc_max);
    ptrdiff_t nc_max = n < nc_block ? (n + NR - 1) / NR * NR : nc_block;
    ptrdiff_t mc_max = m < mc_block ? (m + MR - 1) / MR * MR : mc_block;
    Scratch *s = tkgemm_scratch_get((size_t)(mc_max * kc_max), (size_t)(kc_max * nc_max));
    if (!s) return -1;  // out of memory: the caller falls back to another SGEMM
    int first_accumulates = beta != 0.0f;
    if (beta != 0.0f && beta != 1.0f) tkgemm_scale_c(m, n, beta, c, ldc);

    for (ptrdiff_t jc = 0; jc < n; jc += nc_block) {
        ptrdiff_t nc = n - jc < nc_block ? n - jc : nc_block;
        for (ptrdiff_t pc = 0, slice = 0; pc < k; pc += kc_max, ++slice) {
            ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
            int accumulate = slice > 0 || first_accumulates;
            pack_b_block(trans_b, b, ldb, pc, kc, jc, nc, s->b);
            for (ptrdiff_t ic = 0; ic < m; ic += mc_block) {
                ptrdiff_t mc = m - ic < mc_block ? m - ic : mc_block;
                for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                    int rows = (int)(mc - ir < MR ? mc - ir : MR);
                    float *dst = s->a + ir * kc;
                    if (trans_a) {
                        pack_cols_copying(a + pc * lda + ic + ir, lda, rows, kc, dst, MR);
                    } else {
                        pack_rows_transposing(a + (ic + ir) * lda + pc, lda, rows, kc, dst, MR);
                    }
                }
                // Row panels outside, column panels inside: the A panel (8 x kc) stays in L1
                // while the packed B block streams from L2.
                for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                    int rows = (int)(mc - ir < MR ? mc - ir : MR);
                    const float *pa = s->a + ir * kc;
                    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                        int cols = (int)(nc - jr < NR ? nc - jr : NR);
                        micro_kernel(kc, pa, s->b + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, rows, cols,
                                     alpha, accumulate);
                    }
                }
            }
        }
    }
    return 0;
}
#endif  // __x86_64__

// MARK: - Pre-packed A

size_t tkgemm_packed_a_size(ptrdiff_t m, ptrdiff_t k) {
    if (m <= 0 || k <= 0) return 0;
    return (size_t)((m + MR - 1) / MR * MR) * (size_t)k;
}

#if defined(__x86_64__)
// Layout: for each K slice starting at pc (kc deep), a block at packed + pc * m_pad holding the
// m_pad / MR row panels one after another, panel ir (first row ir) at + ir * kc, each the
// kc x MR panel the micro-kernel reads (zero rows past m).
TK_AVX512 void tkgemm_pack_a(int trans_a, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda,
                             float *packed) {
    if (m <= 0 || k <= 0) return;
    ptrdiff_t kc_max;
    k_slicing(k, &kc_max);
    ptrdiff_t m_pad = (m + MR - 1) / MR * MR;
    for (ptrdiff_t pc = 0; pc < k; pc += kc_max) {
        ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
        for (ptrdiff_t ir = 0; ir < m_pad; ir += MR) {
            int rows = (int)(m - ir < MR ? m - ir : MR);  // ir < m_pad, so at least one row
            float *dst = packed + pc * m_pad + ir * kc;
            if (trans_a) {
                pack_cols_copying(a + pc * lda + ir, lda, rows, kc, dst, MR);
            } else {
                pack_rows_transposing(a + ir * lda + pc, lda, rows, kc, dst, MR);
            }
        }
    }
}

TK_AVX512 void tkgemm_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                                    ptrdiff_t k, float alpha, const float *packed_a, const float *b, ptrdiff_t ldb,
                                    float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return;
    ptrdiff_t kc_max;
    k_slicing(k, &kc_max);
    ptrdiff_t m_pad = (m_total + MR - 1) / MR * MR;
    ptrdiff_t nc_max = n < nc_block ? (n + NR - 1) / NR * NR : nc_block;
    Scratch *s = tkgemm_scratch_get(MR, (size_t)(kc_max * nc_max));
    if (!s) {
        // No scratch for packing B (out of memory): the same product straight from the packed
        // panels, slowly, since there is no unpacked A to hand to another SGEMM.
        packed_a_product_scalar(m_total, row0, m, trans_b, n, k, alpha, packed_a, b, ldb, beta, c, ldc);
        return;
    }
    if (beta != 0.0f && beta != 1.0f) tkgemm_scale_c(m, n, beta, c, ldc);
    int first_accumulates = beta != 0.0f;

    for (ptrdiff_t jc = 0; jc < n; jc += nc_block) {
        ptrdiff_t nc = n - jc < nc_block ? n - jc : nc_block;
        for (ptrdiff_t pc = 0, slice = 0; pc < k; pc += kc_max, ++slice) {
            ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
            int accumulate = slice > 0 || first_accumulates;
            pack_b_block(trans_b, b, ldb, pc, kc, jc, nc, s->b);
            // The A panels stream from memory once per (jc, pc); the packed B block stays in L2.
            const float *block = packed_a + pc * m_pad + row0 * kc;
            for (ptrdiff_t ir = 0; ir < m; ir += MR) {
                int rows = (int)(m - ir < MR ? m - ir : MR);
                const float *pa = block + ir * kc;
                for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                    int cols = (int)(nc - jr < NR ? nc - jr : NR);
                    micro_kernel(kc, pa, s->b + jr * kc, c + ir * ldc + jc + jr, ldc, rows, cols, alpha, accumulate);
                }
            }
        }
    }
    return;
}
#endif  // __x86_64__

// MARK: - Portable definitions (every architecture but x86-64)

// Plain scalar versions of the same contracts, so the Swift side links everywhere. TensorKit
// does not call them (`tkgemm_available()` is 0 here, and `BLAS.gemm` then uses OpenBLAS);
// they are correct but slow.
#if !defined(__x86_64__)
int tkgemm_available(void) { return 0; }

int tkgemm_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                 const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                 float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return 0;
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; ++p) {
                float av = trans_a ? a[p * lda + i] : a[i * lda + p];
                float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += av * bv;
            }
            float *cij = c + i * ldc + j;
            *cij = alpha * sum + (beta != 0.0f ? beta * *cij : 0.0f);  // beta == 0: C not read
        }
    }
    return 0;
}

// The layout in the comment on the x86-64 tkgemm_pack_a above: K slices of MR-tall panels,
// zero rows past m.
void tkgemm_pack_a(int trans_a, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, float *packed) {
    if (m <= 0 || k <= 0) return;
    ptrdiff_t kc_max;
    k_slicing(k, &kc_max);
    ptrdiff_t m_pad = (m + MR - 1) / MR * MR;
    for (ptrdiff_t pc = 0; pc < k; pc += kc_max) {
        ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
        for (ptrdiff_t ir = 0; ir < m_pad; ir += MR) {
            float *dst = packed + pc * m_pad + ir * kc;
            for (ptrdiff_t p = 0; p < kc; ++p) {
                for (ptrdiff_t r = 0; r < MR; ++r) {
                    ptrdiff_t row = ir + r;
                    dst[p * MR + r] = row >= m ? 0.0f : trans_a ? a[(pc + p) * lda + row] : a[row * lda + pc + p];
                }
            }
        }
    }
}

void tkgemm_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                           ptrdiff_t k, float alpha, const float *packed_a, const float *b, ptrdiff_t ldb,
                           float beta, float *c, ptrdiff_t ldc) {
    if (tkgemm_trivial_product(m, n, k, alpha, beta, c, ldc)) return;
    packed_a_product_scalar(m_total, row0, m, trans_b, n, k, alpha, packed_a, b, ldb, beta, c, ldc);
}
#endif
