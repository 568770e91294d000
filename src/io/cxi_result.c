/* SPDX-License-Identifier: BSD-3-Clause */
/* Phasing results and the diffraction summary in CXI files (layouts in cxi_result.h). */
#include "io/cxi_result.h"

#include "io/cxi.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUM BCDI_CXI_SUMMARY_GROUP
#define IMAGE "entry_1/image_1"
#define CONFIGURATION IMAGE "/process_1/configuration"
#define RESULTS IMAGE "/process_1/results"
#define COMBINED IMAGE "/process_1/combined"

/* ------------------------------------------------------------------------------------------ */
/* diffraction summary                                                                        */

static bcdi_status write_vec3(bcdi_h5_writer *w, const char *name, const double v[3],
                              const char *units)
{
    char path[160];
    size_t three = 3;
    snprintf(path, sizeof path, SUM "/%s", name);
    bcdi_status st = bcdi_h5_write(w, path, BCDI_DT_F64, 1, &three, v, 0);
    if (st == BCDI_OK && units) st = bcdi_h5_attr_string(w, path, "units", units);
    return st;
}

bcdi_status bcdi_cxi_write_summary(bcdi_h5_writer *w, const bcdi_cxi_summary *s)
{
    if (!w || !s) return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI summary: NULL argument");
    bcdi_status st;
    if ((st = bcdi_h5_group(w, SUM, "NXcollection")) != BCDI_OK ||
        (st = write_vec3(w, "peak_pixel", s->peak_pixel, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/peak_rocking_angle", s->peak_rocking_deg, "deg")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/peak_intensity", s->peak_intensity, "photons")) !=
            BCDI_OK ||
        (st = write_vec3(w, "centre_of_mass", s->centre_of_mass, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/com_rocking_angle", s->com_rocking_deg, "deg")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/integrated_intensity", s->integrated_intensity,
                                   "photons")) != BCDI_OK ||
        (st = write_vec3(w, "gauss_centre", s->gauss_centre, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_fwhm", s->gauss_fwhm, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_amplitude", s->gauss_amplitude, "photons")) != BCDI_OK ||
        (st = write_vec3(w, "gauss_background", s->gauss_background, "photons")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/rocking_fwhm", s->rocking_fwhm_deg, "deg")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/two_theta", s->two_theta_deg, "deg")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/d_spacing", s->d_spacing_m, "m")) != BCDI_OK ||
        (st = write_vec3(w, "oversampling", s->oversampling, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_int(w, SUM "/masked_voxels", s->masked_voxels)) != BCDI_OK ||
        (st = write_vec3(w, "box_origin", s->box_origin, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "box_shape", s->box_shape, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "bin", s->bin, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "input_shape", s->input_shape, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_centre_uncertainty", s->gauss_centre_err, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_fwhm_uncertainty", s->gauss_fwhm_err, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_amplitude_uncertainty", s->gauss_amplitude_err, "photons")) !=
            BCDI_OK ||
        (st = write_vec3(w, "gauss_background_uncertainty", s->gauss_background_err, "photons")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/rocking_fwhm_uncertainty", s->rocking_fwhm_err_deg,
                                   "deg")) != BCDI_OK)
        return st;
    return BCDI_OK;
}

int bcdi_cxi_has_summary(bcdi_h5_reader *r)
{
    return r && bcdi_h5_exists(r, SUM);
}

/* One value or three: required ones must be there; optional ones absent stay as they are. */
static bcdi_status read_summary_field(bcdi_h5_reader *r, const char *name, double *out, size_t n,
                                      int required)
{
    char path[160];
    snprintf(path, sizeof path, SUM "/%s", name);
    if (!bcdi_h5_exists(r, path)) {
        if (!required) return BCDI_OK;
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': the diffraction summary has no '%s'",
                          bcdi_h5_path(r), path);
    }
    if (n == 1) return bcdi_h5_read_double(r, path, out);
    int rank;
    size_t dims[8];
    bcdi_status st = bcdi_h5_shape(r, path, &rank, dims, NULL);
    if (st != BCDI_OK) return st;
    if (rank != 1 || dims[0] != n)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' should hold %zu values", bcdi_h5_path(r),
                          path, n);
    return bcdi_h5_read(r, path, BCDI_DT_F64, out, n);
}

