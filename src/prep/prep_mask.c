/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, masks: pixels bad in every frame (the input's own mask or a per-frame mask
 * dataset, a mask file) and isolated hot pixels. (User boxes and aliens: prep_in_user_box.) */
#include "prep/prep_internal.h"

#include "bcdi/log.h"
#include "io/nexus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pixels bad in every frame (stored coordinates): the input's own mask (or a per-frame mask
 * dataset, read with each region), then the mask file. */
bcdi_status prep_setup_masks(prep_ctx *c)
{
    const bcdi_prepare_params *p = c->p;
    size_t sr = c->in.dims[1], sc = c->in.dims[2], plane = sr * sc;
    const long *origin = p->frame_origin;
    bcdi_status st;
    if (!(c->bad = calloc(plane, 1))) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    float *img = NULL;
    size_t rows = sr, cols = sc;
    /* mask inside the input file */
    const char *pm = p->pixel_mask_path;
    if (c->in.h5 && strcmp(pm, "none")) {
        const char *path = pm[0]                          ? pm
                           : c->in.kind == PREP_INPUT_CXI ? "entry_1/instrument_1/detector_1/mask"
                                                          : BCDI_NEXUS_MASK_PATH;
        if (bcdi_h5_exists(c->in.h5, path)) {
            int rank;
            size_t d[8];
            if ((st = bcdi_h5_shape(c->in.h5, path, &rank, d, NULL)) != BCDI_OK) return st;
            if (rank == 3 && d[0] == c->in.dims[0] && d[1] == sr && d[2] == sc) {
                snprintf(c->mask3d_path, sizeof c->mask3d_path, "%s", path);
                bcdi_log(BCDI_LOG_INFO, "mask: per-frame '%s' from the input", path);
            } else if ((rank == 2 && d[0] == sr && d[1] == sc) ||
                       (rank == 3 && d[0] == 1 && d[1] == sr && d[2] == sc)) {
                uint32_t *m = malloc(plane * sizeof *m);
                if (!m) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
                st = bcdi_h5_read(c->in.h5, path, BCDI_DT_U32, m, plane);
                size_t bad = 0;
                for (size_t i = 0; st == BCDI_OK && i < plane; i++)
                    if (m[i]) {
                        c->bad[i] = 1;
                        bad++;
                    }
                free(m);
                if (st != BCDI_OK) return st;
                bcdi_log(BCDI_LOG_INFO, "mask: %zu bad pixels from '%s' of the input", bad, path);
            } else {
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': mask '%s' has rank %d (%zu x %zu...), "
                                  "expected %zu x %zu",
                                  c->in.path, path, rank, d[0], rank > 1 ? d[1] : 0, sr, sc);
            }
        } else if (pm[0]) {
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': pixel_mask_path '%s' not found", c->in.path,
                              pm);
        }
    }
    /* mask file */
    const char *mask_file = p->mask_file;
    int per_voxel = 0; /* a 3-D mask_file, or one frame in any format (prep_mask3d.c) */
    if (!prep_unset(mask_file) && (st = prep_mask3d_open(c, &per_voxel)) != BCDI_OK) return st;
    if (!prep_unset(mask_file) && !per_voxel) {
        double threshold = p->mask_threshold;
        if ((st = prep_load_image(mask_file, p->mask_dataset, &rows, &cols, origin, p->max_memory,
                                  &img)) != BCDI_OK)
            return st;
        size_t bad = 0;
        for (size_t i = 0; i < plane; i++)
            if (!(img[i] <= threshold)) { /* NaN counts as bad too */
                c->bad[i] = 1;
                bad++;
            }
        free(img);
        img = NULL;
        bcdi_log(BCDI_LOG_INFO, "mask: %zu bad pixels (value > %g) from '%s'", bad, threshold,
                 mask_file);
    }
    return BCDI_OK;
}

/* Mask isolated hot pixels of one nr x nc frame region: brighter than hot_factor times the
 * brightest measured neighbour (at least 1 count). */
void prep_mask_hot_pixels(prep_ctx *c, size_t nr, size_t nc, float *val, uint8_t *msk)
{
    for (size_t r = 0; r < nr; r++)
        for (size_t col = 0; col < nc; col++) {
            size_t i = r * nc + col;
            if (msk[i] || !(val[i] > c->hot_factor)) continue;
            float brightest = 0.0f;
            for (int dr = -1; dr <= 1; dr++)
                for (int dc = -1; dc <= 1; dc++) {
                    long rr = (long)r + dr, cc = (long)col + dc;
                    if ((dr || dc) && rr >= 0 && cc >= 0 && rr < (long)nr && cc < (long)nc) {
                        size_t j = (size_t)rr * nc + (size_t)cc;
                        if (!msk[j] && val[j] > brightest) brightest = val[j];
                    }
                }
            if (val[i] > c->hot_factor * fmax(1.0, brightest)) {
                /* val keeps the value until the whole frame was tested; flag with 2 */
                msk[i] = 2;
            }
        }
    for (size_t i = 0; i < nr * nc; i++)
        if (msk[i] == 2) {
            msk[i] = 1;
            val[i] = 0.0f;
            if (c->counting) c->n_hot++;
        }
}
