/* SPDX-License-Identifier: BSD-3-Clause */
/* Test inputs shared by several test files: the real measured datasets, when present, and a
 * known strained crystal. */
#ifndef BCDI_TEST_DATA_H
#define BCDI_TEST_DATA_H

#include "voxel_ops.h"

#include <stddef.h>

/* Path of `relative` (e.g. "au111-aps34idc-scan54/scan54.spec") under $BCDI_SHARED_DATASETS or
 * the build's ../shared/datasets, or NULL when neither has it. Static storage: copy to keep. */
const char *tu_shared_dataset(const char *relative);

/* A centred crystal: soft-edged ellipsoid of radii (voxels) with a density gradient along
 * axis 0 and a strain phase that is neither even nor odd (so its twin differs from it). */
void tu_make_crystal(bcdi_cf *x, const size_t shape[3], const double radii[3]);

#endif
