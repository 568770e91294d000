/* SPDX-License-Identifier: BSD-3-Clause */
#include "num/volume.h"

#include "num/constants.h"

#include <math.h>
#include <string.h>

void bcdi_roll3(void *dst, const void *src, const size_t shape[3], size_t elem_size,
                const long shift[3])
{
    size_t s[3];
    for (int a = 0; a < 3; ++a) {
        long m = shift[a] % (long)shape[a];
        s[a] = (size_t)(m < 0 ? m + (long)shape[a] : m);
    }
    const unsigned char *in = src;
    unsigned char *out = dst;
    /* the last axis is a rotation of contiguous rows: two memcpy per row */
    size_t row_bytes = shape[2] * elem_size, tail = (shape[2] - s[2]) * elem_size;
    for (size_t i0 = 0; i0 < shape[0]; ++i0) {
        size_t o0 = (i0 + s[0]) % shape[0];
        for (size_t i1 = 0; i1 < shape[1]; ++i1) {
            size_t o1 = (i1 + s[1]) % shape[1];
            const unsigned char *row = in + (i0 * shape[1] + i1) * row_bytes;
            unsigned char *orow = out + (o0 * shape[1] + o1) * row_bytes;
            memcpy(orow + s[2] * elem_size, row, tail);
            memcpy(orow, row + tail, s[2] * elem_size);
        }
    }
}

void bcdi_fftshift3(void *dst, const void *src, const size_t shape[3], size_t elem_size)
{
    long shift[3] = {(long)(shape[0] / 2), (long)(shape[1] / 2), (long)(shape[2] / 2)};
    bcdi_roll3(dst, src, shape, elem_size, shift);
}

void bcdi_ifftshift3(void *dst, const void *src, const size_t shape[3], size_t elem_size)
{
    long shift[3] = {-(long)(shape[0] / 2), -(long)(shape[1] / 2), -(long)(shape[2] / 2)};
    bcdi_roll3(dst, src, shape, elem_size, shift);
}

int bcdi_circular_com(const float *weight, const size_t shape[3], double com[3])
{
    double c[3] = {0, 0, 0}, s[3] = {0, 0, 0}, total = 0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                double w = weight[(i0 * shape[1] + i1) * shape[2] + i2];
                if (!(w > 0)) continue;
                size_t idx[3] = {i0, i1, i2};
                for (int a = 0; a < 3; ++a) {
                    double angle = BCDI_TWO_PI * (double)idx[a] / (double)shape[a];
                    c[a] += w * cos(angle);
                    s[a] += w * sin(angle);
                }
                total += w;
            }
    if (!(total > 0)) return 0;
    for (int a = 0; a < 3; ++a) {
        double angle = atan2(s[a], c[a]);
        if (angle < 0) angle += BCDI_TWO_PI;
        com[a] = angle / BCDI_TWO_PI * (double)shape[a];
    }
    return 1;
}

double bcdi_centre_of_mass(const float *weight, const uint8_t *mask, const size_t shape[3],
                           double com[3])
{
    double sum[3] = {0, 0, 0}, total = 0.0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t v = (i0 * shape[1] + i1) * shape[2] + i2;
                if (mask && !mask[v]) continue;
                double w = weight[v];
                size_t idx[3] = {i0, i1, i2};
                for (int a = 0; a < 3; ++a)
                    sum[a] += w * (double)idx[a];
                total += w;
            }
    if (total > 0.0)
        for (int a = 0; a < 3; ++a)
            com[a] = sum[a] / total;
    return total;
}

size_t bcdi_mask_bounds(const uint8_t *mask, const size_t shape[3], size_t first[3], size_t last[3])
{
    size_t lo[3] = {shape[0], shape[1], shape[2]}, hi[3] = {0, 0, 0}, count = 0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                if (!mask[(i0 * shape[1] + i1) * shape[2] + i2]) continue;
                size_t idx[3] = {i0, i1, i2};
                for (int a = 0; a < 3; ++a) {
                    if (idx[a] < lo[a]) lo[a] = idx[a];
                    if (idx[a] > hi[a]) hi[a] = idx[a];
                }
                ++count;
            }
    if (count)
        for (int a = 0; a < 3; ++a) {
            first[a] = lo[a];
            last[a] = hi[a];
        }
    return count;
}

void bcdi_box_with_margin(const size_t first[3], const size_t last[3], size_t margin,
                          const size_t shape[3], size_t origin[3], size_t extent[3])
{
    for (int a = 0; a < 3; ++a) {
        origin[a] = first[a] > margin ? first[a] - margin : 0;
        size_t end = last[a] + margin + 1;
        if (end > shape[a]) end = shape[a];
        extent[a] = end - origin[a];
    }
}
