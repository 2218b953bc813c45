#!/usr/bin/env python3
"""Interop check: TensorBoard's own reader loads what TBLogger wrote, value for value.

Reads the run written by `Examples/TBLoggerDemo` with
`tensorboard.backend.event_processing.event_accumulator.EventAccumulator` and asserts the exact
scalar values and steps, histogram buckets and counts (against a numpy re-implementation of
`torch.utils.tensorboard.summary.make_histogram`), image sizes and pixels (decoded with Python's
zlib, an independent inflate), text and hyper-parameters. Then cuts the main event file in the
middle of a record and checks that TensorBoard still loads every record before the cut.

Also reads the run of `TBLoggerDemo --crash`, which aborts without closing its writer, and checks
that the background flush saved every point.

Usage: python3 Scripts/check_tensorboard.py <logdir of TBLoggerDemo> [<logdir of TBLoggerDemo --crash>]
Installs `tensorboard` with pip if it is missing. The formulas below mirror
Examples/TBLoggerDemo/main.swift: change both together.
"""
import glob
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "tensorboard"])
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
import numpy as np
from tensorboard.plugins.hparams import plugin_data_pb2

KEEP_ALL = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0, "compressedHistograms": 0}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def load(path):
    acc = EventAccumulator(path, size_guidance=KEEP_ALL)
    acc.Reload()
    return acc


def expect_scalars(acc, tag, expected, where):
    events = acc.Scalars(tag)
    got = [(e.step, e.value) for e in events]
    want = [(s, f32(v)) for s, v in expected]
    check(got == want, f"{where} {tag}: {len(got)} points, first mismatch "
          f"{next(((g, w) for g, w in zip(got, want) if g != w), (len(got), len(want)))}")


