// The ResNet stem in one pass: k x k / stride-2 convolution of a one-channel image, bias, ReLU
// and 3x3 / stride-2 / padding-1 max pooling (see include/_TensorKitConv.h).
//
// Vector kernels (AVX-512, and its AVX2 twin at half the width): lanes are 16 (8) adjacent output
// columns. A stride-2 convolution reads every other input column, so each padded input row is
// split once into its even and odd columns; tap (i, j) of 16 outputs is then one unaligned load
// of row 2y + i (even columns for even j, odd for odd j, offset j / 2). Four output channels
// times up to six (two) vectors of columns are summed in 24 (8) registers. Each finished output
// row goes straight into the pooling: its column-wise maximum with the row above (kept per
// channel) and, every second row, the window maximum across columns. After ReLU every value is >= 0 (or NaN), and every pooling
// window holds at least one output, so the pooling's -infinity padding can be 0.

#include "_TensorKitConv.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Scratch layout: the split padded rows (hp rows of `len` even then `len` odd columns), one
// padded input row, then per channel of a block two pooling rows (`pool_len` floats each).
enum { BLOCK = 4, MAX_VECTORS = 6 };

static ptrdiff_t out_size(ptrdiff_t n, ptrdiff_t k, ptrdiff_t pad) { return (n + 2 * pad - k) / 2 + 1; }
static ptrdiff_t round16(ptrdiff_t n) { return (n + 15) / 16 * 16; }

typedef struct {
    ptrdiff_t oh, ow, ph, pw, hp, len, pool_len;
} Layout;

static Layout layout(ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t pad) {
    Layout l;
    l.oh = out_size(h, k, pad);
    l.ow = out_size(w, k, pad);
    l.ph = (l.oh - 1) / 2 + 1;
    l.pw = (l.ow - 1) / 2 + 1;
    l.hp = h + 2 * pad;
    l.len = round16(l.ow) + k + 16;
    l.pool_len = round16(l.ow) + 64;
    return l;
}

size_t tkconv_stem_scratch(ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t pad) {
    Layout l = layout(h, w, k, pad);
    return (size_t)(l.hp * 2 * l.len + 2 * l.len + 2 * BLOCK * l.pool_len);
}

// Even and odd columns of each zero-padded input row: split[r][0][j] = xpad[r][2j],
// split[r][1][j] = xpad[r][2j + 1], zero past the image.
static void split_rows(const float *x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t pad, Layout l, float *split, float *row) {
    for (ptrdiff_t r = 0; r < l.hp; ++r) {
        float *e = split + r * 2 * l.len, *o = e + l.len;
        ptrdiff_t src = r - pad;
        if (src < 0 || src >= h) {
            memset(e, 0, sizeof(float) * (size_t)(2 * l.len));
            continue;
        }
        memset(row, 0, sizeof(float) * (size_t)(2 * l.len));
        memcpy(row + pad, x + src * w, sizeof(float) * (size_t)w);
        for (ptrdiff_t j = 0; j < l.len; ++j) {
            e[j] = row[2 * j];
            o[j] = row[2 * j + 1];
        }
    }
}

// max that keeps NaN from either side, as PyTorch's pooling does.
static inline float nan_max(float a, float b) { return (a != a || a > b) ? a : b; }

// MARK: - Portable definition (every architecture)

