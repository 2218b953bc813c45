#!/usr/bin/env bash
# Load test and soak of `audiocnn serve` on loopback, driven by wrk (Docs/Reliability.md, "Load").
#
# Builds release, starts the server with a full-size ResNet-34 checkpoint with random weights
# (Scripts/reliability/make_random_resnet34.py; the cost per request is the real model's), POSTs a
# real ESC-50 clip as the API expects (Scripts/reliability/post_clip.lua) at 8, 16 and 32
# concurrent connections, then soaks at 16 connections (one wrk run). Samples the
# server's RSS every second from /proc/PID/status and prints per-phase and per-minute tables
# (Scripts/reliability/load_report.py): requests/s, p50/p99 latency, errors, RSS start/max/end.
#
# Usage: bash Scripts/load-test.sh
# Environment: PHASE_SECONDS (60) per connection count, SOAK_MINUTES (10), CONNECTIONS ("8 16 32"),
#   SOAK_CONNECTIONS (16), AUDIOCNN (a binary to use instead of building), CHECKPOINT (default: the random ResNet-34), CLIP (default: an ESC-50 clip
#   from ../shared/esc50, else a synthetic 5 s WAV), WORK (output folder), NO_BUILD=1.
# Exit status 1 if any request failed (non-2xx, socket error or timeout) or the server died.
set -euo pipefail
cd "$(dirname "$0")/.."
PHASE_SECONDS=${PHASE_SECONDS:-60}
SOAK_MINUTES=${SOAK_MINUTES:-10}
CONNECTIONS=${CONNECTIONS:-"8 16 32"}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-16}
WORK=${WORK:-$(mktemp -d /tmp/load-test.XXXXXX)}
mkdir -p "$WORK"
echo "==> results in $WORK"

if ! command -v wrk >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk
fi
if [ "${NO_BUILD:-0}" != 1 ]; then swift build -c release --product audiocnn; fi
# A private copy, so a rebuild during the run cannot replace the binary under the server.
cp "${AUDIOCNN:-$(swift build -c release --show-bin-path)/audiocnn}" "$WORK/audiocnn"

source Scripts/reliability/serve-setup.sh
prepare_request
echo "==> clip $CLIP ($(stat -c %s "$CLIP") bytes, body $(stat -c %s "$WORK/body.json") bytes), checkpoint $CHECKPOINT"

sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
}
trap cleanup EXIT
start_server
status=$(curl -s -o "$WORK/first-response.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/body.json" "$url")
[ "$status" = 200 ] || { echo "first request: HTTP $status"; cat "$WORK/first-response.json"; exit 1; }
echo "==> server pid $server on $url; first request 200 ($(stat -c %s "$WORK/first-response.json") bytes)"

# RSS every second, with the phase running at the time.
echo warmup > "$WORK/phase"
( while kill -0 "$server" 2>/dev/null; do
    echo "$(date +%s.%N) $(awk '/^VmRSS/ {print $2}' "/proc/$server/status") $(cat "$WORK/phase")"
    sleep 1
  done ) > "$WORK/rss.log" &
sampler=$!

{ echo "start: $(date -u +%FT%TZ) $(uptime)"; echo "nproc: $(nproc)"; } > "$WORK/machine.txt"
run_wrk() {  # phase connections seconds
  echo "$1" > "$WORK/phase"
  ps -eo pcpu,comm --sort=-pcpu | sed -n 2,6p | tr '\n' ';' > "$WORK/others-$1.txt"
  BODY_FILE="$WORK/body.json" COUNTS_FILE="$WORK/counts-$1.txt" wrk -t2 -c"$2" -d"$3"s --timeout 120s --latency \
    -s Scripts/reliability/post_clip.lua "$url" > "$WORK/wrk-$1.txt"
  echo "load after $1: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/machine.txt"
  tail -1 "$WORK/wrk-$1.txt"
  # When wrk stops it closes its connections with up to (connections - 1) requests still queued.
  # The server drops those from its queue without computing them (Docs/Reliability.md, "Load");
  # the one in flight still finishes. The queue is FIFO, so one more request returns only once
  # the queue is empty: each phase then starts from an idle server.
  echo drain > "$WORK/phase"
  curl -s -o /dev/null -m 300 -H 'Content-Type: application/json' --data-binary @"$WORK/body.json" "$url"
}
run_wrk warmup 4 10 > /dev/null
for c in $CONNECTIONS; do
  echo "==> $c connections for $PHASE_SECONDS s"
  run_wrk "c$c" "$c" "$PHASE_SECONDS"
done
echo "==> soak: $SOAK_CONNECTIONS connections for $SOAK_MINUTES min"
run_wrk soak "$SOAK_CONNECTIONS" $((SOAK_MINUTES * 60))
echo idle > "$WORK/phase"
sleep 5
echo "end: $(date -u +%FT%TZ) $(uptime)" >> "$WORK/machine.txt"
kill -0 "$server" || { echo "THE SERVER DIED"; cat "$WORK/server.log" | tail; exit 1; }
python3 Scripts/reliability/load_report.py "$WORK"
