/* SPDX-License-Identifier: BSD-3-Clause */
/* Beamline presets and the geometry of a scan from a preset and its metadata
 * (instrument/beamline.h; src/prep turns a SPEC scan into that metadata).
 *
 * APS 34-ID-C, as public descriptions of that diffractometer give it (the xrayutilities-style
 * description used by APS's own reconstruction software and by other BCDI packages; checked
 * against the formulas below in tests/test_beamline.c):
 *  - incident beam along +z; sample circles theta (about y+, outermost), chi (about z-), phi
 *    (about y+); detector arm delta (about y+, outer) carrying gamma (about x-, inner), which is
 *    BCDI_DETECTOR_DELTA_GAMMA of geometry.c;
 *  - frames: detector X (columns) along the outboard direction seen from downstream, detector Y
 *    (rows) growing downwards: row_sign = +1;
 *  - SPEC motors: Theta/th, Chi/chi, Phi/phi, Delta/del, Gamma/gam, Energy/en in keV, camdist
 *    in mm; the detector is named by #UIMDET ("34idcTIM2:": a 512 x 512 Timepix quad of four
 *    256 x 256 chips with 55 µm pixels) and the saved region by #UIMR5 "minX sizeX minY sizeY".
 *  - SPEC's own diffractometer wavelength (#G4 field 4 of its sixc geometry) is not kept in step
 *    with the beam there (the gold scan says 1.54 Å at 9 keV): the Energy motor is used.
 * The quad's gaps (5 rows, 4 columns between chips when the whole sensor is read) follow the
 * preparation script APS published for this detector; no full frame here confirms them. */
#include "instrument/beamline.h"
#include "num/constants.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const bcdi_detector_model excalibur_3m = {
    .name = "Excalibur 3M",
    .rows = 1536,
    .cols = 2048,
    .pixel_size_m = {55e-6, 55e-6},
    .chip_size = 256,
    .gaps = BCDI_GAPS_EXCALIBUR,
    .chip_rows = 6,
    .chip_cols = 8,
};

static const bcdi_detector_model timepix_quad_34idc = {
    .name = "Timepix quad (34idcTIM2)",
    .spec_id = "34idcTIM2",
    .rows = 512,
    .cols = 512,
    .pixel_size_m = {55e-6, 55e-6},
    .chip_size = 256,
    .gaps = BCDI_GAPS_CHIP_GRID,
    .chip_rows = 2,
    .chip_cols = 2,
    .row_gap = 5,
    .col_gap = 4,
};

static const bcdi_detector_model *const detectors[] = {&excalibur_3m, &timepix_quad_34idc};

static const bcdi_beamline presets[] = {
    {
        .name = "i13-1",
        .aliases = "i13,diamond-i13-1,i13-1-coherence",
        .description = "Diamond I13-1: horizontal scattering, detector at 2θ in the horizontal "
                       "plane, θ rocking about the vertical axis (the seed paper's set-up)",
        .detector = &excalibur_3m,
        .angles = BCDI_DETECTOR_TWO_THETA,
        .row_sign = 1,
        .sample = {{"t1_theta", "t1_theta", {0, 1, 0}}},
        .energy_kev = 11.0,
        .distance_m = 2.9,
        .delta_deg = NAN,
        .gamma_deg = NAN,
        .two_theta_deg = 0.0, /* Bragg's law from d */
        .rocking_step_deg = 0.005,
        .d_spacing_m = 4.733e-10, /* NMC811 (003) */
        .hkl = {0, 0, 3},
        .dark_bad_above = NAN,
    },
    {
        .name = "34idc",
        .aliases = "34-id-c,aps-34idc,aps-34-id-c,34id",
        .description = "APS 34-ID-C: delta/gamma detector arm, theta/chi/phi sample circles",
        .detector = &timepix_quad_34idc,
        .angles = BCDI_DETECTOR_DELTA_GAMMA,
        .row_sign = 1,
        .sample = {{"th", "Theta", {0, 1, 0}},
                   {"chi", "Chi", {0, 0, -1}},
                   {"phi", "Phi", {0, 1, 0}}},
        .energy_motor = "Energy",
        .energy_to_kev = 1.0,
        .distance_motor = "camdist",
        .distance_to_m = 1e-3,
        .delta_motor = "Delta",
        .gamma_motor = "Gamma",
        .detector_header = "UIMDET",
        .roi_header = "UIMR5",
        /* defaults: the published gold scan's energy and distance; no default arm angles */
        .energy_kev = 9.0,
        .distance_m = 0.5,
        .delta_deg = NAN,
        .gamma_deg = NAN,
        .rocking_step_deg = 0.005,
        .d_spacing_m = 0.0,
        /* the published scan's dark.tif marks bad pixels with values > 1 (cohere's 34idc
         * darkfield convention) */
        .dark_bad_above = 1.0,
    },
};

