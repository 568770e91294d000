/* SPDX-License-Identifier: BSD-3-Clause */
/* Separable filters of a host float volume with an explicit edge rule: Gaussian blur and
 * maximum. (The phasing backends have their own, periodic, device-side blur in their ops
 * table.) */
#ifndef BCDI_NUM_BLUR_H
#define BCDI_NUM_BLUR_H

#include "bcdi/error.h"

#include <stddef.h>

/* What a kernel reaching past the array's edge reads. */
typedef enum bcdi_edge_mode {
    BCDI_EDGE_CLAMP,    /* the nearest edge voxel (a crystal is not periodic) */
    BCDI_EDGE_ZERO,     /* zeros: the weight beyond the edge is lost */
    BCDI_EDGE_PERIODIC, /* the array wraps around (index mod n) */
} bcdi_edge_mode;

/* In place: along each axis a with sigma[a] > 0 (in voxels), in the order 0, 1, 2, convolve with
 * exp(−k²/2σ²) for |k| <= ceil(3σ), normalised to sum 1, accumulated in double and rounded to
 * float after each axis. sigma[a] <= 0 leaves that axis alone (a 2D image is {1, rows, cols}
 * with sigma {0, s, s}). Errors: a sigma that is NaN, infinite or over 1e6; no memory for the
 * work copy. */
bcdi_status bcdi_blur3(float *volume, const size_t shape[3], const double sigma[3],
                       bcdi_edge_mode edge);

/* In place: each value becomes the maximum within `radius` voxels along each axis (a cube of side
 * 2 radius + 1; positions past the edge do not count with BCDI_EDGE_ZERO). Errors: a negative
 * radius; no memory for the work copy. */
bcdi_status bcdi_max3(float *volume, const size_t shape[3], int radius, bcdi_edge_mode edge);

#endif
