/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi compare: a simulated series of one crystal (no phasing: the true objects are written
 * as results) with known changes, a twin-flipped copy, labels with spaces and units, a missing
 * state, and the offline HTML page. Tolerances come from measured behaviour, noted beside them. */
#include "bcdi/align.h"
#include "bcdi/compare.h"
#include "bcdi/simulate.h"
#include "compare/compare_internal.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/json.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PI 3.14159265358979323846
#define LATTICE_CHANGE 1e-3   /* the second state's d is 0.1% larger */
#define DOMAIN_TILT_DEG 0.005 /* the second state's two domains: each tilted by this */

static const double LINE_A_NM = -400.0, LINE_B_NM = 350.0; /* x (crystal frame) of the lines */

/* The crystal: a hexagonal platelet with one extra, off-axis facet so that its density is not
 * centrosymmetric (the twin can then be told by density alone). */
static bcdi_simulate_params base_params(void)
{
    bcdi_simulate_params p;
    bcdi_simulate_default(&p);
    p.shape[0] = p.shape[1] = p.shape[2] = 64;
    p.oversampling = 2.5;
    p.photons = 0;
    p.noise = BCDI_SIM_NOISE_NONE;
    p.facets[p.facet_count++] = (bcdi_sim_facet){{-0.5, -1.0, 0.4}, 0.65};
    /* line A: edge-like, along crystal y, b along G */
    p.dislocations[0] = (bcdi_sim_dislocation){{LINE_A_NM, 0, 0}, {0, 1, 0}, {0, 0, 4.733}};
    p.dislocation_count = 1;
    return p;
}

/* The second state: part of the crystal gone (a cut at x = 0.55 R), two domains tilted
 * against each other, a new dislocation (B) and a 0.1% larger lattice. */
static bcdi_simulate_params changed_params(void)
{
    bcdi_simulate_params p = base_params();
    p.facets[p.facet_count++] = (bcdi_sim_facet){{1, 0, 0}, 0.55};
    p.domains = 2;
    p.domain_tilt_deg = DOMAIN_TILT_DEG;
    p.domain_gap = 1.0;
    p.dislocations[1] = (bcdi_sim_dislocation){{LINE_B_NM, 0, 0}, {0, 1, 0}, {0, 0, 4.733}};
    p.dislocation_count = 2;
    p.strain = LATTICE_CHANGE;
    return p;
}

/* The fields of a diffraction summary that compare reads. */
typedef struct peak_values {
    double two_theta_deg, rocking_deg, row, intensity, d_m;
} peak_values;

/* The true object written as a result; with `peak`, carrying a diffraction summary as phase
 * copies it from the prepared file. */
static void write_result(const char *path, const bcdi_simulate_params *p, int twin,
                         size_t *support_voxels, const peak_values *peak)
{
    bcdi_geometry g;
    bcdi_simulate_object obj;
    cr_assert_eq(bcdi_simulate_geometry(p, &g), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_simulate_make_object(p, &g, &obj), BCDI_OK, "%s", bcdi_last_error());
    if (twin) { /* object and support: r -> -r (index (N - i) mod N), object conjugated */
        cr_assert_eq(bcdi_twin(obj.shape, obj.object), BCDI_OK);
        uint8_t *copy = malloc(64 * 64 * 64);
        memcpy(copy, obj.support, 64 * 64 * 64);
        for (size_t i0 = 0; i0 < 64; ++i0)
            for (size_t i1 = 0; i1 < 64; ++i1)
                for (size_t i2 = 0; i2 < 64; ++i2)
                    obj.support[(i0 * 64 + i1) * 64 + i2] =
                        copy[(((64 - i0) % 64) * 64 + (64 - i1) % 64) * 64 + (64 - i2) % 64];
        free(copy);
    }
    if (support_voxels) {
        *support_voxels = 0;
        for (size_t v = 0; v < 64 * 64 * 64; ++v)
            *support_voxels += obj.support[v]; /* s > 0.5, as the file's support */
    }
    bcdi_h5_writer *w = NULL;
    cr_assert_eq(bcdi_cxi_create(path, &w), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_cxi_write_object(w, obj.shape, obj.object, obj.support, 0), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_assert_eq(bcdi_cxi_write_geometry(w, &g), BCDI_OK, "%s", bcdi_last_error());
    if (peak) {
        bcdi_cxi_summary s = {.centre_of_mass = {100, peak->row, 128},
                              .com_rocking_deg = peak->rocking_deg,
                              .integrated_intensity = peak->intensity,
                              .two_theta_deg = peak->two_theta_deg,
                              .d_spacing_m = peak->d_m,
                              .bin = {1, 1, 1}};
        cr_assert_eq(bcdi_cxi_write_summary(w, &s), BCDI_OK, "%s", bcdi_last_error());
    }
    cr_assert_eq(bcdi_h5_commit(w), BCDI_OK, "%s", bcdi_last_error());
    bcdi_simulate_object_free(&obj);
}

/* A diffraction summary as prepare writes its JSON (the fields compare reads). */
static void write_summary(const char *path, double two_theta_deg, double rocking_deg, double row,
                          double intensity, double d_m)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "{\n  \"axes\": [\"rocking frame\", \"detector row\", \"detector column\"],\n"
            "  \"peak_pixel\": [100, 128, 128],\n  \"centre_of_mass_pixel\": [100, %.6f, 128],\n"
            "  \"centre_of_mass_rocking_angle_deg\": %.10f,\n  \"integrated_intensity\": %.6f,\n"
            "  \"two_theta_deg\": %.10f, \"d_spacing_m\": %.10e,\n  \"bin\": [1, 1, 1]\n}\n",
            row, rocking_deg, intensity, two_theta_deg, d_m);
    fclose(f);
}

