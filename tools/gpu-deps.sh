#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Download, here, the Debian 12 packages that the lent GPU machine needs to configure, build and
# test braggcdi: that machine has nvcc, CMake and gcc but no FFTW/HDF5/TIFF/PNG/inih/Criterion and
# no registry. The .debs go to a git-ignored folder that the device call carries
# (docs/gpu-verification.md); tools/gpu-unpack.sh unpacks them into a prefix there.
#
# Usage: tools/gpu-deps.sh [dest-dir]       (default .gpu-debs; about a minute)
#
# Resolution: from the -dev packages below, follow Depends recursively, but
#  - into runtime packages only: a -dev package that is not a root is needed only for static
#    linking (libtiff-dev -> libwebp-dev, ...) and is not followed;
#  - never into the base every machine with a C toolchain has (glibc, libgcc, libstdc++, the
#    compiler's own libgomp: a Debian copy in the rpath would shadow the newer compiler's);
#  - not into libraries braggcdi never loads (FFTW's double/long/quad, HDF5's C++/Fortran).
# The device machine's carry limit is 64 MiB for the whole tree: the total is printed and the
# script fails above BUDGET_MIB.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.gpu-debs}
budget_mib=${BUDGET_MIB:-40}

roots=(
  libfftw3-dev libhdf5-dev libtiff-dev libpng-dev zlib1g-dev libinih-dev
  libcriterion-dev libjansson-dev libcminpack-dev pkgconf
  # HDF5's h5cc wrapper, which CMake's FindHDF5 asks first, names -lcrypto -lcurl -lsz
  libaec-dev libcurl4-openssl-dev libssl-dev
)
# on every machine with gcc (and so on the device); a copy of these in the prefix could shadow
# the machine's newer ones
base=(
  libc6 libc6-dev libgcc-s1 gcc-12-base libstdc++6 libgomp1 libcrypt1 libcrypt-dev
  linux-libc-dev libnsl2 libnsl-dev libtirpc3 libtirpc-dev libtirpc-common debconf
  perl-base dpkg libselinux1 libpcre2-8-0 libbz2-1.0 libmd0
)
# runtime packages braggcdi's build never links (their .so links stay dangling, unused)
prune=(
  libfftw3-double3 libfftw3-long3 libfftw3-quad3 libfftw3-bin
  libhdf5-fortran-102 libhdf5-hl-fortran-100 libhdf5-cpp-103-1 libhdf5-hl-cpp-100
  libinireader0
)

if ! apt-cache show --no-all-versions libhdf5-dev >/dev/null 2>&1; then
  echo "gpu-deps: apt lists are empty: running apt-get update" >&2
  apt-get update -qq
fi

declare -A skip=() seen=() is_root=()
for p in "${base[@]}" "${prune[@]}"; do skip[$p]=1; done
for p in "${roots[@]}"; do is_root[$p]=1; done

# One apt-cache call for many packages (each call takes seconds): for every real package named,
# deps[p] = its Depends and Pre-Depends as alternative groups "a|b" separated by spaces, version
# constraints and architecture qualifiers removed. Virtual packages get no entry.
declare -A deps=() queried=()
query() {
  local todo=() p
  for p in "$@"; do [ -n "${queried[$p]:-}" ] || { todo+=("$p"); queried[$p]=1; }; done
  [ ${#todo[@]} -gt 0 ] || return 0
  local name list
  while IFS=$'\t' read -r name list; do deps[$name]=$list; done < <(
    apt-cache show --no-all-versions "${todo[@]}" 2>/dev/null | awk '
      /^Package:/ { name = $2; list = "" }
      /^(Pre-)?Depends:/ { sub(/^[^:]*: */, ""); n = split($0, groups, /, */)
        for (i = 1; i <= n; i++) { g = groups[i]; gsub(/ *\([^)]*\)/, "", g); gsub(/:any/, "", g)
          gsub(/ /, "", g); list = list " " g } }
      /^$/ { if (name != "") print name "\t" list; name = "" }
      END { if (name != "") print name "\t" list }')
}

# Breadth first from the roots; an alternative group takes the first member already chosen or
# skipped, else the first real one.
order=()
frontier=("${roots[@]}")
while [ ${#frontier[@]} -gt 0 ]; do
  query "${frontier[@]}"
  taken=()
  for p in "${frontier[@]}"; do
    [ -n "${seen[$p]:-}" ] && continue
    seen[$p]=1
    [ -n "${skip[$p]:-}" ] && continue
    case $p in *-doc) continue ;; esac
    [[ $p == *-dev && -z ${is_root[$p]:-} ]] && continue
    [ -n "${deps[$p]+x}" ] || { echo "gpu-deps: no package '$p'" >&2; exit 1; }
    order+=("$p")
    taken+=("$p")
  done
  alternatives=()
  for p in "${taken[@]}"; do for g in ${deps[$p]}; do alternatives+=(${g//|/ }); done; done
  [ ${#alternatives[@]} -gt 0 ] && query "${alternatives[@]}"
  frontier=()
  for p in "${taken[@]}"; do
    for g in ${deps[$p]}; do
      chosen=""
      for alt in ${g//|/ }; do [ -n "${seen[$alt]:-}" ] && { chosen=$alt; break; }; done
      if [ -z "$chosen" ]; then
        for alt in ${g//|/ }; do [ -n "${deps[$alt]+x}" ] && { chosen=$alt; break; }; done
      fi
      [ -n "$chosen" ] && frontier+=("$chosen")
    done
  done
done

mkdir -p "$dest"
# a previous download's packages that are no longer wanted would travel for nothing
want=" ${order[*]} "
for f in "$dest"/*.deb; do
  [ -e "$f" ] || continue
  name=$(basename "$f"); name=${name%%_*}
  [[ $want == *" $name "* ]] || rm -f "$f"
done
echo "gpu-deps: ${#order[@]} packages: ${order[*]}"
(cd "$dest" && apt-get download -qq "${order[@]}" 2>&1 | grep -v "unsandboxed" || true)
missing=0
for p in "${order[@]}"; do
  ls "$dest/${p}_"*.deb >/dev/null 2>&1 || { echo "gpu-deps: $p was not downloaded" >&2; missing=1; }
done
printf '%s\n' "${order[@]}" >"$dest/PACKAGES"
bytes=$(du -cb "$dest"/*.deb | tail -1 | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "gpu-deps: $(ls "$dest"/*.deb | wc -l) .debs, $mib MiB in $dest (budget $budget_mib MiB)"
[ "$missing" -eq 0 ] || exit 1
if awk -v b="$bytes" -v m="$budget_mib" 'BEGIN { exit !(b > m * 1048576) }'; then
  echo "gpu-deps: over the budget: the device call carries at most 64 MiB in all" >&2
  exit 1
fi