void tkconv_stem_pool_portable(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias,
                               ptrdiff_t k, ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch) {
    Layout l = layout(h, w, k, pad);
    float *split = scratch, *row = scratch + l.hp * 2 * l.len;
    split_rows(x, h, w, pad, l, split, row);
    for (ptrdiff_t c = o0; c < o1; ++c) {
        const float *f = filters + c * k * k;
        float *out = y + c * l.ph * l.pw;
        for (ptrdiff_t py = 0; py < l.ph; ++py) {
            for (ptrdiff_t px = 0; px < l.pw; ++px) {
                float best = 0.0f;  // every window holds an output, and outputs are >= 0 or NaN
                for (ptrdiff_t cy = 2 * py - 1; cy <= 2 * py + 1; ++cy) {
                    if (cy < 0 || cy >= l.oh) continue;
                    for (ptrdiff_t cx = 2 * px - 1; cx <= 2 * px + 1; ++cx) {
                        if (cx < 0 || cx >= l.ow) continue;
                        float s = 0.0f;
                        for (ptrdiff_t i = 0; i < k; ++i) {
                            const float *e = split + (2 * cy + i) * 2 * l.len;
                            for (ptrdiff_t j = 0; j < k; ++j) {
                                float v = (j & 1) ? e[l.len + cx + j / 2] : e[cx + j / 2];
                                s = fmaf(f[i * k + j], v, s);
                            }
                        }
                        s += bias[c];
                        float r = s != s ? s : (s > 0.0f ? s : 0.0f);
                        best = nan_max(r, best);
                    }
                }
                out[py * l.pw + px] = best;
            }
        }
    }
}

#if defined(__x86_64__)
// MARK: - Vector definitions (x86-64)

// One output row y of channels f[0 ..< BLOCK] after bias and ReLU, into out[q] + x (rows of
// pool_len floats); `combine` takes the NaN-keeping maximum with what is there.
typedef void (*RowFn)(const float *split, Layout l, ptrdiff_t k, ptrdiff_t y, const float *f[BLOCK],
                      const float b[BLOCK], float *out[BLOCK], int combine);
// Pooled row from the column maxima of rows `top` and `bottom` (output column x at top[1 + x],
// zero around).
typedef void (*PoolFn)(const float *top, const float *bottom, ptrdiff_t pw, float *out);

// The pass both vector kernels share: channel blocks of BLOCK, output rows in order, each pair
// of rows pooled as soon as it is complete.
static void stem_pool(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias, ptrdiff_t k,
                      ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch, RowFn conv_rows,
                      PoolFn pool_columns) {
    Layout l = layout(h, w, k, pad);
    float *split = scratch, *row = scratch + l.hp * 2 * l.len;
    float *pool = row + 2 * l.len;
    split_rows(x, h, w, pad, l, split, row);
    memset(pool, 0, sizeof(float) * (size_t)(2 * BLOCK * l.pool_len));
    for (ptrdiff_t c0 = o0; c0 < o1; c0 += BLOCK) {
        // A last block of fewer channels repeats its last one; only real channels are stored.
        const float *f[BLOCK];
        float b[BLOCK];
        // above[q]: column maxima of the rows gathered so far for the next pooled row;
        // below[q]: an odd row, the bottom of one pooled row and the top of the next.
        float *above[BLOCK], *below[BLOCK];
        for (int q = 0; q < BLOCK; ++q) {
            ptrdiff_t c = c0 + q < o1 ? c0 + q : o1 - 1;
            f[q] = filters + c * k * k;
            b[q] = bias[c];
            above[q] = pool + (2 * q) * l.pool_len + 1;
            below[q] = pool + (2 * q + 1) * l.pool_len + 1;
        }
        for (ptrdiff_t cy = 0; cy < l.oh; ++cy) {
            // Even rows join `above` (the middle of pooled row cy / 2); odd rows finish pooled
            // row (cy - 1) / 2 and start the next.
            int odd = (int)(cy & 1);
            float **target = odd ? below : above;
            conv_rows(split, l, k, cy, f, b, target, !odd && cy > 0);
            if (odd || cy == l.oh - 1) {
                ptrdiff_t py = cy / 2;
                for (int q = 0; q < BLOCK && c0 + q < o1; ++q)
                    pool_columns(above[q] - 1, target[q] - 1, l.pw, y + (c0 + q) * l.ph * l.pw + py * l.pw);
            }
            if (odd) {
                // The odd row is the top of the next pooled row.
                for (int q = 0; q < BLOCK; ++q) {
                    float *t = above[q];
                    above[q] = below[q];
                    below[q] = t;
                }
            }
        }
    }
}

