#!/usr/bin/env python3
"""PyTorch counterpart of `audiocnn bench optim`: times one optimiser step and a safetensors
checkpoint save/load over the parameter shapes of the AudioCNN ResNet-34 (1 input channel,
50 classes), the same shapes the Swift benchmark builds. Prints one JSON object.

Usage: python3 Scripts/bench/bench_optim_torch.py [--steps N] [--threads T]
"""
import argparse
import json
import os
import tempfile
import time

import torch
from safetensors.torch import load_file, save_file


def resnet34_shapes(in_channels=1, classes=50):
    """Parameter shapes of torchvision's resnet34 layout with a 1-channel stem and 50 classes."""
    shapes = [(64, in_channels, 7, 7), (64,), (64,)]
    channels = 64
    for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for b in range(blocks):
            shapes += [(width, channels, 3, 3), (width,), (width,), (width, width, 3, 3), (width,), (width,)]
            if b == 0 and (stride != 1 or channels != width):
                shapes += [(width, channels, 1, 1), (width,), (width,)]
            channels = width
    shapes += [(classes, 512), (classes,)]
    return shapes


def best_ms(fn, steps):
    """The fastest of `steps` timed calls: on a shared machine the minimum is the figure least
    disturbed by other processes (the Swift side reports the same)."""
    fn()  # warm-up (state allocation)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    shapes = resnet34_shapes()
    params = [torch.nn.Parameter(torch.randn(s) * 0.05) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape) * 1e-3
    result = {"parameters": sum(p.numel() for p in params), "tensors": len(params),
              "torch": torch.__version__, "threads": torch.get_num_threads()}
    O = torch.optim
    cases = {
        "SGD (momentum 0.9, Nesterov)": lambda: O.SGD(params, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
        "Adam": lambda: O.Adam(params, lr=1e-3),
        "AdamW": lambda: O.AdamW(params, lr=1e-3, weight_decay=1e-2),
    }
    for name, make in cases.items():
        opt = make()
        result[name] = {"default": best_ms(opt.step, args.steps)}
        if name != "SGD (momentum 0.9, Nesterov)":
            fused = (O.AdamW if name == "AdamW" else O.Adam)(params, lr=1e-3, fused=True)
            result[name]["fused"] = best_ms(fused.step, args.steps)
    state = {f"p{i}": p.detach() for i, p in enumerate(params)}
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "ckpt.safetensors")
        result["save_ms"] = best_ms(lambda: save_file(state, path), max(3, args.steps // 4))
        # Reads every value (sum) so lazily mapped pages are really loaded, as the Swift side does.
        result["load_ms"] = best_ms(lambda: sum(float(t.sum()) for t in load_file(path).values()), max(3, args.steps // 4))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
