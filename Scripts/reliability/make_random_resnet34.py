#!/usr/bin/env python3
"""A full-size (ResNet-34, 50 classes) checkpoint with PyTorch's default random initialisation,
for load tests: the reference model of Scripts/reference/audiocnn_model.py, saved as the reference
project saves it and converted with Scripts/export_pytorch_checkpoint.py. Its predictions are
meaningless; its cost per request is the real model's.

Usage: python3 Scripts/reliability/make_random_resnet34.py OUT.safetensors
"""
import os
import subprocess
import sys
import tempfile

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "reference"))
from audiocnn_model import AudioCNN, AudioCNNConfig  # noqa: E402

torch.manual_seed(0)
model = AudioCNN(AudioCNNConfig())
classes = ["class_%02d" % i for i in range(50)]
with tempfile.TemporaryDirectory() as tmp:
    pth = os.path.join(tmp, "random.pth")
    torch.save({"model_state_dict": model.state_dict(), "classes": classes, "accuracy": 0.0, "epoch": 0}, pth)
    subprocess.run([sys.executable, os.path.join(here, "..", "export_pytorch_checkpoint.py"), pth, sys.argv[1]], check=True)
