#!/usr/bin/env bash
# The main job. Installs missing system packages, builds in release mode and runs `audiocnn demo`.
# Usage: bash Scripts/demo.sh [demo options]   (AUDIOCNN_DEMO_QUICK=1 adds --quick, as CI does)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/deps.sh
# The same build flags as Scripts/test.sh, so the README's two commands share one build.
swift build -c release -Xswiftc -enable-testing --product audiocnn
args=()
[ "${AUDIOCNN_DEMO_QUICK:-0}" = "1" ] && args+=(--quick)
exec .build/release/audiocnn demo "${args[@]}" "$@"
