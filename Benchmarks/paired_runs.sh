#!/usr/bin/env bash
# Paired runs of the full model (issue #18). Swift records every step of a 20-epoch ESC-10 run
# (folds 1-3, validating on fold 4, reference recipe, batch 32, 1 thread as in
# Benchmarks/seeds_full_esc10.sh): the initial weights, the inputs after SpecAugment and MixUp,
# the dropout masks, learning rates and β₁ (`audiocnn train --trace`). PyTorch then replays the
# very same steps (Benchmarks/paired_replay.py) in float32, and in float64 as the reference both
# are judged against; paired_compare.py prints each side's distance from float64 after steps 1,
# 10, 50, 150 and 160, the loss and the validation accuracy per epoch.
#
#   bash Benchmarks/paired_runs.sh swift SEED [winograd|nowinograd]   the Swift run and its trace
#   bash Benchmarks/paired_runs.sh replay SEED float32|float64 [STEPS] PyTorch's replay (1 thread)
#   bash Benchmarks/paired_runs.sh compare SEED                        the table; writes
#                                                     Benchmarks/results/paired/s<SEED>.json
# Traces (~1.2 GB per run) stay in $PAIRED_DIR (default /tmp/audiocnn-paired). Threads:
# $PAIRED_THREADS (default 1) on both sides, so a Swift run and a replay can share 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: paired_runs.sh swift|replay|compare SEED ...}
seed=${2:?usage: paired_runs.sh swift|replay|compare SEED ...}
threads=${PAIRED_THREADS:-1}
audiocnn=${AUDIOCNN:-.build/release/audiocnn}
esc50=${ESC50_DIR:-../shared/esc50}
dir=${PAIRED_DIR:-/tmp/audiocnn-paired}/s$seed
mkdir -p "$dir" Benchmarks/results/paired
case "$what" in
  swift)
    variant=${3:-winograd}
    rm -rf "${dir:?}/$variant" "$dir/$variant-out" "$dir/$variant-runs"
    TENSORKIT_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads TENSORKIT_WINOGRAD=$([ "$variant" = winograd ] && echo 1 || echo 0) \
      "$audiocnn" train --data "$esc50" --esc10 --val-fold 4 --epochs 20 --batch 32 --model resnet34 --seed "$seed" \
      --trace "$dir/$variant" --trace-steps 160 --trace-weights 0,1,10,50,150,160 \
      --out "$dir/$variant-out" --logdir "$dir/$variant-runs" 2>&1 | grep -E '^epoch|best validation'
    ;;
  replay)
    dtype=${3:?float32 or float64}
    python3 Benchmarks/paired_replay.py "$dir/winograd" --dtype "$dtype" --threads "$threads" --max-steps "${4:-160}"
    ;;
  compare)
    variants=()
    if [ -f "$dir/nowinograd-out/last.train-state.safetensors" ]; then
      variants=(--variant "Swift, Winograd off=$dir/nowinograd,$dir/nowinograd-out/last.train-state.safetensors")
    fi
    python3 Benchmarks/paired_compare.py "$dir/winograd" --swift-state "$dir/winograd-out/last.train-state.safetensors" \
      "${variants[@]}" --json "Benchmarks/results/paired/s$seed.json"
    ;;
  *) echo "usage: paired_runs.sh swift|replay|compare SEED ..." >&2; exit 2 ;;
esac
