/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, output: the prepared data as CXI (with the geometry, the diffraction summary and
 * every configuration value) and the summary as JSON, both or neither. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"
#include "core/output.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/json.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bcdi_status bcdi_prepare_json_path(const char *output, char *buf, size_t capacity)
{
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - output) : strlen(output);
    int n = snprintf(buf, capacity, "%.*s_summary.json", (int)stem, output);
    if (n < 0 || (size_t)n >= capacity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': path too long", output);
    return BCDI_OK;
}

/* The profile fits, one value per axis (rocking, rows, columns): the JSON names of the columns
 * and where each lives in bcdi_gauss_fit and in the CXI summary (io/cxi owns that layout). */
typedef struct {
    const char *json_name;
    size_t fit_offset;     /* of the double in bcdi_gauss_fit */
    size_t summary_offset; /* of the double[3] in bcdi_cxi_summary */
} profile_column;

static const profile_column profile_columns[] = {
    {"gauss_centre_pixel", offsetof(bcdi_gauss_fit, centre),
     offsetof(bcdi_cxi_summary, gauss_centre)},
    {"gauss_fwhm_pixel", offsetof(bcdi_gauss_fit, fwhm), offsetof(bcdi_cxi_summary, gauss_fwhm)},
    {"gauss_amplitude", offsetof(bcdi_gauss_fit, amplitude),
     offsetof(bcdi_cxi_summary, gauss_amplitude)},
    {"gauss_background", offsetof(bcdi_gauss_fit, background),
     offsetof(bcdi_cxi_summary, gauss_background)},
    {"gauss_centre_uncertainty_pixel", offsetof(bcdi_gauss_fit, centre_err),
     offsetof(bcdi_cxi_summary, gauss_centre_err)},
    {"gauss_fwhm_uncertainty_pixel", offsetof(bcdi_gauss_fit, fwhm_err),
     offsetof(bcdi_cxi_summary, gauss_fwhm_err)},
    {"gauss_amplitude_uncertainty", offsetof(bcdi_gauss_fit, amplitude_err),
     offsetof(bcdi_cxi_summary, gauss_amplitude_err)},
    {"gauss_background_uncertainty", offsetof(bcdi_gauss_fit, background_err),
     offsetof(bcdi_cxi_summary, gauss_background_err)},
};
#define PROFILE_COLUMNS (sizeof profile_columns / sizeof *profile_columns)

static void profile_values(const bcdi_diffraction_summary *s, const profile_column *c, double v[3])
{
    for (int a = 0; a < 3; a++)
        memcpy(&v[a], (const char *)&s->profile[a] + c->fit_offset, sizeof v[a]);
}

/* The summary in the prepared CXI (phase copies it into results). */
static bcdi_status write_summary(bcdi_h5_writer *w, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    bcdi_cxi_summary c;
    for (int a = 0; a < 3; a++) {
        c.peak_pixel[a] = (double)s->peak[a];
        c.centre_of_mass[a] = s->centre_of_mass[a];
        c.oversampling[a] = s->oversampling[a];
        c.box_origin[a] = (double)p->box_origin[a];
        c.box_shape[a] = (double)p->box_shape[a];
        c.bin[a] = (double)p->bin[a];
        c.input_shape[a] = (double)p->input_dims[a];
    }
    for (size_t k = 0; k < PROFILE_COLUMNS; k++)
        profile_values(s, &profile_columns[k],
                       (double *)((char *)&c + profile_columns[k].summary_offset));
    c.peak_rocking_deg = s->peak_rocking_deg;
    c.peak_intensity = s->peak_intensity;
    c.com_rocking_deg = s->com_rocking_deg;
    c.integrated_intensity = s->integrated_intensity;
    c.rocking_fwhm_deg = s->rocking_fwhm_deg;
    c.rocking_fwhm_err_deg = s->rocking_fwhm_err_deg;
    c.two_theta_deg = s->two_theta_deg;
    c.d_spacing_m = s->d_spacing_m;
    c.masked_voxels = (long)s->masked_voxels;
    return bcdi_cxi_write_summary(w, &c);
}

/* Three integers (pixels, shapes, box origin: may be negative). */
static json_t *json_longs(const long v[3])
{
    json_t *a = json_array();
    int ok = a != NULL;
    for (int i = 0; ok && i < 3; i++)
        bcdi_json_push(a, json_integer(v[i]), &ok);
    if (!ok) json_decref(a);
    return ok ? a : NULL;
}

