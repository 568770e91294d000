/* `prepare`, binning: FFT-friendly box sizes and integer binning of the box. */
#include "bcdi/prepare.h"

#include "core/ckd.h"

#include <stdlib.h>
#include <string.h>

size_t bcdi_prepare_good_size(size_t n)
{
    size_t m = n < 2 ? 2 : n + (n & 1);
    for (;; m += 2) {
        size_t r = m;
        for (size_t p = 2; p <= 7; p++)
            while (r % p == 0)
                r /= p;
        if (r == 1) return m;
    }
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
    float *I = calloc(n, sizeof *I);
    uint8_t *m = calloc(n, 1);
    if (!I || !m) {
        free(I);
        free(m);
        return bcdi_error(BCDI_ERR_NOMEM, "binning: cannot allocate %zu voxels", n);
    }
    /* sums in double per output voxel would need a second array; float partial sums of up to
     * bin0·bin1·bin2 terms lose nothing measurable for photon counts */
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++) {
            size_t in_row = (i0 * shape[1] + i1) * shape[2];
            size_t out_row = ((i0 / bin[0]) * o1 + i1 / bin[1]) * o2;
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                I[out_row + i2 / bin[2]] += intensity[in_row + i2];
                if (mask && mask[in_row + i2]) m[out_row + i2 / bin[2]] = 1;
            }
        }
    out_shape[0] = o0;
    out_shape[1] = o1;
    out_shape[2] = o2;
    *out_intensity = I;
    *out_mask = m;
    return BCDI_OK;
}
