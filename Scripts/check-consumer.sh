#!/usr/bin/env bash
# The suite as another Swift project uses it: builds Examples/Consumer (its own Package.swift,
# depending on this checkout by path; one executable per library product, each importing only
# that product) and runs every executable. Then checks that the in-process classifier agrees
# with PyTorch (ClassifyConsumer compares every probability with the committed fixture) and with
# `audiocnn predict --json` on the same real ESC-50 clips, and that its binary links no HTTP
# stack (no NIO or Hummingbird symbols).
# Usage: bash Scripts/check-consumer.sh   (AUDIOCNN=path/to/audiocnn, default .build/release/audiocnn;
#        ESC50_DIR, default ../shared/esc50: the clip checks are skipped, with a message, without it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
esc50=${ESC50_DIR:-$root/../shared/esc50}
audiocnn=${AUDIOCNN:-$root/.build/release/audiocnn}
checkpoint=Tests/Fixtures/ResNetAudio/small_exported.safetensors
reference=Tests/Fixtures/AudioClassification/esc50_probabilities.json
work=$(mktemp -d "${TMPDIR:-/tmp}/audiocnn-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== consumer package: swift build --package-path Examples/Consumer"
swift build --package-path Examples/Consumer --scratch-path "$root/.build-consumer"
bin=$root/.build-consumer/debug

"$bin/GradientConsumer"
"$bin/TBLoggerConsumer" "$work/tb"
"$bin/ModelConsumer" "$checkpoint"
"$bin/TrainingConsumer" "$work/train"
"$bin/DataParallelConsumer"

# (nm to a file first: under pipefail, grep -q closing the pipe early would make nm fail.)
nm "$bin/ClassifyConsumer" > "$work/symbols.txt"
[ -s "$work/symbols.txt" ]
if grep -qE 'NIO|Hummingbird' "$work/symbols.txt"; then
  echo "ClassifyConsumer links NIO or Hummingbird symbols: AudioClassification must not depend on the server" >&2
  exit 1
fi
echo "ClassifyConsumer: no NIO or Hummingbird symbols"

if [ ! -f "$esc50/meta/esc50.csv" ]; then
  echo "skipped the real-clip checks: no ESC-50 clips at $esc50"
  exit 0
fi
mapfile -t clips < <(python3 -c 'import json, sys; [print(c["file"]) for c in json.load(open(sys.argv[1]))["clips"]]' "$reference")
"$bin/MelConsumer" "$esc50/audio/${clips[0]}"
"$bin/ESC50Consumer" "$esc50"
"$bin/ClassifyConsumer" "$checkpoint" "$reference" "$esc50/audio" > "$work/consumer.jsonl"
[ -x "$audiocnn" ] || swift build -c release -Xswiftc -enable-testing --product audiocnn
"$audiocnn" predict "${clips[@]/#/$esc50/audio/}" --checkpoint "$checkpoint" --top 3 --json > "$work/predict.jsonl"
python3 - "$work/consumer.jsonl" "$work/predict.jsonl" <<'PY'
import json, sys
consumer = [json.loads(l) for l in open(sys.argv[1])]
predict = [json.loads(l) for l in open(sys.argv[2])]
assert len(consumer) == len(predict) > 0, (len(consumer), len(predict))
worst = 0.0
for a, b in zip(consumer, predict):
    assert a["file"].endswith(b["file"].split("/")[-1]), (a["file"], b["file"])
    assert [p["class"] for p in a["predictions"]] == [p["class"] for p in b["predictions"]], (a, b)
    worst = max([worst] + [abs(p["confidence"] - q["confidence"]) for p, q in zip(a["predictions"], b["predictions"])])
assert worst <= 1e-6, worst
print(f"ClassifyConsumer and audiocnn predict agree on {len(consumer)} clips (top 3, largest difference {worst:.2g})")
PY
echo "== consumer check passed"
