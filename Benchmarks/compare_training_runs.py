#!/usr/bin/env python3
"""Swift runs against PyTorch runs of the same recipe: accuracy mean +- std over seeds.

    python3 Benchmarks/compare_training_runs.py --swift OUT_DIR [OUT_DIR ...] --pytorch RESULT.json [...]

--swift takes `audiocnn train --out` folders (their last.train-state.safetensors holds the
history); --pytorch takes JSON files of Benchmarks/train_pytorch.py --json (one result or a list,
as --seeds writes). Prints per-run final and best validation accuracy and wall time, then per side
the mean and sample standard deviation over seeds, the difference of the means with its standard
error, and Welch's t-test p-value (two-sided) for final and for best accuracy. With --curves, also
the validation accuracy and the training and validation loss of every epoch, mean over seeds.
"""
import argparse
import json
import math
import os

from safetensors import safe_open
from scipy import stats


def swift_run(folder):
    with safe_open(os.path.join(folder, "last.train-state.safetensors"), "np") as f:
        meta = f.metadata()
    history = json.loads(meta["history"])
    config = json.loads(meta["training_config"])
    return dict(seed=config["seed"], epochs=len(history), final=history[-1]["validationAccuracy"],
                best=max(h["validationAccuracy"] for h in history), seconds=sum(h["seconds"] for h in history),
                curve=[(h["validationAccuracy"], h["trainLoss"], h["validationLoss"]) for h in history])


def pytorch_runs(path):
    with open(path) as f:
        data = json.load(f)
    for r in data if isinstance(data, list) else [data]:
        yield dict(seed=r["seed"], epochs=len(r["history"]), final=r["final_val_accuracy"],
                   best=r["best_val_accuracy"], seconds=r["train_seconds"],
                   curve=[(h["val_accuracy"], h["train_loss"], h["val_loss"]) for h in r["history"]])


def mean_std(xs):
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else float("nan")
    return m, s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--swift", nargs="+", required=True)
    p.add_argument("--pytorch", nargs="+", required=True)
    p.add_argument("--curves", action="store_true")
    a = p.parse_args()
    sides = {"Swift": [swift_run(d) for d in a.swift],
             "PyTorch": [r for path in a.pytorch for r in pytorch_runs(path)]}
    print("| side | seed | epochs | final acc | best acc | train+val time |")
    print("|---|---|---|---|---|---|")
    for name, runs in sides.items():
        for r in sorted(runs, key=lambda r: r["seed"]):
            print(f"| {name} | {r['seed']} | {r['epochs']} | {100 * r['final']:.2f}% | {100 * r['best']:.2f}% | {r['seconds']:.0f} s |")
    print()
    print("| | runs | final acc, mean +- std | best acc, mean +- std |")
    print("|---|---|---|---|")
    for name, runs in sides.items():
        fm, fs = mean_std([100 * r["final"] for r in runs])
        bm, bs = mean_std([100 * r["best"] for r in runs])
        print(f"| {name} | {len(runs)} | {fm:.2f} +- {fs:.2f} | {bm:.2f} +- {bs:.2f} |")
    print()
    for key in ("final", "best"):
        sw = [100 * r[key] for r in sides["Swift"]]
        pt = [100 * r[key] for r in sides["PyTorch"]]
        (ms, ss), (mp, sp) = mean_std(sw), mean_std(pt)
        se = math.sqrt(ss ** 2 / len(sw) + sp ** 2 / len(pt))
        t = stats.ttest_ind(sw, pt, equal_var=False)
        print(f"{key} accuracy: Swift - PyTorch = {ms - mp:+.2f} points (standard error {se:.2f}); "
              f"Welch t = {t.statistic:.2f}, p = {t.pvalue:.2f}")

    if a.curves:
        print()
        print("| epoch | Swift val acc | PyTorch val acc | Swift train loss | PyTorch train loss | Swift val loss | PyTorch val loss |")
        print("|---|---|---|---|---|---|---|")
        epochs = min(r["epochs"] for runs in sides.values() for r in runs)
        for e in range(epochs):
            cells = []
            for column in range(3):
                for name in ("Swift", "PyTorch"):
                    xs = [r["curve"][e][column] * (100 if column == 0 else 1) for r in sides[name]]
                    m, sd = mean_std(xs)
                    cells.append((column, f"{m:.1f} +- {sd:.1f}" if column == 0 else f"{m:.3f}"))
            print(f"| {e + 1} | " + " | ".join(c for _, c in cells) + " |")


if __name__ == "__main__":
    main()
