/* SPDX-License-Identifier: BSD-3-Clause */
/* MATLAB .mat reader: files written here with matio itself (v5 plain and compressed, v7.3),
 * read back with the axis order checked element by element; variable choice; refusals
 * (complex, cell, several candidates, a damaged header claiming a huge array, truncation).
 * Without matio in the build the reader must say so, and the writing tests skip visibly. */
#include "io/mat.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef BCDI_HAVE_MATIO
#include <matio.h>

static char *temp_dir;

static void setup_dir(void)
{
    temp_dir = tu_make_temp_dir("mat");
}

static void remove_dir(void)
{
    tu_remove_tree(temp_dir);
    free(temp_dir);
}

static const char *temp_path(const char *name)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

/* A(i, j, k) (0-based) = i + 10 j + 100 k: every element says where it sits. */
static double element(size_t i, size_t j, size_t k)
{
    return (double)i + 10.0 * (double)j + 100.0 * (double)k;
}

/* Write variables into a new file; each spec: name, class, rank, dims, complex. */
typedef struct {
    const char *name;
    enum matio_classes class_type;
    int rank;
    size_t dims[3];
    int complex_values;
    int cell;
} var_spec;

static void write_mat(const char *path, enum mat_ft version, enum matio_compression compression,
                      const var_spec *vars, size_t count)
{
    mat_t *mat = Mat_CreateVer(path, NULL, version);
    cr_assert(mat, "matio cannot create version 0x%x files", (unsigned)version);
    for (size_t v = 0; v < count; ++v) {
        const var_spec *s = &vars[v];
        size_t n = s->dims[0] * s->dims[1] * (s->rank == 3 ? s->dims[2] : 1);
        matvar_t *var;
        if (s->cell) {
            size_t dims[2] = {1, 1};
            var = Mat_VarCreate(s->name, MAT_C_CELL, MAT_T_CELL, 2, dims, NULL, 0);
        } else {
            /* column-major fill: linear index L = i + d0 (j + d1 k) */
            double *re = malloc(n * sizeof *re), *im = malloc(n * sizeof *im);
            uint16_t *u16 = malloc(n * sizeof *u16);
            float *f32 = malloc(n * sizeof *f32);
            size_t at = 0;
            for (size_t k = 0; k < (s->rank == 3 ? s->dims[2] : 1); ++k)
                for (size_t j = 0; j < s->dims[1]; ++j)
                    for (size_t i = 0; i < s->dims[0]; ++i, ++at) {
                        re[at] = element(i, j, k);
                        im[at] = -re[at];
                        u16[at] = (uint16_t)re[at];
                        f32[at] = (float)re[at];
                    }
            size_t dims[3] = {s->dims[0], s->dims[1], s->dims[2]};
            if (s->complex_values) {
                mat_complex_split_t split = {re, im};
                var = Mat_VarCreate(s->name, MAT_C_DOUBLE, MAT_T_DOUBLE, s->rank, dims, &split,
                                    MAT_F_COMPLEX);
            } else if (s->class_type == MAT_C_UINT16) {
                var = Mat_VarCreate(s->name, MAT_C_UINT16, MAT_T_UINT16, s->rank, dims, u16, 0);
            } else if (s->class_type == MAT_C_SINGLE) {
                var = Mat_VarCreate(s->name, MAT_C_SINGLE, MAT_T_SINGLE, s->rank, dims, f32, 0);
            } else {
                var = Mat_VarCreate(s->name, MAT_C_DOUBLE, MAT_T_DOUBLE, s->rank, dims, re, 0);
            }
            cr_assert(var);
            cr_assert_eq(Mat_VarWrite(mat, var, compression), 0, "writing %s", s->name);
            Mat_VarFree(var);
            free(re), free(im), free(u16), free(f32);
            continue;
        }
        cr_assert(var);
        cr_assert_eq(Mat_VarWrite(mat, var, compression), 0, "writing %s", s->name);
        Mat_VarFree(var);
    }
    Mat_Close(mat);
}

static void expect_elements(const bcdi_mat_array *a)
{
    size_t bad = 0;
    for (size_t i = 0; i < a->shape[0]; ++i)
        for (size_t j = 0; j < a->shape[1]; ++j)
            for (size_t k = 0; k < a->shape[2]; ++k)
                bad += a->data[(i * a->shape[1] + j) * a->shape[2] + k] != (float)element(i, j, k);
    cr_expect_eq(bad, 0, "'%s': %zu elements not at A(i+1, j+1, k+1)", a->name, bad);
}

