/* SPDX-License-Identifier: BSD-3-Clause */
/* Beamline presets: the gold scan's geometry from its own SPEC log (skipped visibly without
 * ../shared/datasets), voxel sizes against the hand formulas, notes for defaults and for
 * metadata that overrides them, the phi-rocking axis of 34-ID-C, refusals, and metadata that
 * comes from no SPEC file at all (the instrument room reads no format: prep's adapter turns a
 * SPEC scan into bcdi_scan_metadata). */
#include "instrument/beamline.h"
#include "io/spec.h"
#include "prep/prep_metadata.h"
#include "test_data.h"
#include "test_prepare_support.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char *gold_spec(void)
{
    return tu_shared_dataset("au111-aps34idc-scan54/scan54.spec");
}

static const bcdi_beamline *preset(const char *name)
{
    const bcdi_beamline *bl;
    cr_assert_eq(bcdi_beamline_find(name, &bl), BCDI_OK, "%s", bcdi_last_error());
    return bl;
}

/* The note of `key`, or NULL. */
static const char *note_text(const bcdi_beamline_notes *n, const char *key,
                             bcdi_value_source *source)
{
    for (size_t i = 0; i < n->count; ++i)
        if (!strcmp(n->note[i].key, key)) {
            if (source) *source = n->note[i].source;
            return n->note[i].text;
        }
    return NULL;
}

/* The scan as the instrument room sees it (prep's SPEC adapter), then the preset's geometry. */
static bcdi_status scan_geometry(const bcdi_beamline *bl, const bcdi_spec_scan *scan,
                                 bcdi_geometry *g, bcdi_beamline_scan *info,
                                 bcdi_beamline_notes *notes)
{
    bcdi_scan_metadata meta;
    bcdi_status st = prep_metadata_from_spec(scan, &meta);
    if (st != BCDI_OK) return st;
    return bcdi_beamline_geometry(bl, &meta, g, info, notes);
}

static bcdi_spec_scan *read_text_scan(const char *text)
{
    char *dir = tu_make_temp_dir("beamline");
    char path[1200];
    snprintf(path, sizeof path, "%s/s.spec", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    bcdi_spec_file *file;
    bcdi_spec_scan *scan;
    cr_assert_eq(bcdi_spec_open(path, &file), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_read_scan_at(file, 0, &scan), BCDI_OK, "%s", bcdi_last_error());
    bcdi_spec_close(file);
    tu_remove_tree(dir);
    free(dir);
    return scan;
}

Test(beamline, find_by_name_and_alias)
{
    cr_expect_str_eq(preset("34idc")->name, "34idc");
    cr_expect_str_eq(preset("APS-34-ID-C")->name, "34idc");
    cr_expect_str_eq(preset("I13-1")->name, "i13-1");
    const bcdi_beamline *bl;
    cr_expect_eq(bcdi_beamline_find("id01", &bl), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "id01") && strstr(bcdi_last_error(), "34idc") &&
                  strstr(bcdi_last_error(), "i13-1"),
              "%s", bcdi_last_error());
    cr_expect_geq(bcdi_beamline_count(), 2);
}

