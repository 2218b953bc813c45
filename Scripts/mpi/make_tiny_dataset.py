#!/usr/bin/env python3
"""Writes a tiny data set of class folders (tones, chirps, noise; 1 s, 16-bit WAV) for the
data-parallel checks: small enough for a debug build, with classes a small model can learn.

Usage: python3 Scripts/mpi/make_tiny_dataset.py OUT_DIR [--clips-per-class N] [--seed S]
Standard library only (CI needs no NumPy for it)."""
import argparse
import math
import os
import random
import struct
import wave

RATE = 16000


def clip(kind, rng):
    f0 = rng.uniform(300, 3000)
    out = []
    for i in range(RATE):
        t = i / RATE
        if kind == "tone":
            v = math.sin(2 * math.pi * f0 * t)
        elif kind == "chirp":
            v = math.sin(2 * math.pi * (f0 * t + 2000 * t * t))
        elif kind == "clicks":
            v = 1.0 if (i % int(RATE / rng.uniform(8, 20))) < 20 else 0.0
        else:
            v = rng.uniform(-1, 1)
        out.append(0.5 * v + 0.02 * rng.uniform(-1, 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--clips-per-class", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for kind in ["chirp", "clicks", "noise", "tone"]:
        folder = os.path.join(args.out, kind)
        os.makedirs(folder, exist_ok=True)
        for n in range(args.clips_per_class):
            with wave.open(os.path.join(folder, f"{kind}-{n:02d}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, v)) * 32767)) for v in clip(kind, rng)))


if __name__ == "__main__":
    main()
