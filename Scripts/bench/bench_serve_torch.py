#!/usr/bin/env python3
"""The reference PyTorch service's request handler, timed stage by stage on the same clip that
`audiocnn bench serve` sends (its path is the argument): base64 decode + soundfile.read, the
log-Mel (float32 torch.stft + torchaudio's Mel filterbank, reimplemented in
Scripts/fixtures/make_audiodsp_fixtures.py), the forward pass with feature maps of a randomly
initialised ResNet-34 (Scripts/reference/audiocnn_model.py), and the response (channel means,
nan_to_num, .tolist(), json.dumps). No HTTP: this is the handler's own cost, a lower bound for
the reference server's latency. Prints one JSON line of medians in ms; handler_ms is their sum.
"""
import argparse
import base64
import io
import json
import os
import sys
import time

import numpy as np
import soundfile
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Scripts", "fixtures"))
sys.path.insert(0, os.path.join(ROOT, "Scripts", "reference"))
from audiocnn_model import AudioCNN, AudioCNNConfig  # noqa: E402
from make_audiodsp_fixtures import log_mel  # noqa: E402


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = AudioCNN(AudioCNNConfig(num_classes=50)).eval()
    classes = [f"class_{i}" for i in range(50)]
    body = json.dumps({"audio_data": base64.b64encode(open(args.wav, "rb").read()).decode()})

    def decode():
        request = json.loads(body)
        audio, sr = soundfile.read(io.BytesIO(base64.b64decode(request["audio_data"])), dtype="float32")
        return audio

    audio = decode()
    spec = log_mel(torch.from_numpy(audio))[None, None]

    def forward():
        with torch.no_grad():
            return model(spec)

    def forward_maps():
        with torch.no_grad():
            return model(spec, return_feature_maps=True)

    logits, maps = forward_maps()

    def respond():
        probs = torch.softmax(torch.nan_to_num(logits), dim=1)
        p, i = torch.topk(probs[0], 3)
        viz = {}
        for name, t in maps.items():
            a = np.nan_to_num(torch.mean(t, dim=1).squeeze(0).numpy())
            viz[name] = {"shape": list(a.shape), "values": a.tolist()}
        s = np.nan_to_num(spec.squeeze(0).squeeze(0).numpy())
        step = len(audio) // 8000 if len(audio) > 8000 else 1
        return json.dumps({"predictions": [{"class": classes[j.item()], "confidence": q.item()} for q, j in zip(p, i)],
                           "visualization": viz,
                           "input_spectrogram": {"shape": list(s.shape), "values": s.tolist()},
                           "waveform": {"values": audio[::step].tolist(), "sample_rate": 44100, "duration": len(audio) / 44100}})

    result = {
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "decode_ms": median_ms(decode, args.repeats),
        "mel_ms": median_ms(lambda: log_mel(torch.from_numpy(audio)), args.repeats),
        "forward_ms": median_ms(forward, args.repeats),
        "forward_feature_maps_ms": median_ms(forward_maps, args.repeats),
        "json_ms": median_ms(respond, args.repeats),
    }
    # The handler runs these stages one after another.
    result["handler_ms"] = result["decode_ms"] + result["mel_ms"] + result["forward_feature_maps_ms"] + result["json_ms"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
