# Shared by Scripts/load-test.sh and Scripts/reliability/orphan-burst.sh (sourced, not run):
# the request body and a server on a free loopback port, from a copy of the binary at
# "$WORK/audiocnn".
#
# prepare_request: CHECKPOINT (default: a random full-size ResNet-34 in $WORK, made by
#   make_random_resnet34.py) and CLIP (default: an ESC-50 clip from ../shared/esc50, else a
#   synthetic 5 s WAV); writes the API's JSON body to $WORK/body.json.
# start_server: starts `audiocnn serve` with $CHECKPOINT, logging to $WORK/server.log; sets
#   `server` (its PID), `port` and `url`. Exits 1 if the server dies or never reports its port.
# Run from the repository root.

prepare_request() {
  if [ -z "${CHECKPOINT:-}" ]; then
    CHECKPOINT="$WORK/resnet34-random.safetensors"
    [ -f "$CHECKPOINT" ] || python3 Scripts/reliability/make_random_resnet34.py "$CHECKPOINT"
  fi
  if [ -z "${CLIP:-}" ]; then
    CLIP=../shared/esc50/audio/1-100032-A-0.flac
    if [ ! -f "$CLIP" ]; then
      CLIP="$WORK/synthetic.wav"
      python3 -c 'import sys, numpy as np, soundfile as sf; t = np.arange(5 * 44100) / 44100
rng = np.random.default_rng(0); sf.write(sys.argv[1], (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32), 44100, subtype="PCM_16")' "$CLIP"
    fi
  fi
  python3 -c 'import base64, json, sys; json.dump({"audio_data": base64.b64encode(open(sys.argv[1], "rb").read()).decode()}, open(sys.argv[2], "w"))' \
    "$CLIP" "$WORK/body.json"
}

start_server() {
  : > "$WORK/server.log"  # exists before the port is looked for in it
  "$WORK/audiocnn" serve --checkpoint "$CHECKPOINT" --port 0 > "$WORK/server.log" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/server.log")
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "the server did not report its port"; exit 1; }
  url="http://127.0.0.1:$port/"
}
