#!/usr/bin/env python3
"""Whole-model speed: ResNetAudio (`audiocnn bench train|infer --json`) beside the same PyTorch
model on the CPU with the same thread count, in the same run. Prints both and the ratios.

    python3 Benchmarks/model_bench.py [--threads 2] [--binary .build/release/audiocnn] [--skip-swift]

Each measurement runs in its own process so peak RSS (ru_maxrss) is that measurement's own.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Scripts", "reference"))


def torch_measure(mode: str, batch: int, threads: int, iters: int) -> dict:
    import torch
    import torch.nn.functional as F
    from audiocnn_model import AudioCNN, FULL
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = AudioCNN(FULL)
    x = torch.randn(batch, 1, 128, 431)
    y = torch.randint(0, 50, (batch,))
    if mode == "train":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            opt.step()
        step()  # warm-up
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        dt = (time.perf_counter() - t0) / iters
        out = {"clips_per_s": batch / dt, "step_ms": dt * 1e3}
    else:
        model.eval()
        with torch.inference_mode():
            model(x)
            times = []
            for _ in range(iters):
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
        times.sort()
        med = times[len(times) // 2]
        out = {"clips_per_s": batch / med, "latency_ms": med * 1e3}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def swift_measure(binary: str, mode: str, batch: int, threads: int, iters: int) -> dict:
    # TensorKit's worker count is what --threads must set (it runs OpenBLAS single-threaded).
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), TENSORKIT_NUM_THREADS=str(threads))
    cmd = [binary, "bench", mode, "--batch", str(batch), "--iterations", str(iters), "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.setdefault("peak_rss_mb", usage.ru_maxrss / 1024)
    out["wall_s"] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", ".build", "release", "audiocnn"))
    ap.add_argument("--skip-swift", action="store_true")
    ap.add_argument("--child", nargs=4, metavar=("MODE", "BATCH", "THREADS", "ITERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, batch, threads, iters = args.child
        print(json.dumps(torch_measure(mode, int(batch), int(threads), int(iters))))
        return
    cases = [("train", 16, 3), ("train", 32, 2), ("infer", 1, 20), ("infer", 16, 3)]
    rows = []
    for mode, batch, iters in cases:
        proc = subprocess.run([sys.executable, __file__, "--child", mode, str(batch), str(args.threads), str(iters)],
                              capture_output=True, text=True, check=True)
        pt = json.loads(proc.stdout.strip().splitlines()[-1])
        sw = None if args.skip_swift else swift_measure(args.binary, mode, batch, args.threads, iters)
        rows.append((mode, batch, pt, sw))
        print(f"{mode} batch {batch}: pytorch {json.dumps(pt)}" + ("" if sw is None else f" | swift {json.dumps(sw)}"), flush=True)
    print("\n| case | PyTorch clips/s | ours clips/s | ratio (ours/PyTorch) | PyTorch latency ms | ours latency ms | PyTorch peak RSS MB | ours peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for mode, batch, pt, sw in rows:
        sw = sw or {}
        ratio = sw.get("clips_per_s", float("nan")) / pt["clips_per_s"]
        print(f"| {mode} b{batch} | {pt['clips_per_s']:.2f} | {sw.get('clips_per_s', float('nan')):.2f} | {ratio:.2f}x "
              f"| {pt.get('latency_ms', float('nan')):.1f} | {sw.get('latency_ms', float('nan')):.1f} "
              f"| {pt['peak_rss_mb']:.0f} | {sw.get('peak_rss_mb', float('nan')):.0f} |")


if __name__ == "__main__":
    main()
