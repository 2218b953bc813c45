#!/usr/bin/env bash
# A real two-host run on one machine: two network namespaces ("hosts" 10.77.0.1 and 10.77.0.2)
# joined by a veth pair, one rank in each, Open MPI over TCP only (no shared memory), mpirun
# reaching the second host through an rsh agent that enters its namespace instead of ssh.
# Trains the small model on ESC-10 (folds 1-3, validating on fold 4) for a few epochs, then the
# same run as 2 ranks on one host, and compares: the same accuracy and the same weights.
# Needs root (ip netns), openmpi-bin, the release build and ../shared/esc50.
# With --bench instead of EPOCHS: `audiocnn bench train --batch 16` of the full model on the two
# hosts and on one host (1 thread per rank), for the allreduce time per step over TCP.
# Usage: bash Scripts/mpi/two-hosts.sh [EPOCHS | --bench]
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-3}
audiocnn=$(realpath "${AUDIOCNN:-.build/release/audiocnn}")
esc50=$(realpath "${ESC50_DIR:-../shared/esc50}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d "${TMPDIR:-/tmp}/audiocnn-hosts.XXXXXX")
cleanup() {
  ip netns del acnn-a 2> /dev/null || true
  ip netns del acnn-b 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cleanup
mkdir -p "$work"

echo "== two hosts: namespaces acnn-a (10.77.0.1) and acnn-b (10.77.0.2), one veth pair"
ip netns add acnn-a
ip netns add acnn-b
ip link add acnn-veth-a type veth peer name acnn-veth-b
ip link set acnn-veth-a netns acnn-a
ip link set acnn-veth-b netns acnn-b
ip -n acnn-a addr add 10.77.0.1/24 dev acnn-veth-a
ip -n acnn-b addr add 10.77.0.2/24 dev acnn-veth-b
for ns in acnn-a acnn-b; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "acnn-veth-${ns#acnn-}" up
done
ip -n acnn-a -br addr show acnn-veth-a; ip -n acnn-b -br addr show acnn-veth-b

# mpirun's "ssh": the host is the first argument that is not an option; enter its namespace.
cat > "$work/netns-agent" << 'AGENT'
#!/usr/bin/env bash
while [[ "$1" == -* ]]; do shift; done
host=$1
shift
case "$host" in
  10.77.0.1) ns=acnn-a ;;
  10.77.0.2) ns=acnn-b ;;
  *) echo "netns-agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
AGENT
chmod +x "$work/netns-agent"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hostfile"

hosts=(ip netns exec acnn-a mpirun -np 2 --hostfile "$work/hostfile" --mca plm_rsh_agent "$work/netns-agent")
if [ "$epochs" = --bench ]; then
  bench=(bench train --batch 16 --iterations 4 --json)
  echo "== bench train --batch 16, 2 ranks on two hosts (TCP over the veth pair)"
  "${hosts[@]}" --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
    -x TENSORKIT_NUM_THREADS=1 "$audiocnn" "${bench[@]}" | tail -n 1
  echo "== 2 ranks on one host (shared memory)"
  mpirun -np 2 -x TENSORKIT_NUM_THREADS=1 "$audiocnn" "${bench[@]}" | tail -n 1
  echo "== 1 process, 2 threads"
  TENSORKIT_NUM_THREADS=2 "$audiocnn" "${bench[@]}" | tail -n 1
  exit 0
fi
train=(train --data "$esc50" --esc10 --val-fold 4 --model small --epochs "$epochs" --batch 32 --seed 3)
tcp=(--mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24)
echo "== 2 ranks on two hosts (TCP over the veth pair)"
"${hosts[@]}" "${tcp[@]}" \
  -x TENSORKIT_NUM_THREADS=1 \
  bash -c 'echo "rank $OMPI_COMM_WORLD_RANK runs in network namespace $(ip netns identify $$) on $(hostname)" >&2; exec "$0" "$@"' \
  "$audiocnn" "${train[@]}" --out "$work/hosts" --logdir "$work/hosts-runs" > "$work/hosts.log" 2>&1
grep -E 'runs in network namespace|MCW rank' "$work/hosts.log" | sort -u
grep -vE 'runs in network namespace|MCW rank|^warning:' "$work/hosts.log" | grep -v '^\s*$' | tail -n "$((epochs + 3))"

echo "== 2 ranks on one host (shared memory)"
mpirun -np 2 -x TENSORKIT_NUM_THREADS=1 "$audiocnn" "${train[@]}" --out "$work/local" --logdir "$work/local-runs" 2>&1 \
  | grep -v '^warning:' | tail -n "$((epochs + 3))"

echo "== the two runs"
for run in hosts local; do
  echo -n "$run: "
  "$audiocnn" evaluate --checkpoint "$work/$run/last.safetensors" --data "$esc50" --fold 4 --png "$work/$run.png" 2>&1 \
    | grep -i '^accuracy' | head -n 1
done
python3 Scripts/mpi/compare_checkpoints.py "$work/hosts/last.safetensors" "$work/local/last.safetensors" --tolerance 0