#define TK_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define TK_AVX2 __attribute__((target("avx2,fma")))

int tkconv_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    }
    return cached;
}

int tkconv_avx2_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

// MARK: AVX-512: lanes are 16 output columns, four channels times up to six vectors in 24 registers

static __mmask16 lanes_mask(ptrdiff_t lanes) {
    return lanes >= 16 ? (__mmask16)0xFFFF : lanes <= 0 ? 0 : (__mmask16)((1u << lanes) - 1);
}

// Lane-wise maximum keeping NaN from either side (MAXPS returns its second operand on NaN).
TK_AVX512 static inline __m512 vec_nan_max(__m512 a, __m512 b) {
    return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

// Output row y, columns x0 ..< x0 + 16 nv, of channels f[0 ..< BLOCK] after bias and ReLU, into
// out[q] + x0 (rows of pool_len floats); `combine` takes the NaN-keeping maximum with what is there.
TK_AVX512 static inline __attribute__((always_inline)) void conv_row(const float *split, Layout l, ptrdiff_t k,
                                                                     ptrdiff_t y, ptrdiff_t x0, const float *f[BLOCK],
                                                                     const float b[BLOCK], float *out[BLOCK],
                                                                     int combine, const int nv) {
    __m512 acc[BLOCK][MAX_VECTORS];
    for (int q = 0; q < BLOCK; ++q)
        for (int v = 0; v < nv; ++v) acc[q][v] = _mm512_setzero_ps();
    for (ptrdiff_t i = 0; i < k; ++i) {
        const float *e = split + (2 * y + i) * 2 * l.len + x0;
        for (ptrdiff_t j = 0; j < k; ++j) {
            const float *src = (j & 1) ? e + l.len + j / 2 : e + j / 2;
            __m512 xv[MAX_VECTORS];
            for (int v = 0; v < nv; ++v) xv[v] = _mm512_loadu_ps(src + 16 * v);
            for (int q = 0; q < BLOCK; ++q) {
                __m512 wq = _mm512_set1_ps(f[q][i * k + j]);
                for (int v = 0; v < nv; ++v) acc[q][v] = _mm512_fmadd_ps(wq, xv[v], acc[q][v]);
            }
        }
    }
    for (int q = 0; q < BLOCK; ++q) {
        __m512 bq = _mm512_set1_ps(b[q]);
        for (int v = 0; v < nv; ++v) {
            __mmask16 m = lanes_mask(l.ow - x0 - 16 * v);
            __m512 r = _mm512_max_ps(_mm512_setzero_ps(), _mm512_add_ps(acc[q][v], bq));
            float *dst = out[q] + x0 + 16 * v;
            if (combine) r = vec_nan_max(r, _mm512_maskz_loadu_ps(m, dst));
            _mm512_mask_storeu_ps(dst, m, r);
        }
    }
}

// A whole output row (RowFn), in pieces of up to MAX_VECTORS vectors.
TK_AVX512 static void conv_rows(const float *split, Layout l, ptrdiff_t k, ptrdiff_t y, const float *f[BLOCK],
                                const float b[BLOCK], float *out[BLOCK], int combine) {
    for (ptrdiff_t x0 = 0; x0 < l.ow; x0 += 16 * MAX_VECTORS) {
        ptrdiff_t vectors = (l.ow - x0 + 15) / 16;
        switch (vectors >= MAX_VECTORS ? MAX_VECTORS : vectors) {
            case 6: conv_row(split, l, k, y, x0, f, b, out, combine, 6); break;
            case 5: conv_row(split, l, k, y, x0, f, b, out, combine, 5); break;
            case 4: conv_row(split, l, k, y, x0, f, b, out, combine, 4); break;
            case 3: conv_row(split, l, k, y, x0, f, b, out, combine, 3); break;
            case 2: conv_row(split, l, k, y, x0, f, b, out, combine, 2); break;
            default: conv_row(split, l, k, y, x0, f, b, out, combine, 1); break;
        }
    }
}

// PoolFn, sixteen pooled columns per step.
TK_AVX512 static void pool_columns(const float *top, const float *bottom, ptrdiff_t pw, float *out) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (ptrdiff_t px = 0; px < pw; px += 16) {
        const float *p = top + 2 * px, *q = bottom + 2 * px;  // windows cover columns 2 px ... 2 px + 2
        __m512 a0 = vec_nan_max(_mm512_loadu_ps(p), _mm512_loadu_ps(q));
        __m512 a1 = vec_nan_max(_mm512_loadu_ps(p + 16), _mm512_loadu_ps(q + 16));
        __m512 b0 = vec_nan_max(_mm512_loadu_ps(p + 2), _mm512_loadu_ps(q + 2));
        __m512 b1 = vec_nan_max(_mm512_loadu_ps(p + 18), _mm512_loadu_ps(q + 18));
        __m512 left = _mm512_permutex2var_ps(a0, even, a1), mid = _mm512_permutex2var_ps(a0, odd, a1);
        __m512 right = _mm512_permutex2var_ps(b0, even, b1);
        _mm512_mask_storeu_ps(out + px, lanes_mask(pw - px), vec_nan_max(vec_nan_max(left, mid), right));
    }
}

