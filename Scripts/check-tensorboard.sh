#!/usr/bin/env bash
# Interop check: builds Examples/TBLoggerDemo, writes a run, reads it back with TensorBoard's own
# EventAccumulator and checks every value (Scripts/check_tensorboard.py).
# When python3 cannot import tensorboard, installs it from PyPI into .venv-tbcheck (and, on a bare
# Debian, python3-venv first, as Scripts/deps.sh installs system packages).
# Usage: bash Scripts/check-tensorboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  echo "==> installing $*"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

command -v python3 >/dev/null || apt_install python3 python3-venv
PY=python3
if ! python3 -c 'import tensorboard, numpy' 2>/dev/null; then
  venv=.venv-tbcheck
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; apt_install python3-venv; python3 -m venv "$venv"; }
  fi
  "$venv/bin/python" -c 'import tensorboard' 2>/dev/null || "$venv/bin/python" -m pip install --quiet tensorboard
  PY="$venv/bin/python"
fi

swift build -c release --product TBLoggerDemo
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
bin="$(swift build -c release --show-bin-path)"
"$bin/TBLoggerDemo" "$run/full"
# A run whose process dies without close(): the background flush must have saved its points.
( ulimit -c 0; status=0; "$bin/TBLoggerDemo" --crash "$run/crashed" || status=$?; echo "$status" > "$run/crash-status" ) 2>/dev/null
[ "$(cat "$run/crash-status")" = 134 ] || { echo "TBLoggerDemo --crash did not abort"; exit 1; }
"$PY" Scripts/check_tensorboard.py "$run/full" "$run/crashed"
