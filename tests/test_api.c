/* SPDX-License-Identifier: BSD-3-Clause */
/* The public entry points a library user starts with (bcdi/backend.h, bcdi_phasing_data_read,
 * bcdi_geometry_read, bcdi_version), called as a user would: through the umbrella header, on a
 * file made by the braggcdi executable, checked against HDF5 read directly. */
#include "backend/backend.h" /* only to see that the options reached the backend */
#include "bcdi/bcdi.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK(x) cr_assert_eq((x), BCDI_OK, "%s", bcdi_last_error())

static const char *stack_path(void)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/datasets/nmc811-003-sim/stack.nxs", BCDI_SOURCE_DIR);
    return path;
}

/* The embedded dataset prepared into a 32^3 box by the executable. */
static char *prepare_small(const char *dir)
{
    char *path = malloc(4200), cmd[8400], *out = NULL;
    snprintf(path, 4200, "%s/prepared.cxi", dir);
    snprintf(cmd, sizeof cmd, "prepare %s box=32,32,32 -q -o %s", stack_path(), path);
    cr_assert_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    return path;
}

static void h5_read(const char *path, const char *dataset, hid_t type, void *out)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    cr_assert_geq(d, 0, "%s has no %s", path, dataset);
    cr_assert_geq(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), 0);
    H5Dclose(d);
    H5Fclose(file);
}

static int is_zeroed(const bcdi_phasing_data *d)
{
    return d->shape[0] == 0 && d->shape[1] == 0 && d->shape[2] == 0 && !d->intensity && !d->mask &&
           !d->support_file;
}

Test(api, versions_agree)
{
    cr_assert_str_eq(bcdi_version(), BCDI_VERSION_STRING);
    cr_assert_str_eq(bcdi_version(), BCDI_VERSION); /* the project's version, from CMake */
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", BCDI_VERSION_MAJOR, BCDI_VERSION_MINOR,
             BCDI_VERSION_PATCH);
    cr_assert_str_eq(bcdi_version(), expected);
}

Test(api, backend_options_and_queries)
{
    bcdi_backend_opts opts;
    memset(&opts, 0xff, sizeof opts);
    bcdi_backend_default_opts(&opts);
    cr_assert_eq(opts.fft_measure, 0, "the default must be the deterministic planner");

    bcdi_backend *be = NULL;
    OK(bcdi_backend_open_opts("cpu", NULL, &be));
    cr_assert_eq(bcdi_backend_get_kind(be), BCDI_BACKEND_CPU);
    cr_assert_str_eq(bcdi_backend_kind_name(bcdi_backend_get_kind(be)), "cpu");
    cr_assert_str_eq(bcdi_backend_kind_name(BCDI_BACKEND_CUDA), "cuda");
    cr_assert_eq(strncmp(bcdi_backend_device_name(be), "CPU", 3), 0, "%s",
                 bcdi_backend_device_name(be));
    cr_assert_eq(bcdi_backend_device_index(be), -1);
    cr_assert_geq(bcdi_backend_threads(be), 1);
    cr_assert_eq(be->fft_measure, 0);
    bcdi_backend_close(be);

    opts.fft_measure = 1;
    OK(bcdi_backend_open_opts("cpu", &opts, &be));
    cr_assert_eq(be->fft_measure, 1, "the option did not reach the backend");
    bcdi_backend_close(be);

    opts.fft_measure = 2;
    be = (bcdi_backend *)&opts; /* must come back NULL */
    cr_assert_eq(bcdi_backend_open_opts("cpu", &opts, &be), BCDI_ERR_INVALID_ARG);
    cr_assert_null(be);
    cr_assert(strstr(bcdi_last_error(), "fft_measure is 2"), "%s", bcdi_last_error());

    cr_assert_eq(bcdi_backend_open("gpu", &be), BCDI_ERR_INVALID_ARG);
    cr_assert_null(be);
    cr_assert(strstr(bcdi_last_error(), "'gpu'"), "%s", bcdi_last_error());
    if (!bcdi_cuda_built()) {
        cr_assert_eq(bcdi_cuda_device_count(), 0);
        cr_assert_eq(bcdi_backend_open("cuda", &be), BCDI_ERR_UNSUPPORTED);
    }
    bcdi_backend_close(NULL);
}