size_t bcdi_beamline_count(void)
{
    return sizeof presets / sizeof presets[0];
}

const bcdi_beamline *bcdi_beamline_at(size_t index)
{
    return index < bcdi_beamline_count() ? &presets[index] : NULL;
}

/* `name` equals one of the comma-separated `list` entries, case-insensitively. */
static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && !strncasecmp(p, name, n)) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

bcdi_status bcdi_beamline_find(const char *name, const bcdi_beamline **out)
{
    *out = NULL;
    for (size_t i = 0; name && i < bcdi_beamline_count(); ++i)
        if (!strcasecmp(presets[i].name, name) || in_list(presets[i].aliases, name)) {
            *out = &presets[i];
            return BCDI_OK;
        }
    char known[256] = "";
    for (size_t i = 0; i < bcdi_beamline_count(); ++i) {
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", presets[i].name);
    }
    return bcdi_error(BCDI_ERR_CONFIG, "unknown beamline '%s' (known: %s)", name ? name : "(null)",
                      known);
}

/* ---- notes ---------------------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
add_note(bcdi_beamline_notes *notes, const char *key, bcdi_value_source source, const char *fmt,
         ...)
{
    if (!notes || notes->count >= BCDI_BEAMLINE_MAX_NOTES) return;
    size_t i = notes->count++;
    snprintf(notes->note[i].key, sizeof notes->note[i].key, "%s", key);
    notes->note[i].source = source;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes->note[i].text, sizeof notes->note[i].text, fmt, ap);
    va_end(ap);
}

static int differs(double a, double b)
{
    return fabs(a - b) > 1e-9 * fmax(fabs(a), fabs(b));
}

/* The position of `motor` in the metadata: 1 when known. */
static int find_motor(const bcdi_scan_metadata *scan, const char *motor, double *value)
{
    return scan && motor && scan->motor && scan->motor(scan->source, motor, value);
}

static const char *find_header(const bcdi_scan_metadata *scan, const char *key)
{
    return scan && key && scan->header ? scan->header(scan->source, key) : NULL;
}

/* A value from a motor of the metadata (times `scale`), else the default. Returns 1 when the
 * metadata gave it; *value NaN when neither did. */
static int motor_or_default(const bcdi_scan_metadata *scan, const char *motor, double scale,
                            double fallback, double *value)
{
    double v;
    if (find_motor(scan, motor, &v)) {
        *value = v * scale;
        return 1;
    }
    *value = fallback;
    return 0;
}

/* Note for a value taken from a motor or a default, with the contradiction spelled out. */
static void note_value(bcdi_beamline_notes *notes, const bcdi_scan_metadata *scan, const char *key,
                       const char *what, int from_metadata, const char *motor, double value,
                       double fallback, const char *unit)
{
    if (from_metadata && isfinite(fallback) && differs(value, fallback))
        add_note(notes, key, BCDI_SOURCE_METADATA,
                 "%s %.8g %s from motor '%s' of %s (the preset's default %.8g %s is not used)",
                 what, value, unit, motor, scan->where, fallback, unit);
    else if (from_metadata)
        add_note(notes, key, BCDI_SOURCE_METADATA, "%s %.8g %s from motor '%s' of %s", what, value,
                 unit, motor, scan->where);
    else
        add_note(notes, key, BCDI_SOURCE_DEFAULT, "%s %.8g %s: the preset's default (%s)", what,
                 value, unit,
                 !scan   ? "no scan metadata given"
                 : motor ? "the scan has no such motor"
                         : "the beamline does not log it");
}

/* ---- rotations ------------------------------------------------------------------------------ */

/* v <- R(axis, angle) v (right-handed, Rodrigues). */
static void rotate(const double axis[3], double angle_deg, double v[3])
{
    double n = sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
    double u[3] = {axis[0] / n, axis[1] / n, axis[2] / n};
    double a = angle_deg * BCDI_PI / 180.0, c = cos(a), s = sin(a);
    double dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    double cross[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                       u[0] * v[1] - u[1] * v[0]};
    for (int i = 0; i < 3; ++i)
        v[i] = v[i] * c + cross[i] * s + u[i] * dot * (1.0 - c);
}

