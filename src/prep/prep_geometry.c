/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, geometry: each value from the input's metadata unless its key was given, else
 * from the key; with a beamline preset, from the preset and its scan's metadata (SPEC), typed
 * keys winning over both; the rocking angle of each frame. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"
#include "io/cxi.h"
#include "io/nexus.h"
#include "prep/prep_metadata.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
    else if (given)
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (given: key '%s')", what, cfg_value, unit,
                 key);
    else /* only an absent value is replaced by a default: present ones were checked finite */
        bcdi_log(BCDI_LOG_NOTICE,
                 "geometry: %s = %.8g %s (default of key '%s': the input '%s' has no %s)", what,
                 cfg_value, unit, key, file, what);
    return cfg_value;
}

bcdi_status prep_geometry_from_inputs(prep_ctx *c, double step_from_file, bcdi_geometry *g)
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
        int present = 0;
        /* braggcdi's own group, whole and valid, or none at all (a partial group is refused) */
        if ((st = bcdi_cxi_read_geometry_if_present(c->in.path, &stored, &present)) != BCDI_OK)
            return st;
        if (present) {
            file = stored;
            file_angles = (int)stored.angles;
            file.rocking_step_deg = stored.rocking_step_deg;
        } else {
            /* PyNX's fields: each absent one is NaN (the key's value is taken, and said); a
             * present one must be a positive, finite number */
            static const char *const det = "entry_1/instrument_1/detector_1/";
            const struct {
                const char *path;
                double *field, scale;
            } fields[] = {
                {"distance", &file.distance_m, 1.0},
                {"x_pixel_size", &file.pixel_size_m[1], 1.0},
                {"y_pixel_size", &file.pixel_size_m[0], 1.0},
                {"entry_1/instrument_1/source_1/energy", &file.energy_kev,
                 1.0 / 1.602176634e-16}, /* CXI stores joules */
            };
            for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
                char path[256];
                snprintf(path, sizeof path, "%s%s", fields[k].path[0] == 'e' ? "" : det,
                         fields[k].path);
                if (!bcdi_h5_exists(c->in.h5, path)) continue;
                double v;
                if ((st = bcdi_h5_read_double(c->in.h5, path, &v)) != BCDI_OK) return st;
                if (!isfinite(v) || !(v > 0.0))
                    return bcdi_error(BCDI_ERR_FORMAT,
                                      "'%s': '%s' is %g, expected a positive finite number (give "
                                      "the value as a key to use another)",
                                      c->in.path, path, v);
                *fields[k].field = v * fields[k].scale;
            }
        }
    }
    if (c->in.kind != PREP_INPUT_CXI || isfinite(step_from_file))
        file.rocking_step_deg = step_from_file; /* only the motor named by motor_path counts */
    const char *src = c->in.path;

    memset(g, 0, sizeof *g);
    g->energy_kev =
        pick(p->energy_given, "energy_kev", file.energy_kev, p->energy_kev, "energy", "keV", src);
    g->wavelength_m = BCDI_HC_KEV_ANGSTROM / g->energy_kev * 1e-10;
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
    if (g->rocking_step_deg == 0.0) /* (the key cannot be 0: the file's motor does not move) */
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': the rocking motor ('%s') does not move from its first to its "
                          "last frame: give rocking_step_deg",
                          src, p->motor_path);
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

/* ---- with a beamline preset ------------------------------------------------------------------ */

