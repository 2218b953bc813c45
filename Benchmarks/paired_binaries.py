#!/usr/bin/env python3
"""Two builds of `audiocnn` (before and after a change) timed in one run, alternating.

Each round runs `BEFORE bench ARGS --json` and `AFTER bench ARGS --json` (in alternating order)
for every precision asked, and the result is the per-round ratio of clips/s (after / before),
with its median: the change's effect with the machine's drift paired out. Build the two binaries
first, e.g.

    git checkout OLD -- Sources && swift build -c release --product audiocnn && cp .build/release/audiocnn /tmp/before
    git checkout HEAD -- Sources && swift build -c release --product audiocnn && cp .build/release/audiocnn /tmp/after
    python3 Benchmarks/paired_binaries.py /tmp/before /tmp/after --rounds 6 --bench "train --batch 16 --iterations 4"
"""

import argparse
import json
import statistics
import subprocess
import sys


def run(binary, bench_args, precision):
    out = subprocess.run(
        [binary, "bench", *bench_args, "--precision", precision, "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["clips_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--bench", default="train --batch 16 --iterations 4", help="the bench subcommand and its flags")
    args = parser.parse_args()
    bench_args = args.bench.split()
    precisions = args.precisions.split(",")
    ratios = {p: [] for p in precisions}
    for r in range(args.rounds):
        for p in precisions:
            order = [("before", args.before), ("after", args.after)]
            if r % 2:
                order.reverse()
            got = {name: run(binary, bench_args, p) for name, binary in order}
            ratios[p].append(got["after"] / got["before"])
            print(f"round {r + 1} {p}: before {got['before']:.2f}, after {got['after']:.2f} clips/s, "
                  f"after/before {ratios[p][-1]:.3f}", flush=True)
    for p in precisions:
        rs = ratios[p]
        print(f"{p}: after/before by round {' '.join(f'{x:.3f}' for x in rs)}; median {statistics.median(rs):.3f}, "
              f"{sum(x > 1 for x in rs)} of {len(rs)} rounds faster")


if __name__ == "__main__":
    sys.exit(main())
