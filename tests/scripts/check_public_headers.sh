#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every public header compiles on its own, with nothing but the public include folders on the
# include path: as C11 (-pedantic -Werror) and, when a C++ compiler is given, as C++ (they carry
# extern "C" guards).
# Usage: check_public_headers.sh CC CXX|"" INCLUDE_DIR...   (headers: INCLUDE_DIR/bcdi/*.h)
set -u
cc=$1
cxx=$2
shift 2
include_flags=""
for dir in "$@"; do include_flags="$include_flags -I$dir"; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
count=0
for header in $(for dir in "$@"; do ls "$dir"/bcdi/*.h 2>/dev/null; done); do
    name=$(basename "$header" .h)
    count=$((count + 1))
    # included twice: the include guard must hold
    printf '#include "bcdi/%s.h"\n#include "bcdi/%s.h"\nint bcdi_header_check_%s;\n' \
        "$name" "$name" "$name" >"$work/$name.c"
    if ! "$cc" -std=c11 -pedantic -Wall -Wextra -Werror $include_flags \
        -c "$work/$name.c" -o "$work/$name.o"; then
        echo "FAIL: bcdi/$name.h does not compile alone as C11"
        failed=1
    fi
    if [ -n "$cxx" ]; then
        cp "$work/$name.c" "$work/$name.cpp"
        if ! "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror $include_flags \
            -c "$work/$name.cpp" -o "$work/$name.o"; then
            echo "FAIL: bcdi/$name.h does not compile alone as C++"
            failed=1
        fi
    fi
done
if [ "$count" -eq 0 ]; then
    echo "FAIL: no header under $*"
    exit 1
fi
echo "$count public headers checked as C11${cxx:+ and C++}"
exit $failed
