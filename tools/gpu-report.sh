#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Turn the logs of tools/gpu-verify.sh into two dated markdown blocks: one for
# docs/gpu-verification.md (device, driver, CUDA, commit, steps, every check with its measured
# error and tolerance, sanitizers, CUDA vs CPU on the embedded dataset) and one for
# docs/performance.md (copy bandwidth, FFT pairs, phasing iterations against the FFT pair, bytes
# per voxel, device memory per voxel, batched efficiency, the largest cube).
#
# Usage: tools/gpu-report.sh DIR [commit]
#   DIR: the logs folder, or the device call's $OUT folder (its logs.tar.gz is unpacked).
#   commit: names the commit when the logs do not (the device machine has no .git); default: this
#   checkout's HEAD (run it in the checkout that was sent).
# bash + awk only (no Python needed on CI).
set -euo pipefail
dir=${1:?usage: tools/gpu-report.sh DIR [commit]}
tmp=""
trap '[ -n "$tmp" ] && rm -rf "$tmp"' EXIT
if [ ! -f "$dir/summary.txt" ] && [ -f "$dir/logs.tar.gz" ]; then
  tmp=$(mktemp -d)
  tar -xzf "$dir/logs.tar.gz" -C "$tmp"
  dir=$tmp/logs
fi
[ -f "$dir/summary.txt" ] || { echo "gpu-report: no summary.txt in $dir" >&2; exit 2; }
log() { ls "$dir"/[0-9][0-9]-"$1".log 2>/dev/null | head -1 || true; }
facts=$(log facts)
# the argument first: the device machine's copy of .git can lag behind the working tree that was
# sent (on 2026-12-04 its facts named the commit before the one that ran)
commit=${2:-}
if [ -z "$commit" ]; then
  commit=$( [ -n "$facts" ] && sed -n 's/^FACT commit=//p' "$facts" | head -1 || true)
fi
if [ -z "$commit" ] || [ "$commit" = unknown ]; then
  commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
fi

# FACT key=value / key="quoted value" lines -> "key value" pairs, prefixed by the FACT's first word
facts_of() { # file
  [ -n "$1" ] && [ -f "$1" ] || return 0
  awk '/^FACT /{ kind = $2; line = substr($0, 6)
    if (kind ~ /=/) kind = ""; else line = substr(line, length(kind) + 2)
    while (match(line, /^[a-z_0-9]+=("[^"]*"|[^ ]*)/)) {
      kv = substr(line, 1, RLENGTH); eq = index(kv, "="); v = substr(kv, eq + 1); gsub(/"/, "", v)
      print (kind == "" ? "" : kind ".") substr(kv, 1, eq - 1) "\t" v
      line = substr(line, RLENGTH + 1); sub(/^ +/, "", line) } }' "$1"
}
declare -A F=()
while IFS=$'\t' read -r k v; do F[$k]=$v; done < <(facts_of "$facts"; facts_of "$(log device)")
get() { echo "${F[$1]:-${2-?}}"; }

date_utc=$(get date "")
day=${date_utc%%T*}
[ -n "$day" ] || day=$(date -u +%Y-%m-%d)
device=$(get gpu.name "$(get device.name 'no device')")
status_of() {
  awk -v s="$1" '$1 == "STEP" && $3 == s { sub(/status=/, "", $4); st = $4 } END { print (st == "" ? "not run" : st) }' "$dir/summary.txt"
}

# ---- docs/gpu-verification.md -------------------------------------------------------------------
echo "<!-- docs/gpu-verification.md -->"
echo "## $day — $device, commit $commit (tools/gpu-verify.sh)"
echo
echo "- Device: $device (compute capability $(get gpu.compute_cap "$(get device.cc)"), $(get gpu.memory "$(get device.total_bytes) B")),"\
  "driver $(get gpu.driver), CUDA $(get driver_cuda) (driver), nvcc $(get nvcc), CMake $(get cmake), gcc $(get gcc); $(get os)."
echo "- Steps (status, seconds; budget $(awk '$1 == "TOTAL" { sub(/budget=/, "", $3); print $3 }' "$dir/summary.txt") s,"\
  "total $(awk '$1 == "TOTAL" { sub(/seconds=/, "", $2); print $2 }' "$dir/summary.txt") s):"\
  "$(awk '$1 == "STEP" { sub(/status=/, "", $4); sub(/seconds=/, "", $5); printf "%s%s %s %s", sep, $3, $4, $5; sep = "; " }' "$dir/summary.txt")."
checks=$(log checks)
if [ -n "$checks" ] && grep -q '^CHECK ' "$checks"; then
  echo "- GPU checks (\`bcdi_gpu_checks\`): $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$checks" | tail -1 || echo 'no closing line (crashed or stopped)')."
  echo
  echo "| check | measured | tolerance | result |"
  echo "| --- | --- | --- | --- |"
  awk '/^CHECK / { line = substr($0, 7); at = index(line, " measured=")
    name = substr(line, 1, at - 1); sub(/ +$/, "", name); rest = substr(line, at + 1)
    split(rest, w, " "); m = w[1]; t = w[2]; r = w[3]; sub(/measured=/, "", m); sub(/tolerance=/, "", t)
    printf "| %s | %s | %s | %s |\n", name, m, t, r }' "$checks"
  echo
