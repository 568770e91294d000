/* SPDX-License-Identifier: BSD-3-Clause */
/* Masked-voxel regularisation: the largest intensity the model may put into an unmeasured
 * voxel, from its measured neighbourhood (docs/algorithms.md, "Masked voxels"). */
#ifndef BCDI_PHASING_MASK_BOUND_H
#define BCDI_PHASING_MASK_BOUND_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bcdi_mask_bound_summary {
    size_t masked;      /* unmeasured voxels */
    size_t bounded;     /* of them, those given a bound (all, unless nothing is measured) */
    size_t bounded_far; /* of those, bounded from beyond `radius` */
    double neighbourhood_counts; /* sum over the bounded voxels of their neighbourhood maximum */
    double bound_photons;        /* sum over the bounded voxels of their bound */
} bcdi_mask_bound_summary;

/* For every voxel with mask[i] != 0 (centred layout, shape[0]*shape[1]*shape[2] values) write
 * into amplitude[i] the square root of
 *     bound = factor * (M + 1),   M = the largest measured intensity within `radius` voxels
 *                                     along each axis (a cube of side 2 radius + 1, not wrapped)
 * (the +1 count lets an all-zero neighbourhood hold a photon). Where that cube holds no measured
 * voxel, the cube grows by `radius` at a time until it does (so deep inside a large masked
 * region the bound is looser); BCDI_MASK_NO_BOUND only when nothing is measured. Measured
 * voxels' amplitudes are not touched. Needs 8 bytes per voxel of scratch. */
bcdi_status bcdi_masked_voxel_bounds(const float *intensity, const uint8_t *mask,
                                     const size_t shape[3], long radius, double factor,
                                     float *amplitude, bcdi_mask_bound_summary *summary);

#endif
