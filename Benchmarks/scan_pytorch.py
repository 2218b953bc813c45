#!/usr/bin/env python3
"""Sliding-window scan of a long recording with the reference PyTorch model and features.

The PyTorch counterpart of `audiocnn predict FILE --checkpoint C --window 5 --hop 2.5 --batch 16`,
for Scripts/bench/scan.sh:

  * FILE is streamed with soundfile in blocks (never loaded whole) and down-mixed to mono (mean of
    the channels), as AudioFileReader does through the same libsndfile scaling.
  * Windows of --window seconds start every --hop seconds from 0 (lengths in samples rounded half
    away from zero, as the Swift WindowScanner does); when the last of them stops short of the end,
    one more window is aligned to the end of the file. A file shorter than one window is one
    (shorter) window.
  * Each window's log-Mel is the torch reimplementation of torchaudio's MelSpectrogram +
    AmplitudeToDB("power") in Scripts/fixtures/make_audiodsp_fixtures.py (float32 torch.stft,
    centred, reflect padding, periodic Hann; HTK/Slaney Mel filterbank; 10*log10(clamp(x, 1e-10)))
    with the checkpoint's mel_config (defaults: 44.1 kHz, n_fft 1024, hop 512, 128 HTK mels, no
    norm, no top_db). The filterbank is built once, as torchaudio's MelSpectrogram module keeps it
    as a buffer; the STFT of a batch of windows is one torch.stft call.
  * The checkpoint is loaded with Scripts/import_checkpoint_to_pytorch.load into
    Scripts/reference/audiocnn_model.py and run in eval mode under torch.inference_mode(), --batch
    windows per forward pass; probabilities are the softmax of the logits.

The file's rate must be the checkpoint's Mel rate (no resampling here); other rates are refused.

Usage: python3 Benchmarks/scan_pytorch.py FILE --checkpoint CKPT [--window 5] [--hop 2.5]
           [--batch 16] [--threads 2] [--top 1] [--json] [--rows [PATH]]

Prints seconds_of_audio, windows, wall_s (the scan: reading, features and forward passes; not the
imports or the checkpoint load, reported as load_s), audio_hours_per_minute, windows_per_s and
peak_rss_mb (ru_maxrss of this process); with --json as one JSON object on one line.
--rows writes the same CSV rows as the Swift tool (header start,end,class,confidence,file; %.3f
seconds, %.4f confidence, top --top classes per window) to PATH, or to standard output when no
PATH is given (the summary then goes to standard error).
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import soundfile
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
sys.path.insert(0, os.path.join(ROOT, "Scripts", "fixtures"))


def import_feature_module():
    """Scripts/fixtures/make_audiodsp_fixtures.py without librosa and soxr.

    Its log-Mel functions use torch only; librosa and soxr are imported at its top for its
    fixture-writing main(), and importing them (numba, scipy, sklearn) would add tens of MB to
    the peak RSS measured here. Stand-ins are placed in sys.modules just for the import when the
    real modules are not already loaded. The module also calls torch.set_num_threads(1) on
    import, so the thread count is set after this.
    """
    import types
    stubs = [name for name in ("librosa", "soxr") if name not in sys.modules]
    for name in stubs:
        sys.modules[name] = types.ModuleType(name)
    try:
        import make_audiodsp_fixtures as module
    finally:
        for name in stubs:
            sys.modules.pop(name, None)
    return module


dsp = import_feature_module()
from import_checkpoint_to_pytorch import load  # noqa: E402

DEFAULT_MEL = {"sampleRate": 44100, "nFFT": 1024, "hopLength": 512, "melCount": 128, "fMin": 0.0,
               "fMax": None, "melScale": "htk", "norm": "none", "topDB": None}


def rounded(x: float) -> int:
    """Swift's Double.rounded() (half away from zero) for x >= 0, as an Int."""
    return int(math.floor(x + 0.5))


