#!/usr/bin/env python3
"""PyTorch's counterpart of `audiocnn bench tblog`: torch.utils.tensorboard.SummaryWriter writing
the same scalars (same tags, same count). Prints one JSON object with the median times.

Usage: python3 Benchmarks/tblog_torch.py [--count 100000] [--repeats 5]
"""
import argparse
import json
import math
import shutil
import statistics
import tempfile
import time

from torch.utils.tensorboard import SummaryWriter

TAGS = ["Loss/Train", "Loss/Validation", "Accuracy/Validation", "Learning_rate"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    caller, total = [], []
    for _ in range(args.repeats):
        logdir = tempfile.mkdtemp(prefix="tblog-torch-")
        writer = SummaryWriter(logdir)
        start = time.perf_counter()
        for i in range(args.count):
            writer.add_scalar(TAGS[i % 4], math.sin(i * 1e-3), i // 4)
        queued = time.perf_counter()
        writer.flush()
        done = time.perf_counter()
        writer.close()
        shutil.rmtree(logdir)
        caller.append(queued - start)
        total.append(done - start)
    print(json.dumps({"count": args.count, "repeats": args.repeats,
                      "caller_seconds": statistics.median(caller), "total_seconds": statistics.median(total)}))


if __name__ == "__main__":
    main()
