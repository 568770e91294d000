/* `prepare`, output: the prepared data as CXI (with the geometry, the diffraction summary and
 * every configuration value) and the summary as JSON, both or neither. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"
#include "io/cxi.h"
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

#define SUM "entry_1/bcdi_summary"

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

/* The profile fits, one value per axis (rocking, rows, columns): the same columns in the CXI
 * summary and in the JSON. */
typedef struct {
    const char *h5_name, *json_name, *units;
    size_t offset; /* of the double in bcdi_gauss_fit */
} profile_column;

static const profile_column profile_columns[] = {
    {"gauss_centre", "gauss_centre_pixel", NULL, offsetof(bcdi_gauss_fit, centre)},
    {"gauss_fwhm", "gauss_fwhm_pixel", NULL, offsetof(bcdi_gauss_fit, fwhm)},
    {"gauss_amplitude", "gauss_amplitude", "photons", offsetof(bcdi_gauss_fit, amplitude)},
    {"gauss_background", "gauss_background", "photons", offsetof(bcdi_gauss_fit, background)},
    {"gauss_centre_uncertainty", "gauss_centre_uncertainty_pixel", NULL,
     offsetof(bcdi_gauss_fit, centre_err)},
    {"gauss_fwhm_uncertainty", "gauss_fwhm_uncertainty_pixel", NULL,
     offsetof(bcdi_gauss_fit, fwhm_err)},
    {"gauss_amplitude_uncertainty", "gauss_amplitude_uncertainty", "photons",
     offsetof(bcdi_gauss_fit, amplitude_err)},
    {"gauss_background_uncertainty", "gauss_background_uncertainty", "photons",
     offsetof(bcdi_gauss_fit, background_err)},
};
#define PROFILE_COLUMNS (sizeof profile_columns / sizeof *profile_columns)

static void profile_values(const bcdi_diffraction_summary *s, const profile_column *c, double v[3])
{
    for (int a = 0; a < 3; a++)
        memcpy(&v[a], (const char *)&s->profile[a] + c->offset, sizeof v[a]);
}

static bcdi_status write_summary(bcdi_h5_writer *w, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    double peak[3], origin[3], box[3], bin[3], dims[3];
    for (int a = 0; a < 3; a++) {
        peak[a] = (double)s->peak[a];
        origin[a] = (double)p->box_origin[a];
        box[a] = (double)p->box_shape[a];
        bin[a] = (double)p->bin[a];
        dims[a] = (double)p->input_dims[a];
    }
    bcdi_status st;
    if ((st = bcdi_h5_group(w, SUM, "NXcollection")) != BCDI_OK ||
        (st = write_vec3(w, "peak_pixel", peak, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/peak_rocking_angle", s->peak_rocking_deg, "deg")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/peak_intensity", s->peak_intensity, "photons")) !=
            BCDI_OK ||
        (st = write_vec3(w, "centre_of_mass", s->centre_of_mass, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/com_rocking_angle", s->com_rocking_deg, "deg")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/integrated_intensity", s->integrated_intensity,
                                   "photons")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/rocking_fwhm", s->rocking_fwhm_deg, "deg")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/two_theta", s->two_theta_deg, "deg")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, SUM "/d_spacing", s->d_spacing_m, "m")) != BCDI_OK ||
        (st = write_vec3(w, "oversampling", s->oversampling, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_int(w, SUM "/masked_voxels", (long)s->masked_voxels)) != BCDI_OK ||
        (st = write_vec3(w, "box_origin", origin, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "box_shape", box, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "bin", bin, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "input_shape", dims, NULL)) != BCDI_OK)
        return st;
    for (size_t k = 0; k < PROFILE_COLUMNS; k++) {
        double v[3];
        profile_values(s, &profile_columns[k], v);
        if ((st = write_vec3(w, profile_columns[k].h5_name, v, profile_columns[k].units)) !=
            BCDI_OK)
            return st;
    }
    return BCDI_OK;
}

/* "  name": [a, b, c], with the shared writer (NaN from a failed fit becomes null, valid JSON) */
static void json_vec(FILE *f, const char *name, const double v[3])
{
    fprintf(f, "  \"%s\": ", name);
    bcdi_json_numbers(f, v, 3);
    fputs(",\n", f);
}

static void json_scalar(FILE *f, const char *name, double v)
{
    fprintf(f, "  \"%s\": ", name);
    bcdi_json_number(f, v);
    fputs(",\n", f);
}

