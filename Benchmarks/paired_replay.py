#!/usr/bin/env python3
"""Replays, in PyTorch, the steps a Swift run recorded with `audiocnn train --trace DIR`: the same
initial weights, the same inputs (after SpecAugment and MixUp), targets, dropout masks,
learning rate and AdamW beta1 per step, so that whatever differs afterwards is arithmetic (issue #18's paired
runs). Runs in float32 (what a PyTorch user trains with) or float64 (the reference both are
judged against), and writes into DIR/pytorch-<dtype>/:
  weights-NNNNN.safetensors  after the same steps as the Swift trace (PyTorch's state-dict names)
  replay.json                the loss of every step (PyTorch's and Swift's), the validation loss
                             and accuracy after every epoch the trace covers

Usage: python3 Benchmarks/paired_replay.py DIR [--dtype float32|float64] [--threads 2] [--max-steps N]
Needs torch (pip install torch==2.13.0+cpu --find-links /opt/wheels) and safetensors."""
import argparse
import glob
import json
import os
import re
import sys
import time

import torch
from safetensors import safe_open
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Scripts"))
from import_checkpoint_to_pytorch import load  # noqa: E402


class MaskDropout(torch.nn.Module):
    """Multiplies by the recorded mask (0 or 1/(1-p)) in training, as the Swift run's dropout did."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x):
        return x * self.mask if self.training else x


def read(path):
    with safe_open(path, framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, (f.metadata() or {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=10**9)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    out_dir = os.path.join(a.trace, f"pytorch-{a.dtype}")
    os.makedirs(out_dir, exist_ok=True)

    model, meta = load(os.path.join(a.trace, "weights-00000.safetensors"))
    recipe = json.loads(meta["training_config"])
    model = model.to(dtype).train()
    model.dropout = MaskDropout()
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=recipe["labelSmoothing"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["learningRate"], weight_decay=recipe["weightDecay"])
    weight_steps = sorted(int(re.findall(r"(\d+)\.safetensors", p)[0]) for p in glob.glob(os.path.join(a.trace, "weights-*.safetensors")))
    step_files = sorted(glob.glob(os.path.join(a.trace, "step-*.safetensors")))[: a.max_steps]
    val, _ = read(os.path.join(a.trace, "validation.safetensors"))
    xva, yva = val["input"].to(dtype), val["labels"]
    batch = recipe["batchSize"]

    def evaluate():
        model.eval()
        loss, correct, batches = 0.0, 0, 0
        with torch.no_grad():
            for b in range(0, len(yva), batch):
                out = model(xva[b:b + batch])
                loss += float(criterion(out, yva[b:b + batch]))
                correct += int((out.argmax(1) == yva[b:b + batch]).sum())
                batches += 1
        model.train()
        return loss / batches, correct / len(yva)

    steps, epochs = [], []
    started = time.time()
    for i, path in enumerate(step_files):
        tensors, m = read(path)
        step, epoch = int(m["step"]), int(m["epoch"])
        for group in optimizer.param_groups:
            group["lr"] = float(m["learning_rate"])
            group["betas"] = (float(m["beta1"]), group["betas"][1])  # OneCycleLR cycles beta1
        model.dropout.mask = tensors["dropout_mask"].to(dtype)
        loss = criterion(model(tensors["input"].to(dtype)), tensors["targets"].to(dtype))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps.append({"step": step, "epoch": epoch, "pytorch_loss": float(loss), "swift_loss": float(m["loss"])})
        if step in weight_steps:
            state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()}
            save_file(state, os.path.join(out_dir, f"weights-{step:05d}.safetensors"))
        next_epoch = None
        if i + 1 < len(step_files):
            with safe_open(step_files[i + 1], framework="pt") as f:
                next_epoch = int(f.metadata()["epoch"])
        if next_epoch != epoch:
            vloss, acc = evaluate()
            epochs.append({"epoch": epoch, "val_loss": vloss, "val_accuracy": acc, "complete": next_epoch is not None})
            print(json.dumps({"epoch": epoch, "step": step, "val_loss": round(vloss, 4), "val_accuracy": acc,
                              "seconds": round(time.time() - started, 1)}), flush=True)
    with open(os.path.join(out_dir, "replay.json"), "w") as f:
        json.dump({"dtype": a.dtype, "threads": a.threads, "torch": torch.__version__, "steps": steps, "epochs": epochs}, f)
    print(f"replayed {len(steps)} steps in {time.time() - started:.0f} s; wrote {out_dir}")


if __name__ == "__main__":
    main()
