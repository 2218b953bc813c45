// TensorKit's own single-precision GEMM: packed, cache-blocked, with an AVX-512 micro-kernel
// (BLIS-style loops around an 8x48 register tile). Implementation detail of TensorKit
// (`BLAS.gemm` decides when to call it); not a public API.
//
// Architectures: the AVX-512 kernels exist on x86-64 only, used when `tkgemm_available()` finds
// AVX-512 at run time. Elsewhere `tkgemm_available()` returns 0 and the other functions are
// plain scalar loops with the same contracts and packed layout (correct but slow; TensorKit
// uses OpenBLAS there), so every function below exists on every architecture.
#ifndef TENSORKIT_GEMM_H
#define TENSORKIT_GEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU and OS can run the AVX-512 kernels (AVX-512F/VL and FMA, ZMM state
/// enabled), else 0; always 0 off x86-64. Callers must fall back to another SGEMM when it is 0.
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

/// Floats needed by `tkgemm_pack_a` for an `m x k` op(A): `m` rounded up to 8, times `k`.
size_t tkgemm_packed_a_size(ptrdiff_t m, ptrdiff_t k);

/// Packs op(A) (`m x k`; stored `k x m` when `trans_a` is non-zero) once into `packed` (at least
/// `tkgemm_packed_a_size(m, k)` floats, 64-byte aligned), in the panel layout the micro-kernel
/// reads, for repeated products with the same A (frozen inference weights). Only when
/// `tkgemm_available()` returned 1.
void tkgemm_pack_a(int trans_a, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, float *packed);

/// `tkgemm_sgemm` with op(A) already packed by `tkgemm_pack_a(_, m_total, k, ...)`: computes
/// rows `row0 ..< row0 + m` of the product (row0 a multiple of 8) into `C[m x n]`, so threads
/// can split the rows of one packed A. Same conventions as `tkgemm_sgemm`; uses about 0.6 MB of
/// per-thread scratch, and when that cannot be allocated computes the product without it
/// (slowly), so it always succeeds.
void tkgemm_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                          ptrdiff_t k, float alpha, const float *packed_a, const float *b, ptrdiff_t ldb,
                          float beta, float *c, ptrdiff_t ldc);

// MARK: bfloat16 operands, float32 sums

/// 1 when this CPU and OS can run the bfloat16 kernels below (AVX512_BF16 with AVX-512F/BW/VL),
/// else 0; always 0 off x86-64. Elsewhere the functions below are scalar loops with the same
/// contracts and packed layout (correct, slow).
int tkgemm_bf16_available(void);

/// `tkgemm_sgemm` with both operands rounded to bfloat16 (round to nearest even, as
/// `vcvtneps2bf16`: subnormals to zero, NaN kept) while they are packed, and the products
/// summed in float32 (`vdpbf16ps`). Same conventions and return value as `tkgemm_sgemm`.
int tkgemm_sgemm_bf16(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                      const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                      float beta, float *c, ptrdiff_t ldc);

/// `C[m x n] = A · B^T + beta · C` from operands already rounded to bfloat16, stored as rows
/// along k (A `m x k`, `lda` elements apart; B `n x k`, `ldb` apart), as `tkgemm_sgemm_bf16`
/// computes it from float32 A and transposed B holding the same values, without rounding while
/// packing. On x86-64 it needs AVX512_BF16 (`tkgemm_bf16_available()`; the caller checks). Never
/// fails: without scratch memory, and off x86-64, it computes one dot product at a time.
void tkgemm_sgemm_bf16_nt_rows(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint16_t *a, ptrdiff_t lda,
                               const uint16_t *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);

/// 16-bit elements needed by `tkgemm_pack_a_bf16` for an `m x k` op(A).
size_t tkgemm_packed_a_bf16_size(ptrdiff_t m, ptrdiff_t k);

/// Packs op(A) rounded to bfloat16 into `packed` (at least `tkgemm_packed_a_bf16_size(m, k)`
/// elements, 64-byte aligned), for `tkgemm_sgemm_packed_a_bf16`: half the bytes of
/// `tkgemm_pack_a`'s float layout.
void tkgemm_pack_a_bf16(int trans_a, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, uint16_t *packed);

/// `tkgemm_sgemm_packed_a` for an A packed by `tkgemm_pack_a_bf16`; op(B) is rounded to
/// bfloat16 as it is packed, sums are float32. Always succeeds (a slow path without scratch).
void tkgemm_sgemm_packed_a_bf16(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, int trans_b, ptrdiff_t n,
                                ptrdiff_t k, float alpha, const uint16_t *packed_a, const float *b, ptrdiff_t ldb,
                                float beta, float *c, ptrdiff_t ldc);

/// Packed bfloat16 B (`k x n`, for `tkgemm_sgemm_packed_ab_bf16`): for each K slice (depth
/// `tkgemm_bf16_slice_depth(k)`, the last one shorter) at row `pc`, a block at element
/// `pc * n_pad` (`n_pad`: n rounded up to `tkgemm_bf16_panel_width()`) of `n_pad / width`
/// panels, panel `jr` at `+ jr * kcp` (`kcp`: the slice depth rounded up to even), holding for
/// each pair of rows (2q, 2q + 1) of the slice the panel's columns side by side, each as the two
/// bfloat16 (row 2q in the low half), a zero partner after an odd last row. Producers such as
/// the Winograd input transform write this layout directly.
ptrdiff_t tkgemm_bf16_panel_width(void);

