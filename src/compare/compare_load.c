/* SPDX-License-Identifier: BSD-3-Clause */
/* Loading the states of a comparison: result CXI files or folders written by `analyze` (their
 * summary.json read through io/json), and the diffraction summary each result carries
 * (io/cxi_result), or one given with summary=. */
#include "compare_internal.h"

#include "bcdi/log.h"
#include "core/input_file.h"
#include "io/cxi_result.h"
#include "io/hdf5.h"
#include "io/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- states ---- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void cmp_loaded_free(cmp_loaded *l)
{
    free(l->object);
    free(l->support);
    l->object = NULL;
    l->support = NULL;
}

/* The folder's summary.json: the result it analysed ("input") and the parameters it used
 * ("parameters"), read by path from the root. The input path is taken as written, else relative
 * to the folder's parent (analyze's usual working folder). */
static bcdi_status load_folder(const char *dir, const char *label, char *result_path,
                               size_t capacity, bcdi_analysis_params *params)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (access(path, F_OK) != 0)
        return bcdi_error(BCDI_ERR_IO,
                          "state '%s': '%s' is a folder without summary.json (not written by "
                          "braggcdi analyze?)",
                          label, dir);
    json_t *root = NULL;
    bcdi_status st = bcdi_json_read(path, &root);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s': ", label);
    const char *input = bcdi_json_string_at(root, "input");
    if (!input) {
        json_decref(root);
        return bcdi_error(BCDI_ERR_FORMAT, "state '%s': '%s' names no \"input\" result", label,
                          path);
    }
    if (access(input, R_OK) == 0 || input[0] == '/') {
        snprintf(result_path, capacity, "%s", input);
    } else {
        int len = snprintf(result_path, capacity, "%s/../%.3000s", dir, input);
        if (len < 0 || (size_t)len >= capacity) result_path[0] = '\0';
        if (access(result_path, R_OK) != 0) snprintf(result_path, capacity, "%s", input);
    }
    if (access(result_path, R_OK) != 0) {
        st = bcdi_error(BCDI_ERR_IO,
                        "state '%s': the result '%s' analysed in '%s' is missing (compare "
                        "needs the complex object)",
                        label, input, dir);
        json_decref(root);
        return st;
    }
    /* the folder's parameters, on top of the defaults */
    size_t spec_count = 0;
    const bcdi_param_spec *specs = bcdi_analysis_param_specs(&spec_count);
    bcdi_config *cfg = NULL;
    st = bcdi_config_create("analyze", specs, spec_count, &cfg);
    json_t *parameters = bcdi_json_at(root, "parameters");
    const char *key;
    json_t *value;
    if (st == BCDI_OK && json_is_object(parameters)) {
        json_object_foreach(parameters, key, value)
        {
            int known = 0;
            for (size_t k = 0; k < spec_count; ++k)
                known |= strcmp(specs[k].key, key) == 0;
            if (!known || !json_is_string(value)) continue;
            if ((st = bcdi_config_set(cfg, key, json_string_value(value), path)) != BCDI_OK) break;
        }
    }
    if (st == BCDI_OK) st = bcdi_analysis_params_from_config(cfg, params);
    bcdi_config_free(cfg);
    json_decref(root);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s' ('%s'): ", label, path);
    return BCDI_OK;
}

bcdi_status cmp_state_shape(const char *path, const char *label, size_t shape[3])
{
    char result[4096];
    bcdi_status st = BCDI_OK;
    if (is_dir(path)) {
        bcdi_analysis_params unused;
        st = load_folder(path, label, result, sizeof result, &unused);
    } else {
        snprintf(result, sizeof result, "%s", path);
    }
    if (st == BCDI_OK && (st = bcdi_cxi_result_shape(result, shape)) != BCDI_OK)
        st = bcdi_error_prefix(st, "state '%s': ", label);
    return st;
}

bcdi_status cmp_load_state(const char *path, const char *label, const bcdi_analysis_params *ap,
                           cmp_loaded *out)
{
    memset(out, 0, sizeof *out);
    bcdi_status st;
    if (is_dir(path)) {
        out->from_folder = 1;
        st = load_folder(path, label, out->result_path, sizeof out->result_path, &out->params);
        if (st != BCDI_OK) return st;
    } else {
        snprintf(out->result_path, sizeof out->result_path, "%s", path);
        out->params = *ap;
    }
    out->params.orthogonalise = 0; /* compare works on the native grid */
    bcdi_cxi_phased phased;
    st = bcdi_cxi_read_result(out->result_path, 1, &phased);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s': ", label);
    memcpy(out->shape, phased.shape, sizeof out->shape);
    memcpy(out->data_shape, phased.data_shape, sizeof out->data_shape);
    out->object = phased.object;
    out->support = phased.support;
    out->has_geometry = phased.has_geometry;
    out->geometry = phased.geometry;
    return BCDI_OK;
}

/* ---- diffraction summaries ---- */

static void peak_from_summary(const bcdi_cxi_summary *s, bcdi_compare_peak *out)
{
    out->two_theta_deg = s->two_theta_deg;
    out->rocking_deg = s->com_rocking_deg;
    out->integrated_intensity = s->integrated_intensity;
    out->d_spacing_m = s->d_spacing_m;
    memcpy(out->com_pixel, s->centre_of_mass, sizeof out->com_pixel);
    memcpy(out->bin, s->bin, sizeof out->bin);
}

