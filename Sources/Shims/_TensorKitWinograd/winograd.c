// Winograd F(2x2, 3x3) tile transforms (see include/_TensorKitWinograd.h).
//
// Sixteen horizontally adjacent tiles are one vector: lane l holds tile tj0 + l. The columns
// of a tile row come from two 16-wide loads of the map row (masked past its edges: the zero
// padding, with no padded copy of the channel) and an even/odd lane split,
// so every store of the transformed tiles is one full 64-byte vector per xi (instead of the
// sixteen scattered 16-byte stores of a four-tile version). The output side interleaves the
// even and odd output columns back and finishes the layer (bias, residual, ReLU) in the same
// pass.
//
// The vector code is x86-64 only (`#if defined(__x86_64__)`); other architectures get the plain
// scalar definitions at the end of this file, and `tkwino_available()` returns 0 there.

#include "_TensorKitWinograd.h"
#include "winograd_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#define TK_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))

int tkwino_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    }
    return cached;
}

static __mmask16 lanes_mask(ptrdiff_t lanes) {
    return lanes >= 16 ? (__mmask16)0xFFFF : lanes <= 0 ? 0 : (__mmask16)((1u << lanes) - 1);
}

// Asks for the 64-byte lines of p[0 ..< count] ahead of use (for writing when `write`). The
// maps a layer reads once (its input, the residual) and writes (its output) are too large to
// stay cached between layers at batch 16; fetching the next channel's rows while this one is
// computed hides most of the memory latency that stalled the transforms.
static inline void prefetch_floats(const float *p, ptrdiff_t count, int write) {
    for (ptrdiff_t i = 0; i < count; i += 16) {
        if (write) {
            __builtin_prefetch(p + i, 1, 3);
        } else {
            __builtin_prefetch(p + i, 0, 3);
        }
    }
}

#endif  // __x86_64__

size_t tkwino_input_scratch(ptrdiff_t h, ptrdiff_t w) {
    ptrdiff_t hp, wp;
    padded_dims(h, w, &hp, &wp);
    return (size_t)(hp * wp);
}

#if defined(__x86_64__)
// Sixteen floats of a map row from column c0 on (c0 may be -1), zero outside columns 0 ..< w
// and when `row` is NULL (a row outside the map): the transforms read the map in place, its
// zero padding made by masks rather than by a padded copy of each channel.
TK_AVX512 static inline __attribute__((always_inline)) __m512 load_row16(const float *row, ptrdiff_t c0, ptrdiff_t w) {
    if (!row) return _mm512_setzero_ps();
    ptrdiff_t lo = c0 < 0 ? -c0 : 0, hi = w - c0 < 16 ? w - c0 : 16;
    if (lo == 0 && hi == 16) return _mm512_loadu_ps(row + c0);
    if (hi <= lo) return _mm512_setzero_ps();
    __mmask16 k = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
    // Masked-off lanes are never read, so the address may lie one float before the row.
    return _mm512_maskz_loadu_ps(k, (const float *)((uintptr_t)row + (uintptr_t)(c0 * (ptrdiff_t)sizeof(float))));
}

// Row r of channel `xc` (h x w), or NULL outside the map or when there is no channel.
static inline const float *map_row(const float *xc, ptrdiff_t r, ptrdiff_t h, ptrdiff_t w) {
    return xc && r >= 0 && r < h ? xc + r * w : NULL;
}

// B^T d B of sixteen tiles (ti, tj ..< tj + 16) of channel `xc` (h x w, padding 1; all zero for
// a NULL `xc`): out[4r + j] is value (r, j) of every tile, lane l for tile tj + l. The float32
// and bfloat16 input transforms use it.
TK_AVX512 static inline __attribute__((always_inline)) void wino_input_tiles(const float *xc, ptrdiff_t h, ptrdiff_t w,
                                                                            ptrdiff_t ti, ptrdiff_t tj,
                                                                            __m512 out[16]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 d[4][4];
    ptrdiff_t c0 = 2 * tj - 1;
    for (int a = 0; a < 4; ++a) {
        const float *row = map_row(xc, 2 * ti + a - 1, h, w);
        __m512 lo = load_row16(row, c0, w), hi = load_row16(row, c0 + 16, w);
        __m512 lo2 = load_row16(row, c0 + 2, w), hi2 = load_row16(row, c0 + 18, w);
        d[a][0] = _mm512_permutex2var_ps(lo, even, hi);
        d[a][1] = _mm512_permutex2var_ps(lo, odd, hi);
        d[a][2] = _mm512_permutex2var_ps(lo2, even, hi2);
        d[a][3] = _mm512_permutex2var_ps(lo2, odd, hi2);
    }
    __m512 e[4][4];
    for (int b = 0; b < 4; ++b) {
        e[0][b] = _mm512_sub_ps(d[0][b], d[2][b]);
        e[1][b] = _mm512_add_ps(d[1][b], d[2][b]);
        e[2][b] = _mm512_sub_ps(d[2][b], d[1][b]);
        e[3][b] = _mm512_sub_ps(d[1][b], d[3][b]);
    }
    for (int r = 0; r < 4; ++r) {
        out[4 * r + 0] = _mm512_sub_ps(e[r][0], e[r][2]);
        out[4 * r + 1] = _mm512_add_ps(e[r][1], e[r][2]);
        out[4 * r + 2] = _mm512_sub_ps(e[r][2], e[r][1]);
        out[4 * r + 3] = _mm512_sub_ps(e[r][1], e[r][3]);
    }
}

