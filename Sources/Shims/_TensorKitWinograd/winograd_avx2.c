// Winograd tile transforms with AVX2 and FMA, eight tiles per vector: the float32 transforms of
// F(2x2, 3x3) and F(4x4, 3x3) for x86-64 CPUs without AVX-512 (Zen 2 and 3, most Intel client
// CPUs). The same layouts, loads and arithmetic as the AVX-512 code of winograd.c, at half the
// width, so the results are bit for bit those of the AVX-512 and the portable transforms; where
// AVX-512 permutes two registers at once, these split and interleave within 128-bit lanes.
//
// x86-64: the caller checks `tkwino_avx2_available()` (AVX2 and FMA) first. Elsewhere it is 0 and
// every function forwards to the portable definition with the same contract (winograd.c).

#include "_TensorKitWinograd.h"
#include "winograd_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TK_AVX2 __attribute__((target("avx2,fma")))
#define TK_AVX2_INLINE TK_AVX2 static inline __attribute__((always_inline))

int tkwino_avx2_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

// Lanes 0 ..< lanes (clamped to 0 ... 8) set, for maskload/maskstore.
TK_AVX2_INLINE __m256i lanes_mask8(ptrdiff_t lanes) {
    int n = lanes <= 0 ? 0 : lanes >= 8 ? 8 : (int)lanes;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The first `lanes` floats of v at p (none past them): one store for eight, else at most three
// plain stores of 4, 2 and 1 floats. `vmaskmovps` to memory is microcoded on AMD Zen 2/3, about
// an order of magnitude slower, and every tile row's last vector of the small maps (layer3's and
// layer4's F(4x4) and F(2x2) tiles, every row end of y) ended in one per matrix.
TK_AVX2_INLINE void store8(float *p, ptrdiff_t lanes, __m256 v) {
    if (lanes >= 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    __m128 part = _mm256_castps256_ps128(v);
    if (lanes >= 4) {
        _mm_storeu_ps(p, part);
        part = _mm256_extractf128_ps(v, 1);
        p += 4;
        lanes -= 4;
    }
    if (lanes >= 2) {
        _mm_storel_pi((__m64 *)p, part);
        part = _mm_movehl_ps(part, part);
        p += 2;
        lanes -= 2;
    }
    if (lanes >= 1) _mm_store_ss(p, part);
}

// The lanes a transform may store for the vector of tiles (ti, tj ..< tj + 8) of a th x tw grid:
// up to eight, up to the end of the image's tiles. The tiles lie in their plane row after row,
// and the same loop writes every tile after this vector later, so extra lanes past the end of a
// tile row land where they will be overwritten; only stores reaching past the last tile need a
// mask. An unmasked store is an order of magnitude cheaper than `vmaskmovps` to memory on AMD
// Zen 2/3 (microcoded there), where the masked stores of the tail vectors took about half of the
// transforms' time.
TK_AVX2_INLINE ptrdiff_t spill_lanes(ptrdiff_t ti, ptrdiff_t tj, ptrdiff_t th, ptrdiff_t tw) {
    ptrdiff_t left = (th - ti) * tw - tj;
    return left < 8 ? left : 8;
}

TK_AVX2_INLINE __m256 load8(const float *p, ptrdiff_t lanes) {
    if (lanes >= 8) return _mm256_loadu_ps(p);
    if (lanes <= 0) return _mm256_setzero_ps();
    return _mm256_maskload_ps(p, lanes_mask8(lanes));
}

// The even and odd elements of the 16 floats lo, hi (lo first), in order.
TK_AVX2_INLINE void split_even_odd(__m256 lo, __m256 hi, __m256 *even, __m256 *odd) {
    // Within each 128-bit lane: lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6; then 64-bit pieces 0 2 1 3.
    __m256 e = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 o = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

// a0 b0 a1 b1 ... a3 b3 (first) and a4 b4 ... a7 b7 (second).
TK_AVX2_INLINE void interleave(__m256 a, __m256 b, __m256 *first, __m256 *second) {
    __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
    *first = _mm256_permute2f128_ps(lo, hi, 0x20);
    *second = _mm256_permute2f128_ps(lo, hi, 0x31);
}

// The layer's epilogue on `lanes` outputs at y: + residual, copy to pre, ReLU (keeping NaN).
// Returns the values stored.
TK_AVX2_INLINE __m256 finish8(float *y, const float *residual, float *pre, int relu, ptrdiff_t lanes, __m256 value) {
    if (residual) value = _mm256_add_ps(value, load8(residual, lanes));
    if (pre) store8(pre, lanes, value);
    // max(0, NaN) is NaN (MAXPS returns its second operand when either is NaN), as ReLU keeps NaN.
    if (relu) value = _mm256_max_ps(_mm256_setzero_ps(), value);
    store8(y, lanes, value);
    return value;
}

// The sums of `lanes` values of v (the rest zeroed) and of their squares, in double: a float's
// square is exact in double, so the channel's sums round only as they add up.
TK_AVX2_INLINE void add_moments8(__m256 v, ptrdiff_t lanes, __m256d sum[2], __m256d squares[2]) {
    if (lanes < 8) v = _mm256_and_ps(v, _mm256_castsi256_ps(lanes_mask8(lanes)));
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    sum[0] = _mm256_add_pd(sum[0], lo);
    sum[1] = _mm256_add_pd(sum[1], hi);
    squares[0] = _mm256_fmadd_pd(lo, lo, squares[0]);
    squares[1] = _mm256_fmadd_pd(hi, hi, squares[1]);
}

TK_AVX2_INLINE double sum4d(__m256d a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// MARK: - F(2x2, 3x3)

// B^T d B of eight F(2x2) tiles (ti, tj ..< tj + 8) of a padded plane, stored at o (`lanes` tiles).
TK_AVX2_INLINE void input_tiles(const float *plane, ptrdiff_t wp, ptrdiff_t ti, ptrdiff_t tj, float *o,
                                ptrdiff_t lanes, ptrdiff_t channel_stride) {
    __m256 d[4][4];
    for (int a = 0; a < 4; ++a) {
        const float *p = plane + (2 * ti + a) * wp + 2 * tj;
        split_even_odd(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), &d[a][0], &d[a][1]);
        split_even_odd(_mm256_loadu_ps(p + 2), _mm256_loadu_ps(p + 10), &d[a][2], &d[a][3]);
    }
    // Rows of B^T d, then columns of (B^T d) B.
    __m256 e[4][4];
    for (int b = 0; b < 4; ++b) {
        e[0][b] = _mm256_sub_ps(d[0][b], d[2][b]);
        e[1][b] = _mm256_add_ps(d[1][b], d[2][b]);
        e[2][b] = _mm256_sub_ps(d[2][b], d[1][b]);
        e[3][b] = _mm256_sub_ps(d[1][b], d[3][b]);
    }
    for (int r = 0; r < 4; ++r) {
        store8(o + (4 * r + 0) * channel_stride, lanes, _mm256_sub_ps(e[r][0], e[r][2]));
        store8(o + (4 * r + 1) * channel_stride, lanes, _mm256_add_ps(e[r][1], e[r][2]));
        store8(o + (4 * r + 2) * channel_stride, lanes, _mm256_sub_ps(e[r][2], e[r][1]));
        store8(o + (4 * r + 3) * channel_stride, lanes, _mm256_sub_ps(e[r][1], e[r][3]));
    }
}

// A^T M A + bias of eight F(2x2) tiles at p (`lanes` tiles): rows[r][k] holds output row r of
// the tiles, columns 8k ..< 8k + 8 of the 16 they span.
TK_AVX2_INLINE void output_tiles(const float *p, ptrdiff_t lanes, ptrdiff_t channel_stride, __m256 b,
                                 __m256 rows[4][4]) {
    __m256 q[16];
    for (int xi = 0; xi < 16; ++xi) q[xi] = load8(p + xi * channel_stride, lanes);
    // Rows of A^T M (s0, s1), then columns of (A^T M) A.
    __m256 s0[4], s1[4];
    for (int j = 0; j < 4; ++j) {
        s0[j] = _mm256_add_ps(_mm256_add_ps(q[j], q[4 + j]), q[8 + j]);
        s1[j] = _mm256_sub_ps(_mm256_sub_ps(q[4 + j], q[8 + j]), q[12 + j]);
    }
    __m256 *s[2] = {s0, s1};
    for (int r = 0; r < 2; ++r) {
        __m256 left = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[r][0], s[r][1]), s[r][2]), b);
        __m256 right = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s[r][1], s[r][2]), s[r][3]), b);
        interleave(left, right, &rows[r][0], &rows[r][1]);
    }
}

