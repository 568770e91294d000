/* SPDX-License-Identifier: BSD-3-Clause */
#include "num/blur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index of the sample at j (possibly outside [0, n)) under the edge rule; −1: a zero. */
static long edge_index(long j, long n, bcdi_edge_mode edge)
{
    if (j >= 0 && j < n) return j;
    switch (edge) {
    case BCDI_EDGE_CLAMP:
        return j < 0 ? 0 : n - 1;
    case BCDI_EDGE_PERIODIC:
        return ((j % n) + n) % n;
    case BCDI_EDGE_ZERO:
        break;
    }
    return -1;
}

/* One axis of a separable filter, in place through `tmp` (n floats): each value becomes the sum
 * of its neighbours within `radius` along `axis` weighted by weights[k + radius] (accumulated in
 * double), or with weights NULL their maximum; positions past the edge follow `edge`. */
static void filter_axis(float *volume, float *tmp, const size_t shape[3], int axis, int radius,
                        const double *weights, bcdi_edge_mode edge)
{
    const size_t stride[3] = {shape[1] * shape[2], shape[2], 1};
    const size_t n = shape[0] * shape[1] * shape[2];
    const long len = (long)shape[axis];
#pragma omp parallel for schedule(static)
    for (long i0 = 0; i0 < (long)shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                const size_t idx[3] = {(size_t)i0, i1, i2};
                const size_t v = (size_t)i0 * stride[0] + i1 * stride[1] + i2;
                const float *line = volume + (v - idx[axis] * stride[axis]); /* index 0 on axis */
                if (weights) {
                    double acc = 0.0;
                    for (int k = -radius; k <= radius; ++k) {
                        long j = edge_index((long)idx[axis] + k, len, edge);
                        if (j >= 0) acc += weights[k + radius] * line[(size_t)j * stride[axis]];
                    }
                    tmp[v] = (float)acc;
                } else {
                    float m = volume[v];
                    for (int k = -radius; k <= radius; ++k) {
                        long j = edge_index((long)idx[axis] + k, len, edge);
                        if (j >= 0) m = fmaxf(m, line[(size_t)j * stride[axis]]);
                    }
                    tmp[v] = m;
                }
            }
    memcpy(volume, tmp, n * sizeof *tmp);
}

bcdi_status bcdi_blur3(float *volume, const size_t shape[3], const double sigma[3],
                       bcdi_edge_mode edge)
{
    int radius_max = 0;
    for (int a = 0; a < 3; ++a) {
        if (!(sigma[a] <= 1e6))
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "Gaussian blur: sigma %g voxels along axis %d, expected a finite "
                              "value up to 1e6",
                              sigma[a], a);
        if (sigma[a] > 0.0 && (int)ceil(3.0 * sigma[a]) > radius_max)
            radius_max = (int)ceil(3.0 * sigma[a]);
    }
    if (radius_max == 0) return BCDI_OK;
    const size_t n = shape[0] * shape[1] * shape[2];
    double *weights = malloc((size_t)(2 * radius_max + 1) * sizeof *weights);
    float *tmp = malloc(n * sizeof *tmp);
    if (!weights || !tmp) {
        free(weights);
        free(tmp);
        return bcdi_error(BCDI_ERR_NOMEM, "Gaussian blur of %zux%zux%zu voxels", shape[0], shape[1],
                          shape[2]);
    }
    for (int a = 0; a < 3; ++a) {
        if (!(sigma[a] > 0.0)) continue;
        const double s = sigma[a];
        const int radius = (int)ceil(3.0 * s);
        double total = 0.0;
        for (int k = -radius; k <= radius; ++k)
            total += weights[k + radius] = exp(-0.5 * k * k / (s * s));
        for (int k = 0; k <= 2 * radius; ++k)
            weights[k] /= total;
        filter_axis(volume, tmp, shape, a, radius, weights, edge);
    }
    free(weights);
    free(tmp);
    return BCDI_OK;
}

bcdi_status bcdi_max3(float *volume, const size_t shape[3], int radius, bcdi_edge_mode edge)
{
    if (radius < 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "maximum filter: radius %d, expected >= 0", radius);
    if (radius == 0) return BCDI_OK;
    const size_t n = shape[0] * shape[1] * shape[2];
    float *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return bcdi_error(BCDI_ERR_NOMEM, "maximum filter of %zux%zux%zu voxels", shape[0],
                          shape[1], shape[2]);
    for (int a = 0; a < 3; ++a)
        filter_axis(volume, tmp, shape, a, radius, NULL, edge);
    free(tmp);
    return BCDI_OK;
}
