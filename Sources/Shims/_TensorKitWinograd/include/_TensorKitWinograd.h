// Winograd F(2x2, 3x3) tile transforms with AVX-512, sixteen tiles per vector. Implementation
// detail of TensorKit (`Winograd.swift` calls them and keeps portable Swift versions for CPUs
// without AVX-512); not a public API.
//
// Architectures: the AVX-512 kernels exist on x86-64 only, used when `tkwino_available()` finds
// AVX-512 at run time. Elsewhere `tkwino_available()` returns 0 and the other functions are
// plain scalar one-tile-at-a-time loops with the same contracts (correct but slow; TensorKit
// uses the Swift transforms there), so every function below exists on every architecture.
//
// Layouts are those of `Winograd.swift`:
//
//   V[xi][ch][t], M[xi][oc][t]: element at base + xi * channel_stride + ch * ld_t + tile_offset + t,
//   tile t = ti * tw + tj covering output rows 2ti, 2ti+1 and columns 2tj, 2tj+1, where
//   th = ceil(h / 2), tw = ceil(w / 2); xi = 4 * row + column of the 4x4 transformed tile.
#ifndef TENSORKIT_WINOGRAD_H
#define TENSORKIT_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU can run these kernels (AVX-512F), else 0; always 0 off x86-64.
int tkwino_available(void);

/// V = B^T d B for every 4x4 input tile d (padding 1, zeros outside the map) of channels
/// `c0 ..< c1` of one image `x[C][h][w]`. `scratch` holds at least `tkwino_input_scratch(h, w)`
/// floats (a zero-padded copy of one channel, which the AVX2 twin makes; this one reads `x` in
/// place).
void tkwino_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                            ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch);

/// Floats of scratch `tkwino_input_transform` needs for an `h x w` map.
size_t tkwino_input_scratch(ptrdiff_t h, ptrdiff_t w);

/// y[oc] = A^T M A + bias[oc] for output channels `o0 ..< o1` of one image `y[O][h][w]`, then,
/// in the same pass: `+ residual` (same layout as y, or NULL), a copy of that sum into `pre`
/// (or NULL), and max(., 0) when `relu` is non-zero. `bias` may be NULL.
void tkwino_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                             ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                             const float *residual, float *pre, int relu);

/// U[xi] = G g G^T for rows `row0 ..< row1` of the 16 `rows x cols` matrices U (at
/// u + xi * rows * cols + row * cols + col) from 3x3 filters `w[O][C][3][3]`: rows are output
/// channels and cols input channels, or with `for_input_gradient` rows are input channels,
/// cols output channels and each filter is rotated by 180 degrees.
void tkwino_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                             ptrdiff_t row0, ptrdiff_t row1, float *u);

/// dM = A dY A^T for the 2x2 output-gradient tiles (zero past the map) of channels `o0 ..< o1`
/// of one image `gy[O][h][w]`, into M's layout (see above).
void tkwino_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                      float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride);

/// `tkwino_input_transform` and `tkwino_output_gradient_transform` with their values rounded to
/// bfloat16 (to nearest even, as `vcvtneps2bf16` rounds: the values TensorKit's bfloat16 GEMM
/// gets when it packs the float32 ones) into planes of 16-bit elements with the same layout, all
/// offsets and strides counted in elements: the operands of the bfloat16 weight gradient
/// (`tkgemm_sgemm_bf16_nt_rows`), half the bytes to write and read again.
void tkwino_input_transform_bf16_rows(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w,
                                      uint16_t *v, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride);
void tkwino_output_gradient_transform_bf16_rows(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                                uint16_t *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                ptrdiff_t channel_stride);

// F(4x4, 3x3): 4x4 output tiles from 6x6 input tiles, 36 matrices (xi = 6 * row + column of the
// transformed tile), th = ceil(h / 4), tw = ceil(w / 4), tile t = ti * tw + tj covering output rows
// 4ti ..< 4ti + 4 and columns 4tj ..< 4tj + 4; otherwise the layouts above. A quarter of direct
// convolution's multiplications (F(2x2, 3x3): 4/9), with larger rounding errors: TensorKit uses it
// for frozen filters (float32 and bfloat16) and for float32 training's input gradients on large
// maps.

/// V = B^T d B for every 6x6 input tile (padding 1) of channels `c0 ..< c1`; `scratch` holds at
/// least `tkwino43_input_scratch(h, w)` floats (used by the AVX2 twin only).
void tkwino43_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                              ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch);

/// Floats of scratch `tkwino43_input_transform` needs for an `h x w` map.
size_t tkwino43_input_scratch(ptrdiff_t h, ptrdiff_t w);

/// `tkwino43_input_transform` of channels `c0 ..< c1` (`c0` even; of `c`) written as the bfloat16 B
/// operands of TensorKit's GEMM (`tkgemm_sgemm_packed_ab_bf16`), rounded to nearest even: for
/// each xi, at `packed + xi * xi_stride`, the `c x n` matrix of that GEMM's packed-B layout (K
/// slices of `slice_depth`, panels `panel_width` columns wide), tiles at column `tile_offset + t`.
/// The same values as the float32 transform followed by `tkgemm_pack_b_bf16`, without the float32
/// V in between. x86-64: needs AVX512_BF16 (the caller checks).
void tkwino43_input_transform_bf16(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w,
                                   uint16_t *packed, ptrdiff_t slice_depth, ptrdiff_t panel_width, ptrdiff_t n,
                                   ptrdiff_t tile_offset, ptrdiff_t xi_stride);