bcdi_status bcdi_cxi_read_summary(bcdi_h5_reader *r, bcdi_cxi_summary *s)
{
    if (!r || !s) return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI summary: NULL argument");
    if (!bcdi_cxi_has_summary(r))
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' has no %s", bcdi_h5_path(r), SUM);
    bcdi_cxi_summary t;
    const double nan3[3] = {NAN, NAN, NAN};
    memcpy(t.peak_pixel, nan3, sizeof nan3);
    memcpy(t.centre_of_mass, nan3, sizeof nan3);
    memcpy(t.gauss_centre, nan3, sizeof nan3);
    memcpy(t.gauss_fwhm, nan3, sizeof nan3);
    memcpy(t.gauss_amplitude, nan3, sizeof nan3);
    memcpy(t.gauss_background, nan3, sizeof nan3);
    memcpy(t.gauss_centre_err, nan3, sizeof nan3);
    memcpy(t.gauss_fwhm_err, nan3, sizeof nan3);
    memcpy(t.gauss_amplitude_err, nan3, sizeof nan3);
    memcpy(t.gauss_background_err, nan3, sizeof nan3);
    t.rocking_fwhm_err_deg = NAN;
    memcpy(t.oversampling, nan3, sizeof nan3);
    memcpy(t.box_origin, nan3, sizeof nan3);
    memcpy(t.box_shape, nan3, sizeof nan3);
    memcpy(t.input_shape, nan3, sizeof nan3);
    t.peak_rocking_deg = t.peak_intensity = t.com_rocking_deg = t.integrated_intensity = NAN;
    t.rocking_fwhm_deg = t.two_theta_deg = t.d_spacing_m = NAN;
    t.bin[0] = t.bin[1] = t.bin[2] = 1.0;
    double masked = -1.0;
    bcdi_status st;
    if ((st = read_summary_field(r, "two_theta", &t.two_theta_deg, 1, 1)) != BCDI_OK ||
        (st = read_summary_field(r, "com_rocking_angle", &t.com_rocking_deg, 1, 1)) != BCDI_OK ||
        (st = read_summary_field(r, "integrated_intensity", &t.integrated_intensity, 1, 1)) !=
            BCDI_OK ||
        (st = read_summary_field(r, "centre_of_mass", t.centre_of_mass, 3, 1)) != BCDI_OK ||
        (st = read_summary_field(r, "peak_pixel", t.peak_pixel, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "peak_rocking_angle", &t.peak_rocking_deg, 1, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "peak_intensity", &t.peak_intensity, 1, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "gauss_centre", t.gauss_centre, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "gauss_fwhm", t.gauss_fwhm, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "gauss_amplitude", t.gauss_amplitude, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "gauss_background", t.gauss_background, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "rocking_fwhm", &t.rocking_fwhm_deg, 1, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "d_spacing", &t.d_spacing_m, 1, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "oversampling", t.oversampling, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "masked_voxels", &masked, 1, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "box_origin", t.box_origin, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "box_shape", t.box_shape, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "bin", t.bin, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "input_shape", t.input_shape, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "gauss_centre_uncertainty", t.gauss_centre_err, 3, 0)) !=
            BCDI_OK ||
        (st = read_summary_field(r, "gauss_fwhm_uncertainty", t.gauss_fwhm_err, 3, 0)) != BCDI_OK ||
        (st = read_summary_field(r, "gauss_amplitude_uncertainty", t.gauss_amplitude_err, 3, 0)) !=
            BCDI_OK ||
        (st = read_summary_field(r, "gauss_background_uncertainty", t.gauss_background_err, 3,
                                 0)) != BCDI_OK ||
        (st = read_summary_field(r, "rocking_fwhm_uncertainty", &t.rocking_fwhm_err_deg, 1, 0)) !=
            BCDI_OK)
        return st;
    t.masked_voxels = masked >= 0 ? (long)masked : -1;
    *s = t;
    return BCDI_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* results                                                                                    */

static bcdi_status write_results(bcdi_h5_writer *w, const bcdi_cxi_result *r)
{
    static const struct {
        const char *name;
        size_t offset;
    } doubles[] = {
        {"fourier_error", offsetof(bcdi_cxi_result, fourier_error)},
        {"llk", offsetof(bcdi_cxi_result, llk)},
        {"free_llk", offsetof(bcdi_cxi_result, free_llk)},
        {"sharpness", offsetof(bcdi_cxi_result, sharpness)},
        {"support_fraction", offsetof(bcdi_cxi_result, support_fraction)},
        {"outside_fraction", offsetof(bcdi_cxi_result, outside_fraction)},
        {"shrinkwrap_threshold", offsetof(bcdi_cxi_result, shrinkwrap_threshold)},
        {"elapsed_s", offsetof(bcdi_cxi_result, elapsed_s)},
    };
    const struct {
        const char *name;
        long value;
    } ints[] = {
        {"rank", r->rank},         {"run_id", r->run_id},         {"generation", r->generation},
        {"restarts", r->restarts}, {"iterations", r->iterations}, {"seed", r->seed}};
    const struct {
        const char *name, *value;
    } texts[] = {{"metric", r->metric},
                 {"backend", r->backend},
                 {"device", r->device},
                 {"program", r->program}};
    char key[256];
    bcdi_status st = BCDI_OK;
    for (size_t i = 0; st == BCDI_OK && i < sizeof doubles / sizeof *doubles; ++i) {
        snprintf(key, sizeof key, RESULTS "/%s", doubles[i].name);
        st = bcdi_h5_write_double(w, key, *(const double *)((const char *)r + doubles[i].offset),
                                  NULL);
    }
    /* the metrics' definitions travel with them (fourier_error held its square before) */
    if (st == BCDI_OK)
        st = bcdi_h5_attr_string(w, RESULTS "/fourier_error", "definition",
                                 "sqrt(sum_M (|F| - sqrt(I))^2 / sum_M I), M: measured voxels");
    if (st == BCDI_OK)
        st = bcdi_h5_attr_string(w, RESULTS "/llk", "definition",
                                 "(1/|M|) sum_M (Ic - I + I ln(I/Ic)), Ic = |F|^2: Poisson "
                                 "deviance / 2 per measured voxel");
    for (size_t i = 0; st == BCDI_OK && i < sizeof ints / sizeof *ints; ++i) {
        snprintf(key, sizeof key, RESULTS "/%s", ints[i].name);
        st = bcdi_h5_write_int(w, key, ints[i].value);
    }
    for (size_t i = 0; st == BCDI_OK && i < sizeof texts / sizeof *texts; ++i) {
        if (!texts[i].value) continue;
        snprintf(key, sizeof key, RESULTS "/%s", texts[i].name);
        st = bcdi_h5_write_string(w, key, texts[i].value);
    }
    size_t three = 3;
    double origin[3] = {(double)r->crop_origin[0], (double)r->crop_origin[1],
                        (double)r->crop_origin[2]};
    /* the grid the object was phased on: a cropped object's real-space basis is that grid's */
    double data_shape[3] = {(double)r->data_shape[0], (double)r->data_shape[1],
                            (double)r->data_shape[2]};
    if (!r->data_shape[0] || !r->data_shape[1] || !r->data_shape[2])
        for (int a = 0; a < 3; ++a)
            data_shape[a] = (double)(r->crop_origin[a] + r->shape[a]);
    if (st == BCDI_OK)
        st = bcdi_h5_write(w, RESULTS "/crop_origin", BCDI_DT_F64, 1, &three, origin, 0);
    if (st == BCDI_OK)
        st = bcdi_h5_write(w, RESULTS "/data_shape", BCDI_DT_F64, 1, &three, data_shape, 0);
    if (st == BCDI_OK && r->psf) {
        size_t psf_dims[3] = {r->data_shape[0], r->data_shape[1], r->data_shape[2]};
        st = bcdi_h5_write(w, RESULTS "/psf", BCDI_DT_F32, 3, psf_dims, r->psf, r->deflate_level);
        if (st == BCDI_OK)
            st = bcdi_h5_attr_string(w, RESULTS "/psf", "description",
                                     "partial-coherence point-spread function on the detector "
                                     "grid (centred like the data, unit sum): the measured "
                                     "intensity is modelled as |Psi|^2 convolved with it");
        if (st == BCDI_OK)
            st = bcdi_h5_write(w, RESULTS "/psf_sigma", BCDI_DT_F64, 1, &three, r->psf_sigma, 0);
        if (st == BCDI_OK)
            st = bcdi_h5_attr_string(w, RESULTS "/psf_sigma", "units",
                                     "detector voxels (rms width per axis of the Gaussian PSF)");
    }
    if (st == BCDI_OK && r->history_rows) {
        size_t dims[2] = {r->history_rows, BCDI_CXI_HISTORY_NCOLUMNS};
        st = bcdi_h5_write(w, RESULTS "/history", BCDI_DT_F64, 2, dims, r->history, 0);
        if (st == BCDI_OK)
            st = bcdi_h5_attr_string(w, RESULTS "/history", "columns", BCDI_CXI_HISTORY_COLUMNS);
    }
    return st;
}

/* `count` values as float64 at COMBINED/name (units may be NULL). */
static bcdi_status write_doubles(bcdi_h5_writer *w, const char *name, const double *v, size_t count,
                                 const char *units)
{
    char path[256];
    snprintf(path, sizeof path, COMBINED "/%s", name);
    bcdi_status st = bcdi_h5_write(w, path, BCDI_DT_F64, 1, &count, v, 0);
    if (st == BCDI_OK && units) st = bcdi_h5_attr_string(w, path, "units", units);
    return st;
}

static bcdi_status write_combined(bcdi_h5_writer *w, const bcdi_cxi_combined *c)
{
    size_t k = c->runs;
    double *row = malloc((k ? k : 1) * 4 * sizeof *row);
    if (!row) return bcdi_error(BCDI_ERR_NOMEM, "out of memory writing the combined runs");
    double *ids = row, *generations = row + k, *twinned = row + 2 * k;
    for (size_t i = 0; i < k; ++i) {
        ids[i] = (double)c->run_ids[i];
        generations[i] = (double)c->generations[i] + 1.0;
        twinned[i] = c->twinned[i] ? 1.0 : 0.0;
    }
    const char *length = c->physical ? "nm" : "voxel";
    const char *frequency = c->physical ? "1/nm" : "1/voxel";
    bcdi_status st = bcdi_h5_group(w, COMBINED, "NXcollection");
    if (st == BCDI_OK) st = bcdi_h5_write_int(w, COMBINED "/runs", (long)k);
    if (st == BCDI_OK) st = write_doubles(w, "run_id", ids, k, NULL);
    if (st == BCDI_OK) st = write_doubles(w, "generation", generations, k, NULL);
    if (st == BCDI_OK) st = write_doubles(w, "correlation", c->correlation, k, NULL);
    if (st == BCDI_OK) st = write_doubles(w, "twinned", twinned, k, NULL);
    if (st == BCDI_OK) st = write_doubles(w, "mode_weights", c->mode_weights, k, NULL);
    const struct {
        const char *name;
        double value;
    } scalars[] = {{"first_mode_weight", c->mode_weights[0]},
                   {"complex_correlation_mean", c->complex_mean},
                   {"complex_correlation_min", c->complex_min},
                   {"complex_correlation_max", c->complex_max},
                   {"amplitude_correlation_mean", c->amplitude_mean},
                   {"amplitude_correlation_min", c->amplitude_min},
                   {"amplitude_correlation_max", c->amplitude_max},
                   {"prtf_threshold", c->threshold}};
    for (size_t i = 0; st == BCDI_OK && i < sizeof scalars / sizeof *scalars; ++i)
        st = write_doubles(w, scalars[i].name, &scalars[i].value, 1, NULL);
    /* the PRTF curves and the resolution read from each */
    static const char *const curves[4] = {"prtf_overall", "prtf_axis0", "prtf_axis1", "prtf_axis2"};
    double resolution[3], reached[3];
    for (int a = 0; a < 3; ++a) {
        resolution[a] = c->prtf[a + 1].resolution;
        reached[a] = c->prtf[a + 1].reached;
    }
    for (int i = 0; st == BCDI_OK && i < 4; ++i) {
        char name[64];
        snprintf(name, sizeof name, "%s_frequency", curves[i]);
        st = write_doubles(w, name, c->prtf[i].frequency, c->prtf[i].count, frequency);
        snprintf(name, sizeof name, "%s", curves[i]);
        if (st == BCDI_OK) st = write_doubles(w, name, c->prtf[i].value, c->prtf[i].count, NULL);
    }
    if (st == BCDI_OK) st = write_doubles(w, "resolution", resolution, 3, length);
    if (st == BCDI_OK) st = write_doubles(w, "resolution_reached", reached, 3, NULL);
    if (st == BCDI_OK)
        st = write_doubles(w, "resolution_overall", &c->prtf[0].resolution, 1, length);
    free(row);
    return st;
}

bcdi_status bcdi_cxi_write_result(bcdi_output *tx, const char *path, const bcdi_cxi_result *r)
{
    if (!path || !r || !r->object)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI result: nothing to write");
    bcdi_output *own = NULL;
    bcdi_status st = tx ? BCDI_OK : bcdi_output_begin(&own);
    bcdi_h5_writer *w = NULL;
    if (st == BCDI_OK) st = bcdi_cxi_create_in(tx ? tx : own, path, &w);
    if (st == BCDI_OK)
        st = bcdi_cxi_write_object(w, r->shape, r->object, r->support, r->deflate_level);
    if (st == BCDI_OK && r->data_mask)
        st = bcdi_h5_write(w, "entry_1/instrument_1/detector_1/mask", BCDI_DT_U8, 3, r->data_shape,
                           r->data_mask, r->deflate_level);
    if (st == BCDI_OK && r->geometry) st = bcdi_cxi_write_geometry(w, r->geometry);
    if (st == BCDI_OK && r->summary_source && bcdi_cxi_has_summary(r->summary_source))
        st = bcdi_h5_copy(w, r->summary_source, SUM);
    if (st == BCDI_OK)
        st = bcdi_cxi_write_config(w, CONFIGURATION, r->config_keys, r->config_values,
                                   r->config_count);
    if (st == BCDI_OK && r->input) st = bcdi_h5_write_string(w, CONFIGURATION "/input", r->input);
    if (st == BCDI_OK) st = write_results(w, r);
    if (st == BCDI_OK && r->combined) st = write_combined(w, r->combined);
    if (st == BCDI_OK) {
        st = bcdi_h5_commit(w);
    } else {
        bcdi_h5_abort(w);
        st = bcdi_error_prefix(st, "writing '%s': ", path);
    }
    return bcdi_output_finish(own, st);
}

/* Three whole numbers >= 0 stored as doubles at path (1), absent (0), or unusable (-1, error
 * set naming the dataset). */
static int read_index3(bcdi_h5_reader *r, const char *path, size_t out[3])
{
    if (!bcdi_h5_exists(r, path)) return 0;
    double v[3];
    int rank;
    size_t dims[8];
    if (bcdi_h5_shape(r, path, &rank, dims, NULL) != BCDI_OK) return -1;
    if (rank != 1 || dims[0] != 3) {
        bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has rank %d, expected 3 values", bcdi_h5_path(r),
                   path, rank);
        return -1;
    }
    if (bcdi_h5_read(r, path, BCDI_DT_F64, v, 3) != BCDI_OK) return -1;
    for (int a = 0; a < 3; ++a) {
        if (!(v[a] >= 0.0 && v[a] <= 4294967295.0 && v[a] == floor(v[a]))) {
            bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' is %g %g %g, expected voxel counts",
                       bcdi_h5_path(r), path, v[0], v[1], v[2]);
            return -1;
        }
        out[a] = (size_t)v[a];
    }
    return 1;
}

