/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, peak and box: pass 1 over whole frames finds the Bragg peak (the maximum after
 * light smoothing, or the centre of mass); the box is an FFT-friendly size around it. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Separable Gaussian blur of one rows x cols image (zero outside), through tmp. */
static void blur_2d(float *img, float *tmp, size_t rows, size_t cols, double sigma)
{
    if (!(sigma > 0.0)) return;
    int radius = (int)ceil(3.0 * sigma);
    double w[64];
    if (radius > 31) radius = 31;
    double total = 0.0;
    for (int k = -radius; k <= radius; k++)
        total += (w[k + radius] = exp(-(double)k * k / (2.0 * sigma * sigma)));
    for (int k = 0; k <= 2 * radius; k++)
        w[k] /= total;
    for (size_t r = 0; r < rows; r++)
        for (size_t col = 0; col < cols; col++) {
            double s = 0.0;
            for (int k = -radius; k <= radius; k++) {
                long cc = (long)col + k;
                if (cc >= 0 && cc < (long)cols) s += w[k + radius] * img[r * cols + (size_t)cc];
            }
            tmp[r * cols + col] = (float)s;
        }
    for (size_t r = 0; r < rows; r++)
        for (size_t col = 0; col < cols; col++) {
            double s = 0.0;
            for (int k = -radius; k <= radius; k++) {
                long rr = (long)r + k;
                if (rr >= 0 && rr < (long)rows) s += w[k + radius] * tmp[(size_t)rr * cols + col];
            }
            img[r * cols + col] = (float)s;
        }
}

/* Pass 1: the peak (maximum after smoothing, or centre of mass) over whole frames. */
bcdi_status prep_find_peak(prep_ctx *c, int use_com, double sigma, long peak[3])
{
    size_t rows = c->dims[1], cols = c->dims[2], plane = rows * cols, F = c->dims[0];
    /* val and msk also take the 5 x 5 regions of the search around the smoothed maximum below,
     * ((2 reach + 1)^2 = 25 values), which can be larger than a small frame */
    size_t region_cap = plane < 25 ? 25 : plane;
    float *val = malloc(region_cap * sizeof *val), *tmp = malloc(plane * sizeof *tmp);
    uint8_t *msk = malloc(region_cap);
    float *ring = use_com ? NULL : malloc(3 * plane * sizeof *ring);
    bcdi_status st = BCDI_OK;
    if (!val || !tmp || !msk || (!use_com && !ring)) {
        st = bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate frames of %zu x %zu", rows, cols);
        goto done;
    }
    double total = 0.0, moment[3] = {0, 0, 0}, best = -1.0;
    size_t measured = 0;
    for (size_t f = 0; f <= F; f++) {
        float *smooth = ring ? ring + (f % 3) * plane : NULL;
        if (f < F) {
            if ((st = prep_read_region(c, (long)f, 0, rows, 0, cols, val, msk)) != BCDI_OK)
                goto done;
            double frame_sum = 0.0, row_moment = 0.0, col_moment = 0.0;
            for (size_t r = 0; r < rows; r++)
                for (size_t col = 0; col < cols; col++) {
                    size_t i = r * cols + col;
                    if (msk[i]) continue;
                    measured++;
                    frame_sum += val[i];
                    row_moment += val[i] * (double)r;
                    col_moment += val[i] * (double)col;
                }
            total += frame_sum;
            moment[0] += frame_sum * (double)f;
            moment[1] += row_moment;
            moment[2] += col_moment;
            if (smooth) {
                memcpy(smooth, val, plane * sizeof *smooth);
                blur_2d(smooth, tmp, rows, cols, sigma);
            }
        } else if (smooth) {
            memset(smooth, 0, plane * sizeof *smooth); /* beyond the last frame: zeros */
        }
        if (!ring || f == 0) continue;
        /* frame g = f - 1 now has both neighbours: [1,2,1]/4 across frames */
        size_t g = f - 1;
        const float *cur = ring + (g % 3) * plane, *next = ring + (f % 3) * plane;
        const float *prev = g >= 1 ? ring + ((g - 1) % 3) * plane : NULL;
        for (size_t i = 0; i < plane; i++) {
            double s = 0.5 * cur[i] + 0.25 * next[i] + (prev ? 0.25 * prev[i] : 0.0);
            if (s > best) {
                best = s;
                peak[0] = (long)g;
                peak[1] = (long)(i / cols);
                peak[2] = (long)(i % cols);
            }
        }
    }
    if (measured == 0) {
        st = bcdi_error(BCDI_ERR_DATA,
                        "'%s': every pixel is masked (gaps, bad pixels, "
                        "saturation, invalid values): nothing to prepare",
                        c->in.path);
        goto done;
    }
    if (!(total > 0.0)) {
        st = bcdi_error(BCDI_ERR_DATA,
                        "'%s': all %zu measured pixels of the %zu x %zu x %zu "
                        "stack are zero after corrections: no Bragg peak",
                        c->in.path, measured, F, rows, cols);
        goto done;
    }
    if (use_com) {
        for (int a = 0; a < 3; a++)
            peak[a] = lround(moment[a] / total);
    } else {
        /* smoothing found the peak's neighbourhood (a lone hot pixel cannot win); report the
         * brightest measured voxel within ±2 of it */
        const long reach = 2;
        size_t side = 2 * (size_t)reach + 1;
        long centre[3] = {peak[0], peak[1], peak[2]};
        float top = -1.0f;
        long best_dist = LONG_MAX;
        for (long f2 = centre[0] - reach; f2 <= centre[0] + reach; f2++) {
            if (f2 < 0 || f2 >= (long)F) continue;
            if ((st = prep_read_region(c, f2, centre[1] - reach, side, centre[2] - reach, side, val,
                                       msk)) != BCDI_OK)
                goto done;
            for (size_t i = 0; i < side * side; i++) {
                /* masked voxels hold 0, saturated ones their value; on a saturated plateau the
                 * tie goes to the voxel nearest the smoothed maximum */
                long dr = (long)(i / side) - reach, dc = (long)(i % side) - reach;
                long df = f2 - centre[0], dist = df * df + dr * dr + dc * dc;
                if (val[i] > top || (val[i] == top && dist < best_dist)) {
                    top = val[i];
                    best_dist = dist;
                    c->peak_value = top;
                    peak[0] = f2;
                    peak[1] = centre[1] + dr;
                    peak[2] = centre[2] + dc;
                }
            }
        }
    }
    bcdi_log(BCDI_LOG_INFO, "peak (%s): frame %ld, row %ld, column %ld",
             use_com ? "centre of mass" : "maximum after smoothing", peak[0], peak[1], peak[2]);
done:
    free(val);
    free(tmp);
    free(msk);
    free(ring);
    return st;
}

