#!/usr/bin/env bash
# Regenerates TBLogger's protobuf-c code from the committed .proto files, then checks those files
# against the descriptors of the installed `tensorboard` Python package.
# Needs protoc-c (Debian: protobuf-c-compiler) and python3 with tensorboard; CI does not
# run this: the generated C is committed.
# Usage: bash Scripts/regen-tbproto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
T=Sources/Shims/_TBLoggerProto
P=$T/proto
mapfile -t FILES < <(cd "$P" && find . -name '*.proto' | sed 's#^\./##' | sort)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --proto_path="$P" --c_out="$tmp" "${FILES[@]}"
rm -rf "$T/generated" "$T/include/tensorboard" "$T/include/google"
(cd "$tmp" && find . -name '*.pb-c.c') | while read -r f; do
  mkdir -p "$T/generated/$(dirname "$f")"; mv "$tmp/$f" "$T/generated/$f"; done
(cd "$tmp" && find . -name '*.pb-c.h') | while read -r f; do
  mkdir -p "$T/include/$(dirname "$f")"; mv "$tmp/$f" "$T/include/$f"; done
echo "generated: $(find "$T/generated" "$T/include" -name '*.pb-c.*' | wc -l) files with $(protoc-c --version | head -1)"
protoc-c --proto_path="$P" --include_imports --descriptor_set_out="$tmp/set.pb" "${FILES[@]}"
python3 Scripts/proto/verify_tbproto.py "$tmp/set.pb"