else
  echo "- GPU checks: $(status_of checks), no check lines."
fi
for s in memcheck racecheck initcheck; do
  l=$(log "$s")
  st=$(status_of "$s")
  summary_line=$( [ -n "$l" ] && grep -h 'ERROR SUMMARY' "$l" | tail -1 | sed 's/^=* *//' || true)
  pc=$( [ -n "$l" ] && grep -h -E '^[0-9]+ passed, [0-9]+ failed' "$l" | tail -1 || true)
  echo "- compute-sanitizer $s on \`bcdi_gpu_checks --short\`: $st${summary_line:+; $summary_line}${pc:+; checks $pc}."
done
ds=$(log dataset)
if [ -n "$ds" ] && grep -q '^COMPARE' "$ds"; then
  keys=$(sed -n 's/^phase keys added: //p' "$ds" | head -1)
  echo "- Embedded dataset (datasets/nmc811-003-sim, prepare box=96, phase defaults${keys:+ + $keys}, runs=2, seed=1):"\
    "$(awk '/^TIME phase/ { sub(/device=/, "", $3); sub(/seconds=/, "", $4); printf "%s%s %s s", sep, $3, $4; sep = ", " }' "$ds");"\
    "$(awk '/^COMPARE/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "relative difference after alignment %s (phase rms %s rad, correlation %s, twinned %s, shift %s voxels)", v["relative_error"], v["phase_rms"], v["correlation"], v["twinned"], v["shift"] }' "$ds")$(grep -q '^dry:' "$ds" && echo ' [dry run: CPU against CPU]' || true)$(
      awk '/^ROUNDING/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "; two CPU runs that differ only in FFTW'"'"'s planner (rounding) differ by %s (correlation %s)", v["relative_error"], v["correlation"] }' "$ds")$(
      awk '/^QUALITY/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        out = out sep v["run"] " " v["fourier_error"]; sep = ", " } END { if (out != "") printf "; best runs'"'"' Fourier error: %s", out }' "$ds")."
else
  echo "- Embedded dataset CUDA vs CPU: $(status_of dataset)."
fi
echo

# ---- docs/performance.md ------------------------------------------------------------------------
copy=$(get copy.gbs_read_write "")
echo "<!-- docs/performance.md -->"
echo "## $day — $device, commit $commit (tools/gpu-verify.sh)"
echo
if [ -n "$copy" ]; then copy_text="$copy GB/s"; else copy_text="not measured"; fi
echo "Device copy bandwidth (cudaMemcpy device to device, 1 GiB, read + write): $copy_text."
echo
json_rows() { # file: one line "key=value ..." per object of the "results" array (any layout:
  # braggcdi bench writes one key per line); objects nested in a result are left out
  [ -f "$1" ] || return 0
  awk '{ text = text $0 " " }
    END { at = index(text, "\"results\""); if (!at) exit
      text = substr(text, at); depth = 0; object = ""
      for (i = 1; i <= length(text); i++) { c = substr(text, i, 1)
        if (c == "{") { depth++; continue }
        if (c == "}") { depth--; if (depth == 0) { row(object); object = "" }; continue }
        if (depth == 1) object = object c
        if (depth == 0 && c == "]") break } }
    function row(line,   out, kv, k, v) { out = ""
      while (match(line, /"[A-Za-z_0-9]+": *("[^"]*"|[-0-9.eE+a-z]+)/)) {
        kv = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
        k = kv; sub(/":.*/, "", k); sub(/^"/, "", k); v = kv; sub(/^"[^"]*": */, "", v); gsub(/"/, "", v)
        out = out k "=" v " " }
      print out }' "$1"
}
fft_json=$dir/bench-fft.json
if [ -f "$fft_json" ]; then
  echo "**FFT pairs** (\`braggcdi bench\`, cuFFT, batched plan, 32 B/voxel per pair):"
  echo
  echo "| size | batch | ms/pair | ms/run | GB/s | % of copy |"
  echo "| --- | --- | --- | --- | --- | --- |"
  json_rows "$fft_json" | awk -v copy="${copy:-0}" '{ delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s³ | %s | %s | %s | %s | %s |\n", v["size"], v["batch"], v["ms_per_pair"], v["ms_per_run"], v["gb_per_s"],
      (copy > 0 ? sprintf("%.0f%%", 100 * v["gb_per_s"] / copy) : "?") }'
  echo