typedef struct series {
    char *dir;
    char ref[4096], changed[4096], twin[4096];
    char changed_summary[4096];
    size_t ref_voxels, changed_voxels;
    double two_theta_deg, d_m;
} series;

/* 3.0 V: the reference; 3.5 V: the changed state; 4.1 V: the reference's twin, rotated by
 * 0.01° about the rocking axis and 0.02° along the ring (summary only). Each result carries its
 * diffraction summary, as phase writes them; the changed state's is also written as prepare's
 * JSON (<stem>_summary.json, found only when given with summary=). */
static void make_series(series *s, const char *tag)
{
    s->dir = tu_make_temp_dir(tag);
    snprintf(s->ref, sizeof s->ref, "%s/state_3v0.cxi", s->dir);
    snprintf(s->changed, sizeof s->changed, "%s/state_3v5.cxi", s->dir);
    snprintf(s->twin, sizeof s->twin, "%s/state_4v1.cxi", s->dir);
    snprintf(s->changed_summary, sizeof s->changed_summary, "%s/state_3v5_summary.json", s->dir);
    bcdi_simulate_params p = base_params(), q = changed_params();
    bcdi_geometry g;
    cr_assert_eq(bcdi_simulate_geometry(&p, &g), BCDI_OK);
    s->two_theta_deg = g.two_theta_deg;
    s->d_m = g.d_spacing_m;
    /* the changed lattice: Bragg's law for d(1 + 0.1%), and the rocking curve follows θ_B */
    double d2 = s->d_m * (1.0 + LATTICE_CHANGE);
    double tt2 = 2.0 * asin(g.wavelength_m / (2.0 * d2)) * 180.0 / PI;
    double row_shift = 0.02 * PI / 180.0 * g.distance_m / g.pixel_size_m[0]; /* 0.02° on the ring */
    const peak_values ref_peak = {s->two_theta_deg, 0.0, 128.0, 1e8, s->d_m};
    const peak_values changed_peak = {tt2, 0.5 * (tt2 - s->two_theta_deg), 128.0, 0.8e8, d2};
    const peak_values twin_peak = {s->two_theta_deg, 0.01, 128.0 + row_shift, 1e8, s->d_m};
    write_result(s->ref, &p, 0, &s->ref_voxels, &ref_peak);
    write_result(s->changed, &q, 0, &s->changed_voxels, &changed_peak);
    write_result(s->twin, &p, 1, NULL, &twin_peak);
    write_summary(s->changed_summary, tt2, changed_peak.rocking_deg, 128.0, 0.8e8, d2);
}

/* Where Debian's chromium is installed, render the page headless, offline: the rendered DOM has
 * the tables and both images loaded (naturalWidth > 0 after layout is not visible in a DOM dump,
 * so the screenshot is the check that it paints). Without chromium, the file checks stand alone
 * and this says so. */
static void check_html_in_chromium(const char *dir)
{
    char *dom = NULL;
    long size = 0;
    int rendered = tu_render_in_chromium(dir, &dom, &size);
    if (rendered == 0) {
        cr_log_info("chromium not installed: the page was checked by its files only");
        return;
    }
    cr_expect_eq(rendered, 1, "headless chromium failed on the report");
    cr_assert_not_null(dom, "chromium wrote no DOM");
    cr_expect(strstr(dom, "<table") != NULL, "rendered page has no table");
    cr_expect(strstr(dom, "slices.png") != NULL && strstr(dom, "trends.png") != NULL);
    free(dom);
    /* a blank 1200x1600 page compresses to a few kB; the report's is larger (measured 165-170 kB)
     */
    cr_expect_gt(size, 20000, "screenshot of %ld bytes: the page looks empty", size);
    cr_log_info("report rendered in headless chromium: screenshot %ld bytes", size);
}

