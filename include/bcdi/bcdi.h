/* SPDX-License-Identifier: BSD-3-Clause */
/* libbcdi, the library under braggcdi: one include for the whole public API.
 *
 *   bcdi/error.h     status codes, bcdi_strerror, bcdi_last_error (every call returns a status)
 *   bcdi/log.h       the log sink (the library never prints by itself)
 *   bcdi/version.h   header and library versions
 *   bcdi/types.h     bcdi_cf, the complex float
 *   bcdi/backend.h   CPU / CUDA backends: open, query, close
 *   bcdi/config.h    typed keys from defaults, INI files and key=value
 *   bcdi/geometry.h  diffraction geometry, voxel sizes, reading it from a CXI file
 *   bcdi/simulate.h  synthetic crystals and their rocking curves
 *   bcdi/prepare.h   raw frames -> prepared data
 *   bcdi/recipe.h    phasing recipes ("400*HIO + 200*RAAR + 200*ER")
 *   bcdi/phasing.h   phase retrieval (bcdi_phase), reading prepared data
 *   bcdi/align.h     registration, shifts, twins, comparison with a known object
 *   bcdi/breed.h     guided-seeding breeding rules
 *   bcdi/analysis.h  density, displacement, strain, dislocations, domains
 *   bcdi/compare.h   states of one crystal across conditions
 *
 * Build against the installed library with `pkg-config --cflags --libs bcdi`, or in CMake with
 * find_package(bcdi) and target_link_libraries(app PRIVATE bcdi::bcdi); examples/ shows both. */
#ifndef BCDI_BCDI_H
#define BCDI_BCDI_H

#include "bcdi/error.h"
#include "bcdi/log.h"
#include "bcdi/version.h"
#include "bcdi/types.h"
#include "bcdi/backend.h"
#include "bcdi/config.h"
#include "bcdi/geometry.h"
#include "bcdi/simulate.h"
#include "bcdi/prepare.h"
#include "bcdi/recipe.h"
#include "bcdi/phasing.h"
#include "bcdi/align.h"
#include "bcdi/breed.h"
#include "bcdi/analysis.h"
#include "bcdi/compare.h"

#endif
