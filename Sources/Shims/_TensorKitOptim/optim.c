#include "_TensorKitOptim.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TK_AVX512 __attribute__((target("avx512f,avx512vl")))

#define TK_AVX2 __attribute__((target("avx2")))

int tkoptim_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 16
                 : __builtin_cpu_supports("avx2")                                       ? 8
                                                                                          : 0;
    }
    return cached;
}

// Sixteen lanes of the update (masked to `k` at the tail; masked-off lanes are not read or written).
TK_AVX512 static inline __attribute__((always_inline)) void adam16(float *p, const float *grad, float *m, float *v,
                                                                  float *vmax, __mmask16 k, __m512 decay,
                                                                  __m512 coupled, int has_coupled, __m512 w,
                                                                  __m512 one_minus_w, int small_weight, __m512 beta2,
                                                                  __m512 one_minus_beta2, __m512 bc2, __m512 eps,
                                                                  __m512 negative_step, __m512 sign) {
    __m512 pv = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, p), decay);
    __m512 g = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, grad), sign);
    if (has_coupled) g = _mm512_add_ps(g, _mm512_mul_ps(coupled, pv));
    __m512 m0 = _mm512_maskz_loadu_ps(k, m);
    __m512 mv = small_weight ? _mm512_add_ps(m0, _mm512_mul_ps(w, _mm512_sub_ps(g, m0)))
                             : _mm512_sub_ps(g, _mm512_mul_ps(_mm512_sub_ps(g, m0), one_minus_w));
    _mm512_mask_storeu_ps(m, k, mv);
    __m512 vv = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, v), beta2),
                              _mm512_mul_ps(_mm512_mul_ps(one_minus_beta2, g), g));
    _mm512_mask_storeu_ps(v, k, vv);
    __m512 second = vv;
    if (vmax) {
        __m512 old = _mm512_maskz_loadu_ps(k, vmax);
        // Swift's pointwiseMax (Float.maximum): old where old > v or v is NaN, else v; so a
        // quiet NaN loses to a number, and of -0 and +0 the later one (v) wins.
        __mmask16 keep = _mm512_cmp_ps_mask(old, vv, _CMP_GT_OQ) | _mm512_cmp_ps_mask(vv, vv, _CMP_UNORD_Q);
        second = _mm512_mask_blend_ps(keep, vv, old);
        _mm512_mask_storeu_ps(vmax, k, second);
    }
    __m512 denominator = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(second), bc2), eps);
    _mm512_mask_storeu_ps(p, k, _mm512_add_ps(pv, _mm512_mul_ps(negative_step, _mm512_div_ps(mv, denominator))));
}

// Eight lanes of the same update with AVX2 (masked loads and stores at the tail: `k` has the sign
// bit set in the lanes to touch). No FMA in the target, so no multiply-add is fused.
TK_AVX2 static inline __attribute__((always_inline)) void adam8(float *p, const float *grad, float *m, float *v,
                                                               float *vmax, __m256i k, __m256 decay, __m256 coupled,
                                                               int has_coupled, __m256 w, __m256 one_minus_w,
                                                               int small_weight, __m256 beta2, __m256 one_minus_beta2,
                                                               __m256 bc2, __m256 eps, __m256 negative_step,
                                                               __m256 sign) {
    __m256 pv = _mm256_mul_ps(_mm256_maskload_ps(p, k), decay);
    __m256 g = _mm256_mul_ps(_mm256_maskload_ps(grad, k), sign);
    if (has_coupled) g = _mm256_add_ps(g, _mm256_mul_ps(coupled, pv));
    __m256 m0 = _mm256_maskload_ps(m, k);
    __m256 mv = small_weight ? _mm256_add_ps(m0, _mm256_mul_ps(w, _mm256_sub_ps(g, m0)))
                             : _mm256_sub_ps(g, _mm256_mul_ps(_mm256_sub_ps(g, m0), one_minus_w));
    _mm256_maskstore_ps(m, k, mv);
    __m256 vv = _mm256_add_ps(_mm256_mul_ps(_mm256_maskload_ps(v, k), beta2),
                              _mm256_mul_ps(_mm256_mul_ps(one_minus_beta2, g), g));
    _mm256_maskstore_ps(v, k, vv);
    __m256 second = vv;
    if (vmax) {
        __m256 old = _mm256_maskload_ps(vmax, k);
        // As adam16: old where old > v or v is NaN, else v.
        __m256 keep = _mm256_or_ps(_mm256_cmp_ps(old, vv, _CMP_GT_OQ), _mm256_cmp_ps(vv, vv, _CMP_UNORD_Q));
        second = _mm256_blendv_ps(vv, old, keep);
        _mm256_maskstore_ps(vmax, k, second);
    }
    __m256 denominator = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(second), bc2), eps);
    _mm256_maskstore_ps(p, k, _mm256_add_ps(pv, _mm256_mul_ps(negative_step, _mm256_div_ps(mv, denominator))));
}