TK_AVX2 void tkwino_avx2_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h,
                                                   ptrdiff_t w, float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                   ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        const float *src = gy + oc * h * w;
        float *base = m + oc * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; tj += 8) {
                ptrdiff_t col = 2 * tj;
                // Rows 2ti and 2ti + 1 of the tiles (zero past the map), split into their left
                // (even) and right (odd) columns.
                __m256 r[2][2];
                for (int a = 0; a < 2; ++a) {
                    ptrdiff_t row = 2 * ti + a;
                    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
                    if (row < h) {
                        lo = load8(src + row * w + col, w - col);
                        hi = load8(src + row * w + col + 8, w - col - 8);
                    }
                    split_even_odd(lo, hi, &r[a][0], &r[a][1]);
                }
                // Rows of A dY: (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); then times A^T.
                __m256 zero = _mm256_setzero_ps();
                __m256 p[4][2] = {
                    {r[0][0], r[0][1]},
                    {_mm256_add_ps(r[0][0], r[1][0]), _mm256_add_ps(r[0][1], r[1][1])},
                    {_mm256_sub_ps(r[0][0], r[1][0]), _mm256_sub_ps(r[0][1], r[1][1])},
                    {_mm256_sub_ps(zero, r[1][0]), _mm256_sub_ps(zero, r[1][1])},
                };
                float *out = base + ti * tw + tj;
                ptrdiff_t lanes = spill_lanes(ti, tj, th, tw);
                for (int i = 0; i < 4; ++i) {
                    __m256 a = p[i][0], b = p[i][1];
                    store8(out + (4 * i + 0) * channel_stride, lanes, a);
                    store8(out + (4 * i + 1) * channel_stride, lanes, _mm256_add_ps(a, b));
                    store8(out + (4 * i + 2) * channel_stride, lanes, _mm256_sub_ps(a, b));
                    store8(out + (4 * i + 3) * channel_stride, lanes, _mm256_sub_ps(zero, b));
                }
            }
        }
    }
}

