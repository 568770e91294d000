#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Proves, on a developer's machine (which has every dependency installed), that a build against
# the prefix from tools/gpu-unpack.sh needs nothing from the machine's own packages, as on the
# lent GPU machine: in a private mount namespace every file of the host's copies of the
# downloaded packages is hidden behind an empty file (headers, libraries, .pc files, h5cc,
# pkgconf), except the libraries the toolchain itself loads (cmake links libcurl, ld links
# libjansson). Symlinks cannot be hidden (a bind mount lands on their target): a dev link to a
# library kept for the toolchain (libcurl.so) stays visible, so the ldd check below is what
# shows that such a library still comes from the prefix. Then it configures, builds, prints what CMake resolved, checks with ldd that every
# library of the downloaded set loads from the prefix, and runs the CPU tests.
#
# Usage (root): tools/gpu-prefix-check.sh [prefix] [build-dir] [ctest args...]
#   defaults: /tmp/gpu-prefix, /tmp/build-gpu-prefix, -LE slow
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/tmp/gpu-prefix}
build=${2:-/tmp/build-gpu-prefix}
shift $(($# > 2 ? 2 : $#))
ctest_args=("$@")
[ ${#ctest_args[@]} -gt 0 ] || ctest_args=(-LE slow)
[ -f "$prefix/deps.cmake" ] || { echo "gpu-prefix-check: no $prefix/deps.cmake (run tools/gpu-unpack.sh $prefix)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "gpu-prefix-check: needs root (unshare -m, mount --bind)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# packages whose files the toolchain loads: never hidden
toolchain=()
for b in cmake ctest make gcc cc ld as sh bash awk sed nvcc; do
  command -v "$b" >/dev/null 2>&1 && toolchain+=("$(command -v "$b")")
done
toolchain+=("$(gcc -print-prog-name=cc1)")
for b in ptxas cudafe++ fatbinary nvlink; do
  [ -x /usr/local/cuda/bin/$b ] && toolchain+=("/usr/local/cuda/bin/$b")
done
declare -A keep=()
while IFS= read -r lib; do
  real=$(readlink -f "$lib")
  for path in "$lib" "$real" "${real#/usr}"; do
    owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$owner" ] && keep[$owner]=1
  done
done < <(for b in "${toolchain[@]}"; do ldd "$b" 2>/dev/null | awk '/=> \//{print $3}'; done | sort -u)

hidden_pkgs=()
: >"$work/hide.list"
while IFS= read -r p; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || continue
  [ -n "${keep[$p]:-}" ] && continue
  hidden_pkgs+=("$p")
  dpkg -L "$p" | grep -v -e '^/usr/share/doc' -e '^/usr/share/man' -e '^/usr/share/lintian' |
    while IFS= read -r f; do if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$f"; fi; done >>"$work/hide.list"
done <.gpu-debs/PACKAGES
echo "gpu-prefix-check: hiding $(wc -l <"$work/hide.list") files of ${#hidden_pkgs[@]} installed packages: ${hidden_pkgs[*]}"
echo "gpu-prefix-check: left visible (the toolchain loads them): ${!keep[*]}"
: >"$work/empty"

unshare -m --propagation private bash -s -- "$work" "$prefix" "$build" "${ctest_args[@]}" <<'INNER'
set -euo pipefail
work=$1 prefix=$2 build=$3; shift 3
while IFS= read -r f; do mount --bind "$work/empty" "$f"; done <"$work/hide.list"
echo "inside: /usr/include/hdf5/serial/hdf5.h has $(wc -c </usr/include/hdf5/serial/hdf5.h 2>/dev/null || echo no) bytes; pkg-config on PATH: $(command -v pkg-config || echo none)"
t0=$(date +%s)
cmake -S . -B "$build" -C "$prefix/deps.cmake" -DBCDI_ENABLE_CUDA=OFF -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
grep -E '^-- (Found|  Found)' "$work/configure.log"
cmake --build "$build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
echo "gpu-prefix-check: configure + build $(( $(date +%s) - t0 )) s"
echo "resolved (CMakeCache):"
grep -E '^(HDF5_C_LIBRARY_[a-z0-9]+|TIFF_LIBRARY_RELEASE|TIFF_INCLUDE_DIR|PNG_LIBRARY_RELEASE|PNG_PNG_INCLUDE_DIR|ZLIB_LIBRARY_RELEASE|FFTW3F_OMP_LIB|PKG_CONFIG_EXECUTABLE|HDF5_C_COMPILER_EXECUTABLE):' "$build/CMakeCache.txt" | sed 's/^/  /'
grep -E '^(FFTW3F|INIH|CRITERION)_(LINK_LIBRARIES|INCLUDE_DIRS):INTERNAL' "$build/CMakeCache.txt" | sed 's/^/  /'
echo "libraries braggcdi loads (ldd):"
ldd "$build/braggcdi" | sed 's/^/  /'
bad=$(ldd "$build/braggcdi" | awk '/=> \// && $3 !~ /^'"${prefix//\//\\/}"'/ && $1 !~ /^(libc|libm|libgcc_s|libstdc\+\+|libgomp|libdl|libpthread|librt|ld-linux|libresolv)[.-]/ {print $1 " " $3}')
if [ -n "$bad" ]; then echo "gpu-prefix-check: loaded from outside the prefix:"; echo "$bad"; exit 1; fi
readelf -d "$build/braggcdi" | grep -E 'RPATH|RUNPATH' | sed 's/^/  /'
ctest --test-dir "$build" --output-on-failure "$@"
INNER