/// Depth of the K slices of the bfloat16 GEMM for depth `k` (even; the last slice may be shorter).
ptrdiff_t tkgemm_bf16_slice_depth(ptrdiff_t k);

/// 16-bit elements of a packed bfloat16 B of `k x n`.
size_t tkgemm_packed_b_bf16_size(ptrdiff_t k, ptrdiff_t n);

/// Packs rows `p0 ..< p1` (`p0` even) of B (`k x n`, not transposed, row stride `ldb`) rounded to
/// bfloat16 (as `tkgemm_sgemm_bf16` rounds) into their place in `packed`
/// (`tkgemm_packed_b_bf16_size(k, n)` elements, 64-byte aligned).
void tkgemm_pack_b_bf16(ptrdiff_t k, ptrdiff_t n, const float *b, ptrdiff_t ldb, ptrdiff_t p0, ptrdiff_t p1,
                        uint16_t *packed);

/// `C[m x n] = A[row0 ..< row0 + m] · B` with A packed by `tkgemm_pack_a_bf16` (`m_total` rows,
/// depth k) and B packed as above: no packing on the call. `row0` must be a multiple of 8.
void tkgemm_sgemm_packed_ab_bf16(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                 const uint16_t *packed_a, const uint16_t *packed_b, float *c, ptrdiff_t ldc);

/// `dst[i]` = `src[i]` rounded to the nearest bfloat16 (ties to even; subnormals to zero, NaN
/// kept, as `vcvtneps2bf16`), as a float. `dst` may be `src`. Every architecture: the emulation
/// of bfloat16 GEMMs on CPUs without AVX512_BF16 rounds the operands with it, then multiplies
/// in float32, which gives the same products (a product of two bfloat16 is exact in float32).
void tkgemm_round_bf16(const float *src, float *dst, size_t n);

/// A CPU hint for spin-wait loops (TensorKit's worker pool): PAUSE on x86-64, YIELD on ARM64.
/// It lowers the cost of spinning and lets an SMT sibling run.
static inline void tk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// AVX2 and FMA (x86-64 CPUs without AVX-512; gemm_avx2.c): products with an A packed once, for
// frozen filters that OpenBLAS would pack again on every call, and general products. Its own
// packed layout (6-row panels), not interchangeable with `tkgemm_pack_a`'s.
/// 1 when this CPU runs `tkgemm_avx2_sgemm_packed_a` with AVX2 and FMA, else 0; always 0 off
/// x86-64 (where that function is a scalar loop with the same contract).
int tkgemm_avx2_available(void);
/// Floats `tkgemm_avx2_pack_a` writes for an `m x k` A.
size_t tkgemm_avx2_packed_a_size(ptrdiff_t m, ptrdiff_t k);
/// Packs the row-major `m x k` A (leading dimension `lda`) into 6-row panels, zero-padded.
void tkgemm_avx2_pack_a(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, float *packed);
/// Rows `row0 ..< row0 + m` (`row0` a multiple of 6) of `C = A * B + beta * C`, with A (`m_total x k`)
/// packed by `tkgemm_avx2_pack_a`, B row-major `k x n` (`ldb`), and `c` pointing at row `row0`'s
/// first element; C is not read when `beta == 0`.
void tkgemm_avx2_sgemm_packed_a(ptrdiff_t m_total, ptrdiff_t row0, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                const float *packed, const float *b, ptrdiff_t ldb, float beta, float *c,
                                ptrdiff_t ldc);
/// `C = alpha * op(A) * op(B) + beta * C` (row-major; C not read when `beta == 0`) on the AVX2
/// kernel: op(B) packed per call into 16-column strips, A read in place (six rows at a time)
/// unless transposed, then packed into 6-row panels. Returns 0, or non-zero (C untouched) when
/// the per-thread scratch cannot be allocated. Off x86-64 it is `tkgemm_sgemm`'s scalar loop.
int tkgemm_avx2_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                      ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);

// The machine's multiply-add rate (peak.c), for benchmarks.

/// Which instructions `tkgemm_peak_flops` runs: 256-bit float32 FMA (AVX2), 512-bit float32
/// FMA (AVX-512F), 512-bit bfloat16 dot products into float32 (`vdpbf16ps`, AVX512_BF16).
enum { TKGEMM_PEAK_FP32_AVX2 = 0, TKGEMM_PEAK_FP32_AVX512 = 1, TKGEMM_PEAK_BF16_AVX512 = 2 };

/// Runs `iterations` steps of twelve independent multiply-add chains of `kind` on the calling
/// thread, from registers only, and returns the floating-point operations done (a multiply and
/// an add each), or 0 when this CPU lacks the instructions (always 0 off x86-64). Time it to get
/// the thread's peak FLOP rate.
double tkgemm_peak_flops(int kind, int64_t iterations);

#ifdef __cplusplus
}
#endif

#endif
