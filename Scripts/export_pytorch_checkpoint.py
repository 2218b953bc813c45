#!/usr/bin/env python3
"""Turn a PyTorch checkpoint of the reference project into an AudioCNN-Swift checkpoint.

    python3 Scripts/export_pytorch_checkpoint.py IN.pth OUT.safetensors [options]

IN.pth is what the reference training saves: torch.save({"model_state_dict": ..., "classes": [...],
"accuracy": float, "epoch": int}). The model config (depths, widths, classes) is read off the state
dict's shapes; the Mel settings are the reference defaults unless options say otherwise. The output
is one safetensors file: the state dict under PyTorch's own key names (F32; num_batches_tracked I64)
and string metadata (see Docs/Checkpoints.md): format, format_version, classes (JSON array),
mel_config and model_config (JSON objects), epoch, val_accuracy.
"""
import argparse
import json
import os
import re
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from checkpoint_format import FORMAT, FORMAT_VERSION, mel_config_json, model_config_from_state  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--sample-rate", type=int, default=44100)
    ap.add_argument("--n-fft", type=int, default=1024)
    ap.add_argument("--hop-length", type=int, default=512)
    ap.add_argument("--n-mels", type=int, default=128)
    ap.add_argument("--f-min", type=float, default=0.0)
    ap.add_argument("--f-max", type=float, default=None, help="default: sample_rate / 2")
    ap.add_argument("--dropout", type=float, default=0.5)
    args = ap.parse_args()

    ckpt = torch.load(args.input, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict) or "model_state_dict" not in ckpt:
        sys.exit(f"{args.input}: not a reference checkpoint (no 'model_state_dict')")
    state = {k: v.detach().contiguous().clone() for k, v in ckpt["model_state_dict"].items()}
    for k, v in state.items():
        state[k] = v.to(torch.int64) if k.endswith("num_batches_tracked") else v.to(torch.float32)
    config = model_config_from_state(state, dropout=args.dropout)
    classes = list(ckpt.get("classes") or [f"class_{i}" for i in range(config["num_classes"])])
    if len(classes) != config["num_classes"]:
        sys.exit(f"{args.input}: {len(classes)} class names but fc has {config['num_classes']} outputs")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "classes": json.dumps(classes),
        "mel_config": mel_config_json(args.sample_rate, args.n_fft, args.hop_length, args.n_mels,
                                      args.f_min, args.f_max),
        "model_config": json.dumps(config, sort_keys=True),
        "epoch": str(int(ckpt.get("epoch", 0))),
        "val_accuracy": repr(float(ckpt.get("accuracy", float("nan")))),
        "source": os.path.basename(args.input),
    }
    tmp = args.output + ".tmp"
    save_file(state, tmp, metadata=meta)
    os.replace(tmp, args.output)
    print(f"wrote {args.output}: {len(state)} tensors, {config}")


if __name__ == "__main__":
    main()
