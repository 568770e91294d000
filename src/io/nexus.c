/* SPDX-License-Identifier: BSD-3-Clause */
/* NeXus rocking-curve stacks in the Diamond I13-1 layout: writer (for `simulate`), a geometry
 * reader that understands the units the file declares, and a one-line summary for `info`. */
#include "io/nexus.h"
#include "num/constants.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DET "entry1/instrument/excalibur"

/* 2θ that the detector sits at, whichever angle convention the geometry uses. */
static double polar_angle_deg(const bcdi_geometry *g)
{
    if (g->angles == BCDI_DETECTOR_DELTA_GAMMA) {
        const double d2r = BCDI_PI / 180.0;
        return acos(cos(g->delta_deg * d2r) * cos(g->gamma_deg * d2r)) / d2r;
    }
    return g->two_theta_deg;
}

static bcdi_status write_geometry(bcdi_h5_writer *w, const bcdi_geometry *g)
{
    bcdi_status st;
    if ((st = bcdi_h5_write_double(w, DET "/distance", g->distance_m, "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, DET "/x_pixel_size", g->pixel_size_m[1], "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, DET "/y_pixel_size", g->pixel_size_m[0], "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, DET "/polar_angle", polar_angle_deg(g), "deg")) != BCDI_OK)
        return st;
    if ((st = bcdi_h5_group(w, "entry1/instrument/monochromator", "NXmonochromator")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry1/instrument/monochromator/energy", g->energy_kev,
                                   "keV")) != BCDI_OK)
        return st;
    double lambda = g->wavelength_m > 0 ? g->wavelength_m
                    : g->energy_kev > 0 ? bcdi_wavelength_m(g->energy_kev)
                                        : 0.0;
    if ((st = bcdi_h5_write_double(w, "entry1/instrument/monochromator/wavelength", lambda, "m")) !=
        BCDI_OK)
        return st;
    if ((st = bcdi_h5_group(w, "entry1/sample", "NXsample")) != BCDI_OK ||
        (st = bcdi_h5_group(w, "entry1/sample/reflection", "NXcollection")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry1/sample/reflection/d_spacing", g->d_spacing_m, "m")) !=
            BCDI_OK)
        return st;
    size_t three = 3;
    int32_t hkl[3] = {g->hkl[0], g->hkl[1], g->hkl[2]};
    return bcdi_h5_write(w, "entry1/sample/reflection/hkl", BCDI_DT_I32, 1, &three, hkl, 0);
}

static bcdi_status write_stack(bcdi_h5_writer *w, const bcdi_nexus_stack *s)
{
    bcdi_status st;
    if ((st = bcdi_h5_group(w, "entry1", "NXentry")) != BCDI_OK ||
        (st = bcdi_h5_group(w, "entry1/instrument", "NXinstrument")) != BCDI_OK ||
        (st = bcdi_h5_group(w, DET, "NXdetector")) != BCDI_OK)
        return st;
    /* one chunk per frame: readers take frames (or ROIs of frames) one at a time */
    size_t chunk[3] = {1, s->dims[1], s->dims[2]};
    if ((st = bcdi_h5_create_dataset(w, BCDI_NEXUS_DATA_PATH, s->type, 3, s->dims, chunk,
                                     s->deflate_level)) != BCDI_OK)
        return st;
    size_t frame = s->dims[1] * s->dims[2] * bcdi_dtype_size(s->type);
    for (size_t k = 0; k < s->dims[0]; k++) {
        size_t start[3] = {k, 0, 0}, count[3] = {1, s->dims[1], s->dims[2]};
        const char *src = (const char *)s->frames + k * frame;
        if ((st = bcdi_h5_write_slab(w, BCDI_NEXUS_DATA_PATH, s->type, start, count, src)) !=
            BCDI_OK)
            return st;
    }
    if (s->pixel_mask) {
        size_t md[2] = {s->dims[1], s->dims[2]};
        if ((st = bcdi_h5_write(w, BCDI_NEXUS_MASK_PATH, BCDI_DT_U32, 2, md, s->pixel_mask,
                                s->deflate_level)) != BCDI_OK)
            return st;
    }
    if ((st = bcdi_h5_group(w, "entry1/instrument/t1_theta", "NXpositioner")) != BCDI_OK ||
        (st = bcdi_h5_write(w, BCDI_NEXUS_MOTOR_PATH, BCDI_DT_F64, 1, s->dims, s->rocking_deg,
                            0)) != BCDI_OK ||
        (st = bcdi_h5_attr_string(w, BCDI_NEXUS_MOTOR_PATH, "units", "deg")) != BCDI_OK)
        return st;
    if (s->geometry && (st = write_geometry(w, s->geometry)) != BCDI_OK) return st;
    if ((st = bcdi_h5_group(w, "entry1/data", "NXdata")) != BCDI_OK ||
        (st = bcdi_h5_attr_string(w, "entry1/data", "signal", "data")) != BCDI_OK ||
        (st = bcdi_h5_link_soft(w, "entry1/data/data", BCDI_NEXUS_DATA_PATH)) != BCDI_OK ||
        (st = bcdi_h5_link_soft(w, "entry1/data/t1_theta", BCDI_NEXUS_MOTOR_PATH)) != BCDI_OK)
        return st;
    if (s->config_count > 0 && s->config_keys && s->config_values) {
        if ((st = bcdi_h5_group(w, "entry1/simulation", "NXcollection")) != BCDI_OK) return st;
        for (size_t i = 0; i < s->config_count; i++) {
            char path[512];
            int n = snprintf(path, sizeof path, "entry1/simulation/%s", s->config_keys[i]);
            if (n < 0 || (size_t)n >= sizeof path)
                return bcdi_error(BCDI_ERR_INVALID_ARG, "config key '%s' too long",
                                  s->config_keys[i]);
            /* "section/key" would nest groups; keep one flat dataset per key */
            for (char *p = path + strlen("entry1/simulation/"); *p; p++)
                if (*p == '/') *p = '.';
            if ((st = bcdi_h5_write_string(
                     w, path, s->config_values[i] ? s->config_values[i] : "")) != BCDI_OK)
                return st;
        }
    }
    return BCDI_OK;
}

bcdi_status bcdi_nexus_write_stack(bcdi_output *tx, const char *path, const bcdi_nexus_stack *stack)
{
    if (!path || !stack || !stack->frames || !stack->rocking_deg)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "NeXus stack '%s': missing frames or angles",
                          path ? path : "(null)");
    if (stack->type != BCDI_DT_U16 && stack->type != BCDI_DT_U32 && stack->type != BCDI_DT_F32)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "NeXus stack '%s': frames must be uint16, uint32 or float32, not %s",
                          path, bcdi_dtype_name(stack->type));
    if (stack->dims[0] == 0 || stack->dims[1] == 0 || stack->dims[2] == 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "NeXus stack '%s': empty shape %zu x %zu x %zu",
                          path, stack->dims[0], stack->dims[1], stack->dims[2]);
    bcdi_h5_writer *w;
    bcdi_status st = bcdi_h5_create_in(tx, path, &w);
    if (st != BCDI_OK) return st;
    st = write_stack(w, stack);
    if (st != BCDI_OK) {
        bcdi_h5_abort(w);
        return st;
    }
    return bcdi_h5_commit(w);
}

/* ---- describing (for `braggcdi info`) ---- */

static int read_if_present(bcdi_h5_reader *r, const char *path, double *v)
{
    return bcdi_h5_exists(r, path) && bcdi_h5_read_double(r, path, v) == BCDI_OK;
}

void bcdi_nexus_describe(bcdi_h5_reader *r, FILE *out)
{
    int rank;
    size_t dims[8];
    bcdi_dtype t;
    if (bcdi_h5_shape(r, BCDI_NEXUS_DATA_PATH, &rank, dims, &t) != BCDI_OK || rank != 3) return;
    fprintf(out, "NeXus rocking stack (I13-1 layout): %zu frames of %zu x %zu, %s", dims[0],
            dims[1], dims[2], bcdi_dtype_name(t));
    const char *motor = BCDI_NEXUS_MOTOR_PATH;
    int mr;
    size_t md[8];
    if (bcdi_h5_shape(r, motor, &mr, md, NULL) == BCDI_OK && mr == 1 && md[0] > 0) {
        size_t s0 = 0, s1 = md[0] - 1, c = 1;
        double a, b;
        if (bcdi_h5_read_slab(r, motor, BCDI_DT_F64, &s0, &c, &a) == BCDI_OK &&
            bcdi_h5_read_slab(r, motor, BCDI_DT_F64, &s1, &c, &b) == BCDI_OK)
            fprintf(out, ", rocking t1_theta from %.6g to %.6g deg", a, b);
    }
    double v;
    if (read_if_present(r, "entry1/instrument/monochromator/energy", &v))
        fprintf(out, ", %.6g keV", v);
    if (read_if_present(r, DET "/distance", &v)) fprintf(out, ", %.6g m", v);
    if (read_if_present(r, DET "/x_pixel_size", &v)) fprintf(out, ", pixel %.6g um", v * 1e6);
    if (read_if_present(r, DET "/polar_angle", &v)) fprintf(out, ", 2theta %.6g deg", v);
    fprintf(out, "\n");
    bcdi_clear_error();
}

/* ---- reading ---- */

typedef enum { U_LENGTH, U_ANGLE, U_ENERGY } unit_kind;

/* Scale from the file's `units` attribute to metres / degrees / keV; no attribute = ours. */
static int unit_scale(const char *u, unit_kind k, double *scale)
{
    static const struct {
        unit_kind k;
        const char *name;
        double s;
    } table[] = {
        {U_LENGTH, "m", 1.0},
        {U_LENGTH, "mm", 1e-3},
        {U_LENGTH, "um", 1e-6},
        {U_LENGTH, "micron", 1e-6},
        {U_LENGTH, "\xc2\xb5m", 1e-6},
        {U_LENGTH, "nm", 1e-9},
        {U_LENGTH, "angstrom", 1e-10},
        {U_LENGTH, "A", 1e-10},
        {U_LENGTH, "cm", 1e-2},
        {U_ANGLE, "deg", 1.0},
        {U_ANGLE, "degree", 1.0},
        {U_ANGLE, "degrees", 1.0},
        {U_ANGLE, "rad", 180.0 / BCDI_PI},
        {U_ANGLE, "radian", 180.0 / BCDI_PI},
        {U_ENERGY, "keV", 1.0},
        {U_ENERGY, "eV", 1e-3},
        {U_ENERGY, "J", 1.0 / 1.602176634e-16},
    };
    if (!u[0]) {
        *scale = 1.0;
        return 0;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].k == k && strcmp(table[i].name, u) == 0) {
            *scale = table[i].s;
            return 0;
        }
    return -1;
}

