#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ctest gpu_report_fixture: tools/gpu-report.sh on the synthetic logs in tests/fixtures/gpu-verify
# (and its fused/ variant, the bench layout with fused and composed HIO columns) must produce
# these lines, each computed from the fixture's numbers (README.md there).
set -uo pipefail
src=${1:?usage: gpu_report_test.sh SOURCE_DIR}
fixture=$src/tests/fixtures/gpu-verify
out=$(bash "$src/tools/gpu-report.sh" "$fixture" fixture0) || { echo "gpu-report.sh failed"; exit 1; }
fused=$(bash "$src/tools/gpu-report.sh" "$fixture/fused" fixture1) || { echo "gpu-report.sh failed on fused/"; exit 1; }
failed=0
expect() { # text line...
  local text=$1; shift
  for line in "$@"; do
    if ! grep -F -x -q -- "$line" <<<"$text"; then
      echo "missing: $line"
      failed=1
    fi
  done
}
expect "$out" \
  '<!-- docs/gpu-verification.md -->' \
  '## 2027-01-15 — NVIDIA H200, commit fixture0 (tools/gpu-verify.sh)' \
  '- Device: NVIDIA H200 (compute capability 9.0, 143771 MiB), driver 580.159.04, CUDA 13.0 (driver), nvcc 13.0, CMake 3.31.6, gcc 13.3.0; Ubuntu 24.04.2 LTS.' \
  '- Steps (status, seconds; budget 480 s, total 470 s): facts ok 1; unpack ok 9; configure ok 21; build ok 95; checks FAIL 12; memcheck ok 40; racecheck TIMEOUT 60; initcheck skipped 0.' \
  '- GPU checks (`bcdi_gpu_checks`): 3 passed, 1 failed.' \
  '| 7x6x5 b3: fft_forward (rel L2) | 2.310e-07 | 1.0e-05 | PASS |' \
  '| 7x6x5 b3: gaussian_blur sigma 1.0,0.0,2.5 | 3.000e-05 | 1.0e-05 | FAIL |' \
  "| phase 32^3 x2 '5*HIO + 3*DM + 2*ER': CPU vs CUDA object (rel) | 4.200e-06 | 1.0e-04 | PASS |" \
  '- compute-sanitizer memcheck on `bcdi_gpu_checks --short`: ok; ERROR SUMMARY: 0 errors; checks 2 passed, 0 failed.' \
  '- compute-sanitizer racecheck on `bcdi_gpu_checks --short`: TIMEOUT.' \
  '- compute-sanitizer initcheck on `bcdi_gpu_checks --short`: skipped.' \
  '- Embedded dataset (datasets/nmc811-003-sim, prepare box=96, phase defaults, runs=2, seed=1): cuda 3.1 s, cpu 9.8 s; relative difference after alignment 1.234000e-03 (phase rms 2.000000e-03 rad, correlation 0.99999900, twinned 0, shift 0.000,0.000,0.000 voxels).' \
  '<!-- docs/performance.md -->' \
  'Device copy bandwidth (cudaMemcpy device to device, 1 GiB, read + write): 4294.9 GB/s.' \
  '| 256³ | 1 | 0.2500 | 0.2500 | 2147.484 | 50% |' \
  '| 256³ | 1 | 0.2500 | 0.3200 | 1.28 | – | 0.3000 | 0.3300 | 0.8000 | 4089.446 | 95% |' \
  '- Per-iteration time at 256³: HIO 0.3200 ms against 0.2500 ms for the two cuFFT transforms alone: 1.28× (aim ≤ 1.25×, ≤ 1.0× fused).' \
  '- Bytes per voxel per iteration: 78 modelled (aim ≤ 80); at 256³ 4089 GB/s modelled traffic, 95% of the copy bandwidth; the time at copy bandwidth corresponds to 82 B/voxel.' \
  '- 16 runs of 128³ batched: 3966 GB/s, 92% of the bandwidth bound (aim ≥ 90%).' \
  '- Device memory per run (bcdi_phase, peak of cudaMemGetInfo at progress callbacks): 17.00 B/voxel per run + 5.00 B/voxel shared = 22.00 B/voxel for one run (aim ≤ 20); the model predicts 128³ within a factor 1.000.' \
  '- Largest cube: 1792³ predicted for one run in 137.8 GiB free; allocation + cuFFT plan + one transform pair at 1792³: ok; a 10-iteration bcdi_phase at 1260³ (limited by host): ok in 60.0 s.'
expect "$fused" \
  '| 256³ | 1 | 0.2500 | 0.2400 | 0.96 | 0.3200 | 0.3000 | 0.3300 | 0.8000 | 4473.924 | ? |' \
  '- Per-iteration time at 256³: HIO 0.2400 ms against 0.2500 ms for the two cuFFT transforms alone: 0.96× (aim ≤ 1.25×, ≤ 1.0× fused).' \
  '- Bytes per voxel per iteration: 64 modelled (aim ≤ 80); at 256³ 4473.924 GB/s modelled traffic; copy bandwidth not measured.' \
  '- Embedded dataset CUDA vs CPU: not run.' \
  '- Device memory per voxel and the largest cube: not run.'
if [ "$failed" = 0 ]; then echo "gpu-report: every expected line present"; else echo "--- report was:"; echo "$out"; echo "$fused"; fi
exit "$failed"
