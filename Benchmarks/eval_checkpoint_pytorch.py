#!/usr/bin/env python3
"""Evaluates an AudioCNN-Swift checkpoint with the reference PyTorch model and features.

An independent check of `audiocnn evaluate`: the weights (and batch-norm running statistics) are
loaded into Scripts/reference/audiocnn_model.py, the log-Mel features are computed with the torch
reimplementation of torchaudio in Scripts/fixtures/make_audiodsp_fixtures.py, and the model runs
in eval mode under torch.no_grad(). Prints accuracy and the confusion matrix.

Usage: python3 Benchmarks/eval_checkpoint_pytorch.py CHECKPOINT --data ../shared/esc50 --fold 4 [--esc10]
"""
import argparse
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
from import_checkpoint_to_pytorch import load  # noqa: E402
import train_pytorch  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "esc50"))
    p.add_argument("--fold", type=int, default=4)
    p.add_argument("--esc10", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(2)
    model, meta = load(a.checkpoint)
    import json
    classes = json.loads(meta["classes"])
    index = {c: i for i, c in enumerate(classes)}
    _, _, _, rows = train_pytorch.load_split(a.data, set(), a.fold, a.esc10)
    rows = [r for r in rows if r["category"] in index]
    x, y = train_pytorch.features(a.data, rows, index)
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 32]).argmax(1) for i in range(0, len(y), 32)])
    cm = torch.zeros(len(classes), len(classes), dtype=torch.long)
    for t, q in zip(y.tolist(), pred.tolist()):
        cm[t, q] += 1
    print(f"accuracy {100.0 * (pred == y).float().mean().item():.2f}% ({int((pred == y).sum())} of {len(y)} clips)")
    print(cm.numpy())


if __name__ == "__main__":
    main()