class LogMel:
    """The checkpoint's log-Mel front-end for batches of equal-length windows."""

    def __init__(self, cfg: dict):
        self.sr = int(cfg["sampleRate"])
        self.n_fft = int(cfg["nFFT"])
        self.hop = int(cfg["hopLength"])
        self.top_db = cfg.get("topDB")
        f_max = cfg["fMax"] if cfg.get("fMax") is not None else float(self.sr // 2)
        norm = None if cfg.get("norm", "none") == "none" else cfg["norm"]
        self.fb = dsp.melscale_fbanks(self.n_fft // 2 + 1, float(cfg["fMin"]), float(f_max),
                                      int(cfg["melCount"]), self.sr, norm, cfg["melScale"])

    def __call__(self, windows: torch.Tensor) -> torch.Tensor:
        """[B, samples] -> [B, 1, mels, frames]."""
        p = dsp.power_spec(windows, self.n_fft, self.hop)                       # [B, freqs, frames]
        mel = torch.matmul(p.transpose(-1, -2), self.fb).transpose(-1, -2)     # [B, mels, frames]
        if self.top_db is None:
            db = dsp.amplitude_to_db(mel)
        else:  # floored at max - top_db per window
            db = torch.stack([dsp.amplitude_to_db(m, top_db=float(self.top_db)) for m in mel])
        return db.unsqueeze(1)


class Scanner:
    """Cuts a stream of mono samples into windows and classifies them in batches
    (the Swift WindowScanner's rules)."""

    def __init__(self, model, mel: LogMel, sample_rate: int, window_s: float, hop_s: float, batch: int):
        self.model, self.mel, self.sr, self.batch = model, mel, sample_rate, batch
        self.window = max(1, rounded(window_s * sample_rate))
        self.hop = max(1, rounded(hop_s * sample_rate))
        self.buffer = np.zeros(0, dtype=np.float32)  # samples from absolute frame buffer_start on
        self.buffer_start = 0
        self.frames_read = 0
        self.next_start = 0
        self.last_end = 0
        self.classified = 0
        self.pending = []  # (start, end, samples)
        self.results = []  # (start, end, probabilities as a numpy row)

    def feed(self, samples: np.ndarray) -> None:
        self.buffer = np.concatenate([self.buffer, samples])
        self.frames_read += len(samples)
        while self.next_start + self.window <= self.frames_read:
            self.add(self.next_start, self.next_start + self.window)
            self.next_start += self.hop
        keep_from = min(self.next_start, max(0, self.frames_read - self.window))
        if keep_from > self.buffer_start:
            self.buffer = self.buffer[keep_from - self.buffer_start:].copy()
            self.buffer_start = keep_from

    def finish(self) -> None:
        if self.classified == 0 and not self.pending:
            self.add(0, self.frames_read)
        elif self.last_end < self.frames_read:
            self.add(self.frames_read - self.window, self.frames_read)
        self.flush()

    def add(self, start: int, end: int) -> None:
        samples = self.buffer[start - self.buffer_start:end - self.buffer_start]
        if self.pending and len(self.pending[0][2]) != len(samples):
            self.flush()
        self.pending.append((start, end, samples.copy()))
        self.last_end = end
        if len(self.pending) == self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        x = torch.from_numpy(np.stack([w[2] for w in self.pending]))
        probabilities = torch.softmax(self.model(self.mel(x)), dim=1).numpy()
        for (start, end, _), p in zip(self.pending, probabilities):
            self.results.append((start / self.sr, end / self.sr, p))
        self.classified += len(self.pending)
        self.pending = []


def scan(path: str, model, mel: LogMel, window_s: float, hop_s: float, batch: int) -> Scanner:
    with soundfile.SoundFile(path) as f:
        if f.samplerate != mel.sr:
            sys.exit(f"{path}: {f.samplerate} Hz, but the checkpoint's Mel front-end runs at {mel.sr} Hz; "
                     f"this benchmark does not resample (convert the file to {mel.sr} Hz first)")
        scanner = Scanner(model, mel, f.samplerate, window_s, hop_s, batch)
        block = max(scanner.hop, 8192)  # as the Swift scan reads
        for piece in f.blocks(blocksize=block, dtype="float32", always_2d=True):
            scanner.feed(piece[:, 0].copy() if piece.shape[1] == 1 else piece.mean(axis=1, dtype=np.float32))
    if scanner.frames_read == 0:
        sys.exit(f"{path}: no samples")
    scanner.finish()
    return scanner


def csv_field(text: str) -> str:
    if not any(c in text for c in ',"\n\r'):
        return text
    return '"' + text.replace('"', '""') + '"'


def write_rows(out, results, classes, file: str, top: int) -> None:
    out.write("start,end,class,confidence,file\n")
    for start, end, p in results:
        order = sorted(range(len(p)), key=lambda i: (-p[i], i))[:max(1, top)]
        for i in order:
            out.write(f"{start:.3f},{end:.3f},{csv_field(classes[i])},{p[i]:.4f},{csv_field(file)}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--window", type=float, default=5.0, help="window length, seconds")
    ap.add_argument("--hop", type=float, default=None, help="seconds between window starts (default half the window)")
    ap.add_argument("--batch", type=int, default=16, help="windows per forward pass")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=1, help="classes per window in --rows")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    ap.add_argument("--rows", nargs="?", const="-", default=None, metavar="PATH",
                    help="write the Swift tool's CSV rows to PATH (standard output without PATH)")
    a = ap.parse_args()
    hop = a.hop if a.hop is not None else a.window / 2
    for name, value in (("--window", a.window), ("--hop", hop)):
        if not (math.isfinite(value) and value > 0):
            ap.error(f"{name} must be a positive number of seconds, got {value}")
    if a.batch < 1:
        ap.error(f"--batch must be at least 1, got {a.batch}")
    if not os.path.isfile(a.file):
        sys.exit(f"{a.file}: no such file")
    torch.set_num_threads(a.threads)

    t0 = time.perf_counter()
    model, meta = load(a.checkpoint)
    model.eval()
    classes = json.loads(meta["classes"])
    mel = LogMel({**DEFAULT_MEL, **json.loads(meta["mel_config"])} if meta.get("mel_config") else DEFAULT_MEL)
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    with torch.inference_mode():
        scanner = scan(a.file, model, mel, a.window, hop, a.batch)
    wall = time.perf_counter() - t0

    seconds = scanner.frames_read / scanner.sr
    summary = {
        "seconds_of_audio": round(seconds, 3),
        "windows": len(scanner.results),
        "wall_s": round(wall, 3),
        "audio_hours_per_minute": round((seconds / 3600) / (wall / 60), 3) if wall > 0 else None,
        "windows_per_s": round(len(scanner.results) / wall, 2) if wall > 0 else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_s": round(load_s, 3),
        "window_s": a.window, "hop_s": hop, "batch": a.batch, "threads": a.threads,
        "torch": torch.__version__,
    }
    if a.rows == "-":
        write_rows(sys.stdout, scanner.results, classes, a.file, a.top)
        sys.stdout.flush()
    elif a.rows:
        with open(a.rows, "w", newline="") as out:
            write_rows(out, scanner.results, classes, a.file, a.top)
    report = sys.stderr if a.rows == "-" else sys.stdout
    if a.json:
        print(json.dumps(summary), file=report)
    else:
        print(f"{summary['seconds_of_audio']:.1f} s of audio, {summary['windows']} windows in {wall:.2f} s "
              f"({summary['windows_per_s']} windows/s, {summary['audio_hours_per_minute']} h of audio per minute), "
              f"peak RSS {summary['peak_rss_mb']} MB (checkpoint load {load_s:.2f} s)", file=report)


if __name__ == "__main__":
    main()
