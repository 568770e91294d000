/* SPDX-License-Identifier: BSD-3-Clause */
#include "phasing/mask_bound.h"

#include "voxel_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In place along `axis`: each value becomes the maximum of the values within `radius` of it on
 * that axis (positions past the edge do not count). */
static void max_along(float *volume, float *work, const size_t shape[3], int axis, long radius)
{
    const size_t stride[3] = {shape[1] * shape[2], shape[2], 1};
    const long len = (long)shape[axis];
    const size_t n = shape[0] * shape[1] * shape[2];
#pragma omp parallel for schedule(static)
    for (long i0 = 0; i0 < (long)shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                const size_t idx[3] = {(size_t)i0, i1, i2};
                const size_t v = (size_t)i0 * stride[0] + i1 * stride[1] + i2;
                const float *line = volume + (v - idx[axis] * stride[axis]);
                long lo = (long)idx[axis] - radius, hi = (long)idx[axis] + radius;
                if (lo < 0) lo = 0;
                if (hi > len - 1) hi = len - 1;
                float m = line[(size_t)lo * stride[axis]];
                for (long j = lo + 1; j <= hi; ++j)
                    m = fmaxf(m, line[(size_t)j * stride[axis]]);
                work[v] = m;
            }
    memcpy(volume, work, n * sizeof *volume);
}

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
    if (radius < 1 || !(factor > 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "masked-voxel bound: radius %ld and factor %g, expected radius >= 1 and "
                          "factor > 0",
                          radius, factor);
    float *neighbour_max = malloc(n * sizeof *neighbour_max), *work = malloc(n * sizeof *work);
    if (!neighbour_max || !work) {
        free(neighbour_max);
        free(work);
        return bcdi_error(BCDI_ERR_NOMEM, "masked-voxel bound: no memory for 2 x %zu floats", n);
    }
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
        for (int axis = 0; axis < 3; ++axis)
            max_along(neighbour_max, work, shape, axis, radius);
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
    free(work);
    if (summary) *summary = sum;
    return BCDI_OK;
}
