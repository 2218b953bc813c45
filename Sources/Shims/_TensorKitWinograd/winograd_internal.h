// Pieces shared by the AVX-512 (winograd.c), AVX2 (winograd_avx2.c) and portable transforms;
// not part of the module's interface.
#ifndef TENSORKIT_WINOGRAD_INTERNAL_H
#define TENSORKIT_WINOGRAD_INTERNAL_H

#include <stddef.h>

// Padded plane: rows 0 and 2*th + 1 (and any past h) zero, row r + 1 holds input row r at
// columns 1 ... w; columns up to wp (a multiple of 32, plus slack for the +2 loads) zero.
static inline void padded_dims(ptrdiff_t h, ptrdiff_t w, ptrdiff_t *hp, ptrdiff_t *wp) {
    ptrdiff_t th = (h + 1) / 2, tw = (w + 1) / 2;
    ptrdiff_t twp = (tw + 15) / 16 * 16;
    *hp = 2 * th + 2;
    *wp = 2 * twp + 32;
}

// MARK: - F(4x4, 3x3)

// 1-D transforms of F(4x4, 3x3) on the points 0, +-3/4, +-3/2 and infinity (Toom-Cook, as Lavin &
// Gray build it): half the float32 rounding error of Lavin & Gray's 0, +-1, +-2 in a layer
// (`python3 Benchmarks/winograd_points.py`; issue #15), for as many operations, and B^T and A^T
// stay exact in float32 (their entries are products of 3/4 and 3/2). Written once as macros so
// the vector and the scalar code do the same operations in the same order: B^T d (6 -> 6), A^T m
// (6 -> 4), A dy (4 -> 6), G g (3 -> 6) and G^T a (6 -> 3). ADD, SUB, MUL and K (a constant) are
// defined per type. With a = 3/4 and b = 3/2, row j of G is (1, p, p^2) / N_j, N_j the product
// of p_j - p_k over the other finite points: N = a^2 b^2 = 81/64 at 0, 2a^2(a^2 - b^2) =
// -243/128 at +-a, 2b^2(b^2 - a^2) = 243/32 at +-b.
#define WINO43_A 0.75f
#define WINO43_B 1.5f
#define WINO43_A2 0.5625f            // a^2 = 9/16
#define WINO43_B2 2.25f              // b^2 = 9/4
#define WINO43_A3 0.421875f          // a^3 = 27/64
#define WINO43_B3 3.375f             // b^3 = 27/8
#define WINO43_S2 2.8125f            // a^2 + b^2 = 45/16
#define WINO43_P2 1.265625f          // a^2 b^2 = 81/64
#define WINO43_N0 (64.0f / 81.0f)    // 1 / N at 0
#define WINO43_NA (-128.0f / 243.0f) // 1 / N at +-a
#define WINO43_NB (32.0f / 243.0f)   // 1 / N at +-b

// B^T d: rows (a^2 b^2, 0, -(a^2 + b^2), 0, 1, 0), (0, -+a b^2, -b^2, +-a, 1, 0),
// (0, -+a^2 b, -a^2, +-b, 1, 0), (0, a^2 b^2, 0, -(a^2 + b^2), 0, 1): each pair an even part
// plus or minus an odd one.
#define WINO43_INPUT(d, t)                                                                       \
    do {                                                                                         \
        __typeof__(d[0]) even_, odd_;                                                            \
        t[0] = ADD(SUB(d[4], MUL(K(WINO43_S2), d[2])), MUL(K(WINO43_P2), d[0]));                 \
        even_ = SUB(d[4], MUL(K(WINO43_B2), d[2]));                                              \
        odd_ = MUL(K(WINO43_A), SUB(d[3], MUL(K(WINO43_B2), d[1])));                             \
        t[1] = ADD(even_, odd_);                                                                 \
        t[2] = SUB(even_, odd_);                                                                 \
        even_ = SUB(d[4], MUL(K(WINO43_A2), d[2]));                                              \
        odd_ = MUL(K(WINO43_B), SUB(d[3], MUL(K(WINO43_A2), d[1])));                             \
        t[3] = ADD(even_, odd_);                                                                 \
        t[4] = SUB(even_, odd_);                                                                 \
        t[5] = ADD(SUB(d[5], MUL(K(WINO43_S2), d[3])), MUL(K(WINO43_P2), d[1]));                 \
    } while (0)

// A^T m: rows (1, 1, 1, 1, 1, 0), (0, a, -a, b, -b, 0), (0, a^2, a^2, b^2, b^2, 0),
// (0, a^3, -a^3, b^3, -b^3, 1). Needs temporaries s12, d12, s34, d34 of the type.
#define WINO43_OUTPUT(m, y)                                                                      \
    do {                                                                                         \
        s12 = ADD(m[1], m[2]), d12 = SUB(m[1], m[2]);                                            \
        s34 = ADD(m[3], m[4]), d34 = SUB(m[3], m[4]);                                            \
        y[0] = ADD(ADD(m[0], s12), s34);                                                         \
        y[1] = ADD(MUL(K(WINO43_A), d12), MUL(K(WINO43_B), d34));                                \
        y[2] = ADD(MUL(K(WINO43_A2), s12), MUL(K(WINO43_B2), s34));                              \
        y[3] = ADD(ADD(MUL(K(WINO43_A3), d12), MUL(K(WINO43_B3), d34)), m[5]);                   \
    } while (0)

