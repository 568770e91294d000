/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi phase` end to end on a prepared CXI written here from simulator intensities:
 * outputs, their contents, keep/best files, and bad input with nothing written. */
#include "bcdi/simulate.h"
#include "io/cxi.h"
#include "io/hdf5.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_prepared(const char *path, int poison)
{
    cr_assert_eq(tu_write_prepared(path, poison), 0, "%s", bcdi_last_error());
}

Test(phase_cli, writes_results_with_metrics_history_and_kept_runs, .timeout = 60)
{
    char *dir = tu_make_temp_dir("phase");
    char prepared[512], args[2048], *out = NULL, path[600];
    snprintf(prepared, sizeof prepared, "%s/prepared.cxi", dir);
    write_prepared(prepared, 0);
    snprintf(args, sizeof args,
             "phase %s recipe='150*HIO+50*RAAR+50*ER' runs=3 keep=2 seed=4 free_fraction=0.02 "
             "--device cpu -o %s/result.cxi",
             prepared, dir);
    int rc = tu_run_braggcdi(args, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "best run") != NULL, "%s", out);
    char progress_text[8192];
    snprintf(progress_text, sizeof progress_text, "%s", out);
    free(out);
    const char *names[] = {"result.cxi", "result-run1.cxi", "result-run2.cxi"};
    for (int k = 0; k < 3; ++k) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        cr_expect(tu_file_exists(path), "%s missing", names[k]);
    }
    cr_expect_eq(tu_count_entries(dir), 5, "prepared + 3 results + the report, no temporaries");
    snprintf(path, sizeof path, "%s/result.cxi", dir);
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK);
    double fourier, rank, elapsed;
    cr_assert_eq(
        bcdi_h5_read_double(r, "entry_1/image_1/process_1/results/fourier_error", &fourier),
        BCDI_OK);
    /* the root form (docs/algorithms.md, Metrics): the former bound 0.01 on its square, rooted;
     * measured 0.020 (4e-4 squared) */
    cr_expect(fourier > 0 && fourier < 0.1, "Fourier error %g (measured ~0.020)", fourier);
    /* the progress line's last values are the leading run's current ones: at the last
     * iteration that is the written best run, so they match its llk and Fourier error */
    double llk;
    cr_assert_eq(bcdi_h5_read_double(r, "entry_1/image_1/process_1/results/llk", &llk), BCDI_OK);
    char definition[256];
    cr_assert_eq(bcdi_h5_read_attr_string(r, "entry_1/image_1/process_1/results/fourier_error",
                                          "definition", definition, sizeof definition),
                 BCDI_OK, "%s", bcdi_last_error());
    cr_expect(strstr(definition, "sqrt(") == definition, "definition '%s'", definition);
    char expected[160];
    snprintf(expected, sizeof expected, "llk %.4g, Fourier error %.4g)", llk, fourier);
    cr_expect(strstr(progress_text, "100% (") && strstr(progress_text, expected),
              "progress should end with '%s': %s", expected, progress_text);
    bcdi_h5_read_double(r, "entry_1/image_1/process_1/results/rank", &rank);
    cr_expect_eq(rank, 1);
    bcdi_h5_read_double(r, "entry_1/image_1/process_1/results/elapsed_s", &elapsed);
    cr_expect_gt(elapsed, 0);
    char text[256];
    cr_assert_eq(
        bcdi_h5_read_string(r, "entry_1/image_1/process_1/results/backend", text, sizeof text),
        BCDI_OK);
    cr_expect_str_eq(text, "cpu");
    cr_assert_eq(
        bcdi_h5_read_string(r, "entry_1/image_1/process_1/configuration/recipe", text, sizeof text),
        BCDI_OK);
    cr_expect_str_eq(text, "150*HIO+50*RAAR+50*ER");
    cr_assert_eq(
        bcdi_h5_read_string(r, "entry_1/image_1/process_1/configuration/device", text, sizeof text),
        BCDI_OK);
    cr_expect_str_eq(text, "cpu");
    char input[1024];
    cr_assert_eq(bcdi_h5_read_string(r, "entry_1/image_1/process_1/configuration/input", input,
                                     sizeof input),
                 BCDI_OK);
    cr_expect(strstr(input, "prepared.cxi") != NULL && input[0] == '/', "input recorded as '%s'",
              input);
    int rank_dims;
    size_t dims[8];
    bcdi_dtype type;
    cr_assert_eq(
        bcdi_h5_shape(r, "entry_1/image_1/process_1/results/history", &rank_dims, dims, &type),
        BCDI_OK);
    cr_expect_eq(dims[0], 25, "one row per 10 iterations");
    cr_expect_eq(dims[1], 9, "iteration, 6 metrics, masked photons and share over bound");
    cr_assert_eq(bcdi_h5_shape(r, "entry_1/image_1/data", &rank_dims, dims, &type), BCDI_OK);
    cr_expect_eq(type, BCDI_DT_CF32);
    cr_expect_eq(dims[0], 32);
    cr_expect(bcdi_h5_exists(r, "entry_1/instrument_1/detector_1/mask"));
    cr_expect(bcdi_h5_exists(r, "entry_1/bcdi_geometry/real_basis"));
    double free_llk;
    bcdi_h5_read_double(r, "entry_1/image_1/process_1/results/free_llk", &free_llk);
    cr_expect(isfinite(free_llk), "free llk %g", free_llk);
    bcdi_h5_close(r);
    /* crop: the written object shrinks to the support plus the margin */
    snprintf(args, sizeof args,
             "phase %s recipe='100*HIO+50*ER' crop=yes crop_margin=2 -q -o %s/cropped.cxi",
             prepared, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(path, sizeof path, "%s/cropped.cxi", dir);
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK);
    cr_assert_eq(bcdi_h5_shape(r, "entry_1/image_1/data", &rank_dims, dims, &type), BCDI_OK);
    cr_expect(dims[0] < 32 && dims[1] < 32 && dims[2] < 32, "cropped to %zux%zux%zu", dims[0],
              dims[1], dims[2]);
    bcdi_h5_close(r);
    tu_remove_tree(dir);
    free(dir);
}

static bcdi_cf *read_object(const char *path, size_t n)
{
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK, "%s", bcdi_last_error());
    bcdi_cf *object = malloc(n * sizeof *object);
    cr_assert_eq(bcdi_h5_read(r, "entry_1/image_1/data", BCDI_DT_CF32, object, n), BCDI_OK, "%s",
                 bcdi_last_error());
    bcdi_h5_close(r);
    return object;
}

/* keep >= 2: the answer is the average of the kept runs aligned onto the best, recorded with
 * its modes, correlations and PRTF resolution (in nm: the prepared data has a geometry);
 * combine=false writes the best run as the answer, as before. */
Test(phase_cli, kept_runs_are_combined_into_the_answer, .timeout = 90)
{
    char *dir = tu_make_temp_dir("phase-combine");
    char prepared[512], args[2048], *out = NULL, path[600];
    snprintf(prepared, sizeof prepared, "%s/prepared.cxi", dir);
    write_prepared(prepared, 0);
    snprintf(args, sizeof args,
             "phase %s recipe='150*HIO+50*RAAR+50*ER' runs=3 keep=3 seed=4 --device cpu "
             "fft_planner=estimate -o %s/result.cxi",
             prepared, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "average of the best 3 runs") && strstr(out, "PRTF resolution"), "%s",
              out);
    free(out);
    snprintf(path, sizeof path, "%s/result.cxi", dir);
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK);
    const char *group = "entry_1/image_1/process_1/combined";
    char name[256], units[64];
    double runs = 0, first = 0, resolution[3] = {0, 0, 0}, correlation[3] = {0, 0, 0};
    snprintf(name, sizeof name, "%s/runs", group);
    cr_assert_eq(bcdi_h5_read_double(r, name, &runs), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(runs, 3);
    snprintf(name, sizeof name, "%s/first_mode_weight", group);
    cr_assert_eq(bcdi_h5_read_double(r, name, &first), BCDI_OK);
    cr_expect(first > 0 && first <= 1, "first mode weight %g", first);
    snprintf(name, sizeof name, "%s/correlation", group);
    cr_assert_eq(bcdi_h5_read(r, name, BCDI_DT_F64, correlation, 3), BCDI_OK);
    cr_expect_eq(correlation[0], 1.0, "the best run is the reference");
    snprintf(name, sizeof name, "%s/resolution", group);
    cr_assert_eq(bcdi_h5_read(r, name, BCDI_DT_F64, resolution, 3), BCDI_OK);
    cr_assert_eq(bcdi_h5_read_attr_string(r, name, "units", units, sizeof units), BCDI_OK);
    cr_expect_str_eq(units, "nm");
    for (int a = 0; a < 3; ++a)
        cr_expect(isfinite(resolution[a]) && resolution[a] > 1 && resolution[a] < 1e4,
                  "resolution %g nm along %d", resolution[a], a);
    int rank_dims;
    size_t dims[8];
    snprintf(name, sizeof name, "%s/prtf_axis0", group);
    cr_assert_eq(bcdi_h5_shape(r, name, &rank_dims, dims, NULL), BCDI_OK);
    cr_expect_eq(dims[0], 17, "one shell per index step to Nyquist (32 / 2 + 1)");
    bcdi_h5_close(r);
    /* the answer is not the best run: that one is <stem>-run1.cxi */
    size_t n = 32 * 32 * 32;
    char run1[600];
    snprintf(run1, sizeof run1, "%s/result-run1.cxi", dir);
    bcdi_cf *answer = read_object(path, n), *best = read_object(run1, n);
    cr_expect_neq(memcmp(answer, best, n * sizeof *answer), 0, "the answer is the average");
    cr_assert_eq(bcdi_h5_open(run1, &r), BCDI_OK);
    cr_expect(!bcdi_h5_exists(r, group), "a single run has no combined group");
    bcdi_h5_close(r);
    /* combine=false: the best run is the answer, bit for bit */
    snprintf(args, sizeof args,
             "phase %s recipe='150*HIO+50*RAAR+50*ER' runs=3 keep=3 seed=4 --device cpu "
             "fft_planner=estimate combine=false -q -o %s/single.cxi",
             prepared, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(path, sizeof path, "%s/single.cxi", dir);
    bcdi_cf *single = read_object(path, n);
    cr_expect_eq(memcmp(single, best, n * sizeof *single), 0, "combine=false: the best run");
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK);
    cr_expect(!bcdi_h5_exists(r, group));
    bcdi_h5_close(r);
    free(answer);
    free(best);
    free(single);
    tu_remove_tree(dir);
    free(dir);
}

/* Where Debian's chromium is installed, render the page headless and offline (as compare's
 * test does): the DOM has the tables and images, the screenshot is not blank. Without chromium
 * the file checks stand alone and this says so (a warning in the test's log). */
static void check_report_in_chromium(const char *dir)
{
    char *dom = NULL;
    long size = 0;
    int rendered = tu_render_in_chromium(dir, &dom, &size);
    if (rendered == 0) {
        cr_log_warn("chromium not installed: the phase report was checked by its files only");
        return;
    }
    cr_expect_eq(rendered, 1, "headless chromium failed on the report");
    cr_assert_not_null(dom, "chromium wrote no DOM");
    cr_expect(strstr(dom, "<table") && strstr(dom, "convergence.png") && strstr(dom, "slices.png"),
              "rendered page lacks its tables or images");
    free(dom);
    /* a blank page compresses to a few kB (measured: 69 kB for this one) */
    cr_expect_gt(size, 20000, "screenshot of %ld bytes: the page looks empty", size);
    cr_log_info("phase report rendered in headless chromium: screenshot %ld bytes", size);
}

/* The page and its images: offline (no network reference, no script), every image it shows is
 * a PNG beside it, `images` of them; returns the page's text. */
static char *check_report_files(const char *dir, int images)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tu_read_text(path);
    cr_assert_not_null(html, "no %s", path);
    cr_expect(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL,
              "the page names a network resource");
    cr_expect(strstr(html, "<script") == NULL);
    int shown = 0;
    for (const char *at = strstr(html, "src=\""); at; at = strstr(at + 5, "src=\"")) {
        const char *end = strchr(at + 5, '"');
        cr_assert_not_null(end);
        int len = (int)(end - at - 5);
        snprintf(path, sizeof path, "%s/%.*s", dir, len < 200 ? len : 200, at + 5);
        FILE *f = fopen(path, "rb");
        cr_expect_not_null(f, "the page shows '%s', which is missing", path);
        unsigned char magic[8] = {0};
        if (f) {
            cr_expect_eq(fread(magic, 1, 8, f), 8);
            fclose(f);
        }
        cr_expect(!memcmp(magic, "\x89PNG\r\n\x1a\n", 8), "'%s' is not a PNG", path);
        ++shown;
    }
    cr_expect_eq(shown, images, "images on the page");
    cr_expect_eq(tu_count_entries(dir), images + 1, "the page and its images, nothing else");
    return html;
}

/* phase writes <output stem>_report/ beside its result (report=true by default): the ranking of
 * the runs and which were combined, the combined figures, and the panels; names are escaped
 * (the output here is named r&<b>.cxi); report=false writes none. */
Test(phase_cli, writes_an_offline_report_beside_the_result, .timeout = 120)
{
    char *dir = tu_make_temp_dir("phase-report");
    char prepared[512], args[2048], *out = NULL, report[600];
    snprintf(prepared, sizeof prepared, "%s/prepared.cxi", dir);
    write_prepared(prepared, 0);
    snprintf(args, sizeof args,
             "phase %s recipe='150*HIO+50*RAAR+50*ER' runs=3 keep=2 seed=4 free_fraction=0.02 "
             "--device cpu fft_planner=estimate -q -o '%s/r&<b>.cxi'",
             prepared, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(report, sizeof report, "%s/r&<b>_report", dir);
    char *html = check_report_files(report, 3); /* prtf, convergence, slices */
    cr_expect(strstr(html, "Phasing of r&amp;&lt;b&gt;.cxi</h1>") != NULL, "title not escaped");
    cr_expect(strstr(html, "<title>r&amp;&lt;b&gt;.cxi \u2013 braggcdi phase</title>") != NULL,
              "page title (core/html's head)");
    cr_expect(strstr(html, "r&<b>") == NULL, "a name went through unescaped");
    cr_expect(strstr(html, "src=\"prtf.png\"") && strstr(html, "resolution (nm)"),
              "combined figures");
    int rows = 0; /* the "combined" cell of a ranking row is followed by the correlation's */
    for (const char *at = strstr(html, "<td>yes</td><td>"); at;
         at = strstr(at + 1, "<td>yes</td><td>"))
        ++rows;
    cr_expect_eq(rows, 2, "both kept runs marked as combined: %s", html);
    free(html);
    /* one run kept: no PRTF panel (rendered in chromium: its folder's name needs no quoting in
     * a URL); report=false: no report */
    snprintf(args, sizeof args,
             "phase %s recipe='100*HIO+50*ER' --device cpu fft_planner=estimate -q -o %s/one.cxi",
             prepared, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(report, sizeof report, "%s/one_report", dir);
    html = check_report_files(report, 2);
    cr_expect(strstr(html, "prtf.png") == NULL);
    free(html);
    check_report_in_chromium(report);
    snprintf(args, sizeof args,
             "phase %s recipe='100*HIO+50*ER' report=false --device cpu fft_planner=estimate -q "
             "-o %s/none.cxi",
             prepared, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(report, sizeof report, "%s/none_report", dir);
    cr_expect(!tu_file_exists(report), "report=false wrote a report");
    tu_remove_tree(dir);
    free(dir);
}

static void expect_fail(const char *dir, const char *input, const char *keys, const char *needle)
{
    char args[2048], *out = NULL, path[600];
    snprintf(args, sizeof args, "phase %s %s -o %s/out.cxi", input, keys, dir);
    int rc = tu_run_braggcdi(args, &out);
    cr_expect_neq(rc, 0, "'%s' succeeded", keys);
    cr_expect(strstr(out, needle) != NULL, "'%s': message lacks '%s': %s", keys, needle, out);
    snprintf(path, sizeof path, "%s/out.cxi", dir);
    cr_expect(!tu_file_exists(path), "'%s' left a result", keys);
    free(out);
}

Test(phase_cli, bad_input_clear_error_no_result, .timeout = 60)
{
    char *dir = tu_make_temp_dir("phase-bad");
    char good[512], nan_file[512], zero_file[512];
    snprintf(good, sizeof good, "%s/good.cxi", dir);
    snprintf(nan_file, sizeof nan_file, "%s/nan.cxi", dir);
    snprintf(zero_file, sizeof zero_file, "%s/zero.cxi", dir);
    write_prepared(good, 0);
    write_prepared(nan_file, 1);
    write_prepared(zero_file, 2);
    expect_fail(dir, good, "recipe='100*HIO + 3*(ER'", "column");
    expect_fail(dir, good, "recipe=100*HOI", "HOI");
    expect_fail(dir, good, "recipes=100*ER", "unknown key 'recipes'");
    expect_fail(dir, good, "metric=beauty", "beauty");
    expect_fail(dir, good, "keep=5 runs=2", "keep");
    expect_fail(dir, nan_file, "recipe=10*ER", "not finite");
    expect_fail(dir, zero_file, "recipe=10*ER", "positive intensity");
    expect_fail(dir, good,
                "recipe=30*HIO shrinkwrap_period=10 shrinkwrap_threshold=0.99 "
                "support_min_fraction=0.2 support_max_restarts=1",
                "support collapse");
    expect_fail(dir, "/nonexistent/prepared.cxi", "", "/nonexistent/prepared.cxi");
    expect_fail(dir, good, "--device cuda:7", "cuda:7");
    tu_remove_tree(dir);
    free(dir);
}
