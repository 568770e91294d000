/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, the box beyond the measured range (padding= key; docs/prepare.md, "Padding").
 *
 * A box centred on the peak with an FFT-friendly size usually reaches past the first or last
 * frame (or detector edge). Masked there, those voxels are free in phasing: the model puts
 * large intensities into them and the object gets stripes (measured on the gold scan,
 * docs/prepare.md). So by default the box is cropped to the largest FFT-friendly size that fits
 * (padding=crop); padding=zeros keeps the size and counts the padding as measured zeros (as
 * cohere pads); padding=masked is the former behaviour. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"

size_t prep_good_size_below(size_t n)
{
    for (size_t m = n & ~(size_t)1; m >= 2; m -= 2)
        if (bcdi_prepare_good_size(m) == m) return m;
    return 0;
}

void prep_crop_box(const prep_ctx *c, const long centre[3], size_t S[3], long origin[3])
{
    static const char *const axis_name[3] = {"frames", "rows", "columns"};
    for (int a = 0; a < 3; a++) {
        long end = origin[a] + (long)S[a];
        if (origin[a] >= 0 && end <= (long)c->dims[a]) continue;
        /* centred on centre: S/2 <= centre and S/2 <= dims - centre */
        long room =
            centre[a] < (long)c->dims[a] - centre[a] ? centre[a] : (long)c->dims[a] - centre[a];
        size_t bin = (size_t)c->p->bin[a];
        size_t binned = room > 0 ? prep_good_size_below(2 * (size_t)room / bin) : 0;
        if (binned == 0) {
            bcdi_log(BCDI_LOG_WARN,
                     "padding=crop: the centre %ld is at the edge of the %zu %s: no box fits "
                     "inside, the box overhangs and the overhang is masked",
                     centre[a], c->dims[a], axis_name[a]);
            continue;
        }
        size_t cropped = binned * bin;
        int level = 2 * cropped < S[a] ? BCDI_LOG_WARN : BCDI_LOG_NOTICE;
        bcdi_log((bcdi_log_level)level,
                 "padding=crop: %zu %s instead of %zu (the box centred on %ld would reach "
                 "from %ld to %ld of the measured 0..%zu; padding=zeros or padding=masked keep "
                 "%zu)",
                 cropped, axis_name[a], S[a], centre[a], origin[a], end - 1, c->dims[a] - 1, S[a]);
        S[a] = cropped;
        origin[a] = centre[a] - (long)(S[a] / 2);
    }
}

void prep_zero_padding(const prep_ctx *c, long f, long r0, size_t nr, long c0, size_t nc,
                       float *val, uint8_t *msk)
{
    int frame_outside = f < 0 || f >= (long)c->dims[0];
    for (size_t r = 0; r < nr; r++) {
        long ir = r0 + (long)r;
        int row_outside = ir < 0 || ir >= (long)c->dims[1];
        for (size_t col = 0; col < nc; col++) {
            long ic = c0 + (long)col;
            if (frame_outside || row_outside || ic < 0 || ic >= (long)c->dims[2]) {
                val[r * nc + col] = 0.0f;
                msk[r * nc + col] = 0;
            }
        }
    }
}
