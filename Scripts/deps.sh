#!/usr/bin/env bash
# Installs the Debian packages the suite needs, if any are missing, and says which.
# Usage: bash Scripts/deps.sh   (needs root or sudo on a machine that lacks them)
set -euo pipefail
PACKAGES=(pkg-config libopenblas-dev libsndfile1-dev libfftw3-dev libsoxr-dev libprotobuf-c-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing missing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
