/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, loading: the input's frame layout (Excalibur gaps inserted or not), the rocking
 * angles from the motor and the per-frame monitor. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"
#include "instrument/excalibur.h"
#include "io/hdf5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prep_ctx_free(prep_ctx *c)
{
    prep_input_close(&c->in);
    free(c->row_map);
    free(c->col_map);
    free(c->bad);
    free(c->dark);
    free(c->flat_scale);
    free(c->monitor_scale);
    free(c->stored_buf);
    free(c->mask3d_buf);
    free(c->rocking_deg);
    if (c->mask3d_file) prep_input_close(&c->mask3d_in);
    free(c->mask3d_values);
}

/* Gap layout: which input row/column comes from which stored row/column. */
bcdi_status prep_setup_frame_map(prep_ctx *c)
{
    const long *layout = c->p->excalibur_layout, *origin = c->p->frame_origin;
    /* (the layout was validated with the keys) */
    bcdi_excalibur det = {(int)layout[0], (int)layout[1], (int)layout[2],
                          (int)layout[3], (int)layout[4], (int)layout[5]};
    size_t sr = c->in.dims[1], sc = c->in.dims[2];
    char mode[16];
    snprintf(mode, sizeof mode, "%s", c->p->gaps);
    if (!strcmp(mode, "auto")) {
        if (sr == bcdi_excalibur_gapped_rows(&det) && sc == bcdi_excalibur_gapped_cols(&det))
            snprintf(mode, sizeof mode, "inserted");
        else if (sr == bcdi_excalibur_raw_rows(&det) && sc == bcdi_excalibur_raw_cols(&det))
            snprintf(mode, sizeof mode, "raw");
        else
            snprintf(mode, sizeof mode, "none");
        bcdi_log(BCDI_LOG_INFO, "gaps: %s (auto, from the %zu x %zu frame size)", mode, sr, sc);
    }
    c->dims[0] = c->in.dims[0];
    if (!strcmp(mode, "none") || !strcmp(mode, "inserted")) {
        c->dims[1] = sr;
        c->dims[2] = sc;
    } else { /* raw (the keys allow no other word) */
        long first_r = bcdi_excalibur_row_to_gapped(&det, origin[0]);
        long last_r = bcdi_excalibur_row_to_gapped(&det, origin[0] + (long)sr - 1);
        long first_c = bcdi_excalibur_col_to_gapped(&det, origin[1]);
        long last_c = bcdi_excalibur_col_to_gapped(&det, origin[1] + (long)sc - 1);
        if (first_r < 0 || last_r < 0 || first_c < 0 || last_c < 0)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "gaps=raw: %zu x %zu frames at frame_origin %ld,%ld "
                              "do not fit on the raw %zu x %zu detector",
                              sr, sc, origin[0], origin[1], bcdi_excalibur_raw_rows(&det),
                              bcdi_excalibur_raw_cols(&det));
        c->dims[1] = (size_t)(last_r - first_r + 1);
        c->dims[2] = (size_t)(last_c - first_c + 1);
    }
    c->row_map = malloc(c->dims[1] * sizeof *c->row_map);
    c->col_map = malloc(c->dims[2] * sizeof *c->col_map);
    if (!c->row_map || !c->col_map) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    for (size_t r = 0; r < c->dims[1]; r++) {
        long g = (long)r + origin[0];
        if (!strcmp(mode, "none"))
            c->row_map[r] = (long)r;
        else if (!strcmp(mode, "inserted"))
            c->row_map[r] = bcdi_excalibur_row_to_raw(&det, g) < 0 ? -1 : (long)r;
        else {
            long raw = bcdi_excalibur_row_to_raw(
                &det, (long)r + bcdi_excalibur_row_to_gapped(&det, origin[0]));
            c->row_map[r] = raw < 0 ? -1 : raw - origin[0];
        }
    }
    for (size_t col = 0; col < c->dims[2]; col++) {
        long g = (long)col + origin[1];
        if (!strcmp(mode, "none"))
            c->col_map[col] = (long)col;
        else if (!strcmp(mode, "inserted"))
            c->col_map[col] = bcdi_excalibur_col_to_raw(&det, g) < 0 ? -1 : (long)col;
        else {
            long raw = bcdi_excalibur_col_to_raw(
                &det, (long)col + bcdi_excalibur_col_to_gapped(&det, origin[1]));
            c->col_map[col] = raw < 0 ? -1 : raw - origin[1];
        }
    }
    if (strcmp(mode, "none"))
        bcdi_log(BCDI_LOG_INFO,
                 "gaps %s: stored frames %zu x %zu at detector %ld,%ld -> input "
                 "frames %zu x %zu",
                 mode, sr, sc, origin[0], origin[1], c->dims[1], c->dims[2]);
    return BCDI_OK;
}