// dM = A dy (4 -> 6), the adjoint of A^T m: row i of A is column i of A^T above. Needs temporaries
// s02, s13, t02, t13 of the type.
#define WINO43_OUTPUT_GRADIENT(y, m)                                                             \
    do {                                                                                         \
        s02 = ADD(y[0], MUL(K(WINO43_A2), y[2]));                                                \
        s13 = MUL(K(WINO43_A), ADD(y[1], MUL(K(WINO43_A2), y[3])));                              \
        t02 = ADD(y[0], MUL(K(WINO43_B2), y[2]));                                                \
        t13 = MUL(K(WINO43_B), ADD(y[1], MUL(K(WINO43_B2), y[3])));                              \
        m[0] = y[0];                                                                             \
        m[1] = ADD(s02, s13);                                                                    \
        m[2] = SUB(s02, s13);                                                                    \
        m[3] = ADD(t02, t13);                                                                    \
        m[4] = SUB(t02, t13);                                                                    \
        m[5] = y[3];                                                                             \
    } while (0)

// G^T a (6 -> 3) of F(4x4, 3x3), the adjoint of WINO43_FILTER: the weight gradient's
// dw = G^T dU G. Its constants: a / N_a = -32/81, b / N_b = 16/81, and b^2 / N_b = -a^2 / N_a =
// 8/27. Needs temporaries s12, d12, s34, d34 of the type.
#define WINO43_FILTER_GRADIENT(a, t)                                                             \
    do {                                                                                         \
        s12 = ADD(a[1], a[2]), d12 = SUB(a[1], a[2]);                                            \
        s34 = ADD(a[3], a[4]), d34 = SUB(a[3], a[4]);                                            \
        t[0] = ADD(ADD(MUL(K(WINO43_N0), a[0]), MUL(K(WINO43_NA), s12)), MUL(K(WINO43_NB), s34)); \
        t[1] = ADD(MUL(K(-32.0f / 81.0f), d12), MUL(K(16.0f / 81.0f), d34));                     \
        t[2] = ADD(MUL(K(8.0f / 27.0f), SUB(s34, s12)), a[5]);                                   \
    } while (0)

// G^T a (4 -> 3) of F(2x2, 3x3) (G: rows (1, 0, 0), (1, 1, 1)/2, (1, -1, 1)/2, (0, 0, 1)).
// Needs a temporary s12 of the type.
#define WINO_FILTER_GRADIENT(a, t)                                            \
    do {                                                                      \
        s12 = MUL(K(0.5f), ADD(a[1], a[2]));                                  \
        t[0] = ADD(a[0], s12);                                                \
        t[1] = MUL(K(0.5f), SUB(a[1], a[2]));                                 \
        t[2] = ADD(s12, a[3]);                                                \
    } while (0)

// dw = G^T dU G for pairs p0 ..< p1 (each dU the sum of parts[0 ..< count] in order, element
// (i, j) of pair p at (side i + j) plane + p): the 1-D pass on each column of dU, then on each
// row of the result. `dU` and `t` are arrays of the type, `row` a 3-array; `GRADIENT` one of the
// two macros above, `STORE(e, value)` writes element e (0 ..< 9) of the pair's 3x3 result.
#define FILTER_GRADIENT_SANDWICH(GRADIENT, side, dU, t, row, STORE)           \
    do {                                                                      \
        for (int j = 0; j < (side); ++j) {                                    \
            __typeof__(dU[0]) column[6];                                      \
            for (int i = 0; i < (side); ++i) column[i] = dU[(side) * i + j];  \
            GRADIENT(column, t[j]);                                           \
        }                                                                     \
        for (int k = 0; k < 3; ++k) {                                         \
            __typeof__(dU[0]) across[6];                                      \
            for (int j = 0; j < (side); ++j) across[j] = t[j][k];             \
            GRADIENT(across, row);                                            \
            for (int m = 0; m < 3; ++m) STORE(3 * k + m, row[m]);             \
        }                                                                     \
    } while (0)

// G g (3 -> 6) of F(4x4, 3x3): rows (1, 0, 0) / N_0, (1, +-a, a^2) / N_a, (1, +-b, b^2) / N_b,
// (0, 0, 1).
#define WINO43_FILTER(g, t)                                                                      \
    do {                                                                                         \
        __typeof__(g[0]) even_, odd_;                                                            \
        t[0] = MUL(K(WINO43_N0), g[0]);                                                          \
        even_ = ADD(g[0], MUL(K(WINO43_A2), g[2]));                                              \
        odd_ = MUL(K(WINO43_A), g[1]);                                                           \
        t[1] = MUL(K(WINO43_NA), ADD(even_, odd_));                                              \
        t[2] = MUL(K(WINO43_NA), SUB(even_, odd_));                                              \
        even_ = ADD(g[0], MUL(K(WINO43_B2), g[2]));                                              \
        odd_ = MUL(K(WINO43_B), g[1]);                                                           \
        t[3] = MUL(K(WINO43_NB), ADD(even_, odd_));                                              \
        t[4] = MUL(K(WINO43_NB), SUB(even_, odd_));                                              \
        t[5] = g[2];                                                                             \
    } while (0)