Test(mat, v5_and_v73_round_trip_in_matlab_index_order, .init = setup_dir, .fini = remove_dir)
{
    cr_assert(bcdi_mat_available());
    const var_spec vars[] = {
        {"note", MAT_C_DOUBLE, 2, {1, 3, 1}, 0, 0},   /* a small 2-D: not a candidate */
        {"frames", MAT_C_UINT16, 3, {5, 4, 3}, 0, 0}, /* the only 3-D */
        {"flat", MAT_C_SINGLE, 2, {6, 7, 1}, 0, 0},
    };
    const struct {
        const char *file;
        enum mat_ft version;
        enum matio_compression compression;
        int expect_version;
    } files[] = {
        {"plain.mat", MAT_FT_MAT5, MAT_COMPRESSION_NONE, 5},
        {"zipped.mat", MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, 5},
        {"hdf5.mat", MAT_FT_MAT73, MAT_COMPRESSION_NONE, 73},
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; ++f) {
        const char *path = temp_path(files[f].file);
        write_mat(path, files[f].version, files[f].compression, vars, 3);
        bcdi_mat_array a;
        cr_assert_eq(bcdi_mat_read(path, NULL, &a), BCDI_OK, "%s: %s", files[f].file,
                     bcdi_last_error());
        cr_expect_str_eq(a.name, "frames");
        cr_expect_str_eq(a.type, "uint16");
        cr_expect_eq(a.version, files[f].expect_version);
        cr_expect_eq(a.rank, 3);
        cr_expect(a.shape[0] == 5 && a.shape[1] == 4 && a.shape[2] == 3, "%s: %zu x %zu x %zu",
                  files[f].file, a.shape[0], a.shape[1], a.shape[2]);
        expect_elements(&a);
        bcdi_mat_array_free(&a);
        /* a named 2-D variable: size(A) with a trailing 1 */
        cr_assert_eq(bcdi_mat_read(path, "flat", &a), BCDI_OK, "%s", bcdi_last_error());
        cr_expect_str_eq(a.type, "single");
        cr_expect(a.rank == 2 && a.shape[0] == 6 && a.shape[1] == 7 && a.shape[2] == 1);
        expect_elements(&a);
        bcdi_mat_array_free(&a);
        /* a name the file does not hold: the error lists what it does */
        cr_expect_eq(bcdi_mat_read(path, "data", &a), BCDI_ERR_FORMAT);
        cr_expect(strstr(bcdi_last_error(), "'data'") && strstr(bcdi_last_error(), "frames") &&
                      strstr(bcdi_last_error(), files[f].file),
                  "%s", bcdi_last_error());
    }
}

Test(mat, choice_and_refusals, .init = setup_dir, .fini = remove_dir)
{
    bcdi_mat_array a;
    /* two 3-D candidates: name one */
    const var_spec two[] = {{"a", MAT_C_DOUBLE, 3, {2, 2, 2}, 0, 0},
                            {"b", MAT_C_DOUBLE, 3, {3, 2, 2}, 0, 0}};
    write_mat(temp_path("two.mat"), MAT_FT_MAT5, MAT_COMPRESSION_NONE, two, 2);
    cr_expect_eq(bcdi_mat_read(temp_path("two.mat"), NULL, &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "a, b"), "%s", bcdi_last_error());
    cr_assert_eq(bcdi_mat_read(temp_path("two.mat"), "b", &a), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(a.shape[0], 3);
    expect_elements(&a);
    bcdi_mat_array_free(&a);
    /* complex and cell variables, and no 3-D candidate at all */
    const var_spec odd[] = {{"z", MAT_C_DOUBLE, 3, {2, 2, 2}, 1, 0},
                            {"c", MAT_C_CELL, 2, {1, 1, 1}, 0, 1}};
    write_mat(temp_path("odd.mat"), MAT_FT_MAT5, MAT_COMPRESSION_NONE, odd, 2);
    cr_expect_eq(bcdi_mat_read(temp_path("odd.mat"), NULL, &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "no 3-D real numeric") &&
                  strstr(bcdi_last_error(), "complex double 2x2x2"),
              "%s", bcdi_last_error());
    cr_expect_eq(bcdi_mat_read(temp_path("odd.mat"), "z", &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "complex"), "%s", bcdi_last_error());
    cr_expect_eq(bcdi_mat_read(temp_path("odd.mat"), "c", &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "cell"), "%s", bcdi_last_error());
    /* not a .mat file, and no file */
    FILE *f = fopen(temp_path("text.mat"), "w");
    fputs("this is not MATLAB\n", f);
    fclose(f);
    cr_expect_eq(bcdi_mat_read(temp_path("text.mat"), NULL, &a), BCDI_ERR_FORMAT);
    cr_expect_eq(bcdi_mat_read(temp_path("absent.mat"), NULL, &a), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "absent.mat"));
}

