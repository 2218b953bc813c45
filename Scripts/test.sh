#!/usr/bin/env bash
# Runs the whole test suite (release build: the numeric tests are 10-50x slower in debug).
# Installs missing system packages first. Usage: bash Scripts/test.sh [extra swift test args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/deps.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing "$@"
