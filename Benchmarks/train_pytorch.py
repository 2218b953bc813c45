#!/usr/bin/env python3
"""The reference training recipe in PyTorch, for comparison with `audiocnn train`.

Same data, split, features and recipe as the Swift trainer:
  * ESC-10 subset of the ESC-50 layout in --data; train folds --train-folds, validate on --val-fold;
    labels index the sorted category names (as the reference project and ESC50Dataset do).
  * log-Mel features: torchaudio's MelSpectrogram(44.1 kHz, n_fft 1024, hop 512, 128 mels, HTK,
    no norm) + AmplitudeToDB("power"), reimplemented with torch ops in
    Scripts/fixtures/make_audiodsp_fixtures.py (torchaudio itself is not installed here); clips
    padded or cropped to 5 s.
  * SpecAugment on each training example as torchaudio's FrequencyMasking(30) + TimeMasking(80)
    (torchaudio.functional.mask_along_axis, mask value 0; --mask-end legacy for the runs made
    before 2026-12-03 07:30 UTC, whose masks were half a row wider on average).
  * AdamW(lr 5e-4, weight decay 0.01); OneCycleLR(max_lr 2e-3, pct_start 0.1) over the whole run,
    stepped after every batch; CrossEntropyLoss(label_smoothing 0.1); MixUp with
    lambda ~ Beta(0.2, 0.2) on 30% of batches (`np.random.random() > 0.7`), loss
    lam * CE(y_a) + (1 - lam) * CE(y_b); dropout 0.5; batch 32, shuffled.
  * Validation in eval mode under torch.no_grad(): mean batch loss and accuracy.

Usage: python3 Benchmarks/train_pytorch.py --data ../shared/esc50 --epochs 20 --seed 0 \
           [--seeds 0,1,2] [--model full|small] [--threads 2] [--json out.json] [--features-cache F.npz]

--seeds trains one run per seed in turn (features computed once; one JSON line per run, and with
--json a list of results). --features-cache stores the log-Mel features of the split in an .npz
file on the first run and reads them from it afterwards (the features do not depend on the seed).
"""
import argparse
import csv
import importlib.util
import json
import os
import sys
import time

import numpy as np
import soundfile
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts", "reference"))
from audiocnn_model import AudioCNN, AudioCNNConfig  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "audiodsp_ref", os.path.join(ROOT, "Scripts", "fixtures", "make_audiodsp_fixtures.py"))
audiodsp_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audiodsp_ref)

SR = 44100
SAMPLES = 5 * SR


def load_split(data, train_folds, val_fold, esc10):
    with open(os.path.join(data, "meta", "esc50.csv")) as f:
        rows = list(csv.DictReader(f))
    if esc10:
        rows = [r for r in rows if r["esc10"] == "True"]
    classes = sorted({r["category"] for r in rows})
    index = {c: i for i, c in enumerate(classes)}
    train = [r for r in rows if int(r["fold"]) in train_folds]
    val = [r for r in rows if int(r["fold"]) == val_fold]
    return classes, index, train, val


def features(data, rows, index):
    xs, ys = [], []
    for r in rows:
        audio, sr = soundfile.read(os.path.join(data, "audio", r["filename"]), dtype="float32", always_2d=True)
        assert sr == SR, f"{r['filename']}: {sr} Hz"
        x = audio.mean(axis=1)
        x = np.pad(x, (0, max(0, SAMPLES - len(x))))[:SAMPLES]
        xs.append(audiodsp_ref.log_mel(x).numpy())
        ys.append(index[r["category"]])
    return torch.tensor(np.stack(xs)).unsqueeze(1), torch.tensor(ys)


def mask_along_axis(spec, mask_param, axis, mask_end="torchaudio"):
    # torchaudio.functional.mask_along_axis (v2.x), mask_value 0, one example [1, mels, frames]:
    # rows trunc(s) ..< trunc(s) + trunc(w). `mask_end="legacy"` reproduces this script's runs
    # before 2026-12-03 07:30 UTC (issue #18, seeds 1-13), which ended masks at trunc(s + w): on
    # average half a row wider (frequency 15.0 instead of 14.5, time 40.0 instead of 39.5).
    size = spec.shape[axis]
    value = torch.rand(1) * mask_param
    min_value = torch.rand(1) * (size - value)
    start = int(min_value.long())
    end = int((min_value + value).long()) if mask_end == "legacy" else start + int(value.long())
    if axis == 1:
        spec[:, start:end, :] = 0
    else:
        spec[:, :, start:end] = 0
    return spec


