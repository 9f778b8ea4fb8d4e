#!/usr/bin/env bash
# Builds the `meanfield` binary for compute nodes without the Swift toolchain: release build with the
# Swift standard library, Foundation and Dispatch linked in statically (--static-swift-stdlib). It
# builds into .build/release like `swift build -c release`, with other flags: switching between the
# two rebuilds every module (the static binary is as fast, so it can serve both).
# The binary then needs only the system's C libraries (libc, libm, libstdc++, libgcc_s, zlib);
# OpenBLAS stays optional (loaded at run time when present). Checks that with ldd.
#
# Usage:  scripts/build_cluster_binary.sh [DEST]    (default DEST: .build/cluster/meanfield)
# Then copy DEST to the cluster's shared filesystem and check it there: scripts/test_cluster_binary.sh DEST
# Takes about as long as a clean release build (docs/cluster.md gives the numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-.build/cluster/meanfield}"
build=(swift build -c release --product meanfield --static-swift-stdlib)
start=$(date +%s)
"${build[@]}"
bin="$("${build[@]}" --show-bin-path)/meanfield"
mkdir -p "$(dirname "$dest")"
[ "$bin" -ef "$dest" ] || cp "$bin" "$dest"
libs="$(ldd "$dest" | awk '{print $1}')"
from_toolchain="$(grep -E 'swift|Foundation|dispatch|BlocksRuntime' <<<"$libs" || true)"
if [ -n "$from_toolchain" ]; then
  echo "build_cluster_binary: $dest still links toolchain libraries: $(tr '\n' ' ' <<<"$from_toolchain")" >&2
  exit 1
fi
echo "build_cluster_binary: $dest ($(du -h "$dest" | cut -f1), built in $(( $(date +%s) - start )) s) needs only: $(tr '\n' ' ' <<<"$libs")"
