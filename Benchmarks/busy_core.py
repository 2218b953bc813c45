#!/usr/bin/env python3
"""A busy neighbour on one core, for timing how a benchmark holds up on a shared machine.

Pins itself to one CPU and spins for `duty` of every `period` seconds, sleeping the rest, until
killed. Run it beside `paired_binaries.py` to see what static work splits cost when one core is
slowed (Docs/Benchmarks.md, "work claimed, no microcoded stores or gathers"):

    python3 Benchmarks/busy_core.py --cpu 1 --duty 0.3 & pid=$!
    python3 Benchmarks/paired_binaries.py BEFORE AFTER --precisions fp32 --bench "train --batch 16 --iterations 4"
    kill $pid
"""
import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, default=1, help="the CPU to load (default 1)")
    parser.add_argument("--duty", type=float, default=0.3, help="busy fraction of each period, 0-1 (default 0.3)")
    parser.add_argument("--period", type=float, default=0.02, help="seconds per busy+idle cycle (default 0.02)")
    args = parser.parse_args()
    if not 0 <= args.duty <= 1 or args.period <= 0:
        parser.error("--duty must be within 0-1 and --period positive")
    if args.cpu not in os.sched_getaffinity(0):
        parser.error(f"CPU {args.cpu} is not available here ({sorted(os.sched_getaffinity(0))})")
    os.sched_setaffinity(0, {args.cpu})
    busy, idle = args.duty * args.period, (1 - args.duty) * args.period
    while True:
        start = time.perf_counter()
        while time.perf_counter() - start < busy:
            pass
        time.sleep(idle)


if __name__ == "__main__":
    main()