bcdi_status prep_box_size(const prep_ctx *c, size_t S[3])
{
    const bcdi_prepare_params *p = c->p;
    const long *bin = p->bin;
    long req[3];
    if (!p->box_auto) {
        memcpy(req, p->box, sizeof req);
    } else {
        req[0] = (long)c->dims[0]; /* (a stack's checked size fits a long) */
        req[1] = (long)(c->dims[1] < 256 ? c->dims[1] : 256);
        req[2] = (long)(c->dims[2] < 256 ? c->dims[2] : 256);
    }
    static const char *const axis_name[3] = {"frames", "rows", "columns"};
    for (int a = 0; a < 3; a++) { /* (box and bin >= 1: the keys' ranges) */
        size_t binned = bcdi_prepare_good_size((size_t)((req[a] + bin[a] - 1) / bin[a]));
        if (!binned)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "keys 'box' and 'bin': %ld %s binned by %ld is more than %d voxels "
                              "along that axis, the most a prepared array may have",
                              req[a], axis_name[a], bin[a], BCDI_PREPARE_MAX_AXIS);
        S[a] = binned * (size_t)bin[a];
    }
    return BCDI_OK;
}

bcdi_status prep_place_box(const prep_ctx *c, const long centre[3], const size_t S[3],
                           long origin[3])
{
    const bcdi_prepare_params *p = c->p;
    const long *bin = p->bin;
    int outside = 0;
    for (int a = 0; a < 3; a++) {
        origin[a] = centre[a] - (long)(S[a] / 2);
        /* no overlap with the input on some axis: every voxel would be padding */
        outside |= origin[a] + (long)S[a] <= 0 || origin[a] >= (long)c->dims[a];
    }
    if (outside)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "the %zu x %zu x %zu box around %ld,%ld,%ld (key 'center'%s) lies "
                          "outside the input's %zu x %zu x %zu: it would hold no measured voxel",
                          S[0], S[1], S[2], centre[0], centre[1], centre[2],
                          p->center_auto ? ": auto, the peak" : "", c->dims[0], c->dims[1],
                          c->dims[2]);
    bcdi_log(BCDI_LOG_INFO,
             "box %zu x %zu x %zu from (%ld, %ld, %ld) (requested %ld x %ld x %ld, "
             "bin %ld,%ld,%ld)",
             S[0], S[1], S[2], origin[0], origin[1], origin[2],
             p->box_auto ? (long)S[0] : p->box[0], p->box_auto ? (long)S[1] : p->box[1],
             p->box_auto ? (long)S[2] : p->box[2], bin[0], bin[1], bin[2]);
    return BCDI_OK;
}
