// Portable (p_) vs AVX-512 definitions of the TensorKit shims, on an x86-64 host with AVX-512.
// Built and run by Scripts/check-shims-cross.sh (portable_gemm.c / portable_winograd.c with their
// symbols renamed p_*); prints "N checks, 0 failures" and exits 0, or names each failure and exits 1.
#include "_TensorKitGEMM.h"
#include "_TensorKitWinograd.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
int p_tkgemm_available(void);
int p_tkgemm_sgemm(int, int, ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *, ptrdiff_t, const float *, ptrdiff_t, float, float *, ptrdiff_t);
size_t p_tkgemm_packed_a_size(ptrdiff_t, ptrdiff_t);
void p_tkgemm_pack_a(int, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, float *);
void p_tkgemm_sgemm_packed_a(ptrdiff_t, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float, const float *, const float *, ptrdiff_t, float, float *, ptrdiff_t);
int p_tkgemm_bf16_available(void);
int p_tkgemm_sgemm_bf16(int, int, ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *, ptrdiff_t, const float *, ptrdiff_t, float, float *, ptrdiff_t);
size_t p_tkgemm_packed_a_bf16_size(ptrdiff_t, ptrdiff_t);
void p_tkgemm_pack_a_bf16(int, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, uint16_t *);
void p_tkgemm_sgemm_packed_a_bf16(ptrdiff_t, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float, const uint16_t *, const float *, ptrdiff_t, float, float *, ptrdiff_t);
void p_tkgemm_round_bf16(const float *, float *, size_t);
size_t p_tkgemm_packed_b_bf16_size(ptrdiff_t, ptrdiff_t);
void p_tkgemm_pack_b_bf16(ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, uint16_t *);
void p_tkgemm_sgemm_packed_ab_bf16(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const uint16_t *, const uint16_t *, float *, ptrdiff_t);
void p_tkwino43_input_transform_bf16(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, uint16_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t);
void p_tkwino_input_transform_bf16(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, uint16_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t);
int p_tkwino_available(void);
void p_tkwino_input_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *);
size_t p_tkwino_input_scratch(ptrdiff_t, ptrdiff_t);
void p_tkwino_output_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int);
void p_tkwino_filter_transform(const float *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino43_filter_transform(const float *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino43_input_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *);
size_t p_tkwino43_input_scratch(ptrdiff_t, ptrdiff_t);
void p_tkwino43_output_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int);
void p_tkwino_output_gradient_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
void p_tkwino43_output_gradient_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t);

static int fails = 0, checks = 0;
static float rnd(void) { return (float)((double)rand() / RAND_MAX * 2.0 - 1.0); }
static float *randv(size_t n) { float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64); for (size_t i = 0; i < n; ++i) p[i] = rnd(); return p; }
static float *fillv(size_t n, float v) { float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64); for (size_t i = 0; i < n; ++i) p[i] = v; return p; }
static void near(const char *what, const float *x, const float *y, size_t n, float tol) {
    ++checks;
    for (size_t i = 0; i < n; ++i) {
        int bothnan = isnan(x[i]) && isnan(y[i]);
        if (!bothnan && (isnan(x[i]) || isnan(y[i]) || fabsf(x[i] - y[i]) > tol * (1 + fabsf(y[i])))) {
            printf("FAIL %s at %zu: %g vs %g\n", what, i, x[i], y[i]); ++fails; return;
        }
    }
}
static void exact(const char *what, const float *x, const float *y, size_t n) {
    ++checks;
    if (memcmp(x, y, n * 4)) { for (size_t i = 0; i < n; ++i) if (memcmp(x + i, y + i, 4)) { printf("FAIL(exact) %s at %zu: %g vs %g\n", what, i, x[i], y[i]); break; } ++fails; }
}

