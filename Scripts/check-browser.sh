#!/usr/bin/env bash
# Browser check (CI): headless Chromium loads `audiocnn serve`'s page, uploads a clip, and the
# rendered DOM is asserted (three predictions, one drawn canvas per feature map), then a 12-s
# upload must show the timeline of its windows and a clicked window its own analysis. Keeps a
# screenshot in ${BROWSER_CHECK_OUT:-.build/browser-check}/page.png.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium
fi
python3 -c "import websocket" 2>/dev/null || pip install -q websocket-client
python3 -c "import numpy, soundfile" 2>/dev/null || pip install -q numpy soundfile
# Scripts/test.sh has built the release binaries with -enable-testing; reuse that build.
swift build -c release -Xswiftc -enable-testing --product audiocnn
python3 Scripts/check_browser.py --audiocnn .build/release/audiocnn \
  --checkpoint Tests/Fixtures/AudioClassification/esc10_small_trained.safetensors \
  --out "${BROWSER_CHECK_OUT:-.build/browser-check}"
