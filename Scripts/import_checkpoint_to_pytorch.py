#!/usr/bin/env python3
"""Load an AudioCNN-Swift checkpoint into the reference PyTorch model (the way back).

    python3 Scripts/import_checkpoint_to_pytorch.py IN.safetensors OUT.pth [--check-input X.npy]

Writes OUT.pth in the reference project's format ({"model_state_dict", "classes", "accuracy",
"epoch"}). With --check-input it also prints the logits for a [1, 1, mels, frames] log-Mel input
stored as .npy, to compare with `audiocnn predict` on the same input.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors import safe_open

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from audiocnn_model import AudioCNN, AudioCNNConfig  # noqa: E402
from checkpoint_format import FORMAT  # noqa: E402


def load(path: str):
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            sys.exit(f"{path}: not an AudioCNN-Swift checkpoint (format={meta.get('format')!r})")
        state = {k: f.get_tensor(k) for k in f.keys()}
    cfg = json.loads(meta["model_config"])
    config = AudioCNNConfig(cfg["num_classes"], tuple(cfg["depths"]), tuple(cfg["widths"]),
                            cfg.get("stem_channels", cfg["widths"][0]), cfg["dropout"])
    model = AudioCNN(config)
    model.load_state_dict(state, strict=True)
    return model.eval(), meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--check-input")
    args = ap.parse_args()
    model, meta = load(args.input)
    torch.save({"model_state_dict": model.state_dict(), "classes": json.loads(meta["classes"]),
                "accuracy": float(meta.get("val_accuracy", "nan")), "epoch": int(meta.get("epoch", 0))},
               args.output)
    print(f"wrote {args.output}")
    if args.check_input:
        x = torch.from_numpy(np.load(args.check_input).astype(np.float32))
        while x.dim() < 4:
            x = x.unsqueeze(0)
        with torch.no_grad():
            print(json.dumps(model(x)[0].tolist()))


if __name__ == "__main__":
    main()