static void gemm_case(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, float beta, int nan_c) {
    ptrdiff_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
    float *a = randv((size_t)((ta ? k : m) * lda)), *b = randv((size_t)((tb ? n : k) * ldb));
    size_t cn = (size_t)(m * ldc);
    float *c0 = randv(cn);
    if (nan_c) for (size_t i = 0; i < cn; ++i) c0[i] = NAN;
    float *c1 = fillv(cn, 0), *c2 = fillv(cn, 0);
    memcpy(c1, c0, cn * 4); memcpy(c2, c0, cn * 4);
    char what[160]; snprintf(what, sizeof what, "sgemm ta=%d tb=%d m=%td n=%td k=%td a=%g b=%g nanC=%d", ta, tb, m, n, k, alpha, beta, nan_c);
    int r1 = tkgemm_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc);
    int r2 = p_tkgemm_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
    if (r1 != r2) { printf("FAIL rc %s\n", what); ++fails; }
    near(what, c2, c1, cn, 1e-4f);
    if (nan_c && beta == 0.0f) for (ptrdiff_t i = 0; i < m; ++i) for (ptrdiff_t j = 0; j < n; ++j) if (isnan(c2[i * ldc + j])) { printf("FAIL NaN propagated %s\n", what); ++fails; i = m; break; }
    // pre-packed A: identical packing, then row blocks as the worker pool splits them
    size_t ps = tkgemm_packed_a_size(m, k);
    if (ps != p_tkgemm_packed_a_size(m, k)) { printf("FAIL packed size\n"); ++fails; }
    if (ps) {
        float *pa1 = fillv(ps, 7), *pa2 = fillv(ps, 7);
        tkgemm_pack_a(ta, m, k, a, lda, pa1);
        p_tkgemm_pack_a(ta, m, k, a, lda, pa2);
        snprintf(what, sizeof what, "pack_a ta=%d m=%td k=%td", ta, m, k);
        exact(what, pa2, pa1, ps);
        memcpy(c1, c0, cn * 4); memcpy(c2, c0, cn * 4);
        for (ptrdiff_t r0 = 0; r0 < m; r0 += 16) {
            ptrdiff_t rows = m - r0 < 16 ? m - r0 : 16;
            tkgemm_sgemm_packed_a(m, r0, rows, tb, n, k, alpha, pa1, b, ldb, beta, c1 + r0 * ldc, ldc);
            p_tkgemm_sgemm_packed_a(m, r0, rows, tb, n, k, alpha, pa2, b, ldb, beta, c2 + r0 * ldc, ldc);
        }
        snprintf(what, sizeof what, "sgemm_packed_a tb=%d m=%td n=%td k=%td a=%g b=%g", tb, m, n, k, alpha, beta);
        near(what, c2, c1, cn, 1e-4f);
        free(pa1); free(pa2);
    }
    free(a); free(b); free(c0); free(c1); free(c2);
}

// The bfloat16 GEMM: AVX512_BF16 against the portable branch (same rounding, float32 sums in
// another order) and against the float32 GEMM of the operands rounded by tkgemm_round_bf16
// (a product of two bfloat16 is exact in float32, so only the order of the sums differs);
// packing bit for bit, pre-packed row blocks as the worker pool splits them.
static void bf16_case(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, float beta) {
    ptrdiff_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
    size_t an = (size_t)((ta ? k : m) * lda), bn = (size_t)((tb ? n : k) * ldb), cn = (size_t)(m * ldc);
    float *a = randv(an), *b = randv(bn), *c0 = randv(cn);
    float *ar = fillv(an, 0), *br = fillv(bn, 0), *c1 = fillv(cn, 0), *c2 = fillv(cn, 0), *c3 = fillv(cn, 0);
    tkgemm_round_bf16(a, ar, an); tkgemm_round_bf16(b, br, bn);
    memcpy(c1, c0, cn * 4); memcpy(c2, c0, cn * 4); memcpy(c3, c0, cn * 4);
    char what[160]; snprintf(what, sizeof what, "sgemm_bf16 ta=%d tb=%d m=%td n=%td k=%td a=%g b=%g", ta, tb, m, n, k, alpha, beta);
    if (tkgemm_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc) != 0) { printf("FAIL rc %s\n", what); ++fails; }
    p_tkgemm_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc);
    tkgemm_sgemm(ta, tb, m, n, k, alpha, ar, lda, br, ldb, beta, c3, ldc);
    near(what, c2, c1, cn, 1e-4f);
    near(what, c3, c1, cn, 1e-4f);
    size_t ps = tkgemm_packed_a_bf16_size(m, k);
    if (ps != p_tkgemm_packed_a_bf16_size(m, k)) { printf("FAIL packed bf16 size\n"); ++fails; }
    if (ps) {
        uint16_t *pa1 = aligned_alloc(64, (ps * 2 + 63) / 64 * 64), *pa2 = aligned_alloc(64, (ps * 2 + 63) / 64 * 64);
        memset(pa1, 0x77, ps * 2); memset(pa2, 0x55, ps * 2);
        tkgemm_pack_a_bf16(ta, m, k, a, lda, pa1);
        p_tkgemm_pack_a_bf16(ta, m, k, a, lda, pa2);
        ++checks;
        if (memcmp(pa1, pa2, ps * 2)) { printf("FAIL pack_a_bf16 ta=%d m=%td k=%td\n", ta, m, k); ++fails; }
        memcpy(c1, c0, cn * 4); memcpy(c2, c0, cn * 4);
        for (ptrdiff_t r0 = 0; r0 < m; r0 += 16) {
            ptrdiff_t rows = m - r0 < 16 ? m - r0 : 16;
            tkgemm_sgemm_packed_a_bf16(m, r0, rows, tb, n, k, alpha, pa1, b, ldb, beta, c1 + r0 * ldc, ldc);
            p_tkgemm_sgemm_packed_a_bf16(m, r0, rows, tb, n, k, alpha, pa2, b, ldb, beta, c2 + r0 * ldc, ldc);
        }
        snprintf(what, sizeof what, "sgemm_packed_a_bf16 tb=%d m=%td n=%td k=%td", tb, m, n, k);
        near(what, c2, c1, cn, 1e-4f);
        near(what, c3, c1, cn, 1e-4f);
        free(pa1); free(pa2);
    }
    free(a); free(b); free(c0); free(ar); free(br); free(c1); free(c2); free(c3);
}

