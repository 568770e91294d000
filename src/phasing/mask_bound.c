/* SPDX-License-Identifier: BSD-3-Clause */
#include "phasing/mask_bound.h"

#include "num/blur.h"
#include "voxel_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bcdi_status bcdi_masked_voxel_bounds(const float *intensity, const uint8_t *mask,
                                     const size_t shape[3], long radius, double factor,
                                     float *amplitude, bcdi_mask_bound_summary *summary)
{
    bcdi_mask_bound_summary sum = {0};
    const size_t n = shape[0] * shape[1] * shape[2];
    for (size_t i = 0; i < n; ++i)
        sum.masked += mask[i] != 0;
    if (summary) *summary = sum;
    if (!sum.masked) return BCDI_OK;
    if (radius < 1 || radius > 4096 || !(factor > 0.0))
        return bcdi_error(
            BCDI_ERR_INVALID_ARG,
            "masked-voxel bound: radius %ld and factor %g, expected radius in 1..4096 and "
            "factor > 0",
            radius, factor);
    float *neighbour_max = malloc(n * sizeof *neighbour_max);
    if (!neighbour_max)
        return bcdi_error(BCDI_ERR_NOMEM, "masked-voxel bound: no memory for %zu floats", n);
    /* masked voxels enter as -1: a maximum still below 0 means no measured voxel in the cube.
     * Each round widens the cube by `radius` along every axis; a voxel takes its bound in the
     * first round that reaches a measured voxel (deep inside a large masked region, from farther
     * away and so looser). */
    for (size_t i = 0; i < n; ++i) {
        neighbour_max[i] = mask[i] ? -1.0f : fmaxf(intensity[i], 0.0f);
        if (mask[i]) amplitude[i] = BCDI_MASK_NO_BOUND;
    }
    size_t left = sum.masked;
    const size_t longest = shape[0] > shape[1] ? (shape[0] > shape[2] ? shape[0] : shape[2])
                                               : (shape[1] > shape[2] ? shape[1] : shape[2]);
    for (long reach = radius; left && reach < (long)longest + radius; reach += radius) {
        bcdi_status st = bcdi_max3(neighbour_max, shape, (int)radius, BCDI_EDGE_ZERO);
        if (st != BCDI_OK) {
            free(neighbour_max);
            return st;
        }
        for (size_t i = 0; i < n; ++i) {
            if (!mask[i] || amplitude[i] != BCDI_MASK_NO_BOUND || !(neighbour_max[i] >= 0.0f))
                continue;
            double bound = factor * ((double)neighbour_max[i] + 1.0);
            amplitude[i] = (float)sqrt(bound);
            --left;
            sum.bounded++;
            if (reach > radius) sum.bounded_far++;
            sum.neighbourhood_counts += neighbour_max[i];
            sum.bound_photons += bound;
        }
    }
    free(neighbour_max);
    if (summary) *summary = sum;
    return BCDI_OK;
}
