#!/usr/bin/env bash
# The orphaned-request scenario of Docs/Reliability.md ("Load"): wrk with 16 connections, then at
# once wrk with 32. When the first wrk stops it closes its connections with up to 15 requests
# still queued; a server that computes them anyway keeps its queue full and answers the second
# wrk's requests 503. Prints both runs' counts, the 503s and the server's /health counters.
#
# Usage: bash Scripts/reliability/orphan-burst.sh [path/to/audiocnn]
# Environment: SECONDS_EACH (20), FIRST (16), SECOND (32), CHECKPOINT (default: a random
#   full-size ResNet-34 made by make_random_resnet34.py), CLIP (default: an ESC-50 clip, else a
#   synthetic 5 s WAV), WORK (output folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
AUDIOCNN=${1:-$(swift build -c release --show-bin-path)/audiocnn}
SECONDS_EACH=${SECONDS_EACH:-20}
FIRST=${FIRST:-16}
SECOND=${SECOND:-32}
WORK=${WORK:-$(mktemp -d /tmp/orphan-burst.XXXXXX)}
mkdir -p "$WORK"
cp "$AUDIOCNN" "$WORK/audiocnn"
source Scripts/reliability/serve-setup.sh
prepare_request

trap '[ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT
start_server
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @"$WORK/body.json" "$url"
echo "load before: $(uptime)"
for c in "$FIRST" "$SECOND"; do
  BODY_FILE="$WORK/body.json" wrk -t2 -c"$c" -d"$SECONDS_EACH"s --timeout 120s \
    -s Scripts/reliability/post_clip.lua "$url" > "$WORK/wrk-c$c.txt"
  # wrk's summary: "Non-2xx or 3xx responses: N" when there were any.
  non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$WORK/wrk-c$c.txt")
  total=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk-c$c.txt")
  echo "c$c ${SECONDS_EACH}s: $total responses, ${non2xx:-0} non-2xx"
done
echo "load after: $(uptime)"
echo "health: $(curl -s "http://127.0.0.1:$port/health" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("inference", "no inference counters (server before the fix)"))')"