// Rounding of special values: the hardware conversion (through packing a 1 x k A) against
// tkgemm_round_bf16 and its portable twin, bit for bit.
static void bf16_rounding(void) {
    float v[] = {1.0f, -1.0f, 0.0f, -0.0f, 1.00390625f /* tie, to even: 1 */, 1.01171875f /* tie, to 1.015625 */,
                 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN, 1e-39f /* subnormal */, -1e-40f, 1.17549435e-38f,
                 3.14159265f, -2.71828183f, 65504.0f, 1e-20f, 0.1f, 0.3f, 1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 512.0f};
    enum { N = sizeof v / sizeof v[0] };
    float r1[N], r2[N], hw[N];
    tkgemm_round_bf16(v, r1, N);
    p_tkgemm_round_bf16(v, r2, N);
    exact("round_bf16 portable", r2, r1, N);
    uint16_t packed[8 * (N + 1)];
    tkgemm_pack_a_bf16(0, 1, N, v, N, packed);
    for (int i = 0; i < N; ++i) {  // row 0 of the panel: pair i / 2, half i % 2
        uint32_t u = (uint32_t)packed[(i / 2) * 16 + (i % 2)] << 16;
        memcpy(hw + i, &u, 4);
    }
    exact("round_bf16 vs vcvtne2ps2bf16", hw, r1, N);
}