/* Patch the dimensions of an uncompressed v5 file's first variable: 128-byte header, matrix tag
 * (8), array flags (16), dimensions tag (8), then the int32 dimensions. */
static void patch_dims(const char *path, int32_t d0, int32_t d1, int32_t d2)
{
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    int32_t tag[2];
    fseek(f, 128 + 8 + 16, SEEK_SET);
    cr_assert_eq(fread(tag, sizeof tag, 1, f), 1);
    cr_assert(tag[0] == 5 && tag[1] == 12, "layout: dims tag %d %d", tag[0], tag[1]);
    int32_t dims[3] = {d0, d1, d2};
    fseek(f, 128 + 8 + 16 + 8, SEEK_SET);
    fwrite(dims, sizeof dims, 1, f);
    fclose(f);
}

Test(mat, damaged_headers_and_truncation, .init = setup_dir, .fini = remove_dir)
{
    const var_spec one[] = {{"frames", MAT_C_DOUBLE, 3, {4, 5, 6}, 0, 0}};
    bcdi_mat_array a;
    /* dimensions whose product overflows size_t */
    const char *path = temp_path("overflow.mat");
    write_mat(path, MAT_FT_MAT5, MAT_COMPRESSION_NONE, one, 1);
    patch_dims(path, 2000000000, 2000000000, 2000000000);
    cr_expect_eq(bcdi_mat_read(path, "frames", &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "overflows") || strstr(bcdi_last_error(), "more than"),
              "%s", bcdi_last_error());
    /* 1024 x 1024 x 64 elements claimed by a file of a few hundred bytes */
    path = temp_path("huge.mat");
    write_mat(path, MAT_FT_MAT5, MAT_COMPRESSION_NONE, one, 1);
    patch_dims(path, 1024, 1024, 64);
    cr_expect_eq(bcdi_mat_read(path, "frames", &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "more than a") && strstr(bcdi_last_error(), "frames"), "%s",
              bcdi_last_error());
    /* an empty dimension */
    path = temp_path("empty.mat");
    write_mat(path, MAT_FT_MAT5, MAT_COMPRESSION_NONE, one, 1);
    patch_dims(path, 4, 0, 6);
    cr_expect_eq(bcdi_mat_read(path, "frames", &a), BCDI_ERR_FORMAT);
    /* a file cut in the middle of the data */
    path = temp_path("cut.mat");
    write_mat(path, MAT_FT_MAT5, MAT_COMPRESSION_NONE, one, 1);
    cr_assert_eq(truncate(path, 128 + 64 + 40 * 8), 0);
    cr_expect_eq(bcdi_mat_read(path, "frames", &a), BCDI_ERR_FORMAT);
    cr_expect_null(a.data);
    cr_expect(strstr(bcdi_last_error(), "cut.mat") && strstr(bcdi_last_error(), "truncated"), "%s",
              bcdi_last_error());
    /* the same for a compressed variable */
    path = temp_path("cutz.mat");
    write_mat(path, MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, one, 1);
    cr_assert_eq(truncate(path, 150), 0);
    cr_expect_eq(bcdi_mat_read(path, "frames", &a), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "truncated"), "%s", bcdi_last_error());
    /* and a v7.3 file cut in half (HDF5 notices) */
    path = temp_path("cut73.mat");
    write_mat(path, MAT_FT_MAT73, MAT_COMPRESSION_NONE, one, 1);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(path, size / 2), 0);
    cr_expect_neq(bcdi_mat_read(path, "frames", &a), BCDI_OK);
    cr_expect_null(a.data);
    cr_expect(strstr(bcdi_last_error(), "cut73.mat"), "%s", bcdi_last_error());
}

#else

Test(mat, without_matio_the_reader_says_so)
{
    cr_expect_eq(bcdi_mat_available(), 0);
    bcdi_mat_array a;
    cr_expect_eq(bcdi_mat_read("x.mat", NULL, &a), BCDI_ERR_UNSUPPORTED);
    cr_expect(strstr(bcdi_last_error(), "without matio"), "%s", bcdi_last_error());
    cr_skip_test("built without matio: the .mat round-trip tests are skipped");
}

#endif
