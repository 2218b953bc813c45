#!/usr/bin/env python3
"""Issue #15: bfloat16 inference against float32 on real clips with a trained checkpoint.

Runs `audiocnn predict --json --top <all classes>` over every clip of a folder at --precision fp32
and at bf16 (the path `audiocnn serve` and the library's AudioClassifier run), then reports how
many clips keep their top-1 class and the largest change of any class probability.

    python3 Benchmarks/bf16_agreement.py --checkpoint /tmp/full_esc10_seeds/swift-s1/best.safetensors \
        --audio ../shared/esc50/audio --json Benchmarks/results/bf16_agreement.json

The issue's bar: top-1 agrees on at least 99% of the clips and every probability within 0.05.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def predict(binary: str, checkpoint: str, files: list[str], precision: str, top: int) -> dict[str, dict[str, float]]:
    start = time.time()
    out = subprocess.run([binary, "predict", "--checkpoint", checkpoint, "--json", "--top", str(top),
                          "--precision", precision, *files], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"audiocnn predict --precision {precision} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    result = {}
    for line in out.stdout.splitlines():
        row = json.loads(line)
        result[row["file"]] = {p["class"]: p["confidence"] for p in row["predictions"]}
    print(f"{precision}: {len(result)} clips in {time.time() - start:.1f} s", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--audio", default=os.path.join(REPO, "..", "shared", "esc50", "audio"))
    ap.add_argument("--classes", type=int, default=50, help="--top for predict: at least the checkpoint's classes")
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "audiocnn"))
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.audio, "*.flac")) + glob.glob(os.path.join(args.audio, "*.wav")))
    if not files:
        sys.exit(f"no .flac or .wav clips in {args.audio}")
    fp32 = predict(args.binary, args.checkpoint, files, "fp32", args.classes)
    bf16 = predict(args.binary, args.checkpoint, files, "bf16", args.classes)
    agree, worst, worst_file, deltas = 0, 0.0, None, []
    for name, p in fp32.items():
        q = bf16[name]
        if max(p, key=p.get) == max(q, key=q.get):
            agree += 1
        d = max(abs(p[c] - q.get(c, 0.0)) for c in p)
        deltas.append(d)
        if d > worst:
            worst, worst_file = d, name
    deltas.sort()
    n = len(fp32)
    summary = {"checkpoint": args.checkpoint, "clips": n, "top1_agreement": agree / n, "top1_agreeing": agree,
               "max_probability_change": worst, "worst_clip": worst_file,
               "median_max_probability_change": deltas[n // 2], "p99_max_probability_change": deltas[int(0.99 * (n - 1))],
               "clips_over_0.05": sum(d > 0.05 for d in deltas)}
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    ok = summary["top1_agreement"] >= 0.99 and worst <= 0.05
    print("meets the issue's bar (>= 99% top-1, every probability within 0.05):", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