static void wino_case(ptrdiff_t C, ptrdiff_t O, ptrdiff_t h, ptrdiff_t w) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2, tiles = th * tw;
    ptrdiff_t ld_t = tiles + 3, tile_offset = 2, chans = C > O ? C : O, channel_stride = chans * ld_t + 1;
    size_t vn = (size_t)(16 * channel_stride);
    char what[128];
    // input transform (channels 1 ..< C)
    float *x = randv((size_t)(C * h * w));
    float *v1 = fillv(vn, 9), *v2 = fillv(vn, 9);
    float *s1 = fillv(tkwino_input_scratch(h, w), 3), *s2 = fillv(p_tkwino_input_scratch(h, w), 3);
    tkwino_input_transform(x, 1, C, h, w, v1, ld_t, tile_offset, channel_stride, s1);
    p_tkwino_input_transform(x, 1, C, h, w, v2, ld_t, tile_offset, channel_stride, s2);
    snprintf(what, sizeof what, "input C=%td h=%td w=%td", C, h, w); exact(what, v2, v1, vn);
    // output transform, every combination of bias/residual/pre/relu, with NaNs and -0 in M
    float *mm = randv(vn);
    mm[tile_offset] = NAN; mm[tile_offset + 1] = -0.0f;
    float *bias = randv((size_t)O), *res = randv((size_t)(O * h * w));
    size_t yn = (size_t)(O * h * w);
    for (int mode = 0; mode < 16; ++mode) {
        float *y1 = fillv(yn, 5), *y2 = fillv(yn, 5), *p1 = fillv(yn, 6), *p2 = fillv(yn, 6);
        int hb = mode & 1, hr = mode & 2, hp = mode & 4, relu = (mode & 8) != 0;
        tkwino_output_transform(mm, 0, O, ld_t, tile_offset, channel_stride, h, w, hb ? bias : NULL, y1, hr ? res : NULL, hp ? p1 : NULL, relu);
        p_tkwino_output_transform(mm, 0, O, ld_t, tile_offset, channel_stride, h, w, hb ? bias : NULL, y2, hr ? res : NULL, hp ? p2 : NULL, relu);
        snprintf(what, sizeof what, "output O=%td h=%td w=%td mode=%d", O, h, w, mode); exact(what, y2, y1, yn); exact(what, p2, p1, yn);
        free(y1); free(y2); free(p1); free(p2);
    }
    // filter transform, both directions, a middle row range
    float *wt = randv((size_t)(O * C * 9));
    for (int g = 0; g < 2; ++g) {
        ptrdiff_t rows = g ? C : O;
        size_t un = (size_t)(16 * O * C);
        float *u1 = fillv(un, 4), *u2 = fillv(un, 4);
        tkwino_filter_transform(wt, O, C, g, rows / 3, rows, u1);
        p_tkwino_filter_transform(wt, O, C, g, rows / 3, rows, u2);
        snprintf(what, sizeof what, "filter O=%td C=%td grad=%d", O, C, g); exact(what, u2, u1, un);
        free(u1); free(u2);
    }
    // output-gradient transform
    float *gy = randv(yn), *m1 = fillv(vn, 8), *m2 = fillv(vn, 8);
    tkwino_output_gradient_transform(gy, 1, O, h, w, m1, ld_t, tile_offset, channel_stride);
    p_tkwino_output_gradient_transform(gy, 1, O, h, w, m2, ld_t, tile_offset, channel_stride);
    snprintf(what, sizeof what, "outgrad O=%td h=%td w=%td", O, h, w); exact(what, m2, m1, vn);
    free(x); free(v1); free(v2); free(s1); free(s2); free(mm); free(bias); free(res); free(wt); free(gy); free(m1); free(m2);
}

