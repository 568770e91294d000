/* SPDX-License-Identifier: BSD-3-Clause */
/* File I/O: HDF5 layer, NeXus stacks, CXI files, TIFF stacks, and the real APS gold scan.
 * (Over 700 lines: one Criterion suite per file format would split fixtures that the formats
 * share; the suites inside are grouped by format.)
 */
#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/describe.h"
#include "io/hdf5.h"
#include "io/json.h"
#include "io/nexus.h"
#include "io/tiff_io.h"

#include <criterion/criterion.h>
#include <hdf5.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers: a private temp folder per test, removed afterwards ---- */

static char tmpdir[256];

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bcdi_test_io_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    rm_tree(tmpdir);
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Number of entries in `dir` whose name starts with `prefix` ("" = all). */
static int count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d) closedir(d);
    return n;
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

#define OK(expr)                                                                                   \
    do {                                                                                           \
        bcdi_status st_ = (expr);                                                                  \
        cr_assert_eq(st_, BCDI_OK, "%s -> %s: %s", #expr, bcdi_strerror(st_), bcdi_last_error());  \
    } while (0)

static void test_geometry(bcdi_geometry *g)
{
    memset(g, 0, sizeof *g);
    g->energy_kev = 9.0;
    g->wavelength_m = 12.398419843320026e-10 / 9.0;
    g->distance_m = 0.5;
    g->pixel_size_m[0] = 55e-6;
    g->pixel_size_m[1] = 56e-6;
    g->angles = BCDI_DETECTOR_DELTA_GAMMA;
    g->two_theta_deg = 34.3;
    g->delta_deg = 32.174;
    g->gamma_deg = 12.6346;
    g->rocking_step_deg = 0.005;
    g->rocking_axis[1] = 1.0;
    g->row_sign = -1;
    g->d_spacing_m = 2.356e-10;
    g->hkl[0] = 1;
    g->hkl[1] = -1;
    g->hkl[2] = 1;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            g->q_step[i][j] = 1e5 * (i * 3 + j + 1) - 3.3e4;
            g->real_basis[i][j] = 1e-8 * (j * 3 - i) + 1.5e-9;
        }
    g->voxel_size_m[0] = 2.3e-8;
    g->voxel_size_m[1] = 2.4e-8;
    g->voxel_size_m[2] = 2.7e-8;
    g->q_bragg[0] = 1.1e10;
    g->q_bragg[1] = -2.2e9;
    g->q_bragg[2] = 3.3e8;
    g->shape[0] = 7;
    g->shape[1] = 5;
    g->shape[2] = 3;
}

TestSuite(io, .init = setup, .fini = teardown);

/* ---- HDF5 layer ---- */

Test(io, h5_round_trip_every_dtype)
{
    const char *f = tpath("types.h5");
    size_t dims[3] = {3, 4, 5}, n = 60;
    uint8_t u8[60];
    uint16_t u16[60];
    uint32_t u32[60];
    int32_t i32[60];
    float f32[60];
    double f64[60];
    bcdi_cf cf[60];
    for (size_t i = 0; i < n; i++) {
        u8[i] = (uint8_t)(i * 3);
        u16[i] = (uint16_t)(i * 1000 + 7);
        u32[i] = (uint32_t)(i * 70000000u + 1);
        i32[i] = (int32_t)i * -12345;
        f32[i] = (float)i * 0.25f - 3.0f;
        f64[i] = (double)i * 1e-9 + 1e5;
        cf[i].re = (float)i;
        cf[i].im = -(float)i * 0.5f;
    }
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    OK(bcdi_h5_write(w, "a/u8", BCDI_DT_U8, 3, dims, u8, 0));
    OK(bcdi_h5_write(w, "a/u16", BCDI_DT_U16, 3, dims, u16, 4));
    OK(bcdi_h5_write(w, "a/u32", BCDI_DT_U32, 3, dims, u32, 0));
    OK(bcdi_h5_write(w, "b/i32", BCDI_DT_I32, 3, dims, i32, 9));
    OK(bcdi_h5_write(w, "b/f32", BCDI_DT_F32, 3, dims, f32, 1));
    OK(bcdi_h5_write(w, "b/f64", BCDI_DT_F64, 3, dims, f64, 0));
    OK(bcdi_h5_write(w, "c/cf32", BCDI_DT_CF32, 3, dims, cf, 6));
    OK(bcdi_h5_write_double(w, "s/energy", 9.5, "keV"));
    OK(bcdi_h5_write_int(w, "s/count", -123456789L));
    OK(bcdi_h5_write_string(w, "s/name", "Au (111) \xc3\xa5ngstr\xc3\xb6m"));
    OK(bcdi_h5_commit(w));

    bcdi_h5_reader *r;
    OK(bcdi_h5_open(f, &r));
    uint8_t ru8[60];
    uint16_t ru16[60];
    uint32_t ru32[60];
    int32_t ri32[60];
    float rf32[60];
    double rf64[60];
    bcdi_cf rcf[60];
    OK(bcdi_h5_read(r, "a/u8", BCDI_DT_U8, ru8, n));
    OK(bcdi_h5_read(r, "a/u16", BCDI_DT_U16, ru16, n));
    OK(bcdi_h5_read(r, "a/u32", BCDI_DT_U32, ru32, n));
    OK(bcdi_h5_read(r, "b/i32", BCDI_DT_I32, ri32, n));
    OK(bcdi_h5_read(r, "b/f32", BCDI_DT_F32, rf32, n));
    OK(bcdi_h5_read(r, "b/f64", BCDI_DT_F64, rf64, n));
    OK(bcdi_h5_read(r, "c/cf32", BCDI_DT_CF32, rcf, n));
    cr_assert_arr_eq(ru8, u8, sizeof u8);
    cr_assert_arr_eq(ru16, u16, sizeof u16);
    cr_assert_arr_eq(ru32, u32, sizeof u32);
    cr_assert_arr_eq(ri32, i32, sizeof i32);
    cr_assert_arr_eq(rf32, f32, sizeof f32);
    cr_assert_arr_eq(rf64, f64, sizeof f64);
    cr_assert_arr_eq(rcf, cf, sizeof cf);

    /* conversion on read: uint16 -> float64, int32 -> float32 */
    OK(bcdi_h5_read(r, "a/u16", BCDI_DT_F64, rf64, n));
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(rf64[i], (double)u16[i]);
    OK(bcdi_h5_read(r, "b/i32", BCDI_DT_F32, rf32, n));
    cr_assert_eq(rf32[59], (float)i32[59]);

    int rank;
    size_t d[8];
    bcdi_dtype stored;
    OK(bcdi_h5_shape(r, "c/cf32", &rank, d, &stored));
    cr_assert_eq(rank, 3);
    cr_assert(d[0] == 3 && d[1] == 4 && d[2] == 5);
    cr_assert_eq(stored, BCDI_DT_CF32);
    OK(bcdi_h5_shape(r, "a/u16", &rank, d, &stored));
    cr_assert_eq(stored, BCDI_DT_U16);

    double v;
    OK(bcdi_h5_read_double(r, "s/energy", &v));
    cr_assert_eq(v, 9.5);
    char units[16];
    OK(bcdi_h5_read_attr_string(r, "s/energy", "units", units, sizeof units));
    cr_assert_str_eq(units, "keV");
    OK(bcdi_h5_read_double(r, "s/count", &v));
    cr_assert_eq(v, -123456789.0);
    char s[64];
    OK(bcdi_h5_read_string(r, "s/name", s, sizeof s));
    cr_assert_str_eq(s, "Au (111) \xc3\xa5ngstr\xc3\xb6m");

    /* hyperslab: frame 1, rows 2..3 */
    size_t start[3] = {1, 2, 0}, count[3] = {1, 2, 5};
    float slab[10];
    OK(bcdi_h5_read_slab(r, "b/f32", BCDI_DT_F32, start, count, slab));
    for (int i = 0; i < 10; i++)
        cr_assert_eq(slab[i], f32[20 + 10 + i]);

    /* capacity too small: error names both sizes; complex into real refused */
    cr_assert_neq(bcdi_h5_read(r, "b/f32", BCDI_DT_F32, rf32, 59), BCDI_OK);
    cr_assert(strstr(bcdi_last_error(), "60") && strstr(bcdi_last_error(), "59"), "%s",
              bcdi_last_error());
    cr_assert_eq(bcdi_h5_read(r, "c/cf32", BCDI_DT_F32, rf32, n), BCDI_ERR_FORMAT);
    cr_assert_eq(bcdi_h5_read_string(r, "b/f32", s, sizeof s), BCDI_ERR_FORMAT);
    bcdi_h5_close(r);
}