Test(beamline, gold_scan_geometry_from_its_spec_log)
{
    const char *path = gold_spec();
    if (!path) cr_skip_test("../shared/datasets absent: gold scan geometry test skipped");
    bcdi_spec_file *file;
    bcdi_spec_scan *scan;
    cr_assert_eq(bcdi_spec_open(path, &file), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_read_scan(file, 54, &scan), BCDI_OK, "%s", bcdi_last_error());
    bcdi_spec_close(file);
    bcdi_geometry g;
    bcdi_beamline_scan info;
    bcdi_beamline_notes notes;
    cr_assert_eq(scan_geometry(preset("34idc"), scan, &g, &info, &notes), BCDI_OK, "%s",
                 bcdi_last_error());
    for (size_t i = 0; i < notes.count; ++i)
        cr_log_info("%s: %s", notes.note[i].key, notes.note[i].text);

    cr_expect_eq(g.energy_kev, 9.0);
    cr_expect_lt(fabs(g.wavelength_m * 1e10 - 1.37760), 5e-6, "λ = %.6f Å", g.wavelength_m * 1e10);
    cr_expect_eq(g.distance_m, 0.5);
    cr_expect_eq(g.angles, BCDI_DETECTOR_DELTA_GAMMA);
    cr_expect_eq(g.delta_deg, 32.174);
    cr_expect_eq(g.gamma_deg, 12.6346);
    cr_expect_lt(fabs(g.two_theta_deg - 34.3), 0.05, "2θ %.4f°", g.two_theta_deg);
    cr_expect_lt(fabs(g.rocking_step_deg - 0.005), 1e-12);
    cr_expect(g.rocking_axis[0] == 0 && g.rocking_axis[1] == 1 && g.rocking_axis[2] == 0);
    cr_expect_eq(g.pixel_size_m[0], 55e-6);
    cr_expect_eq(g.row_sign, 1);
    cr_expect_str_eq(info.rocking_motor, "th");
    cr_expect_eq(info.rocking_start_deg, -0.279996);
    cr_expect_eq(info.frames, 201);
    cr_expect_eq(info.points_read, 201);
    cr_expect_str_eq(info.detector->name, "Timepix quad (34idcTIM2)");
    cr_expect(info.roi_origin[0] == 0 && info.roi_origin[1] == 0);
    cr_expect(info.reference_pixel[0] == 256 && info.reference_pixel[1] == 256);
    /* every value says where it came from; SPEC's stale 1.54 Å is reported and not used */
    bcdi_value_source src;
    cr_assert(note_text(&notes, "energy", &src));
    cr_expect_eq(src, BCDI_SOURCE_METADATA);
    cr_expect(strstr(note_text(&notes, "distance", &src), "camdist"));
    cr_expect_eq(src, BCDI_SOURCE_METADATA);
    cr_expect(strstr(note_text(&notes, "wavelength", NULL), "1.54"));
    cr_expect(strstr(note_text(&notes, "detector", &src), "34idcTIM2"));
    cr_expect_eq(src, BCDI_SOURCE_METADATA);
    cr_expect(strstr(note_text(&notes, "rocking_measured", NULL), "201 points"));
    cr_expect_eq((note_text(&notes, "d_spacing", &src), src), BCDI_SOURCE_DERIVED);

    /* voxel sizes of the gold scan's 201 x 256 x 256 box */
    size_t shape[3] = {201, 256, 256};
    cr_assert_eq(bcdi_geometry_compute(&g, shape), BCDI_OK, "%s", bcdi_last_error());
    /* hand: q steps from the delta/gamma arm (34-ID-C description), then the nominal formulas,
     * which are the voxel vectors' projections on the q-step directions (t_a . b_a = 2π/N_a) */
    double lam = 12.3984 / 9.0 * 1e-10, D = 0.5, p = 55e-6, dw = 0.005 * M_PI / 180.0;
    double d = 32.174 * M_PI / 180.0, gm = 12.6346 * M_PI / 180.0;
    double k = 2 * M_PI / lam, pix = 2 * M_PI * p / (lam * D);
    double b_rock[3] = {k * dw * (1 - cos(gm) * cos(d)), 0, k * dw * cos(gm) * sin(d)};
    double b_row[3] = {pix * sin(gm) * sin(d), -pix * cos(gm), pix * sin(gm) * cos(d)};
    double b_col[3] = {pix * cos(d), 0, -pix * sin(d)};
    double two_theta = acos(cos(d) * cos(gm));
    double q = 4 * M_PI / lam * sin(two_theta / 2);
    /* 2π/(N |Q| Δω) holds when the rocking axis is perpendicular to Q. Here gamma lifts Q out of
     * the horizontal plane (Q_y = k sin γ) while theta turns about the vertical, so the rocking
     * step is |ŷ × Q| Δω = |Q| cos(elevation) Δω: cos(elevation) = 0.928 for the gold scan, and
     * the nominal rocking size is 14.33 nm, not 13.31 nm. */
    double elevation = asin(k * sin(gm) / q);
    cr_expect_lt(fabs(elevation * 180 / M_PI - 21.8), 0.05, "elevation %.3f°",
                 elevation * 180 / M_PI);
    double nominal[3] = {2 * M_PI / (201 * q * cos(elevation) * dw), lam * D / (256 * p),
                         lam * D / (256 * p)};
    const double *b[3] = {b_rock, b_row, b_col};
    for (int a = 0; a < 3; ++a) {
        double step[3] = {g.q_step[0][a], g.q_step[1][a], g.q_step[2][a]};
        for (int i = 0; i < 3; ++i)
            cr_expect_lt(fabs(step[i] - b[a][i]), 1e-9 * sqrt(tu_dot3(b[a], b[a])),
                         "q step axis %d component %d: %g vs hand %g", a, i, step[i], b[a][i]);
        double t[3] = {g.real_basis[0][a], g.real_basis[1][a], g.real_basis[2][a]};
        double projection = tu_dot3(t, b[a]) / sqrt(tu_dot3(b[a], b[a]));
        cr_expect_lt(fabs(projection / nominal[a] - 1), 1e-9, "axis %d: %.6g nm vs %.6g nm", a,
                     projection * 1e9, nominal[a] * 1e9);
        /* the full length, by cross products: |t_a| = 2π |b_b x b_c| / (N_a |b_a . b_b x b_c|) */
        double n[3];
        tu_cross3(b[(a + 1) % 3], b[(a + 2) % 3], n);
        double length =
            2 * M_PI * sqrt(tu_dot3(n, n)) / ((double)shape[a] * fabs(tu_dot3(b[a], n)));
        cr_expect_lt(fabs(g.voxel_size_m[a] / length - 1), 1e-9, "axis %d: |t| %.6g vs %.6g nm", a,
                     g.voxel_size_m[a] * 1e9, length * 1e9);
        cr_log_info("gold voxel axis %d: %.4f nm (nominal %.4f nm)", a, g.voxel_size_m[a] * 1e9,
                    nominal[a] * 1e9);
    }
    cr_expect_lt(fabs(nominal[1] * 1e9 - 4.892), 5e-4, "λD/(Np) = %.5f nm", nominal[1] * 1e9);
    bcdi_spec_scan_free(scan);
}