/* The summary as JSON (NaN from a failed fit becomes null); NULL when out of memory. */
static json_t *summary_json(const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    long shape[3], bin[3];
    json_t *converged = json_array();
    int ok = converged != NULL;
    for (int a = 0; a < 3; a++) {
        shape[a] = (long)p->shape[a];
        bin[a] = (long)p->bin[a];
        if (converged) bcdi_json_push(converged, json_boolean(s->profile[a].converged), &ok);
    }
    json_t *o = json_object(), *axes = json_array();
    if (!o || !axes) ok = 0;
    for (int a = 0; axes && a < 3; a++) {
        static const char *const names[3] = {"rocking frame", "detector row", "detector column"};
        bcdi_json_push(axes, json_string(names[a]), &ok);
    }
#define PUT(key, value) bcdi_json_put(o, key, value, &ok)
    if (o) {
        PUT("axes", json_incref(axes));
        PUT("peak_pixel", json_longs(s->peak));
        PUT("peak_rocking_angle_deg", bcdi_json_real(s->peak_rocking_deg));
        PUT("peak_intensity", bcdi_json_real(s->peak_intensity));
        PUT("centre_of_mass_pixel", bcdi_json_reals(s->centre_of_mass, 3));
        PUT("centre_of_mass_rocking_angle_deg", bcdi_json_real(s->com_rocking_deg));
        PUT("integrated_intensity", bcdi_json_real(s->integrated_intensity));
        for (size_t k = 0; k < PROFILE_COLUMNS; k++) {
            double v[3];
            profile_values(s, &profile_columns[k], v);
            PUT(profile_columns[k].json_name, bcdi_json_reals(v, 3));
        }
        PUT("gauss_converged", json_incref(converged));
        PUT("rocking_fwhm_deg", bcdi_json_real(s->rocking_fwhm_deg));
        PUT("rocking_fwhm_uncertainty_deg", bcdi_json_real(s->rocking_fwhm_err_deg));
        PUT("two_theta_deg", bcdi_json_real(s->two_theta_deg));
        PUT("d_spacing_m", bcdi_json_real(s->d_spacing_m));
        PUT("oversampling", bcdi_json_reals(s->oversampling, 3));
        PUT("shape", json_longs(shape));
        PUT("box_origin", json_longs(p->box_origin));
        PUT("bin", json_longs(bin));
        PUT("voxel_size_m", bcdi_json_reals(p->geometry.voxel_size_m, 3));
        PUT("energy_kev", bcdi_json_real(p->geometry.energy_kev));
        PUT("masked_voxels", json_integer((json_int_t)s->masked_voxels));
        PUT("voxels", json_integer((json_int_t)s->voxels));
        /* where the geometry came from (null when no preset / no SPEC scan was used) */
        PUT("beamline", p->beamline[0] ? bcdi_json_text(p->beamline) : json_null());
        PUT("spec_file", p->spec_file[0] ? bcdi_json_text(p->spec_file) : json_null());
        PUT("spec_scan", p->spec_file[0] ? json_integer((json_int_t)p->spec_scan) : json_null());
        /* the calibration images used, given or found beside the frames */
        PUT("mask_file", p->mask_file[0] ? bcdi_json_text(p->mask_file) : json_null());
        PUT("flat_file", p->flat_file[0] ? bcdi_json_text(p->flat_file) : json_null());
    }
#undef PUT
    json_decref(axes);
    json_decref(converged);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The summary JSON staged in tx. */
static bcdi_status json_staged(bcdi_output *tx, const char *path, const bcdi_prepared *p)
{
    json_t *root = summary_json(p);
    bcdi_status st = bcdi_json_write(tx, path, root);
    json_decref(root);
    return st;
}

bcdi_status bcdi_diffraction_summary_write_json(const char *path, const bcdi_prepared *p)
{
    bcdi_output *tx = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    if (st == BCDI_OK) st = json_staged(tx, path, p);
    return bcdi_output_finish(tx, st);
}

bcdi_status bcdi_prepare_write(const char *output, const char *json_path, const bcdi_prepared *p,
                               int deflate, const bcdi_config *provenance)
{
    if (!output || !p || !p->intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "prepare: nothing to write");
    char json[PATH_MAX];
    bcdi_status st;
    if (json_path && json_path[0])
        snprintf(json, sizeof json, "%s", json_path);
    else if ((st = bcdi_prepare_json_path(output, json, sizeof json)) != BCDI_OK)
        return st;
    if (deflate < 0 || deflate > 9)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "deflate: %d, expected 0..9", deflate);
    /* the CXI and its summary JSON appear together or not at all */
    bcdi_output *tx = NULL;
    bcdi_h5_writer *w = NULL;
    if ((st = bcdi_output_begin(&tx)) != BCDI_OK ||
        (st = bcdi_cxi_create_in(tx, output, &w)) != BCDI_OK ||
        (st = json_staged(tx, json, p)) != BCDI_OK)
        goto fail;
    if ((st = bcdi_cxi_write_prepared(w, p->shape, p->intensity, p->mask, &p->geometry,
                                      (int)deflate)) != BCDI_OK ||
        (st = write_summary(w, p)) != BCDI_OK)
        goto fail;
    const bcdi_config *cfg = provenance;
    if (cfg &&
        (st = bcdi_cxi_write_config(w, "entry_1/process_1/configuration", bcdi_config_keys(cfg),
                                    bcdi_config_values(cfg), bcdi_config_count(cfg))) != BCDI_OK)
        goto fail;
    if ((st = bcdi_h5_attr_string(w, "entry_1/process_1", "NX_class", "NXprocess")) != BCDI_OK ||
        (st = bcdi_h5_write_string(w, "entry_1/process_1/program", "braggcdi prepare")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_string(w, "entry_1/process_1/version", BCDI_VERSION)) != BCDI_OK)
        goto fail;
    st = bcdi_h5_commit(w);
    w = NULL;
    if (st != BCDI_OK) goto fail;
    st = bcdi_output_commit(tx); /* frees tx, and on failure removes everything */
    tx = NULL;
    if (st != BCDI_OK) goto fail;
    bcdi_log(BCDI_LOG_INFO, "wrote '%s' and '%s'", output, json);
    return BCDI_OK;
fail:
    bcdi_h5_abort(w);
    bcdi_output_abort(tx);
    return st;
}