/// `tkwino_input_transform` (F(2x2, 3x3)) written as the bfloat16 B of TensorKit's GEMM, with the
/// arguments and layout of `tkwino43_input_transform_bf16` (16 matrices `xi_stride` apart).
/// x86-64: needs AVX512_BF16.
void tkwino_input_transform_bf16(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w,
                                 uint16_t *packed, ptrdiff_t slice_depth, ptrdiff_t panel_width, ptrdiff_t n,
                                 ptrdiff_t tile_offset, ptrdiff_t xi_stride);

/// U = G g G^T (36 matrices `rows x cols`, xi = 6 * row + column, `rows * cols` floats apart) for
/// rows `row0 ..< row1`, with the arguments and layout of `tkwino_filter_transform`: forward
/// (rows output channels) or for the input gradient (rows input channels, filters rotated by 180
/// degrees). In float32 (TensorKit's frozen filters are transformed in double instead).
void tkwino43_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient, ptrdiff_t row0,
                               ptrdiff_t row1, float *u);

/// y[oc] = A^T M A + bias[oc] with the epilogue of `tkwino_output_transform`, for F(4x4, 3x3).
void tkwino43_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                               ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                               const float *residual, float *pre, int relu);

// AVX2 and FMA (x86-64 CPUs without AVX-512): the float32 transforms above, eight tiles per
// vector, with the same arguments, layouts and results bit for bit (winograd_avx2.c). x86-64: the
// caller checks `tkwino_avx2_available()`; elsewhere these are the portable definitions.
/// 1 when this CPU runs the `_avx2` transforms (AVX2 and FMA), else 0; always 0 off x86-64.
int tkwino_avx2_available(void);
// Tile rows ti0 ..< ti1 of one image only (`large`: F(4x4), else F(2x2)): the band's tiles from
// column 0 of `v` / `m` (`ld_t` of them a channel row), and of y only the rows they cover.
void tkwino_avx2_input_transform_band(int large, const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w,
                                      ptrdiff_t ti0, ptrdiff_t ti1, float *v, ptrdiff_t ld_t, ptrdiff_t channel_stride,
                                      float *scratch);
void tkwino_avx2_output_transform_band(int large, const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                       ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, ptrdiff_t ti0, ptrdiff_t ti1,
                                       const float *bias, float *y, const float *residual, float *pre, int relu,
                                       double *moments);
/// `tkwino_input_transform` with AVX2.
void tkwino_avx2_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                 ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch);
/// `tkwino_output_transform` with AVX2. The three AVX2 output transforms also add, when
/// `moments` is not NULL, each channel oc's sum and sum of squares of the values they store (after
/// the epilogue), in double, to moments[2 oc] and moments[2 oc + 1]: a batch norm's statistics
/// without another pass over y.
void tkwino_avx2_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                  ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                                  const float *residual, float *pre, int relu, double *moments);
/// `tkwino_output_gradient_transform` with AVX2.
void tkwino_avx2_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                           float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride);
/// `tkwino_filter_transform` with AVX2.
void tkwino_avx2_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient, ptrdiff_t row0,
                                  ptrdiff_t row1, float *u);
/// `tkwino43_filter_transform` with AVX2.
void tkwino43_avx2_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient, ptrdiff_t row0,
                                    ptrdiff_t row1, float *u);
/// `tkwino43_input_transform` with AVX2.
void tkwino43_avx2_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                   ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch);
/// `tkwino43_output_transform` with AVX2.
void tkwino43_avx2_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                    ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                                    const float *residual, float *pre, int relu, double *moments);
/// dM = A dY A^T for the 4x4 output-gradient tiles (zero past the map) of channels `o0 ..< o1`
/// of one image `gy[O][h][w]`, into the 36 matrices of F(4x4, 3x3) as `tkwino43_input_transform`
/// lays V out: the weight gradient's dU_xi = sum of dM_xi V_xi^T. The AVX2 kernel; off x86-64 a
/// scalar definition with the same contract.
void tkwino43_avx2_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                             float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                             ptrdiff_t channel_stride);
/// The same with AVX-512 (sixteen tiles a step instead of eight), bit for bit the same values;
/// off x86-64 the scalar definition. Call it only where `tkwino_available()`.
void tkwino43_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                        float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride);
/// dw = G^T dU G (the weight gradient's last step) for the (o, c) pairs p0 ..< p1 of a
/// convolution: dU is the sum of parts[0] + ... + parts[count - 1], added in that order, each
/// the 16 matrices of F(2x2, 3x3) (36 of F(4x4, 3x3) with `large`) `plane` = O C floats apart,
/// pair p at offset p in each; dw[p][9] is the pair's 3x3 filter gradient. Eight pairs per
/// vector; off x86-64 a scalar definition with the same operations.
void tkwino_avx2_filter_gradient(const float *const *parts, ptrdiff_t count, ptrdiff_t plane, int large,
                                 ptrdiff_t p0, ptrdiff_t p1, float *dw);
#ifdef __cplusplus
}
#endif
#endif
