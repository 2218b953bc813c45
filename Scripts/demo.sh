#!/usr/bin/env bash
# The main job. Installs missing system packages, builds in release mode and runs `audiocnn demo`.
# Usage: bash Scripts/demo.sh [demo options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/deps.sh
swift build -c release --product audiocnn
exec .build/release/audiocnn demo "$@"
