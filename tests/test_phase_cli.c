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

/* A 32^3 prepared file with Poisson counts (1e8 photons) and a masked chip-gap-like plane. */
static void write_prepared(const char *path, int poison)
{
    bcdi_simulate_params sp;
    bcdi_simulate_default(&sp);
    sp.shape[0] = sp.shape[1] = sp.shape[2] = 32;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    cr_assert_eq(bcdi_simulate_geometry(&sp, &g), BCDI_OK);
    cr_assert_eq(bcdi_simulate_make_object(&sp, &g, &obj), BCDI_OK);
    size_t n = 32 * 32 * 32;
    float *I = malloc(n * sizeof *I);
    uint8_t *mask = calloc(n, 1);
    bcdi_simulate_intensity(NULL, obj.shape, obj.object, I);
    double total = 0;
    for (size_t i = 0; i < n; ++i)
        total += I[i];
    for (size_t i = 0; i < n; ++i) {
        I[i] = (float)bcdi_simulate_poisson(3, 1, i, I[i] * 1e8 / total);
        if (i % 32 == 21) mask[i] = 1, I[i] = 0; /* a masked column plane */
    }
    if (poison == 1) I[1234] = NAN;
    if (poison == 2) memset(I, 0, n * sizeof *I);
    bcdi_h5_writer *w;
    cr_assert_eq(bcdi_cxi_create(path, &w), BCDI_OK);
    cr_assert_eq(bcdi_cxi_write_prepared(w, obj.shape, I, mask, &g, 0), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_assert_eq(bcdi_h5_commit(w), BCDI_OK);
    free(I);
    free(mask);
    bcdi_simulate_object_free(&obj);
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
    free(out);
    const char *names[] = {"result.cxi", "result-run1.cxi", "result-run2.cxi"};
    for (int k = 0; k < 3; ++k) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        cr_expect(tu_file_exists(path), "%s missing", names[k]);
    }
    cr_expect_eq(tu_count_entries(dir), 4, "prepared + 3 results, no temporaries");
    snprintf(path, sizeof path, "%s/result.cxi", dir);
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK);
    double fourier, rank, elapsed;
    cr_assert_eq(
        bcdi_h5_read_double(r, "entry_1/image_1/process_1/results/fourier_error", &fourier),
        BCDI_OK);
    cr_expect(fourier > 0 && fourier < 0.01, "Fourier error %g (measured ~4e-4)", fourier);
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
    cr_expect_eq(dims[1], 7);
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