Test(io, h5_compound_members_are_r_and_i)
{
    const char *f = tpath("cplx.h5");
    size_t n = 4;
    bcdi_cf c[4] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    OK(bcdi_h5_write(w, "z", BCDI_DT_CF32, 1, &n, c, 0));
    OK(bcdi_h5_commit(w));
    /* check with the raw HDF5 API what numpy/h5py will see */
    hid_t file = H5Fopen(f, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    hid_t d = H5Dopen2(file, "z", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    cr_assert_eq(H5Tget_class(t), H5T_COMPOUND);
    cr_assert_eq(H5Tget_nmembers(t), 2);
    cr_assert_eq(H5Tget_size(t), 8u);
    char *m0 = H5Tget_member_name(t, 0), *m1 = H5Tget_member_name(t, 1);
    cr_assert_str_eq(m0, "r");
    cr_assert_str_eq(m1, "i");
    cr_assert_eq(H5Tget_member_offset(t, 1), 4u);
    hid_t mt0 = H5Tget_member_type(t, 0);
    cr_assert(H5Tequal(mt0, H5T_IEEE_F32LE) > 0);
    H5free_memory(m0);
    H5free_memory(m1);
    H5Tclose(mt0);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(file);
}

Test(io, h5_commit_renames_and_leaves_no_temporary)
{
    const char *f = tpath("out.cxi");
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    const char *tmp = bcdi_h5_writer_temp_path(w);
    cr_assert(strstr(tmp, "/.out.cxi.braggcdi-tmp-"), "temporary '%s'", tmp);
    cr_assert_eq(strlen(strstr(tmp, "-tmp-") + 5), 6, "six random characters: '%s'", tmp);
    cr_assert(file_exists(tmp), "temporary not created");
    cr_assert_not(file_exists(f), "final name exists before commit");
    OK(bcdi_h5_write_int(w, "x", 1));
    OK(bcdi_h5_commit(w));
    cr_assert(file_exists(f));
    cr_assert_eq(count_entries(tmpdir, "."), 0, "a temporary was left behind");
    cr_assert_eq(count_entries(tmpdir, ""), 1);
}

Test(io, h5_abort_leaves_nothing)
{
    const char *f = tpath("aborted.h5");
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", bcdi_h5_writer_temp_path(w));
    float x[3] = {1, 2, 3};
    size_t n = 3;
    OK(bcdi_h5_write(w, "x", BCDI_DT_F32, 1, &n, x, 0));
    bcdi_h5_abort(w);
    cr_assert_not(file_exists(f));
    cr_assert_not(file_exists(tmp));
    cr_assert_eq(count_entries(tmpdir, ""), 0);
    bcdi_h5_abort(NULL); /* no-op */
}

Test(io, h5_failed_commit_removes_temporary)
{
    /* the final name becomes a non-empty folder while writing: rename() must fail */
    const char *f = tpath("taken");
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    OK(bcdi_h5_write_int(w, "x", 7));
    cr_assert_eq(mkdir(f, 0755), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/keep", f);
    FILE *k = fopen(inner, "w");
    cr_assert_not_null(k);
    fclose(k);
    cr_assert_eq(bcdi_h5_commit(w), BCDI_ERR_IO);
    cr_assert(strstr(bcdi_last_error(), "taken"), "%s", bcdi_last_error());
    cr_assert_eq(count_entries(tmpdir, "."), 0, "temporary left after failed commit");
    /* creating a file where a folder is, or in a missing folder, fails up front */
    cr_assert_eq(bcdi_h5_create(f, &w), BCDI_ERR_IO);
    cr_assert_null(w);
    cr_assert_eq(bcdi_h5_create(tpath("no/such/dir/x.h5"), &w), BCDI_ERR_IO);
    cr_assert(strstr(bcdi_last_error(), "does not exist"), "%s", bcdi_last_error());
}

Test(io, h5_missing_dataset_lists_existing)
{
    const char *f = tpath("list.h5");
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    OK(bcdi_h5_write_double(w, "entry/instrument/energy_here", 1.0, "keV"));
    OK(bcdi_h5_commit(w));
    bcdi_h5_reader *r;
    OK(bcdi_h5_open(f, &r));
    double v;
    cr_assert_eq(bcdi_h5_read_double(r, "entry/nothing", &v), BCDI_ERR_FORMAT);
    const char *m = bcdi_last_error();
    cr_assert(strstr(m, "entry/nothing"), "%s", m);
    cr_assert(strstr(m, "entry/instrument/energy_here"), "%s", m);
    cr_assert(strstr(m, "list.h5"), "%s", m);
    cr_assert_eq(bcdi_h5_exists(r, "entry/instrument"), 1);
    cr_assert_eq(bcdi_h5_exists(r, "entry/instrument/nope/deeper"), 0);
    bcdi_h5_close(r);
}

Test(io, h5_open_errors_name_the_file)
{
    bcdi_h5_reader *r = NULL;
    const char *missing = tpath("does-not-exist.h5");
    cr_assert_eq(bcdi_h5_open(missing, &r), BCDI_ERR_IO);
    cr_assert(strstr(bcdi_last_error(), "does-not-exist.h5"), "%s", bcdi_last_error());

    const char *text = tpath("text.h5");
    FILE *t = fopen(text, "w");
    fputs("this is not HDF5\n", t);
    fclose(t);
    cr_assert_eq(bcdi_h5_open(text, &r), BCDI_ERR_FORMAT);
    cr_assert(strstr(bcdi_last_error(), "text.h5") && strstr(bcdi_last_error(), "not an HDF5"),
              "%s", bcdi_last_error());

    /* truncated: a real file cut to half its size */
    const char *f = tpath("cut.h5");
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    static float big[64 * 64 * 8];
    size_t dims[3] = {8, 64, 64};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        big[i] = (float)i;
    OK(bcdi_h5_write(w, "entry/data", BCDI_DT_F32, 3, dims, big, 0));
    OK(bcdi_h5_commit(w));
    struct stat sb;
    cr_assert_eq(stat(f, &sb), 0);
    cr_assert_eq(truncate(f, sb.st_size / 2), 0);
    bcdi_status st = bcdi_h5_open(f, &r);
    if (st == BCDI_OK) { /* opening may succeed lazily; the read must then fail cleanly */
        st = bcdi_h5_read(r, "entry/data", BCDI_DT_F32, big, sizeof big / sizeof big[0]);
        bcdi_h5_close(r);
    }
    cr_assert(st == BCDI_ERR_FORMAT || st == BCDI_ERR_IO, "status %d", st);
    cr_assert(strstr(bcdi_last_error(), "cut.h5"), "%s", bcdi_last_error());
}

Test(io, h5_piecewise_dataset_and_links)
{
    const char *f = tpath("piece.h5");
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(f, &w));
    size_t dims[3] = {4, 3, 2}, chunk[3] = {1, 3, 2};
    OK(bcdi_h5_create_dataset(w, "g/stack", BCDI_DT_U16, 3, dims, chunk, 3));
    for (size_t k = 0; k < 4; k++) {
        uint16_t fr[6];
        for (int i = 0; i < 6; i++)
            fr[i] = (uint16_t)(100 * k + (size_t)i);
        size_t start[3] = {k, 0, 0}, count[3] = {1, 3, 2};
        OK(bcdi_h5_write_slab(w, "g/stack", BCDI_DT_U16, start, count, fr));
    }
    OK(bcdi_h5_link_soft(w, "view/data", "g/stack"));
    OK(bcdi_h5_group(w, "view", "NXdata"));
    OK(bcdi_h5_attr_string(w, "view", "signal", "data"));
    OK(bcdi_h5_commit(w));
    bcdi_h5_reader *r;
    OK(bcdi_h5_open(f, &r));
    float all[24];
    OK(bcdi_h5_read(r, "view/data", BCDI_DT_F32, all, 24));
    cr_assert_eq(all[0], 0.0f);
    cr_assert_eq(all[23], 305.0f);
    char nx[32];
    OK(bcdi_h5_read_attr_string(r, "view", "NX_class", nx, sizeof nx));
    cr_assert_str_eq(nx, "NXdata");
    char list[1024];
    OK(bcdi_h5_list(r, list, sizeof list));
    cr_assert(strstr(list, "g/stack (4 x 3 x 2, uint16)"), "%s", list);
    bcdi_h5_close(r);
}

/* ---- NeXus ---- */

static void check_units(bcdi_h5_reader *r, const char *path, const char *want)
{
    char u[32];
    bcdi_status st = bcdi_h5_read_attr_string(r, path, "units", u, sizeof u);
    cr_assert_eq(st, BCDI_OK, "%s: %s", path, bcdi_last_error());
    cr_assert_str_eq(u, want, "units of %s", path);
}

static void check_class(bcdi_h5_reader *r, const char *path, const char *want)
{
    char u[32];
    bcdi_status st = bcdi_h5_read_attr_string(r, path, "NX_class", u, sizeof u);
    cr_assert_eq(st, BCDI_OK, "%s: %s", path, bcdi_last_error());
    cr_assert_str_eq(u, want, "NX_class of %s", path);
}

static void check_shape(bcdi_h5_reader *r, const char *path, int rank, size_t a, size_t b, size_t c)
{
    int rk;
    size_t d[8];
    bcdi_status st = bcdi_h5_shape(r, path, &rk, d, NULL);
    cr_assert_eq(st, BCDI_OK, "%s: %s", path, bcdi_last_error());
    cr_assert_eq(rk, rank, "rank of %s", path);
    size_t want[3] = {a, b, c};
    for (int i = 0; i < rank; i++)
        cr_assert_eq(d[i], want[i], "axis %d of %s", i, path);
}

Test(io, nexus_stack_layout)
{
    const char *f = tpath("stack.nxs");
    size_t F = 5, R = 6, C = 7;
    uint32_t *frames = malloc(F * R * C * sizeof *frames);
    for (size_t i = 0; i < F * R * C; i++)
        frames[i] = (uint32_t)(i * 1013u);
    double theta[5] = {-0.01, -0.005, 0.0, 0.005, 0.01};
    uint32_t mask[42] = {0};
    mask[3] = BCDI_PIXEL_GAP;
    mask[40] = BCDI_PIXEL_DEAD;
    bcdi_geometry g;
    test_geometry(&g);
    g.angles = BCDI_DETECTOR_TWO_THETA;
    const char *keys[2] = {"seed", "shape/kind"}, *vals[2] = {"42", "octahedron"};
    bcdi_nexus_stack s = {.dims = {F, R, C},
                          .type = BCDI_DT_U32,
                          .frames = frames,
                          .rocking_deg = theta,
                          .pixel_mask = mask,
                          .geometry = &g,
                          .deflate_level = 4,
                          .config_keys = keys,
                          .config_values = vals,
                          .config_count = 2};
    OK(bcdi_nexus_write_stack(NULL, f, &s));
    cr_assert_eq(count_entries(tmpdir, "."), 0);

    bcdi_h5_reader *r;
    OK(bcdi_h5_open(f, &r));
    check_class(r, "entry1", "NXentry");
    check_class(r, "entry1/instrument", "NXinstrument");
    check_class(r, "entry1/instrument/excalibur", "NXdetector");
    check_class(r, "entry1/instrument/t1_theta", "NXpositioner");
    check_class(r, "entry1/instrument/monochromator", "NXmonochromator");
    check_class(r, "entry1/sample", "NXsample");
    check_class(r, "entry1/data", "NXdata");
    check_shape(r, BCDI_NEXUS_DATA_PATH, 3, F, R, C);
    check_shape(r, BCDI_NEXUS_MASK_PATH, 2, R, C, 0);
    check_shape(r, BCDI_NEXUS_MOTOR_PATH, 1, F, 0, 0);
    check_shape(r, "entry1/sample/reflection/hkl", 1, 3, 0, 0);
    check_shape(r, "entry1/data/data", 3, F, R, C);
    check_shape(r, "entry1/data/t1_theta", 1, F, 0, 0);
    check_units(r, BCDI_NEXUS_MOTOR_PATH, "deg");
    check_units(r, "entry1/instrument/excalibur/distance", "m");
    check_units(r, "entry1/instrument/excalibur/x_pixel_size", "m");
    check_units(r, "entry1/instrument/excalibur/y_pixel_size", "m");
    check_units(r, "entry1/instrument/excalibur/polar_angle", "deg");
    check_units(r, "entry1/instrument/monochromator/energy", "keV");
    check_units(r, "entry1/instrument/monochromator/wavelength", "m");
    check_units(r, "entry1/sample/reflection/d_spacing", "m");
    char sig[16];
    OK(bcdi_h5_read_attr_string(r, "entry1/data", "signal", sig, sizeof sig));
    cr_assert_str_eq(sig, "data");
    char val[32];
    OK(bcdi_h5_read_string(r, "entry1/simulation/seed", val, sizeof val));
    cr_assert_str_eq(val, "42");
    OK(bcdi_h5_read_string(r, "entry1/simulation/shape.kind", val, sizeof val));
    cr_assert_str_eq(val, "octahedron");

    uint32_t *back = malloc(F * R * C * sizeof *back);
    OK(bcdi_h5_read(r, BCDI_NEXUS_DATA_PATH, BCDI_DT_U32, back, F * R * C));
    cr_assert_arr_eq(back, frames, F * R * C * sizeof *back);
    uint32_t mback[42];
    OK(bcdi_h5_read(r, BCDI_NEXUS_MASK_PATH, BCDI_DT_U32, mback, 42));
    cr_assert_arr_eq(mback, mask, sizeof mask);

    /* one chunk per frame, deflated */
    hid_t file = H5Fopen(f, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, BCDI_NEXUS_DATA_PATH, H5P_DEFAULT);
    hid_t pl = H5Dget_create_plist(d);
    hsize_t ch[3];
    cr_assert_eq(H5Pget_chunk(pl, 3, ch), 3);
    cr_assert(ch[0] == 1 && ch[1] == R && ch[2] == C);
    cr_assert(H5Pget_nfilters(pl) >= 1);
    H5Pclose(pl);
    H5Dclose(d);
    H5Fclose(file);

    bcdi_geometry back_g;
    memset(&back_g, 0, sizeof back_g);
    OK(bcdi_nexus_read_geometry(r, &back_g));
    cr_assert_float_eq(back_g.energy_kev, 9.0, 1e-12);
    cr_assert_float_eq(back_g.distance_m, 0.5, 1e-12);
    cr_assert_float_eq(back_g.pixel_size_m[0], 55e-6, 1e-15);
    cr_assert_float_eq(back_g.pixel_size_m[1], 56e-6, 1e-15);
    cr_assert_float_eq(back_g.two_theta_deg, 34.3, 1e-12);
    cr_assert_float_eq(back_g.d_spacing_m, 2.356e-10, 1e-20);
    cr_assert_float_eq(back_g.rocking_step_deg, 0.005, 1e-12);
    cr_assert(back_g.hkl[0] == 1 && back_g.hkl[1] == -1 && back_g.hkl[2] == 1);
    bcdi_h5_close(r);

    /* describe recognises the layout */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    OK(bcdi_io_describe_hdf5(f, mem));
    fclose(mem);
    cr_assert(strstr(text, "NeXus rocking stack (I13-1 layout): 5 frames of 6 x 7, uint32"), "%s",
              text);
    cr_assert(strstr(text, "from -0.01 to 0.01 deg"), "%s", text);
    cr_assert(strstr(text, "9 keV"), "%s", text);
    cr_assert(strstr(text, "NXdetector"), "%s", text);
    free(text);
    free(frames);
    free(back);
}

Test(io, nexus_rejects_bad_input_and_leaves_nothing)
{
    const char *f = tpath("bad.nxs");
    float fr[8] = {0};
    double th[2] = {0, 1};
    bcdi_nexus_stack s = {.dims = {2, 2, 2}, .type = BCDI_DT_CF32, .frames = fr, .rocking_deg = th};
    cr_assert_eq(bcdi_nexus_write_stack(NULL, f, &s), BCDI_ERR_INVALID_ARG);
    cr_assert_eq(count_entries(tmpdir, ""), 0);
}

/* ---- CXI ---- */

Test(io, cxi_object_round_trip)
{
    const char *f = tpath("result.cxi");
    size_t shape[3] = {4, 5, 6}, n = 120;
    bcdi_cf *obj = malloc(n * sizeof *obj);
    uint8_t *sup = malloc(n);
    for (size_t i = 0; i < n; i++) {
        obj[i].re = cosf((float)i);
        obj[i].im = sinf((float)i);
        sup[i] = (i % 3) == 0;
    }
    bcdi_h5_writer *w;
    OK(bcdi_cxi_create(f, &w));
    OK(bcdi_cxi_write_object(w, shape, obj, sup, 4));
    const char *keys[2] = {"algorithm", "beta"}, *vals[2] = {"20*ER+180*HIO", "0.9"};
    OK(bcdi_cxi_write_config(w, "entry_1/image_1/process_1/configuration", keys, vals, 2));
    OK(bcdi_h5_write_double(w, "entry_1/image_1/process_1/results/llk", 0.125, NULL));
    OK(bcdi_h5_commit(w));

    size_t s2[3];
    bcdi_cf *o2;
    uint8_t *m2;
    OK(bcdi_cxi_read_object(f, s2, &o2, &m2));
    cr_assert(s2[0] == 4 && s2[1] == 5 && s2[2] == 6);
    cr_assert_arr_eq(o2, obj, n * sizeof *obj);
    cr_assert_arr_eq(m2, sup, n);

    bcdi_h5_reader *r;
    OK(bcdi_h5_open(f, &r));
    double v;
    OK(bcdi_h5_read_double(r, "cxi_version", &v));
    cr_assert_eq(v, 150.0);
    check_class(r, "entry_1", "NXentry");
    check_class(r, "entry_1/image_1", "NXdata");
    char s[64];
    OK(bcdi_h5_read_string(r, "entry_1/image_1/process_1/configuration/algorithm", s, sizeof s));
    cr_assert_str_eq(s, "20*ER+180*HIO");
    bcdi_h5_close(r);

    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    OK(bcdi_io_describe_hdf5(f, mem));
    fclose(mem);
    cr_assert(strstr(text, "CXI result: object 4 x 5 x 6 complex64, support voxels 40"), "%s",
              text);
    free(text);
    free(obj);
    free(sup);
    free(o2);
    free(m2);
}

Test(io, cxi_prepared_and_geometry_round_trip)
{
    const char *f = tpath("prepared.cxi");
    size_t shape[3] = {7, 5, 3}, n = 105;
    float *I = malloc(n * sizeof *I);
    uint8_t *m = malloc(n);
    for (size_t i = 0; i < n; i++) {
        I[i] = (float)(i * i) * 0.5f;
        m[i] = (i % 10) == 0;
    }
    bcdi_geometry g;
    test_geometry(&g);
    bcdi_h5_writer *w;
    OK(bcdi_cxi_create(f, &w));
    OK(bcdi_cxi_write_prepared(w, shape, I, m, &g, 2));
    OK(bcdi_h5_commit(w));

    size_t s2[3];
    float *I2;
    uint8_t *m2;
    OK(bcdi_cxi_read_prepared(f, s2, &I2, &m2));
    cr_assert(s2[0] == 7 && s2[1] == 5 && s2[2] == 3);
    cr_assert_arr_eq(I2, I, n * sizeof *I);
    cr_assert_arr_eq(m2, m, n);

    bcdi_geometry g2;
    OK(bcdi_cxi_read_geometry(f, &g2));
    /* every field, bit for bit (all stored as float64/int) */
    cr_assert_eq(g2.energy_kev, g.energy_kev);
    cr_assert_eq(g2.wavelength_m, g.wavelength_m);
    cr_assert_eq(g2.distance_m, g.distance_m);
    cr_assert_eq(g2.pixel_size_m[0], g.pixel_size_m[0]);
    cr_assert_eq(g2.pixel_size_m[1], g.pixel_size_m[1]);
    cr_assert_eq(g2.angles, g.angles);
    cr_assert_eq(g2.two_theta_deg, g.two_theta_deg);
    cr_assert_eq(g2.delta_deg, g.delta_deg);
    cr_assert_eq(g2.gamma_deg, g.gamma_deg);
    cr_assert_eq(g2.rocking_step_deg, g.rocking_step_deg);
    cr_assert_arr_eq(g2.rocking_axis, g.rocking_axis, sizeof g.rocking_axis);
    cr_assert_eq(g2.row_sign, g.row_sign);
    cr_assert_eq(g2.d_spacing_m, g.d_spacing_m);
    cr_assert_arr_eq(g2.hkl, g.hkl, sizeof g.hkl);
    cr_assert_arr_eq(g2.q_step, g.q_step, sizeof g.q_step);
    cr_assert_arr_eq(g2.real_basis, g.real_basis, sizeof g.real_basis);
    cr_assert_arr_eq(g2.voxel_size_m, g.voxel_size_m, sizeof g.voxel_size_m);
    cr_assert_arr_eq(g2.q_bragg, g.q_bragg, sizeof g.q_bragg);
    cr_assert_arr_eq(g2.shape, g.shape, sizeof g.shape);

    bcdi_h5_reader *r;
    OK(bcdi_h5_open(f, &r));
    /* entry_1/data_1/data is a soft link to the detector data */
    hid_t file = H5Fopen(f, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5L_info_t li;
    cr_assert_geq(H5Lget_info(file, "entry_1/data_1/data", &li, H5P_DEFAULT), 0);
    cr_assert_eq(li.type, H5L_TYPE_SOFT);
    char target[128];
    H5Lget_val(file, "entry_1/data_1/data", target, sizeof target, H5P_DEFAULT);
    cr_assert_str_eq(target, "/entry_1/instrument_1/detector_1/data");
    H5Fclose(file);
    double e;
    OK(bcdi_h5_read_double(r, "entry_1/instrument_1/source_1/energy", &e));
    cr_assert_float_eq(e, 9.0 * 1.602176634e-16, 1e-25);
    check_units(r, "entry_1/instrument_1/source_1/energy", "J");
    check_units(r, "entry_1/bcdi_geometry/energy_kev", "keV");
    check_units(r, "entry_1/bcdi_geometry/q_step", "1/m");
    check_units(r, "entry_1/bcdi_geometry/real_basis", "m");
    check_units(r, "entry_1/bcdi_geometry/rocking_step", "deg");
    check_shape(r, "entry_1/bcdi_geometry/q_step", 2, 3, 3, 0);
    check_shape(r, "entry_1/bcdi_geometry/real_basis", 2, 3, 3, 0);
    bcdi_h5_close(r);

    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    OK(bcdi_io_describe_hdf5(f, mem));
    fclose(mem);
    cr_assert(strstr(text, "CXI prepared data: 7 x 5 x 3 float32, mask 11 of 105 not measured"),
              "%s", text);
    free(text);

    /* a file without the geometry group is a FORMAT error */
    const char *f2 = tpath("nogeo.cxi");
    OK(bcdi_cxi_create(f2, &w));
    OK(bcdi_cxi_write_prepared(w, shape, I, NULL, NULL, 0));
    OK(bcdi_h5_commit(w));
    cr_assert_eq(bcdi_cxi_read_geometry(f2, &g2), BCDI_ERR_FORMAT);
    cr_assert(strstr(bcdi_last_error(), "bcdi_geometry"), "%s", bcdi_last_error());
    /* ... and its mask reads as "all measured" */
    free(I2);
    free(m2);
    OK(bcdi_cxi_read_prepared(f2, s2, &I2, &m2));
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(m2[i], 0);
    free(I2);
    free(m2);
    free(I);
    free(m);
}

/* A result as phase writes it: object, support, the prepared data's mask and geometry, the
 * configuration, the metrics and history, and the prepared file's diffraction summary copied
 * whole; read back by the one result reader. */
Test(io, cxi_result_round_trip_carries_the_summary)
{
    const char *prepared = tpath("prepared.cxi"), *result = tpath("result.cxi");
    bcdi_cxi_summary s = {.peak_pixel = {8, 30, 31},
                          .centre_of_mass = {8.25, 30.5, 31.75},
                          .com_rocking_deg = 0.125,
                          .integrated_intensity = 1.5e7,
                          .two_theta_deg = 33.5,
                          .d_spacing_m = 2.36e-10,
                          .masked_voxels = 42,
                          .bin = {1, 2, 2}};
    bcdi_h5_writer *w;
    OK(bcdi_cxi_create(prepared, &w));
    OK(bcdi_cxi_write_summary(w, &s));
    OK(bcdi_h5_commit(w));
    const size_t shape[3] = {4, 5, 6}, n = 4 * 5 * 6;
    bcdi_cf object[120];
    uint8_t support[120], mask[120];
    for (size_t i = 0; i < n; i++) {
        object[i] = (bcdi_cf){(float)i, -(float)i / 2};
        support[i] = (uint8_t)(i % 3 == 0);
        mask[i] = (uint8_t)(i % 7 == 0);
    }
    bcdi_geometry g;
    bcdi_geometry_default_i13(&g);
    OK(bcdi_geometry_compute(&g, shape));
    const char *keys[] = {"recipe"}, *values[] = {"10*ER"};
    const double history[2 * 9] = {10, 0.5,  1,   2, 3, 0.1, 0.01, 7.5, 0.25,
                                   20, 0.25, 0.5, 1, 2, 0.1, 0.01, 6.5, 0.125};
    bcdi_h5_reader *src;
    OK(bcdi_h5_open(prepared, &src));
    bcdi_cxi_result r = {.shape = {4, 5, 6},
                         .object = object,
                         .support = support,
                         .data_shape = {4, 5, 6},
                         .data_mask = mask,
                         .geometry = &g,
                         .config_keys = keys,
                         .config_values = values,
                         .config_count = 1,
                         .input = prepared,
                         .summary_source = src,
                         .fourier_error = 0.25,
                         .metric = "llk",
                         .backend = "cpu",
                         .device = "test",
                         .program = "test",
                         .rank = 1,
                         .history = history,
                         .history_rows = 2};
    OK(bcdi_cxi_write_result(NULL, result, &r));
    bcdi_h5_close(src);
    bcdi_cxi_phased back;
    OK(bcdi_cxi_read_result(result, 1, &back));
    cr_expect(back.shape[0] == 4 && back.shape[1] == 5 && back.shape[2] == 6);
    cr_expect_arr_eq(back.object, object, sizeof object);
    cr_assert_not_null(back.support);
    cr_expect_arr_eq(back.support, support, sizeof support);
    cr_expect(back.has_geometry && back.geometry.energy_kev == g.energy_kev);
    bcdi_cxi_phased_free(&back);
    bcdi_h5_reader *rr;
    OK(bcdi_h5_open(result, &rr));
    bcdi_cxi_summary t;
    OK(bcdi_cxi_read_summary(rr, &t));
    cr_expect(t.two_theta_deg == 33.5 && t.com_rocking_deg == 0.125 &&
              t.integrated_intensity == 1.5e7 && t.d_spacing_m == 2.36e-10);
    cr_expect(t.centre_of_mass[2] == 31.75 && t.bin[1] == 2 && t.masked_voxels == 42);
    char units[16];
    OK(bcdi_h5_read_attr_string(rr, "entry_1/bcdi_summary/two_theta", "units", units,
                                sizeof units));
    cr_expect_str_eq(units, "deg", "attributes travel with the copy");
    double fourier, hist[18];
    OK(bcdi_h5_read_double(rr, "entry_1/image_1/process_1/results/fourier_error", &fourier));
    cr_expect_eq(fourier, 0.25);
    OK(bcdi_h5_read(rr, "entry_1/image_1/process_1/results/history", BCDI_DT_F64, hist, 18));
    cr_expect_arr_eq(hist, history, sizeof hist);
    char text[256];
    OK(bcdi_h5_read_string(rr, "entry_1/image_1/process_1/configuration/recipe", text,
                           sizeof text));
    cr_expect_str_eq(text, "10*ER");
    OK(bcdi_h5_read_string(rr, "entry_1/image_1/process_1/configuration/input", text, sizeof text));
    cr_expect_str_eq(text, prepared);
    uint8_t mask_back[120];
    OK(bcdi_h5_read(rr, "entry_1/instrument_1/detector_1/mask", BCDI_DT_U8, mask_back, n));
    cr_expect_arr_eq(mask_back, mask, sizeof mask);
    bcdi_h5_close(rr);
    /* a file that is not a result, and a prepared file without a summary */
    cr_expect_eq(bcdi_cxi_read_result(prepared, 1, &back), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "not a phasing result") != NULL, "%s", bcdi_last_error());
    OK(bcdi_cxi_create(tpath("bare.cxi"), &w));
    OK(bcdi_h5_commit(w));
    OK(bcdi_h5_open(tpath("bare.cxi"), &rr));
    cr_expect_not(bcdi_cxi_has_summary(rr));
    cr_expect_eq(bcdi_cxi_read_summary(rr, &t), BCDI_ERR_FORMAT);
    bcdi_h5_close(rr);
}

Test(io, utf8_repair_replaces_every_invalid_byte)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", NULL},
        {"caf\xc3\xa9 \xce\xb8 \xe2\x88\x92 \xf0\x9f\x94\xac", NULL}, /* é θ − 🔬 */
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"},
        {"\x80", "\xef\xbf\xbd"},                                 /* stray continuation */
        {"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong NUL */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
        {"end\xe2\x88", "end\xef\xbf\xbd\xef\xbf\xbd"},                           /* cut short */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
        char *clean = NULL;
        int repaired = bcdi_utf8_repair(cases[k].in, &clean);
        cr_expect_eq(repaired, cases[k].out != NULL, "case %zu", k);
        if (cases[k].out) {
            cr_assert_not_null(clean);
            cr_expect_str_eq(clean, cases[k].out, "case %zu", k);
        }
        free(clean);
        json_t *s = bcdi_json_text(cases[k].in);
        cr_expect_not_null(s, "jansson refused case %zu", k);
        json_decref(s);
    }
}

Test(io, json_is_read_by_path_not_by_the_first_matching_key)
{
    const char *f = tpath("s.json");
    FILE *fp = fopen(f, "w");
    fputs("{\"nested\": {\"two_theta_deg\": 1.0, \"input\": \"wrong\"},\n"
          " \"two_theta_deg\": 2.5, \"input\": \"right\", \"bin\": [1, 2, 3],\n"
          " \"fit\": null}\n",
          fp);
    fclose(fp);
    json_t *root;
    OK(bcdi_json_read(f, &root));
    double v, bin[3];
    cr_expect(bcdi_json_number_at(root, "two_theta_deg", &v) && v == 2.5, "%g", v);
    cr_expect(bcdi_json_number_at(root, "nested/two_theta_deg", &v) && v == 1.0);
    cr_expect_str_eq(bcdi_json_string_at(root, "input"), "right");
    cr_expect(bcdi_json_numbers_at(root, "bin", bin, 3) && bin[2] == 3);
    cr_expect_not(bcdi_json_numbers_at(root, "bin", bin, 2), "a length mismatch is not a match");
    cr_expect(bcdi_json_number_at(root, "fit", &v) && isnan(v), "null reads as NaN");
    cr_expect_not(bcdi_json_number_at(root, "missing/deeper", &v));
    json_decref(root);
    /* written: NaN as null, -0 as 0, 9 significant digits; read back equal */
    json_t *o = json_object();
    int ok = 1;
    bcdi_json_put(o, "nan", bcdi_json_real(NAN), &ok);
    bcdi_json_put(o, "zero", bcdi_json_real(-0.0), &ok);
    bcdi_json_put(o, "pi", bcdi_json_real(3.14159265358979), &ok);
    cr_assert(ok);
    OK(bcdi_json_write(NULL, tpath("w.json"), o));
    json_decref(o);
    char *text = NULL;
    size_t len = 0;
    FILE *in = fopen(tpath("w.json"), "r");
    cr_assert_not_null(in);
    cr_assert_gt(getdelim(&text, &len, '\0', in), 0);
    fclose(in);
    cr_expect(strstr(text, "\"nan\": null") && strstr(text, "\"zero\": 0.0") &&
                  strstr(text, "\"pi\": 3.14159265"),
              "%s", text);
    cr_expect(!strstr(text, "-0"), "%s", text);
    free(text);
    /* not JSON: the file, line and column are named */
    fp = fopen(f, "w");
    fputs("{\n  \"a\": 1,\n  oops\n}\n", fp);
    fclose(fp);
    cr_expect_eq(bcdi_json_read(f, &root), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "s.json") && strstr(bcdi_last_error(), "line 3"), "%s",
              bcdi_last_error());
}

