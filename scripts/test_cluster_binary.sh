#!/usr/bin/env bash
# Checks that a cluster binary (scripts/build_cluster_binary.sh) runs where the Swift toolchain is
# absent: in a private mount namespace (unshare -m) whose toolchain folder is hidden under an empty
# tmpfs, it prints its version, trains the demo for a few steps and writes its report. As a control,
# the ordinary debug binary (linked against the toolchain's libswiftCore.so) must fail there.
#
# Usage:  scripts/test_cluster_binary.sh [BINARY]   (default: .build/cluster/meanfield)
# Needs root or unprivileged user namespaces; otherwise it checks ldd only and says why it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(readlink -f "${1:-.build/cluster/meanfield}")"
say() { printf 'test_cluster_binary: %s\n' "$*"; }
[ -x "$bin" ] || { say "FAILED: no binary $bin (run scripts/build_cluster_binary.sh)" >&2; exit 1; }
if ldd "$bin" | grep -E 'swift|Foundation|dispatch|BlocksRuntime'; then say "FAILED: $bin links the toolchain libraries above" >&2; exit 1; fi
toolchain="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"   # e.g. /opt/swift/usr
if ! unshare -m --propagation private true 2>/dev/null; then
  say "SKIPPED the hidden-toolchain run: unshare -m is not permitted here (ldd shows no toolchain library)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
control=""
[ -x .build/debug/meanfield ] && control="$(readlink -f .build/debug/meanfield)"
unshare -m --propagation private bash -euo pipefail -c '
  toolchain="$1"; bin="$2"; work="$3"; control="$4"
  mount -t tmpfs none "$toolchain"
  [ ! -e "$toolchain/lib/swift" ] || { echo "the toolchain is still visible" >&2; exit 1; }
  if [ -n "$control" ]; then
    if "$control" --version >"$work/control.log" 2>&1; then echo "control: the debug binary ran without the toolchain: the folder is not hidden" >&2; exit 1; fi
    echo "test_cluster_binary: control: the toolchain-linked debug binary fails here: $(head -n 1 "$work/control.log")"
  fi
  "$bin" --version
  "$bin" demo --steps 20 --heads 2 --ffn-units 2 --layers 1 --batch-size 16 --threads 1 --out "$work/demo" >"$work/demo.log" 2>&1
  grep -q "\"status\" *: *\"completed\"" "$work/demo/summary.json" || { echo "demo did not complete: $(tail -n 3 "$work/demo.log")" >&2; exit 1; }
  "$bin" report "$work/demo" >/dev/null
  [ -s "$work/demo/report.html" ] || { echo "no report.html" >&2; exit 1; }
' _ "$toolchain" "$bin" "$work" "$control"
say "OK: $bin ran --version, demo (20 steps, completed) and report with $toolchain hidden"