/* Every src="..." of the page exists next to it; no http(s) URL anywhere. */
static void check_html_offline(const char *dir)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tu_read_text(path);
    cr_assert_not_null(html, "no index.html");
    cr_expect(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL,
              "the page names a network resource");
    cr_expect(strstr(html, "<script") == NULL);
    int images = 0;
    for (const char *at = strstr(html, "src=\""); at; at = strstr(at + 5, "src=\"")) {
        const char *end = strchr(at + 5, '"');
        cr_assert_not_null(end);
        int len = (int)(end - at - 5);
        snprintf(path, sizeof path, "%s/%.*s", dir, len < 4000 ? len : 4000, at + 5);
        cr_expect(tu_file_exists(path), "the page shows '%s', which is missing", path);
        ++images;
    }
    cr_expect_eq(images, 2, "slices.png and trends.png");
    free(html);
    check_html_in_chromium(dir);
}

Test(compare, simulated_series, .timeout = 120)
{
    series s;
    make_series(&s, "compare-series");
    bcdi_analysis_params ap;
    bcdi_analysis_default(&ap);
    bcdi_compare_params cp;
    bcdi_compare_default(&cp);
    bcdi_compare_input inputs[3] = {
        {s.ref, "3.0 V", NULL}, {s.changed, "3.5 V", NULL}, {s.twin, "4.1 V", NULL}};
    bcdi_comparison c;
    cr_assert_eq(bcdi_compare_run(&cp, &ap, inputs, 3, 0, &c), BCDI_OK, "%s", bcdi_last_error());
    const bcdi_compare_state *ref = &c.states[0], *chg = &c.states[1], *tw = &c.states[2];
    for (size_t k = 0; k < 3; ++k) {
        const bcdi_compare_state *x = &c.states[k];
        printf("state %s: twinned %d corr %.4f (direct %.4f twin %.4f) field %.4f shift %.3f %.3f "
               "%.3f "
               "vol %.5g lost %.5g gained %.5g domains %zu lines %zu (u%zu m%zu a%zu v%zu) "
               "ramp %.6g dstrain %.6g du std %.4f ddens %.4f\n",
               x->label, x->alignment.twinned, x->density_correlation,
               x->density_correlation_direct, x->density_correlation_twin, x->alignment.correlation,
               x->alignment.shift[0], x->alignment.shift[1], x->alignment.shift[2],
               x->analysis.total_volume_nm3, x->lost_volume_nm3, x->gained_volume_nm3,
               x->analysis.domain_count, x->analysis.line_count, x->lines_unchanged, x->lines_moved,
               x->lines_appeared, x->lines_vanished, x->analysis.ramp_strain, x->mean_strain_change,
               x->delta_displacement.std, x->delta_density.mean);
        for (size_t d = 0; d < x->analysis.domain_count; ++d)
            printf("  domain %zu: %.5g nm3 tilt %.6f deg strain %.6g\n", d + 1,
                   x->analysis.domains[d].volume_nm3, x->domain_changes[d].tilt_deg,
                   x->domain_changes[d].strain_change);
        for (size_t m = 0; m < x->match_count; ++m)
            printf("  match line %zu partner %ld dist %.1f change %d\n", x->matches[m].line,
                   x->matches[m].partner, x->matches[m].distance_nm, (int)x->matches[m].change);
        printf("  lattice: d2t %.6g dt %.6g dd/d %.6g d %.6g c %.6g rot %.6g ring %.6g I %.4g\n",
               x->lattice.delta_two_theta_deg, x->lattice.delta_theta_deg,
               x->lattice.delta_d_over_d, x->lattice.d_spacing_angstrom, x->lattice.c_angstrom,
               x->lattice.rocking_rotation_deg, x->lattice.ring_rotation_deg,
               x->lattice.intensity_ratio);
    }
    printf("truth volume ratio %.6f (voxels %zu / %zu)\n",
           (double)s.changed_voxels / (double)s.ref_voxels, s.changed_voxels, s.ref_voxels);
    /* alignment: the twin is flipped back exactly; the changed state is not twinned and barely
     * shifted (the crystal did not move; its cut shape pulls the density registration by
     * measured (-0.30, 0, 0.05) voxels) */
    cr_expect(!chg->alignment.twinned && tw->alignment.twinned, "twins: %d %d",
              chg->alignment.twinned, tw->alignment.twinned);
    cr_expect_gt(tw->density_correlation_twin - tw->density_correlation_direct, 0.05,
                 "measured 1.0000 against 0.8783");
    cr_expect_gt(tw->alignment.correlation, 0.9999, "twin flipped back: %.6f",
                 tw->alignment.correlation);
    cr_expect_lt(tw->delta_displacement.std, 1e-3, "measured 0 A");
    for (int a = 0; a < 3; ++a) {
        cr_expect_lt(fabs(tw->alignment.shift[a]), 1e-6);
        cr_expect_lt(fabs(chg->alignment.shift[a]), 0.5, "shift %.3f along %d",
                     chg->alignment.shift[a], a);
    }
    /* volume: the cut and the domain gap remove 26.6% (truth from the simulated supports,
     * measured to the voxel); the lost volume is the difference, nothing is gained */
    double truth_ratio = (double)s.changed_voxels / (double)s.ref_voxels;
    double ratio = chg->analysis.total_volume_nm3 / ref->analysis.total_volume_nm3;
    cr_expect_lt(fabs(ratio - truth_ratio), 2e-3, "volume ratio %.5f, truth %.5f", ratio,
                 truth_ratio);
    cr_expect_lt(fabs(chg->lost_volume_nm3 -
                      (ref->analysis.total_volume_nm3 - chg->analysis.total_volume_nm3)),
                 0.02 * ref->analysis.total_volume_nm3, "lost %.4g", chg->lost_volume_nm3);
    cr_expect_lt(chg->gained_volume_nm3, 0.01 * ref->analysis.total_volume_nm3, "gained %.4g",
                 chg->gained_volume_nm3);
    /* domains: 1 -> 2 */
    cr_expect_eq(ref->analysis.domain_count, 1);
    cr_expect_eq(chg->analysis.domain_count, 2);
    /* dislocations: line A kept (same place, measured 25 nm apart: ~0.3 voxel), line B new */
    cr_expect_eq(ref->analysis.line_count, 1);
    cr_expect_eq(chg->analysis.line_count, 2);
    cr_expect_eq(chg->lines_appeared, 1);
    cr_expect_eq(chg->lines_unchanged, 1);
    cr_expect_eq(chg->lines_vanished, 0);
    cr_expect_eq(tw->lines_unchanged, 1);
    for (size_t m = 0; m < chg->match_count; ++m) {
        const bcdi_line_match *x = &chg->matches[m];
        double x_nm = chg->analysis.lines[x->line].centroid_nm[0];
        (void)x_nm;
        if (x->change == BCDI_LINE_UNCHANGED)
            cr_expect_lt(x->distance_nm, 60.0, "%.1f nm", x->distance_nm);
    }
    /* lattice: 0.1% from the phase ramp (measured +1.038e-3: line B's own field adds to the
     * mean gradient) and from the diffraction summary (first-order formula, measured
     * 0.998994e-3 against the exact 1e-3) */
    cr_expect_lt(fabs(chg->mean_strain_change - LATTICE_CHANGE), 0.1 * LATTICE_CHANGE, "%.4g",
                 chg->mean_strain_change);
    cr_expect_lt(fabs(chg->lattice.delta_d_over_d - LATTICE_CHANGE), 2e-6, "%.6g",
                 chg->lattice.delta_d_over_d);
    cr_expect_lt(chg->lattice.delta_two_theta_deg, 0.0, "a larger d diffracts at a smaller angle");
    cr_expect_lt(fabs(chg->lattice.d_spacing_angstrom - 4.733 * (1 + LATTICE_CHANGE)), 1e-5);
    cr_expect_lt(fabs(chg->lattice.c_angstrom - 3 * 4.733 * (1 + LATTICE_CHANGE)), 3e-5);
    cr_expect_lt(fabs(chg->lattice.rocking_rotation_deg), 1e-9, "a lattice change is no rotation");
    cr_expect_lt(fabs(chg->lattice.intensity_ratio - 0.8), 1e-9);
    /* rotation without a lattice change */
    cr_expect_lt(fabs(tw->lattice.delta_d_over_d), 1e-12);
    cr_expect_lt(fabs(tw->lattice.rocking_rotation_deg - 0.01), 1e-9);
    cr_expect_lt(fabs(tw->lattice.ring_rotation_deg - 0.02), 1e-6, "%.8f",
                 tw->lattice.ring_rotation_deg);
    /* the tilted domains: each tilted by 0.005 deg, but the lines' own fields tilt a domain that
     * holds only part of them (measured 0.0076 deg for both; the clean check is
     * compare.domain_tilt below); the strain change of each is the lattice change */
    for (size_t d = 0; d < chg->analysis.domain_count; ++d) {
        cr_expect_gt(chg->domain_changes[d].tilt_deg, 0.5 * DOMAIN_TILT_DEG);
        cr_expect_lt(chg->domain_changes[d].tilt_deg, 2.0 * DOMAIN_TILT_DEG);
        cr_expect_lt(fabs(chg->domain_changes[d].strain_change - LATTICE_CHANGE),
                     0.1 * LATTICE_CHANGE);
    }
    cr_expect_lt(ref->domain_changes[0].tilt_deg, 1e-9);
    char out[4200];
    snprintf(out, sizeof out, "%s/report", s.dir);
    cr_assert_eq(bcdi_compare_write(&c, &cp, out), BCDI_OK, "%s", bcdi_last_error());
    check_html_offline(out);
    /* both figures keep the one text size of every figure (labels are cut, never shrunk) */
    bcdi_colour_limits limits[CMP_SLICE_ROWS];
    cr_assert_eq(cmp_slice_limits(&c, limits), BCDI_OK);
    bcdi_image img;
    cr_assert_eq(cmp_render_slices(&c, limits, &img), BCDI_OK);
    cr_expect(img.text_scale_min == BCDI_PLOT_TEXT_SCALE &&
                  img.text_scale_max == BCDI_PLOT_TEXT_SCALE,
              "slices.png text scales %d..%d", img.text_scale_min, img.text_scale_max);
    bcdi_image_free(&img);
    cr_assert_eq(cmp_render_trends(&c, &img), BCDI_OK);
    cr_expect(img.text_scale_min == BCDI_PLOT_TEXT_SCALE &&
                  img.text_scale_max == BCDI_PLOT_TEXT_SCALE,
              "trends.png text scales %d..%d", img.text_scale_min, img.text_scale_max);
    bcdi_image_free(&img);
    bcdi_comparison_free(&c);
    tu_remove_tree(s.dir);
    free(s.dir);
}