Test(io, cxi_missing_object_is_format_error)
{
    const char *f = tpath("empty.cxi");
    bcdi_h5_writer *w;
    OK(bcdi_cxi_create(f, &w));
    OK(bcdi_h5_commit(w));
    size_t s[3];
    bcdi_cf *o;
    uint8_t *m;
    cr_assert_eq(bcdi_cxi_read_object(f, s, &o, &m), BCDI_ERR_FORMAT);
    cr_assert(strstr(bcdi_last_error(), "entry_1/image_1/data"), "%s", bcdi_last_error());
    cr_assert(strstr(bcdi_last_error(), "cxi_version"), "%s", bcdi_last_error());
    cr_assert_null(o);
}

/* ---- TIFF ---- */

static void tiff_round_trip(bcdi_dtype type)
{
    size_t dims[3] = {3, 17, 11}, n = 3 * 17 * 11;
    void *data = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        if (type == BCDI_DT_U16)
            ((uint16_t *)data)[i] = (uint16_t)(i * 97 % 65536);
        else if (type == BCDI_DT_U32)
            ((uint32_t *)data)[i] = (uint32_t)(i * 40503u % 16777216u); /* exact in float */
        else
            ((float *)data)[i] = (float)i * 0.37f - 50.0f;
    }
    float expect[3 * 17 * 11];
    for (size_t i = 0; i < n; i++)
        expect[i] = type == BCDI_DT_U16   ? (float)((uint16_t *)data)[i]
                    : type == BCDI_DT_U32 ? (float)((uint32_t *)data)[i]
                                          : ((float *)data)[i];

    const char *multi = tpath("stack.tif");
    OK(bcdi_tiff_write_multipage(NULL, multi, type, dims, data));
    size_t pages, rows, cols;
    bcdi_dtype stored;
    OK(bcdi_tiff_info(multi, &pages, &rows, &cols, &stored));
    cr_assert_eq(pages, 3);
    cr_assert_eq(rows, 17);
    cr_assert_eq(cols, 11);
    cr_assert_eq(stored, type, "stored %s", bcdi_dtype_name(stored));
    float page[17 * 11];
    for (size_t k = 0; k < 3; k++) {
        OK(bcdi_tiff_read_page(multi, k, page, 17 * 11));
        cr_assert_arr_eq(page, expect + k * 17 * 11, sizeof page, "page %zu", k);
    }
    cr_assert_eq(bcdi_tiff_read_page(multi, 3, page, 17 * 11), BCDI_ERR_INVALID_ARG);
    /* a buffer of another size than the page: the page is never read partly or short */
    cr_assert_eq(bcdi_tiff_read_page(multi, 0, page, 10), BCDI_ERR_FORMAT);
    cr_assert_eq(bcdi_tiff_read_page(multi, 0, page, 17 * 11 + 1), BCDI_ERR_FORMAT);

    char dir[600];
    snprintf(dir, sizeof dir, "%s/frames", tmpdir);
    OK(bcdi_tiff_write_frames(NULL, dir, "scan", type, dims, data));
    cr_assert_eq(count_entries(dir, "scan_"), 3);
    cr_assert_eq(count_entries(dir, "."), 0, "temporary left");
    for (size_t k = 0; k < 3; k++) {
        char p[700];
        snprintf(p, sizeof p, "%s/scan_%05zu.tif", dir, k);
        OK(bcdi_tiff_info(p, &pages, &rows, &cols, &stored));
        cr_assert_eq(pages, 1);
        OK(bcdi_tiff_read_page(p, 0, page, 17 * 11));
        cr_assert_arr_eq(page, expect + k * 17 * 11, sizeof page, "frame %zu", k);
    }
    cr_assert_eq(count_entries(tmpdir, "."), 0, "temporary left");
    free(data);
}