/* 1 = read, 0 = absent, <0 = present but unusable (error set): a value that is not finite, or
 * not positive when `positive` (an energy, a length), is refused, never taken for an absent one
 * (which a key's default would replace). */
static int read_quantity(bcdi_h5_reader *r, const char *path, unit_kind k, int positive,
                         double *out)
{
    if (!bcdi_h5_exists(r, path)) return 0;
    double v, scale;
    char units[64] = "";
    if (bcdi_h5_read_double(r, path, &v) != BCDI_OK) return -1;
    if (bcdi_h5_read_attr_string(r, path, "units", units, sizeof units) != BCDI_OK) units[0] = '\0';
    if (unit_scale(units, k, &scale) != 0) {
        bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has units '%s', expected %s", bcdi_h5_path(r), path,
                   units,
                   k == U_LENGTH  ? "a length (m, mm, um)"
                   : k == U_ANGLE ? "an angle (deg, rad)"
                                  : "an energy (keV, eV)");
        return -1;
    }
    if (!isfinite(v) || (positive && !(v > 0.0))) {
        bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' is %g, expected a finite%s number", bcdi_h5_path(r),
                   path, v, positive ? ", positive" : "");
        return -1;
    }
    *out = v * scale;
    return 1;
}

bcdi_status bcdi_nexus_read_geometry(bcdi_h5_reader *r, bcdi_geometry *g)
{
    if (!r || !g)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_nexus_read_geometry: NULL argument");
    double v;
    int rc;
#define QTY(path, kind, field)                                                                     \
    do {                                                                                           \
        if ((rc = read_quantity(r, path, kind, kind != U_ANGLE, &v)) < 0) return BCDI_ERR_FORMAT;  \
        if (rc > 0) field = v;                                                                     \
    } while (0)
    QTY("entry1/instrument/monochromator/energy", U_ENERGY, g->energy_kev);
    QTY("entry1/instrument/monochromator/wavelength", U_LENGTH, g->wavelength_m);
    if (g->energy_kev > 0 && !bcdi_h5_exists(r, "entry1/instrument/monochromator/wavelength"))
        g->wavelength_m = bcdi_wavelength_m(g->energy_kev);
    QTY(DET "/distance", U_LENGTH, g->distance_m);
    QTY(DET "/y_pixel_size", U_LENGTH, g->pixel_size_m[0]);
    QTY(DET "/x_pixel_size", U_LENGTH, g->pixel_size_m[1]);
    if (bcdi_h5_exists(r, DET "/polar_angle")) {
        QTY(DET "/polar_angle", U_ANGLE, g->two_theta_deg);
        g->angles = BCDI_DETECTOR_TWO_THETA;
    }
    QTY("entry1/sample/reflection/d_spacing", U_LENGTH, g->d_spacing_m);
#undef QTY
    if (bcdi_h5_exists(r, "entry1/sample/reflection/hkl")) {
        int32_t hkl[3];
        if (bcdi_h5_read(r, "entry1/sample/reflection/hkl", BCDI_DT_I32, hkl, 3) != BCDI_OK)
            return BCDI_ERR_FORMAT;
        for (int i = 0; i < 3; i++)
            g->hkl[i] = hkl[i];
    }
    /* rocking step: mean step of the scanned motor (first to last over n-1 steps) */
    if (bcdi_h5_exists(r, BCDI_NEXUS_MOTOR_PATH)) {
        int rank;
        size_t dims[8];
        if (bcdi_h5_shape(r, BCDI_NEXUS_MOTOR_PATH, &rank, dims, NULL) != BCDI_OK)
            return BCDI_ERR_FORMAT;
        if (rank == 1 && dims[0] >= 2) {
            double a, b, scale = 1.0;
            size_t s0 = 0, s1 = dims[0] - 1, c = 1;
            char units[64] = "";
            if (bcdi_h5_read_slab(r, BCDI_NEXUS_MOTOR_PATH, BCDI_DT_F64, &s0, &c, &a) != BCDI_OK ||
                bcdi_h5_read_slab(r, BCDI_NEXUS_MOTOR_PATH, BCDI_DT_F64, &s1, &c, &b) != BCDI_OK)
                return BCDI_ERR_FORMAT;
            if (bcdi_h5_read_attr_string(r, BCDI_NEXUS_MOTOR_PATH, "units", units, sizeof units) !=
                BCDI_OK)
                units[0] = '\0';
            if (unit_scale(units, U_ANGLE, &scale) != 0)
                return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has units '%s', expected deg",
                                  bcdi_h5_path(r), BCDI_NEXUS_MOTOR_PATH, units);
            if (!isfinite(a) || !isfinite(b))
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': rocking motor '%s' is %g at its first and %g at its last "
                                  "position, expected finite angles",
                                  bcdi_h5_path(r), BCDI_NEXUS_MOTOR_PATH, a, b);
            g->rocking_step_deg = (b - a) * scale / (double)(dims[0] - 1);
        }
    }
    bcdi_clear_error();
    return BCDI_OK;
}