// Columns 0 ..< count of eight 4-float groups, group l at q[l]: out[c] lane l is column c of
// group l. Groups 0-3 fill the low 128-bit lane, 4-7 the high one, each a 4x4 transpose.
TK_AVX2_INLINE void group_columns(const float *const q[8], int count, __m256 *out) {
    __m256 a = _mm256_loadu2_m128(q[4], q[0]), b = _mm256_loadu2_m128(q[5], q[1]);
    __m256 c = _mm256_loadu2_m128(q[6], q[2]), d = _mm256_loadu2_m128(q[7], q[3]);
    __m256 ab_lo = _mm256_unpacklo_ps(a, b), ab_hi = _mm256_unpackhi_ps(a, b);
    __m256 cd_lo = _mm256_unpacklo_ps(c, d), cd_hi = _mm256_unpackhi_ps(c, d);
    out[0] = _mm256_shuffle_ps(ab_lo, cd_lo, 0x44);
    out[1] = _mm256_shuffle_ps(ab_lo, cd_lo, 0xEE);
    if (count > 2) {
        out[2] = _mm256_shuffle_ps(ab_hi, cd_hi, 0x44);
        out[3] = _mm256_shuffle_ps(ab_hi, cd_hi, 0xEE);
    }
}

// `group_columns` of the groups at p, p + 4, ..., p + 28 (tile l's at p + 4l): out[c] lane l is
// column c of tile l.
TK_AVX2_INLINE void tile_columns(const float *p, int count, __m256 *out) {
    const float *const q[8] = {p, p + 4, p + 8, p + 12, p + 16, p + 20, p + 24, p + 28};
    group_columns(q, count, out);
}

// Eight consecutive columns of U at once: the filters of 8 consecutive input channels (forward)
// or output channels (input gradient), 9 or 9 * C floats apart; g[e] lane l is tap e of filter l
// (zero past `lanes` filters). Taps 0-3 and 4-7 of every filter go through two 4x4 transposes per
// 128-bit lane, tap 8 one float at a time: `vgatherdps`, nine per eight filters before, is
// microcoded on Zen 2 and took most of the transform's time.
TK_AVX2_INLINE void load_filters(const float *w, ptrdiff_t c, int for_input_gradient, ptrdiff_t row, ptrdiff_t col,
                                 ptrdiff_t lanes, __m256 g[9]) {
    static const float zeros[9] = {0};
    ptrdiff_t step = for_input_gradient ? 9 * c : 9;
    const float *first = for_input_gradient ? w + (col * c + row) * 9 : w + (row * c + col) * 9;
    const float *f[8], *upper[8];
    for (int l = 0; l < 8; ++l) {
        f[l] = l < lanes ? first + l * step : zeros;
        upper[l] = f[l] + 4;
    }
    __m256 taps[9];
    group_columns(f, 4, taps);
    group_columns(upper, 4, taps + 4);
    taps[8] = _mm256_setr_ps(f[0][8], f[1][8], f[2][8], f[3][8], f[4][8], f[5][8], f[6][8], f[7][8]);
    // The input gradient's filters are rotated.
    for (int e = 0; e < 9; ++e) g[e] = taps[for_input_gradient ? 8 - e : e];
}

// G g G^T of eight F(2x2) filters g (9 values each), stored at out (`lanes` filters, the 16
// values `plane` floats apart).
TK_AVX2_INLINE void filter_tiles(const __m256 g[9], float *out, ptrdiff_t lanes, ptrdiff_t plane) {
    const __m256 half = _mm256_set1_ps(0.5f);
    // t = G g (4 x 3), then U = t G^T (4 x 4).
    __m256 t[4][3];
    for (int j = 0; j < 3; ++j) {
        __m256 r0 = g[j], r1 = g[3 + j], r2 = g[6 + j];
        t[0][j] = r0;
        t[1][j] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(r0, r1), r2));
        t[2][j] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(r0, r1), r2));
        t[3][j] = r2;
    }
    for (int i = 0; i < 4; ++i) {
        __m256 a = t[i][0], b = t[i][1], e = t[i][2];
        store8(out + (4 * i + 0) * plane, lanes, a);
        store8(out + (4 * i + 1) * plane, lanes, _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(a, b), e)));
        store8(out + (4 * i + 2) * plane, lanes, _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(a, b), e)));
        store8(out + (4 * i + 3) * plane, lanes, e);
    }
}

