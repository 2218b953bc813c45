#!/usr/bin/env bash
# Interop check: builds Examples/TBLoggerDemo, writes a run, reads it back with TensorBoard's own
# EventAccumulator (pip-installed if missing) and checks every value. Usage: bash Scripts/check-tensorboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product TBLoggerDemo
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
"$(swift build -c release --show-bin-path)/TBLoggerDemo" "$run"
python3 Scripts/check_tensorboard.py "$run"