/* Does the circle (or motor) name the moved motor, by mnemonic or long name? */
static int names_motion(const char *mnemonic, const char *name, const bcdi_scan_metadata *scan)
{
    const char *moved = scan->motion.mnemonic, *moved_name = scan->motion.name;
    return (mnemonic && !strcasecmp(mnemonic, moved)) ||
           (name && (!strcasecmp(name, moved) || (moved_name[0] && !strcasecmp(name, moved_name))));
}

/* Rocking circle, its lab axis at the scan's positions, start and step. */
static bcdi_status rocking_from_scan(const bcdi_beamline *bl, const bcdi_scan_metadata *scan,
                                     bcdi_geometry *g, bcdi_beamline_scan *info,
                                     bcdi_beamline_notes *notes)
{
    const char *moved = scan->motion.mnemonic, *moved_name = scan->motion.name;
    const char *arm[] = {bl->delta_motor, bl->gamma_motor, bl->two_theta_motor, bl->energy_motor,
                         bl->distance_motor};
    for (size_t i = 0; i < sizeof arm / sizeof arm[0]; ++i)
        if (names_motion(arm[i], arm[i], scan))
            return bcdi_error(BCDI_ERR_UNSUPPORTED,
                              "%s moves '%s' (%s): the %s preset reconstructs rocking curves of a "
                              "sample circle only",
                              scan->where, moved, scan->motion.kind, bl->name);
    int k = -1;
    for (int c = 0; c < BCDI_BEAMLINE_MAX_CIRCLES && bl->sample[c].mnemonic && k < 0; ++c)
        if (names_motion(bl->sample[c].mnemonic, bl->sample[c].name, scan)) k = c;
    if (k < 0) {
        char circles[160] = "";
        for (int c = 0; c < BCDI_BEAMLINE_MAX_CIRCLES && bl->sample[c].mnemonic; ++c) {
            size_t used = strlen(circles);
            snprintf(circles + used, sizeof circles - used, "%s%s", c ? ", " : "",
                     bl->sample[c].mnemonic);
        }
        return bcdi_error(BCDI_ERR_UNSUPPORTED,
                          "%s moves '%s', which is not a sample circle of the %s preset (%s)",
                          scan->where, moved, bl->name, circles);
    }
    /* the circle's axis, turned by every circle outside it (innermost first) */
    double axis[3] = {bl->sample[k].axis[0], bl->sample[k].axis[1], bl->sample[k].axis[2]};
    char outer[200] = "";
    for (int c = k - 1; c >= 0; --c) {
        const bcdi_circle *oc = &bl->sample[c];
        double angle;
        int known = find_motor(scan, oc->mnemonic, &angle) || find_motor(scan, oc->name, &angle);
        if (!known) {
            angle = 0.0;
            add_note(notes, "rocking_axis", BCDI_SOURCE_DEFAULT,
                     "circle '%s' (outside the rocking circle) has no position in %s: 0° assumed",
                     oc->mnemonic, scan->where);
        }
        rotate(oc->axis, angle, axis);
        size_t used = strlen(outer);
        snprintf(outer + used, sizeof outer - used, " %s = %.6g°", oc->mnemonic, angle);
    }
    memcpy(g->rocking_axis, axis, sizeof axis);
    double step = scan->motion.step_deg;
    g->rocking_step_deg = step;
    snprintf(info->rocking_motor, sizeof info->rocking_motor, "%s", moved);
    info->frames = scan->motion.points;
    info->points_read = scan->points_read;
    info->rocking_start_deg = scan->motion.start_deg;
    add_note(notes, "rocking", BCDI_SOURCE_METADATA,
             "rocking circle '%s' (%s) about (%.6f, %.6f, %.6f)%s%s, %zu frames from %.8g° in "
             "steps of %.8g°: %s command '%s'",
             moved, moved_name[0] ? moved_name : "no long name", axis[0], axis[1], axis[2],
             outer[0] ? " at" : "", outer, scan->motion.points, info->rocking_start_deg, step,
             scan->where, scan->command ? scan->command : "");
    if (!scan->motion.start_known)
        add_note(notes, "rocking_start", BCDI_SOURCE_DEFAULT,
                 "relative scan of '%s' with no start position: the start is relative to 0", moved);
    if (differs(step, bl->rocking_step_deg))
        add_note(notes, "rocking_step", BCDI_SOURCE_METADATA,
                 "rocking step %.8g° from the scan command (the preset's default %.8g° is not "
                 "used)",
                 step, bl->rocking_step_deg);
    /* the positions the motor really reached, when the metadata has them */
    const double *pos = scan->positions;
    size_t count = scan->position_count;
    if (pos && count >= 2) {
        double measured = (pos[count - 1] - pos[0]) / (double)(count - 1);
        add_note(notes, "rocking_measured", BCDI_SOURCE_METADATA,
                 "positions of '%s' in %s: %zu points from %.8g° to %.8g°, mean step %.8g° "
                 "(%.3g%% from the commanded step)%s",
                 moved_name[0] ? moved_name : moved, scan->where, count, pos[0], pos[count - 1],
                 measured, 100.0 * fabs(measured - step) / fabs(step),
                 count != scan->motion.points ? ": fewer points than commanded (aborted scan?)"
                                              : "");
    }
    return BCDI_OK;
}

