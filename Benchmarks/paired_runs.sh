#!/usr/bin/env bash
# Paired runs of the full model (issue #18): Swift records every step of a 20-epoch ESC-10 run
# (folds 1-3, validating on fold 4, reference recipe, batch 32): the initial weights, the inputs
# after SpecAugment and MixUp, the dropout masks and the learning rates. The same run is traced
# again with Winograd off (TENSORKIT_WINOGRAD=0, the same inputs). PyTorch then replays the very
# same steps in float32 and float64 (Benchmarks/paired_replay.py), and paired_compare.py prints
# each side's distance from float64 after steps 1, 10, 50, 150 and 160, the loss per epoch and the
# validation accuracy per epoch. The traces (~1.2 GB per run) stay in $PAIRED_DIR (default
# /tmp/audiocnn-paired); the comparison is written to Benchmarks/results/paired/s<SEED>.json.
# Usage: bash Benchmarks/paired_runs.sh SEED [F64_STEPS]     (F64_STEPS: float64 replays this many
#        steps, default 160; it is the slow part)
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:?usage: paired_runs.sh SEED [F64_STEPS]}
f64_steps=${2:-160}
audiocnn=${AUDIOCNN:-.build/release/audiocnn}
esc50=${ESC50_DIR:-../shared/esc50}
dir=${PAIRED_DIR:-/tmp/audiocnn-paired}/s$seed
mkdir -p "$dir" Benchmarks/results/paired
run=(train --data "$esc50" --esc10 --val-fold 4 --epochs 20 --batch 32 --model resnet34 --seed "$seed"
  --trace-steps 160 --trace-weights 0,1,10,50,150,160)
for variant in winograd nowinograd; do
  [ -f "$dir/$variant-out/last.train-state.safetensors" ] && continue
  rm -rf "$dir/$variant" "$dir/$variant-out" "$dir/$variant-runs"
  echo "== Swift, seed $seed, $variant"
  TENSORKIT_WINOGRAD=$([ $variant = winograd ] && echo 1 || echo 0) \
    "$audiocnn" "${run[@]}" --trace "$dir/$variant" --out "$dir/$variant-out" --logdir "$dir/$variant-runs" 2>&1 \
    | grep -E '^epoch|best validation'
done
echo "== PyTorch float32 replay"
[ -f "$dir/winograd/pytorch-float32/replay.json" ] || python3 Benchmarks/paired_replay.py "$dir/winograd" --dtype float32
echo "== PyTorch float64 replay ($f64_steps steps)"
[ -f "$dir/winograd/pytorch-float64/replay.json" ] || python3 Benchmarks/paired_replay.py "$dir/winograd" --dtype float64 --max-steps "$f64_steps"
python3 Benchmarks/paired_compare.py "$dir/winograd" --swift-state "$dir/winograd-out/last.train-state.safetensors" \
  --variant "Swift Winograd off=$dir/nowinograd,$dir/nowinograd-out/last.train-state.safetensors" \
  --json "Benchmarks/results/paired/s$seed.json"