/* Motor positions (rocking angles) and the per-frame monitor. */
bcdi_status prep_setup_frames(prep_ctx *c, double *step_from_file)
{
    const bcdi_prepare_params *p = c->p;
    size_t F = c->dims[0];
    *step_from_file = NAN;
    if (!(c->rocking_deg = malloc(F * sizeof *c->rocking_deg)))
        return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    const char *motor = p->motor_path;
    bcdi_status st;
    if (c->in.h5 && !prep_unset(motor)) {
        char path[1100];
        snprintf(path, sizeof path, "%s", motor);
        if (!bcdi_h5_exists(c->in.h5, path) && !strncmp(motor, "entry1/instrument/", 18))
            snprintf(path, sizeof path, "entry1/before_scan/%s", motor + 18);
        if (bcdi_h5_exists(c->in.h5, path)) {
            int rank;
            size_t d[8], n = 1;
            if ((st = bcdi_h5_shape(c->in.h5, path, &rank, d, NULL)) != BCDI_OK) return st;
            for (int i = 0; i < rank; i++)
                n *= d[i];
            if (n != 1 && n != F)
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': motor '%s' has %zu positions but the "
                                  "stack has %zu frames",
                                  c->in.path, path, n, F);
            if (n == F && F >= 2) {
                if ((st = bcdi_h5_read(c->in.h5, path, BCDI_DT_F64, c->rocking_deg, F)) != BCDI_OK)
                    return st;
                char units[64] = "";
                if (bcdi_h5_read_attr_string(c->in.h5, path, "units", units, sizeof units) !=
                    BCDI_OK)
                    units[0] = '\0';
                if (!strncmp(units, "rad", 3))
                    for (size_t f = 0; f < F; f++)
                        c->rocking_deg[f] *= 180.0 / BCDI_PI;
                /* a NaN or infinite angle is refused, never replaced by the default step */
                for (size_t f = 0; f < F; f++)
                    if (!isfinite(c->rocking_deg[f]))
                        return bcdi_error(BCDI_ERR_FORMAT,
                                          "'%s': rocking motor '%s' is %g at frame %zu, expected "
                                          "finite angles",
                                          c->in.path, path, c->rocking_deg[f], f);
                *step_from_file = (c->rocking_deg[F - 1] - c->rocking_deg[0]) / (double)(F - 1);
                c->motor_from_file = 1;
                bcdi_log(BCDI_LOG_INFO, "rocking: %zu positions from '%s' (%.6g to %.6g deg)", F,
                         path, c->rocking_deg[0], c->rocking_deg[F - 1]);
            }
        } else if (p->motor_path_given) {
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': motor_path '%s' not found", c->in.path,
                              motor);
        }
    }
    const char *monitor = p->monitor_path;
    if (!prep_unset(monitor)) {
        if (!c->in.h5) return bcdi_error(BCDI_ERR_CONFIG, "monitor_path needs an HDF5 input");
        int rank;
        size_t d[8];
        if ((st = bcdi_h5_shape(c->in.h5, monitor, &rank, d, NULL)) != BCDI_OK) return st;
        if (rank != 1 || d[0] != F)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s': monitor '%s' has %zu values (rank %d), the "
                              "stack has %zu frames",
                              c->in.path, monitor, d[0], rank, F);
        if (!(c->monitor_scale = malloc(F * sizeof *c->monitor_scale)))
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
        if ((st = bcdi_h5_read(c->in.h5, monitor, BCDI_DT_F64, c->monitor_scale, F)) != BCDI_OK)
            return st;
        double mean = 0.0;
        for (size_t f = 0; f < F; f++) {
            if (!(c->monitor_scale[f] > 0.0) || !isfinite(c->monitor_scale[f]))
                return bcdi_error(BCDI_ERR_DATA,
                                  "'%s': monitor '%s' is %g at frame %zu (must "
                                  "be finite and > 0)",
                                  c->in.path, monitor, c->monitor_scale[f], f);
            mean += c->monitor_scale[f] / (double)F;
        }
        for (size_t f = 0; f < F; f++)
            c->monitor_scale[f] = mean / c->monitor_scale[f];
        bcdi_log(BCDI_LOG_INFO, "monitor: '%s', mean %.6g", monitor, mean);
    }
    return BCDI_OK;
}