/* The detector named by the scan's header, else the preset's. */
static const bcdi_detector_model *detector_from_scan(const bcdi_beamline *bl,
                                                     const bcdi_scan_metadata *scan,
                                                     bcdi_beamline_notes *notes)
{
    const char *id = find_header(scan, bl->detector_header);
    if (id) {
        char clean[64];
        snprintf(clean, sizeof clean, "%s", id);
        size_t n = strlen(clean);
        while (n && (clean[n - 1] == ':' || isspace((unsigned char)clean[n - 1])))
            clean[--n] = '\0';
        for (size_t i = 0; i < sizeof detectors / sizeof detectors[0]; ++i)
            if (detectors[i]->spec_id && !strcasecmp(detectors[i]->spec_id, clean)) {
                add_note(notes, "detector", BCDI_SOURCE_METADATA,
                         "detector %s, %zu x %zu pixels of %.4g x %.4g µm: #%s '%s' of %s",
                         detectors[i]->name, detectors[i]->rows, detectors[i]->cols,
                         detectors[i]->pixel_size_m[0] * 1e6, detectors[i]->pixel_size_m[1] * 1e6,
                         bl->detector_header, clean, scan->where);
                return detectors[i];
            }
        add_note(notes, "detector", BCDI_SOURCE_DEFAULT,
                 "#%s names an unknown detector '%s': the preset's %s (%.4g µm pixels) is assumed",
                 bl->detector_header, clean, bl->detector->name,
                 bl->detector->pixel_size_m[0] * 1e6);
        return bl->detector;
    }
    add_note(notes, "detector", BCDI_SOURCE_DEFAULT,
             "detector %s, %zu x %zu pixels of %.4g x %.4g µm: the preset's default",
             bl->detector->name, bl->detector->rows, bl->detector->cols,
             bl->detector->pixel_size_m[0] * 1e6, bl->detector->pixel_size_m[1] * 1e6);
    return bl->detector;
}

/* Frame origin on the detector from the ROI line "minX sizeX minY sizeY [...]". */
static bcdi_status roi_from_scan(const bcdi_beamline *bl, const bcdi_scan_metadata *scan,
                                 const bcdi_detector_model *det, long origin[2],
                                 bcdi_beamline_notes *notes)
{
    origin[0] = origin[1] = 0;
    const char *text = find_header(scan, bl->roi_header);
    if (!text) {
        if (scan && bl->roi_header)
            add_note(notes, "roi", BCDI_SOURCE_DEFAULT,
                     "no #%s line: frames assumed to start at detector pixel (0, 0)",
                     bl->roi_header);
        return BCDI_OK;
    }
    long v[4];
    const char *p = text;
    for (size_t i = 0; i < 4; ++i) {
        char *end;
        errno = 0;
        v[i] = strtol(p, &end, 10);
        if (end == p || errno || v[i] < 0 || v[i] > 1000000 ||
            (*end && !isspace((unsigned char)*end)))
            return bcdi_error(BCDI_ERR_FORMAT,
                              "%s: #%s is '%.60s', expected minX sizeX minY sizeY (integers >= 0)",
                              scan->where, bl->roi_header, text);
        p = end;
    }
    if ((size_t)(v[0] + v[1]) > det->cols || (size_t)(v[2] + v[3]) > det->rows)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "%s: #%s '%.60s' reaches beyond the %zu x %zu pixels of the %s",
                          scan->where, bl->roi_header, text, det->rows, det->cols, det->name);
    origin[0] = v[2];
    origin[1] = v[0];
    add_note(notes, "roi", BCDI_SOURCE_METADATA,
             "frames are the %ld x %ld pixels from detector row %ld, column %ld (#%s)", v[3], v[1],
             v[2], v[0], bl->roi_header);
    return BCDI_OK;
}

