#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Unpack the .debs that tools/gpu-deps.sh downloaded into a prefix (never into /) and fix what
# unpacking without dpkg's configuration leaves wrong, so that CMake finds every dependency there:
#  - absolute symlinks (libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13) point into the prefix;
#  - pkg-config files and the HDF5/libpng wrapper scripts name /usr: rewritten to PREFIX/usr;
#  - a Requires.private naming a .pc file that is not in the prefix (Criterion's boxfort, libgit2,
#    nanomsg: only a static link needs them, and gpu-deps.sh does not download their -dev) is
#    dropped, else pkg-config refuses the whole package;
#  - PREFIX/bin/pkg-config runs the unpacked pkgconf on the prefix's .pc files only.
# It writes PREFIX/deps.cmake, an initial cache for `cmake -C` that points CMake at the prefix and
# links executables with an RPATH (DT_RPATH, which also covers the libraries' own dependencies,
# e.g. libhdf5 -> libcurl -> libssl) to the prefix's library folders: nothing needs
# LD_LIBRARY_PATH, and the machine's own tools never load the prefix's libraries.
#
# Usage: tools/gpu-unpack.sh PREFIX [debs-dir]     (debs-dir defaults to .gpu-debs)
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
prefix=${1:?usage: tools/gpu-unpack.sh PREFIX [debs-dir]}
debs=${2:-.gpu-debs}
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
prefix=${prefix%/}
if [ -z "$prefix" ] || [ "$prefix" = / ] || [ "$prefix" = /usr ]; then
  echo "gpu-unpack: refusing to unpack into '$prefix/'" >&2
  exit 2
fi
ls "$debs"/*.deb >/dev/null 2>&1 || { echo "gpu-unpack: no .deb in $debs (run tools/gpu-deps.sh)" >&2; exit 2; }
mkdir -p "$prefix"

# dpkg-deb where there is one; else ar + tar; else python3 (tarfile reads xz and zstd-less debs)
extract() {
  if command -v dpkg-deb >/dev/null 2>&1; then
    dpkg-deb -x "$1" "$prefix"
  elif command -v ar >/dev/null 2>&1 && command -v tar >/dev/null 2>&1; then
    local member
    member=$(ar t "$1" | grep '^data\.tar')
    ar p "$1" "$member" | tar -x -C "$prefix" --auto-compress -f - 2>/dev/null ||
      ar p "$1" "$member" | tar -x -C "$prefix" -J -f -
  else
    python3 - "$1" "$prefix" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"!<arch>\n", "not a .deb"
at = 8
while at < len(data):
    name = data[at:at + 16].decode().strip().rstrip("/")
    size = int(data[at + 48:at + 58])
    body = data[at + 60:at + 60 + size]
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    at += 60 + size + (size & 1)
PY
  fi
}
count=0
for deb in "$debs"/*.deb; do
  extract "$deb"
  count=$((count + 1))
done

# absolute symlinks inside the prefix
while IFS= read -r link; do
  target=$(readlink "$link")
  ln -sfn "$prefix$target" "$link"
done < <(find "$prefix" -type l -lname '/*')

# .pc files: /usr -> PREFIX/usr; Requires.private limited to the .pc files present
pcdirs=("$prefix/usr/lib/x86_64-linux-gnu/pkgconfig" "$prefix/usr/share/pkgconfig" "$prefix/usr/lib/pkgconfig")
present=" "
for d in "${pcdirs[@]}"; do
  [ -d "$d" ] || continue
  for pc in "$d"/*.pc; do present+="$(basename "$pc" .pc) "; done
done
for d in "${pcdirs[@]}"; do
  [ -d "$d" ] || continue
  for pc in "$d"/*.pc; do
    sed -i -e "s#\([=\" ]\|-[IL]\)/usr\([/\" ]\|\$\)#\1$prefix/usr\2#g" "$pc"
    awk -v present="$present" '
      /^Requires\.private:/ { line = $0; sub(/^[^:]*: */, "", line); n = split(line, parts, /[ ,]+/)
        out = ""
        for (i = 1; i <= n; i++) {
          if (parts[i] == "") continue
          if (parts[i] ~ /^[<>=]/) { if (keep) out = out " " parts[i] " " parts[i + 1]; i++; continue }
          keep = index(present, " " parts[i] " ") > 0
          if (keep) out = out (out == "" ? "" : ", ") parts[i]
        }
        print "Requires.private: " out; next }
      { print }' "$pc" >"$pc.tmp" && mv "$pc.tmp" "$pc"
  done
done

# wrapper scripts (h5cc, h5c++, h5fc, libpng16-config): their /usr paths, shebangs untouched
for script in "$prefix"/usr/bin/*; do
  [ -f "$script" ] && [ ! -L "$script" ] || continue
  head -c 2 "$script" | grep -q '^#!' || continue
  sed -i -e "2,\$s#\([=\" '(]\|-[IL]\)/usr\([/\" ']\|\$\)#\1$prefix/usr\2#g" "$script"
done
# CMake package files with absolute /usr paths (those computing their prefix are left alone)
while IFS= read -r cm; do
  sed -i -e "s#\"/usr/#\"$prefix/usr/#g" "$cm"
done < <(find "$prefix/usr/lib" "$prefix/usr/share" -name '*.cmake' -path '*cmake*' 2>/dev/null)

libdirs="$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu"
mkdir -p "$prefix/bin"
cat >"$prefix/bin/pkg-config" <<EOF
#!/bin/sh
# the unpacked pkgconf, reading only the prefix's .pc files
unset PKG_CONFIG_PATH
export PKG_CONFIG_LIBDIR="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig"
LD_LIBRARY_PATH="$libdirs" exec "$prefix/usr/bin/pkgconf" "\$@"
EOF
chmod +x "$prefix/bin/pkg-config"

cat >"$prefix/deps-link.cmake" <<'EOF'
# Included after project() (CMAKE_PROJECT_INCLUDE): DT_RPATH rather than DT_RUNPATH, so the
# prefix also serves the libraries' own dependencies (libhdf5 -> libcurl -> libssl).
add_link_options("LINKER:--disable-new-dtags")
EOF
cat >"$prefix/deps.cmake" <<EOF
# Initial cache (cmake -C) for a build against the packages unpacked by tools/gpu-unpack.sh.
set(CMAKE_PREFIX_PATH "$prefix/usr;$prefix" CACHE STRING "unpacked dependencies")
set(CMAKE_LIBRARY_PATH "$prefix/usr/lib/x86_64-linux-gnu;$prefix/lib/x86_64-linux-gnu" CACHE STRING "")
set(CMAKE_INCLUDE_PATH "$prefix/usr/include;$prefix/usr/include/x86_64-linux-gnu" CACHE STRING "")
set(CMAKE_PROGRAM_PATH "$prefix/bin;$prefix/usr/bin" CACHE STRING "")
set(PKG_CONFIG_EXECUTABLE "$prefix/bin/pkg-config" CACHE FILEPATH "")
set(HDF5_C_COMPILER_EXECUTABLE "$prefix/usr/bin/h5cc" CACHE FILEPATH "")
set(CMAKE_BUILD_RPATH "$prefix/usr/lib/x86_64-linux-gnu;$prefix/lib/x86_64-linux-gnu" CACHE STRING "")
set(CMAKE_PROJECT_INCLUDE "$prefix/deps-link.cmake" CACHE FILEPATH "")
EOF
echo "gpu-unpack: $count packages into $prefix ($(du -sh "$prefix" | cut -f1)); cmake -C $prefix/deps.cmake"
