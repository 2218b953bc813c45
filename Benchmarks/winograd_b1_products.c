// The Winograd products of batch-1 inference at bfloat16 (_TensorKitGEMM), two threads splitting
// the xi matrices as TensorKit does: for one 3x3 layer, `xi` products of the packed filters
// U_xi (O x C bfloat16) with V_xi (C x tiles). "cold" cycles through `sets` different filter
// banks (as a pass through the model does: every layer's filters come from memory), "hot"
// repeats one bank (filters in L2/L3). Also the machine's read bandwidth on 2 threads. Shows
// how far the batch-1 products are from both limits. Defaults: layer3 on F(4x4) (14 tiles);
// `256 56 16 11` is layer3 on F(2x2), `512 14 16 5` layer4 on F(2x2).
//
//   G=Sources/Shims/_TensorKitGEMM
//   clang -O2 -mavx512f -I$G/include Benchmarks/winograd_b1_products.c $G/gemm.c $G/gemm_bf16.c \
//     $G/scratch.c -lpthread -o /tmp/wb1 && /tmp/wb1 [C tiles xi sets]
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "_TensorKitGEMM.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int channels = 256, tiles = 14, matrices = 36, sets = 11;
static uint16_t **banks;
static float *v, *m;

typedef struct {
    int bank, x0, x1;
    const float *p;
    size_t n;
    double sum;
} Part;

static void *products(void *arg) {
    Part *part = arg;
    for (int x = part->x0; x < part->x1; ++x)
        tkgemm_sgemm_packed_a_bf16(channels, 0, channels, 0, tiles, channels, 1, banks[part->bank * matrices + x],
                                   v + (size_t)x * channels * tiles, tiles, 0, m + (size_t)x * channels * tiles, tiles);
    return NULL;
}

static void *reads(void *arg) {
    Part *part = arg;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (size_t i = 0; i < part->n; i += 32) {
        s0 = _mm512_add_ps(s0, _mm512_load_ps(part->p + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(part->p + i + 16));
    }
    part->sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 4) channels = atoi(argv[1]), tiles = atoi(argv[2]), matrices = atoi(argv[3]), sets = atoi(argv[4]);
    if (!tkgemm_bf16_available()) {
        printf("this CPU has no AVX512_BF16\n");
        return 0;
    }
    size_t size = tkgemm_packed_a_bf16_size(channels, channels);
    float *w = malloc(sizeof(float) * (size_t)channels * channels);
    for (int i = 0; i < channels * channels; ++i) w[i] = (float)(rand() % 100) / 100.0f;
    banks = malloc(sizeof(uint16_t *) * (size_t)(sets * matrices));
    for (int i = 0; i < sets * matrices; ++i) {
        banks[i] = aligned_alloc(64, (size * 2 + 63) / 64 * 64);
        tkgemm_pack_a_bf16(0, channels, channels, w, channels, banks[i]);
    }
    v = aligned_alloc(64, sizeof(float) * (size_t)(matrices * channels * tiles) + 64);
    m = aligned_alloc(64, sizeof(float) * (size_t)(matrices * channels * tiles) + 64);
    for (size_t i = 0; i < (size_t)(matrices * channels * tiles); ++i) v[i] = 1.0f;
    double macs = (double)matrices * channels * channels * tiles, mb = size * 2.0 * matrices / 1e6;
    printf("C = O = %d, %d tiles, %d matrices: %.1f MB of filters, %.1f M multiply-adds per layer\n", channels, tiles,
           matrices, mb, macs / 1e6);
    for (int hot = 0; hot < 2; ++hot) {
        double best = 1e9;
        for (int r = 0; r < 50; ++r) {
            double t0 = now();
            for (int s = 0; s < sets; ++s) {
                pthread_t helper;
                Part a = {hot ? 0 : s, 0, matrices / 2, NULL, 0, 0}, b = {hot ? 0 : s, matrices / 2, matrices, NULL, 0, 0};
                pthread_create(&helper, NULL, products, &a);
                products(&b);
                pthread_join(helper, NULL);
            }
            double dt = (now() - t0) / sets;
            if (dt < best) best = dt;
        }
        printf("%s: best %.3f ms per layer, %.0f GFLOP/s, filters read at %.1f GB/s\n",
               hot ? "hot (one bank, cached)" : "cold (a new bank per layer)", best * 1e3, 2 * macs / best / 1e9,
               mb / 1e3 / best);
    }
    size_t n = (size_t)64 << 20;  // 256 MiB of floats
    float *big = aligned_alloc(64, n * sizeof(float));
    for (size_t i = 0; i < n; ++i) big[i] = (float)(i & 7);
    double best = 1e9;
    for (int r = 0; r < 10; ++r) {
        pthread_t helper;
        Part a = {0, 0, 0, big, n / 2, 0}, b = {0, 0, 0, big + n / 2, n / 2, 0};
        double t0 = now();
        pthread_create(&helper, NULL, reads, &a);
        reads(&b);
        pthread_join(helper, NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("memory read bandwidth, 2 threads, 256 MiB: %.1f GB/s\n", n * sizeof(float) / best / 1e9);
    return 0;
}
