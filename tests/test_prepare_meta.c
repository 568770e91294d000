/* SPDX-License-Identifier: BSD-3-Clause */
/* prepare's geometry from a beamline preset and the scan's SPEC metadata (a small synthetic
 * 34-ID-C stack with its .spec beside it): which file and scan are taken, and the precedence
 * rules, each asserted on the values and on the log line that states them:
 *   metadata over the preset's default, the preset's default where the metadata is silent,
 *   a typed key over the metadata, a typed key where the metadata is silent;
 * plus the refusals (two SPEC files, a scan the file lacks) and the ways to switch it off. */
#include "bcdi/config.h"
#include "bcdi/prepare.h"
#include "io/npy.h"
#include "prep/prep_metadata.h"
#include "test_prepare_support.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_PI 3.14159265358979323846

/* ---- the synthetic scan -----------------------------------------------------------------------
 */

static const size_t dims[3] = {12, 40, 48};

/* A Gaussian blob at frame 5, row 17, column 30. */
static void write_stack(const char *path)
{
    size_t n = dims[0] * dims[1] * dims[2];
    float *x = malloc(n * sizeof *x);
    for (size_t f = 0; f < dims[0]; f++)
        for (size_t r = 0; r < dims[1]; r++)
            for (size_t c = 0; c < dims[2]; c++) {
                double d0 = ((double)f - 5) / 2.0, d1 = ((double)r - 17) / 2.5,
                       d2 = ((double)c - 30) / 1.5;
                x[(f * dims[1] + r) * dims[2] + c] =
                    (float)floor(5000.0 * exp(-0.5 * (d0 * d0 + d1 * d1 + d2 * d2)));
            }
    cr_assert_eq(bcdi_npy_write(NULL, path, BCDI_DT_F32, 3, dims, x), BCDI_OK, "%s",
                 bcdi_last_error());
    free(x);
}

/* A 34-ID-C SPEC log: scan `number` rocks th from 0.5 in 12 steps of 0.01 deg; Energy 10 keV
 * (the preset's default is 9), camdist 650 mm unless `with_distance` is 0, Delta 30, Gamma 10,
 * #UIMDET names the Timepix quad, #UIMR5 says the frames are its 48 x 40 pixels at column 100,
 * row 60. Scan 3 before it moves the detector arm (delta). */
static void write_spec(const char *path, long number, int with_distance, const char *detector)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "#F /data/2026/test/test.spec\n#E 1\n#D Mon Jan 05 10:00:00 2026\n#C sixc\n");
    fprintf(f, "#O0 Delta  Theta  Chi  Phi  Gamma  Energy%s\n", with_distance ? "  camdist" : "");
    fprintf(f, "#o0 del th chi phi gam en%s\n\n", with_distance ? " camdist" : "");
    fprintf(f,
            "#S 3  ascan  del 30 31 10 1\n#P0 30 0.5 90 0 10 10%s\n#UIMDET %s\n#N 1\n#L "
            "Delta\n30\n\n",
            with_distance ? " 650" : "", detector);
    fprintf(f, "#S %ld  ascan  th 0.5 0.61 11 0.5\n#D Mon Jan 05 10:05:00 2026\n", number);
    fprintf(f, "#P0 30 0.5 90 0 10 10%s\n", with_distance ? " 650" : "");
    fprintf(f, "#UIMDET %s\n#UIMR5 100 48 60 40 1\n#N 2\n#L Theta  Detector\n", detector);
    for (int k = 0; k < 12; k++)
        fprintf(f, "%.6f %d\n", 0.5 + 0.01 * k, k);
    fclose(f);
}

typedef struct {
    char *dir;
    char input[1200], spec[1200];
} scan_files;

static scan_files make_scan(long number, int with_distance)
{
    scan_files s;
    s.dir = tu_make_temp_dir("prep-meta");
    snprintf(s.input, sizeof s.input, "%s/stack_S%04ld.npy", s.dir, number);
    snprintf(s.spec, sizeof s.spec, "%s/test.spec", s.dir);
    write_stack(s.input);
    write_spec(s.spec, number, with_distance, "34idcTIM2:");
    return s;
}