// MARK: - F(4x4, 3x3)

#define ADD(a, b) _mm256_add_ps(a, b)
#define SUB(a, b) _mm256_sub_ps(a, b)
#define MUL(a, b) _mm256_mul_ps(a, b)
#define K(c) _mm256_set1_ps(c)

// B^T d B of eight F(4x4) tiles (ti, tj ..< tj + 8) of a padded plane, stored at o (`lanes` tiles).
TK_AVX2_INLINE void input_tiles43(const float *plane, ptrdiff_t wp, ptrdiff_t ti, ptrdiff_t tj, float *o,
                                  ptrdiff_t lanes, ptrdiff_t channel_stride) {
    // The row pass: e[a] = row a of the 6x6 tiles times B; columns 4 and 5 are columns 0 and 1
    // of the groups 4 floats further.
    __m256 e[6][6];
    for (int a = 0; a < 6; ++a) {
        const float *p = plane + (4 * ti + a) * wp + 4 * tj;
        __m256 d[6];
        tile_columns(p, 4, d);
        tile_columns(p + 4, 2, d + 4);
        WINO43_INPUT(d, e[a]);
    }
    for (int j = 0; j < 6; ++j) {
        __m256 col[6] = {e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]}, t[6];
        WINO43_INPUT(col, t);
        for (int i = 0; i < 6; ++i) store8(o + (6 * i + j) * channel_stride, lanes, t[i]);
    }
}

// Row `src` (w floats) into the padded plane at `dst`, eight floats a vector. The last vector's
// lanes past w load as zeros and land on the row's zero padding (`padded_dims` and
// `padded_dims43` leave at least 32 columns past w). `memcpy` for each row cost more in its
// call than in the copy on the small maps (layer3: 27 floats a row).
TK_AVX2_INLINE void copy_row(float *dst, const float *src, ptrdiff_t w) {
    ptrdiff_t j = 0;
    for (; j + 8 <= w; j += 8) _mm256_storeu_ps(dst + j, _mm256_loadu_ps(src + j));
    if (j < w) _mm256_storeu_ps(dst + j, load8(src + j, w - j));
}

// Both input transforms (`large`: F(4x4), constant-folded per caller): each channel copied into
// the zero-padded plane in `scratch`, then every vector of eight tiles transformed.
TK_AVX2_INLINE void input_transform(int large, const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w,
                                    ptrdiff_t ti0, ptrdiff_t ti1, float *v, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                    ptrdiff_t channel_stride, float *scratch) {
    ptrdiff_t tile = large ? 4 : 2, tw = (w + tile - 1) / tile;
    ptrdiff_t hp, wp;
    if (large) {
        padded_dims43(h, w, &hp, &wp);
    } else {
        padded_dims(h, w, &hp, &wp);
    }
    memset(scratch, 0, sizeof(float) * (size_t)(hp * wp));
    // The map rows the band's tiles read: padded rows tile * ti0 ..< tile * ti1 + 2.
    ptrdiff_t r0 = tile * ti0 - 1 < 0 ? 0 : tile * ti0 - 1, r1 = tile * ti1 + 1 > h ? h : tile * ti1 + 1;
    for (ptrdiff_t ch = c0; ch < c1; ++ch) {
        const float *xc = x + ch * h * w;
        for (ptrdiff_t r = r0; r < r1; ++r) copy_row(scratch + (r + 1) * wp + 1, xc + r * w, w);
        float *base = v + ch * ld_t + tile_offset;
        for (ptrdiff_t ti = ti0; ti < ti1; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; tj += 8) {
                ptrdiff_t lanes = spill_lanes(ti - ti0, tj, ti1 - ti0, tw);
                if (large) {
                    input_tiles43(scratch, wp, ti, tj, base + (ti - ti0) * tw + tj, lanes, channel_stride);
                } else {
                    input_tiles(scratch, wp, ti, tj, base + (ti - ti0) * tw + tj, lanes, channel_stride);
                }
            }
        }
    }
}

TK_AVX2 void tkwino_avx2_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                         ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride,
                                         float *scratch) {
    input_transform(0, x, c0, c1, h, w, 0, (h + 1) / 2, v, ld_t, tile_offset, channel_stride, scratch);
}

TK_AVX2 void tkwino43_avx2_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w,
                                           float *v, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride,
                                           float *scratch) {
    input_transform(1, x, c0, c1, h, w, 0, (h + 3) / 4, v, ld_t, tile_offset, channel_stride, scratch);
}