def torch_histogram(values):
    """`make_histogram(values.astype(float), default_bins)` from torch/utils/tensorboard."""
    v, edges = 1e-12, []
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    bins = [-x for x in edges[::-1]] + [0] + edges
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    cum = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum, [0, cum[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    return dict(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                sum_squares=values.dot(values), bucket_limit=limits.tolist(),
                bucket=[float(c) for c in counts])


def expect_histogram(acc, tag, step, values):
    events = acc.Histograms(tag)
    check(len(events) == 1 and events[0].step == step, f"{tag}: {len(events)} events")
    if not events:
        return
    got, want = events[0].histogram_value, torch_histogram(values)
    check(list(got.bucket_limit) == want["bucket_limit"], f"{tag}: bucket limits differ from torch's")
    check(list(got.bucket) == want["bucket"], f"{tag}: bucket counts differ from torch's")
    for key in ("min", "max", "num"):
        check(getattr(got, key) == want[key], f"{tag}: {key} {getattr(got, key)} != {want[key]}")
    for key in ("sum", "sum_squares"):
        check(math.isclose(getattr(got, key), want[key], rel_tol=1e-12, abs_tol=1e-9),
              f"{tag}: {key} {getattr(got, key)} != {want[key]}")


def decode_png(data):
    """Width, height, channels and raw pixels of an 8-bit greyscale/RGB PNG, all filters."""
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        check(zlib.crc32(kind + body) == crc, f"PNG chunk {kind} CRC")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    out, previous = bytearray(), bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        previous = line
    return width, height, channels, bytes(out)


def expect_image(acc, tag, step, width, height, channels, pixels):
    events = acc.Images(tag)
    check(len(events) == 1, f"{tag}: {len(events)} images")
    if not events:
        return
    e = events[0]
    check((e.step, e.width, e.height) == (step, width, height), f"{tag}: step/size {e.step} {e.width}x{e.height}")
    w, h, c, data = decode_png(e.encoded_image_string)
    check((w, h, c) == (width, height, channels), f"{tag}: PNG header {w}x{h}x{c}")
    check(data == pixels, f"{tag}: decoded pixels differ")


def main():
    logdir = sys.argv[1]
    acc = load(logdir)
    epochs = range(50)
    expect_scalars(acc, "Loss/Train", [(e, 2.5 * math.exp(-e / 12) + 0.05) for e in epochs], "run")
    expect_scalars(acc, "Loss/Validation", [(e, 2.6 * math.exp(-e / 14) + 0.12) for e in epochs], "run")
    expect_scalars(acc, "Accuracy/Validation", [(e, 0.9 * (1 - math.exp(-e / 10))) for e in epochs], "run")
    expect_scalars(acc, "Learning_rate",
                   [(e, 0.0005 * (1 + math.cos(math.pi * e / 50)) / 2) for e in epochs], "run")
    for t in range(4):
        expect_scalars(acc, f"Threads/t{t}", [(s, t * 10_000 + s) for s in range(1000)], "run")
    for member, scale in (("train", 1.0), ("validation", 1.5)):
        sub = load(os.path.join(logdir, f"Loss_{member}"))
        expect_scalars(sub, "Loss", [(e, scale / (e + 1)) for e in epochs], f"Loss_{member}")

    weights = [f32(math.sin(i * 0.37) * 3 + (i % 7) * 0.01) for i in range(1000)]
    expect_histogram(acc, "Weights/conv1", 3, weights)
    expect_histogram(acc, "Weights/sparse", 4, [0, 0, 0, f32(1e-13), -2, 5, 5, 7.25])

    grey = bytes(((i % 32) * 7 + i // 32) for i in range(20 * 32))
    expect_image(acc, "Images/gradient", 0, 32, 20, 1, grey)
    rgb = bytes(v for y in range(250) for x in range(300) for v in (x % 256, y % 256, (x * y) % 256))
    expect_image(acc, "Images/pattern", 1, 300, 250, 3, rgb)

    texts = acc.Tensors("Notes")
    check(len(texts) == 1 and list(texts[0].tensor_proto.string_val) ==
          ["ESC-50 run with **TBLogger**: ünïcode ✓".encode()], f"Notes: {texts}")
    check("Notes" in acc.PluginTagToContent("text"), "Notes is not a text-plugin tag")

    hp = load(os.path.join(logdir, "hparams"))
    content = hp.PluginTagToContent("hparams")
    check(set(content) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"},
          f"hparams tags {sorted(content)}")
    exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    check([(h.name, h.type) for h in exp.hparam_infos] ==
          [("batch_size", 3), ("lr", 3), ("mixup", 2), ("optimizer", 1)], f"hparam infos {exp.hparam_infos}")
    check([m.name.tag for m in exp.metric_infos] == ["hparam/accuracy"], "metric infos")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info
    values = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    check(values == {"lr": 0.001, "optimizer": "adamw", "mixup": True, "batch_size": 32.0}, f"hparams {values}")
    end = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_end_info"]).session_end_info
    check(end.status == 1, "session end status")
    expect_scalars(hp, "hparam/accuracy", [(0, 0.8125)], "hparams")

    # A file cut in the middle of a record (a crashed writer) still loads up to that record.
    main_file = max(glob.glob(os.path.join(logdir, "events.out.tfevents.*")), key=os.path.getsize)
    data = open(main_file, "rb").read()
    offsets, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack("<Q", data[pos:pos + 8])
        offsets.append(pos)
        pos += 16 + length
    check(pos == len(data), "records do not tile the file")
    cut_record = len(offsets) // 2
    cut = offsets[cut_record] + 12 + 3  # inside the payload of that record
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, os.path.basename(main_file)), "wb") as f:
            f.write(data[:cut])
        truncated = load(tmp)
        full_count = sum(len(acc.Scalars(t)) for t in acc.Tags()["scalars"])
        kept = sum(len(truncated.Scalars(t)) for t in truncated.Tags()["scalars"])
        # Records before the cut: the file_version event plus (cut_record - 1) scalar events, since
        # all scalars precede the histograms, images and text in the demo.
        check(kept == cut_record - 1, f"truncated file: {kept} scalars loaded, expected {cut_record - 1}")
        check(0 < kept < full_count, "truncated file loaded nothing or everything")

    crashed_note = ""
    if len(sys.argv) > 2:
        crashed = load(sys.argv[2])
        expect_scalars(crashed, "Loss/Train", [(s, s / 8) for s in range(20)], "crashed run")
        crashed_note = "; crashed run keeps its 20 points"

    if failures:
        for message in failures:
            print("FAIL", message)
        sys.exit(1)
    print(f"OK: TensorBoard {__import__('tensorboard').__version__} reads TBLogger's run: "
          f"{full_count} scalars, 2 histograms, 2 images, text, hparams; truncated file keeps {kept} scalars{crashed_note}")


if __name__ == "__main__":
    main()
