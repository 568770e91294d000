/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, corrections: the dark image and the white field, the saturation level, and one
 * region of one frame read, masked (gaps, bad, invalid, saturated, user boxes, hot pixels) and
 * corrected. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"
#include "instrument/beamline.h"
#include "io/hdf5.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* `name` starts with one of the comma-separated prefixes and ends in .tif or .tiff (case
 * ignored). */
static int calibration_name(const char *name, const char *prefixes)
{
    size_t n = strlen(name);
    int tiff = (n > 4 && !strcasecmp(name + n - 4, ".tif")) ||
               (n > 5 && !strcasecmp(name + n - 5, ".tiff"));
    if (!tiff) return 0;
    for (const char *p = prefixes; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n > len && !strncasecmp(name, p, len)) return 1;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

/* The one regular file in `folder` whose name calibration_name() accepts, into `path`: 1 found,
 * 0 none, -1 more than one (their names in `names`). */
static int find_one(const char *folder, const char *prefixes, char *path, size_t size, char *names,
                    size_t names_size)
{
    DIR *dir = opendir(folder);
    if (!dir) return 0;
    int found = 0;
    names[0] = '\0';
    for (struct dirent *e; (e = readdir(dir));) {
        if (!calibration_name(e->d_name, prefixes)) continue;
        char full[PATH_MAX];
        struct stat st;
        int len = snprintf(full, sizeof full, "%s/%s", folder, e->d_name);
        if (len < 0 || (size_t)len >= sizeof full || stat(full, &st) || !S_ISREG(st.st_mode))
            continue;
        size_t used = strlen(names);
        snprintf(names + used, names_size - used, "%s'%s'", used ? ", " : "", e->d_name);
        if (++found == 1) snprintf(path, size, "%s", full);
    }
    closedir(dir);
    return found > 1 ? -1 : found;
}

void prep_find_calibration(const char *folder, const bcdi_beamline *beamline,
                           bcdi_prepare_params *p)
{
    char path[PATH_MAX], names[1024];
    if (!p->flat_file[0]) {
        int k = find_one(folder, "whitefield,white_field,flatfield,flat_field,flat", path,
                         sizeof path, names, sizeof names);
        if (k == 1 && strlen(path) < sizeof p->flat_file) {
            snprintf(p->flat_file, sizeof p->flat_file, "%s", path);
            bcdi_log(BCDI_LOG_NOTICE,
                     "flat field: '%s', found beside the frames (flat_file=none to skip it)", path);
        } else if (k < 0) {
            bcdi_log(BCDI_LOG_WARN,
                     "flat field: several candidates beside the frames (%s): none used; name one "
                     "with flat_file=",
                     names);
        }
    }
    if (!p->mask_file[0] && !p->dark_file[0]) {
        int k =
            find_one(folder, "darkfield,dark_field,dark", path, sizeof path, names, sizeof names);
        int convention = beamline && isfinite(beamline->dark_bad_above);
        if (k == 1 && convention && strlen(path) < sizeof p->mask_file) {
            snprintf(p->mask_file, sizeof p->mask_file, "%s", path);
            if (p->mask_threshold == 0.0) p->mask_threshold = beamline->dark_bad_above;
            bcdi_log(BCDI_LOG_NOTICE,
                     "bad pixels: '%s', found beside the frames, pixels above %g bad (the %s "
                     "convention; mask_file=none to skip it)",
                     path, p->mask_threshold, beamline->name);
        } else if (k == 1) {
            bcdi_log(BCDI_LOG_NOTICE,
                     "'%s' beside the frames is not used: %s says nothing of what its dark image "
                     "holds; give mask_file= (a bad-pixel map) or dark_file= (subtracted)",
                     path, beamline ? beamline->name : "no beamline preset");
        } else if (k < 0) {
            bcdi_log(BCDI_LOG_WARN,
                     "dark image: several candidates beside the frames (%s): none used; name one "
                     "with mask_file= or dark_file=",
                     names);
        }
    }
}

/* The dark image and the white field (stored coordinates); white-field pixels that are <= 0
 * or not finite are added to the bad pixels. */
bcdi_status prep_setup_corrections(prep_ctx *c)
{
    const bcdi_prepare_params *p = c->p;
    size_t sr = c->in.dims[1], sc = c->in.dims[2], plane = sr * sc;
    const long *origin = p->frame_origin;
    const char *mask_file = p->mask_file;
    bcdi_status st;
    float *img = NULL;
    size_t rows = sr, cols = sc;
    const char *dark_file = p->dark_file;
    if (!prep_unset(dark_file)) {
        if ((st = prep_load_image(dark_file, p->dark_dataset, &rows, &cols, origin, p->max_memory,
                                  &c->dark)) != BCDI_OK)
            return st;
        /* a dark pixel that is not finite would make every frame's pixel NaN: mask it */
        size_t bad = 0;
        for (size_t i = 0; i < plane; i++)
            if (!isfinite(c->dark[i])) {
                c->dark[i] = 0.0f;
                bad += !c->bad[i];
                c->bad[i] = 1;
            }
        bcdi_log(BCDI_LOG_INFO, "dark: '%s' subtracted from every frame", dark_file);
        if (bad)
            bcdi_log(BCDI_LOG_WARN, "dark: %zu pixels of '%s' are NaN or infinite: masked", bad,
                     dark_file);
    }
    const char *flat_file = p->flat_file;
    if (!prep_unset(flat_file)) {
        /* the mean is that of the whole white field as stored (bad pixels as zeros), as the
         * usual procedure does; only the frames' part is kept */
        size_t fr = 0, fc = 0;
        const char *ds = p->flat_dataset;
        float *whole = NULL;
        if ((st = prep_load_image(flat_file, ds, &fr, &fc, NULL, p->max_memory, &whole)) != BCDI_OK)
            return st;
        if (!prep_unset(mask_file)) {
            double threshold = p->mask_threshold;
            size_t mr = fr, mc = fc;
            float *mask_whole = NULL;
            if (prep_load_image(mask_file, p->mask_dataset, &mr, &mc, origin, p->max_memory,
                                &mask_whole) == BCDI_OK) {
                for (size_t i = 0; i < fr * fc; i++)
                    if (!(mask_whole[i] <= threshold)) whole[i] = 0.0f;
                free(mask_whole);
            } else {
                bcdi_clear_error(); /* a mask smaller than the white field: mean as it is */
            }
        }
        double mean = 0.0;
        for (size_t i = 0; i < fr * fc; i++)
            if (isfinite(whole[i]) && whole[i] > 0.0f) mean += whole[i];
        mean /= (double)(fr * fc);
        if ((st = prep_cut_image(flat_file, whole, fr, fc, sr, sc, origin, &img)) != BCDI_OK)
            return st;
        if (!(mean > 0.0)) {
            free(img);
            return bcdi_error(BCDI_ERR_DATA, "'%s': white field has no positive pixel", flat_file);
        }
        size_t bad = 0;
        for (size_t i = 0; i < plane; i++) {
            if (isfinite(img[i]) && img[i] > 0.0f) {
                img[i] = (float)(mean / img[i]);
            } else {
                img[i] = 0.0f;
                if (!c->bad[i]) bad++;
                c->bad[i] = 1;
            }
        }
        c->flat_scale = img;
        img = NULL;
        bcdi_log(BCDI_LOG_INFO,
                 "flat field: '%s', mean %.6g, %zu more pixels masked where it is "
                 "<= 0",
                 flat_file, mean, bad);
    }
    return BCDI_OK;
}

void prep_setup_saturation(prep_ctx *c)
{
    long nbits = c->p->bits;
    if (nbits < 0) /* auto */
        nbits = c->in.stored == BCDI_DT_U16 ? 12 : c->in.stored == BCDI_DT_U32 ? 24 : 0;
    c->saturation = nbits > 0 ? (float)(ldexp(1.0, (int)nbits) - 1.0) : 0.0f;
    if (nbits > 0)
        bcdi_log(BCDI_LOG_INFO, "saturation: pixels >= %.0f (%ld bits) are masked",
                 (double)c->saturation, nbits);
}

/* Corrected values and mask of input rows r0.., columns c0.. of input frame f (regions may
 * overhang the input: padding is masked). Masked voxels hold 0 in val; the mask says why not. */
bcdi_status prep_read_region(prep_ctx *c, long f, long r0, size_t nr, long c0, size_t nc,
                             float *val, uint8_t *msk)
{
    size_t n = nr * nc;
    for (size_t i = 0; i < n; i++) {
        val[i] = 0.0f;
        msk[i] = 1;
    }
    if (f < 0 || f >= (long)c->dims[0]) return BCDI_OK;
    /* stored bounding rectangle of the requested input region */
    long sr_lo = LONG_MAX, sr_hi = -1, sc_lo = LONG_MAX, sc_hi = -1;
    for (size_t r = 0; r < nr; r++) {
        long ir = r0 + (long)r;
        if (ir < 0 || ir >= (long)c->dims[1] || c->row_map[ir] < 0) continue;
        sr_lo = c->row_map[ir] < sr_lo ? c->row_map[ir] : sr_lo;
        sr_hi = c->row_map[ir] > sr_hi ? c->row_map[ir] : sr_hi;
    }
    for (size_t col = 0; col < nc; col++) {
        long ic = c0 + (long)col;
        if (ic < 0 || ic >= (long)c->dims[2] || c->col_map[ic] < 0) continue;
        sc_lo = c->col_map[ic] < sc_lo ? c->col_map[ic] : sc_lo;
        sc_hi = c->col_map[ic] > sc_hi ? c->col_map[ic] : sc_hi;
    }
    if (sr_hi < 0 || sc_hi < 0) return BCDI_OK; /* nothing measured in this region */
    size_t snr = (size_t)(sr_hi - sr_lo + 1), snc = (size_t)(sc_hi - sc_lo + 1);
    if (snr * snc > c->stored_cap) {
        free(c->stored_buf);
        free(c->mask3d_buf);
        c->stored_buf = malloc(snr * snc * sizeof *c->stored_buf);
        c->mask3d_buf = prep_mask3d_active(c) ? malloc(snr * snc) : NULL;
        c->stored_cap = c->stored_buf ? snr * snc : 0;
        if (!c->stored_buf || (prep_mask3d_active(c) && !c->mask3d_buf))
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate a %zu x %zu region", snr,
                              snc);
    }
    bcdi_status st =
        prep_input_read(&c->in, (size_t)f, (size_t)sr_lo, snr, (size_t)sc_lo, snc, c->stored_buf);
    if (st != BCDI_OK) return st;
    if (prep_mask3d_active(c) &&
        (st = prep_mask3d_read(c, f, (size_t)sr_lo, snr, (size_t)sc_lo, snc)) != BCDI_OK)
        return st;
    size_t scols = c->in.dims[2];
    double monitor = c->monitor_scale ? c->monitor_scale[f] : 1.0;
    for (size_t r = 0; r < nr; r++) {
        long ir = r0 + (long)r;
        if (ir < 0 || ir >= (long)c->dims[1]) continue;
        long sr = c->row_map[ir];
        for (size_t col = 0; col < nc; col++) {
            long ic = c0 + (long)col;
            size_t i = r * nc + col;
            if (ic < 0 || ic >= (long)c->dims[2]) continue;
            long sc = c->col_map[ic];
            if (sr < 0 || sc < 0) {
                if (c->counting) c->n_gap++;
                continue;
            }
            size_t s = (size_t)sr * scols + (size_t)sc;
            size_t b = (size_t)(sr - sr_lo) * snc + (size_t)(sc - sc_lo);
            float v = c->stored_buf[b];
            if (c->bad[s] || (c->mask3d_buf && c->mask3d_buf[b])) {
                if (c->counting) c->n_static++;
                continue;
            }
            if (!isfinite(v) || v < 0.0f) {
                if (c->invalid_is_error)
                    return bcdi_error(BCDI_ERR_DATA,
                                      "'%s': frame %ld, row %ld, column %ld holds "
                                      "%g (NaN, infinite or negative; invalid=mask masks such "
                                      "pixels)",
                                      c->in.path, f, sr, sc, (double)v);
                if (c->counting) c->n_invalid++;
                continue;
            }
            if (c->saturation > 0.0f && v >= c->saturation) {
                if (c->counting) c->n_saturated++;
                /* masked, but the peak search must see the brightest pixels of a saturated
                 * Bragg peak, not a hole */
                if (c->peak_pass) val[i] = v;
                continue;
            }
            if (prep_in_user_box(c->p, f, ir, ic)) {
                if (c->counting) c->n_user++;
                continue;
            }
            float corrected = prep_corrected(c, s, v, monitor);
            if (!isfinite(corrected)) { /* beyond float32 once corrected (white field, monitor) */
                if (c->invalid_is_error)
                    return bcdi_error(BCDI_ERR_DATA,
                                      "'%s': frame %ld, row %ld, column %ld holds %g, beyond "
                                      "float32 once corrected (invalid=mask masks such pixels)",
                                      c->in.path, f, sr, sc, (double)v);
                if (c->counting) c->n_invalid++;
                continue;
            }
            val[i] = corrected;
            msk[i] = 0;
        }
    }
    if (c->hot_pixels) prep_mask_hot_pixels(c, nr, nc, val, msk);
    return BCDI_OK;
}