// x rounded to bfloat16 as `vcvtneps2bf16` rounds (to nearest even; subnormals to zero of the
// same sign; NaN kept, made quiet), in AVX-512F alone, and stored to p[0 ..< 16] where `k` has
// lanes: the weight gradient's bfloat16 operands, the same values TensorKit's GEMM gets when it
// rounds float32 operands while packing them.
TK_AVX512 static inline __attribute__((always_inline)) void store_bf16(uint16_t *p, __mmask16 k, __m512 x) {
    __m512i u = _mm512_castps_si512(x);
    const __m512i exponent = _mm512_set1_epi32(0x7f800000);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), exponent);
    u = _mm512_mask_and_epi32(u, _mm512_testn_epi32_mask(u, exponent), u, _mm512_set1_epi32((int)0x80000000u));
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
    r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
    if (k == (__mmask16)0xFFFF) {
        _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(r));
    } else {
        _mm512_mask_cvtepi32_storeu_epi16(p, k, r);
    }
}

// Lanes `k` of x to element `at` of a float32 plane, or of a bfloat16 one when `v16` is given.
TK_AVX512 static inline __attribute__((always_inline)) void store_lanes(float *v32, uint16_t *v16, ptrdiff_t at,
                                                                       __mmask16 k, __m512 x) {
    if (v16) {
        store_bf16(v16 + at, k, x);
    } else {
        _mm512_mask_storeu_ps(v32 + at, k, x);
    }
}

// tkwino_input_transform into float32 `v`, or into bfloat16 `v16` when given (`v` unused).
TK_AVX512 static inline __attribute__((always_inline)) void input_transform(
    const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v, uint16_t *v16, ptrdiff_t ld_t,
    ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    for (ptrdiff_t ch = c0; ch < c1; ++ch) {
        const float *xc = x + ch * h * w;
        ptrdiff_t base = ch * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            // The next channel's rows this tile row moves past, while this one is transformed.
            if (ch + 1 < c1 && 2 * ti < h) prefetch_floats(xc + h * w + 2 * ti * w, (2 * ti + 2 <= h ? 2 : 1) * w, 0);
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                __m512 out[16];
                wino_input_tiles(xc, h, w, ti, tj, out);
                ptrdiff_t o = base + ti * tw + tj;
                __mmask16 k = lanes_mask(tw - tj);
                for (int xi = 0; xi < 16; ++xi) store_lanes(v, v16, o + xi * channel_stride, k, out[xi]);
            }
        }
    }
}

TK_AVX512 void tkwino_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                      ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride,
                                      float *scratch) {
    (void)scratch;  // reads x in place
    input_transform(x, c0, c1, h, w, v, NULL, ld_t, tile_offset, channel_stride);
}

TK_AVX512 void tkwino_input_transform_bf16_rows(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w,
                                                uint16_t *v, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                ptrdiff_t channel_stride) {
    input_transform(x, c0, c1, h, w, NULL, v, ld_t, tile_offset, channel_stride);
}

// While one tile row of a channel is finished, its rows r0 ..< r0 + rows of the next channel
// (at `plane`): the residual to read, the outputs to write.
static inline void prefetch_rows(const float *y, const float *residual, const float *pre, ptrdiff_t plane, ptrdiff_t r0,
                                 ptrdiff_t rows, ptrdiff_t h, ptrdiff_t w, int next) {
    if (!next) return;
    if (r0 + rows > h) rows = h - r0;
    ptrdiff_t at = plane + r0 * w, count = rows * w;
    if (residual) prefetch_floats(residual + at, count, 0);
    prefetch_floats(y + at, count, 1);
    if (pre) prefetch_floats(pre + at, count, 1);
}

TK_AVX512 static inline void finish_row(float *y, const float *residual, float *pre, int relu, __mmask16 k,
                                        __m512 value) {
    if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(k, residual));
    if (pre) _mm512_mask_storeu_ps(pre, k, value);
    // max(0, NaN) is NaN (MAXPS returns its second operand when either is NaN), as ReLU keeps NaN.
    if (relu) value = _mm512_max_ps(_mm512_setzero_ps(), value);
    _mm512_mask_storeu_ps(y, k, value);
}

TK_AVX512 void tkwino_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                       ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                                       const float *residual, float *pre, int relu) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    // Interleave even (a) and odd (b) output columns: lanes a0 b0 a1 b1 ...
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        __m512 b = _mm512_set1_ps(bias ? bias[oc] : 0.0f);
        const float *base = m + oc * ld_t + tile_offset;
        ptrdiff_t plane = oc * h * w;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            prefetch_rows(y, residual, pre, plane + h * w, 2 * ti, 2, h, w, oc + 1 < o1);
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                const float *p = base + ti * tw + tj;
                __mmask16 k = lanes_mask(tw - tj);
                __m512 q[16];
                for (int xi = 0; xi < 16; ++xi) q[xi] = _mm512_maskz_loadu_ps(k, p + xi * channel_stride);
                // Rows of A^T M (s0, s1), then columns of (A^T M) A.
                __m512 s0[4], s1[4];
                for (int j = 0; j < 4; ++j) {
                    s0[j] = _mm512_add_ps(_mm512_add_ps(q[j], q[4 + j]), q[8 + j]);
                    s1[j] = _mm512_sub_ps(_mm512_sub_ps(q[4 + j], q[8 + j]), q[12 + j]);
                }
                __m512 rows[2][2] = {
                    {_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]), b),
                     _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]), b)},
                    {_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]), b),
                     _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]), b)},
                };
                ptrdiff_t col = 2 * tj;
                __mmask16 k0 = lanes_mask(w - col), k1 = lanes_mask(w - col - 16);
                for (int r = 0; r < 2; ++r) {
                    ptrdiff_t row = 2 * ti + r;
                    if (row >= h) break;
                    ptrdiff_t at = plane + row * w + col;
                    __m512 lo = _mm512_permutex2var_ps(rows[r][0], first, rows[r][1]);
                    __m512 hi = _mm512_permutex2var_ps(rows[r][0], second, rows[r][1]);
                    finish_row(y + at, residual ? residual + at : NULL, pre ? pre + at : NULL, relu, k0, lo);
                    if (k1) finish_row(y + at + 16, residual ? residual + at + 16 : NULL, pre ? pre + at + 16 : NULL, relu, k1, hi);
                }
            }
        }
    }
}

