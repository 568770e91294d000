/* `prepare`: raw frames -> phasing-ready prepared data (docs/prepare.md).
 *
 * Two passes over the input, each reading one frame (region) at a time:
 *  1. whole frames, corrected and masked, lightly smoothed (Gaussian in the frame, [1,2,1]/4
 *     across frames, a ring of three frames) -> the peak (or the centre of mass);
 *  2. only the box around the peak -> the prepared array.
 * Coordinates: "stored" = as in the file; "input" = after optional Excalibur gap insertion
 * (frames, rows, columns); the box lives in input coordinates and may overhang them (padding,
 * masked). */
#include "bcdi/prepare.h"

#include "bcdi/log.h"
#include "io/cxi.h"
#include "io/json.h"
#include "io/nexus.h"
#include "instrument/excalibur.h"
#include "prep/prep_input.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BCDI_PI 3.14159265358979323846
#define KEV_ANGSTROM 12.3984 /* hc, as in geometry.c */

static int is_unset(const char *v)
{
    return !v || !v[0] || !strcmp(v, "none");
}

/* ------------------------------------------------------------------------------------------ */
/* the preparation context                                                                    */

typedef struct {
    const bcdi_prepare_params *p;
    prep_input in;
    size_t dims[3]; /* input coordinates: frames, rows, columns (after gap insertion) */
    long *row_map;  /* input row -> stored row, -1 = gap */
    long *col_map;
    uint8_t *bad;      /* stored rows x cols: 1 = bad everywhere (pixel mask, mask file, flat) */
    float *dark;       /* stored rows x cols or NULL */
    float *flat_scale; /* mean(flat)/flat, or NULL */
    double *monitor_scale;  /* per frame or NULL */
    char mask3d_path[1024]; /* a per-frame mask dataset (CXI 3-D masks), "" if none */
    float saturation;       /* 0 = none */
    int invalid_is_error;
    double photon_threshold;
    int hot_pixels;
    double hot_factor;
    float *stored_buf; /* one stored region */
    size_t stored_cap;
    uint8_t *mask3d_buf;
    float peak_value; /* corrected value at the peak (saturated: the raw value) */
    int peak_pass;    /* pass 1: saturated pixels keep their value in val (still masked) */
    /* counts of the box pass */
    int counting;
    size_t n_saturated, n_invalid, n_hot, n_gap, n_static, n_user;
    double *rocking_deg; /* per frame (motor or start + f·step) */
    int motor_from_file;
} prep_ctx;

static void ctx_free(prep_ctx *c)
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
}

/* Gap layout: which input row/column comes from which stored row/column. */
static bcdi_status setup_frame_map(prep_ctx *c)
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

