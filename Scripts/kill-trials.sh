#!/usr/bin/env bash
# Crash trials of `audiocnn train` (Docs/Reliability.md, "Crashes"): builds release and runs
# Scripts/reliability/kill_trials.py: 20 runs of the small model on the demo's synthetic data set,
# each killed with SIGKILL at a random time or during a checkpoint write, then checked (checkpoints
# load, TensorBoard reads the logs, --resume finishes bit-identical to an uninterrupted run).
# Usage: bash Scripts/kill-trials.sh [--trials 20] [--epochs 8] [--work DIR]
# Needs python3 with numpy, safetensors and tensorboard, and strace. NO_BUILD=1 skips the build;
# AUDIOCNN=path uses that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
work=/tmp/audiocnn-kill-trials
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if ! command -v strace >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq strace
fi
if [ "${NO_BUILD:-0}" != 1 ]; then swift build -c release --product audiocnn; fi
mkdir -p "$work"
# A private copy, so a rebuild during the trials cannot replace the binary under them.
cp "${AUDIOCNN:-$(swift build -c release --show-bin-path)/audiocnn}" "$work/audiocnn"
echo "start: $(date -u +%FT%TZ) $(uptime)"
python3 Scripts/reliability/kill_trials.py --bin "$work/audiocnn" --work "$work" "${args[@]}"
echo "end: $(date -u +%FT%TZ) $(uptime)"
