#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Configure, build and run every test (Criterion unit tests + GPU checks, which report
# "skipped: no CUDA device" where none answers). Usage: tools/run-tests.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
# serial: the tests run OpenMP on every core already; two at once on 2 cores oversubscribe
ctest --test-dir "$build" --output-on-failure
