#!/usr/bin/env python3
"""Rounding error of Winograd F(m x m, 3x3) in float32 for several sets of interpolation points.

    python3 Benchmarks/winograd_points.py            # the point sets below
    python3 Benchmarks/winograd_points.py --search   # every symmetric set 0, +-a, +-b from a grid

Builds the Toom-Cook matrices (A^T, G, B^T) of F(4, 3) for each point set (plus infinity), checks
them against a direct 1-D convolution in float64, then times nothing: it runs one output tile
over C channels in float32 (V = B^T d B, U = G g G^T, M = sum over channels of U * V, Y = A^T M A)
and prints the relative L2 error against a float64 direct convolution, root mean square over
random draws, next to F(2x2, 3x3) and a float32 direct convolution (issue #15, Docs/Benchmarks.md).
TensorKit's F(4x4) takes 0, +-3/4, +-3/2 (winograd_internal.h): its B^T and A^T are exact in float32.
"""
import sys
from fractions import Fraction as F

import numpy as np


def poly_mul(a, b):
    res = [F(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            res[i + j] += x * y
    return res


def toom_cook(points, m=4, r=3):
    """A^T (m x n), G (n x r), B^T (n x n) for the finite `points` and infinity, n = m + r - 1."""
    n = m + r - 1
    pts = [F(p) for p in points]
    assert len(pts) == n - 1
    mx = [F(1)]
    for p in pts:
        mx = poly_mul(mx, [-p, F(1)])
    at = [[p ** i for p in pts] + [F(1) if i == m - 1 else F(0)] for i in range(m)]
    g = []
    for k, p in enumerate(pts):
        den = F(1)
        for j, q in enumerate(pts):
            if j != k:
                den *= p - q
        g.append([p ** i / den for i in range(r)])
    g.append([F(1) if i == r - 1 else F(0) for i in range(r)])
    bt = []
    for p in pts:
        quotient, acc = [], F(0)
        for c in mx[::-1][:-1]:  # synthetic division of M(x) by (x - p), highest power first
            acc = acc * p + c
            quotient.append(acc)
        bt.append(quotient[::-1] + [F(0)])
    bt.append(mx[:n])
    as_float = lambda rows: np.array([[float(x) for x in row] for row in rows])
    return as_float(at), as_float(g), as_float(bt)


def f23():
    at = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)
    g = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
    bt = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
    return at, g, bt


def check(at, g, bt, m):
    rng = np.random.default_rng(0)
    w, d = rng.standard_normal(3), rng.standard_normal(m + 2)
    ref = np.array([d[i:i + 3] @ w for i in range(m)])
    return np.max(np.abs(at @ ((g @ w) * (bt @ d)) - ref))


def error(at, g, bt, m, channels=128, draws=200, seed=1, direct=False):
    n, f32 = m + 2, np.float32
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(draws):
        d = rng.standard_normal((channels, n, n))
        w = rng.standard_normal((channels, 3, 3)) * 0.1
        windows = np.lib.stride_tricks.sliding_window_view(d, (3, 3), axis=(1, 2))
        ref = np.einsum("cijkl,ckl->ij", windows, w)
        if direct:
            w32 = np.lib.stride_tricks.sliding_window_view(d.astype(f32), (3, 3), axis=(1, 2))
            y = np.zeros((m, m), f32)
            for c in range(channels):
                y = (y + np.einsum("ijkl,kl->ij", w32[c], w[c].astype(f32))).astype(f32)
        else:
            v = np.einsum("ai,cij,bj->cab", bt.astype(f32), d.astype(f32), bt.astype(f32)).astype(f32)
            u = np.einsum("ai,cij,bj->cab", g.astype(f32), w.astype(f32), g.astype(f32)).astype(f32)
            acc = np.zeros((n, n), f32)
            for c in range(channels):
                acc = (acc + u[c] * v[c]).astype(f32)
            y = (at.astype(f32) @ acc @ at.T.astype(f32)).astype(f32)
        errors.append(np.linalg.norm(y - ref) / np.linalg.norm(ref))
    return float(np.sqrt(np.mean(np.square(errors))))


def search():
    """Every symmetric set 0, +-a, +-b (a < b from a grid of simple fractions), by error."""
    grid = [F(1, 4), F(1, 3), F(1, 2), F(2, 3), F(3, 4), F(4, 5), 1, F(5, 4), F(4, 3), F(3, 2), F(5, 3), 2, F(5, 2), 3]
    rows = []
    for i, a in enumerate(grid):
        for b in grid[i + 1:]:
            rows.append((error(*toom_cook([0, a, -a, b, -b]), 4, draws=40), a, b))
    for e, a, b in sorted(rows)[:15]:
        print(f"0, +-{a}, +-{b}: {e:.2e}")


def main():
    if "--search" in sys.argv:
        search()
        return
    print(f"direct float32 (4x4 outputs): {error(None, None, None, 4, direct=True):.2e}")
    print(f"F(2x2, 3x3): {error(*f23(), 2):.2e} (matrices off by {check(*f23(), 2):.0e})")
    for name, points in [("Lavin & Gray 0, +-1, +-2", [0, 1, -1, 2, -2]),
                         ("0, +-1, 1/2, -2", [0, 1, -1, F(1, 2), -2]),
                         ("0, +-1, -1/2, 2", [0, 1, -1, F(-1, 2), 2]),
                         ("0, +-1, +-1/2", [0, 1, -1, F(1, 2), F(-1, 2)]),
                         ("0, +-3/4, +-3/2 (TensorKit's since 2026-12-05)", [0, F(3, 4), F(-3, 4), F(3, 2), F(-3, 2)]),
                         ("0, +-2/3, +-3/2", [0, F(2, 3), F(-2, 3), F(3, 2), F(-3, 2)]),
                         ("0, +-1/2, +-3/2", [0, F(1, 2), F(-1, 2), F(3, 2), F(-3, 2)])]:
        mats = toom_cook(points)
        print(f"F(4x4, 3x3), points {name}: {error(*mats, 4):.2e} (matrices off by {check(*mats, 4):.0e}); "
              f"B^T nonzeros {int(np.count_nonzero(mats[2]))}")


if __name__ == "__main__":
    main()
