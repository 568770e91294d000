# SPDX-License-Identifier: BSD-3-Clause
# libbcdi's link dependencies and the imported targets that name them. One file for both users:
# the build includes it (every dependency REQUIRED), and the installed package configuration
# (bcdiConfig.cmake) includes it with BCDI_FIND_AS_DEPENDENCY set, so the targets the exported
# bcdi::bcdi_static names at link time exist in a consumer's project too; there a missing
# dependency makes find_package(bcdi) report "not found" instead of stopping the configure.
#
# In:  BCDI_HAVE_CUDA (the library holds the CUDA backend), BCDI_HAVE_MPI (its MPI layer),
#      BCDI_FIND_AS_DEPENDENCY (optional).
# Out: BCDI_DEPENDENCY_TARGETS, the list libbcdi links privately.

include(CMakeFindDependencyMacro)

# find_package(REQUIRED) for the build; find_dependency (which returns from the including
# package configuration with bcdi_FOUND false) for consumers.
macro(_bcdi_find_package)
  if(BCDI_FIND_AS_DEPENDENCY)
    find_dependency(${ARGV})
  else()
    find_package(${ARGV} REQUIRED)
  endif()
endmacro()

macro(_bcdi_dependency_missing what)
  if(BCDI_FIND_AS_DEPENDENCY)
    set(bcdi_NOT_FOUND_MESSAGE "bcdi needs ${what}, which was not found")
    set(bcdi_FOUND FALSE)
    return()
  else()
    message(FATAL_ERROR "braggcdi needs ${what} (run tools/install-deps.sh)")
  endif()
endmacro()

_bcdi_find_package(PkgConfig)
_bcdi_find_package(OpenMP COMPONENTS C)
_bcdi_find_package(HDF5 COMPONENTS C)
_bcdi_find_package(TIFF)
_bcdi_find_package(PNG)

# FFTW3f and inih ship pkg-config files and no CMake configuration.
pkg_check_modules(FFTW3F QUIET IMPORTED_TARGET fftw3f)
if(NOT FFTW3F_FOUND)
  _bcdi_dependency_missing("fftw3f (pkg-config)")
endif()
pkg_check_modules(INIH QUIET IMPORTED_TARGET inih)
if(NOT INIH_FOUND)
  _bcdi_dependency_missing("inih (pkg-config)")
endif()
pkg_check_modules(JANSSON QUIET IMPORTED_TARGET jansson)
if(NOT JANSSON_FOUND)
  _bcdi_dependency_missing("jansson (pkg-config)")
endif()
# MINPACK's Levenberg-Marquardt with covariance (prepare's Gaussian profile fits)
pkg_check_modules(CMINPACK QUIET IMPORTED_TARGET cminpack)
if(NOT CMINPACK_FOUND)
  _bcdi_dependency_missing("cminpack (pkg-config)")
endif()
# FFTW's OpenMP layer has no pkg-config file of its own; it sits beside libfftw3f.
if(NOT TARGET bcdi_deps::fftw3f_omp)
  find_library(BCDI_FFTW3F_OMP_LIBRARY NAMES fftw3f_omp HINTS ${FFTW3F_LIBRARY_DIRS})
  mark_as_advanced(BCDI_FFTW3F_OMP_LIBRARY)
  if(NOT BCDI_FFTW3F_OMP_LIBRARY)
    _bcdi_dependency_missing("libfftw3f_omp")
  endif()
  add_library(bcdi_deps::fftw3f_omp UNKNOWN IMPORTED)
  set_target_properties(bcdi_deps::fftw3f_omp PROPERTIES
    IMPORTED_LOCATION "${BCDI_FFTW3F_OMP_LIBRARY}")
endif()

set(BCDI_DEPENDENCY_TARGETS
  PkgConfig::FFTW3F bcdi_deps::fftw3f_omp OpenMP::OpenMP_C hdf5::hdf5 TIFF::TIFF PNG::PNG
  PkgConfig::INIH PkgConfig::JANSSON PkgConfig::CMINPACK m)

# MATLAB .mat files (v5, and v7.3 through matio's HDF5 support) via Debian's libmatio-dev:
# optional; without it the .mat reader answers "built without matio". A consumer of the
# installed package needs it only when the library was built with it (MATIO_FOUND recorded).
pkg_check_modules(MATIO QUIET IMPORTED_TARGET matio)
if(MATIO_FOUND)
  list(APPEND BCDI_DEPENDENCY_TARGETS PkgConfig::MATIO)
  if(NOT BCDI_FIND_AS_DEPENDENCY)
    message(STATUS "braggcdi: MATLAB .mat reader ON (matio ${MATIO_VERSION})")
  endif()
elseif(NOT BCDI_FIND_AS_DEPENDENCY)
  message(STATUS "braggcdi: matio not found, .mat files cannot be read (libmatio-dev)")
endif()

if(BCDI_HAVE_MPI)
  _bcdi_find_package(MPI COMPONENTS C)
  list(APPEND BCDI_DEPENDENCY_TARGETS MPI::MPI_C)
endif()

if(BCDI_HAVE_CUDA)
  _bcdi_find_package(CUDAToolkit)
  # nvcc compiles the kernels' host code as C++: a C program linking libbcdi.a needs libstdc++
  list(APPEND BCDI_DEPENDENCY_TARGETS CUDA::cufft CUDA::cudart_static stdc++)
  # cuFFT links the fused iteration's LTO callbacks at plan time through nvJitLink (CUDA >= 12)
  find_library(BCDI_NVJITLINK nvJitLink HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(BCDI_NVJITLINK)
    list(APPEND BCDI_DEPENDENCY_TARGETS ${BCDI_NVJITLINK})
  endif()
endif()
