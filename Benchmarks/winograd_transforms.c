// The F(4x4, 3x3) tile transforms (_TensorKitWinograd) on the model's layer shapes, one thread,
// with V and M laid out as TensorKit lays them: xi planes `rows x tiles` floats apart, either
// packed tight (the layout before 2026-12-03) or padded to an odd number of 64-byte lines
// (Winograd.planeStride). Strides that are multiples of 4 KiB put each tile's 36 accesses into
// one cache set; the padded layout avoids that. The bf16 GEMM column is what the 36 products
// cost at 80% of one core's vdpbf16ps peak (522 GFLOP/s on Zen 5, Benchmarks/fma_peak.c).
//
//   W=Sources/Shims/_TensorKitWinograd
//   clang -O2 -I$W/include Benchmarks/winograd_transforms.c $W/winograd.c -o /tmp/wt && /tmp/wt
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "_TensorKitWinograd.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Winograd.planeStride: whole lines, an odd number of them.
static long plane_stride(long rows, long tiles, int padded) {
    long n = rows * tiles;
    if (!padded) return n;
    long lines = (n + 15) / 16;
    return (lines | 1) * 16;
}

static void run(int c, int h, int w, int images, int padded) {
    int th = (h + 3) / 4, tw = (w + 3) / 4, tiles = th * tw * images;
    long stride = plane_stride(c, tiles, padded);
    float *x = malloc(sizeof(float) * (size_t)c * h * w * images);
    float *v = malloc(sizeof(float) * (size_t)(36 * stride + 16));
    float *y = malloc(sizeof(float) * (size_t)c * h * w * images);
    float *scratch = malloc(sizeof(float) * tkwino43_input_scratch(h, w));
    float *bias = calloc((size_t)c, sizeof(float));
    for (long i = 0; i < (long)c * h * w * images; ++i) x[i] = (float)(i % 7);
    for (long i = 0; i < 36 * stride; ++i) v[i] = 1.0f;
    const int rounds = 20;
    double t0 = now();
    for (int r = 0; r < rounds; ++r)
        for (int j = 0; j < images; ++j)
            tkwino43_input_transform(x + (long)j * c * h * w, 0, c, h, w, v, tiles, j * th * tw, stride, scratch);
    double input = (now() - t0) / rounds;
    t0 = now();
    for (int r = 0; r < rounds; ++r)
        for (int j = 0; j < images; ++j)
            tkwino43_output_transform(v, 0, c, tiles, j * th * tw, stride, h, w, bias, y + (long)j * c * h * w, NULL,
                                      NULL, 1);
    double output = (now() - t0) / rounds;
    double gemm = 36.0 * c * c * tiles * 2 / (0.8 * 522e9);
    printf("C=%-3d %2dx%-3d x%d images (%3d tiles), %s planes (%6ld floats): input %.3f ms, output %.3f ms; "
           "bf16 GEMM at 80%% of peak %.3f ms\n",
           c, h, w, images, tiles, padded ? "padded" : "tight ", stride, input * 1e3, output * 1e3, gemm * 1e3);
    free(x), free(v), free(y), free(scratch), free(bias);
}

int main(void) {
    // layer1-4 at batch 16 as one worker groups them (F(4x4) groups of >= 128 tiles).
    const int shapes[][4] = {{64, 32, 108, 1}, {128, 16, 54, 3}, {256, 8, 27, 8}, {512, 4, 14, 8}};
    for (int padded = 0; padded <= 1; ++padded)
        for (int i = 0; i < 4; ++i) run(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], padded);
    return 0;
}