#define HEADER_34IDC                                                                               \
    "#F synthetic\n#O0 Delta  Theta  Chi  Phi  Gamma  Energy\n#o0 del th chi phi gam en\n"

Test(beamline, metadata_overrides_default_and_missing_values_default)
{
    /* 10 keV (preset default 9), no camdist (default 0.5 m), no #UIMDET (default detector) */
    bcdi_spec_scan *scan = read_text_scan(HEADER_34IDC "\n#S 7 dscan th -0.1 0.1 40 1\n"
                                                       "#P0 30 0.5 90 0 10 10\n");
    bcdi_geometry g;
    bcdi_beamline_scan info;
    bcdi_beamline_notes notes;
    cr_assert_eq(scan_geometry(preset("34idc"), scan, &g, &info, &notes), BCDI_OK, "%s",
                 bcdi_last_error());
    bcdi_value_source src;
    cr_expect_eq(g.energy_kev, 10.0);
    cr_expect(strstr(note_text(&notes, "energy", &src), "default 9 keV is not used"), "%s",
              note_text(&notes, "energy", NULL));
    cr_expect_eq(src, BCDI_SOURCE_METADATA);
    cr_expect_eq(g.distance_m, 0.5);
    cr_expect(strstr(note_text(&notes, "distance", &src), "default"));
    cr_expect_eq(src, BCDI_SOURCE_DEFAULT);
    cr_expect_eq((note_text(&notes, "detector", &src), src), BCDI_SOURCE_DEFAULT);
    cr_expect_null(note_text(&notes, "wavelength", NULL)); /* no #G4 */
    /* dscan: relative to the #P position 0.5, step 0.2/40 */
    cr_expect_lt(fabs(info.rocking_start_deg - 0.4), 1e-12);
    cr_expect_lt(fabs(g.rocking_step_deg - 0.005), 1e-15);
    cr_expect_eq(info.frames, 41);
    bcdi_spec_scan_free(scan);
}