/* Does the note for `key` describe a value the user typed (then the key's own line replaces it)? */
static int typed_over(const bcdi_prepare_params *p, const char *key)
{
    static const struct {
        const char *note;
        size_t given;
    } map[] = {
        {"energy", offsetof(bcdi_prepare_params, energy_given)},
        {"wavelength", offsetof(bcdi_prepare_params, energy_given)},
        {"distance", offsetof(bcdi_prepare_params, distance_given)},
        {"delta", offsetof(bcdi_prepare_params, delta_given)},
        {"gamma", offsetof(bcdi_prepare_params, gamma_given)},
        {"two_theta", offsetof(bcdi_prepare_params, two_theta_given)},
        {"d_spacing", offsetof(bcdi_prepare_params, d_spacing_given)},
        {"hkl", offsetof(bcdi_prepare_params, hkl_given)},
        {"rocking_step", offsetof(bcdi_prepare_params, rocking_step_given)},
        {"rocking_start", offsetof(bcdi_prepare_params, rocking_start_given)},
        {"reference_pixel", offsetof(bcdi_prepare_params, reference_given)},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].note, key)) {
            int given;
            memcpy(&given, (const char *)p + map[i].given, sizeof given);
            return given;
        }
    return 0;
}

/* What the metadata says for a motor (times `scale`), NaN when it says nothing. */
static double metadata_motor(const prep_metadata *m, const char *motor, double scale)
{
    double v;
    return m->scan && motor && m->meta.motor(m->meta.source, motor, &v) ? v * scale : NAN;
}

/* A typed key replaces the preset's value; the log quotes what the metadata says (`said`, NaN
 * when nothing, and where: `source`). */
static void typed_value(const prep_metadata *m, double said, const char *source, const char *key,
                        const char *what, double typed, const char *unit, double *field)
{
    if (!isfinite(said))
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (key '%s' given; the metadata has none)",
                 what, typed, unit, key);
    else if (fabs(said - typed) > 1e-9 * fmax(fabs(said), fabs(typed)))
        bcdi_log(BCDI_LOG_NOTICE,
                 "geometry: %s = %.8g %s (key '%s' given; the metadata says %.8g %s, %s of %s: "
                 "the key wins)",
                 what, typed, unit, key, said, unit, source, m->meta.where);
    else
        bcdi_log(BCDI_LOG_INFO, "geometry: %s = %.8g %s (key '%s' given, as the metadata says)",
                 what, typed, unit, key);
    *field = typed;
}

/* The same for a value held by a motor of the metadata. */
static void typed_motor(const prep_metadata *m, const char *motor, double scale, const char *key,
                        const char *what, double typed, const char *unit, double *field)
{
    char source[96];
    snprintf(source, sizeof source, "motor '%s'", motor ? motor : "");
    typed_value(m, metadata_motor(m, motor, scale), source, key, what, typed, unit, field);
}