Test(io, tiff_uint16_round_trip)
{
    tiff_round_trip(BCDI_DT_U16);
}
Test(io, tiff_uint32_round_trip)
{
    tiff_round_trip(BCDI_DT_U32);
}
Test(io, tiff_float32_round_trip)
{
    tiff_round_trip(BCDI_DT_F32);
}

Test(io, tiff_corrupt_fails_cleanly)
{
    float page[64];
    const char *junk = tpath("junk.tif");
    FILE *f = fopen(junk, "wb");
    fputs("II*\0garbage that is no TIFF at all", f);
    fclose(f);
    bcdi_status st = bcdi_tiff_read_page(junk, 0, page, 64);
    cr_assert(st == BCDI_ERR_FORMAT || st == BCDI_ERR_IO, "status %d", st);
    cr_assert(strstr(bcdi_last_error(), "junk.tif"), "%s", bcdi_last_error());

    /* a real file cut short: header fine, pixel data missing */
    const char *cut = tpath("cut.tif");
    static uint16_t img[64 * 64];
    for (size_t i = 0; i < 64 * 64; i++)
        img[i] = (uint16_t)i;
    size_t dims[3] = {1, 64, 64};
    OK(bcdi_tiff_write_multipage(NULL, cut, BCDI_DT_U16, dims, img));
    /* libtiff writes the directory after the pixels: keep the header, lose the rest */
    int fd = open(cut, O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 4096), 0);
    close(fd);
    static float out[64 * 64];
    st = bcdi_tiff_read_page(cut, 0, out, 64 * 64);
    cr_assert(st == BCDI_ERR_FORMAT || st == BCDI_ERR_IO, "status %d", st);
    cr_assert(strstr(bcdi_last_error(), "cut.tif"), "%s", bcdi_last_error());

    cr_assert_eq(bcdi_tiff_read_page(tpath("none.tif"), 0, page, 64), BCDI_ERR_IO);
    cr_assert(strstr(bcdi_last_error(), "none.tif"), "%s", bcdi_last_error());
}

