#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The installed library as a user meets it: `cmake --install` into a temporary prefix, then
# examples/phase_prepared.c built OUTSIDE the tree against that prefix, through the CMake package
# (find_package(bcdi), shared and static) and through pkg-config (shared and --static), run on the
# embedded dataset prepared by the installed braggcdi. Checks what is installed, what the shared
# library exports, and that the example reconstructs.
# Usage: check_installed_library.sh SOURCE_DIR BUILD_DIR LIBDIR   (LIBDIR: CMAKE_INSTALL_LIBDIR)
set -eu
source_dir=$1
build_dir=$2
libdir=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/bcdi-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() {
    echo "FAIL: $*"
    exit 1
}

echo "== install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" || fail "cmake --install"
for f in bin/braggcdi "$libdir/libbcdi.a" "$libdir/libbcdi.so" "$libdir/pkgconfig/bcdi.pc" \
    "$libdir/cmake/bcdi/bcdiConfig.cmake" "$libdir/cmake/bcdi/bcdiConfigVersion.cmake" \
    "$libdir/cmake/bcdi/bcdiTargets.cmake" include/bcdi/bcdi.h include/bcdi/version.h \
    share/doc/braggcdi/LICENSE share/doc/braggcdi/NOTICE; do
    [ -e "$prefix/$f" ] || fail "$f is not installed"
done
[ -e "$prefix/share/man/man1/braggcdi-phase.1" ] || [ -e "$prefix/share/doc/braggcdi/help/braggcdi-phase.txt" ] ||
    fail "neither the braggcdi-phase man page nor its --help text is installed"
# public headers only: exactly include/bcdi/*.h and the generated version.h
expected=$( (cd "$source_dir/include/bcdi" && ls *.h; echo version.h) | sort | tr '\n' ' ')
installed=$( (cd "$prefix/include/bcdi" && ls) | sort | tr '\n' ' ')
[ "$expected" = "$installed" ] || fail "installed headers '$installed', expected '$expected'"
[ "$(find "$prefix/include" -type f | wc -l)" -eq "$(ls "$prefix/include/bcdi" | wc -l)" ] ||
    fail "files other than include/bcdi/*.h installed under include/"

echo "== exported symbols of libbcdi.so"
if command -v nm >/dev/null 2>&1; then
    nm -D --defined-only "$prefix/$libdir/libbcdi.so" | awk '{print $3}' | sort >"$work/exports"
    grep -qx bcdi_phase "$work/exports" || fail "libbcdi.so does not export bcdi_phase"
    grep -qx bcdi_phasing_data_read "$work/exports" || fail "bcdi_phasing_data_read not exported"
    # internal functions (io/cxi.h, backend/backend.h) stay hidden
    ! grep -qx bcdi_cxi_read_prepared "$work/exports" || fail "internal bcdi_cxi_read_prepared exported"
    ! grep -qx bcdi_backend_cpu_open "$work/exports" || fail "internal bcdi_backend_cpu_open exported"
    ! grep -qv '^bcdi_' "$work/exports" || fail "non-bcdi symbols exported: $(grep -v '^bcdi_' "$work/exports" | head -5 | tr '\n' ' ')"
    echo "   $(wc -l <"$work/exports") functions exported, all bcdi_*"
fi

echo "== prepare the embedded dataset with the installed braggcdi"
"$prefix/bin/braggcdi" prepare "$source_dir/datasets/nmc811-003-sim/stack.nxs" box=64,64,64 -q \
    -o "$work/prepared.cxi" || fail "braggcdi prepare"

echo "== example through the CMake package (shared and static)"
cmake -S "$source_dir/examples" -B "$work/example-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DBCDI_EXAMPLE_STATIC=ON -DCMAKE_BUILD_TYPE=Release >"$work/example-cmake.log" 2>&1 ||
    { cat "$work/example-cmake.log"; fail "configure examples/ with find_package(bcdi)"; }
cmake --build "$work/example-cmake" >>"$work/example-cmake.log" 2>&1 ||
    { cat "$work/example-cmake.log"; fail "build examples/ with find_package(bcdi)"; }

echo "== example through pkg-config (shared and --static)"
mkdir -p "$work/example-pc"
PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" make -s -C "$source_dir/examples" \
    OUT="$work/example-pc" all static >"$work/example-pc.log" 2>&1 ||
    { cat "$work/example-pc.log"; fail "build examples/ with pkg-config"; }

# Every build loads and reports a library error the documented way (exit 1, file named).
for exe in example-cmake/phase_prepared example-cmake/phase_prepared_static \
    example-pc/phase_prepared example-pc/phase_prepared_static; do
    set +e
    "$work/$exe" "$work/absent.cxi" >"$work/absent.log" 2>&1
    rc=$?
    set -e
    [ $rc -eq 1 ] && grep -q "absent.cxi" "$work/absent.log" ||
        { cat "$work/absent.log"; fail "$exe on a missing file: exit $rc, expected 1 naming it"; }
done

echo "== phase the prepared data (cpu)"
run_example() {
    "$work/$1" "$work/prepared.cxi" "$work/$2" cpu >"$work/$2.log" 2>&1 ||
        { cat "$work/$2.log"; fail "$1 failed"; }
    grep '^best run' "$work/$2.log" | sed 's/ elapsed_s=.*//'
}
line_cmake=$(run_example example-cmake/phase_prepared slice-cmake.pgm)
line_pc=$(run_example example-pc/phase_prepared slice-pc.pgm)
echo "   find_package: $line_cmake"
echo "   pkg-config:   $line_pc"
# one library, one seed, FFTW_ESTIMATE plans: the two builds give the same numbers
[ "$line_cmake" = "$line_pc" ] || fail "the two builds of the example disagree"
cmp -s "$work/slice-cmake.pgm" "$work/slice-pc.pgm" || fail "the two slices differ"
# Reconstructs: measured with the example's recipe (100*HIO + 50*RAAR + 50*ER, seed 1) on the
# 64^3 box, 2 threads: fourier_error 0.0294, llk 1.84; the same start after 20*ER alone (not
# converged) gives 0.176 and 71.9 (Fourier errors as the root form, docs/algorithms.md; the
# bound 0.0447 is the former 2e-3 on the square, rooted). The bounds leave room for other thread
# counts and FFT builds.
echo "$line_cmake" | awk '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["fourier_error"] == "" || v["llk"] == "") { print "FAIL: no metrics in: " $0; exit 1 }
    if (v["fourier_error"] + 0 >= 0.0447) { print "FAIL: fourier_error " v["fourier_error"] " >= 0.0447"; exit 1 }
    if (v["llk"] + 0 >= 3) { print "FAIL: llk " v["llk"] " >= 3"; exit 1 }
    if (v["support_fraction"] + 0 <= 0.005 || v["support_fraction"] + 0 >= 0.1) {
        print "FAIL: support_fraction " v["support_fraction"] " outside 0.005..0.1"; exit 1 }
}' || exit 1
echo "installed library: OK"