TK_AVX512 void tkwino_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                                       ptrdiff_t row0, ptrdiff_t row1, float *u) {
    ptrdiff_t rows = for_input_gradient ? c : o, cols = for_input_gradient ? o : c;
    ptrdiff_t plane = rows * cols;
    // Consecutive columns of U are filters 9 floats apart (forward: same output channel,
    // next input channel) or 9 * C apart (input gradient: next output channel).
    ptrdiff_t step = for_input_gradient ? 9 * c : 9;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i index = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)step));
    const __m512 half = _mm512_set1_ps(0.5f);
    for (ptrdiff_t row = row0; row < row1; ++row) {
        for (ptrdiff_t col = 0; col < cols; col += 16) {
            __mmask16 k = lanes_mask(cols - col);
            const float *first = for_input_gradient ? w + (col * c + row) * 9 : w + (row * c + col) * 9;
            __m512 g[9];
            for (int e = 0; e < 9; ++e) {
                // The input gradient uses each filter rotated by 180 degrees.
                int at = for_input_gradient ? 8 - e : e;
                g[e] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, index, first + at, 4);
            }
            // t = G g (4 x 3), then U = t G^T (4 x 4).
            __m512 t[4][3];
            for (int j = 0; j < 3; ++j) {
                __m512 r0 = g[j], r1 = g[3 + j], r2 = g[6 + j];
                t[0][j] = r0;
                t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(r0, r1), r2));
                t[2][j] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(r0, r1), r2));
                t[3][j] = r2;
            }
            float *out = u + row * cols + col;
            for (int i = 0; i < 4; ++i) {
                __m512 a = t[i][0], b = t[i][1], e = t[i][2];
                _mm512_mask_storeu_ps(out + (4 * i + 0) * plane, k, a);
                _mm512_mask_storeu_ps(out + (4 * i + 1) * plane, k, _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a, b), e)));
                _mm512_mask_storeu_ps(out + (4 * i + 2) * plane, k, _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a, b), e)));
                _mm512_mask_storeu_ps(out + (4 * i + 3) * plane, k, e);
            }
        }
    }
}

// tkwino_output_gradient_transform into float32 `m`, or into bfloat16 `m16` when given.
TK_AVX512 static inline __attribute__((always_inline)) void output_gradient_transform(
    const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w, float *m, uint16_t *m16, ptrdiff_t ld_t,
    ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        const float *src = gy + oc * h * w;
        ptrdiff_t base = oc * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                ptrdiff_t col = 2 * tj;
                __mmask16 k0 = lanes_mask(w - col), k1 = lanes_mask(w - col - 16);
                // Rows 2ti and 2ti + 1 of the tile (zero past the map), split into the tiles'
                // left (even) and right (odd) columns.
                __m512 r[2][2];
                for (int a = 0; a < 2; ++a) {
                    ptrdiff_t row = 2 * ti + a;
                    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
                    if (row < h) {
                        lo = _mm512_maskz_loadu_ps(k0, src + row * w + col);
                        hi = _mm512_maskz_loadu_ps(k1, src + row * w + col + 16);
                    }
                    r[a][0] = _mm512_permutex2var_ps(lo, even, hi);
                    r[a][1] = _mm512_permutex2var_ps(lo, odd, hi);
                }
                // Rows of A dY: (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); then times A^T.
                __m512 p[4][2] = {
                    {r[0][0], r[0][1]},
                    {_mm512_add_ps(r[0][0], r[1][0]), _mm512_add_ps(r[0][1], r[1][1])},
                    {_mm512_sub_ps(r[0][0], r[1][0]), _mm512_sub_ps(r[0][1], r[1][1])},
                    {_mm512_sub_ps(_mm512_setzero_ps(), r[1][0]), _mm512_sub_ps(_mm512_setzero_ps(), r[1][1])},
                };
                ptrdiff_t out = base + ti * tw + tj;
                __mmask16 k = lanes_mask(tw - tj);
                for (int i = 0; i < 4; ++i) {
                    __m512 x = p[i][0], y = p[i][1];
                    store_lanes(m, m16, out + (4 * i + 0) * channel_stride, k, x);
                    store_lanes(m, m16, out + (4 * i + 1) * channel_stride, k, _mm512_add_ps(x, y));
                    store_lanes(m, m16, out + (4 * i + 2) * channel_stride, k, _mm512_sub_ps(x, y));
                    store_lanes(m, m16, out + (4 * i + 3) * channel_stride, k, _mm512_sub_ps(_mm512_setzero_ps(), y));
                }
            }
        }
    }
}

TK_AVX512 void tkwino_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                                float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                ptrdiff_t channel_stride) {
    output_gradient_transform(gy, o0, o1, h, w, m, NULL, ld_t, tile_offset, channel_stride);
}

TK_AVX512 void tkwino_output_gradient_transform_bf16_rows(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h,
                                                          ptrdiff_t w, uint16_t *m, ptrdiff_t ld_t,
                                                          ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    output_gradient_transform(gy, o0, o1, h, w, NULL, m, ld_t, tile_offset, channel_stride);
}
#endif  // __x86_64__

// MARK: - F(4x4, 3x3)

size_t tkwino43_input_scratch(ptrdiff_t h, ptrdiff_t w) {
    ptrdiff_t hp, wp;
    padded_dims43(h, w, &hp, &wp);
    return (size_t)(hp * wp);
}

#if defined(__x86_64__)
#define ADD(a, b) _mm512_add_ps(a, b)
#define SUB(a, b) _mm512_sub_ps(a, b)
#define MUL(a, b) _mm512_mul_ps(a, b)
#define K(c) _mm512_set1_ps(c)

