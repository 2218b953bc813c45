#!/usr/bin/env python3
"""PyTorch's conv2d forward + backward on the ResNet stage shapes, for `audiocnn bench conv`.

Same shapes as the Swift benchmark: 3x3 convolutions, padding 1, no bias, batch --batch.

Standalone it prints one line per stage (best of --repetitions) and a JSON line. With --serve
it reads stage names from stdin and answers each with the milliseconds of one forward +
backward, so the Swift benchmark can interleave the two libraries on a shared, noisy machine.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

STAGES = {"layer1": (64, 32, 108), "layer2": (128, 16, 54), "layer3": (256, 8, 27), "layer4": (512, 4, 14)}


def make(batch, c, h, w):
    x = torch.rand(batch, c, h, w, requires_grad=True)
    wt = (torch.rand(c, c, 3, 3) - 0.5).requires_grad_(True)
    gy = torch.rand(batch, c, h, w)
    return x, wt, gy


def once(x, wt, gy):
    t0 = time.perf_counter()
    y = F.conv2d(x, wt, padding=1)
    y.backward(gy)
    t1 = time.perf_counter()
    x.grad = None
    wt.grad = None
    return (t1 - t0) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = {name: make(args.batch, *shape) for name, shape in STAGES.items()}
    for d in data.values():
        once(*d)  # warm-up: oneDNN picks and caches its kernels
    if args.serve:
        print("ready", flush=True)
        for line in sys.stdin:
            name = line.strip()
            if not name:
                break
            print(f"{once(*data[name]):.4f}", flush=True)
        return
    out = {}
    for name, (c, h, w) in STAGES.items():
        out[name] = min(once(*data[name]) for _ in range(args.repetitions))
        flops = 3 * 2 * args.batch * c * h * w * c * 9
        print(f"{name}: {out[name]:.1f} ms, {flops / out[name] / 1e6:.1f} GFLOP/s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
