#ifndef TENSORKIT_OPTIM_H
#define TENSORKIT_OPTIM_H

#include <stddef.h>

// The element-wise update of Adam and AdamW with AVX-512 or AVX2: TensorKit's
// `OptimizerKernels.adam` (which mirrors PyTorch's single-tensor CPU implementation) sixteen or
// eight lanes at a time, the same operations in the same order and no fused multiply-adds, so its
// results equal the Swift loop's bit for bit. The Swift loop compiles for baseline x86-64 (SSE2),
// where the update's square root and two divisions, not the memory it streams, set its speed.
//
// On other architectures `tkoptim_available()` returns 0 and the Swift loop runs.

/// The widest lane count this CPU runs `tkoptim_adam` with: 16 (x86-64 with AVX-512F/VL), 8
/// (AVX2), else 0.
int tkoptim_available(void);

/// For i in 0 ..< count, with s = -1 when `maximize` else 1:
///   p = p[i] * decay;  g = s * grad[i] (+ coupled * p when coupled != 0)
///   m = w < 0.5 ? m[i] + w * (g - m[i]) : g - (g - m[i]) * (1 - w)      (at::lerp)
///   v = v[i] * beta2 + one_minus_beta2 * g * g
///   second = vmax ? maximum(vmax[i], v) : v   (Swift's Float.maximum; stored to vmax)
///   p[i] = p + negative_step * (m / (sqrt(second) / bc2_sqrt + eps))
/// writing m[i], v[i] and, when given, vmax[i], `width` (16 or 8, at most `tkoptim_available()`)
/// lanes at a time.
void tkoptim_adam(int width, float *p, const float *grad, float *m, float *v, float *vmax, ptrdiff_t count,
                  float decay, float coupled, float w, float beta2, float one_minus_beta2, float bc2_sqrt, float eps,
                  float negative_step, int maximize);

#endif
