/* SPDX-License-Identifier: BSD-3-Clause */
/* The real gold scan (APS 34-ID-C, ../shared/datasets/au111-aps34idc-scan54) prepared with no
 * geometry key at all: the frames folder (or the dataset folder) and the scan54.spec beside it
 * must give 34-ID-C's true geometry, and the voxel sizes of the hand computation (the formulas
 * of tests/test_beamline.c for the prepared shape). Skips visibly without the datasets
 * (slow-labelled with the other real-data tests). */
#include "bcdi/prepare.h"
#include "test_data.h"
#include "test_prepare_support.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_PI 3.14159265358979323846

static bcdi_prepared prepare_ok(const char *input, const char *const *overrides)
{
    bcdi_prepared p;
    cr_assert_eq(tu_prepare(input, overrides, &p), BCDI_OK, "prepare '%s': %s", input,
                 bcdi_last_error());
    return p;
}

static void expect_true_geometry(const bcdi_prepared *p, const char *spec)
{
    const bcdi_geometry *g = &p->geometry;
    cr_expect_str_eq(p->beamline, "34idc");
    cr_expect_str_eq(p->spec_file, spec);
    cr_expect_eq(p->spec_scan, 54);
    cr_expect_eq(g->energy_kev, 9.0);
    cr_expect_eq(g->distance_m, 0.5);
    cr_expect_eq(g->angles, BCDI_DETECTOR_DELTA_GAMMA);
    cr_expect_eq(g->delta_deg, 32.174);
    cr_expect_eq(g->gamma_deg, 12.6346);
    cr_expect_lt(fabs(g->rocking_step_deg - 0.005), 1e-12, "step %.9g", g->rocking_step_deg);
    cr_expect(g->rocking_axis[0] == 0 && g->rocking_axis[1] == 1 && g->rocking_axis[2] == 0);
    cr_expect(g->pixel_size_m[0] == 55e-6 && g->pixel_size_m[1] == 55e-6);
    cr_expect_eq(g->row_sign, 1);
    /* frame k at theta = -0.279996 + 0.005 k (the README) */
    cr_expect_lt(fabs(p->summary.peak_rocking_deg - (-0.279996 + 0.005 * p->summary.peak[0])), 1e-9,
                 "%.9g at frame %ld", p->summary.peak_rocking_deg, p->summary.peak[0]);
    /* the box holds no padding (padding=crop) and is centred on the peak */
    for (int a = 0; a < 3; a++) {
        cr_expect(p->box_origin[a] >= 0 &&
                  p->box_origin[a] + (long)p->shape[a] <= (long)p->input_dims[a]);
        cr_expect_eq(p->summary.peak[a] - p->box_origin[a], (long)p->shape[a] / 2);
    }

    /* hand: the q steps of the delta/gamma arm at 9 keV, 0.5 m, 55 µm, theta about y */
    double lam = 12.3984 / 9.0 * 1e-10, D = 0.5, pixel = 55e-6, dw = 0.005 * TEST_PI / 180.0;
    double d = 32.174 * TEST_PI / 180.0, gm = 12.6346 * TEST_PI / 180.0;
    double k = 2 * TEST_PI / lam, pix = 2 * TEST_PI * pixel / (lam * D);
    double b_rock[3] = {k * dw * (1 - cos(gm) * cos(d)), 0, k * dw * cos(gm) * sin(d)};
    double b_row[3] = {pix * sin(gm) * sin(d), -pix * cos(gm), pix * sin(gm) * cos(d)};
    double b_col[3] = {pix * cos(d), 0, -pix * sin(d)};
    const double *b[3] = {b_rock, b_row, b_col};
    for (int a = 0; a < 3; a++) {
        /* |t_a| = 2π |b_b × b_c| / (N_a |b_a · b_b × b_c|) */
        double n[3];
        tu_cross3(b[(a + 1) % 3], b[(a + 2) % 3], n);
        double length =
            2 * TEST_PI * sqrt(tu_dot3(n, n)) / ((double)p->shape[a] * fabs(tu_dot3(b[a], n)));
        cr_expect_lt(fabs(g->voxel_size_m[a] / length - 1), 1e-9, "axis %d: %.6g nm vs hand %.6g",
                     a, g->voxel_size_m[a] * 1e9, length * 1e9);
        for (int i = 0; i < 3; i++)
            cr_expect_lt(fabs(g->q_step[i][a] - b[a][i]), 1e-9 * sqrt(tu_dot3(b[a], b[a])));
    }
    /* the rocking step's length is |ŷ × Q| Δω, 7.2% less than |Q| Δω (γ lifts Q 21.8° out of
     * the horizontal plane): the nominal rocking size is 2π/(N |ŷ × Q| Δω) */
    double q[3] = {k * cos(gm) * sin(d), k * sin(gm), k * (cos(gm) * cos(d) - 1)};
    double horizontal = sqrt(q[0] * q[0] + q[2] * q[2]);
    cr_expect_lt(fabs(sqrt(tu_dot3(b_rock, b_rock)) / (horizontal * dw) - 1), 1e-12);
    cr_log_info("gold scan, no keys: %zu x %zu x %zu, voxels %.3f x %.3f x %.3f nm (nominal "
                "rocking %.3f nm, 2π/(N|Q|Δω) would say %.3f)",
                p->shape[0], p->shape[1], p->shape[2], g->voxel_size_m[0] * 1e9,
                g->voxel_size_m[1] * 1e9, g->voxel_size_m[2] * 1e9,
                2 * TEST_PI / ((double)p->shape[0] * horizontal * dw) * 1e9,
                2 * TEST_PI / ((double)p->shape[0] * sqrt(tu_dot3(q, q)) * dw) * 1e9);
}

