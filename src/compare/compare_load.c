/* Loading the states of a comparison: result CXI files or folders written by `analyze`, and
 * prepare's diffraction summaries (JSON or the prepared CXI's entry_1/bcdi_summary). */
#include "compare_internal.h"

#include "analysis/analysis_output.h"
#include "io/json.h"

#include "bcdi/log.h"
#include "io/cxi.h"
#include "io/hdf5.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a little JSON: our own files only (summary.json, <stem>_summary.json) ---- */

char *cmp_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    size_t size = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (size + got + 1 > cap) {
            cap = 2 * (size + got + 1);
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = grown;
        }
        memcpy(text + size, chunk, got);
        size += got;
    }
    fclose(f);
    if (!text)
        text = calloc(1, 1);
    else
        text[size] = '\0';
    return text;
}

/* Just after `"key":` (spaces skipped), NULL when absent. */
static const char *json_value_at(const char *json, const char *key)
{
    size_t len = strlen(key);
    for (const char *at = strchr(json, '"'); at; at = strchr(at + 1, '"')) {
        if (strncmp(at + 1, key, len) != 0 || at[1 + len] != '"') continue;
        const char *p = at + 2 + len;
        while (isspace((unsigned char)*p))
            ++p;
        if (*p != ':') continue;
        ++p;
        while (isspace((unsigned char)*p))
            ++p;
        return p;
    }
    return NULL;
}

int cmp_json_number(const char *json, const char *key, double *out)
{
    const char *p = json_value_at(json, key);
    if (!p) return 0;
    char *end = NULL;
    double v = strtod(p, &end);
    if (end == p) return 0;
    *out = v;
    return 1;
}

int cmp_json_numbers(const char *json, const char *key, double *out, int count)
{
    const char *p = json_value_at(json, key);
    if (!p || *p != '[') return 0;
    ++p;
    for (int i = 0; i < count; ++i) {
        while (isspace((unsigned char)*p) || *p == ',')
            ++p;
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p) return 0;
        out[i] = v;
        p = end;
    }
    return 1;
}