static bcdi_status geometry_from_preset(prep_ctx *c, const prep_metadata *m, bcdi_geometry *g)
{
    const bcdi_prepare_params *p = c->p;
    /* typed keys stand in for the preset's defaults, so a value the metadata lacks comes from
     * the key; where the metadata has it, the key replaces it below */
    bcdi_beamline bl = *m->beamline;
    if (p->energy_given) bl.energy_kev = p->energy_kev;
    if (p->distance_given) bl.distance_m = p->distance_m;
    if (p->delta_given) bl.delta_deg = p->delta_deg;
    if (p->gamma_given) bl.gamma_deg = p->gamma_deg;
    if (p->two_theta_given) bl.two_theta_deg = p->two_theta_deg;
    if (p->rocking_step_given) bl.rocking_step_deg = p->rocking_step_deg;
    if (p->d_spacing_given) bl.d_spacing_m = p->d_spacing_angstrom * 1e-10;
    bcdi_beamline_scan info;
    bcdi_beamline_notes notes;
    bcdi_status st = bcdi_beamline_geometry(&bl, m->scan ? &m->meta : NULL, g, &info, &notes);
    if (st != BCDI_OK)
        return bcdi_error_prefix(st, "beamline %s (%s): ", m->beamline->name, m->beamline_why);
    for (size_t i = 0; i < notes.count; i++) {
        if (typed_over(p, notes.note[i].key)) continue;
        int contradicts = strstr(notes.note[i].text, "is not used") != NULL;
        bcdi_log(contradicts ? BCDI_LOG_NOTICE : BCDI_LOG_INFO, "geometry (%s): %s",
                 notes.note[i].source == BCDI_SOURCE_METADATA  ? "metadata"
                 : notes.note[i].source == BCDI_SOURCE_DEFAULT ? "preset default"
                                                               : "derived",
                 notes.note[i].text);
    }
    /* the keys the user typed win over the metadata */
    const bcdi_beamline *pre = m->beamline;
    if (p->energy_given) {
        typed_motor(m, pre->energy_motor, pre->energy_to_kev, "energy_kev", "energy", p->energy_kev,
                    "keV", &g->energy_kev);
        g->wavelength_m = BCDI_HC_KEV_ANGSTROM / g->energy_kev * 1e-10;
    }
    if (p->distance_given)
        typed_motor(m, pre->distance_motor, pre->distance_to_m, "distance_m", "detector distance",
                    p->distance_m, "m", &g->distance_m);
    if (p->pixel_given) {
        for (int a = 0; a < 2; a++)
            g->pixel_size_m[a] = p->pixel_um[a] * 1e-6;
        bcdi_log(BCDI_LOG_NOTICE,
                 "geometry: pixel size %.6g x %.6g µm (key 'pixel_um' given; the %s has %.6g µm)",
                 p->pixel_um[0], p->pixel_um[1], info.detector->name,
                 info.detector->pixel_size_m[0] * 1e6);
    }
    if (p->detector_angles_given && p->detector_angles != (int)g->angles) {
        bcdi_log(BCDI_LOG_NOTICE, "geometry: detector_angles=%s given (the %s preset uses %s)",
                 p->detector_angles == BCDI_DETECTOR_DELTA_GAMMA ? "delta_gamma" : "two_theta",
                 pre->name, g->angles == BCDI_DETECTOR_DELTA_GAMMA ? "delta_gamma" : "two_theta");
        g->angles = (bcdi_detector_angles)p->detector_angles;
        if (g->angles == BCDI_DETECTOR_TWO_THETA) g->delta_deg = g->two_theta_deg, g->gamma_deg = 0;
    }
    if (g->angles == BCDI_DETECTOR_DELTA_GAMMA) {
        if (p->delta_given)
            typed_motor(m, pre->delta_motor, 1.0, "delta_deg", "delta", p->delta_deg, "deg",
                        &g->delta_deg);
        if (p->gamma_given)
            typed_motor(m, pre->gamma_motor, 1.0, "gamma_deg", "gamma", p->gamma_deg, "deg",
                        &g->gamma_deg);
        g->two_theta_deg =
            acos(cos(g->delta_deg * BCDI_PI / 180.0) * cos(g->gamma_deg * BCDI_PI / 180.0)) *
            180.0 / BCDI_PI;
    } else if (p->two_theta_given) {
        typed_motor(m, pre->two_theta_motor, 1.0, "two_theta_deg", "2theta", p->two_theta_deg,
                    "deg", &g->two_theta_deg);
        g->delta_deg = g->two_theta_deg;
        g->gamma_deg = 0.0;
    }
    if (p->d_spacing_given)
        typed_value(m, NAN, "", "d_spacing", "d-spacing", p->d_spacing_angstrom * 1e-10, "m",
                    &g->d_spacing_m);
    if (p->hkl_given) {
        memcpy(g->hkl, p->hkl, sizeof g->hkl);
        bcdi_log(BCDI_LOG_INFO, "geometry: hkl = %d %d %d (key 'hkl' given)", g->hkl[0], g->hkl[1],
                 g->hkl[2]);
    }
    if (p->rocking_step_given)
        typed_value(m, m->scan ? m->meta.motion.step_deg : NAN, "the scan command",
                    "rocking_step_deg", "rocking step", p->rocking_step_deg, "deg",
                    &g->rocking_step_deg);
    if (p->rocking_axis_given) {
        memcpy(g->rocking_axis, p->rocking_axis, sizeof g->rocking_axis);
        bcdi_log(BCDI_LOG_NOTICE,
                 "geometry: rocking axis (%g, %g, %g) (key 'rocking_axis' given; the preset's "
                 "circle '%s' is not used)",
                 p->rocking_axis[0], p->rocking_axis[1], p->rocking_axis[2], info.rocking_motor);
    }
    if (p->row_sign_given) g->row_sign = p->row_sign;
    /* frames: the scan's start and step, unless typed; a count that differs is worth a word */
    double start = info.rocking_start_deg;
    if (p->rocking_start_given || !m->scan) {
        start = p->rocking_start_deg;
        bcdi_log(BCDI_LOG_INFO, "geometry: rocking start %.8g deg (%s key 'rocking_start_deg')",
                 start, p->rocking_start_given ? "given:" : "no scan metadata: default of");
    }
    if (!c->motor_from_file)
        for (size_t f = 0; f < c->dims[0]; f++)
            c->rocking_deg[f] = start + (double)f * g->rocking_step_deg;
    if (info.frames && info.frames != c->dims[0])
        bcdi_log(BCDI_LOG_WARN,
                 "%s asks for %zu points (%zu recorded) but the input has %zu frames: is it the "
                 "right scan (key 'scan')?",
                 m->meta.where, info.frames, info.points_read, c->dims[0]);
    if (p->reference_given && !p->reference_center) {
        memcpy(c->reference, p->reference_pixel, sizeof c->reference);
        bcdi_log(BCDI_LOG_INFO, "geometry: reference pixel %ld, %ld (key 'reference_pixel')",
                 c->reference[0], c->reference[1]);
    } else if (!p->reference_given) {
        c->reference[0] = lround(info.reference_pixel[0]);
        c->reference[1] = lround(info.reference_pixel[1]);
    }
    return BCDI_OK;
}

