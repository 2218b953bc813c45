#!/usr/bin/env python3
"""PyTorch/librosa counterpart of `audiocnn bench loader`: how fast clips become log-Mel inputs.

Times, over the same clips as the Swift benchmark (paths given on stdin, one per line):
  * torch_single: soundfile.read -> mean down-mix -> torchaudio's MelSpectrogram + AmplitudeToDB
    (reimplemented with torch.stft + the HTK Mel filterbank, as torchaudio computes it:
    n_fft 1024, hop 512, 128 Mels, periodic Hann, center/reflect, power 2, 10*log10(clamp 1e-10)),
    one thread, one clip at a time: what the reference project's Dataset.__getitem__ does.
  * librosa_single: librosa.load(sr=None) + librosa.feature.melspectrogram + power_to_db.
  * torch_loader: a torch.utils.data.DataLoader over that Dataset, batch 32, 2 worker processes,
    as the reference project trains (its per-batch cost, including worker start-up).
Prints one JSON object of clips per second. Usage: python3 esc50_loader_torch.py --repeats 3 < paths
"""
import argparse
import json
import sys
import time

import librosa
import numpy as np
import soundfile
import torch

N_FFT, HOP, MELS, SR = 1024, 512, 128, 44100
FBANK = torch.from_numpy(librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=MELS, fmin=0.0, fmax=SR / 2,
                                             htk=True, norm=None).T.astype(np.float32))
WINDOW = torch.hann_window(N_FFT, periodic=True)


def torch_logmel(path):
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    x = torch.from_numpy(audio.mean(axis=1))
    spec = torch.stft(x, N_FFT, HOP, window=WINDOW, center=True, pad_mode="reflect", return_complex=True)
    power = spec.real ** 2 + spec.imag ** 2
    mel = torch.matmul(power.T, FBANK).T
    return 10.0 * torch.log10(torch.clamp(mel, min=1e-10))


def librosa_logmel(path):
    y, sr = librosa.load(path, sr=None, mono=True)
    m = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, n_mels=MELS, htk=True, norm=None)
    return librosa.power_to_db(m, ref=1.0, amin=1e-10, top_db=None)


class Clips(torch.utils.data.Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return torch_logmel(self.paths[i]).unsqueeze(0), i % 10


def rate(fn, paths, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for p in paths:
            fn(p)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-loader", action="store_true")
    args = parser.parse_args()
    paths = [line.strip() for line in sys.stdin if line.strip()]
    torch.set_num_threads(1)
    torch_logmel(paths[0]); librosa_logmel(paths[0])  # warm-up
    out = {"clips": len(paths), "torch_single": rate(torch_logmel, paths, args.repeats),
           "librosa_single": rate(librosa_logmel, paths, args.repeats)}
    if not args.no_loader:
        best = float("inf")
        for _ in range(args.repeats):
            loader = torch.utils.data.DataLoader(Clips(paths), batch_size=32, shuffle=True, num_workers=2)
            start = time.perf_counter()
            for batch, labels in loader:
                pass
            best = min(best, time.perf_counter() - start)
        out["torch_loader"] = len(paths) / best
    print(json.dumps(out))


if __name__ == "__main__":
    main()
