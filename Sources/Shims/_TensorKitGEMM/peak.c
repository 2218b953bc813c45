// The machine's multiply-add rate: chains of independent FMAs (or bfloat16 dot products) on
// registers only, no memory traffic. Benchmarks divide a kernel's FLOP rate by it to show the
// distance to the physical limit, measured at the clock the cores actually run (boost, AVX-512
// frequency licences) rather than estimated from the nominal one.
//
// Twelve accumulators per loop cover the FMA latency (4-5 cycles) on two pipes. Each kernel
// runs only where `tkgemm_peak_flops` finds its instructions; elsewhere it returns 0.

#include "_TensorKitGEMM.h"

#if defined(__x86_64__)
#include <immintrin.h>

enum { CHAINS = 12 };

// Keeps the accumulators' sum alive so the loops are not removed.
static volatile float sink;

__attribute__((target("avx2,fma"))) static void fma256(int64_t iterations) {
    __m256 acc[CHAINS];
    for (int j = 0; j < CHAINS; ++j) acc[j] = _mm256_set1_ps((float)j * 1e-3f);
    // acc = acc * x + y converges to y / (1 - x) = 0.1: no overflow, no subnormals.
    __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < CHAINS; ++j) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    __m256 total = acc[0];
    for (int j = 1; j < CHAINS; ++j) total = _mm256_add_ps(total, acc[j]);
    sink = _mm256_cvtss_f32(total);
}

__attribute__((target("avx512f"))) static void fma512(int64_t iterations) {
    __m512 acc[CHAINS];
    for (int j = 0; j < CHAINS; ++j) acc[j] = _mm512_set1_ps((float)j * 1e-3f);
    __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < CHAINS; ++j) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    __m512 total = acc[0];
    for (int j = 1; j < CHAINS; ++j) total = _mm512_add_ps(total, acc[j]);
    sink = _mm512_reduce_add_ps(total);
}

__attribute__((target("avx512f,avx512bf16"))) static void dpbf16(int64_t iterations) {
    __m512 acc[CHAINS];
    for (int j = 0; j < CHAINS; ++j) acc[j] = _mm512_setzero_ps();
    // Pairs of 2^-7 * 2^-7: each step adds 2^-13 to every lane, 12 * 2^-13 * 2^27 at most.
    __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.0078125f), _mm512_set1_ps(0.0078125f));
    for (int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < CHAINS; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, a);
    __m512 total = acc[0];
    for (int j = 1; j < CHAINS; ++j) total = _mm512_add_ps(total, acc[j]);
    sink = _mm512_reduce_add_ps(total);
}

double tkgemm_peak_flops(int kind, int64_t iterations) {
    __builtin_cpu_init();
    if (iterations <= 0) return 0;
    switch (kind) {
    case TKGEMM_PEAK_FP32_AVX2:
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
        fma256(iterations);
        return (double)iterations * CHAINS * 8 * 2;
    case TKGEMM_PEAK_FP32_AVX512:
        if (!tkgemm_available()) return 0;
        fma512(iterations);
        return (double)iterations * CHAINS * 16 * 2;
    case TKGEMM_PEAK_BF16_AVX512:
        if (!tkgemm_bf16_available()) return 0;
        dpbf16(iterations);
        // Each lane adds two products: 2 multiplies and 2 adds.
        return (double)iterations * CHAINS * 16 * 4;
    default:
        return 0;
    }
}

#else

double tkgemm_peak_flops(int kind, int64_t iterations) {
    (void)kind;
    (void)iterations;
    return 0;
}

#endif