/* The metadata's own wavelength (SPEC: its diffractometer's, #G4 field 4), NaN when absent. */
static double metadata_wavelength_m(const bcdi_scan_metadata *scan)
{
    return scan && scan->wavelength_m > 0.0 ? scan->wavelength_m : NAN;
}

static bcdi_status energy_from_scan(const bcdi_beamline *bl, const bcdi_scan_metadata *scan,
                                    bcdi_geometry *g, bcdi_beamline_notes *notes)
{
    double e;
    int from_motor =
        motor_or_default(scan, bl->energy_motor, bl->energy_to_kev, bl->energy_kev, &e);
    double meta_lambda = metadata_wavelength_m(scan);
    if (!from_motor && isfinite(meta_lambda)) {
        e = BCDI_HC_KEV_ANGSTROM / (meta_lambda * 1e10);
        add_note(notes, "energy", BCDI_SOURCE_METADATA,
                 "energy %.8g keV from the diffractometer wavelength %.8g Å of %s (SPEC: #G4 "
                 "field 4)",
                 e, meta_lambda * 1e10, scan->where);
    } else {
        note_value(notes, scan, "energy", "energy", from_motor, bl->energy_motor, e, bl->energy_kev,
                   "keV");
    }
    if (!(e > 0.0) || !isfinite(e))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: energy %g keV is not positive",
                          scan ? scan->where : bl->name, e);
    double lambda = BCDI_HC_KEV_ANGSTROM / e * 1e-10;
    if (from_motor && isfinite(meta_lambda) && fabs(meta_lambda - lambda) > 1e-3 * lambda)
        add_note(notes, "wavelength", BCDI_SOURCE_METADATA,
                 "SPEC's diffractometer wavelength (#G4 field 4) is %.6g Å but motor '%s' gives "
                 "%.6g Å: the motor is used (SPEC's own H K L were computed with %.6g Å)",
                 meta_lambda * 1e10, bl->energy_motor, lambda * 1e10, meta_lambda * 1e10);
    g->energy_kev = e;
    g->wavelength_m = lambda;
    return BCDI_OK;
}

static bcdi_status angle_from_scan(const bcdi_beamline *bl, const bcdi_scan_metadata *scan,
                                   const char *motor, double fallback, const char *what,
                                   double *value, bcdi_beamline_notes *notes)
{
    int from_motor = motor_or_default(scan, motor, 1.0, fallback, value);
    if (!isfinite(*value))
        return bcdi_error(
            BCDI_ERR_FORMAT, "%s: no %s (motor '%s') and the %s preset has no default for it",
            scan ? scan->where : "no scan metadata", what, motor ? motor : "none", bl->name);
    note_value(notes, scan, what, what, from_motor, motor, *value, fallback, "deg");
    return BCDI_OK;
}

