#!/usr/bin/env python3
"""Compares the tensors of two .safetensors checkpoints: per tensor, the largest difference
relative to the tensor's largest magnitude (or, with --l2, the norm of the difference relative to
the tensor's norm); exits 1 if any exceeds --tolerance.

Usage: python3 Scripts/mpi/compare_checkpoints.py A.safetensors B.safetensors [--tolerance T] [--l2]
Reads the format itself (8-byte header length, JSON header, raw little-endian data): NumPy only."""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16, "BF16": None}


def load(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        lo, hi = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        out[name] = np.frombuffer(data[lo:hi], dtype=dtype).astype(np.float64).reshape(entry["shape"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument(
        "--l2", action="store_true",
        help="per tensor |A - B| / |A| (2-norms): one element that rounding tipped the other way moves it little")
    args = ap.parse_args()
    a, b = load(args.a), load(args.b)
    if a.keys() != b.keys():
        print(f"different tensors: only in A {sorted(a.keys() - b.keys())}, only in B {sorted(b.keys() - a.keys())}")
        return 1
    worst = (0.0, "")
    for name in sorted(a):
        if args.l2:
            diff = np.linalg.norm(a[name] - b[name]) / max(np.linalg.norm(a[name]), 1e-12)
        else:
            diff = np.abs(a[name] - b[name]).max(initial=0) / max(np.abs(a[name]).max(initial=0), 1e-12)
        worst = max(worst, (diff, name))
    measure = "relative L2 difference" if args.l2 else "relative difference"
    print(f"{len(a)} tensors; largest {measure} {worst[0]:.3g} ({worst[1]}); tolerance {args.tolerance:g}")
    return 0 if worst[0] <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
