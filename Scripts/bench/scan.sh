#!/usr/bin/env bash
# Sliding-window scan of long recordings: `audiocnn predict --window 5 --hop 2.5 --batch 16` against
# the same windows through PyTorch (Benchmarks/scan_pytorch.py: the reference model and torch
# log-Mel), measured in the same run, interleaved (Swift then PyTorch for each file and repeat).
#
# Makes a 10-minute and a 60-minute 44.1 kHz mono 16-bit WAV in a temporary directory (ESC-50 clips
# from ../shared/esc50/audio, or $ESC50_DIR/audio, concatenated and looped in a seeded order; seeded
# noise and tones when there are none), written in pieces so this script's memory stays small.
# Each program runs as its own process under /usr/bin/time (wall = whole process: start-up,
# checkpoint load, decoding, features, forward passes, output; peak RSS = its max resident set).
# Prints a table of wall time, hours of audio per minute, peak RSS and the Swift/PyTorch
# throughput ratio, the Swift peak RSS of the 60-minute file against the 10-minute one (streaming
# should keep it flat), and whether both tools cut the same windows and agree on each window's
# top class.
#
# Usage: bash Scripts/bench/scan.sh [CHECKPOINT]
#   CHECKPOINT  default Tests/Fixtures/ResNetAudio/small_exported.safetensors
#   AUDIOCNN    the CLI (default .build/release/audiocnn; build it with `swift build -c release`)
#   PYTHON      default python3 (needs torch, soundfile, safetensors, numpy)
#   THREADS     PyTorch threads (default 2)
#   REPEATS     runs of each tool per file (default 1; the table shows the median wall time and
#               the largest peak RSS)
#   MINUTES     the two file lengths in minutes (default "10 60")
#   KEEP        set to 1 to keep the temporary directory (WAVs, CSV rows, timings)
set -euo pipefail

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

checkpoint=""
if [[ -n "${1:-}" ]]; then checkpoint="$(abspath "$1")"; fi
audiocnn="${AUDIOCNN:+$(abspath "$AUDIOCNN")}"
cd "$(dirname "$0")/../.."
root="$PWD"
checkpoint="${checkpoint:-$root/Tests/Fixtures/ResNetAudio/small_exported.safetensors}"
audiocnn="${audiocnn:-$root/.build/release/audiocnn}"
python="${PYTHON:-python3}"
threads="${THREADS:-2}"
repeats="${REPEATS:-1}"
read -r -a minutes <<<"${MINUTES:-10 60}"
esc50="${ESC50_DIR:-$(dirname "$root")/shared/esc50}"

if [[ ! -x "$audiocnn" ]]; then
  echo "scan.sh: $audiocnn not found; run \`swift build -c release\` first (or set AUDIOCNN)" >&2
  exit 1
fi
if [[ ! -f "$checkpoint" ]]; then
  echo "scan.sh: checkpoint $checkpoint not found" >&2
  exit 1
fi
"$python" -c 'import torch, soundfile, safetensors, numpy' 2>/dev/null || {
  echo "scan.sh: $python lacks torch/soundfile/safetensors/numpy" \
    "(pip install torch==2.13.0+cpu --find-links /opt/wheels; pip install soundfile safetensors numpy)" >&2
  exit 1
}
if [[ ! -x /usr/bin/time ]] && command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
  apt-get install -y -qq time >/dev/null 2>&1 || true
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/scan-bench.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# make_wav OUT MINUTES: a 44.1 kHz mono 16-bit WAV, written piece by piece.
make_wav() {
  "$python" - "$1" "$2" "$esc50/audio" <<'EOF'
import os, sys
import numpy as np
import soundfile as sf

out, minutes, clips_dir = sys.argv[1], float(sys.argv[2]), sys.argv[3]
SR = 44100
total = int(round(minutes * 60 * SR))
rng = np.random.default_rng(0)
clips = sorted(f for f in os.listdir(clips_dir) if f.lower().endswith((".wav", ".flac", ".ogg"))) if os.path.isdir(clips_dir) else []
clips = [clips[i] for i in rng.permutation(len(clips))]


def real_pieces():
    """ESC-50 clips in a seeded order, looped; clips at other rates are skipped."""
    usable = 0
    while True:
        for name in clips:
            x, sr = sf.read(os.path.join(clips_dir, name), dtype="float32", always_2d=True)
            if sr != SR or len(x) == 0:
                continue
            usable += 1
            yield x.mean(axis=1)
        if usable == 0:
            return


def synthetic_pieces():
    """10-s pieces of seeded noise plus a few tones that change every 5 s."""
    start = 0
    while True:
        t = (start + np.arange(10 * SR)) / SR
        x = 0.05 * rng.standard_normal(len(t))
        for k in range(2):
            seg = (t >= start / SR + 5 * k) & (t < start / SR + 5 * (k + 1))
            f = rng.uniform(100, 4000)
            x[seg] += rng.uniform(0.05, 0.4) * np.sin(2 * np.pi * f * t[seg])
        start += len(t)
        yield x.astype(np.float32)


written = 0
source = "ESC-50 clips"
pieces = real_pieces()
with sf.SoundFile(out, "w", samplerate=SR, channels=1, subtype="PCM_16", format="WAV") as f:
    for i, piece in enumerate(pieces):
        piece = piece[:total - written]
        f.write(np.clip(piece, -1.0, 1.0))
        written += len(piece)
        if written >= total:
            break
    if written < total:  # no usable clips
        source = "seeded noise and tones"
        for piece in synthetic_pieces():
            piece = piece[:total - written]
            f.write(np.clip(piece, -1.0, 1.0))
            written += len(piece)
            if written >= total:
                break
print(f"{out}: {written / SR / 60:g} min of {source}")
EOF
}

