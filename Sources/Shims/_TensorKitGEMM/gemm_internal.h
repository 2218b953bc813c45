// Pieces shared by the float32 (gemm.c) and bfloat16 (gemm_bf16.c) GEMMs; not part of the
// module's interface.
#ifndef TENSORKIT_GEMM_INTERNAL_H
#define TENSORKIT_GEMM_INTERNAL_H

#include <stddef.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
#define TK_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#endif
#define TK_INLINE static inline __attribute__((always_inline))
#define TK_HIDDEN __attribute__((visibility("hidden")))

// The register tile of both micro-kernels: MR rows of C by NR columns (NV vectors of 16 floats).
enum { MR = 8, NR = 48, NV = NR / 16 };

/// Per-thread packing buffers (scratch.c).
typedef struct {
    float *a, *b;
    size_t a_cap, b_cap;
} Scratch;

/// 64-byte aligned buffers of at least `a_floats` and `b_floats` floats, reused across calls on
/// the calling thread; NULL when they cannot be allocated.
TK_HIDDEN Scratch *tkgemm_scratch_get(size_t a_floats, size_t b_floats);

/// `C[m x n] *= beta`, or zeroed (not read) when `beta == 0`.
TK_HIDDEN void tkgemm_scale_c(ptrdiff_t m, ptrdiff_t n, float beta, float *c, ptrdiff_t ldc);

/// Whether `C = alpha * op(A) * op(B) + beta * C` needs no multiplication (C or the depth empty,
/// or alpha zero); C has then been scaled by `beta` (zeroed, not read, when `beta == 0`), and the
/// driver returns.
TK_INLINE int tkgemm_trivial_product(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, float beta, float *c,
                                     ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return 1;
    if (k > 0 && alpha != 0.0f) return 0;
    if (beta != 1.0f) tkgemm_scale_c(m, n, beta, c, ldc);
    return 1;
}

#if defined(__x86_64__)
/// The 8 x 8 transpose of the rows `r[0..7]` with AVX shuffles: `col[j]` holds element j of every
/// row. The packing of the AVX-512 and the AVX2 GEMMs.
TK_INLINE __attribute__((target("avx2"))) void tkgemm_transpose8x8_registers(const __m256 r[8], __m256 col[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    // Column j: rows 0-3 from u(j mod 4)'s low or high lane, rows 4-7 from u(4 + j mod 4)'s.
    col[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    col[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    col[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    col[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    col[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    col[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    col[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    col[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// `dst[q * dst_stride + r] = src[r * ld + q]` for an 8 x 8 block (row r of src becomes column r).
TK_INLINE __attribute__((target("avx2"))) void tkgemm_transpose8x8(const float *src, ptrdiff_t ld, float *dst,
                                                                  ptrdiff_t dst_stride) {
    __m256 r[8], col[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
    tkgemm_transpose8x8_registers(r, col);
    for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + j * dst_stride, col[j]);
}

/// Writes the first `mr` rows and `nr` columns of a micro-kernel's accumulators (the first `nv`
/// vectors of each row) to C: `alpha * acc`, plus C when `accumulate` (else C is not read).
///
/// Every loop here runs a constant number of times, so that the accumulators stay in registers:
/// a loop that stops at `mr` indexes them at run time, and the compiler then keeps the whole
/// array on the stack, zeroed with `memset` and reloaded on every call (2-3% of a training step).
/// Rows past `mr` and columns past `nr` take an empty mask; masked-out elements are not read or
/// written, and cannot fault.
TK_AVX512 TK_INLINE void tkgemm_store_tile(__m512 acc[MR][NV], float *c, ptrdiff_t ldc, int mr, int nr, float alpha,
                                           int accumulate, const int nv) {
    __m512 va = _mm512_set1_ps(alpha);
    if (mr == MR && nr == NR) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; ++i) {
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; ++v) {
                float *at = c + i * ldc + 16 * v;
                __m512 x = alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(va, acc[i][v]);
                if (accumulate) x = _mm512_add_ps(x, _mm512_loadu_ps(at));
                _mm512_storeu_ps(at, x);
            }
        }
        return;
    }
    __mmask16 mask[NV];
#pragma clang loop unroll(full)
    for (int v = 0; v < nv; ++v) {
        int left = nr - 16 * v;
        mask[v] = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; ++i) {
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; ++v) {
            // Rows past mr point at row 0 (not past C), with nothing to read or write.
            __mmask16 m = i < mr ? mask[v] : 0;
            float *at = c + (i < mr ? i : 0) * ldc + 16 * v;
            __m512 x = alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(va, acc[i][v]);
            if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, at));
            _mm512_mask_storeu_ps(at, m, x);
        }
    }
}
#endif

#endif
