#!/usr/bin/env bash
# Issue #15: bfloat16 training against float32 on the same seeds. For each seed, `audiocnn train
# --precision bf16` (1 TensorKit thread; two seeds at a time on the machine's 2 cores) with the
# reference recipe, ESC-10, folds 1-3 vs 4, 20 epochs, batch 32: the same data order, SpecAugment
# and MixUp draws as the float32 runs of Benchmarks/seeds_full_esc10.sh with that seed, so only
# the arithmetic differs. Per-epoch histories go to
# Benchmarks/results/full_esc10_seeds/swift-bf16[-small]-s<seed>.json; Benchmarks/summarize_seeds.py
# compares them with the float32 ones.
# Usage: bash Benchmarks/seeds_bf16_esc10.sh SEED [SEED ...]
#   MODEL (resnet34 or small, default resnet34), PRECISION (default bf16), WORK (default
#   /tmp/full_esc10_seeds), EPOCHS (default 20), AUDIOCNN (default .build/release/audiocnn),
#   TAG (the results' name, default swift-<precision>[-small]: set it when TENSORKIT_* variables
#   change the arithmetic, e.g. TAG=swift-fp32-fwd4x4 TENSORKIT_WINOGRAD_FORWARD_4X4=1)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${WORK:-/tmp/full_esc10_seeds}"
epochs="${EPOCHS:-20}"
model="${MODEL:-resnet34}"
precision="${PRECISION:-bf16}"
audiocnn="${AUDIOCNN:-.build/release/audiocnn}"
data="../shared/esc50"
results="Benchmarks/results/full_esc10_seeds"
tag="${TAG:-swift-$precision$([ "$model" = small ] && echo -small || true)}"
mkdir -p "$work" "$results"
# The results are read from each run's checkpoint with Python's safetensors: check before training.
python3 -c "import safetensors" 2>/dev/null || { echo "needs Python's safetensors: pip install safetensors" >&2; exit 1; }

run() {  # seed
  local seed=$1 out="$work/$tag-s$1"
  rm -rf "$out" "$work/runs-$tag-s$seed"
  TENSORKIT_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$audiocnn" train --data "$data" --esc10 --val-fold 4 \
    --epochs "$epochs" --model "$model" --seed "$seed" --precision "$precision" --cache "$work/cache" \
    --out "$out" --logdir "$work/runs-$tag-s$seed" > "$out.log" 2>&1 || { echo "seed $seed failed: $out.log"; return 1; }
  python3 - "$out/last.train-state.safetensors" "$results/$tag-s$seed.json" "$precision" "$model" <<'PY'
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], "np") as f:
    meta = f.metadata()
history = json.loads(meta["history"])
json.dump({"seed": json.loads(meta["training_config"])["seed"], "precision": sys.argv[3], "model": sys.argv[4],
           "history": history, "final_val_accuracy": history[-1]["validationAccuracy"],
           "best_val_accuracy": max(h["validationAccuracy"] for h in history)}, open(sys.argv[2], "w"), indent=1)
PY
  echo "seed $seed ($tag): $(tail -1 "$out.log")"
}

seeds=("$@")
for ((i = 0; i < ${#seeds[@]}; i += 2)); do
  echo "== seeds ${seeds[*]:i:2}: $(date -u +%H:%M:%S) UTC"
  pids=()
  for seed in "${seeds[@]:i:2}"; do run "$seed" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
done