fi
ph_json=$dir/bench-phasing.json
model=""
if [ -f "$ph_json" ]; then
  # modelled bytes per voxel: the fused figure when the bench reports one, else the composed one
  modelled=$(tr '\n' ' ' <"$ph_json" | grep -o '"modelled_bytes_per_voxel": *{[^}]*}' || true)
  model=$(echo "$modelled" | grep -o '"fused_ER_HIO_RAAR": *[0-9.]*' | grep -o '[0-9.]*$' ||
    echo "$modelled" | grep -o '"HIO": *[0-9.]*' | grep -o '[0-9.]*$' || true)
  composed=$(echo "$modelled" | grep -o '"ER_HIO_RAAR": *[0-9.]*' | grep -o '[0-9.]*$' || echo "$model")
  echo "**Phasing iterations** (\`braggcdi bench mode=phasing\`; HIO/pair = one HIO iteration over the two cuFFT"
  echo "transforms alone; iteration GB/s = modelled bytes ($model B/voxel$( [ "$composed" != "$model" ] && echo ", composed $composed" || true)) × voxels × runs / time):"
  echo
  echo "| size | batch | FFT pair ms | HIO ms | HIO/pair | composed HIO ms | ER ms | RAAR ms | DM ms | HIO GB/s | % of copy |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  json_rows "$ph_json" | awk -v copy="${copy:-0}" '{ delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    hio = ("ms_hio_fused" in v) ? v["ms_hio_fused"] : v["ms_HIO"]
    comp = ("ms_hio_composed" in v) ? v["ms_hio_composed"] : "–"
    er = ("ms_er" in v) ? v["ms_er"] : v["ms_ER"]; raar = ("ms_raar" in v) ? v["ms_raar"] : v["ms_RAAR"]
    dm = ("ms_dm" in v) ? v["ms_dm"] : v["ms_DM"]
    gbs = ("gbs_hio_fused" in v) ? v["gbs_hio_fused"] : v["gbs_HIO"]
    printf "| %s³ | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s |\n", v["size"], v["batch"], v["ms_fft_pair"], hio,
      (v["ms_fft_pair"] > 0 ? hio / v["ms_fft_pair"] : 0), comp, er, raar, dm, gbs,
      (copy > 0 ? sprintf("%.0f%%", 100 * gbs / copy) : "?") }'
  echo
fi

echo "**Figures against the aims** (issue 13):"
echo
fig() { # size batch field
  json_rows "$ph_json" | awk -v s="$1" -v b="$2" -v f="$3" '{ delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["size"] == s && v["batch"] == b) { if (f == "hio") print (("ms_hio_fused" in v) ? v["ms_hio_fused"] : v["ms_HIO"])
      else if (f == "gbs") print (("gbs_hio_fused" in v) ? v["gbs_hio_fused"] : v["gbs_HIO"]); else print v[f] } }'
}
if [ -f "$ph_json" ]; then
  pair=$(fig 256 1 ms_fft_pair); hio=$(fig 256 1 hio); gbs=$(fig 256 1 gbs); gbs16=$(fig 128 16 gbs)
  awk -v p="$pair" -v h="$hio" -v g="$gbs" -v c="${copy:-0}" -v m="$model" -v g16="$gbs16" 'BEGIN {
    if (p > 0) printf "- Per-iteration time at 256³: HIO %s ms against %s ms for the two cuFFT transforms alone: %.2f× (aim ≤ 1.25×, ≤ 1.0× fused).\n", h, p, h / p
    if (c > 0 && g > 0) printf "- Bytes per voxel per iteration: %s modelled (aim ≤ 80); at 256³ %.0f GB/s modelled traffic, %.0f%% of the copy bandwidth; the time at copy bandwidth corresponds to %.0f B/voxel.\n", m, g, 100 * g / c, m * c / g
    else printf "- Bytes per voxel per iteration: %s modelled (aim ≤ 80); at 256³ %s GB/s modelled traffic; copy bandwidth not measured.\n", m, g
    if (c > 0 && g16 > 0) printf "- 16 runs of 128³ batched: %.0f GB/s, %.0f%% of the bandwidth bound (aim ≥ 90%%).\n", g16, 100 * g16 / c }'
else
  echo "- Phasing benchmark: not run."
fi
if [ -n "$(get memory_model.one_run_bytes_per_voxel "")" ]; then
  echo "- Device memory per run (bcdi_phase, peak of cudaMemGetInfo at progress callbacks): $(get memory_model.per_run_bytes_per_voxel) B/voxel per run +"\
    "$(get memory_model.shared_bytes_per_voxel) B/voxel shared = $(get memory_model.one_run_bytes_per_voxel) B/voxel for one run (aim ≤ 20);"\
    "the model predicts 128³ within a factor $(get memory_model.predicted_128_over_measured)."
  echo "- Largest cube: $(get largest_predicted.size)³ predicted for one run in $(awk -v b="$(get largest_predicted.free_bytes 0)" 'BEGIN { printf "%.1f", b / 1073741824 }') GiB free;"\
    "allocation + cuFFT plan + one transform pair at $(get largest_probe.size)³: $(get largest_probe.status);"\
    "a 10-iteration bcdi_phase at $(get largest_phase.size)³ (limited by $(get largest_phase_plan.limited_by)): $(get largest_phase.status) in $(get largest_phase.seconds) s."
else
  echo "- Device memory per voxel and the largest cube: $(status_of device)."
fi