// Lane l of index[c] picks element 4l + c of 32 floats (mod 32): column c of tile l.
TK_AVX512 static void wino43_column_index(__m512i index[4]) {
    for (int c = 0; c < 4; ++c)
        index[c] = _mm512_and_si512(
            _mm512_add_epi32(_mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                _mm512_set1_epi32(4)),
                             _mm512_set1_epi32(c)),
            _mm512_set1_epi32(31));
}

// The row pass of B^T d B for sixteen tiles (ti, tj ..< tj + 16) of channel `xc` (h x w,
// padding 1; all zero for a NULL `xc`): e[a] = row a of the 6x6 input tiles times B. Column c of
// tile l is element 4l + c: lanes 0-7 from the first 32 floats, 8-15 (index taken mod 32) from
// the next 32; columns 4 and 5 are columns 0 and 1 of the loads 4 further.
TK_AVX512 static inline __attribute__((always_inline)) void wino43_input_rows(const float *xc, ptrdiff_t h, ptrdiff_t w,
                                                                             ptrdiff_t ti, ptrdiff_t tj,
                                                                             const __m512i index[4], __m512 e[6][6]) {
    ptrdiff_t c0 = 4 * tj - 1;
    for (int a = 0; a < 6; ++a) {
        const float *row = map_row(xc, 4 * ti + a - 1, h, w);
        __m512 x[2][4];
        for (int s = 0; s < 2; ++s)
            for (int part = 0; part < 4; ++part) x[s][part] = load_row16(row, c0 + 4 * s + 16 * part, w);
        __m512 d[6];
        for (int c = 0; c < 6; ++c) {
            const __m512 *q = x[c < 4 ? 0 : 1];
            int k = c & 3;
            __m512 lo = _mm512_permutex2var_ps(q[0], index[k], q[1]);
            __m512 hi = _mm512_permutex2var_ps(q[2], index[k], q[3]);
            d[c] = _mm512_mask_blend_ps((__mmask16)0xFF00, lo, hi);
        }
        WINO43_INPUT(d, e[a]);
    }
}

TK_AVX512 void tkwino43_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                                        ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride,
                                        float *scratch) {
    (void)scratch;  // reads x in place
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    __m512i index[4];
    wino43_column_index(index);
    for (ptrdiff_t ch = c0; ch < c1; ++ch) {
        const float *xc = x + ch * h * w;
        float *base = v + ch * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            if (ch + 1 < c1 && 4 * ti < h)
                prefetch_floats(xc + h * w + 4 * ti * w, (4 * ti + 4 <= h ? 4 : h - 4 * ti) * w, 0);
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                __m512 e[6][6];
                wino43_input_rows(xc, h, w, ti, tj, index, e);
                float *o = base + ti * tw + tj;
                __mmask16 k = lanes_mask(tw - tj);
                for (int j = 0; j < 6; ++j) {
                    __m512 col[6] = {e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]}, t[6];
                    WINO43_INPUT(col, t);
                    for (int i = 0; i < 6; ++i) _mm512_mask_storeu_ps(o + (6 * i + j) * channel_stride, k, t[i]);
                }
            }
        }
    }
}

// Where tile vector (ti, tj) of channel pair `pair` (of the K slice at `slice`) goes in a packed
// bfloat16 B: 16 pairs of 32 bits from `first` lanes at `at` and the rest at `next` (the start of
// the following panel) when the vector crosses a panel boundary.
typedef struct {
    ptrdiff_t at, next, first, lanes;
} PanelSpot;

static PanelSpot panel_spot(ptrdiff_t t, ptrdiff_t lanes, ptrdiff_t pair, ptrdiff_t slice_offset, ptrdiff_t kcp,
                            ptrdiff_t width) {
    // Offsets in 32-bit pairs: panel jr = t / width at slice_offset + jr * width * kcp / 2.
    ptrdiff_t panel = t / width, column = t % width, half = kcp / 2;
    PanelSpot s;
    s.at = slice_offset + panel * width * half + pair * width + column;
    s.next = slice_offset + (panel + 1) * width * half + pair * width;
    s.first = width - column < lanes ? width - column : lanes;
    s.lanes = lanes;
    return s;
}

#define TK_AVX512_BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512bf16,avx2,fma")))

// Stores the transformed value of sixteen tiles of an even and an odd channel as 32-bit
// bfloat16 pairs (even channel low) at `spot` of one matrix's packed B.
TK_AVX512_BF16 static inline __attribute__((always_inline)) void store_pairs(uint32_t *plane, PanelSpot spot,
                                                                            __m512 even, __m512 odd) {
    // Lane i of a pair vector: bfloat16 lane i / 2 of the even channel for even i, of the odd one for odd i.
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                           21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    __mmask16 head = lanes_mask(spot.first), tail = lanes_mask(spot.lanes) & (__mmask16)~head;
    __m512i pairs = _mm512_permutexvar_epi16(order, (__m512i)_mm512_cvtne2ps_pbh(odd, even));
    _mm512_mask_storeu_epi32(plane + spot.at, head, pairs);
    // Lanes from `first` on start the next panel (the pointer is only offset, never read below it).
    if (tail) _mm512_mask_storeu_epi32(plane + spot.next - spot.first, tail, pairs);
}

// Where tile vector (ti, tj) of channel pair (ch, ch + 1) goes in the packed B of `c` channels
// (K slices of `slice_depth`) and `n` tiles.
static inline PanelSpot pair_spot(ptrdiff_t ch, ptrdiff_t c, ptrdiff_t slice_depth, ptrdiff_t panel_width,
                                  ptrdiff_t n, ptrdiff_t t, ptrdiff_t lanes) {
    ptrdiff_t n_pad = (n + panel_width - 1) / panel_width * panel_width;
    ptrdiff_t pc = ch / slice_depth * slice_depth;
    ptrdiff_t kc = c - pc < slice_depth ? c - pc : slice_depth, kcp = (kc + 1) & ~(ptrdiff_t)1;
    return panel_spot(t, lanes, (ch - pc) / 2, pc * n_pad / 2, kcp, panel_width);
}

