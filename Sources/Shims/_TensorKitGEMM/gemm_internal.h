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

#if defined(__x86_64__)
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
