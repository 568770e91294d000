#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install braggcdi's build and test dependencies from Debian 12 packages. Idempotent: packages
# already present are not touched, and apt is only asked when something is missing.
# CUDA is never installed here: with nvcc on the machine (or /usr/local/cuda) the CUDA backend
# is built, without it a CPU-only build is made.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libfftw3-dev            # FFTW3 single precision + its OpenMP/threads libraries
  libhdf5-dev hdf5-tools  # HDF5 (serial) and h5dump
  hdf5-filter-plugin hdf5-filter-plugin-blosc-serial  # LZ4, bitshuffle, blosc filters
  libtiff-dev libpng-dev libinih-dev
  libmatio-dev            # MATLAB .mat files (v5 and v7.3; optional at build time)
  libjansson-dev          # JSON writing and reading
  libcminpack-dev         # Levenberg-Marquardt with covariance (prepare's profile fits)
  libcriterion-dev        # unit tests
  help2man                # man pages from --help at build time
  libopenmpi-dev openmpi-bin  # MPI layer (optional at build time; mpirun for ctest -L mpi)
  # fuzzing and sanitizers only (tools/fuzz.sh, tools/sanitize-tests.sh): Debian's clang with
  # libFuzzer and the sanitizer runtimes, LLVM's OpenMP for clang, llvm-symbolizer for stacks
  clang libclang-rt-14-dev libomp-dev llvm
  chromium                # renders compare's and phase's HTML reports in their tests (headless)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