TK_AVX2 void tkwino_avx2_input_transform_band(int large, const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h,
                                              ptrdiff_t w, ptrdiff_t ti0, ptrdiff_t ti1, float *v, ptrdiff_t ld_t,
                                              ptrdiff_t channel_stride, float *scratch) {
    if (large) {
        input_transform(1, x, c0, c1, h, w, ti0, ti1, v, ld_t, 0, channel_stride, scratch);
    } else {
        input_transform(0, x, c0, c1, h, w, ti0, ti1, v, ld_t, 0, channel_stride, scratch);
    }
}

// A^T M A + bias of eight F(4x4) tiles at p (`lanes` tiles): rows[r][k] holds output row r of
// the tiles, columns 8k ..< 8k + 8 of the 32 they span.
TK_AVX2_INLINE void output_tiles43(const float *p, ptrdiff_t lanes, ptrdiff_t channel_stride, __m256 b,
                                   __m256 rows[4][4]) {
    // s[j][i]: row i of A^T M for column j of M.
    __m256 s[6][4], s12, d12, s34, d34;
    for (int j = 0; j < 6; ++j) {
        __m256 q[6];
        for (int i = 0; i < 6; ++i) q[i] = load8(p + (6 * i + j) * channel_stride, lanes);
        WINO43_OUTPUT(q, s[j]);
    }
    for (int i = 0; i < 4; ++i) {
        __m256 r[6] = {s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i]}, yv[4];
        WINO43_OUTPUT(r, yv);
        for (int j = 0; j < 4; ++j) yv[j] = _mm256_add_ps(yv[j], b);
        // Lanes are tiles; output column 4l + j is yv[j][l]: a 4x4 transpose per 128-bit lane
        // (tiles l and l + 4), then the lanes put in tile order.
        __m256 p01l = _mm256_unpacklo_ps(yv[0], yv[1]), p01h = _mm256_unpackhi_ps(yv[0], yv[1]);
        __m256 p23l = _mm256_unpacklo_ps(yv[2], yv[3]), p23h = _mm256_unpackhi_ps(yv[2], yv[3]);
        __m256 t0 = _mm256_shuffle_ps(p01l, p23l, 0x44), t1 = _mm256_shuffle_ps(p01l, p23l, 0xEE);
        __m256 t2 = _mm256_shuffle_ps(p01h, p23h, 0x44), t3 = _mm256_shuffle_ps(p01h, p23h, 0xEE);
        rows[i][0] = _mm256_permute2f128_ps(t0, t1, 0x20);
        rows[i][1] = _mm256_permute2f128_ps(t2, t3, 0x20);
        rows[i][2] = _mm256_permute2f128_ps(t0, t1, 0x31);
        rows[i][3] = _mm256_permute2f128_ps(t2, t3, 0x31);
    }
}

// Both output transforms (`large`: F(4x4), constant-folded per caller): every vector of eight
// tiles of each output channel transformed, then its rows finished into y with the layer's
// epilogue (residual, pre-activation copy, ReLU), clipped to the map, and with `moments` each
// channel's sum and sum of squares of what was stored added to moments[2 oc] and [2 oc + 1].
TK_AVX2_INLINE void output_transform(int large, const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                     ptrdiff_t tile_offset, ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w,
                                     ptrdiff_t ti0, ptrdiff_t ti1, const float *bias, float *y,
                                     const float *residual, float *pre, int relu, double *moments) {
    int tile = large ? 4 : 2;
    ptrdiff_t tw = (w + tile - 1) / tile;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        __m256d sum[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
        __m256d squares[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
        __m256 b = _mm256_set1_ps(bias ? bias[oc] : 0.0f);
        const float *base = m + oc * ld_t + tile_offset;
        ptrdiff_t plane = oc * h * w;
        for (ptrdiff_t ti = ti0; ti < ti1; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; tj += 8) {
                __m256 rows[4][4];
                if (large) {
                    output_tiles43(base + (ti - ti0) * tw + tj, tw - tj, channel_stride, b, rows);
                } else {
                    output_tiles(base + (ti - ti0) * tw + tj, tw - tj, channel_stride, b, rows);
                }
                // Each row of the tiles spans `tile` vectors of eight columns.
                for (int r = 0; r < tile; ++r) {
                    ptrdiff_t row = tile * ti + r;
                    if (row >= h) break;
                    for (int k = 0; k < tile; ++k) {
                        ptrdiff_t col = tile * tj + 8 * k;
                        if (col >= w) break;
                        ptrdiff_t at = plane + row * w + col;
                        __m256 stored = finish8(y + at, residual ? residual + at : NULL, pre ? pre + at : NULL,
                                                relu, w - col, rows[r][k]);
                        if (moments) add_moments8(stored, w - col, sum, squares);
                    }
                }
            }
        }
        if (moments) {
            moments[2 * oc] += sum4d(_mm256_add_pd(sum[0], sum[1]));
            moments[2 * oc + 1] += sum4d(_mm256_add_pd(squares[0], squares[1]));
        }
    }
}