void tkconv_stem_pool(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias, ptrdiff_t k,
                      ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch) {
    stem_pool(x, h, w, filters, bias, k, pad, o0, o1, y, scratch, conv_rows, pool_columns);
}

// MARK: AVX2: lanes are 8 output columns, four channels times up to two vectors in 8 registers

// Three vectors (12 sums, 3 columns, a filter tap: all 16 registers) made clang spill the sums
// in the inner loop: 40 against 72 GFLOP/s on one Zen 3 core (Docs/Benchmarks.md).
enum { AVX2_VECTORS = 2 };

// Lanes 0 ..< lanes (clamped to 0 ... 8) set, for maskload/maskstore.
TK_AVX2 static inline __m256i lanes_mask8(ptrdiff_t lanes) {
    int n = lanes <= 0 ? 0 : lanes >= 8 ? 8 : (int)lanes;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// vec_nan_max at eight lanes.
TK_AVX2 static inline __m256 vec_nan_max8(__m256 a, __m256 b) {
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

// conv_row at eight lanes: columns x0 ..< x0 + 8 nv.
TK_AVX2 static inline __attribute__((always_inline)) void conv_row8(const float *split, Layout l, ptrdiff_t k,
                                                                    ptrdiff_t y, ptrdiff_t x0, const float *f[BLOCK],
                                                                    const float b[BLOCK], float *out[BLOCK],
                                                                    int combine, const int nv) {
    __m256 acc[BLOCK][AVX2_VECTORS];
    for (int q = 0; q < BLOCK; ++q)
        for (int v = 0; v < nv; ++v) acc[q][v] = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < k; ++i) {
        const float *e = split + (2 * y + i) * 2 * l.len + x0;
        for (ptrdiff_t j = 0; j < k; ++j) {
            const float *src = (j & 1) ? e + l.len + j / 2 : e + j / 2;
            __m256 xv[AVX2_VECTORS];
            for (int v = 0; v < nv; ++v) xv[v] = _mm256_loadu_ps(src + 8 * v);
            for (int q = 0; q < BLOCK; ++q) {
                __m256 wq = _mm256_set1_ps(f[q][i * k + j]);
                for (int v = 0; v < nv; ++v) acc[q][v] = _mm256_fmadd_ps(wq, xv[v], acc[q][v]);
            }
        }
    }
    for (int q = 0; q < BLOCK; ++q) {
        __m256 bq = _mm256_set1_ps(b[q]);
        for (int v = 0; v < nv; ++v) {
            ptrdiff_t lanes = l.ow - x0 - 8 * v;
            __m256 r = _mm256_max_ps(_mm256_setzero_ps(), _mm256_add_ps(acc[q][v], bq));
            float *dst = out[q] + x0 + 8 * v;
            if (lanes >= 8) {
                if (combine) r = vec_nan_max8(r, _mm256_loadu_ps(dst));
                _mm256_storeu_ps(dst, r);
            } else {
                __m256i m = lanes_mask8(lanes);
                if (combine) r = vec_nan_max8(r, _mm256_maskload_ps(dst, m));
                _mm256_maskstore_ps(dst, m, r);
            }
        }
    }
}

// RowFn at eight lanes.
TK_AVX2 static void conv_rows8(const float *split, Layout l, ptrdiff_t k, ptrdiff_t y, const float *f[BLOCK],
                               const float b[BLOCK], float *out[BLOCK], int combine) {
    for (ptrdiff_t x0 = 0; x0 < l.ow; x0 += 8 * AVX2_VECTORS) {
        ptrdiff_t vectors = (l.ow - x0 + 7) / 8;
        switch (vectors >= AVX2_VECTORS ? AVX2_VECTORS : vectors) {
            case 2: conv_row8(split, l, k, y, x0, f, b, out, combine, 2); break;
            default: conv_row8(split, l, k, y, x0, f, b, out, combine, 1); break;
        }
    }
}

// The even elements of the 16 floats lo, hi (lo first), in order; the odd ones with `odd`.
TK_AVX2 static inline __m256 pick8(__m256 lo, __m256 hi, int odd) {
    // Within each 128-bit lane: lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6; then 64-bit pieces 0 2 1 3.
    __m256 s = odd ? _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)) : _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}