/* Decode a JSON string starting at the opening quote; returns the char after the closing one. */
static const char *json_decode_string(const char *p, char *out, size_t capacity)
{
    size_t n = 0;
    if (*p != '"') return NULL;
    for (++p; *p && *p != '"'; ++p) {
        char c = *p;
        if (c == '\\' && p[1]) {
            ++p;
            c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            if (*p == 'u' && p[1] && p[2] && p[3] && p[4]) { /* \u00XX only (what we write) */
                char hex[5] = {p[1], p[2], p[3], p[4], 0};
                c = (char)strtol(hex, NULL, 16);
                p += 4;
            }
        }
        if (n + 1 < capacity) out[n++] = c;
    }
    if (capacity) out[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

int cmp_json_string(const char *json, const char *key, char *out, size_t capacity)
{
    const char *p = json_value_at(json, key);
    return p && json_decode_string(p, out, capacity) != NULL;
}

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

/* The folder's summary.json: the result it analysed and the parameters it used. The input path
 * is taken as written, else relative to the folder's parent (analyze's usual working folder). */
static bcdi_status load_folder(const char *dir, const char *label, char *result_path,
                               size_t capacity, bcdi_analysis_params *params)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *json = cmp_read_text(path);
    if (!json)
        return bcdi_error(BCDI_ERR_IO,
                          "state '%s': '%s' is a folder without summary.json (not written by "
                          "braggcdi analyze?)",
                          label, dir);
    char input[4096];
    if (!cmp_json_string(json, "input", input, sizeof input)) {
        free(json);
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
        free(json);
        return bcdi_error(BCDI_ERR_IO,
                          "state '%s': the result '%s' analysed in '%s' is missing (compare "
                          "needs the complex object)",
                          label, input, dir);
    }
    /* the folder's parameters, on top of the defaults */
    size_t spec_count = 0;
    const bcdi_param_spec *specs = bcdi_analysis_param_specs(&spec_count);
    bcdi_config *cfg = NULL;
    bcdi_status st = bcdi_config_create("analyze", specs, spec_count, &cfg);
    const char *p = json_value_at(json, "parameters");
    if (st == BCDI_OK && p && *p == '{') {
        ++p;
        char key[256], value[4096];
        for (;;) {
            while (isspace((unsigned char)*p) || *p == ',')
                ++p;
            if (*p != '"') break;
            p = json_decode_string(p, key, sizeof key);
            if (!p) break;
            while (isspace((unsigned char)*p) || *p == ':')
                ++p;
            p = json_decode_string(p, value, sizeof value);
            if (!p) break;
            int known = 0;
            for (size_t k = 0; k < spec_count; ++k)
                known |= strcmp(specs[k].key, key) == 0;
            if (known && (st = bcdi_config_set(cfg, key, value, path)) != BCDI_OK) break;
        }
    }
    if (st == BCDI_OK) st = bcdi_analysis_params_from_config(cfg, params);
    bcdi_config_free(cfg);
    free(json);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s' ('%s'): ", label, path);
    return BCDI_OK;
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
    bcdi_h5_reader *r = NULL;
    st = bcdi_h5_open(out->result_path, &r);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s': ", label);
    out->has_geometry = bcdi_h5_exists(r, "entry_1/bcdi_geometry");
    int has_mask = bcdi_h5_exists(r, "entry_1/image_1/mask");
    int has_object = bcdi_h5_exists(r, "entry_1/image_1/data");
    bcdi_h5_close(r);
    if (!has_object)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "state '%s': '%s' has no entry_1/image_1/data (not a phasing result)",
                          label, out->result_path);
    if (out->has_geometry) st = bcdi_cxi_read_geometry(out->result_path, &out->geometry);
    if (st == BCDI_OK)
        st = bcdi_cxi_read_object(out->result_path, out->shape, &out->object,
                                  has_mask ? &out->support : NULL);
    if (st != BCDI_OK) {
        cmp_loaded_free(out);
        return bcdi_error_prefix(st, "state '%s': ", label);
    }
    return BCDI_OK;
}

/* ---- diffraction summaries ---- */

static bcdi_status read_peak_cxi(const char *path, bcdi_compare_peak *out)
{
    bcdi_h5_reader *r = NULL;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    const char *g = "entry_1/bcdi_summary";
    if (!bcdi_h5_exists(r, g)) {
        bcdi_h5_close(r);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' has no %s", path, g);
    }
    char key[256];
#define READ_SCALAR(name, dst)                                                                     \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s/%s", g, name);                                               \
        if (st == BCDI_OK) st = bcdi_h5_read_double(r, key, dst);                                  \
    } while (0)
    READ_SCALAR("two_theta", &out->two_theta_deg);
    READ_SCALAR("com_rocking_angle", &out->rocking_deg);
    READ_SCALAR("integrated_intensity", &out->integrated_intensity);
    READ_SCALAR("d_spacing", &out->d_spacing_m);
#undef READ_SCALAR
    snprintf(key, sizeof key, "%s/centre_of_mass", g);
    if (st == BCDI_OK) st = bcdi_h5_read(r, key, BCDI_DT_F64, out->com_pixel, 3);
    snprintf(key, sizeof key, "%s/bin", g);
    if (st == BCDI_OK && bcdi_h5_exists(r, key))
        st = bcdi_h5_read(r, key, BCDI_DT_F64, out->bin, 3);
    bcdi_h5_close(r);
    return st;
}