Test(beamline, phi_rocking_axis_follows_theta_and_chi)
{
    /* 34-ID-C's phi sits inside chi (z-) inside theta (y+): at chi = 90° and theta = t its axis
     * is R_y(t) R_z(-90°) y = (cos t, 0, -sin t); the q step then matches the closed form of
     * the 34-ID-C description for a phi rocking curve */
    bcdi_spec_scan *scan = read_text_scan(HEADER_34IDC "\n#S 3 ascan phi -1 1 100 1\n"
                                                       "#P0 32.174 0.22 90 -5 12.6346 9\n");
    bcdi_geometry g;
    cr_assert_eq(scan_geometry(preset("34idc"), scan, &g, NULL, NULL), BCDI_OK, "%s",
                 bcdi_last_error());
    double t = 0.22 * M_PI / 180, c = 90 * M_PI / 180;
    cr_expect_lt(fabs(g.rocking_axis[0] - cos(t)), 1e-12);
    cr_expect_lt(fabs(g.rocking_axis[1]), 1e-12);
    cr_expect_lt(fabs(g.rocking_axis[2] + sin(t)), 1e-12);
    size_t shape[3] = {101, 128, 128};
    cr_assert_eq(bcdi_geometry_compute(&g, shape), BCDI_OK, "%s", bcdi_last_error());
    double d = 32.174 * M_PI / 180, gm = 12.6346 * M_PI / 180;
    double scale = 2 * M_PI / g.wavelength_m * 0.02 * M_PI / 180;
    double expected[3] = {
        cos(c) * (1 - cos(d) * cos(gm)) - sin(t) * sin(c) * sin(gm),
        sin(c) * (cos(t) * (cos(d) * cos(gm) - 1) + sin(t) * sin(d) * cos(gm)),
        cos(c) * sin(d) * cos(gm) - sin(c) * cos(t) * sin(gm),
    };
    for (int i = 0; i < 3; ++i)
        cr_expect_lt(fabs(g.q_step[i][0] - scale * expected[i]), 1e-9 * scale,
                     "component %d: %g vs %g", i, g.q_step[i][0], scale * expected[i]);
    bcdi_spec_scan_free(scan);
}

Test(beamline, refusals_name_the_scan)
{
    bcdi_geometry g;
    /* a detector-arm scan is not a rocking curve */
    bcdi_spec_scan *scan =
        read_text_scan(HEADER_34IDC "\n#S 4 ascan del 30 31 10 1\n#P0 30 0.5 90 0 10 9\n");
    cr_expect_eq(scan_geometry(preset("34idc"), scan, &g, NULL, NULL), BCDI_ERR_UNSUPPORTED);
    cr_expect(strstr(bcdi_last_error(), "scan 4") && strstr(bcdi_last_error(), "del"), "%s",
              bcdi_last_error());
    bcdi_spec_scan_free(scan);
    /* no gamma motor and no default */
    scan = read_text_scan("#F s\n#O0 Delta  Theta\n\n#S 5 ascan th 0 1 10 1\n#P0 30 0\n");
    cr_expect_eq(scan_geometry(preset("34idc"), scan, &g, NULL, NULL), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "gamma") && strstr(bcdi_last_error(), "scan 5"), "%s",
              bcdi_last_error());
    bcdi_spec_scan_free(scan);
    /* a malformed ROI line, a ROI off the detector, a non-positive energy */
    const char *bad[] = {
        HEADER_34IDC "\n#S 6 ascan th 0 1 10 1\n#P0 30 0 90 0 10 9\n#UIMDET 34idcTIM2:\n#UIMR5 0 "
                     "x 0 256\n",
        HEADER_34IDC "\n#S 6 ascan th 0 1 10 1\n#P0 30 0 90 0 10 9\n#UIMDET 34idcTIM2:\n#UIMR5 300 "
                     "256 0 256\n",
        HEADER_34IDC "\n#S 6 ascan th 0 1 10 1\n#P0 30 0 90 0 10 -9\n",
    };
    const bcdi_status expected[] = {BCDI_ERR_FORMAT, BCDI_ERR_FORMAT, BCDI_ERR_INVALID_ARG};
    for (int i = 0; i < 3; ++i) {
        scan = read_text_scan(bad[i]);
        cr_expect_eq(scan_geometry(preset("34idc"), scan, &g, NULL, NULL), expected[i],
                     "case %d: %s", i, bcdi_last_error());
        cr_expect(strstr(bcdi_last_error(), "scan 6"), "case %d: %s", i, bcdi_last_error());
        bcdi_spec_scan_free(scan);
    }
}