// Both bfloat16 input transforms: F(4x4) when `large`, else F(2x2) (a constant at each call, so
// each caller compiles to its own loop).
TK_AVX512_BF16 static inline __attribute__((always_inline)) void input_transform_bf16(
    int large, const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w, uint16_t *packed,
    ptrdiff_t slice_depth, ptrdiff_t panel_width, ptrdiff_t n, ptrdiff_t tile_offset, ptrdiff_t xi_stride) {
    ptrdiff_t tile = large ? 4 : 2, th = (h + tile - 1) / tile, tw = (w + tile - 1) / tile;
    __m512i index[4];
    if (large) wino43_column_index(index);
    uint32_t *out = (uint32_t *)packed;
    for (ptrdiff_t ch = c0; ch < c1; ch += 2) {
        // An odd channel past c1 transforms to zeros (NULL).
        const float *xc[2] = {x + ch * h * w, ch + 1 < c1 ? x + (ch + 1) * h * w : NULL};
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            // The next pair's rows this tile row moves past, while this pair is transformed.
            if (ch + 2 < c1 && tile * ti < h) {
                ptrdiff_t rows = tile * ti + tile <= h ? tile : h - tile * ti;
                for (ptrdiff_t q = 2; q < 4 && ch + q < c1; ++q)
                    prefetch_floats(x + (ch + q) * h * w + tile * ti * w, rows * w, 0);
            }
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                PanelSpot spot =
                    pair_spot(ch, c, slice_depth, panel_width, n, tile_offset + ti * tw + tj, tw - tj < 16 ? tw - tj : 16);
                if (!large) {
                    __m512 even[16], odd[16];
                    wino_input_tiles(xc[0], h, w, ti, tj, even);
                    wino_input_tiles(xc[1], h, w, ti, tj, odd);
                    for (int xi = 0; xi < 16; ++xi) store_pairs(out + xi * (xi_stride / 2), spot, even[xi], odd[xi]);
                    continue;
                }
                // F(4x4): the even channel's 36 vectors wait in `even`; the odd channel's are
                // paired with them and stored as they come, a column of the tile at a time.
                __m512 even[36];
                for (int q = 0; q < 2; ++q) {
                    __m512 e[6][6];
                    wino43_input_rows(xc[q], h, w, ti, tj, index, e);
                    for (int j = 0; j < 6; ++j) {
                        __m512 column[6] = {e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]}, r[6];
                        WINO43_INPUT(column, r);
                        for (int i = 0; i < 6; ++i) {
                            int xi = 6 * i + j;
                            if (q == 0) {
                                even[xi] = r[i];
                            } else {
                                store_pairs(out + xi * (xi_stride / 2), spot, even[xi], r[i]);
                            }
                        }
                    }
                }
            }
        }
    }
}

TK_AVX512_BF16 void tkwino_input_transform_bf16(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h,
                                                ptrdiff_t w, uint16_t *packed, ptrdiff_t slice_depth,
                                                ptrdiff_t panel_width, ptrdiff_t n, ptrdiff_t tile_offset,
                                                ptrdiff_t xi_stride) {
    input_transform_bf16(0, x, c0, c1, c, h, w, packed, slice_depth, panel_width, n, tile_offset, xi_stride);
}

TK_AVX512_BF16 void tkwino43_input_transform_bf16(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h,
                                                  ptrdiff_t w, uint16_t *packed, ptrdiff_t slice_depth,
                                                  ptrdiff_t panel_width, ptrdiff_t n, ptrdiff_t tile_offset,
                                                  ptrdiff_t xi_stride) {
    input_transform_bf16(1, x, c0, c1, c, h, w, packed, slice_depth, panel_width, n, tile_offset, xi_stride);
}