/* ---- the real APS 34-ID-C gold scan (shared data set, not in the repository) ---- */

static const char *gold_dir(void)
{
    static char dir[1024];
    const char *candidates[] = {getenv("BCDI_SHARED_DATASETS"), BCDI_SHARED_DATASETS,
                                BCDI_SOURCE_DIR "/../../shared/datasets"};
    for (size_t i = 0; i < 3; i++) {
        if (!candidates[i]) continue;
        snprintf(dir, sizeof dir, "%s/au111-aps34idc-scan54", candidates[i]);
        if (file_exists(dir)) return dir;
    }
    return NULL;
}

Test(io, gold_scan_frame_99_and_dark)
{
    const char *dir = gold_dir();
    if (!dir)
        cr_skip_test("shared dataset au111-aps34idc-scan54 not found (looked in $BCDI_SHARED_"
                     "DATASETS and %s): real-data check skipped",
                     BCDI_SHARED_DATASETS);
    char p[1200];
    snprintf(p, sizeof p, "%s/frames/Staff20-1a_S0054_00099.tif", dir);
    size_t pages, rows, cols;
    bcdi_dtype stored;
    OK(bcdi_tiff_info(p, &pages, &rows, &cols, &stored));
    cr_assert(rows == 256 && cols == 256 && pages == 1);
    cr_assert_eq(stored, BCDI_DT_I32);
    static float fr[256 * 256];
    OK(bcdi_tiff_read_page(p, 0, fr, 256 * 256));
    size_t best = 0;
    for (size_t i = 1; i < 256 * 256; i++)
        if (fr[i] > fr[best]) best = i;
    cr_assert_eq(fr[best], 165297.0f);
    cr_assert_eq(best / 256, 126, "row %zu", best / 256);
    cr_assert_eq(best % 256, 127, "column %zu", best % 256);

    snprintf(p, sizeof p, "%s/dark.tif", dir);
    OK(bcdi_tiff_info(p, &pages, &rows, &cols, &stored));
    cr_assert(rows == 512 && cols == 512);
    cr_assert_eq(stored, BCDI_DT_I32);
    static float dark[512 * 512];
    OK(bcdi_tiff_read_page(p, 0, dark, 512 * 512));
    int bad = 0;
    for (size_t i = 0; i < 512 * 512; i++)
        bad += dark[i] > 1.0f;
    cr_assert_eq(bad, 45);
}