// F(4x4, 3x3): input and output transforms, vector against portable, bit for bit.
static void wino43_case(ptrdiff_t C, ptrdiff_t O, ptrdiff_t h, ptrdiff_t w) {
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4, tiles = th * tw;
    ptrdiff_t ld_t = tiles + 3, tile_offset = 2, chans = C > O ? C : O, channel_stride = chans * ld_t + 1;
    size_t vn = (size_t)(36 * channel_stride);
    char what[128];
    float *x = randv((size_t)(C * h * w));
    float *v1 = fillv(vn, 9), *v2 = fillv(vn, 9);
    float *s1 = fillv(tkwino43_input_scratch(h, w), 3), *s2 = fillv(p_tkwino43_input_scratch(h, w), 3);
    tkwino43_input_transform(x, 1, C, h, w, v1, ld_t, tile_offset, channel_stride, s1);
    p_tkwino43_input_transform(x, 1, C, h, w, v2, ld_t, tile_offset, channel_stride, s2);
    snprintf(what, sizeof what, "input43 C=%td h=%td w=%td", C, h, w); exact(what, v2, v1, vn);
    float *mm = randv(vn);
    mm[tile_offset] = NAN; mm[tile_offset + 1] = -0.0f;
    float *bias = randv((size_t)O), *res = randv((size_t)(O * h * w));
    size_t yn = (size_t)(O * h * w);
    for (int mode = 0; mode < 16; ++mode) {
        float *y1 = fillv(yn, 5), *y2 = fillv(yn, 5), *p1 = fillv(yn, 6), *p2 = fillv(yn, 6);
        int hb = mode & 1, hr = mode & 2, hp = mode & 4, relu = (mode & 8) != 0;
        tkwino43_output_transform(mm, 0, O, ld_t, tile_offset, channel_stride, h, w, hb ? bias : NULL, y1, hr ? res : NULL, hp ? p1 : NULL, relu);
        p_tkwino43_output_transform(mm, 0, O, ld_t, tile_offset, channel_stride, h, w, hb ? bias : NULL, y2, hr ? res : NULL, hp ? p2 : NULL, relu);
        snprintf(what, sizeof what, "output43 O=%td h=%td w=%td mode=%d", O, h, w, mode); exact(what, y2, y1, yn); exact(what, p2, p1, yn);
        free(y1); free(y2); free(p1); free(p2);
    }
    // filter transform, both directions, a middle row range: against the portable twin (bit for
    // bit) and G g G^T in double (G for the points 0, +-3/4, +-3/2 of WINO43_FILTER).
    static const double G[6][3] = {{64.0 / 81, 0, 0}, {-128.0 / 243, -32.0 / 81, -8.0 / 27}, {-128.0 / 243, 32.0 / 81, -8.0 / 27},
                                   {32.0 / 243, 16.0 / 81, 8.0 / 27}, {32.0 / 243, -16.0 / 81, 8.0 / 27}, {0, 0, 1}};
    float *wt = randv((size_t)(O * C * 9));
    for (int g = 0; g < 2; ++g) {
        ptrdiff_t rows = g ? C : O, cols = g ? O : C, r0 = rows / 3;
        size_t un = (size_t)(36 * O * C);
        float *u1 = fillv(un, 4), *u2 = fillv(un, 4), *want = fillv(un, 4);
        tkwino43_filter_transform(wt, O, C, g, r0, rows, u1);
        p_tkwino43_filter_transform(wt, O, C, g, r0, rows, u2);
        for (ptrdiff_t r = r0; r < rows; ++r)
            for (ptrdiff_t q = 0; q < cols; ++q) {
                const float *f = g ? wt + (q * C + r) * 9 : wt + (r * C + q) * 9;
                for (int i = 0; i < 6; ++i)
                    for (int j = 0; j < 6; ++j) {
                        double sum = 0;
                        for (int a = 0; a < 3; ++a)
                            for (int b = 0; b < 3; ++b) sum += G[i][a] * f[g ? 8 - (3 * a + b) : 3 * a + b] * G[j][b];
                        want[(6 * i + j) * rows * cols + r * cols + q] = (float)sum;
                    }
            }
        snprintf(what, sizeof what, "filter43 O=%td C=%td grad=%d", O, C, g);
        exact(what, u2, u1, un);
        near(what, u1, want, un, 1e-6f);
        free(u1); free(u2); free(want);
    }
    // output-gradient transform (the weight gradient's dM on 4x4 tiles), channels 1 ..< O
    float *gy = randv(yn), *m1 = fillv(vn, 8), *m2 = fillv(vn, 8);
    gy[0] = NAN; gy[yn - 1] = -0.0f;
    tkwino43_output_gradient_transform(gy, 1, O, h, w, m1, ld_t, tile_offset, channel_stride);
    p_tkwino43_output_gradient_transform(gy, 1, O, h, w, m2, ld_t, tile_offset, channel_stride);
    snprintf(what, sizeof what, "outgrad43 O=%td h=%td w=%td", O, h, w);
    exact(what, m2, m1, vn);
    free(x); free(v1); free(v2); free(s1); free(s2); free(mm); free(bias); free(res); free(wt); free(gy); free(m1); free(m2);
}

