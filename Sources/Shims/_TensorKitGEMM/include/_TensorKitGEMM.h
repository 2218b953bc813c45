// TensorKit's own single-precision GEMM: packed, cache-blocked, with an AVX-512 micro-kernel
// (BLIS-style loops around an 8x48 register tile). Implementation detail of TensorKit
// (`BLAS.gemm` decides when to call it); not a public API.
#ifndef TENSORKIT_GEMM_H
#define TENSORKIT_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU and OS can run the AVX-512 kernels (AVX-512F/VL and FMA, ZMM state
/// enabled), else 0. Callers must fall back to another SGEMM when it is 0.
int tkgemm_available(void);

/// Row-major `C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C`, where `op(X)` is
/// `X` or, when `trans_x` is non-zero, its transpose (so a transposed A is stored `k x m`).
/// `lda`, `ldb`, `ldc` are row strides in floats. With `beta == 0`, C is not read (NaNs in it
/// do not propagate), as in BLAS. Single-threaded and thread-safe (per-thread scratch space).
/// Must only be called when `tkgemm_available()` returned 1. Returns 0, or -1 (C untouched)
/// when its scratch space (about 1.2 MB per thread) cannot be allocated.
int tkgemm_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                  const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float beta, float *c, ptrdiff_t ldc);

#ifdef __cplusplus
}
#endif

#endif