/* Bad pixels, dark and flat in stored coordinates. */
static bcdi_status setup_static(prep_ctx *c)
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
    if (!is_unset(mask_file)) {
        double threshold = p->mask_threshold;
        if ((st = prep_load_image(mask_file, p->mask_dataset, &rows, &cols, origin, &img)) !=
            BCDI_OK)
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
    const char *dark_file = p->dark_file;
    if (!is_unset(dark_file)) {
        if ((st = prep_load_image(dark_file, p->dark_dataset, &rows, &cols, origin, &c->dark)) !=
            BCDI_OK)
            return st;
        bcdi_log(BCDI_LOG_INFO, "dark: '%s' subtracted from every frame", dark_file);
    }
    const char *flat_file = p->flat_file;
    if (!is_unset(flat_file)) {
        /* the mean is that of the whole white field as stored (bad pixels as zeros), as the
         * usual procedure does; only the frames' part is kept */
        size_t fr = 0, fc = 0;
        const char *ds = p->flat_dataset;
        float *whole = NULL;
        if ((st = prep_load_image(flat_file, ds, &fr, &fc, NULL, &whole)) != BCDI_OK) return st;
        if (!is_unset(mask_file)) {
            double threshold = p->mask_threshold;
            size_t mr = fr, mc = fc;
            float *mask_whole = NULL;
            if (prep_load_image(mask_file, p->mask_dataset, &mr, &mc, origin, &mask_whole) ==
                BCDI_OK) {
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

/* Motor positions (rocking angles) and the per-frame monitor. */
static bcdi_status setup_frames(prep_ctx *c, double *step_from_file)
{
    const bcdi_prepare_params *p = c->p;
    size_t F = c->dims[0];
    *step_from_file = NAN;
    if (!(c->rocking_deg = malloc(F * sizeof *c->rocking_deg)))
        return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    const char *motor = p->motor_path;
    bcdi_status st;
    if (c->in.h5 && !is_unset(motor)) {
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
    if (!is_unset(monitor)) {
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
            if (!(c->monitor_scale[f] > 0.0))
                return bcdi_error(BCDI_ERR_DATA,
                                  "'%s': monitor '%s' is %g at frame %zu (must "
                                  "be > 0)",
                                  c->in.path, monitor, c->monitor_scale[f], f);
            mean += c->monitor_scale[f] / (double)F;
        }
        for (size_t f = 0; f < F; f++)
            c->monitor_scale[f] = mean / c->monitor_scale[f];
        bcdi_log(BCDI_LOG_INFO, "monitor: '%s', mean %.6g", monitor, mean);
    }
    return BCDI_OK;
}

/* One value of the geometry: the file's when it has one and the user did not give the key,
 * else the key's; says where it came from. */
static double pick(int given, const char *key, double file_value, double cfg_value,
                   const char *what, const char *unit, const char *file)
{
    const char *origin = given ? "given" : "default";
    if (isfinite(file_value) && !given) {
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (from the file '%s')", what, file_value,
                 unit, file);
        return file_value;
    }
    if (isfinite(file_value))
        bcdi_log(BCDI_LOG_NOTICE, "geometry: %s = %.8g %s (%s: key '%s'; the file says %.8g)", what,
                 cfg_value, unit, origin, key, file_value);
    else
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (%s: key '%s')", what, cfg_value, unit,
                 origin, key);
    return cfg_value;
}

static bcdi_status geometry_from_inputs(prep_ctx *c, double step_from_file, bcdi_geometry *g)
{
    const bcdi_prepare_params *p = c->p;
    bcdi_status st;
    /* what the file holds (NaN = absent) */
    bcdi_geometry file;
    memset(&file, 0, sizeof file);
    file.energy_kev = file.wavelength_m = file.distance_m = NAN;
    file.pixel_size_m[0] = file.pixel_size_m[1] = NAN;
    file.two_theta_deg = file.delta_deg = file.gamma_deg = file.d_spacing_m = NAN;
    file.rocking_step_deg = NAN;
    file.hkl[0] = INT_MIN;
    int file_angles = -1;
    if (c->in.h5 && c->in.kind == PREP_INPUT_HDF5) {
        file.angles = (bcdi_detector_angles)99;
        if ((st = bcdi_nexus_read_geometry(c->in.h5, &file)) != BCDI_OK) return st;
        if (file.angles != (bcdi_detector_angles)99) file_angles = (int)file.angles;
        if (file_angles < 0) file.two_theta_deg = NAN; /* polar_angle absent */
    } else if (c->in.h5 && c->in.kind == PREP_INPUT_CXI) {
        bcdi_geometry stored;
        if (bcdi_h5_exists(c->in.h5, "entry_1/bcdi_geometry") &&
            bcdi_cxi_read_geometry(c->in.path, &stored) == BCDI_OK) {
            file = stored;
            file_angles = (int)stored.angles;
            file.rocking_step_deg = stored.rocking_step_deg;
        } else {
            double v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/detector_1/distance", &v) ==
                BCDI_OK)
                file.distance_m = v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/detector_1/x_pixel_size", &v) ==
                BCDI_OK)
                file.pixel_size_m[1] = v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/detector_1/y_pixel_size", &v) ==
                BCDI_OK)
                file.pixel_size_m[0] = v;
            if (bcdi_h5_read_double(c->in.h5, "entry_1/instrument_1/source_1/energy", &v) ==
                BCDI_OK)
                file.energy_kev = v / 1.602176634e-16; /* CXI stores joules */
            bcdi_clear_error();
        }
    }
    if (c->in.kind != PREP_INPUT_CXI || isfinite(step_from_file))
        file.rocking_step_deg = step_from_file; /* only the motor named by motor_path counts */
    const char *src = c->in.path;

    memset(g, 0, sizeof *g);
    g->energy_kev =
        pick(p->energy_given, "energy_kev", file.energy_kev, p->energy_kev, "energy", "keV", src);
    g->wavelength_m = KEV_ANGSTROM / g->energy_kev * 1e-10;
    g->distance_m = pick(p->distance_given, "distance_m", file.distance_m, p->distance_m,
                         "detector distance", "m", src);
    g->pixel_size_m[0] = pick(p->pixel_given, "pixel_um", file.pixel_size_m[0],
                              p->pixel_um[0] * 1e-6, "pixel size along rows", "m", src);
    g->pixel_size_m[1] = pick(p->pixel_given, "pixel_um", file.pixel_size_m[1],
                              p->pixel_um[1] * 1e-6, "pixel size along columns", "m", src);
    g->d_spacing_m = pick(p->d_spacing_given, "d_spacing", file.d_spacing_m,
                          p->d_spacing_angstrom * 1e-10, "d-spacing", "m", src);
    for (int i = 0; i < 3; i++)
        g->hkl[i] = (file.hkl[0] != INT_MIN && !p->hkl_given) ? file.hkl[i] : p->hkl[i];
    bcdi_log(BCDI_LOG_INFO, "geometry: hkl = %d %d %d (%s)", g->hkl[0], g->hkl[1], g->hkl[2],
             (file.hkl[0] != INT_MIN && !p->hkl_given) ? "from the file"
             : p->hkl_given                            ? "key 'hkl'"
                                                       : "default of key 'hkl'");
    /* detector angles */
    int use_delta_gamma = p->detector_angles == BCDI_DETECTOR_DELTA_GAMMA;
    if (!p->detector_angles_given && file_angles >= 0)
        use_delta_gamma = file_angles == BCDI_DETECTOR_DELTA_GAMMA;
    if (use_delta_gamma) {
        g->angles = BCDI_DETECTOR_DELTA_GAMMA;
        if (!p->delta_given && !isfinite(file.delta_deg))
            return bcdi_error(BCDI_ERR_CONFIG, "detector_angles=delta_gamma needs key "
                                               "'delta_deg' (the file has no delta)");
        double d = p->delta_given ? p->delta_deg : 0.0;
        g->delta_deg = pick(p->delta_given, "delta_deg",
                            file_angles == BCDI_DETECTOR_DELTA_GAMMA ? file.delta_deg : NAN, d,
                            "delta", "deg", src);
        g->gamma_deg = pick(p->gamma_given, "gamma_deg",
                            file_angles == BCDI_DETECTOR_DELTA_GAMMA ? file.gamma_deg : NAN,
                            p->gamma_deg, "gamma", "deg", src);
        g->two_theta_deg =
            acos(cos(g->delta_deg * BCDI_PI / 180.0) * cos(g->gamma_deg * BCDI_PI / 180.0)) *
            180.0 / BCDI_PI;
    } else {
        g->angles = BCDI_DETECTOR_TWO_THETA;
        double tt;
        if (p->two_theta_given) {
            tt = p->two_theta_deg;
        } else if ((st = bcdi_bragg_two_theta_deg(g->wavelength_m, g->d_spacing_m, &tt)) !=
                   BCDI_OK) {
            return bcdi_error_prefix(st, "two_theta_deg not given and not derivable: ");
        }
        if (!p->two_theta_given && !isfinite(file.two_theta_deg))
            bcdi_log(BCDI_LOG_INFO,
                     "geometry: 2theta = %.8g deg (Bragg's law from d and the "
                     "energy)",
                     tt);
        else
            tt = pick(p->two_theta_given, "two_theta_deg", file.two_theta_deg, tt, "2theta", "deg",
                      src);
        g->two_theta_deg = tt;
        g->delta_deg = tt;
        g->gamma_deg = 0.0;
    }
    g->rocking_step_deg = pick(p->rocking_step_given, "rocking_step_deg", file.rocking_step_deg,
                               p->rocking_step_deg, "rocking step", "deg", src);
    memcpy(g->rocking_axis, p->rocking_axis, sizeof g->rocking_axis);
    g->row_sign = p->row_sign;
    /* rocking angle of each frame when the file has no motor array */
    if (!c->motor_from_file) {
        double start = p->rocking_start_deg;
        for (size_t f = 0; f < c->dims[0]; f++)
            c->rocking_deg[f] = start + (double)f * g->rocking_step_deg;
    }
    return BCDI_OK;
}