// Packed bfloat16 B, packed in even row ranges, against its portable twin (bit for bit), and the
// product with packed A and B against the product that packs B itself (bit for bit: the same
// kernel and order) and the portable product.
static void packed_ab_case(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    ptrdiff_t lda = k + 3, ldb = n + 5, ldc = n + 7;
    float *a = randv((size_t)(m * lda)), *b = randv((size_t)(k * ldb));
    size_t bs = tkgemm_packed_b_bf16_size(k, n), as = tkgemm_packed_a_bf16_size(m, k), cn = (size_t)(m * ldc);
    char what[128];
    snprintf(what, sizeof what, "packed_ab_bf16 m=%td n=%td k=%td", m, n, k);
    ++checks;
    if (bs != p_tkgemm_packed_b_bf16_size(k, n)) { printf("FAIL %s: packed B size\n", what); ++fails; }
    uint16_t *b1 = aligned_alloc(64, (bs * 2 + 63) / 64 * 64), *b2 = aligned_alloc(64, (bs * 2 + 63) / 64 * 64);
    uint16_t *pa = aligned_alloc(64, (as * 2 + 63) / 64 * 64);
    memset(b1, 0, bs * 2); memset(b2, 0, bs * 2);
    for (ptrdiff_t p0 = 0; p0 < k; p0 += 6) {  // three pairs per piece, as workers split the rows
        tkgemm_pack_b_bf16(k, n, b, ldb, p0, p0 + 6, b1);
        p_tkgemm_pack_b_bf16(k, n, b, ldb, p0, p0 + 6, b2);
    }
    ++checks;
    if (memcmp(b1, b2, bs * 2)) { printf("FAIL %s: pack_b portable\n", what); ++fails; }
    tkgemm_pack_a_bf16(0, m, k, a, lda, pa);
    float *c1 = fillv(cn, 3), *c2 = fillv(cn, 3), *c3 = fillv(cn, 3);
    for (ptrdiff_t r0 = 0; r0 < m; r0 += 16) {
        ptrdiff_t rows = m - r0 < 16 ? m - r0 : 16;
        tkgemm_sgemm_packed_ab_bf16(m, r0, rows, n, k, pa, b1, c1 + r0 * ldc, ldc);
        p_tkgemm_sgemm_packed_ab_bf16(m, r0, rows, n, k, pa, b1, c2 + r0 * ldc, ldc);
    }
    tkgemm_sgemm_packed_a_bf16(m, 0, m, 0, n, k, 1.0f, pa, b, ldb, 0.0f, c3, ldc);
    exact(what, c1, c3, cn);
    near(what, c2, c1, cn, 1e-4f);
    free(a); free(b); free(b1); free(b2); free(pa); free(c1); free(c2); free(c3);
}

// The F(4x4) input transform written as packed bfloat16 B against the float32 transform
// followed by tkgemm_pack_b_bf16 (bit for bit), and against its portable twin: two images side
// by side (tile offsets 0 and one image's tiles), channels in even pieces.
// The bfloat16 input transform (F(4x4) when `large`, else F(2x2)) against the float32 one then
// tkgemm_pack_b_bf16, bit for bit, and its portable twin: two images side by side, channels in
// pieces of 4 (odd pieces, K split into slices, tile vectors crossing panels).
static void wino_bf16_case(int large, ptrdiff_t C, ptrdiff_t h, ptrdiff_t w) {
    ptrdiff_t tile = large ? 4 : 2, matrices = large ? 36 : 16;
    ptrdiff_t tiles = ((h + tile - 1) / tile) * ((w + tile - 1) / tile), n = 2 * tiles, plane = C * n;
    float *x = randv((size_t)(2 * C * h * w)), *v = fillv((size_t)(matrices * plane), 0);
    float *s = fillv(2 * (large ? tkwino43_input_scratch(h, w) : tkwino_input_scratch(h, w)), 3);
    for (int image = 0; image < 2; ++image) {
        if (large) {
            tkwino43_input_transform(x + image * C * h * w, 0, C, h, w, v, n, image * tiles, plane, s);
        } else {
            tkwino_input_transform(x + image * C * h * w, 0, C, h, w, v, n, image * tiles, plane, s);
        }
    }
    ptrdiff_t bs = (ptrdiff_t)tkgemm_packed_b_bf16_size(C, n), depth = tkgemm_bf16_slice_depth(C);
    ptrdiff_t width = tkgemm_bf16_panel_width();
    size_t total = (size_t)(matrices * bs) * 2;
    uint16_t *want = aligned_alloc(64, (total + 63) / 64 * 64), *got = aligned_alloc(64, (total + 63) / 64 * 64);
    uint16_t *port = aligned_alloc(64, (total + 63) / 64 * 64);
    memset(want, 0, total); memset(got, 0, total); memset(port, 0, total);
    for (int xi = 0; xi < matrices; ++xi) tkgemm_pack_b_bf16(C, n, v + xi * plane, n, 0, C, want + xi * bs);
    for (int image = 0; image < 2; ++image)
        for (ptrdiff_t c0 = 0; c0 < C; c0 += 4) {
            ptrdiff_t c1 = c0 + 4 < C ? c0 + 4 : C;
            const float *xi = x + image * C * h * w;
            if (large) {
                tkwino43_input_transform_bf16(xi, c0, c1, C, h, w, got, depth, width, n, image * tiles, bs);
                p_tkwino43_input_transform_bf16(xi, c0, c1, C, h, w, port, depth, width, n, image * tiles, bs);
            } else {
                tkwino_input_transform_bf16(xi, c0, c1, C, h, w, got, depth, width, n, image * tiles, bs);
                p_tkwino_input_transform_bf16(xi, c0, c1, C, h, w, port, depth, width, n, image * tiles, bs);
            }
        }
    char what[128];
    snprintf(what, sizeof what, "input%s_bf16 C=%td h=%td w=%td", large ? "43" : "", C, h, w);
    ++checks;
    if (memcmp(got, want, total)) {
        for (size_t i = 0; i < total / 2; ++i)
            if (got[i] != want[i]) { printf("FAIL %s at %zu: %04x vs %04x\n", what, i, got[i], want[i]); break; }
        ++fails;
    }
    ++checks;
    if (memcmp(port, want, total)) { printf("FAIL %s: portable\n", what); ++fails; }
    free(x); free(v); free(s); free(want); free(got); free(port);
}

