#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, build folder build-fuzz) and
# run each for a while; one line per target says how it went (docs/security.md, "Fuzzing and
# sanitizers").
#
#   tools/fuzz.sh                 every target, 60 s each
#   tools/fuzz.sh 600             every target, 10 minutes each
#   tools/fuzz.sh 300 fuzz_tiff   one target (several names: several targets)
#   tools/fuzz.sh --list          the targets (fuzz_hdf5, raw HDF5 bytes, runs only when named:
#                                 it finds libhdf5's own crashes on damaged files)
#
# Inputs that reach new code are kept in .fuzz-corpus/<target>/ (git-ignored), so a later run
# starts where this one stopped; each run also reads the committed seeds
# (tests/fuzz/corpus/<target>/) and the binary seeds made at build time by bcdi_fuzz_seeds.
# A crash, leak, timeout or undefined behaviour stops that target: its input is saved as
# .fuzz-corpus/artifacts/<target>/crash-* (or leak-, timeout-, oom-) and its log as
# .fuzz-corpus/logs/<target>.log; replay it with `build-fuzz/tests/fuzz/<target> <file>`. A timeout
# is replayed at once, alone: one that does not recur (a stalled machine) is reported, not failed.
# Exit status: 0 when every target ran clean, 1 otherwise.
#
# Environment: BCDI_FUZZ_BUILD (build folder, default build-fuzz), BCDI_FUZZ_CORPUS (default
# .fuzz-corpus), CC (default clang; must be clang), BCDI_FUZZ_JOBS (build jobs, default nproc),
# BCDI_FUZZ_TIMEOUT (seconds one input may take, default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BCDI_FUZZ_BUILD:-build-fuzz}
corpus_root=${BCDI_FUZZ_CORPUS:-.fuzz-corpus}
timeout=${BCDI_FUZZ_TIMEOUT:-25}
seconds=60
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
list_only=0
if [ "${1:-}" = "--list" ]; then list_only=1; shift; fi

cc=${CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz.sh: $cc not found (install clang and libclang-rt-14-dev: tools/install-deps.sh)" >&2
  exit 1
fi
jobs=${BCDI_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DBCDI_FUZZ=ON -DBCDI_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target bcdi_fuzz >"$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log" >&2; exit 1; }
rm -f "$build.configure.log" "$build.build.log"

fuzz_dir=$build/tests/fuzz
mapfile -t defaults <"$fuzz_dir/targets.txt"
mapfile -t extra <"$fuzz_dir/extra.txt"
if [ $list_only -eq 1 ]; then
  printf '%s\n' "${defaults[@]}"
  printf '%s (only when named)\n' "${extra[@]}"
  exit 0
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${defaults[@]}")
for t in "${targets[@]}"; do
  if [[ ! " ${defaults[*]} ${extra[*]} " =~ " $t " ]]; then
    echo "fuzz.sh: no target '$t' (targets: ${defaults[*]} ${extra[*]})" >&2
    exit 2
  fi
done

seeds=$build/fuzz-seeds
rm -rf "$seeds"
"$fuzz_dir/bcdi_fuzz_seeds" "$seeds"

# detect_leaks: LeakSanitizer after every input; allocator_may_return_null with a size cap: an
# allocation sized from a hostile header fails (the reader must say "out of memory") instead
# of taking the machine's memory; the suppressions list third-party leaks only.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

# the targets write each input into a folder of this run's own (tests/fuzz/fuzz_common.c), removed
# here even when a target ends by _Exit (a timeout or crash skips its atexit cleanup)
input_root=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/bcdi-fuzz-run.XXXXXX")
trap 'rm -rf "$input_root"' EXIT
export BCDI_FUZZ_INPUT_DIR=$input_root
mkdir -p "$corpus_root/logs"
failed=0
for t in "${targets[@]}"; do
  kept=$corpus_root/$t
  artifacts=$corpus_root/artifacts/$t
  log=$corpus_root/logs/$t.log
  mkdir -p "$kept" "$artifacts"
  dirs=("$kept")
  [ -d "tests/fuzz/corpus/$t" ] && dirs+=("tests/fuzz/corpus/$t")
  [ -d "$seeds/$t" ] && dirs+=("$seeds/$t")
  # a dictionary: made from the key tables (config targets) or kept in tests/fuzz/dict
  dict=()
  for d in "$seeds/$t.dict" "tests/fuzz/dict/$t.dict"; do
    if [ -f "$d" ]; then dict=(-dict="$d"); break; fi
  done
  rm -f "$log.replay"
  before=$(find "$kept" -type f | wc -l)
  rc=0
  # -timeout: one input taking longer is a hang; -rss_limit_mb: the whole process
  "$fuzz_dir/$t" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=3072 \
    -malloc_limit_mb=1100 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "${dirs[@]}" \
    >"$log" 2>&1 || rc=$?
  after=$(find "$kept" -type f | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  if [ $rc -ne 0 ] && grep -q 'ERROR: libFuzzer: timeout' "$log" && [ -f "$artifact" ]; then
    # libFuzzer's timeout is wall-clock time: a stalled machine (a paused VM, a clock step)
    # trips it too. The input is replayed alone in a fresh process under the same limit; only
    # a timeout that replays is a hang (the input stays in artifacts/ either way).
    start=$(date +%s.%N)
    replay_rc=0
    "$fuzz_dir/$t" -timeout="$timeout" -rss_limit_mb=3072 -malloc_limit_mb=1100 -runs=1 \
      -artifact_prefix="$artifacts/replay-" "$artifact" >"$log.replay" 2>&1 || replay_rc=$?
    took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    if [ $replay_rc -eq 0 ]; then
      printf '%-22s ok      %10s runs; a timeout did not replay (%s ran in %s s alone; log %s)\n' \
        "$t" "${runs:-?}" "$artifact" "$took" "$log"
      continue
    fi
  fi
  if [ $rc -eq 0 ]; then
    printf '%-22s ok      %10s runs in %4s s, corpus %5s (+%s)\n' "$t" "${runs:-?}" "$seconds" \
      "$after" "$((after - before))"
  else
    failed=1
    kind=$(grep -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^ ]*: [a-z-]+|runtime error: .*|SUMMARY: [A-Za-z]+: .*' "$log" | head -1 | cut -c1-100)
    [ -f "$log.replay" ] && log="$log (replayed: $log.replay)"
    printf '%-22s FAILED  %s; input %s; log %s\n' "$t" "${kind:-exit $rc}" "${artifact:-none}" "$log"
  fi
done
exit $failed
