#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The dependency rule of docs/architecture.md ("The layers"), checked: every #include "room/..."
# in src/<room>/ must name the room itself or one of the rooms it may call. Prints each
# violation (file: included header) and exits 1 if there is any; 0 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A may_call=(
  [core]=""
  [num]="core"
  [io]="core num"
  [instrument]="core num"
  [backend]="core"
  [prep]="core num io instrument backend"
  [phasing]="core num backend"
  [hpc]="core io phasing"
  [simulate]="core num io instrument backend"
  [analysis]="core num io instrument"
  [compare]="core num io analysis"
  [api]="core io phasing"
)
rooms="core num io instrument backend prep phasing hpc simulate analysis compare api cli"
bad=0
for room in "${!may_call[@]}"; do
  [ -d "src/$room" ] || continue
  allowed=" $room ${may_call[$room]} "
  while IFS=: read -r file line; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
    [[ " $rooms " == *" $target "* ]] || continue # not a room (e.g. a kernels header)
    if [[ "$allowed" != *" $target "* ]]; then
      echo "layers: $file includes $target/ ($room may call:${may_call[$room]:- nothing})"
      bad=1
    fi
  done < <(grep -rHE '^#include "[a-z_]+/' "src/$room" || true)
done
for room in src/*/; do
  room=$(basename "$room")
  [ "$room" = cli ] && continue
  [[ -v may_call[$room] ]] || { echo "layers: src/$room/ is not in the table (tools/check-layers.sh, docs/architecture.md)"; bad=1; }
done
[ $bad -eq 0 ] && echo "layers: every include follows docs/architecture.md"
exit $bad