/* The grid the object was phased on and where the object sits in it: results/data_shape and
 * results/crop_origin (phase writes both); a result without data_shape takes the prepared
 * mask's shape it carries, else the object's own (uncropped). A crop that does not fit its grid
 * is refused. */
static bcdi_status read_grid(const char *path, bcdi_cxi_phased *out)
{
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    memcpy(out->data_shape, out->shape, sizeof out->data_shape);
    memset(out->crop_origin, 0, sizeof out->crop_origin);
    int origin = read_index3(r, RESULTS "/crop_origin", out->crop_origin);
    int grid = origin < 0 ? 0 : read_index3(r, RESULTS "/data_shape", out->data_shape);
    const char *mask = "entry_1/instrument_1/detector_1/mask";
    if (origin >= 0 && grid == 0 && bcdi_h5_exists(r, mask)) {
        int rank;
        size_t dims[8];
        if (bcdi_h5_shape(r, mask, &rank, dims, NULL) == BCDI_OK && rank == 3)
            memcpy(out->data_shape, dims, sizeof out->data_shape);
        bcdi_clear_error();
    }
    bcdi_h5_close(r);
    if (origin < 0 || grid < 0) return BCDI_ERR_FORMAT;
    for (int a = 0; a < 3; ++a)
        if (out->crop_origin[a] + out->shape[a] > out->data_shape[a])
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s': the object (%zu x %zu x %zu from crop_origin %zu,%zu,%zu) "
                              "does not fit the grid it was phased on (data_shape %zu x %zu x %zu)",
                              path, out->shape[0], out->shape[1], out->shape[2],
                              out->crop_origin[0], out->crop_origin[1], out->crop_origin[2],
                              out->data_shape[0], out->data_shape[1], out->data_shape[2]);
    return BCDI_OK;
}