static void remove_scan(scan_files *s)
{
    tu_remove_tree(s->dir);
    free(s->dir);
}

static bcdi_prepared prepare_ok(const char *input, const char *const *overrides)
{
    bcdi_prepared p;
    bcdi_status st = tu_prepare(input, overrides, &p);
    cr_assert_eq(st, BCDI_OK, "%s\nlog:\n%s", bcdi_last_error(), tu_prepare_log());
    return p;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

Test(prepare_meta, scan_number_from_names)
{
    long n = -1;
    cr_expect(prep_scan_number_from_name("/x/frames/Staff20-1a_S0054_00000.tif", &n));
    cr_expect_eq(n, 54);
    cr_expect(prep_scan_number_from_name("scan54.h5", &n) && n == 54);
    cr_expect(prep_scan_number_from_name("/d/Scan_12/data.npy", &n) == 0); /* folders: no */
    cr_expect(prep_scan_number_from_name("au_scan-7.npy", &n) && n == 7);
    cr_expect(prep_scan_number_from_name("S3_frames", &n) && n == 3);
    cr_expect_not(prep_scan_number_from_name("SAMPLE_00012.tif", &n)); /* no S<digits> */
    cr_expect_not(prep_scan_number_from_name("data_S12abc.tif", &n));
    cr_expect_not(prep_scan_number_from_name("frame_00012.tif", &n));
}

Test(prepare_meta, metadata_wins_over_defaults_and_every_value_says_its_source)
{
    scan_files s = make_scan(7, 1);
    bcdi_prepared p = prepare_ok(s.input, NULL);
    const bcdi_geometry *g = &p.geometry;
    /* the file beside the stack, its scan from the name, the preset it names */
    cr_expect_str_eq(p.beamline, "34idc");
    cr_expect_str_eq(p.spec_file, s.spec);
    cr_expect_eq(p.spec_scan, 7);
    cr_expect(tu_prepare_log_line("found beside the input", s.spec), "%s", tu_prepare_log());
    cr_expect(tu_prepare_log_line("UIMDET", "names it"), "%s", tu_prepare_log());
    cr_expect(tu_prepare_log_line("scan: auto: from the name", "stack_S0007.npy"), "%s",
              tu_prepare_log());
    /* metadata over the preset's default (9 keV) and over the key's default (11 keV) */
    cr_expect_eq(g->energy_kev, 10.0);
    cr_expect(tu_prepare_log_line("energy 10 keV from motor 'Energy'",
                                  "the preset's default 9 keV is not used"),
              "%s", tu_prepare_log());
    cr_expect_eq(g->distance_m, 0.65);
    cr_expect(tu_prepare_log_line("detector distance 0.65 m from motor 'camdist'", NULL), "%s",
              tu_prepare_log());
    cr_expect_eq(g->angles, BCDI_DETECTOR_DELTA_GAMMA);
    cr_expect_eq(g->delta_deg, 30.0);
    cr_expect_eq(g->gamma_deg, 10.0);
    cr_expect_eq(g->pixel_size_m[0], 55e-6);
    cr_expect_lt(fabs(g->rocking_step_deg - 0.01), 1e-12);
    /* the rocking angle of the peak frame: the command's start + 5 steps */
    cr_expect_lt(fabs(p.summary.peak_rocking_deg - 0.55), 1e-9, "%g", p.summary.peak_rocking_deg);
    /* the detector angles point at the detector centre (256, 256), the frames start at row 60,
     * column 100 (#UIMR5), so the reference pixel of the frames is (196, 156): the 2θ of the
     * centre of mass at (17, 30) follows from it */
    cr_expect(tu_prepare_log_line("frame pixel (row 196, column 156)", NULL), "%s",
              tu_prepare_log());
    double d_hat[3] = {cos(10 * TEST_PI / 180) * sin(30 * TEST_PI / 180), sin(10 * TEST_PI / 180),
                       cos(10 * TEST_PI / 180) * cos(30 * TEST_PI / 180)};
    double r_hat[3] = {sin(10 * TEST_PI / 180) * sin(30 * TEST_PI / 180), -cos(10 * TEST_PI / 180),
                       sin(10 * TEST_PI / 180) * cos(30 * TEST_PI / 180)};
    double c_hat[3] = {cos(30 * TEST_PI / 180), 0, -sin(30 * TEST_PI / 180)};
    double ray[3];
    for (int i = 0; i < 3; i++)
        ray[i] = 0.65 * d_hat[i] + (p.summary.centre_of_mass[1] - 196) * 55e-6 * r_hat[i] +
                 (p.summary.centre_of_mass[2] - 156) * 55e-6 * c_hat[i];
    double tt = acos(ray[2] / sqrt(ray[0] * ray[0] + ray[1] * ray[1] + ray[2] * ray[2]));
    cr_expect_lt(fabs(p.summary.two_theta_deg - tt * 180 / TEST_PI), 1e-6, "%g vs %g",
                 p.summary.two_theta_deg, tt * 180 / TEST_PI);
    /* the summary JSON says where the geometry came from */
    char json[1300];
    snprintf(json, sizeof json, "%s/summary.json", s.dir);
    cr_assert_eq(bcdi_diffraction_summary_write_json(json, &p), BCDI_OK, "%s", bcdi_last_error());
    char *text = tu_read_text(json);
    cr_expect(strstr(text, "\"beamline\": \"34idc\"") && strstr(text, "\"spec_scan\": 7") &&
                  strstr(text, "test.spec"),
              "%s", text);
    free(text);
    bcdi_prepared_free(&p);
    remove_scan(&s);
}

Test(prepare_meta, preset_default_where_the_metadata_is_silent)
{
    scan_files s = make_scan(7, 0); /* no camdist */
    bcdi_prepared p = prepare_ok(s.input, NULL);
    cr_expect_eq(p.geometry.distance_m, 0.5);
    cr_expect(tu_prepare_log_line("detector distance 0.5 m: the preset's default", "no such motor"),
              "%s", tu_prepare_log());
    cr_expect(tu_prepare_log_line("hkl unknown", NULL), "%s", tu_prepare_log());
    bcdi_prepared_free(&p);
    remove_scan(&s);
}

Test(prepare_meta, typed_keys_win_over_the_metadata)
{
    scan_files s = make_scan(7, 0);
    const char *ov[] = {
        "energy_kev=8",  "distance_m=0.7", "delta_deg=31",          "rocking_step_deg=0.02",
        "d_spacing=2.3", "hkl=1,1,1",      "reference_pixel=20,24", NULL};
    bcdi_prepared p = prepare_ok(s.input, ov);
    const bcdi_geometry *g = &p.geometry;
    cr_expect_eq(g->energy_kev, 8.0);
    cr_expect(tu_prepare_log_line(
                  "energy = 8 keV (key 'energy_kev' given; the metadata says 10 keV", "wins"),
              "%s", tu_prepare_log());
    cr_expect_null(tu_prepare_log_line("energy 10 keV from motor", NULL),
                   "the metadata's note remains");
    /* typed where the metadata is silent */
    cr_expect_eq(g->distance_m, 0.7);
    cr_expect(tu_prepare_log_line(
                  "detector distance = 0.7 m (key 'distance_m' given; the metadata has none", NULL),
              "%s", tu_prepare_log());
    cr_expect_eq(g->delta_deg, 31.0);
    cr_expect_eq(g->gamma_deg, 10.0); /* not typed: the metadata's */
    cr_expect_lt(fabs(g->two_theta_deg -
                      acos(cos(31 * TEST_PI / 180) * cos(10 * TEST_PI / 180)) * 180 / TEST_PI),
                 1e-9);
    cr_expect_eq(g->rocking_step_deg, 0.02);
    cr_expect(tu_prepare_log_line("rocking step = 0.02 deg (key 'rocking_step_deg' given; the "
                                  "metadata says 0.01 deg, the scan command",
                                  "the key wins"),
              "%s", tu_prepare_log());
    cr_expect_lt(fabs(p.summary.peak_rocking_deg - (0.5 + 5 * 0.02)), 1e-9);
    cr_expect_lt(fabs(g->d_spacing_m - 2.3e-10), 1e-22);
    cr_expect(g->hkl[0] == 1 && g->hkl[1] == 1 && g->hkl[2] == 1);
    bcdi_prepared_free(&p);
    remove_scan(&s);
}

Test(prepare_meta, switched_off_or_chosen_by_keys)
{
    scan_files s = make_scan(7, 1);
    /* beamline=none or spec=none: the keys' defaults (the I13-1 values), nothing read */
    const char *none[] = {"beamline=none", NULL}, *nospec[] = {"spec=none", NULL};
    const char *const *cases[] = {none, nospec};
    for (int k = 0; k < 2; k++) {
        bcdi_prepared p = prepare_ok(s.input, cases[k]);
        cr_expect_eq(p.geometry.energy_kev, 11.0);
        cr_expect_eq(p.beamline[0], '\0');
        cr_expect_eq(p.spec_file[0], '\0');
        bcdi_prepared_free(&p);
    }
    /* scan= names another scan: it moves the detector arm, not a sample circle -> refused */
    const char *other[] = {"scan=3", NULL};
    bcdi_prepared p;
    cr_expect_eq(tu_prepare(s.input, other, &p), BCDI_ERR_UNSUPPORTED);
    cr_expect(strstr(bcdi_last_error(), "scan 3") && strstr(bcdi_last_error(), "del"), "%s",
              bcdi_last_error());
    /* a scan the file lacks */
    const char *missing[] = {"scan=99", NULL};
    cr_expect_eq(tu_prepare(s.input, missing, &p), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "99"), "%s", bcdi_last_error());
    /* spec= with beamline=none is a contradiction */
    char opt[1300];
    snprintf(opt, sizeof opt, "spec=%s", s.spec);
    const char *contradiction[] = {"beamline=none", opt, NULL};
    cr_expect_eq(tu_prepare(s.input, contradiction, &p), BCDI_ERR_CONFIG);
    /* an explicit preset and file, the stack renamed so its name carries no scan number: the
     * file's two scans make scan= necessary */
    char renamed[1300];
    snprintf(renamed, sizeof renamed, "%s/stack.npy", s.dir);
    cr_assert_eq(rename(s.input, renamed), 0);
    const char *explicit_preset[] = {"beamline=APS-34-ID-C", opt, NULL};
    cr_expect_eq(tu_prepare(renamed, explicit_preset, &p), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "scan=N"), "%s", bcdi_last_error());
    const char *with_scan[] = {"beamline=APS-34-ID-C", opt, "scan=7", NULL};
    p = prepare_ok(renamed, with_scan);
    cr_expect_eq(p.geometry.energy_kev, 10.0);
    cr_expect_str_eq(p.beamline, "34idc");
    bcdi_prepared_free(&p);
    remove_scan(&s);
}

Test(prepare_meta, two_spec_files_or_an_unknown_beamline)
{
    scan_files s = make_scan(7, 1);
    char second[1300];
    snprintf(second, sizeof second, "%s/other.spec", s.dir);
    write_spec(second, 7, 1, "34idcTIM2:");
    bcdi_prepared p;
    cr_expect_eq(tu_prepare(s.input, NULL, &p), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "2 SPEC files") &&
                  strstr(bcdi_last_error(), "other.spec") &&
                  strstr(bcdi_last_error(), "test.spec") && strstr(bcdi_last_error(), "spec="),
              "%s", bcdi_last_error());
    /* one file that names no known beamline: its metadata is not used, the log says so */
    remove(second);
    write_spec(s.spec, 7, 1, "someDetector:"); /* and its #F path names none either */
    p = prepare_ok(s.input, NULL);
    cr_expect_eq(p.beamline[0], '\0');
    cr_expect_eq(p.geometry.energy_kev, 11.0);
    cr_expect(tu_prepare_log_line("names no beamline preset", "beamline=NAME"), "%s",
              tu_prepare_log());
    bcdi_prepared_free(&p);
    remove_scan(&s);
}