/* Two tilted domains and nothing else: each domain's lattice is tilted by exactly the
 * simulated angle about an axis perpendicular to G (simulate: ∇u = tilt × r in the crystal
 * frame), and its strain is unchanged. */
Test(compare, domain_tilt, .timeout = 60)
{
    char *dir = tu_make_temp_dir("compare-tilt");
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/plain.cxi", dir);
    snprintf(b, sizeof b, "%s/tilted.cxi", dir);
    bcdi_simulate_params p = base_params(), q = base_params();
    p.dislocation_count = q.dislocation_count = 0;
    q.domains = 2;
    q.domain_tilt_deg = 0.01;
    q.domain_gap = 1.0;
    write_result(a, &p, 0, NULL, NULL);
    write_result(b, &q, 0, NULL, NULL);
    bcdi_analysis_params ap;
    bcdi_analysis_default(&ap);
    bcdi_compare_params cp;
    bcdi_compare_default(&cp);
    bcdi_compare_input inputs[2] = {{a, NULL, NULL}, {b, NULL, NULL}};
    bcdi_comparison c;
    cr_assert_eq(bcdi_compare_run(&cp, &ap, inputs, 2, 0, &c), BCDI_OK, "%s", bcdi_last_error());
    const bcdi_compare_state *t = &c.states[1];
    cr_expect_str_eq(c.states[0].label, "plain.cxi", "default label: the file name");
    cr_assert_eq(t->analysis.domain_count, 2);
    cr_expect(!c.states[0].peak.available, "these results carry no summary");
    cr_expect(isnan(t->lattice.delta_d_over_d), "lattice columns stay empty");
    for (size_t d = 0; d < 2; ++d) {
        printf("tilt domain %zu: %.6f deg, strain %.3g\n", d + 1, t->domain_changes[d].tilt_deg,
               t->domain_changes[d].strain_change);
        /* measured 0.010000 deg for both; strain changes below 2e-13 */
        cr_expect_lt(fabs(t->domain_changes[d].tilt_deg - 0.01), 1e-4, "domain %zu: %.6f deg",
                     d + 1, t->domain_changes[d].tilt_deg);
        cr_expect_lt(fabs(t->domain_changes[d].strain_change), 1e-5);
    }
    bcdi_comparison_free(&c);
    tu_remove_tree(dir);
    free(dir);
}