TK_AVX512 void tkwino43_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t,
                                         ptrdiff_t tile_offset, ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w,
                                         const float *bias, float *y, const float *residual, float *pre, int relu) {
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        __m512 b = _mm512_set1_ps(bias ? bias[oc] : 0.0f);
        const float *base = m + oc * ld_t + tile_offset;
        ptrdiff_t plane = oc * h * w;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            prefetch_rows(y, residual, pre, plane + h * w, 4 * ti, 4, h, w, oc + 1 < o1);
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                const float *p = base + ti * tw + tj;
                __mmask16 k = lanes_mask(tw - tj);
                // s[j][i]: row i of A^T M for column j of M.
                __m512 s[6][4], s12, d12, s34, d34;
                for (int j = 0; j < 6; ++j) {
                    __m512 q[6];
                    for (int i = 0; i < 6; ++i) q[i] = _mm512_maskz_loadu_ps(k, p + (6 * i + j) * channel_stride);
                    WINO43_OUTPUT(q, s[j]);
                }
                for (int i = 0; i < 4; ++i) {
                    ptrdiff_t row = 4 * ti + i;
                    if (row >= h) break;
                    __m512 r[6] = {s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i]}, yv[4];
                    WINO43_OUTPUT(r, yv);
                    for (int j = 0; j < 4; ++j) yv[j] = _mm512_add_ps(yv[j], b);
                    // Lanes are tiles; output column 4 l + j is yv[j][l]: interleave four ways.
                    __m512 p01l = _mm512_unpacklo_ps(yv[0], yv[1]), p01h = _mm512_unpackhi_ps(yv[0], yv[1]);
                    __m512 p23l = _mm512_unpacklo_ps(yv[2], yv[3]), p23h = _mm512_unpackhi_ps(yv[2], yv[3]);
                    __m512 q0 = _mm512_shuffle_ps(p01l, p23l, 0x44), q1 = _mm512_shuffle_ps(p01l, p23l, 0xEE);
                    __m512 q2 = _mm512_shuffle_ps(p01h, p23h, 0x44), q3 = _mm512_shuffle_ps(p01h, p23h, 0xEE);
                    __m512 r0 = _mm512_shuffle_f32x4(q0, q1, 0x44), r1 = _mm512_shuffle_f32x4(q2, q3, 0x44);
                    __m512 r2 = _mm512_shuffle_f32x4(q0, q1, 0xEE), r3 = _mm512_shuffle_f32x4(q2, q3, 0xEE);
                    __m512 out[4] = {_mm512_shuffle_f32x4(r0, r1, 0x88), _mm512_shuffle_f32x4(r0, r1, 0xDD),
                                     _mm512_shuffle_f32x4(r2, r3, 0x88), _mm512_shuffle_f32x4(r2, r3, 0xDD)};
                    for (int v = 0; v < 4; ++v) {
                        ptrdiff_t col = 4 * tj + 16 * v;
                        __mmask16 kv = lanes_mask(w - col);
                        if (!kv) break;
                        ptrdiff_t at = plane + row * w + col;
                        finish_row(y + at, residual ? residual + at : NULL, pre ? pre + at : NULL, relu, kv, out[v]);
                    }
                }
            }
        }
    }
}
// dM = A dY A^T of sixteen 4x4 output-gradient tiles at a time: the AVX-512 twin of
// tkwino43_avx2_output_gradient_transform (eight tiles), the same operations in the same order.
// A row of sixteen tiles is 64 floats: column k of tile l is element 4l + k, picked from the four
// loads as wino43_input_rows does (here without the padding column).
TK_AVX512 void tkwino43_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h,
                                                  ptrdiff_t w, float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                  ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    __m512i index[4];
    wino43_column_index(index);
    __m512 s02, s13, t02, t13;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        const float *src = gy + oc * h * w;
        float *base = m + oc * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            if (oc + 1 < o1 && 4 * ti < h)
                prefetch_floats(src + h * w + 4 * ti * w, (4 * ti + 4 <= h ? 4 : h - 4 * ti) * w, 0);
            for (ptrdiff_t tj = 0; tj < tw; tj += 16) {
                // The row pass: e[a] = A times row a of the tiles; then A times each column of e.
                __m512 e[4][6];
                for (int a = 0; a < 4; ++a) {
                    const float *row = map_row(src, 4 * ti + a, h, w);
                    __m512 x[4], d[4];
                    for (int part = 0; part < 4; ++part) x[part] = load_row16(row, 4 * tj + 16 * part, w);
                    for (int k = 0; k < 4; ++k) {
                        __m512 lo = _mm512_permutex2var_ps(x[0], index[k], x[1]);
                        __m512 hi = _mm512_permutex2var_ps(x[2], index[k], x[3]);
                        d[k] = _mm512_mask_blend_ps((__mmask16)0xFF00, lo, hi);
                    }
                    WINO43_OUTPUT_GRADIENT(d, e[a]);
                }
                float *out = base + ti * tw + tj;
                __mmask16 k = lanes_mask(tw - tj);
                for (int j = 0; j < 6; ++j) {
                    __m512 column[4] = {e[0][j], e[1][j], e[2][j], e[3][j]}, t[6];
                    WINO43_OUTPUT_GRADIENT(column, t);
                    for (int i = 0; i < 6; ++i) _mm512_mask_storeu_ps(out + (6 * i + j) * channel_stride, k, t[i]);
                }
            }
        }
    }
}

TK_AVX512 void tkwino43_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                                         ptrdiff_t row0, ptrdiff_t row1, float *u) {
    ptrdiff_t rows = for_input_gradient ? c : o, cols = for_input_gradient ? o : c;
    ptrdiff_t plane = rows * cols;
    // Sixteen consecutive columns of U at once, gathered as tkwino_filter_transform does.
    ptrdiff_t step = for_input_gradient ? 9 * c : 9;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i index = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)step));
    for (ptrdiff_t row = row0; row < row1; ++row) {
        for (ptrdiff_t col = 0; col < cols; col += 16) {
            __mmask16 k = lanes_mask(cols - col);
            const float *first = for_input_gradient ? w + (col * c + row) * 9 : w + (row * c + col) * 9;
            __m512 g[9];
            for (int e = 0; e < 9; ++e) {
                int at = for_input_gradient ? 8 - e : e;  // the input gradient's filters are rotated
                g[e] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, index, first + at, 4);
            }
            // t = G g (6 x 3, column j from column j of g), then U = t G^T (row i from row i of t).
            __m512 t[3][6];
            for (int j = 0; j < 3; ++j) {
                __m512 column[3] = {g[j], g[3 + j], g[6 + j]};
                WINO43_FILTER(column, t[j]);
            }
            float *out = u + row * cols + col;
            for (int i = 0; i < 6; ++i) {
                __m512 r[3] = {t[0][i], t[1][i], t[2][i]}, v[6];
                WINO43_FILTER(r, v);
                for (int j = 0; j < 6; ++j) _mm512_mask_storeu_ps(out + (6 * i + j) * plane, k, v[j]);
            }
        }
    }
}
#undef ADD
#undef SUB
#undef MUL
#undef K
#endif  // __x86_64__

// MARK: - Portable definitions (every architecture but x86-64)

// One tile at a time, with the same arithmetic as the vector code, so the Swift side links
// everywhere. TensorKit does not call them (`tkwino_available()` is 0 here, and
// `Winograd.swift` then uses its own transforms); they are correct but slow.
#if !defined(__x86_64__)
int tkwino_available(void) { return 0; }

// The bfloat16 nearest to x, ties to even, as vcvtne2ps2bf16 rounds (NaN quiet, subnormals to zero).
static uint16_t bf16_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    if ((u & 0x7f800000u) == 0) u &= 0x80000000u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

