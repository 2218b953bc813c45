#!/usr/bin/env bash
# The portable kernels, in CI: TensorKit's, ResNetAudio's and AudioClassification's tests again
# with TENSORKIT_KERNELS=portable (OpenBLAS GEMM and Swift Winograd transforms everywhere, as on
# a CPU without AVX-512 or AVX2), then `audiocnn predict` on real ESC-50 clips with the default
# kernel set (AVX-512 or AVX2) and the portable one (same top-1, every probability within 1e-4),
# and the "kernels" key of `bench infer --json`.
# Needs the release test build of Scripts/test.sh. Usage: bash Scripts/check-kernels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
audiocnn=${AUDIOCNN:-.build/release/audiocnn}
esc50=${ESC50_DIR:-../shared/esc50}

echo "== TensorKit, ResNetAudio and AudioClassification tests with TENSORKIT_KERNELS=portable"
TENSORKIT_KERNELS=portable swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing \
  --filter 'TensorKitTests|ResNetAudioTests|AudioClassificationTests'

echo "== bench infer --json names the kernel set"
for kernels in portable auto; do
  line=$(TENSORKIT_KERNELS=$kernels "$audiocnn" bench infer --model small --batch 1 --iterations 1 --json | tail -n 1)
  echo "TENSORKIT_KERNELS=$kernels: $line"
  if [ "$kernels" = portable ]; then
    grep -q '"kernels": "portable"' <<<"$line"
  else
    grep -qE '"kernels": "(avx512|avx2|portable)"' <<<"$line"
  fi
done

if [ ! -f "$esc50/meta/esc50.csv" ]; then
  echo "skipped the predict comparison: no ESC-50 clips at $esc50"
  exit 0
fi
echo "== audiocnn predict, default against portable kernels"
checkpoint=Tests/Fixtures/ResNetAudio/small_exported.safetensors
mapfile -t clips < <(ls "$esc50"/audio/*.flac | head -n 12)
work=$(mktemp -d "${TMPDIR:-/tmp}/audiocnn-kernels.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$audiocnn" predict "${clips[@]}" --checkpoint "$checkpoint" --top 50 --json > "$work/default.jsonl"
TENSORKIT_KERNELS=portable "$audiocnn" predict "${clips[@]}" --checkpoint "$checkpoint" --top 50 --json > "$work/portable.jsonl"
python3 - "$work/default.jsonl" "$work/portable.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) > 0
worst = 0.0
for x, y in zip(a, b):
    assert x["file"] == y["file"]
    assert x["predictions"][0]["class"] == y["predictions"][0]["class"], (x, y)
    px = {p["class"]: p["confidence"] for p in x["predictions"]}
    py = {p["class"]: p["confidence"] for p in y["predictions"]}
    assert px.keys() == py.keys(), (x, y)
    worst = max([worst] + [abs(px[k] - py[k]) for k in px])
assert worst <= 1e-4, worst
print(f"{len(a)} clips: same top-1 with both kernel sets, largest probability difference {worst:.2g}")
PY