bcdi_status bcdi_compare_read_peak(const char *path, bcdi_compare_peak *out)
{
    memset(out, 0, sizeof *out);
    out->bin[0] = out->bin[1] = out->bin[2] = 1.0;
    bcdi_status st;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return bcdi_error(BCDI_ERR_IO, "diffraction summary '%s': %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, probe);
    fclose(probe);
    if (got == 8 && memcmp(magic, "\211HDF\r\n\032\n", 8) == 0) {
        st = read_peak_cxi(path, out);
    } else {
        char *json = cmp_read_text(path);
        if (!json) return bcdi_error(BCDI_ERR_IO, "cannot read '%s'", path);
        int ok = cmp_json_number(json, "two_theta_deg", &out->two_theta_deg) &&
                 cmp_json_number(json, "centre_of_mass_rocking_angle_deg", &out->rocking_deg) &&
                 cmp_json_number(json, "integrated_intensity", &out->integrated_intensity) &&
                 cmp_json_numbers(json, "centre_of_mass_pixel", out->com_pixel, 3);
        if (!cmp_json_number(json, "d_spacing_m", &out->d_spacing_m)) out->d_spacing_m = NAN;
        (void)cmp_json_numbers(json, "bin", out->bin, 3);
        free(json);
        st = ok ? BCDI_OK
                : bcdi_error(BCDI_ERR_FORMAT,
                             "'%s': not a diffraction summary (needs two_theta_deg, "
                             "centre_of_mass_rocking_angle_deg, integrated_intensity, "
                             "centre_of_mass_pixel)",
                             path);
    }
    if (st != BCDI_OK) return st;
    for (int a = 0; a < 3; ++a)
        if (!(out->bin[a] >= 1.0)) out->bin[a] = 1.0;
    out->available = 1;
    snprintf(out->source, sizeof out->source, "%s", path);
    return BCDI_OK;
}

/* "<dir>/<stem>_summary.json" for a path; with strip_run also without a "-runN" suffix (the
 * names `phase` gives its kept runs). */
static void sibling_summary(const char *given, int strip_run, char *out, size_t capacity)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", given);
    for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; --n)
        path[n - 1] = '\0';
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    if (strip_run) {
        size_t k = stem;
        while (k > 0 && isdigit((unsigned char)path[k - 1]))
            --k;
        if (k < stem && k >= 4 && strncmp(path + k - 4, "-run", 4) == 0) stem = k - 4;
    }
    snprintf(out, capacity, "%.*s_summary.json", (int)stem, path);
}

bcdi_status cmp_locate_peak(const char *given, const char *state_path, const char *result_path,
                            bcdi_compare_peak *out)
{
    memset(out, 0, sizeof *out);
    if (given && *given) return bcdi_compare_read_peak(given, out);
    /* 1. the result itself (a result that carries the prepared file's summary) */
    bcdi_h5_reader *r = NULL;
    char prepared[4096] = "";
    if (bcdi_h5_open(result_path, &r) == BCDI_OK) {
        int has = bcdi_h5_exists(r, "entry_1/bcdi_summary");
        /* 2. the prepared input named in the result's configuration, when recorded */
        const char *keys[] = {"entry_1/image_1/process_1/configuration/input",
                              "entry_1/image_1/process_1/configuration/prepared"};
        for (int k = 0; k < 2 && !prepared[0]; ++k)
            if (bcdi_h5_exists(r, keys[k]) &&
                bcdi_h5_read_string(r, keys[k], prepared, sizeof prepared) != BCDI_OK)
                prepared[0] = '\0';
        bcdi_h5_close(r);
        if (has && bcdi_compare_read_peak(result_path, out) == BCDI_OK) return BCDI_OK;
    }
    char candidate[4200];
    if (prepared[0]) {
        if (bcdi_compare_read_peak(prepared, out) == BCDI_OK) return BCDI_OK;
        sibling_summary(prepared, 0, candidate, sizeof candidate);
        if (bcdi_compare_read_peak(candidate, out) == BCDI_OK) return BCDI_OK;
    }
    /* 3. next to the result (and next to the analysed folder) */
    const char *bases[2] = {result_path, state_path};
    for (int b = 0; b < 2; ++b)
        for (int strip = 0; strip < 2; ++strip) {
            sibling_summary(bases[b], strip, candidate, sizeof candidate);
            if (access(candidate, R_OK) == 0) return bcdi_compare_read_peak(candidate, out);
        }
    bcdi_clear_error();
    memset(out, 0, sizeof *out);
    return BCDI_OK;
}