/* From an open CXI file's entry_1/bcdi_summary. */
static bcdi_status read_peak_cxi(bcdi_h5_reader *r, bcdi_compare_peak *out)
{
    bcdi_cxi_summary s;
    bcdi_status st = bcdi_cxi_read_summary(r, &s);
    if (st == BCDI_OK) peak_from_summary(&s, out);
    return st;
}

/* From prepare's summary JSON, by path from the root. */
static bcdi_status read_peak_json(const char *path, bcdi_compare_peak *out)
{
    json_t *root = NULL;
    bcdi_status st = bcdi_json_read(path, &root);
    if (st != BCDI_OK) return st;
    int ok = bcdi_json_number_at(root, "two_theta_deg", &out->two_theta_deg) &&
             bcdi_json_number_at(root, "centre_of_mass_rocking_angle_deg", &out->rocking_deg) &&
             bcdi_json_number_at(root, "integrated_intensity", &out->integrated_intensity) &&
             bcdi_json_numbers_at(root, "centre_of_mass_pixel", out->com_pixel, 3);
    if (!bcdi_json_number_at(root, "d_spacing_m", &out->d_spacing_m)) out->d_spacing_m = NAN;
    (void)bcdi_json_numbers_at(root, "bin", out->bin, 3);
    json_decref(root);
    if (!ok)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': not a diffraction summary (needs two_theta_deg, "
                          "centre_of_mass_rocking_angle_deg, integrated_intensity, "
                          "centre_of_mass_pixel at its top level)",
                          path);
    return BCDI_OK;
}

static void peak_done(const char *source, bcdi_compare_peak *out)
{
    for (int a = 0; a < 3; ++a)
        if (!(out->bin[a] >= 1.0)) out->bin[a] = 1.0;
    out->available = 1;
    snprintf(out->source, sizeof out->source, "%s", source);
}

bcdi_status bcdi_compare_read_peak(const char *path, bcdi_compare_peak *out)
{
    memset(out, 0, sizeof *out);
    out->bin[0] = out->bin[1] = out->bin[2] = 1.0;
    FILE *probe;
    bcdi_status opened = bcdi_input_open(path, "diffraction summary", 0, &probe, NULL);
    if (opened != BCDI_OK) return opened;
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, probe);
    fclose(probe);
    bcdi_status st;
    if (got == 8 && memcmp(magic, "\211HDF\r\n\032\n", 8) == 0) {
        bcdi_h5_reader *r = NULL;
        st = bcdi_h5_open(path, &r);
        if (st == BCDI_OK) st = read_peak_cxi(r, out);
        bcdi_h5_close(r);
    } else {
        st = read_peak_json(path, out);
    }
    if (st != BCDI_OK) return st;
    peak_done(path, out);
    return BCDI_OK;
}

bcdi_status cmp_locate_peak(const char *given, const char *label, const char *result_path,
                            bcdi_compare_peak *out)
{
    memset(out, 0, sizeof *out);
    if (given && *given) return bcdi_compare_read_peak(given, out);
    out->bin[0] = out->bin[1] = out->bin[2] = 1.0;
    /* the result carries its prepared data's summary (phase copies it) */
    bcdi_h5_reader *r = NULL;
    bcdi_status st = bcdi_h5_open(result_path, &r);
    if (st != BCDI_OK) return st;
    if (bcdi_cxi_has_summary(r)) {
        st = read_peak_cxi(r, out);
        bcdi_h5_close(r);
        if (st != BCDI_OK) return st;
        peak_done(result_path, out);
        return BCDI_OK;
    }
    /* a result written before results carried it: the prepared file it records, if that is
     * still there and has one (a recorded name, never a guessed one) */
    char prepared[4096] = "";
    const char *key = "entry_1/image_1/process_1/configuration/input";
    if (bcdi_h5_exists(r, key) && bcdi_h5_read_string(r, key, prepared, sizeof prepared) != BCDI_OK)
        prepared[0] = '\0';
    bcdi_h5_close(r);
    bcdi_h5_reader *p = NULL;
    if (prepared[0] && access(prepared, R_OK) == 0 && bcdi_h5_open(prepared, &p) == BCDI_OK) {
        st = bcdi_cxi_has_summary(p) ? read_peak_cxi(p, out) : BCDI_ERR_FORMAT;
        bcdi_h5_close(p);
        if (st == BCDI_OK) {
            bcdi_log(BCDI_LOG_NOTICE,
                     "state '%s': '%s' carries no diffraction summary (an older result): using "
                     "the one of the prepared file it records, '%s'",
                     label, result_path, prepared);
            peak_done(prepared, out);
            return BCDI_OK;
        }
    }
    bcdi_clear_error();
    bcdi_log(BCDI_LOG_NOTICE,
             "state '%s': '%s' carries no diffraction summary (%s; results of older braggcdi "
             "versions lack it)%s%s%s",
             label, result_path, BCDI_CXI_SUMMARY_GROUP,
             prepared[0] ? ", nor does the prepared file it records ('" : "",
             prepared[0] ? prepared : "", prepared[0] ? "')" : "");
    memset(out, 0, sizeof *out);
    return BCDI_OK;
}