static int json_to(FILE *f, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    double peak[3], voxel[3], shape[3], origin[3], bin[3];
    for (int a = 0; a < 3; a++) {
        peak[a] = (double)s->peak[a];
        voxel[a] = p->geometry.voxel_size_m[a];
        shape[a] = (double)p->shape[a];
        origin[a] = (double)p->box_origin[a];
        bin[a] = (double)p->bin[a];
    }
    fprintf(f, "{\n  \"axes\": [\"rocking frame\", \"detector row\", \"detector column\"],\n");
    json_vec(f, "peak_pixel", peak);
    json_scalar(f, "peak_rocking_angle_deg", s->peak_rocking_deg);
    json_scalar(f, "peak_intensity", s->peak_intensity);
    json_vec(f, "centre_of_mass_pixel", s->centre_of_mass);
    json_scalar(f, "centre_of_mass_rocking_angle_deg", s->com_rocking_deg);
    json_scalar(f, "integrated_intensity", s->integrated_intensity);
    for (size_t k = 0; k < PROFILE_COLUMNS; k++) {
        double v[3];
        profile_values(s, &profile_columns[k], v);
        json_vec(f, profile_columns[k].json_name, v);
    }
    fprintf(f, "  \"gauss_converged\": [%s, %s, %s],\n", s->profile[0].converged ? "true" : "false",
            s->profile[1].converged ? "true" : "false", s->profile[2].converged ? "true" : "false");
    json_scalar(f, "rocking_fwhm_deg", s->rocking_fwhm_deg);
    json_scalar(f, "rocking_fwhm_uncertainty_deg", s->rocking_fwhm_err_deg);
    json_scalar(f, "two_theta_deg", s->two_theta_deg);
    json_scalar(f, "d_spacing_m", s->d_spacing_m);
    json_vec(f, "oversampling", s->oversampling);
    json_vec(f, "shape", shape);
    json_vec(f, "box_origin", origin);
    json_vec(f, "bin", bin);
    json_vec(f, "voxel_size_m", voxel);
    json_scalar(f, "energy_kev", p->geometry.energy_kev);
    fprintf(f, "  \"masked_voxels\": %zu,\n", s->masked_voxels);
    fprintf(f, "  \"voxels\": %zu\n}\n", s->voxels);
    return ferror(f) ? -1 : 0;
}

/* JSON to a temporary name in the folder of `path` (renamed by the caller). */
static bcdi_status json_temp(const char *path, const bcdi_prepared *p, char *tmp, size_t cap)
{
    bcdi_status st = bcdi_io_temp_name(path, tmp, cap);
    if (st != BCDI_OK) return st;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot create '%s': %s", path, tmp, strerror(errno));
    int bad = json_to(f, p);
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write '%s'", path, tmp);
    }
    return BCDI_OK;
}

bcdi_status bcdi_diffraction_summary_write_json(const char *path, const bcdi_prepared *p)
{
    char tmp[PATH_MAX];
    bcdi_status st = json_temp(path, p, tmp, sizeof tmp);
    if (st == BCDI_OK && rename(tmp, path) != 0) {
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot rename '%s' to it: %s", path, tmp,
                        strerror(errno));
        unlink(tmp);
    }
    return st;
}

bcdi_status bcdi_prepare_write(const char *output, const char *json_path, const bcdi_prepared *p,
                               int deflate, const bcdi_config *provenance)
{
    if (!output || !p || !p->intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "prepare: nothing to write");
    char json[PATH_MAX], json_tmp[PATH_MAX];
    bcdi_status st;
    if (json_path && json_path[0])
        snprintf(json, sizeof json, "%s", json_path);
    else if ((st = bcdi_prepare_json_path(output, json, sizeof json)) != BCDI_OK)
        return st;
    if (deflate < 0 || deflate > 9)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "deflate: %d, expected 0..9", deflate);
    bcdi_h5_writer *w = NULL;
    if ((st = bcdi_cxi_create(output, &w)) != BCDI_OK) return st;
    if ((st = json_temp(json, p, json_tmp, sizeof json_tmp)) != BCDI_OK) {
        bcdi_h5_abort(w);
        return st;
    }
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
    if ((st = bcdi_h5_commit(w)) != BCDI_OK) {
        unlink(json_tmp);
        return st;
    }
    if (rename(json_tmp, json) != 0) {
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot rename '%s' to it: %s", json, json_tmp,
                        strerror(errno));
        unlink(json_tmp);
        unlink(output); /* all or nothing */
        return st;
    }
    bcdi_log(BCDI_LOG_INFO, "wrote '%s' and '%s'", output, json);
    return BCDI_OK;
fail:
    bcdi_h5_abort(w);
    unlink(json_tmp);
    return st;
}