Test(beamline, i13_defaults_without_metadata)
{
    bcdi_geometry g, reference;
    bcdi_beamline_notes notes;
    cr_assert_eq(bcdi_beamline_geometry(preset("i13-1"), NULL, &g, NULL, &notes), BCDI_OK, "%s",
                 bcdi_last_error());
    bcdi_geometry_default_i13(&reference);
    cr_expect_eq(g.energy_kev, reference.energy_kev);
    cr_expect_eq(g.distance_m, reference.distance_m);
    cr_expect_eq(g.angles, reference.angles);
    cr_expect_lt(fabs(g.two_theta_deg - reference.two_theta_deg), 1e-9);
    cr_expect_eq(g.d_spacing_m, reference.d_spacing_m);
    cr_expect_eq(g.hkl[2], 3);
    cr_expect_eq(g.rocking_step_deg, 0.005);
    bcdi_value_source src;
    cr_expect_eq((note_text(&notes, "energy", &src), src), BCDI_SOURCE_DEFAULT);
    cr_expect(strstr(note_text(&notes, "energy", NULL), "no scan metadata"));
    cr_expect_eq((note_text(&notes, "two_theta", &src), src), BCDI_SOURCE_DERIVED);
    cr_expect_eq((note_text(&notes, "rocking", &src), src), BCDI_SOURCE_DEFAULT);
    size_t shape[3] = {200, 256, 256};
    cr_expect_eq(bcdi_geometry_compute(&g, shape), BCDI_OK);
    bcdi_geometry_compute(&reference, shape);
    for (int a = 0; a < 3; ++a)
        cr_expect_lt(fabs(g.voxel_size_m[a] / reference.voxel_size_m[a] - 1), 1e-12);
}

/* Metadata from no file at all: a table of motors behind the lookup callbacks. */
typedef struct {
    const char *names[8];
    double values[8];
} motor_table;

static int table_motor(const void *source, const char *name, double *position)
{
    const motor_table *t = source;
    for (int i = 0; i < 8 && t->names[i]; ++i)
        if (!strcmp(t->names[i], name)) {
            *position = t->values[i];
            return 1;
        }
    return 0;
}

static const char *table_header(const void *source, const char *key)
{
    (void)source;
    return !strcmp(key, "UIMDET") ? "34idcTIM2:" : NULL;
}

Test(beamline, metadata_from_a_plain_table)
{
    motor_table t = {{"Delta", "Gamma", "Energy", "camdist", "th"}, {30.0, 10.0, 8.0, 650.0, 1.5}};
    bcdi_scan_metadata meta = {
        .where = "table scan 1",
        .command = "ascan th 1 2 100 1",
        .source = &t,
        .motor = table_motor,
        .header = table_header,
        .motion = {.kind = "ascan",
                   .mnemonic = "th",
                   .start_deg = 1.0,
                   .start_known = 1,
                   .step_deg = 0.01,
                   .points = 101},
        .wavelength_m = NAN,
    };
    bcdi_geometry g;
    bcdi_beamline_scan info;
    bcdi_beamline_notes notes;
    cr_assert_eq(bcdi_beamline_geometry(preset("34idc"), &meta, &g, &info, &notes), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(g.energy_kev, 8.0);
    cr_expect_eq(g.distance_m, 0.65);
    cr_expect_eq(g.delta_deg, 30.0);
    cr_expect_eq(g.gamma_deg, 10.0);
    cr_expect_eq(g.rocking_step_deg, 0.01);
    cr_expect_eq(info.frames, 101);
    cr_expect_eq(info.rocking_start_deg, 1.0);
    cr_expect_str_eq(info.detector->name, "Timepix quad (34idcTIM2)");
    bcdi_value_source src;
    cr_expect(strstr(note_text(&notes, "energy", &src), "table scan 1"));
    cr_expect_eq(src, BCDI_SOURCE_METADATA);
    cr_expect_null(note_text(&notes, "rocking_measured", NULL)); /* no positions given */
}