int main(void) {
    if (!tkgemm_available() || !tkwino_available()) { printf("host lacks AVX-512\n"); return 2; }
    if (p_tkgemm_available() || p_tkwino_available()) { printf("FAIL portable available != 0\n"); return 1; }
    srand(1);
    ptrdiff_t ms[] = {1, 7, 8, 9, 33, 70}, ns[] = {1, 15, 48, 50, 130, 600}, ks[] = {0, 1, 5, 64, 300, 520};
    float ab[][2] = {{1, 0}, {1, 1}, {0.5f, -2}, {0, 0.5f}, {-1.5f, 0}};
    for (int ta = 0; ta < 2; ++ta) for (int tb = 0; tb < 2; ++tb)
        for (int i = 0; i < 6; ++i) for (int j = 0; j < 6; ++j) for (int l = 0; l < 6; ++l) {
            int q = (i + j + l + ta + tb) % 5;
            gemm_case(ta, tb, ms[i], ns[j], ks[l], ab[q][0], ab[q][1], (i + l) % 3 == 0 && ab[q][1] == 0);
        }
    if (tkgemm_bf16_available()) {
        if (p_tkgemm_bf16_available()) { printf("FAIL portable bf16 available != 0\n"); return 1; }
        bf16_rounding();
        ptrdiff_t bm[] = {1, 8, 9, 70}, bnn[] = {1, 47, 48, 130, 600}, bk[] = {1, 2, 5, 33, 520, 1030};
        for (int ta = 0; ta < 2; ++ta) for (int tb = 0; tb < 2; ++tb)
            for (int i = 0; i < 4; ++i) for (int j = 0; j < 5; ++j) for (int l = 0; l < 6; ++l) {
                int q = (i + j + l + ta + tb) % 5;
                bf16_case(ta, tb, bm[i], bnn[j], bk[l], ab[q][0], ab[q][1]);
            }
        for (int i = 0; i < 4; ++i) for (int j = 0; j < 5; ++j) for (int l = 0; l < 6; ++l) packed_ab_case(bm[i], bnn[j], bk[l]);
        ptrdiff_t hb[][2] = {{1, 1}, {3, 5}, {8, 27}, {16, 54}, {32, 108}, {13, 130}};
        ptrdiff_t cb[] = {1, 3, 17, 64, 520};
        for (int i = 0; i < 6; ++i) for (int j = 0; j < 5; ++j) if (cb[j] * hb[i][0] * hb[i][1] < 300000) { wino_bf16_case(1, cb[j], hb[i][0], hb[i][1]); wino_bf16_case(0, cb[j], hb[i][0], hb[i][1]); }
    } else {
        printf("(this host has no AVX512_BF16: bfloat16 kernels not compared) ");
    }
    ptrdiff_t hw[][2] = {{1, 1}, {2, 2}, {3, 5}, {7, 33}, {32, 32}, {31, 65}, {16, 100}};
    for (int i = 0; i < 7; ++i) { wino_case(3, 5, hw[i][0], hw[i][1]); wino_case(20, 17, hw[i][0], hw[i][1]); }
    ptrdiff_t hw43[][2] = {{1, 1}, {3, 5}, {4, 4}, {5, 9}, {8, 27}, {16, 54}, {32, 108}, {13, 130}};
    for (int i = 0; i < 8; ++i) { wino43_case(3, 5, hw43[i][0], hw43[i][1]); wino43_case(17, 9, hw43[i][0], hw43[i][1]); }
    printf("%d checks, %d failures\n", checks, fails);
    return fails != 0;
}