// Element `at` of a float32 plane, or of a bfloat16 one when `v16` is given.
static inline void put(float *v32, uint16_t *v16, ptrdiff_t at, float value) {
    if (v16) {
        v16[at] = bf16_bits(value);
    } else {
        v32[at] = value;
    }
}

// tkwino_input_transform into float32 `v`, or into bfloat16 `v16` when given.
static void input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                            uint16_t *v16, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    for (ptrdiff_t ch = c0; ch < c1; ++ch) {
        const float *xc = x + ch * h * w;
        ptrdiff_t base = ch * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float t[16];
                wino_scalar_input_tile(0, xc, h, w, ti, tj, t);
                ptrdiff_t o = base + ti * tw + tj;
                for (int xi = 0; xi < 16; ++xi) put(v, v16, o + xi * channel_stride, t[xi]);
            }
        }
    }
}

void tkwino_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                            ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch) {
    (void)scratch;  // reads x directly, zero outside the map
    input_transform(x, c0, c1, h, w, v, NULL, ld_t, tile_offset, channel_stride);
}

void tkwino_input_transform_bf16_rows(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w,
                                      uint16_t *v, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    input_transform(x, c0, c1, h, w, NULL, v, ld_t, tile_offset, channel_stride);
}

void tkwino_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                             ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                             const float *residual, float *pre, int relu) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        float b = bias ? bias[oc] : 0.0f;
        const float *base = m + oc * ld_t + tile_offset;
        ptrdiff_t plane = oc * h * w;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float rows[4][4];
                wino_scalar_output_tile(0, base + ti * tw + tj, channel_stride, b, rows);
                for (int r = 0; r < 2 && 2 * ti + r < h; ++r) {
                    for (int cc = 0; cc < 2 && 2 * tj + cc < w; ++cc) {
                        wino_scalar_finish(y, residual, pre, relu, plane + (2 * ti + r) * w + 2 * tj + cc, rows[r][cc]);
                    }
                }
            }
        }
    }
}

void tkwino_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient,
                             ptrdiff_t row0, ptrdiff_t row1, float *u) {
    ptrdiff_t cols = for_input_gradient ? o : c;
    ptrdiff_t plane = (for_input_gradient ? c : o) * cols;
    for (ptrdiff_t row = row0; row < row1; ++row) {
        for (ptrdiff_t col = 0; col < cols; ++col) {
            const float *first = for_input_gradient ? w + (col * c + row) * 9 : w + (row * c + col) * 9;
            float g[9];
            // The input gradient uses each filter rotated by 180 degrees.
            for (int e = 0; e < 9; ++e) g[e] = first[for_input_gradient ? 8 - e : e];
            float t[4][3];
            for (int j = 0; j < 3; ++j) {
                float r0 = g[j], r1 = g[3 + j], r2 = g[6 + j];
                t[0][j] = r0;
                t[1][j] = 0.5f * (r0 + r1 + r2);
                t[2][j] = 0.5f * (r0 - r1 + r2);
                t[3][j] = r2;
            }
            float *out = u + row * cols + col;
            for (int i = 0; i < 4; ++i) {
                float a = t[i][0], b = t[i][1], e = t[i][2];
                out[(4 * i + 0) * plane] = a;
                out[(4 * i + 1) * plane] = 0.5f * (a + b + e);
                out[(4 * i + 2) * plane] = 0.5f * (a - b + e);
                out[(4 * i + 3) * plane] = e;
            }
        }
    }
}

// tkwino_output_gradient_transform into float32 `m`, or into bfloat16 `m16` when given.
static void output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w, float *m,
                                      uint16_t *m16, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                      ptrdiff_t channel_stride) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        const float *src = gy + oc * h * w;
        ptrdiff_t base = oc * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                // The 2x2 tile of dY, zero past the map.
                float r[2][2];
                for (int a = 0; a < 2; ++a) {
                    for (int b = 0; b < 2; ++b) {
                        ptrdiff_t row = 2 * ti + a, col = 2 * tj + b;
                        r[a][b] = row < h && col < w ? src[row * w + col] : 0.0f;
                    }
                }
                // Rows of A dY, then times A^T (0 - x rather than -x, as the vector code).
                float p[4][2] = {
                    {r[0][0], r[0][1]},
                    {r[0][0] + r[1][0], r[0][1] + r[1][1]},
                    {r[0][0] - r[1][0], r[0][1] - r[1][1]},
                    {0.0f - r[1][0], 0.0f - r[1][1]},
                };
                ptrdiff_t out = base + ti * tw + tj;
                for (int i = 0; i < 4; ++i) {
                    float x = p[i][0], yv = p[i][1];
                    put(m, m16, out + (4 * i + 0) * channel_stride, x);
                    put(m, m16, out + (4 * i + 1) * channel_stride, x + yv);
                    put(m, m16, out + (4 * i + 2) * channel_stride, x - yv);
                    put(m, m16, out + (4 * i + 3) * channel_stride, 0.0f - yv);
                }
            }
        }
    }
}

void tkwino_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                      float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    output_gradient_transform(gy, o0, o1, h, w, m, NULL, ld_t, tile_offset, channel_stride);
}

void tkwino_output_gradient_transform_bf16_rows(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                                uint16_t *m, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                                                ptrdiff_t channel_stride) {
    output_gradient_transform(gy, o0, o1, h, w, NULL, m, ld_t, tile_offset, channel_stride);
}
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define K(c) (c)

void tkwino43_input_transform(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t h, ptrdiff_t w, float *v,
                              ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride, float *scratch) {
    (void)scratch;  // reads x directly, zero outside the map
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    for (ptrdiff_t ch = c0; ch < c1; ++ch) {
        const float *xc = x + ch * h * w;
        float *base = v + ch * ld_t + tile_offset;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float t[36];
                wino_scalar_input_tile(1, xc, h, w, ti, tj, t);
                float *o = base + ti * tw + tj;
                for (int xi = 0; xi < 36; ++xi) o[xi * channel_stride] = t[xi];
            }
        }
    }
}