TK_AVX2 void tkwino_avx2_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                          ptrdiff_t tile_offset, ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w,
                                          const float *bias, float *y, const float *residual, float *pre, int relu,
                                          double *moments) {
    output_transform(0, m, o0, o1, ld_t, tile_offset, channel_stride, h, w, 0, (h + 1) / 2, bias, y, residual, pre,
                     relu, moments);
}

TK_AVX2 void tkwino43_avx2_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                            ptrdiff_t tile_offset, ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w,
                                            const float *bias, float *y, const float *residual, float *pre,
                                            int relu, double *moments) {
    output_transform(1, m, o0, o1, ld_t, tile_offset, channel_stride, h, w, 0, (h + 3) / 4, bias, y, residual, pre,
                     relu, moments);
}

TK_AVX2 void tkwino_avx2_output_transform_band(int large, const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                               ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, ptrdiff_t ti0,
                                               ptrdiff_t ti1, const float *bias, float *y, const float *residual,
                                               float *pre, int relu, double *moments) {
    if (large) {
        output_transform(1, m, o0, o1, ld_t, 0, channel_stride, h, w, ti0, ti1, bias, y, residual, pre, relu,
                         moments);
    } else {
        output_transform(0, m, o0, o1, ld_t, 0, channel_stride, h, w, ti0, ti1, bias, y, residual, pre, relu,
                         moments);
    }
}

// Row `row` of eight F(4x4) output-gradient tiles (columns col ..< col + 32 of a channel), zero
// past the map, as four vectors: d[k] lane l is column 4l + k.
TK_AVX2_INLINE void gradient_row43(const float *src, ptrdiff_t h, ptrdiff_t w, ptrdiff_t row, ptrdiff_t col,
                                   __m256 d[4]) {
    if (row >= h) {
        for (int k = 0; k < 4; ++k) d[k] = _mm256_setzero_ps();
    } else if (col + 32 <= w) {
        tile_columns(src + row * w + col, 4, d);
    } else {
        float buffer[32];
        for (int k = 0; k < 4; ++k) {
            _mm256_storeu_ps(buffer + 8 * k, load8(src + row * w + col + 8 * k, w - col - 8 * k));
        }
        tile_columns(buffer, 4, d);
    }
}

TK_AVX2 void tkwino43_avx2_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h,
                                                     ptrdiff_t w, float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                     ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    __m256 s02, s13, t02, t13;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        const float *src = gy + oc * h * w;
        float *base = m + oc * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; tj += 8) {
                // The row pass: e[a] = A times row a of the tiles; then A times each column of e.
                __m256 e[4][6];
                for (int a = 0; a < 4; ++a) {
                    __m256 d[4];
                    gradient_row43(src, h, w, 4 * ti + a, 4 * tj, d);
                    WINO43_OUTPUT_GRADIENT(d, e[a]);
                }
                float *out = base + ti * tw + tj;
                ptrdiff_t lanes = spill_lanes(ti, tj, th, tw);
                for (int j = 0; j < 6; ++j) {
                    __m256 column[4] = {e[0][j], e[1][j], e[2][j], e[3][j]}, t[6];
                    WINO43_OUTPUT_GRADIENT(column, t);
                    for (int i = 0; i < 6; ++i) store8(out + (6 * i + j) * channel_stride, lanes, t[i]);
                }
            }
        }
    }
}

// G g G^T of eight F(4x4) filters g, stored at out (the 36 values `plane` floats apart).
TK_AVX2_INLINE void filter_tiles43(const __m256 g[9], float *out, ptrdiff_t lanes, ptrdiff_t plane) {
    // t = G g (6 x 3, column j from column j of g), then U = t G^T (row i from row i of t).
    __m256 t[3][6];
    for (int j = 0; j < 3; ++j) {
        __m256 column[3] = {g[j], g[3 + j], g[6 + j]};
        WINO43_FILTER(column, t[j]);
    }
    for (int i = 0; i < 6; ++i) {
        __m256 r[3] = {t[0][i], t[1][i], t[2][i]}, v[6];
        WINO43_FILTER(r, v);
        for (int j = 0; j < 6; ++j) store8(out + (6 * i + j) * plane, lanes, v[j]);
    }
}

// Both filter transforms (`large`: F(4x4), constant-folded per caller): rows row0 ..< row1 of U,
// eight columns at a time.
TK_AVX2_INLINE void filter_transform(int large, const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                                     ptrdiff_t row0, ptrdiff_t row1, float *u) {
    ptrdiff_t rows = for_input_gradient ? c : o, cols = for_input_gradient ? o : c;
    ptrdiff_t plane = rows * cols;
    for (ptrdiff_t row = row0; row < row1; ++row) {
        for (ptrdiff_t col = 0; col < cols; col += 8) {
            __m256 g[9];
            load_filters(w, c, for_input_gradient, row, col, cols - col, g);
            if (large) {
                filter_tiles43(g, u + row * cols + col, cols - col, plane);
            } else {
                filter_tiles(g, u + row * cols + col, cols - col, plane);
            }
        }
    }
}

