#!/usr/bin/env python3
"""Log-Mel throughput: AudioDSP (`audiocnn bench mel --json`) vs PyTorch and librosa, same run.

All three compute the suite's default front-end (44.1 kHz, n_fft 1024, hop 512, 128 HTK Mel
bands, power 2, dB with amin 1e-10) on 64 five-second clips using both cores:
  * PyTorch: float32 torch.stft on the whole [64, 220500] batch + filterbank matmul + log10,
    torch.set_num_threads(2) (the reference stack's path; torchaudio is the same ops).
  * librosa: feature.melspectrogram + power_to_db per clip, float32 input, over a 2-process pool.
Each reports the best of --repeats timed runs after a warm-up, and the three are interleaved over
--rounds rounds (best of each kept) so that load from other processes on a shared machine hits
all of them alike; ratios are ours / theirs.

Usage: swift build -c release --product audiocnn
       python3 Benchmarks/mel_reference.py [--binary .build/release/audiocnn] [--repeats 7] [--rounds 3]
"""
import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time

import numpy as np

SR, N_FFT, HOP, N_MELS, CLIPS, SECONDS = 44100, 1024, 512, 128, 64, 5.0


def clips():
    rng = np.random.default_rng(1)
    return (rng.random((CLIPS, int(SR * SECONDS)), dtype=np.float32) - 0.5).astype(np.float32)


def bench_torch(x, repeats):
    import torch
    torch.set_num_threads(2)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Scripts", "fixtures"))
    from make_audiodsp_fixtures import melscale_fbanks  # torchaudio's formula
    fb = melscale_fbanks(N_FFT // 2 + 1, 0.0, float(SR // 2), N_MELS, SR)
    window = torch.hann_window(N_FFT)
    xt = torch.from_numpy(x)

    def run():
        with torch.inference_mode():
            spec = torch.stft(xt, N_FFT, HOP, window=window, center=True, pad_mode="reflect", return_complex=True)
            mel = torch.matmul(spec.abs().pow(2).transpose(-1, -2), fb).transpose(-1, -2)
            return 10.0 * torch.log10(torch.clamp(mel, min=1e-10))

    out = run()
    assert tuple(out.shape) == (CLIPS, N_MELS, 431), out.shape
    return best_of(run, repeats)


def _librosa_one(y):
    import librosa
    m = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, htk=True,
                                       norm=None, center=True, pad_mode="reflect", power=2.0)
    return librosa.power_to_db(m, ref=1.0, amin=1e-10, top_db=None).shape


def bench_librosa(x, repeats):
    with mp.get_context("fork").Pool(2) as pool:
        pool.map(_librosa_one, list(x[:4]))  # warm-up (imports, filterbank cache)
        return best_of(lambda: pool.map(_librosa_one, list(x), chunksize=8), repeats)


def best_of(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return CLIPS / best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(".build", "release", "audiocnn"))
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release --product audiocnn` first")
    x = clips()
    ours = torch_rate = librosa_rate = 0.0
    for _ in range(args.rounds):
        librosa_rate = max(librosa_rate, bench_librosa(x, args.repeats))
        torch_rate = max(torch_rate, bench_torch(x, args.repeats))
        out = subprocess.run([args.binary, "bench", "mel", "--json", "--repeats", str(args.repeats)],
                             check=True, capture_output=True, text=True).stdout
        ours = max(ours, json.loads(out.strip().splitlines()[-1])["clips_per_s"])
    fastest = max(torch_rate, librosa_rate)
    print(f"{'AudioDSP (Swift)':28s} {ours:9.1f} clips/s")
    print(f"{'PyTorch float32, 2 threads':28s} {torch_rate:9.1f} clips/s   ours / torch   = {ours / torch_rate:5.2f}x")
    print(f"{'librosa, 2 processes':28s} {librosa_rate:9.1f} clips/s   ours / librosa = {ours / librosa_rate:5.2f}x")
    print(f"ours / fastest reference = {ours / fastest:.2f}x (goal: >= 4x)")
    print(json.dumps({"clips_per_s": ours, "torch_clips_per_s": round(torch_rate, 1),
                      "librosa_clips_per_s": round(librosa_rate, 1), "ratio_vs_fastest": round(ours / fastest, 2)}))


if __name__ == "__main__":
    main()