// PoolFn, eight pooled columns per step.
TK_AVX2 static void pool_columns8(const float *top, const float *bottom, ptrdiff_t pw, float *out) {
    for (ptrdiff_t px = 0; px < pw; px += 8) {
        const float *p = top + 2 * px, *q = bottom + 2 * px;  // windows cover columns 2 px ... 2 px + 2
        __m256 a0 = vec_nan_max8(_mm256_loadu_ps(p), _mm256_loadu_ps(q));
        __m256 a1 = vec_nan_max8(_mm256_loadu_ps(p + 8), _mm256_loadu_ps(q + 8));
        __m256 b0 = vec_nan_max8(_mm256_loadu_ps(p + 2), _mm256_loadu_ps(q + 2));
        __m256 b1 = vec_nan_max8(_mm256_loadu_ps(p + 10), _mm256_loadu_ps(q + 10));
        __m256 r = vec_nan_max8(vec_nan_max8(pick8(a0, a1, 0), pick8(a0, a1, 1)), pick8(b0, b1, 0));
        if (pw - px >= 8) {
            _mm256_storeu_ps(out + px, r);
        } else {
            _mm256_maskstore_ps(out + px, lanes_mask8(pw - px), r);
        }
    }
}

void tkconv_stem_pool_avx2(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias,
                           ptrdiff_t k, ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch) {
    stem_pool(x, h, w, filters, bias, k, pad, o0, o1, y, scratch, conv_rows8, pool_columns8);
}
#else
int tkconv_available(void) { return 0; }

int tkconv_avx2_available(void) { return 0; }

void tkconv_stem_pool(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias, ptrdiff_t k,
                      ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch) {
    tkconv_stem_pool_portable(x, h, w, filters, bias, k, pad, o0, o1, y, scratch);
}

void tkconv_stem_pool_avx2(const float *x, ptrdiff_t h, ptrdiff_t w, const float *filters, const float *bias,
                           ptrdiff_t k, ptrdiff_t pad, ptrdiff_t o0, ptrdiff_t o1, float *y, float *scratch) {
    tkconv_stem_pool_portable(x, h, w, filters, bias, k, pad, o0, o1, y, scratch);
}
#endif
