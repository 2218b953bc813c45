"""The reference PyTorch AudioCNN (ResNet-34-style), parametrised like ResNetAudio's AudioCNNConfig.

Module tree and forward pass follow the reference project's `model.py` exactly (so state-dict keys
are `conv1.0.weight`, `conv1.1.running_mean`, `layer1.0.conv1.weight`, `layer2.0.shortcut.0.weight`,
`fc.weight`, ...), and feature maps are named as its inference service names them: `conv1`,
`layer{n}.block{i}.conv` (the sum before the block's last ReLU), `layer{n}.block{i}.relu`, `layer{n}`.
"""
from __future__ import annotations

import dataclasses
import json

import torch
import torch.nn as nn


@dataclasses.dataclass
class AudioCNNConfig:
    num_classes: int = 50
    depths: tuple = (3, 4, 6, 3)
    widths: tuple = (64, 128, 256, 512)
    stem_channels: int = 64
    dropout: float = 0.5

    def to_json(self) -> str:
        return json.dumps({"num_classes": self.num_classes, "depths": list(self.depths),
                           "widths": list(self.widths), "stem_channels": self.stem_channels,
                           "dropout": self.dropout}, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "AudioCNNConfig":
        d = json.loads(text)
        return AudioCNNConfig(d["num_classes"], tuple(d["depths"]), tuple(d["widths"]),
                              d.get("stem_channels", d["widths"][0]), d["dropout"])


class ResidualBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        self.use_shortcut = stride != 1 or in_channels != out_channels
        if self.use_shortcut:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x, fmap_dict=None, prefix=""):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = self.shortcut(x) if self.use_shortcut else x
        out_add = out + shortcut
        if fmap_dict is not None:
            fmap_dict[f"{prefix}.conv"] = out_add
        out = torch.relu(out_add)
        if fmap_dict is not None:
            fmap_dict[f"{prefix}.relu"] = out
        return out


class AudioCNN(nn.Module):
    def __init__(self, config: AudioCNNConfig = AudioCNNConfig()):
        super().__init__()
        self.config = config
        stem = config.stem_channels
        self.conv1 = nn.Sequential(
            nn.Conv2d(1, stem, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1))
        in_ch = stem
        for n, (depth, width) in enumerate(zip(config.depths, config.widths), start=1):
            blocks = []
            for i in range(depth):
                stride = 2 if (i == 0 and n > 1) else 1
                blocks.append(ResidualBlock(in_ch, width, stride))
                in_ch = width
            setattr(self, f"layer{n}", nn.ModuleList(blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(in_ch, config.num_classes)

    def stages(self):
        return [getattr(self, f"layer{n}") for n in range(1, len(self.config.depths) + 1)]

    def forward(self, x, return_feature_maps=False):
        fmaps = {} if return_feature_maps else None
        x = self.conv1(x)
        if fmaps is not None:
            fmaps["conv1"] = x
        for n, stage in enumerate(self.stages(), start=1):
            for i, block in enumerate(stage):
                x = block(x, fmaps, prefix=f"layer{n}.block{i}")
            if fmaps is not None:
                fmaps[f"layer{n}"] = x
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        x = self.dropout(x)
        x = self.fc(x)
        return (x, fmaps) if return_feature_maps else x


SMALL = AudioCNNConfig(num_classes=10, depths=(1, 1, 1, 1), widths=(8, 16, 32, 64), stem_channels=8, dropout=0.5)
FULL = AudioCNNConfig()