Test(api, default_opts_are_the_documented_defaults)
{
    bcdi_phasing_params a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0xff, sizeof b);
    bcdi_phasing_default_opts(&a);
    bcdi_phasing_default(&b);
    cr_assert_str_eq(a.recipe, "400*HIO + 200*RAAR + 200*ER"); /* as `phase --help` lists */
    cr_assert_str_eq(a.recipe, b.recipe);
    cr_assert_eq(a.beta, b.beta);
    cr_assert_eq(a.runs, 1);
    cr_assert_eq(a.runs, b.runs);
    cr_assert_eq(a.keep, b.keep);
    cr_assert_eq(a.seed, b.seed);
    cr_assert_eq(a.metric, b.metric);
    cr_assert_eq(a.support_init, b.support_init);
    cr_assert_eq(a.shrinkwrap_period, b.shrinkwrap_period);
}

Test(api, phasing_data_and_geometry_from_a_prepared_file)
{
    char *dir = tu_make_temp_dir("api");
    char *path = prepare_small(dir);

    bcdi_phasing_data data;
    memset(&data, 0xff, sizeof data);
    OK(bcdi_phasing_data_read(path, &data));
    cr_assert(data.shape[0] == 32 && data.shape[1] == 32 && data.shape[2] == 32,
              "shape %zu %zu %zu", data.shape[0], data.shape[1], data.shape[2]);
    cr_assert_not_null(data.intensity);
    cr_assert_not_null(data.mask);
    cr_assert_null(data.support_file);
    size_t n = 32 * 32 * 32, masked = 0;
    float *intensity = malloc(n * sizeof *intensity);
    uint8_t *mask = malloc(n);
    h5_read(path, "entry_1/instrument_1/detector_1/data", H5T_NATIVE_FLOAT, intensity);
    h5_read(path, "entry_1/instrument_1/detector_1/mask", H5T_NATIVE_UINT8, mask);
    cr_assert_arr_eq(data.intensity, intensity, n * sizeof *intensity);
    cr_assert_arr_eq(data.mask, mask, n);
    for (size_t i = 0; i < n; ++i)
        masked += mask[i] != 0;
    cr_assert_gt(masked, 0, "the embedded dataset has dead pixels: some voxels are masked");
    bcdi_phasing_data_free(&data);
    cr_assert(is_zeroed(&data));
    bcdi_phasing_data_free(&data); /* twice is harmless */
    bcdi_phasing_data_free(NULL);

    /* the geometry prepare stored: 11 keV, and the real-space basis of the 32^3 box */
    bcdi_geometry g;
    OK(bcdi_geometry_read(path, &g));
    cr_assert_eq(g.energy_kev, 11.0);
    cr_assert(g.shape[0] == 32 && g.shape[1] == 32 && g.shape[2] == 32);
    /* along detector rows λD/(N p) (docs/physics.md §2): 1.12713 Å · 2.9 m / (32 · 55 µm) */
    double expected_row = 12.3984e-10 / 11.0 * 2.9 / (32 * 55e-6);
    cr_assert_float_eq(g.voxel_size_m[1], expected_row, 1e-3 * expected_row, "%g",
                       g.voxel_size_m[1]);

    free(intensity);
    free(mask);
    free(path);
    tu_remove_tree(dir);
    free(dir);
}

Test(api, reading_errors_leave_nothing_allocated)
{
    bcdi_phasing_data data;
    memset(&data, 0xff, sizeof data);
    cr_assert_eq(bcdi_phasing_data_read("/nonexistent/prepared.cxi", &data), BCDI_ERR_IO);
    cr_assert(strstr(bcdi_last_error(), "/nonexistent/prepared.cxi"), "%s", bcdi_last_error());
    cr_assert(is_zeroed(&data));
    /* a NeXus stack is HDF5 but not prepared data */
    memset(&data, 0xff, sizeof data);
    cr_assert_eq(bcdi_phasing_data_read(stack_path(), &data), BCDI_ERR_FORMAT);
    cr_assert(is_zeroed(&data));
    bcdi_geometry g;
    cr_assert_eq(bcdi_geometry_read(stack_path(), &g), BCDI_ERR_FORMAT);
    cr_assert(strstr(bcdi_last_error(), "bcdi_geometry"), "%s", bcdi_last_error());
    cr_assert_eq(bcdi_phasing_data_read(NULL, &data), BCDI_ERR_INVALID_ARG);
    cr_assert_eq(bcdi_geometry_read(stack_path(), NULL), BCDI_ERR_INVALID_ARG);
}
