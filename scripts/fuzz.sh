#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers of untrusted files (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh build                 build .build/fuzz/meanfield-fuzz (libFuzzer + AddressSanitizer)
#   scripts/fuzz.sh TARGET SECONDS [ARGS] fuzz TARGET (idx, cifar, safetensors, config) for SECONDS,
#                                         starting from Tests/FuzzCorpus/TARGET; ARGS go to libFuzzer
#   scripts/fuzz.sh all SECONDS           build, then each target in turn (CI: .ci/run)
# Linux only (the Swift toolchain ships libFuzzer there). After changing a reader, run `build` again.
#
# Exit status 0 when no crash, leak, timeout or out-of-memory was found; otherwise libFuzzer's status,
# with the input that failed written to .build/fuzz/findings/TARGET/ (replay it with
# `.build/debug/meanfield-fuzz TARGET FILE`; a fixed finding goes to the corpus, named finding-*).
#
# Why not `swift build --sanitize fuzzer`: that instruments and rebuilds every target in a build
# folder of its own (the C of Yams and the -Ounchecked SIMD kernels included), and an earlier
# try of it did not finish on this project's 2-core machines. Here only the modules
# that hold the readers (MeanFieldModels, MeanFieldTraining) and the fuzz entry are compiled with
# `-sanitize=fuzzer,address`; the modules below them are linked from the debug build
# (`swift build --product meanfield-fuzz`, which CI has already built), uninstrumented: the kernels keep
# their unsafeFlags (-Ounchecked) and take no untrusted bytes. LeakSanitizer still sees every
# allocation. Measured: the build takes about 95 s of CPU (the two modules with -O -wmo, the link).
# MEANFIELD_FUZZ_SANITIZERS=fuzzer builds without AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.build/fuzz
targets="idx cifar safetensors config"
sanitizers="${MEANFIELD_FUZZ_SANITIZERS:-fuzzer,address}"

build() {
  local started=$SECONDS
  swift build --product meanfield-fuzz >/dev/null
  local debug
  debug=$(swift build --show-bin-path)
  # The package name SwiftPM gave the debug modules (`package` declarations cross module boundaries).
  local package
  package=$(grep -o '"-package-name","[^"]*"' .build/debug.yaml | grep -v 'swift_\|yams\|tomlkit' | head -1 | cut -d'"' -f4)
  local checkouts=.build/checkouts
  local cflags=(
    -Xcc "-fmodule-map-file=Sources/CZlib/module.modulemap"
    -Xcc "-fmodule-map-file=$checkouts/swift-numerics/Sources/_NumericsShims/include/module.modulemap"
    -Xcc -I -Xcc "$checkouts/swift-numerics/Sources/_NumericsShims/include"
    -Xcc "-fmodule-map-file=$debug/CMeanFieldSupport.build/module.modulemap"
    -Xcc -I -Xcc Sources/CMeanFieldSupport/include
    -Xcc "-fmodule-map-file=$checkouts/Yams/Sources/CYaml/include/module.modulemap"
    -Xcc -I -Xcc "$checkouts/Yams/Sources/CYaml/include"
  )
  local swiftc=(swiftc -O -wmo -swift-version 6 -package-name "$package" -sanitize="$sanitizers"
                -I "$out/Modules" -I "$debug/Modules" -module-cache-path "$out/ModuleCache" "${cflags[@]}")
  mkdir -p "$out/Modules"
  for module in MeanFieldModels MeanFieldTraining; do
    "${swiftc[@]}" -parse-as-library -module-name "$module" -emit-module -emit-module-path "$out/Modules/$module.swiftmodule" \
      -c -o "$out/$module.o" $(find "Sources/$module" -name '*.swift' | sort)
  done
  # The libraries below the readers, from the debug build (objects of C, C++ and Swift targets).
  local objects=()
  for target in CMeanFieldSupport CYaml ComplexModule MeanFieldCore MeanFieldKernels MeanFieldKernelsAVX2 \
                MeanFieldKernelsAVX512 MeanFieldProvenance Numerics RealModule SwiftProtobuf Yams _NumericsShims; do
    [ -d "$debug/$target.build" ] || continue
    while IFS= read -r object; do objects+=("$object"); done < <(find "$debug/$target.build" -name '*.o' | sort)
  done
  "${swiftc[@]}" -parse-as-library -DFUZZING -module-name meanfield_fuzz $(find Sources/meanfield-fuzz -name '*.swift' | sort) \
    "$out/MeanFieldModels.o" "$out/MeanFieldTraining.o" "${objects[@]}" -lz -o "$out/meanfield-fuzz"
  echo "built $out/meanfield-fuzz (-sanitize=$sanitizers) in $((SECONDS - started)) s"
}

fuzz() {
  local target=$1 seconds=$2
  shift 2
  case " $targets " in *" $target "*) ;; *) echo "scripts/fuzz.sh: unknown target '$target' (one of: $targets)" >&2; exit 64 ;; esac
  [ -x "$out/meanfield-fuzz" ] || build
  # libFuzzer adds what it finds to the first folder: a scratch copy, so the committed seeds stay as they are.
  local work="$out/corpus/$target" findings="$out/findings/$target"
  mkdir -p "$work" "$findings"
  # -seed: fixed (MEANFIELD_FUZZ_SEED, default 1; 0 = random), so that CI explores the same inputs
  # on every run and a result here is the result there.
  # -timeout: one input may take 10 s (a finding past it); -rss_limit_mb / -malloc_limit_mb: a reader
  # that allocates more than 2 GiB for one input is a finding (DatasetLimits.maximumBytes is 2 GiB of file).
  # The idx and cifar targets write each input to a temporary file: in memory (/dev/shm) they run
  # about 9x faster than on a disk-backed /tmp (160 vs 18 inputs/s for cifar, measured).
  local tmp="${TMPDIR:-/tmp}"
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then tmp=/dev/shm; fi
  TMPDIR="$tmp/" MEANFIELD_FUZZ_TARGET=$target ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
    LSAN_OPTIONS="suppressions=$PWD/scripts/fuzz-lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}" "$out/meanfield-fuzz" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=2560 -max_len=65536 \
    -artifact_prefix="$findings/" -print_final_stats=1 -seed="${MEANFIELD_FUZZ_SEED:-1}" "$@" "$work" "Tests/FuzzCorpus/$target"
}

case "${1:-}" in
  build) build ;;
  all)
    [ $# -ge 2 ] || { echo "usage: scripts/fuzz.sh all SECONDS" >&2; exit 64; }
    build
    for target in $targets; do
      echo "== fuzzing $target for $2 s"
      fuzz "$target" "$2"
    done ;;
  ""|-h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
  *)
    [ $# -ge 2 ] || { echo "usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags]" >&2; exit 64; }
    fuzz "$@" ;;
esac
