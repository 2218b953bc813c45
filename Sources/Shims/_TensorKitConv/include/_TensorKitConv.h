#ifndef TENSORKIT_CONV_H
#define TENSORKIT_CONV_H

#include <stddef.h>

// Direct convolution kernels for layers where im2col + GEMM is mostly data movement: the ResNet
// stem (one input channel, k x k filters, stride 2) with its ReLU and 3x3 / stride-2 / padding-1
// max pooling in the same pass, so the full-size map between them is never written.
//
// Shapes: one image x[h][w]; filters[o][k * k] (batch norm already folded in), bias[o]; the
// convolution's output is oh x ow with oh = (h + 2 pad - k) / 2 + 1 (ow alike), the pooled output
// ph x pw with ph = (oh - 1) / 2 + 1. Channel c of the result is written at y + c * ph * pw for
// c in o0 ..< o1. `scratch` holds at least `tkconv_stem_scratch(h, w, k, pad)` floats.
//
// Results equal maxpool(relu(conv + bias)) computed in float32, with the same sums in the same
// order in both definitions (j fastest, then i); NaN propagates through ReLU and the pooling.

/// 1 when the AVX-512 definition runs on this CPU (x86-64 with AVX-512F), else 0.
int tkconv_available(void);

/// 1 when the AVX2 definition runs on this CPU (x86-64 with AVX2 and FMA), else 0.
int tkconv_avx2_available(void);

/// Floats of scratch `tkconv_stem_pool`, `tkconv_stem_pool_avx2` and `tkconv_stem_pool_portable` need.
size_t tkconv_stem_scratch(ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t pad);

/// The AVX-512 kernel (x86-64 only; elsewhere the portable definition under this name).
void tkconv_stem_pool(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias, ptrdiff_t k,
                      ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch);

/// The AVX2 kernel, eight columns per vector (x86-64 only; elsewhere the portable definition).
void tkconv_stem_pool_avx2(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias,
                           ptrdiff_t k, ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch);

/// The same result, one output at a time, on every architecture (tests compare the two).
void tkconv_stem_pool_portable(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias,
                               ptrdiff_t k, ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch);

#endif