bcdi_status bcdi_beamline_geometry(const bcdi_beamline *bl, const bcdi_scan_metadata *scan,
                                   bcdi_geometry *g, bcdi_beamline_scan *info,
                                   bcdi_beamline_notes *notes)
{
    bcdi_beamline_scan local_info;
    if (!info) info = &local_info;
    memset(info, 0, sizeof *info);
    memset(g, 0, sizeof *g);
    if (notes) notes->count = 0;
    if (!bl) return bcdi_error(BCDI_ERR_INVALID_ARG, "beamline geometry: no preset");
    bcdi_status st = energy_from_scan(bl, scan, g, notes);
    if (st != BCDI_OK) return st;
    double d;
    int from_motor =
        motor_or_default(scan, bl->distance_motor, bl->distance_to_m, bl->distance_m, &d);
    note_value(notes, scan, "distance", "detector distance", from_motor, bl->distance_motor, d,
               bl->distance_m, "m");
    if (!(d > 0.0) || !isfinite(d))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: detector distance %g m is not positive",
                          scan ? scan->where : bl->name, d);
    g->distance_m = d;

    const bcdi_detector_model *det = detector_from_scan(bl, scan, notes);
    info->detector = det;
    g->pixel_size_m[0] = det->pixel_size_m[0];
    g->pixel_size_m[1] = det->pixel_size_m[1];
    if ((st = roi_from_scan(bl, scan, det, info->roi_origin, notes)) != BCDI_OK) return st;
    info->reference_pixel[0] = (double)(det->rows / 2) - (double)info->roi_origin[0];
    info->reference_pixel[1] = (double)(det->cols / 2) - (double)info->roi_origin[1];
    add_note(notes, "reference_pixel", BCDI_SOURCE_DERIVED,
             "the detector angles point at the detector centre: frame pixel (row %.6g, column "
             "%.6g)",
             info->reference_pixel[0], info->reference_pixel[1]);

    g->angles = bl->angles;
    g->row_sign = bl->row_sign;
    if (bl->angles == BCDI_DETECTOR_DELTA_GAMMA) {
        if ((st = angle_from_scan(bl, scan, bl->delta_motor, bl->delta_deg, "delta", &g->delta_deg,
                                  notes)) != BCDI_OK ||
            (st = angle_from_scan(bl, scan, bl->gamma_motor, bl->gamma_deg, "gamma", &g->gamma_deg,
                                  notes)) != BCDI_OK)
            return st;
        g->two_theta_deg =
            acos(cos(g->delta_deg * BCDI_PI / 180.0) * cos(g->gamma_deg * BCDI_PI / 180.0)) *
            180.0 / BCDI_PI;
    } else if (find_motor(scan, bl->two_theta_motor, &g->two_theta_deg)) {
        note_value(notes, scan, "two_theta", "2θ", 1, bl->two_theta_motor, g->two_theta_deg,
                   bl->two_theta_deg > 0 ? bl->two_theta_deg : NAN, "deg");
    } else if (bl->two_theta_deg > 0.0) {
        g->two_theta_deg = bl->two_theta_deg;
        note_value(notes, scan, "two_theta", "2θ", 0, bl->two_theta_motor, g->two_theta_deg,
                   g->two_theta_deg, "deg");
    } else {
        if ((st = bcdi_bragg_two_theta_deg(g->wavelength_m, bl->d_spacing_m, &g->two_theta_deg)) !=
            BCDI_OK)
            return bcdi_error_prefix(st, "%s preset: ", bl->name);
        add_note(notes, "two_theta", BCDI_SOURCE_DERIVED,
                 "2θ %.8g° from Bragg's law with the preset's d = %.6g Å", g->two_theta_deg,
                 bl->d_spacing_m * 1e10);
    }
    if (bl->angles == BCDI_DETECTOR_TWO_THETA) {
        g->delta_deg = g->two_theta_deg;
        g->gamma_deg = 0.0;
    }

    /* d-spacing: the preset's, else from 2θ at the reference pixel */
    if (bl->d_spacing_m > 0.0) {
        g->d_spacing_m = bl->d_spacing_m;
        add_note(notes, "d_spacing", BCDI_SOURCE_DEFAULT, "d-spacing %.6g Å: the preset's default",
                 g->d_spacing_m * 1e10);
    } else {
        g->d_spacing_m = g->wavelength_m / (2.0 * sin(g->two_theta_deg * BCDI_PI / 360.0));
        add_note(notes, "d_spacing", BCDI_SOURCE_DERIVED,
                 "d-spacing %.6g Å from 2θ = %.6g° at the reference pixel (the Bragg peak may sit "
                 "elsewhere on the detector: give the reflection's d when known)",
                 g->d_spacing_m * 1e10, g->two_theta_deg);
    }
    memcpy(g->hkl, bl->hkl, sizeof g->hkl);
    if (!g->hkl[0] && !g->hkl[1] && !g->hkl[2])
        add_note(notes, "hkl", BCDI_SOURCE_DEFAULT,
                 "hkl unknown (0 0 0): SPEC's H K L depend on its own lattice and wavelength");

    /* rocking: the scan's command, else the preset's first sample circle and default step */
    if (scan) return rocking_from_scan(bl, scan, g, info, notes);
    memcpy(g->rocking_axis, bl->sample[0].axis, sizeof g->rocking_axis);
    g->rocking_step_deg = bl->rocking_step_deg;
    snprintf(info->rocking_motor, sizeof info->rocking_motor, "%s", bl->sample[0].mnemonic);
    add_note(notes, "rocking", BCDI_SOURCE_DEFAULT,
             "rocking circle '%s' about (%g, %g, %g) in steps of %.8g°: the preset's default "
             "(no scan metadata given)",
             bl->sample[0].mnemonic, g->rocking_axis[0], g->rocking_axis[1], g->rocking_axis[2],
             g->rocking_step_deg);
    return BCDI_OK;
}
