/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`: raw frames -> phasing-ready prepared data (docs/prepare.md); the driver of the
 * steps in prep_*.c (prep_internal.h lists them).
 *
 * Two passes over the input, each reading one frame (region) at a time:
 *  1. whole frames, corrected and masked, lightly smoothed (Gaussian in the frame, [1,2,1]/4
 *     across frames, a ring of three frames) -> the peak (or the centre of mass);
 *  2. only the box around the peak -> the prepared array. */
#include "prep/prep_internal.h"
#include "prep/prep_metadata.h"

#include "bcdi/log.h"
#include "core/ckd.h"
#include "core/memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The memory prepare will hold, from the input's shape and the keys (before any frame or
 * calibration image is read): the calibration planes (kept), then the larger of pass 1 (whole
 * frames: the region read, its values and mask, the blur's temporary, a ring of three smoothed
 * frames) and pass 2 (the box, its mask, the binned copy), plus 64 MiB for the libraries. */
static double memory_estimate(const prep_ctx *c, const size_t S[3])
{
    const bcdi_prepare_params *p = c->p;
    double stored = (double)c->in.dims[1] * (double)c->in.dims[2];
    double plane = (double)c->dims[1] * (double)c->dims[2];
    double box = (double)S[0] * (double)S[1] * (double)S[2];
    double binned = box / ((double)p->bin[0] * (double)p->bin[1] * (double)p->bin[2]);
    int tiff = c->in.kind == PREP_INPUT_TIFF_FILES || c->in.kind == PREP_INPUT_TIFF_PAGES;
    double kept = 8.0 * ((double)c->dims[1] + (double)c->dims[2]) + 8.0 * (double)c->dims[0] +
                  stored * (1.0 + (prep_unset(p->dark_file) ? 0.0 : 4.0) +
                            (prep_unset(p->flat_file) ? 0.0 : 12.0) +
                            (prep_unset(p->mask_file) ? 0.0 : 4.0)) +
                  stored * (5.0 + (tiff ? 4.0 : 0.0));
    double pass1 = plane * (9.0 + (p->peak_com ? 0.0 : 12.0));
    double pass2 = box * 5.0 + binned * 5.0;
    /* a .mat variable or a stack reordered by axes= is held whole */
    if (c->in.whole)
        kept += 4.0 * (double)c->in.dims[0] * (double)c->in.dims[1] * (double)c->in.dims[2];
    return 64.0 * 1048576.0 + kept + (pass1 > pass2 ? pass1 : pass2);
}

bcdi_status bcdi_prepare_load(const char *input, const bcdi_prepare_params *params,
                              bcdi_prepared *out)
{
    memset(out, 0, sizeof *out);
    prep_ctx c;
    memset(&c, 0, sizeof c);
    c.p = params;
    prep_metadata meta;
    memset(&meta, 0, sizeof meta);
    bcdi_prepare_params *found = NULL; /* params with a dataset folder's calibration images */
    float *I = NULL;
    uint8_t *M = NULL;
    bcdi_status st = prep_input_open(input, params->input_format, params->data_path, &c.in);
    if (st != BCDI_OK || (st = prep_setup_axes(&c)) != BCDI_OK) goto fail;
    if (strcmp(c.in.path, input))
        bcdi_log(BCDI_LOG_NOTICE, "input: the frames/ folder of '%s'", input);
    bcdi_log(BCDI_LOG_INFO, "input '%s': %zu frames of %zu x %zu, %s%s%s", c.in.path, c.in.dims[0],
             c.in.dims[1], c.in.dims[2], bcdi_dtype_name(c.in.stored),
             c.in.h5 || c.in.kind == PREP_INPUT_MAT ? ", dataset " : "",
             c.in.h5 || c.in.kind == PREP_INPUT_MAT ? c.in.data_path : "");
    if ((st = prep_metadata_resolve(&c.in, params, &meta)) != BCDI_OK) goto fail;
    /* a dataset folder: its calibration images, for the keys left empty */
    if (strcmp(c.in.path, input)) {
        if (!(found = malloc(sizeof *found))) {
            st = bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
            goto fail;
        }
        *found = *params;
        prep_find_calibration(input, meta.beamline, found);
        c.p = params = found;
    }
    /* the box's size from the keys and the input's shape, a given centre's box, and the memory
     * the run needs, checked before any frame or calibration image is read */
    const long *bin = params->bin;
    size_t S[3];
    long origin[3];
    if ((st = prep_setup_frame_map(&c)) != BCDI_OK || (st = prep_box_size(&c, S)) != BCDI_OK)
        goto fail;
    if (!params->center_auto && (st = prep_place_box(&c, params->center, S, origin)) != BCDI_OK)
        goto fail;
    char how[200];
    snprintf(how, sizeof how, "frames of %zu x %zu, a %zu x %zu x %zu box", c.dims[1], c.dims[2],
             S[0], S[1], S[2]);
    if ((st = bcdi_memory_check(memory_estimate(&c, S), params->max_memory, "prepare", how,
                                "use a smaller box= or more bin=, or raise max_memory=")) !=
        BCDI_OK)
        goto fail;
    if ((st = prep_setup_masks(&c)) != BCDI_OK || (st = prep_setup_corrections(&c)) != BCDI_OK)
        goto fail;
    prep_setup_saturation(&c);
    c.invalid_is_error = params->invalid_is_error;
    c.photon_threshold = params->photon_threshold;
    if (params->photon_threshold_auto) {
        /* measured on the gold scan, a floor of 2 makes the reconstruction reproducible; the
         * simulator's Poisson counts have no detector background, so a floor only biases them
         * (docs/prepare.md, "Floor and background") */
        int simulated = c.in.h5 && bcdi_h5_exists(c.in.h5, "entry1/simulation");
        c.photon_threshold = simulated ? 0.0 : 2.0;
        bcdi_log(BCDI_LOG_NOTICE, "floor: counts below %g become 0 (photon_threshold=auto: %s)",
                 c.photon_threshold,
                 simulated ? "a braggcdi simulate file, no detector background"
                           : "measured data; photon_threshold=0 keeps every count");
    }
    c.background = params->background;
    c.pad_zeros = params->padding == BCDI_PREPARE_PAD_ZEROS;
    c.hot_pixels = params->hot_pixels;
    c.hot_factor = params->hot_factor;
    double step_from_file;
    bcdi_geometry g;
    if ((st = prep_setup_frames(&c, &step_from_file)) != BCDI_OK ||
        (st = prep_geometry_resolve(&c, &meta, step_from_file, &g)) != BCDI_OK)
        goto fail;
    /* pass 1: the peak */
    double sigma = params->peak_smoothing;
    long peak[3] = {0, 0, 0}, centre[3];
    c.peak_pass = 1;
    st = prep_find_peak(&c, params->peak_com, sigma, peak);
    c.peak_pass = 0;
    if (st != BCDI_OK) goto fail;
    memcpy(centre, peak, sizeof centre);
    if (!params->center_auto) {
        memcpy(centre, params->center, sizeof centre);
        bcdi_log(BCDI_LOG_INFO, "box centre %ld,%ld,%ld (key 'center')", centre[0], centre[1],
                 centre[2]);
    }
    /* the box: bin x an even FFT-friendly size around the centre */
    if ((st = prep_place_box(&c, centre, S, origin)) != BCDI_OK) goto fail;
    if (params->padding == BCDI_PREPARE_PAD_CROP) prep_crop_box(&c, centre, S, origin);
    for (int a = 0; a < 3; a++)
        out->bin[a] = (size_t)bin[a];
    /* pass 2: the box only */
    size_t plane = S[1] * S[2], n;
    if ((st = bcdi_ckd_volume(S, 3, sizeof *I, &n, NULL, "prepare: the box (keys 'box', 'bin')")) !=
        BCDI_OK)
        goto fail;
    I = malloc(n * sizeof *I);
    M = malloc(n);
    if (!I || !M) {
        st = bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate the %zu x %zu x %zu box", S[0],
                        S[1], S[2]);
        goto fail;
    }
    c.counting = 1;
    for (size_t k = 0; k < S[0]; k++) {
        if ((st = prep_read_region(&c, origin[0] + (long)k, origin[1], S[1], origin[2], S[2],
                                   I + k * plane, M + k * plane)) != BCDI_OK)
            goto fail;
        if (c.pad_zeros)
            prep_zero_padding(&c, origin[0] + (long)k, origin[1], S[1], origin[2], S[2],
                              I + k * plane, M + k * plane);
    }
    size_t measured = 0;
    for (size_t i = 0; i < n; i++)
        measured += !M[i];
    if (measured == 0) {
        st =
            bcdi_error(BCDI_ERR_DATA,
                       "'%s': the %zu x %zu x %zu box from %ld,%ld,%ld (keys 'box', 'center') "
                       "holds no measured voxel (%zu gap, %zu bad, %zu saturated, %zu invalid, "
                       "%zu in user boxes, %zu padding): nothing to prepare",
                       input, S[0], S[1], S[2], origin[0], origin[1], origin[2], c.n_gap,
                       c.n_static, c.n_saturated, c.n_invalid, c.n_user,
                       n - c.n_gap - c.n_static - c.n_saturated - c.n_invalid - c.n_user - c.n_hot);
        goto fail;
    }
    bcdi_log(BCDI_LOG_NOTICE,
             "masked in the box: %zu gap, %zu bad (mask/flat), %zu saturated, "
             "%zu invalid (NaN/negative), %zu user boxes/aliens, %zu hot",
             c.n_gap, c.n_static, c.n_saturated, c.n_invalid, c.n_user, c.n_hot);
    if (c.n_invalid)
        bcdi_log(BCDI_LOG_WARN, "%zu NaN, infinite or negative pixels in the box were masked",
                 c.n_invalid);
    /* summary on the unbinned box, with the unbinned geometry */
    bcdi_diffraction_summary *s = &out->summary;
    memcpy(s->peak, peak, sizeof peak);
    long pi[3] = {peak[0] - origin[0], peak[1] - origin[1], peak[2] - origin[2]};
    s->peak_intensity = c.peak_value;
    if (pi[0] >= 0 && pi[1] >= 0 && pi[2] >= 0 && pi[0] < (long)S[0] && pi[1] < (long)S[1] &&
        pi[2] < (long)S[2]) {
        size_t at = ((size_t)pi[0] * S[1] + (size_t)pi[1]) * S[2] + (size_t)pi[2];
        if (!M[at]) s->peak_intensity = I[at];
    }
    bcdi_geometry g_unbinned = g;
    if ((st = bcdi_geometry_compute(&g_unbinned, S)) != BCDI_OK) goto fail;
    if ((st = prep_summarise(&c, I, M, S, origin, &g_unbinned, c.reference, s)) != BCDI_OK)
        goto fail;
    /* binning */
    if (bin[0] > 1 || bin[1] > 1 || bin[2] > 1) {
        float *bI;
        uint8_t *bM;
        size_t bs[3], bin_u[3] = {(size_t)bin[0], (size_t)bin[1], (size_t)bin[2]};
        if ((st = bcdi_prepare_bin(S, I, M, bin_u, bs, &bI, &bM)) != BCDI_OK) goto fail;
        free(I);
        free(M);
        I = bI;
        M = bM;
        memcpy(out->shape, bs, sizeof bs);
    } else {
        memcpy(out->shape, S, sizeof S);
    }
    size_t nout = out->shape[0] * out->shape[1] * out->shape[2], masked = 0;
    for (size_t i = 0; i < nout; i++)
        masked += M[i] != 0;
    s->masked_voxels = masked;
    s->voxels = nout;
    /* geometry of the prepared array: binned pixels and rocking steps */
    g.pixel_size_m[0] *= (double)bin[1];
    g.pixel_size_m[1] *= (double)bin[2];
    g.rocking_step_deg *= (double)bin[0];
    if ((st = bcdi_geometry_compute(&g, out->shape)) != BCDI_OK) goto fail;
    bcdi_log(BCDI_LOG_INFO, "voxel sizes %.2f x %.2f x %.2f nm (frames, rows, columns)",
             g.voxel_size_m[0] * 1e9, g.voxel_size_m[1] * 1e9, g.voxel_size_m[2] * 1e9);
    if ((st = bcdi_prepare_oversampling(out->shape, I, M, params->oversampling_threshold,
                                        s->oversampling)) != BCDI_OK)
        goto fail;
    static const char *const axis_name[3] = {"rocking", "rows", "columns"};
    /* masked voxels near the peak are filled in for the estimate: many of them (a gap through
     * the peak) make it unreliable, and the warning says so */
    size_t central = 0, central_masked = 0;
    for (size_t i0 = 0; i0 < out->shape[0]; i0++)
        for (size_t i1 = 0; i1 < out->shape[1]; i1++)
            for (size_t i2 = 0; i2 < out->shape[2]; i2++) {
                size_t idx[3] = {i0, i1, i2}, near = 1;
                for (int a = 0; a < 3; a++) {
                    size_t half = out->shape[a] / 2, reach = out->shape[a] / 8 + 1;
                    near &= idx[a] + reach >= half && idx[a] <= half + reach;
                }
                if (!near) continue;
                central++;
                central_masked += M[(i0 * out->shape[1] + i1) * out->shape[2] + i2] != 0;
            }
    int unreliable = central_masked * 20 > central; /* more than 5% */
    for (int a = 0; a < 3; a++)
        if (s->oversampling[a] <= 2.0)
            bcdi_log(BCDI_LOG_WARN,
                     "oversampling along %s is %.2f (below 2 or at the limit of "
                     "what the autocorrelation shows)%s",
                     axis_name[a], s->oversampling[a],
                     unreliable ? ", but masked voxels (gaps?) cover part of the peak and make "
                                  "the estimate unreliable"
                                : ": the crystal may be too large for this box; use a larger box "
                                  "or less binning");
    if (unreliable)
        bcdi_log(BCDI_LOG_NOTICE,
                 "oversampling: %zu of the %zu voxels around the peak are masked and were filled "
                 "in for the estimate (Friedel partner, else neighbours): take it as rough",
                 central_masked, central);
    out->intensity = I;
    out->mask = M;
    out->geometry = g;
    memcpy(out->input_dims, c.dims, sizeof c.dims);
    memcpy(out->box_origin, origin, sizeof origin);
    memcpy(out->box_shape, S, sizeof S);
    if (meta.beamline) snprintf(out->beamline, sizeof out->beamline, "%s", meta.beamline->name);
    if (!prep_unset(params->mask_file))
        snprintf(out->mask_file, sizeof out->mask_file, "%s", params->mask_file);
    if (!prep_unset(params->flat_file))
        snprintf(out->flat_file, sizeof out->flat_file, "%s", params->flat_file);
    if (meta.scan) {
        snprintf(out->spec_file, sizeof out->spec_file, "%s", meta.spec_path);
        out->spec_scan = meta.scan_number;
    }
    prep_metadata_free(&meta);
    prep_ctx_free(&c);
    free(found);
    return BCDI_OK;
fail:
    free(I);
    free(M);
    prep_metadata_free(&meta);
    prep_ctx_free(&c);
    free(found);
    memset(out, 0, sizeof *out);
    return st;
}

void bcdi_prepared_free(bcdi_prepared *p)
{
    if (!p) return;
    free(p->intensity);
    free(p->mask);
    memset(p, 0, sizeof *p);
}

bcdi_status bcdi_prepare_run(const char *input, const bcdi_prepare_params *params,
                             const bcdi_config *provenance, bcdi_prepared *out)
{
    bcdi_prepared local;
    bcdi_prepared *p = out ? out : &local;
    if (!params->output[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "prepare: no output file (key 'output')");
    bcdi_status st = bcdi_prepare_load(input, params, p);
    if (st != BCDI_OK) return st;
    st = bcdi_prepare_write(params->output, params->summary_json, p, params->deflate, provenance);
    if (st != BCDI_OK || !out) bcdi_prepared_free(p);
    return st;
}