Test(prepare_gold_meta, frames_folder_without_keys_gives_the_true_geometry, .timeout = 300)
{
    const char *frames = tu_shared_dataset("au111-aps34idc-scan54/frames");
    if (!frames) cr_skip_test("../shared/datasets absent: gold scan metadata test skipped");
    char frames_copy[4096], spec[4096];
    snprintf(frames_copy, sizeof frames_copy, "%s", frames);
    snprintf(spec, sizeof spec, "%s", tu_shared_dataset("au111-aps34idc-scan54/scan54.spec"));
    bcdi_prepared p = prepare_ok(frames_copy, NULL);
    expect_true_geometry(&p, spec);
    /* 196 x 252 x 252 around the raw peak (99, 126, 127) */
    cr_expect(p.shape[0] == 196 && p.shape[1] == 252 && p.shape[2] == 252, "%zu x %zu x %zu",
              p.shape[0], p.shape[1], p.shape[2]);
    bcdi_prepared_free(&p);
}

Test(prepare_gold_meta, dataset_folder_and_typed_keys, .timeout = 300)
{
    const char *root = tu_shared_dataset("au111-aps34idc-scan54");
    if (!root) cr_skip_test("../shared/datasets absent: gold scan metadata test skipped");
    char root_copy[4096], spec[4096];
    snprintf(root_copy, sizeof root_copy, "%s", root);
    snprintf(spec, sizeof spec, "%s", tu_shared_dataset("au111-aps34idc-scan54/scan54.spec"));
    /* the dataset folder: its frames/ are read, the .spec beside them found, and its dark.tif
     * (a bad-pixel map by the 34idc convention, > 1) and whitefield.tif used: 13 bad pixels and
     * 11 where the white field is <= 0, the box centred on the corrected peak (99, 127, 128),
     * 196 x 252 x 256, as with those keys given (docs/prepare.md) */
    bcdi_prepared p = prepare_ok(root_copy, NULL);
    expect_true_geometry(&p, spec);
    cr_expect(strstr(p.mask_file, "dark.tif") && strstr(p.flat_file, "whitefield.tif"),
              "calibration found: '%s', '%s'", p.mask_file, p.flat_file);
    cr_expect(p.shape[0] == 196 && p.shape[1] == 252 && p.shape[2] == 256, "%zu x %zu x %zu",
              p.shape[0], p.shape[1], p.shape[2]);
    cr_expect_eq(p.summary.masked_voxels, 4116);
    bcdi_prepared_free(&p);
    /* none taken when told so */
    const char *skip[] = {"mask_file=none", "flat_file=none", NULL};
    p = prepare_ok(root_copy, skip);
    cr_expect(!p.mask_file[0] && !p.flat_file[0] && p.summary.masked_voxels == 0);
    cr_expect(p.shape[2] == 252, "%zu columns", p.shape[2]);
    bcdi_prepared_free(&p);
    /* a typed key wins over the metadata; the rest stays the metadata's */
    const char *ov[] = {"energy_kev=9.5", NULL};
    p = prepare_ok(root_copy, ov);
    cr_expect_eq(p.geometry.energy_kev, 9.5);
    cr_expect_eq(p.geometry.distance_m, 0.5);
    cr_expect_eq(p.geometry.delta_deg, 32.174);
    bcdi_prepared_free(&p);
}