bcdi_status bcdi_cxi_result_shape(const char *path, size_t shape[3])
{
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    int rank = 0;
    size_t dims[8];
    if (!bcdi_h5_exists(r, IMAGE "/data"))
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': no entry_1/image_1/data: not a phasing result (CXI object)", path);
    if (st == BCDI_OK) st = bcdi_h5_shape(r, IMAGE "/data", &rank, dims, NULL);
    if (st == BCDI_OK && rank != 3)
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': '" IMAGE "/data' has rank %d, expected 3", path,
                        rank);
    if (st == BCDI_OK) memcpy(shape, dims, 3 * sizeof *shape);
    bcdi_h5_close(r);
    return st;
}

bcdi_status bcdi_cxi_read_result(const char *path, int want_support, bcdi_cxi_phased *out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_cxi_read_result: NULL argument");
    memset(out, 0, sizeof *out);
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    int has_object = bcdi_h5_exists(r, IMAGE "/data");
    int has_support = bcdi_h5_exists(r, IMAGE "/mask");
    out->has_geometry = bcdi_h5_exists(r, "entry_1/bcdi_geometry");
    bcdi_h5_close(r);
    if (!has_object)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': no entry_1/image_1/data: not a phasing result (CXI object)", path);
    if (out->has_geometry) st = bcdi_cxi_read_geometry(path, &out->geometry);
    if (st == BCDI_OK)
        st = bcdi_cxi_read_object(path, out->shape, &out->object,
                                  want_support && has_support ? &out->support : NULL);
    if (st == BCDI_OK) st = read_grid(path, out);
    if (st != BCDI_OK) bcdi_cxi_phased_free(out);
    return st;
}

void bcdi_cxi_phased_free(bcdi_cxi_phased *p)
{
    if (!p) return;
    free(p->object);
    free(p->support);
    p->object = NULL;
    p->support = NULL;
}