/* A result written before results carried the diffraction summary: compare reads the summary of
 * the prepared file the result records (configuration/input), says so, and guesses no name;
 * with no recorded file it says the summary is missing. */
Test(compare, older_results_use_the_prepared_file_they_record, .timeout = 120)
{
    char *dir = tu_make_temp_dir("compare-older");
    char prepared[4200], a[4200], b[4200], c_path[4200], decoy[4200];
    snprintf(prepared, sizeof prepared, "%s/prepared.cxi", dir);
    snprintf(a, sizeof a, "%s/a.cxi", dir);
    snprintf(b, sizeof b, "%s/b.cxi", dir);
    snprintf(c_path, sizeof c_path, "%s/c.cxi", dir);
    snprintf(decoy, sizeof decoy, "%s/c_summary.json", dir);
    bcdi_simulate_params p = base_params();
    p.dislocation_count = 0;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    cr_assert_eq(bcdi_simulate_geometry(&p, &g), BCDI_OK);
    cr_assert_eq(bcdi_simulate_make_object(&p, &g, &obj), BCDI_OK);
    bcdi_h5_writer *w;
    bcdi_cxi_summary s = {.centre_of_mass = {100, 128, 128},
                          .integrated_intensity = 1e8,
                          .two_theta_deg = g.two_theta_deg,
                          .d_spacing_m = g.d_spacing_m,
                          .bin = {1, 1, 1}};
    cr_assert_eq(bcdi_cxi_create(prepared, &w), BCDI_OK);
    cr_assert_eq(bcdi_cxi_write_summary(w, &s), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_h5_commit(w), BCDI_OK);
    bcdi_cxi_result r = {.shape = {64, 64, 64},
                         .object = obj.object,
                         .support = obj.support,
                         .data_shape = {64, 64, 64},
                         .geometry = &g,
                         .input = prepared};
    cr_assert_eq(bcdi_cxi_write_result(NULL, a, &r), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_cxi_write_result(NULL, b, &r), BCDI_OK, "%s", bcdi_last_error());
    r.input = NULL;
    cr_assert_eq(bcdi_cxi_write_result(NULL, c_path, &r), BCDI_OK, "%s", bcdi_last_error());
    /* a summary next to c under the name compare used to guess: not taken */
    write_summary(decoy, g.two_theta_deg, 0.0, 128.0, 1e8, g.d_spacing_m);
    bcdi_simulate_object_free(&obj);
    bcdi_analysis_params ap;
    bcdi_analysis_default(&ap);
    bcdi_compare_params cp;
    bcdi_compare_default(&cp);
    bcdi_compare_input inputs[3] = {{a, NULL, NULL}, {b, NULL, NULL}, {c_path, NULL, NULL}};
    bcdi_comparison c;
    cr_assert_eq(bcdi_compare_run(&cp, &ap, inputs, 3, 0, &c), BCDI_OK, "%s", bcdi_last_error());
    for (size_t k = 0; k < 2; ++k) {
        cr_expect(c.states[k].peak.available, "state %zu: no summary", k);
        cr_expect_str_eq(c.states[k].peak.source, prepared);
        cr_expect_float_eq(c.states[k].peak.two_theta_deg, g.two_theta_deg, 1e-12);
    }
    cr_expect(!c.states[2].peak.available, "a guessed summary was taken: %s",
              c.states[2].peak.source);
    bcdi_comparison_free(&c);
    tu_remove_tree(dir);
    free(dir);
}