static inline void padded_dims43(ptrdiff_t h, ptrdiff_t w, ptrdiff_t *hp, ptrdiff_t *wp) {
    ptrdiff_t th = (h + 3) / 4, tw = (w + 3) / 4;
    ptrdiff_t twp = (tw + 15) / 16 * 16;
    *hp = 4 * th + 2;
    *wp = 4 * twp + 72;  // the +4 loads of the last vector of tiles read 68 past its start
}

// MARK: - Scalar tiles

// One tile at a time, for the portable transforms (winograd.c) and the scalar twins of the AVX2
// ones (winograd_avx2.c): the vector code's operations in its order, never fused into an FMA.
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define K(c) (c)

// V = B^T d B of input tile (ti, tj) of one channel (padding 1, zero outside the map), F(4x4)
// when `large` (36 values) else F(2x2) (16): value xi = side * row + column in t[xi].
static inline void wino_scalar_input_tile(int large, const float *xc, ptrdiff_t h, ptrdiff_t w, ptrdiff_t ti,
                                          ptrdiff_t tj, float *t) {
#pragma STDC FP_CONTRACT OFF
    int tile = large ? 4 : 2, side = tile + 2;
    float d[6][6], e[6][6];
    for (int a = 0; a < side; ++a) {
        for (int b = 0; b < side; ++b) {
            ptrdiff_t r = tile * ti + a - 1, col = tile * tj + b - 1;
            d[a][b] = r >= 0 && r < h && col >= 0 && col < w ? xc[r * w + col] : 0.0f;
        }
    }
    if (large) {
        for (int a = 0; a < 6; ++a) WINO43_INPUT(d[a], e[a]);
        for (int j = 0; j < 6; ++j) {
            float column[6] = {e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]}, r[6];
            WINO43_INPUT(column, r);
            for (int i = 0; i < 6; ++i) t[6 * i + j] = r[i];
        }
        return;
    }
    for (int b = 0; b < 4; ++b) {
        e[0][b] = d[0][b] - d[2][b];
        e[1][b] = d[1][b] + d[2][b];
        e[2][b] = d[2][b] - d[1][b];
        e[3][b] = d[1][b] - d[3][b];
    }
    for (int r = 0; r < 4; ++r) {
        t[4 * r + 0] = e[r][0] - e[r][2];
        t[4 * r + 1] = e[r][1] + e[r][2];
        t[4 * r + 2] = e[r][2] - e[r][1];
        t[4 * r + 3] = e[r][1] - e[r][3];
    }
}

// A^T M A + b of the output tile whose values lie `channel_stride` apart from p (F(4x4) when
// `large`, else F(2x2)): rows[r][c] is output row r, column c of the tile.
static inline void wino_scalar_output_tile(int large, const float *p, ptrdiff_t channel_stride, float b,
                                           float rows[4][4]) {
#pragma STDC FP_CONTRACT OFF
    if (large) {
        float s[6][4], s12, d12, s34, d34;
        for (int j = 0; j < 6; ++j) {
            float q[6];
            for (int i = 0; i < 6; ++i) q[i] = p[(6 * i + j) * channel_stride];
            WINO43_OUTPUT(q, s[j]);
        }
        for (int i = 0; i < 4; ++i) {
            float r[6] = {s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i]}, yv[4];
            WINO43_OUTPUT(r, yv);
            for (int j = 0; j < 4; ++j) rows[i][j] = yv[j] + b;
        }
        return;
    }
    float q[16], s0[4], s1[4];
    for (int xi = 0; xi < 16; ++xi) q[xi] = p[xi * channel_stride];
    for (int j = 0; j < 4; ++j) {
        s0[j] = q[j] + q[4 + j] + q[8 + j];
        s1[j] = q[4 + j] - q[8 + j] - q[12 + j];
    }
    rows[0][0] = s0[0] + s0[1] + s0[2] + b, rows[0][1] = s0[1] - s0[2] - s0[3] + b;
    rows[1][0] = s1[0] + s1[1] + s1[2] + b, rows[1][1] = s1[1] - s1[2] - s1[3] + b;
}

// The layer's epilogue on one output value at `at`: + residual, copy to pre, ReLU (keeping NaN,
// as the vector code's max does).
static inline void wino_scalar_finish(float *y, const float *residual, float *pre, int relu, ptrdiff_t at,
                                      float value) {
    if (residual) value += residual[at];
    if (pre) pre[at] = value;
    if (relu && value < 0.0f) value = 0.0f;
    y[at] = value;
}
#undef ADD
#undef SUB
#undef MUL
#undef K


#endif
