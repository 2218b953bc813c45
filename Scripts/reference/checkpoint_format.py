"""The AudioCNN-Swift checkpoint format, shared by the export and import scripts.

A checkpoint is one safetensors file: PyTorch's state dict under its own key names, and string
metadata. Keep in step with Sources/ResNetAudio/Checkpoint/Checkpoint.swift, AudioDSP's MelConfig coding keys
and Docs/Checkpoints.md.
"""
import json
import re

FORMAT = "audiocnn-swift-checkpoint"
FORMAT_VERSION = "1"


def mel_config_json(sample_rate, n_fft, hop_length, n_mels, f_min, f_max) -> str:
    return json.dumps({"sampleRate": sample_rate, "nFFT": n_fft, "hopLength": hop_length,
                       "melCount": n_mels, "fMin": f_min, "fMax": f_max if f_max is not None else sample_rate / 2,
                       "melScale": "htk", "norm": "none", "topDB": None}, sort_keys=True)


def model_config_from_state(state: dict, dropout: float = 0.5) -> dict:
    """Depths, widths and classes read off the state dict's keys and shapes."""
    depths, widths = [], []
    n = 1
    while any(k.startswith(f"layer{n}.") for k in state):
        blocks = {int(m.group(1)) for k in state if (m := re.match(rf"layer{n}\.(\d+)\.", k))}
        depths.append(max(blocks) + 1)
        widths.append(int(state[f"layer{n}.0.conv1.weight"].shape[0]))
        n += 1
    return {"num_classes": int(state["fc.weight"].shape[0]), "depths": depths, "widths": widths,
            "stem_channels": int(state["conv1.0.weight"].shape[0]), "dropout": dropout}