# measure TIMEFILE CMD...: runs CMD, writes "wall_seconds peak_rss_kb" to TIMEFILE.
measure() {
  local timefile="$1"
  shift
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f "%e %M" -o "$timefile" "$@"
  else
    "$python" - "$timefile" "$@" <<'EOF'
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - t
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(rc)
EOF
  fi
}

echo "checkpoint: $checkpoint"
echo "swift: $audiocnn; pytorch: $("$python" -c 'import torch; print(torch.__version__)'), $threads threads; $(nproc) cores"
for m in "${minutes[@]}"; do
  t0=$SECONDS
  make_wav "$work/scan_${m}min.wav" "$m"
  echo "  ($((SECONDS - t0)) s to write)"
done

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) (other work skews the timings)"
results="$work/results.tsv"
: >"$results"
for m in "${minutes[@]}"; do
  wav="$work/scan_${m}min.wav"
  for r in $(seq 1 "$repeats"); do
    measure "$work/swift_${m}_$r.time" "$audiocnn" predict "$wav" --checkpoint "$checkpoint" \
      --window 5 --hop 2.5 --batch 16 --format csv >"$work/swift_${m}.csv" </dev/null
    echo -e "$m\tswift\t$(cat "$work/swift_${m}_$r.time")\t-" >>"$results"
    measure "$work/torch_${m}_$r.time" "$python" "$root/Benchmarks/scan_pytorch.py" "$wav" \
      --checkpoint "$checkpoint" --window 5 --hop 2.5 --batch 16 --threads "$threads" --json \
      --rows "$work/torch_${m}.csv" >"$work/torch_${m}_$r.json" </dev/null
    echo -e "$m\ttorch\t$(cat "$work/torch_${m}_$r.time")\t$(cat "$work/torch_${m}_$r.json")" >>"$results"
    echo "  ${m} min, run $r: swift $(cut -d' ' -f1 "$work/swift_${m}_$r.time") s, pytorch $(cut -d' ' -f1 "$work/torch_${m}_$r.time") s"
  done
done

"$python" - "$results" "$work" <<'EOF'
import csv, json, statistics, sys
from collections import defaultdict

results, work = sys.argv[1], sys.argv[2]
runs = defaultdict(list)
for line in open(results):
    minutes, tool, timing, extra = line.rstrip("\n").split("\t")
    wall, rss_kb = timing.split()
    runs[(minutes, tool)].append((float(wall), float(rss_kb) / 1024, None if extra == "-" else json.loads(extra)))

order = list(dict.fromkeys(m for m, _ in runs))


def summary(m, tool):
    rs = runs[(m, tool)]
    wall = statistics.median(r[0] for r in rs)
    rss = max(r[1] for r in rs)
    hpm = (float(m) / 60) / (wall / 60)
    return wall, hpm, rss, rs


def rows(path):
    with open(path, newline="") as f:
        return [(r["start"], r["end"], r["class"], float(r["confidence"])) for r in csv.DictReader(f)]


print()
print("| file | Swift wall s | Swift h/min | Swift RSS MB | PyTorch wall s | PyTorch h/min | PyTorch RSS MB "
      "| PyTorch scan-only s | Swift/PyTorch throughput | same, vs PyTorch scan-only |")
print("|---|---|---|---|---|---|---|---|---|---|")
notes = []
for m in order:
    sw, sh, sr, _ = summary(m, "swift")
    tw, th, tr, trs = summary(m, "torch")
    scan_only = statistics.median(r[2]["wall_s"] for r in trs)
    print(f"| {m} min | {sw:.2f} | {sh:.1f} | {sr:.0f} | {tw:.2f} | {th:.1f} | {tr:.0f} | {scan_only:.2f} | {tw / sw:.2f}x | {scan_only / sw:.2f}x |")
    s, t = rows(f"{work}/swift_{m}.csv"), rows(f"{work}/torch_{m}.csv")
    same_windows = [(a[0], a[1]) for a in s] == [(b[0], b[1]) for b in t]
    if same_windows:
        agree = sum(a[2] == b[2] for a, b in zip(s, t))
        diff = max((abs(a[3] - b[3]) for a, b in zip(s, t) if a[2] == b[2]), default=0.0)
        notes.append(f"{m} min: {len(s)} windows, same start/end in both; top-1 class agrees on {agree} of {len(s)}"
                     f" (max |confidence difference| where it agrees: {diff:.4f})")
    else:
        notes.append(f"{m} min: the windows DIFFER: Swift {len(s)} rows, PyTorch {len(t)} rows"
                     f" (first Swift {s[:1]}, first PyTorch {t[:1]}; last {s[-1:]} vs {t[-1:]})")
print()
print("wall = whole process (start-up and checkpoint load included), median of runs; RSS = peak resident set,"
      " largest of runs; h/min = hours of audio per minute of wall time; throughput ratio = PyTorch wall / Swift wall.")
print("PyTorch scan-only = its reading + features + forward passes, without Python/torch start-up"
      " (~1.3 s here); the last column sets it against the whole Swift process, a bound that favours PyTorch.")
for n in notes:
    print(n)
if len(order) >= 2:
    small, large = order[0], order[-1]
    a, b = summary(small, "swift")[2], summary(large, "swift")[2]
    ta, tb = summary(small, "torch")[2], summary(large, "torch")[2]
    print(f"Swift peak RSS, {large} min vs {small} min: {b:.0f} MB vs {a:.0f} MB ({b - a:+.0f} MB, x{b / a:.2f}); "
          f"PyTorch: {tb:.0f} MB vs {ta:.0f} MB ({tb - ta:+.0f} MB)")
EOF
