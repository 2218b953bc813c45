#!/usr/bin/env bash
# Issue #18: the full model's held-out accuracy over many seeds, Swift and PyTorch side by side.
# For each seed, `audiocnn train` (1 TensorKit thread) and Benchmarks/train_pytorch.py (1 torch
# thread) run at the same time on the machine's 2 cores, so both sides see the same load: the
# reference recipe, full model, ESC-10, folds 1-3 vs 4, 20 epochs, batch 32.
# Each run's per-epoch history goes to Benchmarks/results/full_esc10_seeds/{swift,pytorch}-s<seed>.json
# (small JSON files, committed as they finish); checkpoints stay in $WORK.
# Usage: bash Benchmarks/seeds_full_esc10.sh SEED [SEED ...]
#   WORK (default /tmp/full_esc10_seeds), EPOCHS (default 20), AUDIOCNN (default .build/release/audiocnn)
#   MASK_END: torchaudio (default; PyTorch results in pytorch-tamask-s<seed>.json) or legacy (the
#     SpecAugment mask end of the PyTorch runs before 2026-12-03 07:30 UTC, pytorch-s<seed>.json)
#   SIDES: both (default) or pytorch (PyTorch only, two seeds at a time, one thread each)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${WORK:-/tmp/full_esc10_seeds}"
epochs="${EPOCHS:-20}"
audiocnn="${AUDIOCNN:-.build/release/audiocnn}"
data="../shared/esc50"
results="Benchmarks/results/full_esc10_seeds"
mask_end="${MASK_END:-torchaudio}"
sides="${SIDES:-both}"
[ "$mask_end" = legacy ] && torch_prefix=pytorch || torch_prefix=pytorch-tamask
mkdir -p "$work" "$results"
# The Swift results are read from each run's checkpoint with Python's safetensors: check first.
python3 -c "import safetensors" 2>/dev/null || { echo "needs Python's safetensors: pip install safetensors" >&2; exit 1; }
run_pytorch() { # SEED
  python3 Benchmarks/train_pytorch.py --data "$data" --epochs "$epochs" --seed "$1" --threads 1 --mask-end "$mask_end" \
    --features-cache "$work/features.npz" --json "$results/$torch_prefix-s$1.json" > "$work/$torch_prefix-s$1.log" 2>&1
}
if [ "$sides" = pytorch ]; then
  set -- "$@" ""
  while [ "$#" -gt 1 ]; do
    echo "== pytorch ($mask_end masks) seeds $1 ${2:-}: $(date -u +%H:%M:%S) UTC"
    run_pytorch "$1" & first=$!
    [ -n "$2" ] && { run_pytorch "$2" & second=$!; } || second=
    wait "$first" || { echo "pytorch run failed: $work/$torch_prefix-s$1.log"; exit 1; }
    [ -z "$second" ] || wait "$second" || { echo "pytorch run failed: $work/$torch_prefix-s$2.log"; exit 1; }
    shift; [ "$#" -gt 1 ] && shift
  done
  exit 0
fi
for seed in "$@"; do
  echo "== seed $seed: $(date -u +%H:%M:%S) UTC"
  rm -rf "$work/swift-s$seed" "$work/runs-s$seed"
  TENSORKIT_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$audiocnn" train --data "$data" --esc10 --val-fold 4 \
    --epochs "$epochs" --model resnet34 --seed "$seed" --cache "$work/cache" \
    --out "$work/swift-s$seed" --logdir "$work/runs-s$seed" > "$work/swift-s$seed.log" 2>&1 &
  swift_pid=$!
  run_pytorch "$seed" &
  torch_pid=$!
  wait "$swift_pid" || { echo "swift run failed: $work/swift-s$seed.log"; exit 1; }
  wait "$torch_pid" || { echo "pytorch run failed: $work/$torch_prefix-s$seed.log"; exit 1; }
  python3 - "$work/swift-s$seed/last.train-state.safetensors" "$results/swift-s$seed.json" <<'PY'
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], "np") as f:
    meta = f.metadata()
history = json.loads(meta["history"])
json.dump({"seed": json.loads(meta["training_config"])["seed"], "history": history,
           "final_val_accuracy": history[-1]["validationAccuracy"],
           "best_val_accuracy": max(h["validationAccuracy"] for h in history)}, open(sys.argv[2], "w"), indent=1)
PY
  echo "   swift: $(tail -1 "$work/swift-s$seed.log")"
  echo "   pytorch: $(python3 -c "import json; r=json.load(open('$results/$torch_prefix-s$seed.json')); print('final', r['final_val_accuracy'], 'best', r['best_val_accuracy'])")"
done
