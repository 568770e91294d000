#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ctest gpu_compare_results_cpu: the CPU half of tools/gpu-verify.sh's CUDA-vs-CPU comparison.
# Two CPU reconstructions with one seed are bit-identical (FFTW estimate plans), so their
# difference after alignment is exactly 0; another seed gives a different object (> 0), which
# --max 0 reports with exit 1; results of different shapes are refused (exit 2).
set -uo pipefail
bcdi=${1:?usage: compare_results_test.sh BRAGGCDI BCDI_COMPARE_RESULTS}
compare=${2:?usage: compare_results_test.sh BRAGGCDI BCDI_COMPARE_RESULTS}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$bcdi" simulate shape=32,48,48 -q -o stack.nxs || fail simulate
"$bcdi" prepare stack.nxs box=32,32,32 -q -o prepared.cxi || fail prepare
for s in 1 1 2; do
  name=seed$s; [ -f $name.cxi ] && name=seed${s}b
  "$bcdi" phase prepared.cxi device=cpu seed=$s recipe="20*HIO + 10*ER" -q -o $name.cxi || fail "phase seed $s"
done
same=$("$compare" seed1.cxi seed1b.cxi) || fail "same seed: exit $?"
echo "same seed:      $same"
[[ $same == "COMPARE relative_error=0.000000e+00 "* ]] || fail "same seed: not exactly 0"
other=$("$compare" seed1.cxi seed2.cxi) || fail "other seed: exit $?"
echo "other seed:     $other"
err=$(sed -n 's/.*relative_error=\([^ ]*\).*/\1/p' <<<"$other")
awk -v e="$err" 'BEGIN { exit !(e > 0) }' || fail "other seed: difference $err, expected > 0"
"$compare" seed1.cxi seed2.cxi --max 0 >/dev/null
[ $? = 1 ] || fail "--max 0 on a difference: expected exit 1"
"$compare" seed1.cxi stack_truth.cxi >/dev/null 2>&1
[ $? = 2 ] || fail "different shapes (32^3 against 32x48x48): expected exit 2"
echo "compare_results: same seed 0, other seed $err, --max and shape checks as expected"