/* Δd/d = −cot θ_B · Δθ_B by hand: 2θ 20° -> 19.9° gives +4.94913e-3; a 20-pixel shift along
 * the ring at 55 µm and 2.9 m is 0.0217329°. */
Test(compare, lattice_by_hand)
{
    bcdi_compare_peak ref = {.available = 1,
                             .two_theta_deg = 20.0,
                             .rocking_deg = 1.0,
                             .com_pixel = {10, 100, 100},
                             .integrated_intensity = 2e6,
                             .d_spacing_m = 4.0e-10,
                             .bin = {1, 1, 1}};
    bcdi_compare_peak st = ref;
    st.two_theta_deg = 19.9;
    st.rocking_deg = 1.0 - 0.05 + 0.02; /* the Bragg shift plus a 0.02° rotation */
    st.com_pixel[1] = 120;
    st.integrated_intensity = 1e6;
    bcdi_compare_lattice l;
    const int hkl[3] = {0, 0, 3};
    bcdi_compare_lattice_from_peaks(&ref, &st, 55e-6, 2.9, hkl, &l);
    cr_expect_lt(fabs(l.delta_d_over_d - 4.9491270280e-3), 1e-12, "%.12g", l.delta_d_over_d);
    cr_expect_lt(fabs(l.delta_theta_deg + 0.05), 1e-12);
    cr_expect_lt(fabs(l.d_spacing_angstrom - 4.0 * (1 + 4.9491270280e-3)), 1e-9);
    cr_expect_lt(fabs(l.c_angstrom - 12.0 * (1 + 4.9491270280e-3)), 1e-9);
    cr_expect_lt(fabs(l.rocking_rotation_deg - 0.02), 1e-12);
    cr_expect_lt(fabs(l.ring_rotation_deg - 0.021732881884), 1e-10);
    cr_expect_lt(fabs(l.intensity_ratio - 0.5), 1e-15);
    const int hk0[3] = {1, 1, 0};
    bcdi_compare_lattice_from_peaks(&ref, &st, 55e-6, 2.9, hk0, &l);
    cr_expect(isnan(l.c_angstrom), "c only for (00l)");
}

