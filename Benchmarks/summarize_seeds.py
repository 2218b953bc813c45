#!/usr/bin/env python3
"""Per-seed results of Benchmarks/seeds_full_esc10.sh and what they say (issue #18).

    python3 Benchmarks/summarize_seeds.py [Benchmarks/results/full_esc10_seeds] [--extra-swift S:ACC ...] [--extra-pytorch S:ACC ...]
        [--pytorch pytorch|pytorch-tamask]

Reads swift-s<seed>.json and pytorch-s<seed>.json (or, with --pytorch pytorch-tamask, the PyTorch
runs with torchaudio's SpecAugment mask end: pytorch-tamask-s<seed>.json), prints a Markdown table of each seed's best and
final validation accuracy per side, then for best and for final: each side's mean and sample
standard deviation, the difference of the means (Swift - PyTorch) with Welch's 95% confidence
interval (the two sides' seeds are independent draws, not pairs: the same seed drives different
random streams in the two frameworks), and the ratio of the standard deviations.
"""
import argparse
import glob
import json
import math
import os
import re

from scipy import stats


def load(folder, side):
    runs = {}
    for path in glob.glob(os.path.join(folder, f"{side}-s*.json")):
        seed = int(re.search(r"-s(\d+)\.json$", path).group(1))
        r = json.load(open(path))
        runs[seed] = (100 * r["best_val_accuracy"], 100 * r["final_val_accuracy"])
    return runs


def describe(xs):
    n = len(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else float("nan")
    return n, mean, sd


def welch(a, b):
    (na, ma, sa), (nb, mb, sb) = describe(a), describe(b)
    va, vb = sa * sa / na, sb * sb / nb
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1))
    t = stats.t.ppf(0.975, df)
    d = ma - mb
    return d, d - t * se, d + t * se, df


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pytorch", default="pytorch",
                   help="PyTorch file prefix: pytorch (mask end trunc(s + w), seeds 1-13) or pytorch-tamask (torchaudio's)")
    p.add_argument("folder", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "full_esc10_seeds"))
    a = p.parse_args()
    swift, torch = load(a.folder, "swift"), load(a.folder, a.pytorch)
    seeds = sorted(set(swift) | set(torch))
    print("| seed | Swift best | Swift final | PyTorch best | PyTorch final |")
    print("|---|---|---|---|---|")
    fmt = lambda v: f"{v:.2f}" if v is not None else "-"
    for s in seeds:
        sb, sf = swift.get(s, (None, None))
        pb, pf = torch.get(s, (None, None))
        print(f"| {s} | {fmt(sb)} | {fmt(sf)} | {fmt(pb)} | {fmt(pf)} |")
    for name, k in (("best", 0), ("final", 1)):
        sw = [v[k] for v in swift.values()]
        pt = [v[k] for v in torch.values()]
        if len(sw) < 2 or len(pt) < 2:
            print(f"\n{name}: too few runs for statistics ({len(sw)} Swift, {len(pt)} PyTorch)")
            continue
        (n1, m1, s1), (n2, m2, s2) = describe(sw), describe(pt)
        d, lo, hi, df = welch(sw, pt)
        print(f"\n{name} accuracy: Swift {m1:.2f} ± {s1:.2f} (n={n1}), PyTorch {m2:.2f} ± {s2:.2f} (n={n2}) (mean ± sample std)")
        print(f"  difference Swift - PyTorch {d:+.2f} points, Welch 95% interval [{lo:+.2f}, {hi:+.2f}] (df {df:.1f}); "
              f"std ratio Swift/PyTorch {s1 / s2:.2f}")


if __name__ == "__main__":
    main()
