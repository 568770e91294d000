#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) build of braggcdi and its
# tests (clang, RelWithDebInfo, CUDA off), then every test labelled `unit` under the
# sanitizers, one ctest run per test (docs/security.md, "Fuzzing and sanitizers"). The
# braggcdi the CLI tests start is the instrumented one too.
#
#   tools/sanitize-tests.sh [build-dir]        default build-san
#
# Any sanitizer report fails the test that triggered it (halt_on_error; -fno-sanitize-recover
# at build time), and LeakSanitizer reports every leak when a process exits: the test
# executables, each test Criterion forks, and every braggcdi run. One line per test.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-san}
cc=${CC:-clang}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DBCDI_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$jobs"

# Every report goes to a file (log_path), one per process, under a folder per test: a report
# from a test Criterion forked, or from a braggcdi run whose output a test captured, would
# otherwise pass unseen (Criterion does not fail a test whose child leaked at exit; ctest shows
# the output of failed tests only). A test with a report fails below, whatever ctest said.
reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# detect_leaks: LeakSanitizer at every exit; the suppressions name third-party leaks only, and
# match only on whole stacks (fast_unwind_on_malloc=0: the fast unwinder stops at the first
# library built without frame pointers, before the frame a suppression names).
base_asan="detect_leaks=1:fast_unwind_on_malloc=0:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS_BASE="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"

mapfile -t tests < <(ctest --test-dir "$build" -N -L unit | sed -n 's/^ *Test *#[0-9]*: *//p')
failed=()
for t in "${tests[@]}"; do
  mkdir -p "$reports/$t"
  rc=0
  ASAN_OPTIONS="$base_asan:log_path=$PWD/$reports/$t/report:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="$UBSAN_OPTIONS_BASE:log_path=$PWD/$reports/$t/report:${UBSAN_OPTIONS:-}" \
    ctest --test-dir "$build" -R "^$t\$" --output-on-failure --timeout 1200 >"$reports/$t.log" 2>&1 ||
    rc=$?
  seconds=$(sed -n 's/.*Passed *\([0-9.]*\) sec.*/\1/p; s/.*Failed *\([0-9.]*\) sec.*/\1/p' "$reports/$t.log" | head -1)
  if [ -n "$(ls -A "$reports/$t")" ]; then
    failed+=("$t")
    printf '%-24s SANITIZER REPORT (%s s):\n' "$t" "${seconds:-?}"
    cat "$reports/$t"/report.* | head -60
  elif [ $rc -ne 0 ]; then
    failed+=("$t")
    printf '%-24s FAILED (%s s):\n' "$t" "${seconds:-?}"
    tail -40 "$reports/$t.log"
  else
    printf '%-24s ok (%s s)\n' "$t" "${seconds:-?}"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitize-tests: ${#failed[@]} of ${#tests[@]} failed: ${failed[*]} (reports in $reports)"
  exit 1
fi
echo "sanitize-tests: all ${#tests[@]} unit tests clean under ASan + UBSan + LeakSanitizer"