TK_AVX2 void tkwino_avx2_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                                          ptrdiff_t row0, ptrdiff_t row1, float *u) {
    filter_transform(0, w, o, c, for_input_gradient, row0, row1, u);
}

TK_AVX2 void tkwino43_avx2_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                                            ptrdiff_t row0, ptrdiff_t row1, float *u) {
    filter_transform(1, w, o, c, for_input_gradient, row0, row1, u);
}
// Both filter gradients (`side` 6: F(4x4), 4: F(2x2), constant-folded per caller), eight pairs
// per vector.
TK_AVX2_INLINE void filter_gradient(int side, const float *const *parts, ptrdiff_t count, ptrdiff_t plane,
                                    ptrdiff_t p0, ptrdiff_t p1, float *dw) {
    __m256 s12, d12, s34, d34;
    (void)d12, (void)s34, (void)d34;
    for (ptrdiff_t at = p0; at < p1; at += 8) {
        ptrdiff_t lanes = p1 - at < 8 ? p1 - at : 8;
        __m256 du[36], t[6][3], row[3];
        for (int e = 0; e < side * side; ++e) {
            ptrdiff_t offset = e * plane + at;
            __m256 sum = load8(parts[0] + offset, lanes);
            for (ptrdiff_t k = 1; k < count; ++k) sum = ADD(sum, load8(parts[k] + offset, lanes));
            du[e] = sum;
        }
        float result[9][8];
#define STORE(e, value) _mm256_storeu_ps(result[e], value)
        if (side == 6) {
            FILTER_GRADIENT_SANDWICH(WINO43_FILTER_GRADIENT, 6, du, t, row, STORE);
        } else {
            FILTER_GRADIENT_SANDWICH(WINO_FILTER_GRADIENT, 4, du, t, row, STORE);
        }
#undef STORE
        for (ptrdiff_t l = 0; l < lanes; ++l)
            for (int e = 0; e < 9; ++e) dw[(at + l) * 9 + e] = result[e][l];
    }
}

TK_AVX2 void tkwino_avx2_filter_gradient(const float *const *parts, ptrdiff_t count, ptrdiff_t plane, int large,
                                         ptrdiff_t p0, ptrdiff_t p1, float *dw) {
    if (large) {
        filter_gradient(6, parts, count, plane, p0, p1, dw);
    } else {
        filter_gradient(4, parts, count, plane, p0, p1, dw);
    }
}
#undef ADD
#undef SUB
#undef MUL
#undef K

#else  // not x86-64: the portable transforms, with the same contracts

// The scalar twins below must round as the vector code does: no a * b + c fused into an FMA (the
// default on AArch64, where FMA is baseline).
#pragma STDC FP_CONTRACT OFF

int tkwino_avx2_available(void) { return 0; }

void tkwino_avx2_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                 ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch) {
    tkwino_input_transform(x, c0, c1, h, w, v, ld_t, tile_offset, channel_stride, scratch);
}

// Each channel's sum and sum of squares of rows row0 ..< row1 of y, added to moments[2 oc] and
// [2 oc + 1] (nothing without moments): what the x86 transforms add as they store.
static void add_moments(const float *y, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w, ptrdiff_t row0,
                        ptrdiff_t row1, double *moments) {
    if (!moments) return;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        double sum = 0, squares = 0;
        for (ptrdiff_t i = row0 * w; i < (row1 < h ? row1 : h) * w; ++i) {
            double v = y[oc * h * w + i];
            sum += v;
            squares += v * v;
        }
        moments[2 * oc] += sum;
        moments[2 * oc + 1] += squares;
    }
}

void tkwino_avx2_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                  ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                                  const float *residual, float *pre, int relu, double *moments) {
    tkwino_output_transform(m, o0, o1, ld_t, tile_offset, channel_stride, h, w, bias, y, residual, pre, relu);
    add_moments(y, o0, o1, h, w, 0, h, moments);
}

void tkwino_avx2_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                           float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    tkwino_output_gradient_transform(gy, o0, o1, h, w, m, ld_t, tile_offset, channel_stride);
}

void tkwino43_avx2_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                   ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch) {
    tkwino43_input_transform(x, c0, c1, h, w, v, ld_t, tile_offset, channel_stride, scratch);
}

