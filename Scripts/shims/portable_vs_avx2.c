// TensorKit's AVX2 kernels on an x86-64 host with AVX2 and FMA, built and run by
// Scripts/check-shims-cross.sh: the Winograd transforms (winograd_avx2.c) against the portable ones
// (portable_winograd.c, symbols renamed p_*) bit for bit on odd shapes, with NaN and -0 among the
// values and sentinels around what each writes; the packed-A GEMM (gemm_avx2.c) and its portable
// twin (portable_gemm.c, p_*) against float64 sums, and the general AVX2 GEMM reading an
// untransposed A in place against float64 sums, with A's last row against an unreadable page. Prints "N checks, 0 failures" and exits 0, or
// names each failure and exits 1.
#include "_TensorKitGEMM.h"
#include "_TensorKitWinograd.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
void p_tkwino_input_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino_output_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int);
void p_tkwino_output_gradient_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
void p_tkwino43_input_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino43_output_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int);
void p_tkwino43_avx2_output_gradient_transform(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
void p_tkwino_filter_transform(const float *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino43_filter_transform(const float *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino_avx2_filter_gradient(const float *const *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, float *);
void p_tkgemm_avx2_pack_a(ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, float *);
void p_tkgemm_avx2_sgemm_packed_a(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, const float *, ptrdiff_t, float, float *, ptrdiff_t);
void p_tkwino_avx2_input_transform_band(int, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, float *);
void p_tkwino_avx2_output_transform_band(int, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int, double *);
typedef void (*InputFn)(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *);
typedef void (*OutputFn)(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int);
typedef void (*OutputMomentsFn)(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, const float *, float *, int, double *);

static int fails = 0, checks = 0;
static float rnd(void) { return (float)((double)rand() / RAND_MAX * 2.0 - 1.0); }
static float *randv(size_t n) { float *p = malloc(n * 4 + 4); for (size_t i = 0; i < n; ++i) p[i] = rnd(); return p; }
static float *fillv(size_t n, float v) { float *p = malloc(n * 4 + 4); for (size_t i = 0; i < n; ++i) p[i] = v; return p; }
static void exact(const char *what, const float *want, const float *got, size_t n) {
    ++checks;
    if (memcmp(want, got, n * 4)) {
        for (size_t i = 0; i < n; ++i)
            if (memcmp(want + i, got + i, 4)) { printf("FAIL %s at %zu: %g vs %g\n", what, i, got[i], want[i]); break; }
        ++fails;
    }
}

// The moments an output transform added (each channel's sum and sum of squares of what it
// stored, plus `before`) against float64 sums of y, to the rounding of adding them up in another
// order; NaN in y must give NaN.
static void moments_match(const char *what, const double *got, double before, const float *y, ptrdiff_t o,
                          ptrdiff_t hw) {
    ++checks;
    for (ptrdiff_t oc = 0; oc < o; ++oc) {
        double sum = before, squares = before, size = fabs(before);
        for (ptrdiff_t i = 0; i < hw; ++i) {
            double v = y[oc * hw + i];
            sum += v;
            squares += v * v;
            size += fabs(v) + v * v;
        }
        double tol = 1e-13 * size;
        int ok0 = isnan(sum) ? isnan(got[2 * oc]) : fabs(got[2 * oc] - sum) <= tol;
        int ok1 = isnan(squares) ? isnan(got[2 * oc + 1]) : fabs(got[2 * oc + 1] - squares) <= tol;
        if (!ok0 || !ok1) {
            printf("FAIL %s moments of channel %td: %.17g, %.17g vs %.17g, %.17g\n", what, oc, got[2 * oc],
                   got[2 * oc + 1], sum, squares);
            ++fails;
            return;
        }
    }
}

// One tile size: `large` for F(4x4, 3x3) (36 matrices, 4x4 tiles), else F(2x2, 3x3).
static void transforms(int large, ptrdiff_t C, ptrdiff_t O, ptrdiff_t h, ptrdiff_t w) {
    ptrdiff_t tile = large ? 4 : 2, xis = (tile + 2) * (tile + 2);
    ptrdiff_t tiles = ((h + tile - 1) / tile) * ((w + tile - 1) / tile);
    // Tiles of this image start at 2 in rows of tiles + 3, so writes past either end show.
    ptrdiff_t ld_t = tiles + 3, tile_offset = 2, chans = C > O ? C : O, channel_stride = chans * ld_t + 1;
    size_t vn = (size_t)(xis * channel_stride), yn = (size_t)(O * h * w);
    size_t sn = large ? tkwino43_input_scratch(h, w) : tkwino_input_scratch(h, w);
    InputFn in = large ? tkwino43_avx2_input_transform : tkwino_avx2_input_transform;
    InputFn p_in = large ? p_tkwino43_input_transform : p_tkwino_input_transform;
    OutputMomentsFn out = large ? tkwino43_avx2_output_transform : tkwino_avx2_output_transform;
    OutputFn p_out = large ? p_tkwino43_output_transform : p_tkwino_output_transform;
    char what[128];
    // input transform of channels 1 ..< C
    float *x = randv((size_t)(C * h * w));
    x[0] = -0.0f;
    float *v1 = fillv(vn, 9), *v2 = fillv(vn, 9), *s1 = fillv(sn, 3), *s2 = fillv(sn, 3);
    in(x, 1, C, h, w, v1, ld_t, tile_offset, channel_stride, s1);
    p_in(x, 1, C, h, w, v2, ld_t, tile_offset, channel_stride, s2);
    snprintf(what, sizeof what, "input F(%td) C=%td h=%td w=%td", tile, C, h, w);
    exact(what, v2, v1, vn);
    // output transform: every combination of bias, residual, pre-activation copy and ReLU
    float *mm = randv(vn);
    mm[tile_offset] = NAN;
    mm[tile_offset + 1] = -0.0f;
    float *bias = randv((size_t)O), *res = randv(yn);
    for (int mode = 0; mode < 16; ++mode) {
        float *y1 = fillv(yn, 5), *y2 = fillv(yn, 5), *p1 = fillv(yn, 6), *p2 = fillv(yn, 6);
        int hb = mode & 1, hr = mode & 2, hp = mode & 4, relu = (mode & 8) != 0;
        // Moments on every other mode (the rest check that NULL writes none), added to 0.5.
        double *moments = malloc(sizeof(double) * (size_t)(2 * O));
        for (ptrdiff_t i = 0; i < 2 * O; ++i) moments[i] = 0.5;
        out(mm, 0, O, ld_t, tile_offset, channel_stride, h, w, hb ? bias : NULL, y1, hr ? res : NULL, hp ? p1 : NULL, relu,
            mode % 2 ? moments : NULL);
        p_out(mm, 0, O, ld_t, tile_offset, channel_stride, h, w, hb ? bias : NULL, y2, hr ? res : NULL, hp ? p2 : NULL, relu);
        snprintf(what, sizeof what, "output F(%td) O=%td h=%td w=%td mode=%d", tile, O, h, w, mode);
        exact(what, y2, y1, yn);
        exact(what, p2, p1, yn);
        if (mode % 2) moments_match(what, moments, 0.5, y2, O, h * w);
        free(moments);
        free(y1); free(y2); free(p1); free(p2);
    }
    {  // the output-gradient transform of channels 1 ..< O
        float *gy = randv(yn), *m1 = fillv(vn, 8), *m2 = fillv(vn, 8);
        gy[0] = -0.0f;
        (large ? tkwino43_avx2_output_gradient_transform : tkwino_avx2_output_gradient_transform)(
            gy, 1, O, h, w, m1, ld_t, tile_offset, channel_stride);
        (large ? p_tkwino43_avx2_output_gradient_transform : p_tkwino_output_gradient_transform)(
            gy, 1, O, h, w, m2, ld_t, tile_offset, channel_stride);
        snprintf(what, sizeof what, "output gradient F(%td) O=%td h=%td w=%td", tile, O, h, w);
        exact(what, m2, m1, vn);
        free(gy); free(m1); free(m2);
    }
    // filter transform, both directions, rows from a third of the way (the rest stays sentinel)
    float *wt = randv((size_t)(O * C * 9));
    for (int g = 0; g < 2; ++g) {
        ptrdiff_t rows = g ? C : O;
        size_t un = (size_t)(xis * O * C);
        float *u1 = fillv(un, 4), *u2 = fillv(un, 4);
        (large ? tkwino43_avx2_filter_transform : tkwino_avx2_filter_transform)(wt, O, C, g, rows / 3, rows, u1);
        (large ? p_tkwino43_filter_transform : p_tkwino_filter_transform)(wt, O, C, g, rows / 3, rows, u2);
        snprintf(what, sizeof what, "filter F(%td) O=%td C=%td input gradient %d", tile, O, C, g);
        exact(what, u2, u1, un);
        free(u1); free(u2);
    }
    free(x); free(v1); free(v2); free(s1); free(s2); free(mm); free(bias); free(res); free(wt);
}

// The band transforms (tile rows ti0 ..< ti1 of one image), AVX2 and the scalar fallback, against
// the portable whole-image transforms: a band's V is those tiles' columns of the whole image's V,
// and the output transforms of every band together write the whole image's y; nothing else is
// written (sentinels past each band's tiles and outside its rows of y).
static void bands(int large, ptrdiff_t C, ptrdiff_t O, ptrdiff_t h, ptrdiff_t w, ptrdiff_t count) {
    ptrdiff_t tile = large ? 4 : 2, xis = (tile + 2) * (tile + 2);
    ptrdiff_t th = (h + tile - 1) / tile, tw = (w + tile - 1) / tile, tiles = th * tw;
    ptrdiff_t chans = C > O ? C : O, cs = chans * tiles + 1;
    size_t vn = (size_t)(xis * cs), yn = (size_t)(O * h * w);
    size_t sn = large ? tkwino43_input_scratch(h, w) : tkwino_input_scratch(h, w);
    float *x = randv((size_t)(C * h * w)), *s1 = fillv(sn, 3), *whole = fillv(vn, 9);
    (large ? p_tkwino43_input_transform : p_tkwino_input_transform)(x, 0, C, h, w, whole, tiles, 0, cs, s1);
    float *m = randv(vn), *bias = randv((size_t)O), *res = randv(yn);
    char what[128];
    for (int mode = 0; mode < 16; mode += 5) {
        int hb = mode & 1, hr = mode & 2, hp = mode & 4, relu = (mode & 8) != 0;
        float *yw = fillv(yn, 5), *pw = fillv(yn, 6), *y1 = fillv(yn, 5), *p1 = fillv(yn, 6), *y2 = fillv(yn, 5),
              *p2 = fillv(yn, 6);
        (large ? p_tkwino43_output_transform : p_tkwino_output_transform)(
            m, 0, O, tiles, 0, cs, h, w, hb ? bias : NULL, yw, hr ? res : NULL, hp ? pw : NULL, relu);
        double *mom1 = calloc((size_t)(2 * O), sizeof(double)), *mom2 = calloc((size_t)(2 * O), sizeof(double));
        for (ptrdiff_t b = 0; b < count; ++b) {
            ptrdiff_t ti0 = b * th / count, ti1 = (b + 1) * th / count, n = (ti1 - ti0) * tw;
            if (n == 0) continue;
            // The band's layout: n tiles a channel row, two spare columns, one spare float a plane.
            ptrdiff_t ld = n + 2, bcs = chans * ld + 1;
            size_t bn = (size_t)(xis * bcs);
            float *want = fillv(bn, 9), *mb = fillv(bn, 0);
            for (ptrdiff_t xi = 0; xi < xis; ++xi)
                for (ptrdiff_t ch = 0; ch < chans; ++ch)
                    for (ptrdiff_t k = 0; k < n; ++k) {
                        if (ch < C) want[xi * bcs + ch * ld + k] = whole[xi * cs + ch * tiles + ti0 * tw + k];
                        mb[xi * bcs + ch * ld + k] = m[xi * cs + ch * tiles + ti0 * tw + k];
                    }
            if (mode == 0) {
                float *v1 = fillv(bn, 9), *v2 = fillv(bn, 9), *s2 = fillv(sn, 3);
                tkwino_avx2_input_transform_band(large, x, 0, C, h, w, ti0, ti1, v1, ld, bcs, s2);
                p_tkwino_avx2_input_transform_band(large, x, 0, C, h, w, ti0, ti1, v2, ld, bcs, s2);
                snprintf(what, sizeof what, "input band F(%td) C=%td h=%td w=%td rows %td..<%td", tile, C, h, w, ti0, ti1);
                exact(what, want, v1, bn);
                exact(what, want, v2, bn);
                free(v1); free(v2); free(s2);
            }
            tkwino_avx2_output_transform_band(large, mb, 0, O, ld, bcs, h, w, ti0, ti1, hb ? bias : NULL, y1,
                                              hr ? res : NULL, hp ? p1 : NULL, relu, mom1);
            p_tkwino_avx2_output_transform_band(large, mb, 0, O, ld, bcs, h, w, ti0, ti1, hb ? bias : NULL, y2,
                                                hr ? res : NULL, hp ? p2 : NULL, relu, mom2);
            free(want); free(mb);
        }
        snprintf(what, sizeof what, "output bands F(%td) O=%td h=%td w=%td %td bands mode=%d", tile, O, h, w, count, mode);
        exact(what, yw, y1, yn);
        exact(what, pw, p1, yn);
        exact(what, yw, y2, yn);
        exact(what, pw, p2, yn);
        moments_match(what, mom1, 0, yw, O, h * w);
        moments_match(what, mom2, 0, yw, O, h * w);
        free(yw); free(pw); free(y1); free(p1); free(y2); free(p2); free(mom1); free(mom2);
    }
    free(x); free(s1); free(whole); free(m); free(bias); free(res);
}

// dw = G^T (sum of `count` parts) G of pairs p0 ..< p1 out of `plane`: the AVX2 kernel and its
// portable twin bit for bit, sentinels before p0 and from p1 untouched, and both against float64
// sums with G of F(2x2, 3x3) or F(4x4, 3x3).
static void filter_gradient_case(int large, ptrdiff_t count, ptrdiff_t plane, ptrdiff_t p0, ptrdiff_t p1) {
    static const double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double g4[6][3] = {{64.0 / 81, 0, 0}, {-128.0 / 243, -32.0 / 81, -8.0 / 27}, {-128.0 / 243, 32.0 / 81, -8.0 / 27},
                                    {32.0 / 243, 16.0 / 81, 8.0 / 27}, {32.0 / 243, -16.0 / 81, 8.0 / 27}, {0, 0, 1}};
    int side = large ? 6 : 4;
    const float *parts[3];
    for (ptrdiff_t k = 0; k < count; ++k) parts[k] = randv((size_t)(side * side * plane));
    float *d1 = fillv((size_t)(plane * 9), 7), *d2 = fillv((size_t)(plane * 9), 7);
    tkwino_avx2_filter_gradient(parts, count, plane, large, p0, p1, d1);
    p_tkwino_avx2_filter_gradient(parts, count, plane, large, p0, p1, d2);
    char what[96];
    snprintf(what, sizeof what, "filter_gradient large=%d count=%td plane=%td pairs %td..<%td", large, count, plane, p0, p1);
    exact(what, d2, d1, (size_t)(plane * 9));
    ++checks;
    for (ptrdiff_t p = 0; p < plane; ++p)
        for (int e = 0; e < 9; ++e) {
            double want = 7, size = 0;
            if (p >= p0 && p < p1) {
                want = 0;
                for (int i = 0; i < side; ++i)
                    for (int j = 0; j < side; ++j) {
                        double du = 0;
                        for (ptrdiff_t k = 0; k < count; ++k) du += parts[k][(side * i + j) * plane + p];
                        double gi = large ? g4[i][e / 3] : g2[i][e / 3], gj = large ? g4[j][e % 3] : g2[j][e % 3];
                        want += gi * du * gj;
                        size += fabs(gi * du * gj);
                    }
            }
            if (fabs(d1[p * 9 + e] - want) > 1e-6 * (size + 1)) {
                printf("FAIL %s pair %td element %d: %g vs %g\n", what, p, e, d1[p * 9 + e], want);
                ++fails;
                p = plane;
                break;
            }
        }
    for (ptrdiff_t k = 0; k < count; ++k) free((void *)parts[k]);
    free(d1); free(d2);
}

// C rows row0 ..< row0 + rows of A * B + beta * C (A m x k, packed; B k x n with ldb = n + 3), on
// the AVX2 kernel and its portable twin, against float64 sums: within float32 summation error
// (k * 2^-23 of the sum of |products|, plus beta * |C|), C outside those rows untouched, and
// NaN in C ignored when beta is 0.
static void gemm_case(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t row0, ptrdiff_t rows, float beta) {
    ptrdiff_t ldb = n + 3, ldc = n + 5;
    float *a = randv((size_t)(m * k)), *b = randv((size_t)(k * ldb));
    float *packed = fillv(tkgemm_avx2_packed_a_size(m, k), 7);
    tkgemm_avx2_pack_a(m, k, a, k, packed);
    float *c0 = randv((size_t)(m * ldc));
    if (beta == 0.0f) for (ptrdiff_t i = 0; i < m * ldc; i += 3) c0[i] = NAN;
    for (int portable = 0; portable < 2; ++portable) {
        float *c = fillv((size_t)(m * ldc), 0);
        memcpy(c, c0, sizeof(float) * (size_t)(m * ldc));
        (portable ? p_tkgemm_avx2_sgemm_packed_a : tkgemm_avx2_sgemm_packed_a)(m, row0, rows, n, k, packed, b, ldb, beta,
                                                                              c + row0 * ldc, ldc);
        ++checks;
        for (ptrdiff_t i = 0; i < m; ++i)
            for (ptrdiff_t j = 0; j < ldc; ++j) {
                float got = c[i * ldc + j], before = c0[i * ldc + j];
                int inside = i >= row0 && i < row0 + rows && j < n;
                double want = 0, size = 0;
                if (inside) {
                    for (ptrdiff_t q = 0; q < k; ++q) {
                        double t = (double)a[i * k + q] * b[q * ldb + j];
                        want += t;
                        size += fabs(t);
                    }
                    if (beta != 0.0f) { want += (double)beta * before; size += fabs((double)beta * before); }
                }
                int ok = inside ? fabs(got - want) <= (double)(k + 2) * 1.2e-7 * size + 1e-30
                                : memcmp(&got, &before, 4) == 0;
                if (!ok) {
                    printf("FAIL gemm%s m=%td n=%td k=%td rows %td+%td beta=%g at (%td, %td): %g vs %g\n",
                           portable ? " (portable)" : "", m, n, k, row0, rows, beta, i, j, got, inside ? want : before);
                    ++fails;
                    i = m;
                    break;
                }
            }
        free(c);
    }
    free(a); free(b); free(packed); free(c0);
}

// tkgemm_avx2_sgemm with an untransposed A, which it reads in place (op(B) as given), against
// float64 sums. A (m x k, lda = k + 1) ends right before a page mapped PROT_NONE, so a read past
// its last row (the kernel's rows past the edge of a 6-row tile) faults instead of passing.
static void gemm_in_place_case(int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float beta) {
    ptrdiff_t lda = k + 1, ldb = trans_b ? k + 2 : n + 2, ldc = n + 3;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = sizeof(float) * (size_t)((m - 1) * lda + k);
    size_t span = (bytes + page - 1) / page * page;
    char *region = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || mprotect(region + span, page, PROT_NONE) != 0) {
        printf("FAIL gemm in place: no guard page\n");
        ++fails;
        return;
    }
    float *a = (float *)(region + span - bytes);
    for (ptrdiff_t i = 0; i < (m - 1) * lda + k; ++i) a[i] = rnd();
    float *b = randv((size_t)(trans_b ? n * ldb : k * ldb)), *c0 = randv((size_t)(m * ldc));
    float *c = fillv((size_t)(m * ldc), 0);
    memcpy(c, c0, sizeof(float) * (size_t)(m * ldc));
    ++checks;
    if (tkgemm_avx2_sgemm(0, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc) != 0) {
        printf("FAIL gemm in place m=%td n=%td k=%td: no scratch\n", m, n, k);
        ++fails;
    }
    for (ptrdiff_t i = 0; i < m; ++i)
        for (ptrdiff_t j = 0; j < ldc; ++j) {
            float got = c[i * ldc + j], before = c0[i * ldc + j];
            double want = 0, size = 0;
            if (j < n) {
                for (ptrdiff_t q = 0; q < k; ++q) {
                    double t = (double)a[i * lda + q] * (trans_b ? b[j * ldb + q] : b[q * ldb + j]);
                    want += t;
                    size += fabs(t);
                }
                want += (double)beta * before;
                size += fabs((double)beta * before);
            }
            int ok = j < n ? fabs(got - want) <= (double)(k + 2) * 1.2e-7 * size + 1e-30 : memcmp(&got, &before, 4) == 0;
            if (!ok) {
                printf("FAIL gemm in place %s m=%td n=%td k=%td beta=%g at (%td, %td): %g vs %g\n", trans_b ? "NT" : "NN",
                       m, n, k, beta, i, j, got, j < n ? want : before);
                ++fails;
                i = m;
                break;
            }
        }
    munmap(region, span + page);
    free(b); free(c0); free(c);
}

int main(void) {
    if (!tkwino_avx2_available() || !tkgemm_avx2_available()) { printf("host lacks AVX2/FMA\n"); return 2; }
    srand(2);
    // Maps of one tile, partial vectors of tiles (fewer than 8, 8 + a few), full ones, and the
    // model's layer shapes (128 x 431 halved per stage).
    ptrdiff_t hw[][2] = {{1, 1}, {2, 2}, {3, 5}, {4, 4}, {5, 9}, {7, 33}, {8, 27}, {16, 54},
                         {31, 65}, {32, 108}, {13, 130}, {16, 100}};
    for (int i = 0; i < 12; ++i)
        for (int large = 0; large < 2; ++large) {
            transforms(large, 3, 5, hw[i][0], hw[i][1]);
            transforms(large, 17, 9, hw[i][0], hw[i][1]);
            for (ptrdiff_t count = 1; count <= 3; ++count) bands(large, 11, 9, hw[i][0], hw[i][1], count);
        }
    // Rows of one, partial and several panels; 1-300 columns (partial 8- and 16-wide strips,
    // more than one 128-column block); depth 1-520 (one, two and three 256-deep blocks, one
    // ending exactly on the boundary); every row range on panel boundaries.
    ptrdiff_t ms[] = {1, 5, 6, 7, 13, 64}, ns[] = {1, 7, 8, 9, 14, 16, 17, 56, 130, 300},
              ks[] = {1, 3, 64, 256, 257, 520};
    float betas[] = {0, 1, 0.5f};
    for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 10; ++j)
            for (int l = 0; l < 6; ++l) {
                float beta = betas[(i + j + l) % 3];
                gemm_case(ms[i], ns[j], ks[l], 0, ms[i], beta);
                if (ms[i] > 6) gemm_case(ms[i], ns[j], ks[l], 6, ms[i] - 6 < 7 ? ms[i] - 6 : 7, beta);
            }
    // A read in place: rows ending inside a 6-row tile (1, 5, 7, 13), depths of one, two and
    // three 256-deep slices, full and partial strips; B as given and transposed.
    ptrdiff_t im[] = {1, 5, 6, 7, 13}, in[] = {1, 17, 40}, ik[] = {1, 9, 256, 300, 520};
    for (int tb = 0; tb < 2; ++tb)
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 3; ++j)
                for (int l = 0; l < 5; ++l) gemm_in_place_case(tb, im[i], in[j], ik[l], (i + l) % 2 ? 0.5f : 0.0f);
    // Packing alone, bit for bit against the portable loop: full and partial panels, depths with
    // and without 8-column tails, A with a row stride past its width, and sentinels after it.
    ptrdiff_t pm[] = {1, 5, 6, 7, 12, 13}, pk[] = {1, 7, 8, 9, 15, 16, 17, 100};
    for (int i = 0; i < 6; ++i)
        for (int l = 0; l < 8; ++l) {
            ptrdiff_t m = pm[i], k = pk[l], lda = k + 3;
            size_t size = tkgemm_avx2_packed_a_size(m, k);
            float *a = randv((size_t)(m * lda)), *p1 = fillv(size + 8, 7), *p2 = fillv(size + 8, 7);
            tkgemm_avx2_pack_a(m, k, a, lda, p1);
            p_tkgemm_avx2_pack_a(m, k, a, lda, p2);
            char what[96];
            snprintf(what, sizeof what, "pack_a m=%td k=%td lda=%td", m, k, lda);
            exact(what, p2, p1, size + 8);
            free(a); free(p1); free(p2);
        }
    // The filter gradient: one to three parts; pair ranges of one, partial and whole vectors,
    // starting on a vector boundary or past it.
    ptrdiff_t planes[] = {1, 5, 8, 13, 67};
    for (int large = 0; large < 2; ++large)
        for (ptrdiff_t count = 1; count <= 3; ++count)
            for (int i = 0; i < 5; ++i) {
                filter_gradient_case(large, count, planes[i], 0, planes[i]);
                if (planes[i] > 8) filter_gradient_case(large, count, planes[i], 8, planes[i] - 1);
                if (planes[i] > 3) filter_gradient_case(large, count, planes[i], 3, planes[i]);
            }
    printf("%d checks, %d failures\n", checks, fails);
    return fails != 0;
}