def load_features(a):
    """(classes, xtr, ytr, xva, yva, seconds): from --features-cache when it holds this split."""
    t0 = time.time()
    key = f"{os.path.abspath(a.data)}|{a.train_folds}|{a.val_fold}|esc10"
    if a.features_cache and os.path.exists(a.features_cache):
        z = np.load(a.features_cache, allow_pickle=False)
        if str(z["key"]) == key:
            return (list(z["classes"]), torch.tensor(z["xtr"]), torch.tensor(z["ytr"]),
                    torch.tensor(z["xva"]), torch.tensor(z["yva"]), time.time() - t0)
    classes, index, train_rows, val_rows = load_split(a.data, {int(f) for f in a.train_folds.split(",")}, a.val_fold, True)
    xtr, ytr = features(a.data, train_rows, index)
    xva, yva = features(a.data, val_rows, index)
    if a.features_cache:
        np.savez(a.features_cache, key=key, classes=np.array(classes), xtr=xtr.numpy(), ytr=ytr.numpy(),
                 xva=xva.numpy(), yva=yva.numpy())
    return classes, xtr, ytr, xva, yva, time.time() - t0


def train(a, seed, classes, xtr, ytr, xva, yva, t_features):
    torch.manual_seed(seed)
    np.random.seed(seed)
    cfg = AudioCNNConfig(num_classes=len(classes)) if a.model == "full" else \
        AudioCNNConfig(num_classes=len(classes), depths=(1, 1, 1, 1), widths=(8, 16, 32, 64), stem_channels=8)
    model = AudioCNN(cfg)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    steps = (len(ytr) + a.batch - 1) // a.batch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, epochs=a.epochs,
                                                    steps_per_epoch=steps, pct_start=0.1)
    beta = torch.distributions.Beta(0.2, 0.2)
    history = []
    t_train = time.time()
    for epoch in range(a.epochs):
        te = time.time()
        model.train()
        perm = torch.randperm(len(ytr))
        total = 0.0
        for b in range(steps):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            x = xtr[idx].clone()
            for i in range(len(idx)):
                mask_along_axis(x[i], 30, 1, a.mask_end)
                mask_along_axis(x[i], 80, 2, a.mask_end)
            y = ytr[idx]
            if np.random.random() > 0.7:
                lam = float(beta.sample())
                j = torch.randperm(len(idx))
                x = lam * x + (1 - lam) * x[j]
                out = model(x)
                loss = lam * criterion(out, y) + (1 - lam) * criterion(out, y[j])
            else:
                out = model(x)
                loss = criterion(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        train_loss = total / steps
        model.eval()
        vloss, correct, vb = 0.0, 0, 0
        with torch.no_grad():
            for b in range(0, len(yva), a.batch):
                out = model(xva[b:b + a.batch])
                vloss += criterion(out, yva[b:b + a.batch]).item()
                correct += int((out.argmax(1) == yva[b:b + a.batch]).sum())
                vb += 1
        acc = correct / len(yva)
        row = dict(epoch=epoch + 1, train_loss=train_loss, val_loss=vloss / vb, val_accuracy=acc,
                   lr=optimizer.param_groups[0]["lr"], seconds=time.time() - te)
        history.append(row)
        print(json.dumps(row), flush=True)
    result = dict(framework="pytorch", torch=torch.__version__, threads=a.threads, seed=seed, model=a.model,
                  mask_end=a.mask_end,
                  epochs=a.epochs, train_clips=len(ytr), val_clips=len(yva), feature_seconds=t_features,
                  train_seconds=time.time() - t_train, final_val_accuracy=history[-1]["val_accuracy"],
                  best_val_accuracy=max(h["val_accuracy"] for h in history), history=history)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}), flush=True)
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "esc50"))
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", default=None, help="comma-separated seeds, one run each (overrides --seed)")
    p.add_argument("--model", choices=["full", "small"], default="full")
    p.add_argument("--train-folds", default="1,2,3")
    p.add_argument("--val-fold", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None)
    p.add_argument("--features-cache", default=None)
    p.add_argument("--mask-end", choices=["torchaudio", "legacy"], default="torchaudio",
                   help="SpecAugment mask end: torchaudio's trunc(s) + trunc(w) (default), or legacy trunc(s + w)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    classes, xtr, ytr, xva, yva, t_features = load_features(a)
    print(f"features: train {tuple(xtr.shape)} val {tuple(xva.shape)} in {t_features:.1f} s", flush=True)
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else [a.seed]
    results = [train(a, seed, classes, xtr, ytr, xva, yva, t_features) for seed in seeds]
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results if a.seeds else results[0], f, indent=1)


if __name__ == "__main__":
    main()