Test(compare, line_distance)
{
    /* two parallel lines 3 nm apart, one twice as long: the shorter one's points are 3 nm
     * from the longer line everywhere */
    double a[10 * 3], b[20 * 3];
    for (int i = 0; i < 10; ++i)
        a[3 * i] = i, a[3 * i + 1] = 0, a[3 * i + 2] = 0;
    for (int i = 0; i < 20; ++i)
        b[3 * i] = i - 5, b[3 * i + 1] = 3, b[3 * i + 2] = 0;
    cr_expect_float_eq(bcdi_compare_line_distance(a, 10, b, 20), 3.0, 1e-12);
    cr_expect_float_eq(bcdi_compare_line_distance(b, 20, a, 10), 3.0, 1e-12);
    cr_expect(isnan(bcdi_compare_line_distance(a, 0, b, 20)));
}

/* Through the executable: an analysed folder and results, labels with spaces, units, commas,
 * quotes and HTML characters, summary= for one state, reference= by label. */
Test(compare_cli, labels_folder_and_reference, .timeout = 120)
{
    series s;
    make_series(&s, "compare-cli");
    char cmd[16384], *out = NULL;
    snprintf(cmd, sizeof cmd, "analyze %s -o %s/an_3v0", s.ref, s.dir);
    cr_assert_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    /* the changed state's summary under another name, given with summary= */
    char moved[4200];
    snprintf(moved, sizeof moved, "%s/elsewhere.json", s.dir);
    cr_assert_eq(rename(s.changed_summary, moved), 0);
    snprintf(cmd, sizeof cmd,
             "compare '%s/an_3v0=3.0 V' '%s=3.5 V' summary=%s "
             "'%s=4.1 V, 50%% \"SOC\" & <x>' -o %s/report",
             s.dir, s.changed, moved, s.twin, s.dir);
    int rc = tu_run_braggcdi(cmd, &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char path[8400];
    snprintf(path, sizeof path, "%s/report", s.dir);
    cr_expect_eq(tu_count_entries(path), 5, "exactly the 5 outputs, no temporaries");
    check_html_offline(path);
    snprintf(path, sizeof path, "%s/report/comparison.csv", s.dir);
    char *csv = tu_read_text(path);
    cr_assert_not_null(csv);
    cr_expect(strstr(csv, "\n3.0 V,") != NULL, "label '3.0 V' in the CSV");
    cr_expect(strstr(csv, "\n3.5 V,") != NULL);
    cr_expect(strstr(csv, "\n\"4.1 V, 50% \"\"SOC\"\" & <x>\",") != NULL, "quoted label: %s", csv);
    int rows = 0;
    for (const char *c = csv; *c; ++c)
        rows += *c == '\n';
    cr_expect_eq(rows, 4, "header + one row per state");
    cr_expect(strstr(csv, "elsewhere.json") != NULL, "summary= used");
    free(csv);
    snprintf(path, sizeof path, "%s/report/comparison.json", s.dir);
    /* where each summary came from, read by path: the analysed folder's result, summary=, and
     * the result itself */
    json_t *root = NULL;
    cr_assert_eq(bcdi_json_read(path, &root), BCDI_OK, "%s", bcdi_last_error());
    json_t *states = bcdi_json_at(root, "states");
    cr_assert_eq(json_array_size(states), 3);
    const char *sources[3] = {s.ref, moved, s.twin};
    for (size_t k = 0; k < 3; ++k) {
        const char *src = bcdi_json_string_at(json_array_get(states, k), "diffraction/summary");
        cr_expect(src && !strcmp(src, sources[k]), "state %zu: summary from '%s', expected '%s'", k,
                  src ? src : "(none)", sources[k]);
    }
    /* slices.png's colour limits per row: robust percentiles (analyze's rule), recorded */
    json_t *rows_json = bcdi_json_at(root, "figures/slices.png");
    cr_assert_eq(json_array_size(rows_json), 4);
    for (size_t row = 0; row < 4; ++row) {
        json_t *lim = json_array_get(rows_json, row);
        double lo, hi, q, voxels, below, above;
        cr_assert(bcdi_json_number_at(lim, "min", &lo) && bcdi_json_number_at(lim, "max", &hi) &&
                  bcdi_json_number_at(lim, "percentile", &q) &&
                  bcdi_json_number_at(lim, "voxels", &voxels) &&
                  bcdi_json_number_at(lim, "clipped_low", &below) &&
                  bcdi_json_number_at(lim, "clipped_high", &above));
        cr_expect_eq(q, 99.0);
        cr_expect_gt(voxels, 1000.0, "row %zu over %.0f voxels", row, voxels);
        cr_expect(row == 0 ? lo == 0.0 : lo == -hi, "row %zu: %g..%g", row, lo, hi);
        cr_expect_gt(hi, 0.0);
        /* p1/p99: at most 1% (+ ties) beyond each end */
        cr_expect_leq(below + above, 0.02 * voxels + 2.0, "row %zu: %.0f + %.0f clipped", row,
                      below, above);
    }
    json_decref(root);
    char *json = tu_read_text(path);
    cr_assert_not_null(json);
    cr_expect(strstr(json, "\"label\": \"4.1 V, 50% \\\"SOC\\\" & <x>\"") != NULL);
    cr_expect(strstr(json, "\"analysed_folder\": true") != NULL);
    cr_expect(strstr(json, "\"appeared\": 1") != NULL);
    cr_expect(strstr(json, "\"twinned\": true") != NULL);
    free(json);
    snprintf(path, sizeof path, "%s/report/index.html", s.dir);
    char *html = tu_read_text(path);
    cr_assert_not_null(html);
    cr_expect(strstr(html, "4.1 V, 50% &quot;SOC&quot; &amp; &lt;x&gt;") != NULL, "escaped label");
    cr_expect(strstr(html, "3.5 V") != NULL);
    free(html);
    /* the changed state as reference: line B is there, line A of 3.0 V matches, and seen from
     * 3.5 V the 3.0 V state has lost line B */
    snprintf(cmd, sizeof cmd, "compare '%s=3.0 V' '%s=3.5 V' reference='3.5 V' -q -o %s/report2",
             s.ref, s.changed, s.dir);
    cr_assert_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    snprintf(path, sizeof path, "%s/report2/comparison.json", s.dir);
    json = tu_read_text(path);
    cr_assert_not_null(json);
    cr_expect(strstr(json, "\"reference\": \"3.5 V\"") != NULL);
    cr_expect(strstr(json, "\"vanished\": 1") != NULL, "line B vanished from 3.0 V's view");
    free(json);
    tu_remove_tree(s.dir);
    free(s.dir);
}

/* A state whose file is missing: a clear error naming it, exit status 1, nothing written. */
Test(compare_cli, missing_state_writes_nothing, .timeout = 60)
{
    series s;
    make_series(&s, "compare-missing");
    char cmd[16384], *out = NULL;
    snprintf(cmd, sizeof cmd, "compare '%s=3.0 V' '%s/gone.cxi=4.2 V' -o %s/report", s.ref, s.dir,
             s.dir);
    int rc = tu_run_braggcdi(cmd, &out);
    cr_expect_eq(rc, 1, "exit status %d: %s", rc, out);
    cr_expect(strstr(out, "state '4.2 V'") != NULL && strstr(out, "gone.cxi") != NULL,
              "the message names the state and its file: %s", out);
    free(out);
    char path[8400];
    snprintf(path, sizeof path, "%s/report", s.dir);
    cr_expect(!tu_file_exists(path), "nothing written");
    /* an analysed folder whose result is gone */
    snprintf(cmd, sizeof cmd, "analyze %s -o %s/an", s.changed, s.dir);
    cr_assert_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    cr_assert_eq(remove(s.changed), 0);
    snprintf(cmd, sizeof cmd, "compare '%s=3.0 V' '%s/an=3.5 V' -o %s/report", s.ref, s.dir, s.dir);
    rc = tu_run_braggcdi(cmd, &out);
    cr_expect_eq(rc, 1, "exit status %d: %s", rc, out);
    cr_expect(strstr(out, "state '3.5 V'") != NULL && strstr(out, "missing") != NULL, "%s", out);
    free(out);
    cr_expect(!tu_file_exists(path), "nothing written");
    /* a failure while writing (index.html cannot replace a folder of that name): the files
     * already renamed are removed again, no staging file is left */
    char blocker[8500];
    snprintf(blocker, sizeof blocker, "%.8000s/index.html", path);
    cr_assert_eq(mkdir(path, 0777), 0);
    cr_assert_eq(mkdir(blocker, 0777), 0);
    snprintf(cmd, sizeof cmd, "compare '%.4000s=3.0 V' '%.4000s=4.1 V' -o %.4000s", s.ref, s.twin,
             path);
    rc = tu_run_braggcdi(cmd, &out);
    cr_expect_eq(rc, 1, "exit status %d: %s", rc, out);
    cr_expect(strstr(out, "index.html") != NULL, "%s", out);
    free(out);
    cr_expect_eq(tu_count_entries(path), 1, "only the blocking folder is left");
    rmdir(blocker);
    rmdir(path);
    /* one state only */
    snprintf(cmd, sizeof cmd, "compare %s -o %s/report", s.ref, s.dir);
    cr_expect_eq(tu_run_braggcdi(cmd, &out), 2, "%s", out);
    free(out);
    cr_expect(!tu_file_exists(path), "nothing written");
    tu_remove_tree(s.dir);
    free(s.dir);
}
