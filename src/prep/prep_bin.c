/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, binning: FFT-friendly box sizes and integer binning of the box. */
#include "bcdi/prepare.h"

#include "core/ckd.h"
#include "num/fft_size.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t bcdi_prepare_good_size(size_t n)
{
    return bcdi_fft_good_size(n, BCDI_PREPARE_MAX_AXIS);
}

bcdi_status bcdi_prepare_bin(const size_t shape[3], const float *intensity, const uint8_t *mask,
                             const size_t bin[3], size_t out_shape[3], float **out_intensity,
                             uint8_t **out_mask)
{
    for (int a = 0; a < 3; a++)
        if (!bin[a] || !shape[a] || shape[a] % bin[a])
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "binning: axis %d of length %zu is not a "
                              "multiple of the bin %zu",
                              a, shape[a], bin[a]);
    size_t o0 = shape[0] / bin[0], o1 = shape[1] / bin[1], o2 = shape[2] / bin[2];
    size_t binned[3] = {o0, o1, o2}, n;
    if (bcdi_ckd_volume(shape, 3, sizeof(float), NULL, NULL, "binning: the input") != BCDI_OK ||
        bcdi_ckd_volume(binned, 3, sizeof(float), &n, NULL, "binning: the output") != BCDI_OK)
        return BCDI_ERR_FORMAT;
    float *I = malloc(n * sizeof *I);
    uint8_t *m = calloc(n, 1);
    double *row = calloc(o2, sizeof *row);
    if (!I || !m || !row) {
        free(I);
        free(m);
        free(row);
        return bcdi_error(BCDI_ERR_NOMEM, "binning: cannot allocate %zu voxels", n);
    }
    /* sums in double, one output row at a time: float partial sums of bin0·bin1·bin2 terms
     * could overflow (two 3e38 counts gave an unmasked +inf); a sum beyond float32 is refused */
    bcdi_status st = BCDI_OK;
    for (size_t j0 = 0; j0 < o0 && st == BCDI_OK; j0++)
        for (size_t j1 = 0; j1 < o1 && st == BCDI_OK; j1++) {
            memset(row, 0, o2 * sizeof *row);
            size_t out_row = (j0 * o1 + j1) * o2;
            for (size_t i0 = j0 * bin[0]; i0 < (j0 + 1) * bin[0]; i0++)
                for (size_t i1 = j1 * bin[1]; i1 < (j1 + 1) * bin[1]; i1++) {
                    size_t in_row = (i0 * shape[1] + i1) * shape[2];
                    for (size_t i2 = 0; i2 < shape[2]; i2++) {
                        row[i2 / bin[2]] += intensity[in_row + i2];
                        if (mask && mask[in_row + i2]) m[out_row + i2 / bin[2]] = 1;
                    }
                }
            for (size_t j2 = 0; j2 < o2; j2++) {
                if (!(fabs(row[j2]) <= FLT_MAX)) {
                    st = bcdi_error(BCDI_ERR_DATA,
                                    "binning (key 'bin' = %zu,%zu,%zu): the sum at binned voxel "
                                    "%zu,%zu,%zu is %g, not a float32 number (counts beyond any "
                                    "detector's)",
                                    bin[0], bin[1], bin[2], j0, j1, j2, row[j2]);
                    break;
                }
                I[out_row + j2] = (float)row[j2];
            }
        }
    free(row);
    if (st != BCDI_OK) {
        free(I);
        free(m);
        return st;
    }
    out_shape[0] = o0;
    out_shape[1] = o1;
    out_shape[2] = o2;
    *out_intensity = I;
    *out_mask = m;
    return BCDI_OK;
}