// Both bfloat16 input transforms, one tile at a time: F(4x4) when `large`, else F(2x2).
static void input_transform_bf16(int large, const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h,
                                 ptrdiff_t w, uint16_t *packed, ptrdiff_t slice_depth, ptrdiff_t panel_width,
                                 ptrdiff_t n, ptrdiff_t tile_offset, ptrdiff_t xi_stride) {
    ptrdiff_t tile = large ? 4 : 2, matrices = large ? 36 : 16;
    ptrdiff_t th = (h + tile - 1) / tile, tw = (w + tile - 1) / tile;
    ptrdiff_t n_pad = (n + panel_width - 1) / panel_width * panel_width;
    ptrdiff_t end = c1 % 2 ? c1 + 1 : c1;  // with the zero partner of an odd last channel
    for (ptrdiff_t ch = c0; ch < end; ++ch) {
        const float *xc = x + ch * h * w;
        ptrdiff_t pc = ch / slice_depth * slice_depth;
        ptrdiff_t kc = c - pc < slice_depth ? c - pc : slice_depth, kcp = (kc + 1) & ~(ptrdiff_t)1;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float values[36] = {0};  // the zero partner of an odd last channel stays zero
                if (ch < c1) {
                    if (large) {
                        wino_scalar_input_tile(1, xc, h, w, ti, tj, values);
                    } else {
                        wino_scalar_input_tile(0, xc, h, w, ti, tj, values);
                    }
                }
                ptrdiff_t t = tile_offset + ti * tw + tj;
                ptrdiff_t at = pc * n_pad + (t / panel_width) * panel_width * kcp +
                               (((ch - pc) >> 1) * panel_width + t % panel_width) * 2 + ((ch - pc) & 1);
                for (ptrdiff_t xi = 0; xi < matrices; ++xi) packed[xi * xi_stride + at] = bf16_bits(values[xi]);
            }
        }
    }
}

void tkwino_input_transform_bf16(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w,
                                 uint16_t *packed, ptrdiff_t slice_depth, ptrdiff_t panel_width, ptrdiff_t n,
                                 ptrdiff_t tile_offset, ptrdiff_t xi_stride) {
    input_transform_bf16(0, x, c0, c1, c, h, w, packed, slice_depth, panel_width, n, tile_offset, xi_stride);
}

void tkwino43_input_transform_bf16(const float *x, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w,
                                   uint16_t *packed, ptrdiff_t slice_depth, ptrdiff_t panel_width, ptrdiff_t n,
                                   ptrdiff_t tile_offset, ptrdiff_t xi_stride) {
    input_transform_bf16(1, x, c0, c1, c, h, w, packed, slice_depth, panel_width, n, tile_offset, xi_stride);
}

// Off x86-64 the scalar definition of tkwino43_avx2_output_gradient_transform is the one.
void tkwino43_output_gradient_transform(const float *gy, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t h, ptrdiff_t w,
                                        float *m, ptrdiff_t ld_t, ptrdiff_t tile_offset, ptrdiff_t channel_stride) {
    tkwino43_avx2_output_gradient_transform(gy, o0, o1, h, w, m, ld_t, tile_offset, channel_stride);
}

void tkwino43_output_transform(const float *m, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t ld_t, ptrdiff_t tile_offset,
                               ptrdiff_t channel_stride, ptrdiff_t h, ptrdiff_t w, const float *bias, float *y,
                               const float *residual, float *pre, int relu) {
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    for (ptrdiff_t oc = o0; oc < o1; ++oc) {
        float b = bias ? bias[oc] : 0.0f;
        const float *base = m + oc * ld_t + tile_offset;
        ptrdiff_t plane = oc * h * w;
        for (ptrdiff_t ti = 0; ti < th; ++ti) {
            for (ptrdiff_t tj = 0; tj < tw; ++tj) {
                float rows[4][4];
                wino_scalar_output_tile(1, base + ti * tw + tj, channel_stride, b, rows);
                for (int r = 0; r < 4 && 4 * ti + r < h; ++r) {
                    for (int cc = 0; cc < 4 && 4 * tj + cc < w; ++cc) {
                        wino_scalar_finish(y, residual, pre, relu, plane + (4 * ti + r) * w + 4 * tj + cc, rows[r][cc]);
                    }
                }
            }
        }
    }
}
void tkwino43_filter_transform(const float *w, ptrdiff_t o, ptrdiff_t c, int for_input_gradient, ptrdiff_t row0,
                               ptrdiff_t row1, float *u) {
    ptrdiff_t rows = for_input_gradient ? c : o, cols = for_input_gradient ? o : c;
    ptrdiff_t plane = rows * cols;
    for (ptrdiff_t row = row0; row < row1; ++row) {
        for (ptrdiff_t col = 0; col < cols; ++col) {
            const float *first = for_input_gradient ? w + (col * c + row) * 9 : w + (row * c + col) * 9;
            float g[9];
            for (int e = 0; e < 9; ++e) g[e] = first[for_input_gradient ? 8 - e : e];
            float t[3][6];
            for (int j = 0; j < 3; ++j) {
                float column[3] = {g[j], g[3 + j], g[6 + j]};
                WINO43_FILTER(column, t[j]);
            }
            float *out = u + row * cols + col;
            for (int i = 0; i < 6; ++i) {
                float r[3] = {t[0][i], t[1][i], t[2][i]}, v[6];
                WINO43_FILTER(r, v);
                for (int j = 0; j < 6; ++j) out[(6 * i + j) * plane] = v[j];
            }
        }
    }
}
#undef ADD
#undef SUB
#undef MUL
#undef K
#endif
