#!/usr/bin/env python3
"""Compares a paired run: the weights Swift wrote with `audiocnn train --trace DIR` (and, with
--variant, other Swift runs of the same seed, e.g. with TENSORKIT_WINOGRAD=0, whose inputs are
the same) against PyTorch's float32 and float64 replays of the same steps
(Benchmarks/paired_replay.py). Float64 is the reference: for each recorded step it prints, over
the model's tensors, the median and the largest relative difference
max|w - w64| / max|w64| of Swift and of PyTorch float32, so that Swift is judged against how far
PyTorch float32 itself drifts. Then the training loss per epoch and the validation accuracy per
epoch of each side (Swift's from its run's last.train-state.safetensors, given with --swift-state).

Usage: python3 Benchmarks/paired_compare.py DIR [--swift-state OUT/last.train-state.safetensors]
           [--variant LABEL=TRACE_DIR[,STATE]] [--json OUT.json]"""
import argparse
import glob
import json
import os
import re
import statistics

import numpy as np
from safetensors.numpy import load_file
from safetensors import safe_open


def weights(path):
    return {k: v.astype(np.float64) for k, v in load_file(path).items()
            if not k.endswith("num_batches_tracked") and v.dtype.kind == "f"}


def relative(a, b):
    out = {}
    for k, ref in b.items():
        scale = max(np.abs(ref).max(initial=0), 1e-30)
        out[k] = float(np.abs(a[k] - ref).max(initial=0) / scale)
    return out


def history(state):
    if not state or not os.path.exists(state):
        return {}
    with safe_open(state, framework="numpy") as f:
        rows = json.loads(f.metadata().get("history", "[]"))
    return {r["epoch"]: r for r in rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--swift-state")
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--json")
    a = ap.parse_args()
    swift = {"Swift": (a.trace, a.swift_state)}
    for v in a.variant:
        label, rest = v.split("=", 1)
        parts = rest.split(",")
        swift[label] = (parts[0], parts[1] if len(parts) > 1 else None)
    pt = {d: os.path.join(a.trace, f"pytorch-{d}") for d in ("float32", "float64")}
    steps = sorted(int(re.findall(r"(\d+)\.safetensors", p)[0]) for p in glob.glob(os.path.join(pt["float64"], "weights-*.safetensors")))
    reference = "f64"
    if not steps:
        print("no float64 replay: the distances below are from PyTorch float32's weights instead")
        pt["float64"] = pt["float32"]
        reference = "PyTorch f32"
        steps = sorted(int(re.findall(r"(\d+)\.safetensors", p)[0]) for p in glob.glob(os.path.join(pt["float32"], "weights-*.safetensors")))
    report = {"steps": [], "epochs": [], "reference": None}
    report["reference"] = reference
    compared = list(swift) + (["PyTorch f32"] if reference == "f64" else [])
    header = "| step | " + " | ".join(f"{name} vs {reference}: median / max" for name in compared)
    header += " | Swift / PyTorch f32 (median) |" if reference == "f64" else " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for s in steps:
        ref = weights(os.path.join(pt["float64"], f"weights-{s:05d}.safetensors"))
        sides = {name: os.path.join(d, f"weights-{s:05d}.safetensors") for name, (d, _) in swift.items()}
        if reference == "f64":
            sides["PyTorch f32"] = os.path.join(pt["float32"], f"weights-{s:05d}.safetensors")
        if not all(os.path.exists(p) for p in sides.values()):
            continue
        row = {"step": s}
        for name, path in sides.items():
            d = relative(weights(path), ref)
            row[name] = {"median": statistics.median(d.values()), "max": max(d.values()), "worst": max(d, key=d.get)}
        report["steps"].append(row)
        cells = f"| {s} | " + " | ".join(f"{row[n]['median']:.2e} / {row[n]['max']:.2e}" for n in sides)
        if reference == "f64":
            cells += f" | {row['Swift']['median'] / max(row['PyTorch f32']['median'], 1e-30):.2f}"
        print(cells + " |")

    replays = {}
    for d, path in pt.items():
        try:
            with open(os.path.join(path, "replay.json")) as f:
                replays[d] = json.load(f)
        except FileNotFoundError:
            pass
    hist = {name: history(state) for name, (_, state) in swift.items()}
    print()
    print("| epoch | train loss Swift | PyTorch f32 | PyTorch f64 | val acc " + " | ".join(swift) + " | PyTorch f32 | PyTorch f64 |")
    print("|---|---|---|---|" + "---|" * (len(swift) + 2))
    epochs = sorted({r["epoch"] for r in replays.get("float32", {"epochs": []})["epochs"]})
    for e in epochs:
        def train_loss(rep, key):
            vals = [r[key] for r in rep["steps"] if r["epoch"] == e]
            return sum(vals) / len(vals) if vals else float("nan")
        f32 = replays.get("float32")
        f64 = replays.get("float64")
        swift_loss = train_loss(f32, "swift_loss") if f32 else float("nan")
        acc = {d: next((r["val_accuracy"] for r in rep["epochs"] if r["epoch"] == e), float("nan")) for d, rep in replays.items()}
        row = {"epoch": e, "train_loss": {"Swift": swift_loss, "float32": train_loss(f32, "pytorch_loss") if f32 else None,
                                         "float64": train_loss(f64, "pytorch_loss") if f64 else None},
               "val_accuracy": {**{n: hist[n].get(e, {}).get("validationAccuracy") for n in swift}, **acc}}
        report["epochs"].append(row)
        fmt = lambda v: "" if v is None or v != v else f"{v:.4f}"
        pct = lambda v: "" if v is None or v != v else f"{100 * v:.2f}"
        print(f"| {e} | {fmt(row['train_loss']['Swift'])} | {fmt(row['train_loss']['float32'])} | {fmt(row['train_loss']['float64'])} | "
              + " | ".join(pct(row["val_accuracy"][n]) for n in swift) + f" | {pct(acc.get('float32'))} | {pct(acc.get('float64'))} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
