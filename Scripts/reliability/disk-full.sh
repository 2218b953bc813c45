#!/usr/bin/env bash
# Out of space while `audiocnn train` writes its checkpoints (Docs/Reliability.md, "Crashes"):
#  1. --out on a 2 MiB tmpfs (needs root): epoch 1's files fit (1.6 MB), epoch 2's state file
#     does not (the old files stay until the new one is complete). Expect a clear error naming
#     the file and "No space left on device", no temporary file, epoch 1's checkpoint loading;
#     then the tmpfs is grown and --resume finishes.
#  2. A file-size limit (ulimit -f 512, i.e. 512 KiB; no root needed): EFBIG on the 936 KB state
#     file of epoch 2, same checks.
# Final weights are compared with an uninterrupted run (bit for bit).
# Usage: bash Scripts/reliability/disk-full.sh AUDIOCNN_BINARY DATA_DIR WORK_DIR
set -uo pipefail
bin=$1 data=$2 work=$3
mkdir -p "$work"
train() { "$bin" train --data "$data" --model small --epochs 4 --batch 16 --seed 0 --val-fold 5 --cache "$work/cache" "$@"; }
same() {
  python3 - "$1" "$2" <<'PY'
import sys, numpy as np
from safetensors.numpy import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
ok = a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
print("bit-identical to the uninterrupted run:", "yes" if ok else "NO")
sys.exit(0 if ok else 1)
PY
}
check_after_failure() {  # out
  echo "files left: $(ls -A "$1" | tr '\n' ' ')"
  ls -A "$1" | grep -q '\.tmp$' && echo "A TEMPORARY FILE WAS LEFT" && fail=1
  "$bin" evaluate --checkpoint "$1/last.safetensors" --data "$data" --fold 5 --png "$work/confusion.png" 2>&1 | head -1 \
    | sed 's/^/previous checkpoint loads: /'
  python3 -c 'import sys; from safetensors import safe_open; print("epochs in state / last:", safe_open(sys.argv[1] + "/last.train-state.safetensors", "np").metadata()["epochs_completed"], "/", safe_open(sys.argv[1] + "/last.safetensors", "np").metadata()["epoch"])' "$1"
}
fail=0
rm -rf "$work/reference" && train --out "$work/reference/ckpt" --logdir "$work/reference/runs" > /dev/null 2>&1

echo "== 1. tmpfs of 2 MiB"
mnt="$work/tmpfs"
mkdir -p "$mnt"
if mount -t tmpfs -o size=2m tmpfs "$mnt" 2>/dev/null; then
  train --out "$mnt/ckpt" --logdir "$work/tmpfs-runs" > /dev/null 2> "$work/tmpfs.err"
  echo "exit status $? ; last line of the error output:"; tail -1 "$work/tmpfs.err"
  grep -q "No space left on device" "$work/tmpfs.err" || { echo "NO ENOSPC ERROR"; fail=1; }
  check_after_failure "$mnt/ckpt"
  mount -o remount,size=16m "$mnt"
  train --out "$mnt/ckpt" --logdir "$work/tmpfs-runs" --resume > /dev/null 2>&1 && echo "--resume after growing the tmpfs: finished"
  same "$mnt/ckpt/last.safetensors" "$work/reference/ckpt/last.safetensors" || fail=1
  umount "$mnt"
else
  echo "cannot mount a tmpfs (not root?); skipped"
fi

echo "== 2. ulimit -f 512 (KiB)"
out="$work/ulimit/ckpt"
rm -rf "$work/ulimit"
train --out "$out" --logdir "$work/ulimit/runs" --stop-after 1 > /dev/null 2>&1
( ulimit -f 512; train --out "$out" --logdir "$work/ulimit/runs" --resume > /dev/null 2> "$work/ulimit.err" )
echo "exit status $? ; last line of the error output:"; tail -1 "$work/ulimit.err"
grep -q "File too large" "$work/ulimit.err" || { echo "NO EFBIG ERROR"; fail=1; }
check_after_failure "$out"
train --out "$out" --logdir "$work/ulimit/runs" --resume > /dev/null 2>&1 && echo "--resume without the limit: finished"
same "$out/last.safetensors" "$work/reference/ckpt/last.safetensors" || fail=1
exit $fail
