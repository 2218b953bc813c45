#!/usr/bin/env bash
# Cross-compile check of the C shims: every *.c under Sources/Shims (except the generated
# protobuf-c code in _TBLoggerProto) is compiled with -O2 -Wall -Wextra -Werror for
# aarch64-linux-gnu and for x86_64-linux-gnu, with -I for the shim's own include/ directory,
# so x86-only code that is not behind `#if defined(__x86_64__)` (or a warning on either
# architecture) fails here instead of on an ARM64 machine. Compiles only (no linking, no
# `swift build`); objects go to a temporary directory.
# Needs clang (the Swift toolchain's; override with CLANG=...) and, for each non-host target,
# Debian's cross libc headers (libc6-dev-arm64-cross / libc6-dev-amd64-cross), which it installs
# when missing (needs root or sudo then).
# Usage: bash Scripts/check-shims-cross.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang}
TARGETS=(aarch64 x86_64)
host=$(uname -m)

# The target's libc headers: the host's own for the host architecture, else a Debian cross
# sysroot (--sysroot alone puts clang's builtin headers first, then that libc, never the host's).
sysroot_flags() {
  local arch=$1
  [ "$arch" = "$host" ] && return 0
  local root=/usr/$arch-linux-gnu pkg
  case "$arch" in
    aarch64) pkg=libc6-dev-arm64-cross ;;
    x86_64) pkg=libc6-dev-amd64-cross ;;
  esac
  if [ ! -f "$root/include/stdio.h" ]; then
    echo "==> installing $pkg" >&2
    local SUDO="" log
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    if ! log=$({ $SUDO apt-get update -qq &&
                 $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"; } 2>&1); then
      echo "$log" >&2
      echo "could not install $pkg" >&2
      exit 1
    fi
  fi
  echo "--sysroot=$root"
}

declare -A SYSROOT
for arch in "${TARGETS[@]}"; do SYSROOT[$arch]=$(sysroot_flags "$arch"); done

mapfile -t FILES < <(find Sources/Shims -name '*.c' -not -path 'Sources/Shims/_TBLoggerProto/*' | sort)
[ ${#FILES[@]} -gt 0 ] || { echo "no C files under Sources/Shims" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
n=0
for f in "${FILES[@]}"; do
  shim=$(echo "$f" | cut -d/ -f3)   # Sources/Shims/<shim>/...
  for arch in "${TARGETS[@]}"; do
    n=$((n + 1))
    obj="$tmp/$n.o"
    # shellcheck disable=SC2086  # SYSROOT is empty or one flag
    if out=$("$CLANG" --target="$arch-linux-gnu" ${SYSROOT[$arch]} -O2 -Wall -Wextra -Werror \
        -I "Sources/Shims/$shim/include" -c "$f" -o "$obj" 2>&1); then
      echo "ok    $arch  $f"
    else
      echo "FAIL  $arch  $f"
      echo "$out" | sed 's/^/      /'
      failed=$((failed + 1))
    fi
  done
done

echo "shims cross-compile: ${#FILES[@]} files x ${#TARGETS[@]} targets (${TARGETS[*]}), $((n - failed)) ok, $failed failed"
[ "$failed" -eq 0 ]

# The portable branches also run, on an x86-64 host: each is built with __x86_64__ undefined
# (Scripts/shims/portable_*.c) and its symbols renamed p_*. With AVX-512,
# Scripts/shims/portable_vs_avx512.c checks them against the AVX-512 branch (GEMM within 1e-4 on
# every transpose and edge shape, packing and the Winograd transforms bit for bit; where the host
# has AVX512_BF16 also the bfloat16 GEMM, its rounding and packing). With AVX2 and FMA,
# Scripts/shims/portable_vs_avx2.c checks the AVX2 Winograd transforms against them bit for bit and
# the AVX2 packed-A GEMM (and its portable twin) against float64 sums.
[ "$host" = x86_64 ] || exit 0
G=Sources/Shims/_TensorKitGEMM W=Sources/Shims/_TensorKitWinograd
"$CLANG" -O2 -c -I$G/include -I$G Scripts/shims/portable_gemm.c -o "$tmp/pg.o"
"$CLANG" -O2 -c -I$W/include -I$W Scripts/shims/portable_winograd.c -o "$tmp/pw.o"
for o in pg pw; do
  nm --defined-only "$tmp/$o.o" | awk '$2 ~ /[TD]/ && $3 ~ /^tk/ {print $3 " p_" $3}' > "$tmp/$o.map"
  objcopy --redefine-syms="$tmp/$o.map" "$tmp/$o.o"
done
for f in $G/gemm.c $G/gemm_bf16.c $G/scratch.c $G/gemm_avx2.c $W/winograd.c $W/winograd_avx2.c; do
  "$CLANG" -O2 -c -I$G/include -I$W/include "$f" -o "$tmp/$(basename "$f" .c).o"
done

# Links Scripts/shims/portable_vs_<set>.c with every object, runs it, and stops on a failure.
compare() {  # set, its name in messages
  "$CLANG" -O2 -I$G/include -I$W/include "Scripts/shims/portable_vs_$1.c" "$tmp"/gemm.o "$tmp"/gemm_bf16.o \
    "$tmp"/scratch.o "$tmp"/gemm_avx2.o "$tmp"/winograd.o "$tmp"/winograd_avx2.o "$tmp"/pg.o "$tmp"/pw.o \
    -lm -lpthread -o "$tmp/portable_vs_$1"
  if ! result=$("$tmp/portable_vs_$1"); then
    echo "portable C kernels against the $2 ones FAILED:" >&2
    echo "$result" >&2
    exit 1
  fi
  echo "portable C kernels against the $2 ones: $result"
}

if grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
  compare avx512 AVX-512
else
  echo "skipped running the portable C kernels against the AVX-512 ones: this host has no AVX-512"
fi
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  compare avx2 AVX2
else
  echo "skipped running the portable C kernels against the AVX2 ones: this host has no AVX2/FMA"
fi