static int in_box(const bcdi_prepare_box *b, long f, long r, long col)
{
    return f >= b->lo[0] && f < b->hi[0] && r >= b->lo[1] && r < b->hi[1] && col >= b->lo[2] &&
           col < b->hi[2];
}

/* Mask isolated hot pixels of one nr x nc frame region: brighter than hot_factor times the
 * brightest measured neighbour (at least 1 count). */
static void mask_hot_pixels(prep_ctx *c, size_t nr, size_t nc, float *val, uint8_t *msk)
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

/* Corrected values and mask of input rows r0.., columns c0.. of input frame f (regions may
 * overhang the input: padding is masked). Masked voxels hold 0 in val; the mask says why not. */
static bcdi_status read_frame_region(prep_ctx *c, long f, long r0, size_t nr, long c0, size_t nc,
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
        c->mask3d_buf = c->mask3d_path[0] ? malloc(snr * snc) : NULL;
        c->stored_cap = c->stored_buf ? snr * snc : 0;
        if (!c->stored_buf || (c->mask3d_path[0] && !c->mask3d_buf))
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate a %zu x %zu region", snr,
                              snc);
    }
    bcdi_status st =
        prep_input_read(&c->in, (size_t)f, (size_t)sr_lo, snr, (size_t)sc_lo, snc, c->stored_buf);
    if (st != BCDI_OK) return st;
    if (c->mask3d_path[0]) {
        size_t start[3] = {(size_t)f, (size_t)sr_lo, (size_t)sc_lo}, count[3] = {1, snr, snc};
        if ((st = bcdi_h5_read_slab(c->in.h5, c->mask3d_path, BCDI_DT_U8, start, count,
                                    c->mask3d_buf)) != BCDI_OK)
            return st;
    }
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
            int user = 0;
            for (size_t k = 0; k < c->p->mask_box_count && !user; k++)
                user = in_box(&c->p->mask_boxes[k], f, ir, ic);
            for (size_t k = 0; k < c->p->alien_count && !user; k++)
                user = in_box(&c->p->aliens[k], f, ir, ic);
            if (user) {
                if (c->counting) c->n_user++;
                continue;
            }
            double x = v;
            if (c->dark) x -= c->dark[s];
            if (c->flat_scale) x *= c->flat_scale[s];
            x *= monitor;
            if (x < c->photon_threshold || x < 0.0)
                x = 0.0; /* below the threshold (or below the dark): measured, no photon */
            val[i] = (float)x;
            msk[i] = 0;
        }
    }
    if (c->hot_pixels) mask_hot_pixels(c, nr, nc, val, msk);
    return BCDI_OK;
}

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
static bcdi_status find_peak(prep_ctx *c, int use_com, double sigma, long peak[3])
{
    size_t rows = c->dims[1], cols = c->dims[2], plane = rows * cols, F = c->dims[0];
    float *val = malloc(plane * sizeof *val), *tmp = malloc(plane * sizeof *tmp);
    uint8_t *msk = malloc(plane);
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
            if ((st = read_frame_region(c, (long)f, 0, rows, 0, cols, val, msk)) != BCDI_OK)
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
            if ((st = read_frame_region(c, f2, centre[1] - reach, side, centre[2] - reach, side,
                                        val, msk)) != BCDI_OK)
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

/* Detector unit vectors from a computed geometry: d̂ (centre direction), r̂ (rows), ĉ (cols). */
static void detector_vectors(const bcdi_geometry *g, double d_hat[3], double r_hat[3],
                             double c_hat[3])
{
    double k = 2.0 * BCDI_PI / g->wavelength_m, nr = 0.0, nc = 0.0;
    for (int i = 0; i < 3; i++) {
        nr += g->q_step[i][1] * g->q_step[i][1];
        nc += g->q_step[i][2] * g->q_step[i][2];
    }
    for (int i = 0; i < 3; i++) {
        d_hat[i] = g->q_bragg[i] / k + (i == 2 ? 1.0 : 0.0); /* Q = k(d̂ − ẑ) */
        r_hat[i] = g->q_step[i][1] / sqrt(nr);
        c_hat[i] = g->q_step[i][2] / sqrt(nc);
    }
}

static double rocking_at(const prep_ctx *c, double frame)
{
    size_t F = c->dims[0];
    if (F == 1) return c->rocking_deg[0];
    double x = frame < 0 ? 0 : frame > (double)(F - 1) ? (double)(F - 1) : frame;
    size_t i = (size_t)floor(x);
    if (i >= F - 1) i = F - 2;
    double t = x - (double)i;
    return (1.0 - t) * c->rocking_deg[i] + t * c->rocking_deg[i + 1];
}

/* Centre of mass, integrated intensity and Gaussian fits of the box profiles; 2θ and d. */
static bcdi_status summarise(prep_ctx *c, const float *I, const uint8_t *M, const size_t S[3],
                             const long origin[3], const bcdi_geometry *g_unbinned,
                             const long reference[2], bcdi_diffraction_summary *s)
{
    double *prof[3];
    for (int a = 0; a < 3; a++)
        if (!(prof[a] = calloc(S[a], sizeof(double)))) {
            for (int b = 0; b < a; b++)
                free(prof[b]);
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
        }
    double total = 0.0, m[3] = {0, 0, 0};
    for (size_t i0 = 0; i0 < S[0]; i0++)
        for (size_t i1 = 0; i1 < S[1]; i1++)
            for (size_t i2 = 0; i2 < S[2]; i2++) {
                size_t i = (i0 * S[1] + i1) * S[2] + i2;
                if (M[i]) continue;
                double v = I[i];
                total += v;
                m[0] += v * (double)i0;
                m[1] += v * (double)i1;
                m[2] += v * (double)i2;
                prof[0][i0] += v;
                prof[1][i1] += v;
                prof[2][i2] += v;
            }
    s->integrated_intensity = total;
    for (int a = 0; a < 3; a++)
        s->centre_of_mass[a] = (total > 0 ? m[a] / total : 0.0) + (double)origin[a];
    s->com_rocking_deg = rocking_at(c, s->centre_of_mass[0]);
    s->peak_rocking_deg = rocking_at(c, (double)s->peak[0]);
    bcdi_status st = BCDI_OK;
    for (int a = 0; a < 3 && st == BCDI_OK; a++) {
        st = bcdi_gauss_fit_profile(prof[a], S[a], &s->profile[a]);
        s->profile[a].centre += (double)origin[a];
    }
    for (int a = 0; a < 3; a++)
        free(prof[a]);
    if (st != BCDI_OK) return st;
    s->rocking_fwhm_deg = s->profile[0].fwhm * fabs(g_unbinned->rocking_step_deg);
    /* 2θ of the centre of mass: the ray from the sample to that pixel */
    double d_hat[3], r_hat[3], c_hat[3], p[3];
    detector_vectors(g_unbinned, d_hat, r_hat, c_hat);
    double dr = (s->centre_of_mass[1] - (double)reference[0]) * g_unbinned->pixel_size_m[0];
    double dc = (s->centre_of_mass[2] - (double)reference[1]) * g_unbinned->pixel_size_m[1];
    for (int i = 0; i < 3; i++)
        p[i] = g_unbinned->distance_m * d_hat[i] + dr * r_hat[i] + dc * c_hat[i];
    double norm = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    s->two_theta_deg = acos(p[2] / norm) * 180.0 / BCDI_PI;
    double sin_theta = sin(0.5 * s->two_theta_deg * BCDI_PI / 180.0);
    s->d_spacing_m = sin_theta > 0 ? g_unbinned->wavelength_m / (2.0 * sin_theta) : 0.0;
    return BCDI_OK;
}

bcdi_status bcdi_prepare_load(const char *input, const bcdi_prepare_params *params,
                              bcdi_prepared *out)
{
    memset(out, 0, sizeof *out);
    prep_ctx c;
    memset(&c, 0, sizeof c);
    c.p = params;
    float *I = NULL;
    uint8_t *M = NULL;
    bcdi_status st = prep_input_open(input, params->input_format, params->data_path, &c.in);
    if (st != BCDI_OK) goto fail;
    bcdi_log(BCDI_LOG_INFO, "input '%s': %zu frames of %zu x %zu, %s%s%s", input, c.in.dims[0],
             c.in.dims[1], c.in.dims[2], bcdi_dtype_name(c.in.stored), c.in.h5 ? ", dataset " : "",
             c.in.h5 ? c.in.data_path : "");
    if ((st = setup_frame_map(&c)) != BCDI_OK || (st = setup_static(&c)) != BCDI_OK) goto fail;
    /* saturation */
    long nbits = params->bits;
    if (nbits < 0) /* auto */
        nbits = c.in.stored == BCDI_DT_U16 ? 12 : c.in.stored == BCDI_DT_U32 ? 24 : 0;
    c.saturation = nbits > 0 ? (float)(ldexp(1.0, (int)nbits) - 1.0) : 0.0f;
    if (nbits > 0)
        bcdi_log(BCDI_LOG_INFO, "saturation: pixels >= %.0f (%ld bits) are masked",
                 (double)c.saturation, nbits);
    c.invalid_is_error = params->invalid_is_error;
    c.photon_threshold = params->photon_threshold;
    c.hot_pixels = params->hot_pixels;
    c.hot_factor = params->hot_factor;
    double step_from_file;
    bcdi_geometry g;
    if ((st = setup_frames(&c, &step_from_file)) != BCDI_OK ||
        (st = geometry_from_inputs(&c, step_from_file, &g)) != BCDI_OK)
        goto fail;
    /* pass 1: the peak */
    double sigma = params->peak_smoothing;
    long peak[3] = {0, 0, 0}, centre[3];
    c.peak_pass = 1;
    st = find_peak(&c, params->peak_com, sigma, peak);
    c.peak_pass = 0;
    if (st != BCDI_OK) goto fail;
    memcpy(centre, peak, sizeof centre);
    if (!params->center_auto) {
        memcpy(centre, params->center, sizeof centre);
        bcdi_log(BCDI_LOG_INFO, "box centre %ld,%ld,%ld (key 'center')", centre[0], centre[1],
                 centre[2]);
    }
    /* box sizes: bin x an even FFT-friendly size */
    const long *bin = params->bin;
    long req[3];
    if (!params->box_auto) {
        memcpy(req, params->box, sizeof req);
    } else {
        req[0] = (long)c.dims[0];
        req[1] = (long)(c.dims[1] < 256 ? c.dims[1] : 256);
        req[2] = (long)(c.dims[2] < 256 ? c.dims[2] : 256);
    }
    size_t S[3];
    long origin[3];
    for (int a = 0; a < 3; a++) { /* (box and bin >= 1: the keys' ranges) */
        size_t binned = bcdi_prepare_good_size((size_t)((req[a] + bin[a] - 1) / bin[a]));
        S[a] = binned * (size_t)bin[a];
        origin[a] = centre[a] - (long)(S[a] / 2);
        out->bin[a] = (size_t)bin[a];
    }
    bcdi_log(BCDI_LOG_INFO,
             "box %zu x %zu x %zu from (%ld, %ld, %ld) (requested %ld x %ld x %ld, "
             "bin %ld,%ld,%ld)",
             S[0], S[1], S[2], origin[0], origin[1], origin[2], req[0], req[1], req[2], bin[0],
             bin[1], bin[2]);
    /* pass 2: the box only */
    size_t plane = S[1] * S[2], n = S[0] * plane;
    I = malloc(n * sizeof *I);
    M = malloc(n);
    if (!I || !M) {
        st = bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate the %zu x %zu x %zu box", S[0],
                        S[1], S[2]);
        goto fail;
    }
    c.counting = 1;
    for (size_t k = 0; k < S[0]; k++)
        if ((st = read_frame_region(&c, origin[0] + (long)k, origin[1], S[1], origin[2], S[2],
                                    I + k * plane, M + k * plane)) != BCDI_OK)
            goto fail;
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
    long reference[2] = {(long)(c.dims[1] / 2), (long)(c.dims[2] / 2)};
    if (!params->reference_center) memcpy(reference, params->reference_pixel, sizeof reference);
    if ((st = summarise(&c, I, M, S, origin, &g_unbinned, reference, s)) != BCDI_OK) goto fail;
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
    for (int a = 0; a < 3; a++)
        if (s->oversampling[a] <= 2.0)
            bcdi_log(BCDI_LOG_WARN,
                     "oversampling along %s is %.2f (below 2 or at the limit of "
                     "what the autocorrelation shows): the crystal may be too large for this box; "
                     "use a larger box or less binning",
                     axis_name[a], s->oversampling[a]);
    out->intensity = I;
    out->mask = M;
    out->geometry = g;
    memcpy(out->input_dims, c.dims, sizeof c.dims);
    memcpy(out->box_origin, origin, sizeof origin);
    memcpy(out->box_shape, S, sizeof S);
    ctx_free(&c);
    return BCDI_OK;
fail:
    free(I);
    free(M);
    ctx_free(&c);
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

/* ------------------------------------------------------------------------------------------ */
/* output                                                                                     */

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

static bcdi_status write_summary(bcdi_h5_writer *w, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    double peak[3], centre[3], fwhm[3], amp[3], bg[3], origin[3], box[3], bin[3], dims[3];
    for (int a = 0; a < 3; a++) {
        peak[a] = (double)s->peak[a];
        centre[a] = s->profile[a].centre;
        fwhm[a] = s->profile[a].fwhm;
        amp[a] = s->profile[a].amplitude;
        bg[a] = s->profile[a].background;
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
        (st = write_vec3(w, "gauss_centre", centre, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_fwhm", fwhm, NULL)) != BCDI_OK ||
        (st = write_vec3(w, "gauss_amplitude", amp, "photons")) != BCDI_OK ||
        (st = write_vec3(w, "gauss_background", bg, "photons")) != BCDI_OK ||
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
    double peak[3], centre[3], fwhm[3], amp[3], voxel[3], shape[3], origin[3], bin[3];
    for (int a = 0; a < 3; a++) {
        peak[a] = (double)s->peak[a];
        centre[a] = s->profile[a].centre;
        fwhm[a] = s->profile[a].fwhm;
        amp[a] = s->profile[a].amplitude;
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
    json_vec(f, "gauss_centre_pixel", centre);
    json_vec(f, "gauss_fwhm_pixel", fwhm);
    json_vec(f, "gauss_amplitude", amp);
    fprintf(f, "  \"gauss_converged\": [%s, %s, %s],\n", s->profile[0].converged ? "true" : "false",
            s->profile[1].converged ? "true" : "false", s->profile[2].converged ? "true" : "false");
    json_scalar(f, "rocking_fwhm_deg", s->rocking_fwhm_deg);
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

void bcdi_diffraction_summary_print(FILE *f, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    const bcdi_geometry *g = &p->geometry;
    fprintf(f, "Diffraction summary (pixels in input coordinates: frame, row, column)\n");
    fprintf(f, "  %-26s %14s %14s %14s\n", "", "rocking", "rows", "columns");
    fprintf(f, "  %-26s %14ld %14ld %14ld\n", "peak pixel", s->peak[0], s->peak[1], s->peak[2]);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "centre of mass", s->centre_of_mass[0],
            s->centre_of_mass[1], s->centre_of_mass[2]);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "Gaussian centre", s->profile[0].centre,
            s->profile[1].centre, s->profile[2].centre);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "Gaussian FWHM (pixels)", s->profile[0].fwhm,
            s->profile[1].fwhm, s->profile[2].fwhm);
    fprintf(f, "  %-26s %14.2f %14.2f %14.2f\n", "oversampling ratio", s->oversampling[0],
            s->oversampling[1], s->oversampling[2]);
    fprintf(f, "  %-26s %14zu %14zu %14zu\n", "prepared shape", p->shape[0], p->shape[1],
            p->shape[2]);
    fprintf(f, "  %-26s %14ld %14ld %14ld\n", "box origin (unbinned)", p->box_origin[0],
            p->box_origin[1], p->box_origin[2]);
    fprintf(f, "  %-26s %14zu %14zu %14zu\n", "bin", p->bin[0], p->bin[1], p->bin[2]);
    fprintf(f, "  %-26s %14.2f %14.2f %14.2f\n", "voxel size (nm)", g->voxel_size_m[0] * 1e9,
            g->voxel_size_m[1] * 1e9, g->voxel_size_m[2] * 1e9);
    fprintf(f, "  %-26s %.6f deg (centre of mass %.6f deg, FWHM %.5f deg)\n",
            "rocking angle at peak", s->peak_rocking_deg, s->com_rocking_deg, s->rocking_fwhm_deg);
    fprintf(f, "  %-26s %.6g photons (peak voxel %.6g)\n", "integrated intensity",
            s->integrated_intensity, s->peak_intensity);
    fprintf(f, "  %-26s %.4f deg -> d = %.5f A (%.4g keV)\n", "2theta of centre of mass",
            s->two_theta_deg, s->d_spacing_m * 1e10, g->energy_kev);
    fprintf(f, "  %-26s %zu of %zu voxels (%.3f%%)\n", "masked", s->masked_voxels, s->voxels,
            s->voxels ? 100.0 * (double)s->masked_voxels / (double)s->voxels : 0.0);
}