bcdi_status prep_geometry_resolve(prep_ctx *c, const prep_metadata *m, double step_from_file,
                                  bcdi_geometry *g)
{
    const bcdi_prepare_params *p = c->p;
    c->reference[0] = (long)(c->dims[1] / 2);
    c->reference[1] = (long)(c->dims[2] / 2);
    if (!p->reference_center) memcpy(c->reference, p->reference_pixel, sizeof c->reference);
    int i13 = m->beamline && !strcmp(m->beamline->name, "i13-1") && !m->scan;
    if (!m->beamline || i13) {
        bcdi_log(BCDI_LOG_NOTICE, "geometry: beamline %s (%s): values from %s and the keys",
                 m->beamline ? m->beamline->name : "none", m->beamline_why,
                 c->in.kind == PREP_INPUT_HDF5 || c->in.kind == PREP_INPUT_CXI
                     ? "the input file"
                     : "no file metadata");
        return prep_geometry_from_inputs(c, step_from_file, g);
    }
    if (m->scan)
        bcdi_log(BCDI_LOG_NOTICE, "geometry: beamline %s (%s), metadata of %s (scan: %s)",
                 m->beamline->name, m->beamline_why, m->meta.where, m->scan_why);
    else
        bcdi_log(BCDI_LOG_NOTICE,
                 "geometry: beamline %s (%s), no scan metadata: the preset's "
                 "defaults and the keys",
                 m->beamline->name, m->beamline_why);
    return geometry_from_preset(c, m, g);
}

/* Detector unit vectors from a computed geometry: d̂ (centre direction), r̂ (rows), ĉ (cols). */
void prep_detector_vectors(const bcdi_geometry *g, double d_hat[3], double r_hat[3],
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

double prep_rocking_at(const prep_ctx *c, double frame)
{
    size_t F = c->dims[0];
    if (F == 1) return c->rocking_deg[0];
    double x = frame < 0 ? 0 : frame > (double)(F - 1) ? (double)(F - 1) : frame;
    size_t i = (size_t)floor(x);
    if (i >= F - 1) i = F - 2;
    double t = x - (double)i;
    return (1.0 - t) * c->rocking_deg[i] + t * c->rocking_deg[i + 1];
}