void tkwino43_avx2_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                    ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                                    const float *residual, float *pre, int relu, double *moments) {
    tkwino43_output_transform(m, o0, o1, ld_t, tile_offset, channel_stride, h, w, bias, y, residual, pre, relu);
    add_moments(y, o0, o1, h, w, 0, h, moments);
}
// No F(4x4) output-gradient transform among the portable ones: the same operations on floats.
void tkwino43_avx2_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                             float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                             ptrdiff_t channel_stride) {
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define K(c) (c)
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    float s02, s13, t02, t13;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        const float *src = gy + oc * h * w;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float e[4][6];
                for (int a = 0; a < 4; ++a) {
                    float d[4];
                    for (int k = 0; k < 4; ++k) {
                        ptrdiff_t row = 4 * ti + a, col = 4 * tj + k;
                        d[k] = row < h && col < w ? src[row * w + col] : 0.0f;
                    }
                    WINO43_OUTPUT_GRADIENT(d, e[a]);
                }
                float *out = m + oc * ld_t + tile_offset + ti * tw + tj;
                for (int j = 0; j < 6; ++j) {
                    float column[4] = {e[0][j], e[1][j], e[2][j], e[3][j]}, t[6];
                    WINO43_OUTPUT_GRADIENT(column, t);
                    for (int i = 0; i < 6; ++i) out[(6 * i + j) * channel_stride] = t[i];
                }
            }
        }
    }
#undef ADD
#undef SUB
#undef MUL
#undef K
}

void tkwino_avx2_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient, ptrdiff_t row0,
                                  ptrdiff_t row1, float *u) {
    tkwino_filter_transform(w, o, c, for_input_gradient, row0, row1, u);
}

void tkwino43_avx2_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient, ptrdiff_t row0,
                                    ptrdiff_t row1, float *u) {
    tkwino43_filter_transform(w, o, c, for_input_gradient, row0, row1, u);
}

// The same operations on one pair at a time.
void tkwino_avx2_filter_gradient(const float *const *parts, ptrdiff_t count, ptrdiff_t plane, int large,
                                 ptrdiff_t p0, ptrdiff_t p1, float *dw) {
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define K(c) (c)
    int side = large ? 6 : 4;
    float s12, d12, s34, d34;
    (void)d12, (void)s34, (void)d34;
    for (ptrdiff_t at = p0; at < p1; ++at) {
        float du[36], t[6][3], row[3];
        for (int e = 0; e < side * side; ++e) {
            float sum = parts[0][e * plane + at];
            for (ptrdiff_t k = 1; k < count; ++k) sum = ADD(sum, parts[k][e * plane + at]);
            du[e] = sum;
        }
        float *out = dw + at * 9;
#define STORE(e, value) out[e] = (value)
        if (large) {
            FILTER_GRADIENT_SANDWICH(WINO43_FILTER_GRADIENT, 6, du, t, row, STORE);
        } else {
            FILTER_GRADIENT_SANDWICH(WINO_FILTER_GRADIENT, 4, du, t, row, STORE);
        }
#undef STORE
    }
#undef ADD
#undef SUB
#undef MUL
#undef K
}

// The band transforms, one tile at a time.
void tkwino_avx2_input_transform_band(int large, const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h,
                                      ptrdiff_t w, ptrdiff_t ti0, ptrdiff_t ti1, float *v, ptrdiff_t ld_t,
                                      ptrdiff_t channel_stride, float *scratch) {
    (void)scratch;  // reads x directly, zero outside the map
    int tile = large ? 4 : 2, side = tile + 2;
    ptrdiff_t tw = (w + tile - 1) / tile;
    for (ptrdiff_t ch = c0; ch < c1; ++ch) {
        for (ptrdiff_t ti = ti0; ti < ti1; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float t[36];
                wino_scalar_input_tile(large, x + ch * h * w, h, w, ti, tj, t);
                float *out = v + ch * ld_t + (ti - ti0) * tw + tj;
                for (int xi = 0; xi < side * side; ++xi) out[xi * channel_stride] = t[xi];
            }
        }
    }
}

void tkwino_avx2_output_transform_band(int large, const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                       ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, ptrdiff_t ti0, ptrdiff_t ti1,
                                       const float *bias, float *y, const float *residual, float *pre, int relu,
                                       double *moments) {
    int tile = large ? 4 : 2;
    ptrdiff_t tw = (w + tile - 1) / tile;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        for (ptrdiff_t ti = ti0; ti < ti1; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float rows[4][4];
                wino_scalar_output_tile(large, m + oc * ld_t + (ti - ti0) * tw + tj, channel_stride,
                                        bias ? bias[oc] : 0.0f, rows);
                for (int r = 0; r < tile && tile * ti + r < h; ++r) {
                    for (int cc = 0; cc < tile && tile * tj + cc < w; ++cc) {
                        wino_scalar_finish(y, residual, pre, relu, oc * h * w + (tile * ti + r) * w + tile * tj + cc,
                                           rows[r][cc]);
                    }
                }
            }
        }
    }
    add_moments(y, o0, o1, h, w, tile * ti0, tile * ti1, moments);
}
#endif