TK_AVX2 static void adam_avx2(float *p, const float *grad, float *m, float *v, float *vmax, ptrdiff_t count,
                              float decay, float coupled, float w, float beta2, float one_minus_beta2, float bc2_sqrt,
                              float eps, float negative_step, int maximize) {
    __m256 vdecay = _mm256_set1_ps(decay), vcoupled = _mm256_set1_ps(coupled), vw = _mm256_set1_ps(w);
    __m256 vone_minus_w = _mm256_set1_ps(1.0f - w), vbeta2 = _mm256_set1_ps(beta2);
    __m256 vomb2 = _mm256_set1_ps(one_minus_beta2), vbc2 = _mm256_set1_ps(bc2_sqrt), veps = _mm256_set1_ps(eps);
    __m256 vstep = _mm256_set1_ps(negative_step), sign = _mm256_set1_ps(maximize ? -1.0f : 1.0f);
    int has_coupled = coupled != 0.0f, small_weight = w < 0.5f;
    __m256i all = _mm256_set1_epi32(-1);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8)
        adam8(p + i, grad + i, m + i, v + i, vmax ? vmax + i : NULL, all, vdecay, vcoupled, has_coupled, vw,
              vone_minus_w, small_weight, vbeta2, vomb2, vbc2, veps, vstep, sign);
    if (i < count) {
        __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        adam8(p + i, grad + i, m + i, v + i, vmax ? vmax + i : NULL, tail, vdecay, vcoupled, has_coupled, vw,
              vone_minus_w, small_weight, vbeta2, vomb2, vbc2, veps, vstep, sign);
    }
}

TK_AVX512 static void adam_avx512(float *p, const float *grad, float *m, float *v, float *vmax, ptrdiff_t count, float decay,
                            float coupled, float w, float beta2, float one_minus_beta2, float bc2_sqrt, float eps,
                            float negative_step, int maximize) {
    __m512 vdecay = _mm512_set1_ps(decay), vcoupled = _mm512_set1_ps(coupled), vw = _mm512_set1_ps(w);
    __m512 vone_minus_w = _mm512_set1_ps(1.0f - w), vbeta2 = _mm512_set1_ps(beta2);
    __m512 vomb2 = _mm512_set1_ps(one_minus_beta2), vbc2 = _mm512_set1_ps(bc2_sqrt), veps = _mm512_set1_ps(eps);
    __m512 vstep = _mm512_set1_ps(negative_step), sign = _mm512_set1_ps(maximize ? -1.0f : 1.0f);
    int has_coupled = coupled != 0.0f, small_weight = w < 0.5f;
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16)
        adam16(p + i, grad + i, m + i, v + i, vmax ? vmax + i : NULL, (__mmask16)0xFFFF, vdecay, vcoupled, has_coupled,
               vw, vone_minus_w, small_weight, vbeta2, vomb2, vbc2, veps, vstep, sign);
    if (i < count)
        adam16(p + i, grad + i, m + i, v + i, vmax ? vmax + i : NULL, (__mmask16)((1u << (count - i)) - 1), vdecay,
               vcoupled, has_coupled, vw, vone_minus_w, small_weight, vbeta2, vomb2, vbc2, veps, vstep, sign);
}

void tkoptim_adam(int width, float *p, const float *grad, float *m, float *v, float *vmax, ptrdiff_t count,
                  float decay, float coupled, float w, float beta2, float one_minus_beta2, float bc2_sqrt, float eps,
                  float negative_step, int maximize) {
    if (width == 16)
        adam_avx512(p, grad, m, v, vmax, count, decay, coupled, w, beta2, one_minus_beta2, bc2_sqrt, eps,
                    negative_step, maximize);
    else
        adam_avx2(p, grad, m, v, vmax, count, decay, coupled, w, beta2, one_minus_beta2, bc2_sqrt, eps, negative_step,
                  maximize);
}

#else

int tkoptim_available(void) { return 0; }

// Never called off x86-64 (tkoptim_available() is 0); defined so that every platform links.
void tkoptim_adam(int width, float *p, const float *grad, float *m, float *v, float *vmax, ptrdiff_t count,
                  float decay, float coupled, float w, float beta2, float one_minus_beta2, float bc2_sqrt, float eps,
                  float negative_step, int maximize) {
    (void)width, (void)p, (void)grad, (void)m, (void)v, (void)vmax, (void)count, (void)decay, (void)coupled, (void)w;
    (void)beta2, (void)one_minus_beta2, (void)bc2_sqrt, (void)eps, (void)negative_step, (void)maximize;
}

#endif
