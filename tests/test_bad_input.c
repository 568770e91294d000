/* SPDX-License-Identifier: BSD-3-Clause */
/* Hostile inputs (docs/security.md, "Inputs"): every crafted file is generated here, at test
 * time, next to a small valid input; each case runs `braggcdi` and asserts
 *   - an exit status in 1..127 (an error, not a crash, a hang or a kill),
 *   - a message that names the file, dataset or key at fault,
 *   - no output and no temporary (no name containing .braggcdi-tmp-) left behind,
 *   - every input unchanged (bytes compared).
 * Classes covered here: declared sizes that overflow (.npy, HDF5/NeXus, calibration images,
 * TIFF pages), non-regular inputs (FIFOs, devices, folders, endless files), inconsistent or
 * truncated TIFF stacks, non-finite or partial geometry, recipe counts that overflow, binned
 * values that overflow float, boxes that hold no measured voxel, sizes beyond memory
 * (max_memory=, runs=), box sizes beyond the documented maximum, and crop keeping the physics.
 * The output-side classes (device nodes and inputs as outputs, planted symlinks, signals, a
 * full disk, invalid UTF-8, CSV injection) are tested in tests/test_output.c and
 * tests/test_output_cli.c; key ranges in tests/test_config.c and tests/test_cli.c.
 * (Over 700 lines: one suite, because every case shares the crafted-file writers and the
 * expect_refused checks above; cases are grouped by the classes.)
 */
/* S_IFMT, lstat */
#define _XOPEN_SOURCE 700
#include "bcdi/error.h"
#include "core/ckd.h"
#include "core/input_file.h"
#include "core/memory.h"
#include "core/output.h"
#include "io/cxi_result.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <hdf5.h>
#include <tiffio.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
    dir = tu_make_temp_dir("bad-input");
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    tu_remove_tree(dir);
    free(dir);
}

TestSuite(bad_input, .init = setup, .fini = teardown, .timeout = 240);
TestSuite(ckd);
TestSuite(memory, .init = setup, .fini = teardown);

static const char *in_dir(const char *name)
{
    return tu_join(dir, name);
}

/* ------------------------------------------------------------------------------------------ */
/* running braggcdi and checking what it left                                                  */

/* "braggcdi <args>" with stdout+stderr into *output; a run that hangs is killed after 120 s
 * (status 137: outside 1..127, so a hang fails the case). */
static int run(const char *args, char **output)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "timeout -s KILL 120 '%s' %s 2>&1", BRAGGCDI_EXE, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[len] = '\0';
    int status = pclose(p);
    *output = buf;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

typedef struct {
    char path[1200];
    int regular;
    char *bytes;
    size_t size;
    mode_t mode;
} snapshot;

static void take(snapshot *s, const char *path)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    struct stat sb;
    cr_assert_eq(lstat(path, &sb), 0, "input '%s' missing before the run", path);
    s->mode = sb.st_mode;
    s->regular = S_ISREG(sb.st_mode);
    if (!s->regular) return;
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    s->size = (size_t)sb.st_size;
    s->bytes = malloc(s->size + 1);
    cr_assert_not_null(s->bytes);
    cr_assert_eq(fread(s->bytes, 1, s->size, f), s->size);
    fclose(f);
}

static void unchanged(const snapshot *s)
{
    struct stat sb;
    cr_assert_eq(lstat(s->path, &sb), 0, "input '%s' is gone", s->path);
    cr_assert_eq(sb.st_mode & S_IFMT, s->mode & S_IFMT, "input '%s' changed kind", s->path);
    if (!s->regular) return;
    cr_assert_eq((size_t)sb.st_size, s->size, "input '%s' changed size", s->path);
    FILE *f = fopen(s->path, "rb");
    cr_assert_not_null(f);
    char *now = malloc(s->size + 1);
    cr_assert_not_null(now);
    cr_assert_eq(fread(now, 1, s->size, f), s->size);
    fclose(f);
    cr_assert(memcmp(now, s->bytes, s->size) == 0, "input '%s' changed", s->path);
    free(now);
}

/* Run `args` (paths inside the case folder); the run must fail with a status in 1..127 and a
 * message containing every NULL-terminated `needles` entry (case-sensitive), leave no `output`
 * (NULL: none expected) and no temporary, and keep every input of `inputs` as it was. Returns
 * the message (free it). */
static char *refused(const char *args, const char *const *needles, const char *output,
                     const char *const *inputs)
{
    snapshot kept[8];
    size_t n_inputs = 0;
    for (; inputs && inputs[n_inputs]; n_inputs++) {
        cr_assert_lt(n_inputs, 8);
        take(&kept[n_inputs], inputs[n_inputs]);
    }
    char *out = NULL;
    int rc = run(args, &out);
    cr_assert(rc >= 1 && rc <= 127, "braggcdi %s: exit status %d (expected 1..127)\n%s", args, rc,
              out);
    cr_assert_neq(rc, 124, "braggcdi %s: timed out\n%s", args, out);
    for (size_t k = 0; needles && needles[k]; k++)
        cr_assert(strstr(out, needles[k]) != NULL,
                  "braggcdi %s: the message does not say '%s':\n%s", args, needles[k], out);
    if (output) cr_assert(!tu_file_exists(output), "braggcdi %s: '%s' was written", args, output);
    cr_assert_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 0,
                 "braggcdi %s: a temporary was left in %s", args, dir);
    for (size_t k = 0; k < n_inputs; k++) {
        unchanged(&kept[k]);
        free(kept[k].bytes);
    }
    return out;
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define INPUTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_refused(const char *args, const char *const *needles, const char *output,
                           const char *const *inputs)
{
    free(refused(args, needles, output, inputs));
}

/* ------------------------------------------------------------------------------------------ */
/* crafted files                                                                              */

static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* A .npy file with the header dict spelled as given (version 1.0) and `data_bytes` zero bytes
 * after it (data, when given, copied first). */
static void write_npy(const char *path, const char *descr, const char *shape, const void *data,
                      size_t data_bytes)
{
    char header[512];
    int n = snprintf(header, sizeof header,
                     "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t len = (size_t)n + 1, pad = (64 - (10 + len) % 64) % 64, hl = (size_t)n + pad + 1;
    size_t total = 10 + hl + data_bytes;
    unsigned char *buf = calloc(1, total);
    cr_assert_not_null(buf);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hl & 0xff);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, header, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[10 + hl - 1] = '\n';
    if (data) memcpy(buf + 10 + hl, data, data_bytes);
    write_bytes(path, buf, total);
    free(buf);
}

/* A valid small rocking stack: 16 frames of 32 x 32 float32 counts with a Gaussian peak in the
 * middle (what the crafted calibration images and keys are paired with). */
#define STACK_F 16
#define STACK_N 32
static void write_good_stack(const char *path)
{
    size_t n = (size_t)STACK_F * STACK_N * STACK_N;
    float *v = malloc(n * sizeof *v);
    cr_assert_not_null(v);
    for (size_t f = 0; f < STACK_F; f++)
        for (size_t r = 0; r < STACK_N; r++)
            for (size_t c = 0; c < STACK_N; c++) {
                double d2 =
                    pow((double)f - STACK_F / 2, 2) / 4.0 +
                    (pow((double)r - STACK_N / 2, 2) + pow((double)c - STACK_N / 2, 2)) / 9.0;
                v[(f * STACK_N + r) * STACK_N + c] = (float)(1000.0 * exp(-d2 / 2.0) + 1.0);
            }
    write_npy(path, "<f4", "(16, 32, 32)", v, n * sizeof *v);
    free(v);
}

/* An HDF5 file whose dataset `name` (uint16, chunked, never written) declares `dims`: HDF5
 * accepts any extent, and H5Sget_simple_extent_npoints wraps for the crafted ones. */
static void write_h5_declared(const char *path, const char *name, int rank, const hsize_t *dims)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hsize_t chunk[8];
    for (int i = 0; i < rank; i++)
        chunk[i] = 1;
    chunk[rank - 1] = dims[rank - 1] < 64 ? dims[rank - 1] : 64;
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(p, rank, chunk);
    hid_t d = H5Dcreate2(f, name, H5T_NATIVE_UINT16, s, lcpl, p, H5P_DEFAULT);
    cr_assert_geq(d, 0, "cannot create the crafted dataset %s", name);
    H5Dclose(d);
    H5Pclose(p);
    H5Sclose(s);
    H5Pclose(lcpl);
    H5Fclose(f);
}

/* ------------------------------------------------------------------------------------------ */
/* the checked-size helpers                                                                    */

Test(ckd, products_that_wrap_are_refused_with_the_shape_named)
{
    size_t r;
    cr_assert_eq(bcdi_ckd_mul(&r, 3, 5), 0);
    cr_assert_eq(r, 15);
    cr_assert_neq(bcdi_ckd_mul(&r, SIZE_MAX / 2 + 1, 2), 0);
    cr_assert_eq(bcdi_ckd_add(&r, 1, 2), 0);
    cr_assert_eq(r, 3);
    cr_assert_neq(bcdi_ckd_add(&r, SIZE_MAX, 1), 0);
    size_t ok[3] = {200, 256, 256}, count = 0, bytes = 0;
    cr_assert_eq(bcdi_ckd_volume(ok, 3, 4, &count, &bytes, "x"), BCDI_OK);
    cr_assert_eq(count, (size_t)200 * 256 * 256);
    cr_assert_eq(bytes, count * 4);
    /* (1, 2^62, 64) wraps to 0 elements; (2, 2^61, 64) too; (3, 6148914691236517206) to 2 */
    size_t npy[3] = {1, (size_t)1 << 62, 64}, nexus[3] = {2, (size_t)1 << 61, 64},
           two[2] = {3, 6148914691236517206ULL};
    cr_assert_eq(bcdi_ckd_volume(npy, 3, 4, &count, &bytes, "'a.npy'"), BCDI_ERR_FORMAT);
    cr_assert_eq(count, 0);
    cr_assert_eq(bytes, 0);
    cr_assert(strstr(bcdi_last_error(), "'a.npy'") != NULL, "%s", bcdi_last_error());
    cr_assert(strstr(bcdi_last_error(), "1 x 4611686018427387904 x 64") != NULL, "%s",
              bcdi_last_error());
    cr_assert_eq(bcdi_ckd_volume(nexus, 3, 2, NULL, NULL, "'%s': dataset '%s'", "b.nxs", "d"),
                 BCDI_ERR_FORMAT);
    cr_assert(strstr(bcdi_last_error(), "'b.nxs': dataset 'd'") != NULL, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_ckd_volume(two, 2, 1, NULL, NULL, "c"), BCDI_ERR_FORMAT);
    /* a count that fits but whose bytes pass BCDI_CKD_MAX_BYTES */
    size_t big[1] = {BCDI_CKD_MAX_BYTES / 4 + 1};
    cr_assert_eq(bcdi_ckd_volume(big, 1, 4, NULL, NULL, "d"), BCDI_ERR_FORMAT);
    cr_assert_eq(bcdi_ckd_volume(big, 1, 1, NULL, NULL, "d"), BCDI_OK);
    /* zero-length axes and rank 0 are sizes too */
    size_t empty[2] = {0, SIZE_MAX};
    cr_assert_eq(bcdi_ckd_volume(empty, 2, 8, &count, NULL, "e"), BCDI_OK);
    cr_assert_eq(count, 0);
    cr_assert_eq(bcdi_ckd_volume(NULL, 0, 8, &count, &bytes, "f"), BCDI_OK);
    cr_assert_eq(count, 1);
    cr_assert_eq(bytes, 8);
}

/* ------------------------------------------------------------------------------------------ */
/* 1. declared sizes                                                                           */

Test(bad_input, npy_shapes_that_wrap_or_overrun_the_file_are_refused)
{
    const char *out = in_dir("p.cxi");
    /* (1, 2^62, 64): 2^68 bytes wrap to 0, and the "file shorter than its shape" check with it */
    const char *wrap = in_dir("wrap.npy");
    write_npy(wrap, "<f4", "(1, 4611686018427387904, 64)", NULL, 4096);
    char args[4096];
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", wrap, out);
    expect_refused(args, NEEDLES("wrap.npy", "4611686018427387904"), out, INPUTS(wrap));
    /* a shape that fits but promises more than the file holds */
    const char *shorter = in_dir("short.npy");
    write_npy(shorter, "<u2", "(4, 64, 64)", NULL, 100);
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", shorter, out);
    expect_refused(args, NEEDLES("short.npy", "truncated"), out, INPUTS(shorter));
    /* a negative axis (strtoull would read -1 as 2^64 - 1) */
    const char *negative = in_dir("negative.npy");
    write_npy(negative, "<u2", "(4, -1, 64)", NULL, 4096);
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", negative, out);
    expect_refused(args, NEEDLES("negative.npy", "shape"), out, INPUTS(negative));
    /* a shape without its closing parenthesis */
    const char *open_shape = in_dir("open.npy");
    write_npy(open_shape, "<u2", "(4, 64, 64", NULL, 4 * 64 * 64 * 2);
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", open_shape, out);
    expect_refused(args, NEEDLES("open.npy", "shape"), out, INPUTS(open_shape));
}

Test(bad_input, hdf5_shapes_that_wrap_are_refused_naming_file_and_dataset)
{
    const char *out = in_dir("p.cxi");
    char args[4096];
    /* the frames of a NeXus stack declaring (2, 2^61, 64) */
    const char *nexus = in_dir("wrap.nxs");
    hsize_t d3[3] = {2, (hsize_t)1 << 61, 64};
    write_h5_declared(nexus, "entry1/instrument/excalibur/data", 3, d3);
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", nexus, out);
    expect_refused(args, NEEDLES("wrap.nxs", "entry1/instrument/excalibur/data"), out,
                   INPUTS(nexus));
    /* one frame whose rows x columns wrap to 2 */
    const char *frame = in_dir("frame.h5");
    hsize_t d2[3] = {1, 3, 6148914691236517206ULL};
    write_h5_declared(frame, "entry1/instrument/excalibur/data", 3, d2);
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", frame, out);
    expect_refused(args, NEEDLES("frame.h5", "entry1/instrument/excalibur/data"), out,
                   INPUTS(frame));
    /* prepared data for phase, and a result for analyze, declaring the same */
    const char *prepared = in_dir("prepared.cxi");
    write_h5_declared(prepared, "entry_1/instrument_1/detector_1/data", 3, d3);
    snprintf(args, sizeof args, "phase '%s' -o '%s'", prepared, in_dir("r.cxi"));
    expect_refused(args, NEEDLES("prepared.cxi", "entry_1/instrument_1/detector_1/data"),
                   in_dir("r.cxi"), INPUTS(prepared));
    const char *result = in_dir("result.cxi");
    write_h5_declared(result, "entry_1/image_1/data", 3, d3);
    snprintf(args, sizeof args, "analyze '%s' -o '%s'", result, in_dir("a"));
    expect_refused(args, NEEDLES("result.cxi", "entry_1/image_1/data"), in_dir("a"),
                   INPUTS(result));
    /* info describes such a file without reading it (no crash, no heap overrun) */
    char *text = NULL;
    snprintf(args, sizeof args, "info '%s'", frame);
    int rc = run(args, &text);
    cr_assert(rc == 0 || (rc >= 1 && rc <= 127), "info: status %d\n%s", rc, text);
    free(text);
}

Test(bad_input, calibration_images_with_impossible_shapes_are_refused)
{
    const char *stack = in_dir("stack.npy"), *out = in_dir("p.cxi");
    write_good_stack(stack);
    const char *npy = in_dir("mask.npy"), *h5 = in_dir("mask.h5");
    write_npy(npy, "<f4", "(4611686018427387904, 64)", NULL, 4096);
    hsize_t d[2] = {(hsize_t)1 << 61, 128};
    write_h5_declared(h5, "entry1/excalibur_config_normal/data", 2, d);
    write_h5_declared(in_dir("dark.h5"), "data", 2, d);
    const char *keys[] = {"mask_file", "dark_file", "flat_file"};
    for (size_t k = 0; k < 3; k++) {
        char args[4096];
        snprintf(args, sizeof args, "prepare '%s' %s='%s' -o '%s'", stack, keys[k], npy, out);
        expect_refused(args, NEEDLES("mask.npy"), out, INPUTS(stack, npy));
        const char *file = k == 0 ? h5 : in_dir("dark.h5");
        const char *dataset = k == 0 ? "entry1/excalibur_config_normal/data" : "data";
        snprintf(args, sizeof args, "prepare '%s' %s='%s' -o '%s'", stack, keys[k], file, out);
        expect_refused(args, NEEDLES(k == 0 ? "mask.h5" : "dark.h5", dataset), out,
                       INPUTS(stack, file));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 2. TIFF stacks refused, not guessed                                                          */

typedef struct {
    uint32_t width, height;
    uint16_t bits, format; /* SAMPLEFORMAT_UINT = 1, _INT = 2, _IEEEFP = 3 */
} tiff_page;

/* Pages written with libtiff as given (counts: a Gaussian peak on a flat 1), one TIFF. */
static void write_tiff(const char *path, size_t n, const tiff_page *pages)
{
    TIFF *t = TIFFOpen(path, "w");
    cr_assert_not_null(t, "%s", path);
    for (size_t k = 0; k < n; k++) {
        const tiff_page *p = &pages[k];
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, p->width);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, p->height);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, p->bits);
        TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, p->format);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)4);
        if (n > 1) {
            TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
            TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)k, (uint16_t)n);
        }
        size_t bytes = p->bits / 8;
        unsigned char *row = calloc(p->width, bytes);
        cr_assert_not_null(row);
        for (uint32_t y = 0; y < p->height; y++) {
            for (uint32_t x = 0; x < p->width; x++) {
                double d2 =
                    pow((double)k - (double)n / 2, 2) / 4.0 +
                    (pow((double)y - p->height / 2.0, 2) + pow((double)x - p->width / 2.0, 2)) /
                        9.0;
                double v = 100.0 * exp(-d2 / 2.0) + 1.0;
                if (p->format == SAMPLEFORMAT_IEEEFP && p->bits == 32) {
                    float f = (float)v;
                    memcpy(row + x * 4, &f, 4);
                } else if (p->bits == 8) {
                    row[x] = (unsigned char)v;
                } else if (p->bits == 16) {
                    uint16_t u = (uint16_t)v;
                    memcpy(row + x * 2, &u, 2);
                } else {
                    uint32_t u = (uint32_t)v;
                    memcpy(row + x * 4, &u, 4);
                }
            }
            cr_assert_geq(TIFFWriteScanline(t, row, y, 0), 0);
        }
        free(row);
        cr_assert(TIFFWriteDirectory(t));
    }
    TIFFClose(t);
}

static const tiff_page U16 = {32, 32, 16, SAMPLEFORMAT_UINT};

static void write_uniform_tiff(const char *path, size_t n)
{
    tiff_page pages[16];
    for (size_t k = 0; k < n; k++)
        pages[k] = U16;
    write_tiff(path, n, pages);
}

Test(bad_input, tiff_stacks_with_inconsistent_pages_are_refused_naming_the_page)
{
    const char *out = in_dir("p.cxi");
    char args[4096];
    tiff_page pages[12];
    for (size_t k = 0; k < 12; k++)
        pages[k] = U16;
    /* the control: the same stack, consistent, is prepared */
    const char *good = in_dir("good.tif");
    write_tiff(good, 12, pages);
    char *text = NULL;
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", good, out);
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    remove(out);
    remove(in_dir("p_summary.json"));
    struct {
        const char *name;
        tiff_page odd;
    } cases[] = {
        {"narrow.tif", {16, 32, 16, SAMPLEFORMAT_UINT}}, /* read at the first page's width */
        {"short.tif", {32, 16, 16, SAMPLEFORMAT_UINT}},
        {"depth.tif", {32, 32, 32, SAMPLEFORMAT_UINT}}, /* saturation from page 0 */
        {"bytes.tif", {32, 32, 8, SAMPLEFORMAT_UINT}},
        {"float.tif", {32, 32, 32, SAMPLEFORMAT_IEEEFP}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        pages[7] = cases[c].odd;
        const char *path = in_dir(cases[c].name);
        write_tiff(path, 12, pages);
        snprintf(args, sizeof args, "prepare '%s' -o '%s'", path, out);
        expect_refused(args, NEEDLES(cases[c].name, "page 7"), out, INPUTS(path));
        /* the same page as a calibration image of a good stack */
        snprintf(args, sizeof args, "prepare '%s' dark_file='%s' -o '%s'", good, path, out);
        expect_refused(args, NEEDLES(cases[c].name, "page 7"), out, INPUTS(good, path));
        /* and info says it too */
        snprintf(args, sizeof args, "info '%s'", path);
        expect_refused(args, NEEDLES(cases[c].name, "page 7"), NULL, INPUTS(path));
        pages[7] = U16;
    }
}

Test(bad_input, tiff_frame_folders_with_a_mismatched_frame_are_refused_naming_it)
{
    const char *out = in_dir("p.cxi");
    char args[4096];
    const tiff_page odd[] = {
        {32, 32, 8, SAMPLEFORMAT_UINT}, {32, 32, 32, SAMPLEFORMAT_IEEEFP}, {32, 24, 16, 1}};
    for (size_t c = 0; c < sizeof odd / sizeof *odd; c++) {
        char folder[1200];
        snprintf(folder, sizeof folder, "%s/frames%zu", dir, c);
        cr_assert_eq(mkdir(folder, 0755), 0);
        char odd_name[1300];
        for (size_t k = 0; k < 12; k++) {
            char name[1300];
            snprintf(name, sizeof name, "%s/f_%02zu.tif", folder, k);
            write_tiff(name, 1, k == 5 ? &odd[c] : &U16);
            if (k == 5) snprintf(odd_name, sizeof odd_name, "%s", name);
        }
        snprintf(args, sizeof args, "prepare '%s' -o '%s'", folder, out);
        expect_refused(args, NEEDLES("f_05.tif", "f_00.tif"), out, INPUTS(odd_name));
    }
}

Test(bad_input, truncated_tiff_stacks_are_refused_not_read_as_fewer_frames)
{
    const char *out = in_dir("p.cxi");
    char args[4096];
    const char *whole = in_dir("whole.tif");
    write_uniform_tiff(whole, 12);
    struct stat sb;
    cr_assert_eq(stat(whole, &sb), 0);
    /* cut in a page's pixels, in the middle of a directory, and just before the last one ends */
    const off_t cuts[] = {sb.st_size / 2, sb.st_size * 3 / 4 + 7, sb.st_size - 20};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        char name[64];
        snprintf(name, sizeof name, "cut%zu.tif", c);
        const char *path = in_dir(name);
        FILE *src = fopen(whole, "rb"), *dst = fopen(path, "wb");
        cr_assert(src && dst);
        for (off_t i = 0; i < cuts[c]; i++)
            fputc(fgetc(src), dst);
        fclose(src);
        fclose(dst);
        snprintf(args, sizeof args, "prepare '%s' -o '%s'", path, out);
        expect_refused(args, NEEDLES(name), out, INPUTS(path));
        snprintf(args, sizeof args, "info '%s'", path);
        expect_refused(args, NEEDLES(name), NULL, INPUTS(path));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 3. inputs that are not regular files, endless or huge files                                  */

Test(bad_input, fifos_devices_and_folders_are_refused_without_blocking)
{
    const char *out = in_dir("p.cxi");
    char args[4096];
    const char *stack = in_dir("stack.npy");
    write_good_stack(stack);
    /* FIFOs named like each kind of input: nothing ever writes to them (a blocking open would
     * hang the run, and the run is killed after 120 s: status 137, outside 1..127) */
    const char *fifo_names[] = {"frames.tif", "frames.npy", "frames.nxs", "prepared.cxi"};
    for (size_t k = 0; k < 4; k++) {
        const char *fifo = in_dir(fifo_names[k]);
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        snprintf(args, sizeof args, "prepare '%s' -o '%s'", fifo, out);
        expect_refused(args, NEEDLES(fifo_names[k], "FIFO"), out, INPUTS(fifo));
        snprintf(args, sizeof args, "info '%s'", fifo);
        expect_refused(args, NEEDLES(fifo_names[k], "FIFO"), NULL, INPUTS(fifo));
    }
    snprintf(args, sizeof args, "phase '%s' -o '%s'", in_dir("prepared.cxi"), in_dir("r.cxi"));
    expect_refused(args, NEEDLES("prepared.cxi", "FIFO"), in_dir("r.cxi"),
                   INPUTS(in_dir("prepared.cxi")));
    snprintf(args, sizeof args, "analyze '%s' -o '%s'", in_dir("prepared.cxi"), in_dir("a"));
    expect_refused(args, NEEDLES("prepared.cxi", "FIFO"), in_dir("a"),
                   INPUTS(in_dir("prepared.cxi")));
    /* a FIFO among the frames of a folder */
    char folder[1200];
    snprintf(folder, sizeof folder, "%s/frames", dir);
    cr_assert_eq(mkdir(folder, 0755), 0);
    for (size_t k = 0; k < 8; k++) {
        char name[1300];
        snprintf(name, sizeof name, "%s/f_%02zu.tif", folder, k);
        if (k == 3)
            cr_assert_eq(mkfifo(name, 0600), 0);
        else
            write_tiff(name, 1, &U16);
    }
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", folder, out);
    expect_refused(args, NEEDLES("f_03.tif", "FIFO"), out, NULL);
    /* calibration images that are a FIFO, a device, a folder */
    const char *keys[] = {"mask_file", "dark_file", "flat_file"};
    const char *odd[] = {in_dir("frames.tif"), "/dev/zero", folder};
    const char *kind[] = {"FIFO", "character device", "folder"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "prepare '%s' %s='%s' -o '%s'", stack, keys[k], odd[k], out);
        expect_refused(args, NEEDLES(kind[k]), out, INPUTS(stack));
    }
    /* a device or a folder as the input of each stage */
    snprintf(args, sizeof args, "prepare /dev/zero input_format=npy -o '%s'", out);
    expect_refused(args, NEEDLES("/dev/zero", "character device"), out, NULL);
    snprintf(args, sizeof args, "phase /dev/zero -o '%s'", in_dir("r.cxi"));
    expect_refused(args, NEEDLES("/dev/zero", "character device"), in_dir("r.cxi"), NULL);
    snprintf(args, sizeof args, "analyze '%s' -o '%s'", folder, in_dir("a"));
    expect_refused(args, NEEDLES("frames", "folder"), in_dir("a"), NULL);
}

Test(bad_input, config_files_must_be_regular_and_small)
{
    const char *stack = in_dir("stack.npy"), *out = in_dir("p.cxi");
    write_good_stack(stack);
    char args[4096];
    /* a folder (read as empty before), /dev/zero (read forever before), a FIFO (blocked) */
    const char *folder = in_dir("conf.d");
    cr_assert_eq(mkdir(folder, 0755), 0);
    const char *fifo = in_dir("conf.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *configs[] = {folder, "/dev/zero", fifo};
    const char *kind[] = {"folder", "character device", "FIFO"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "prepare '%s' '%s' -o '%s'", stack, configs[k], out);
        expect_refused(args, NEEDLES("config file", kind[k]), out, INPUTS(stack));
        snprintf(args, sizeof args, "simulate '%s' -o '%s'", configs[k], in_dir("s.nxs"));
        expect_refused(args, NEEDLES("config file", kind[k]), in_dir("s.nxs"), NULL);
    }
    /* a regular file larger than any config (2 MiB of comments) */
    const char *big = in_dir("big.ini");
    FILE *f = fopen(big, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 2 * 1024 * 16; i++)
        fputs("# a comment line of sixty-four characters, repeated ad nauseam\n", f);
    fclose(f);
    snprintf(args, sizeof args, "prepare '%s' '%s' -o '%s'", stack, big, out);
    expect_refused(args, NEEDLES("config file", "big.ini", "bytes"), out, INPUTS(stack, big));
    /* a JSON summary for compare that is a FIFO is refused as well */
    write_text(in_dir("small.ini"), "bin = 1,1,1\n");
    snprintf(args, sizeof args, "prepare '%s' '%s' -o '%s'", stack, in_dir("small.ini"), out);
    char *text = NULL;
    cr_assert_eq(run(args, &text), 0, "a small config file still works:\n%s", text);
    free(text);
}

/* ------------------------------------------------------------------------------------------ */
/* 4. geometry metadata: non-finite values refused, absent ones defaulted and said, partial     */
/*    groups refused                                                                            */

static void h5_put_doubles(hid_t f, const char *name, size_t n, const double *v, const char *units)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hsize_t dims[1] = {n};
    hid_t s = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_NATIVE_DOUBLE, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(d, 0, "%s", name);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
    if (units) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, strlen(units));
        hid_t as = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(d, "units", t, as, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, units);
        H5Aclose(a);
        H5Sclose(as);
        H5Tclose(t);
    }
    H5Dclose(d);
    H5Sclose(s);
    H5Pclose(lcpl);
}

/* A small NeXus (I13-1 layout) stack: 16 frames of 32 x 32 uint16 with a peak, the rocking motor
 * (0.005 deg steps, `motor_bad` at frame 5 unless 0), energy, distance and a monitor. */
static void write_nexus(const char *path, double motor_bad, double energy, double distance,
                        double monitor_bad)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hsize_t dims[3] = {STACK_F, STACK_N, STACK_N};
    size_t n = (size_t)STACK_F * STACK_N * STACK_N;
    uint16_t *v = malloc(n * sizeof *v);
    cr_assert_not_null(v);
    for (size_t fr = 0; fr < STACK_F; fr++)
        for (size_t r = 0; r < STACK_N; r++)
            for (size_t c = 0; c < STACK_N; c++) {
                double d2 =
                    pow((double)fr - STACK_F / 2, 2) / 4.0 +
                    (pow((double)r - STACK_N / 2, 2) + pow((double)c - STACK_N / 2, 2)) / 9.0;
                v[(fr * STACK_N + r) * STACK_N + c] = (uint16_t)(1000.0 * exp(-d2 / 2.0) + 1.0);
            }
    hid_t s = H5Screate_simple(3, dims, NULL);
    hid_t d = H5Dcreate2(f, "entry1/instrument/excalibur/data", H5T_NATIVE_UINT16, s, lcpl,
                         H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
    H5Dclose(d);
    H5Sclose(s);
    free(v);
    double motor[STACK_F], mon[STACK_F];
    for (size_t k = 0; k < STACK_F; k++) {
        motor[k] = 10.0 + 0.005 * (double)k;
        mon[k] = 1.0;
    }
    if (motor_bad != 0.0) motor[5] = motor_bad;
    if (monitor_bad != 0.0) mon[7] = monitor_bad;
    h5_put_doubles(f, "entry1/instrument/t1_theta/t1_theta", STACK_F, motor, "deg");
    h5_put_doubles(f, "entry1/instrument/monitor/data", STACK_F, mon, NULL);
    h5_put_doubles(f, "entry1/instrument/monochromator/energy", 1, &energy, "keV");
    h5_put_doubles(f, "entry1/instrument/excalibur/distance", 1, &distance, "m");
    H5Pclose(lcpl);
    H5Fclose(f);
}

Test(bad_input, non_finite_metadata_is_refused_naming_the_field)
{
    const char *out = in_dir("p.cxi");
    char args[4096], *text = NULL;
    /* the control: finite metadata is prepared, the file's energy used */
    const char *good = in_dir("good.nxs");
    write_nexus(good, 0.0, 9.5, 2.0, 0.0);
    snprintf(args, sizeof args, "prepare '%s' monitor_path=entry1/instrument/monitor/data -o '%s'",
             good, out);
    cr_assert_eq(run(args, &text), 0, "%s", text);
    cr_assert(strstr(text, "9.5 keV (from the file"), "%s", text);
    free(text);
    remove(out);
    remove(in_dir("p_summary.json"));
    struct {
        const char *name;
        double motor, energy, distance, monitor;
        const char *field;
    } cases[] = {
        {"motor_nan.nxs", NAN, 9.5, 2.0, 0.0, "t1_theta"},
        {"motor_inf.nxs", INFINITY, 9.5, 2.0, 0.0, "t1_theta"},
        {"energy_nan.nxs", 0.0, NAN, 2.0, 0.0, "monochromator/energy"},
        {"energy_inf.nxs", 0.0, INFINITY, 2.0, 0.0, "monochromator/energy"},
        {"energy_zero.nxs", 0.0, 0.0, 2.0, 0.0, "monochromator/energy"},
        {"distance_nan.nxs", 0.0, 9.5, NAN, 0.0, "excalibur/distance"},
        {"distance_negative.nxs", 0.0, 9.5, -2.0, 0.0, "excalibur/distance"},
        {"monitor_inf.nxs", 0.0, 9.5, 2.0, INFINITY, "monitor/data"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *path = in_dir(cases[c].name);
        hid_t f;
        write_nexus(path, cases[c].motor, 9.5, cases[c].distance, cases[c].monitor);
        if (cases[c].energy != 9.5) { /* rewrite the energy with the crafted value */
            f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
            hid_t d = H5Dopen2(f, "entry1/instrument/monochromator/energy", H5P_DEFAULT);
            H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &cases[c].energy);
            H5Dclose(d);
            H5Fclose(f);
        }
        snprintf(args, sizeof args,
                 "prepare '%s' monitor_path=entry1/instrument/monitor/data -o '%s'", path, out);
        expect_refused(args, NEEDLES(cases[c].name, cases[c].field), out, INPUTS(path));
    }
}

Test(bad_input, an_absent_field_takes_the_default_and_says_so)
{
    const char *out = in_dir("p.cxi");
    const char *path = in_dir("no_energy.nxs");
    write_nexus(path, 0.0, 9.5, 2.0, 0.0);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(H5Ldelete(f, "entry1/instrument/monochromator/energy", H5P_DEFAULT), 0);
    H5Fclose(f);
    char args[4096], *text = NULL;
    snprintf(args, sizeof args, "prepare '%s' -o '%s'", path, out);
    cr_assert_eq(run(args, &text), 0, "%s", text);
    cr_assert(strstr(text, "default of key 'energy_kev'") && strstr(text, "has no energy"), "%s",
              text);
    free(text);
}

/* Remove (value NULL) or overwrite one field of the geometry group of a CXI file. */
static void edit_geometry(const char *path, const char *field, const double *value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    char name[256];
    snprintf(name, sizeof name, "entry_1/bcdi_geometry/%s", field);
    if (!value) {
        cr_assert_geq(H5Ldelete(f, name, H5P_DEFAULT), 0, "%s", name);
    } else {
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        cr_assert_geq(d, 0, "%s", name);
        hid_t s = H5Dget_space(d);
        hssize_t n = H5Sget_simple_extent_npoints(s);
        double v[9];
        for (hssize_t i = 0; i < n && i < 9; i++)
            v[i] = *value;
        cr_assert_geq(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
        H5Sclose(s);
        H5Dclose(d);
    }
    H5Fclose(f);
}

Test(bad_input, partial_or_non_finite_cxi_geometry_groups_are_refused)
{
    char args[4096];
    const double nan = NAN, zero = 0.0;
    struct {
        const char *name, *field;
        const double *value;
    } cases[] = {
        {"no_energy.cxi", "energy_kev", NULL},    {"no_basis.cxi", "real_basis", NULL},
        {"nan_voxel.cxi", "voxel_size", &nan},    {"nan_distance.cxi", "distance", &nan},
        {"zero_step.cxi", "rocking_step", &zero},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *path = in_dir(cases[c].name);
        cr_assert_eq(tu_write_prepared(path, 0), 0, "%s", bcdi_last_error());
        edit_geometry(path, cases[c].field, cases[c].value);
        /* phase takes the geometry into its result; prepare reads a CXI input's geometry */
        snprintf(args, sizeof args, "phase '%s' runs=1 recipe=2*ER -o '%s'", path, in_dir("r.cxi"));
        expect_refused(args, NEEDLES(cases[c].name, cases[c].field), in_dir("r.cxi"), INPUTS(path));
        snprintf(args, sizeof args, "prepare '%s' -o '%s'", path, in_dir("p.cxi"));
        expect_refused(args, NEEDLES(cases[c].name, cases[c].field), in_dir("p.cxi"), INPUTS(path));
    }
    /* a result whose group lost a field: analyze refuses it rather than guessing a voxel */
    const char *prepared = in_dir("prepared.cxi"), *result = in_dir("result.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    char *text = NULL;
    snprintf(args, sizeof args, "phase '%s' runs=1 recipe=4*ER -o '%s'", prepared, result);
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    edit_geometry(result, "q_step", NULL);
    snprintf(args, sizeof args, "analyze '%s' -o '%s'", result, in_dir("a"));
    expect_refused(args, NEEDLES("result.cxi", "q_step"), in_dir("a"), INPUTS(result));
}

/* ------------------------------------------------------------------------------------------ */
/* 5. counts from keys that overflow                                                           */

Test(bad_input, recipe_counts_that_overflow_are_refused_before_the_data_is_read)
{
    const char *prepared = in_dir("prepared.cxi"), *out = in_dir("r.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    const char *recipes[] = {"32768*(65536*(65536*(65536*HIO)))", "100000000*ER + ER",
                             "3*(40000000*ER + 40000000*RAAR)"};
    for (size_t k = 0; k < sizeof recipes / sizeof *recipes; k++) {
        char args[4096];
        snprintf(args, sizeof args, "phase '%s' \"recipe=%s\" -o '%s'", prepared, recipes[k], out);
        expect_refused(args, NEEDLES("recipe", "iterations"), out, INPUTS(prepared));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 6. values beyond float32 after binning or corrections                                       */

/* The good stack with `value` at two neighbouring voxels of the middle frame's middle row. */
static void write_stack_with(const char *path, float value)
{
    size_t n = (size_t)STACK_F * STACK_N * STACK_N;
    float *v = malloc(n * sizeof *v);
    cr_assert_not_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0f;
    size_t at = ((size_t)(STACK_F / 2) * STACK_N + STACK_N / 2) * STACK_N + STACK_N / 2;
    v[at] = v[at + 1] = value;
    write_npy(path, "<f4", "(16, 32, 32)", v, n * sizeof *v);
    free(v);
}

Test(bad_input, sums_beyond_float32_are_refused_not_written_as_inf)
{
    const char *path = in_dir("huge.npy"), *out = in_dir("p.cxi");
    write_stack_with(path, 3e38f);
    char args[4096];
    /* two 3e38 counts binned together gave an unmasked +inf */
    snprintf(args, sizeof args, "prepare '%s' bin=1,1,2 -o '%s'", path, out);
    expect_refused(args, NEEDLES("bin"), out, INPUTS(path));
    /* a white field that scales a finite count beyond float32 (invalid=error says so) */
    const char *flat = in_dir("flat.npy");
    float *img = malloc(STACK_N * STACK_N * sizeof *img);
    cr_assert_not_null(img);
    for (size_t i = 0; i < STACK_N * STACK_N; i++)
        img[i] = 1.0f;
    img[(STACK_N / 2) * STACK_N + STACK_N / 2] = 1e-3f; /* mean/flat ~ 1000 there */
    write_npy(flat, "<f4", "(32, 32)", img, STACK_N * STACK_N * sizeof *img);
    free(img);
    snprintf(args, sizeof args, "prepare '%s' flat_file='%s' invalid=error -o '%s'", path, flat,
             out);
    expect_refused(args, NEEDLES("huge.npy", "float32"), out, INPUTS(path, flat));
}

/* ------------------------------------------------------------------------------------------ */
/* 7. boxes: no measured voxel, sizes beyond the documented maximum (no endless size search)   */

Test(bad_input, a_box_that_holds_no_measured_voxel_is_refused)
{
    const char *stack = in_dir("stack.npy"), *out = in_dir("p.cxi");
    write_good_stack(stack);
    char args[4096];
    /* a centre far outside the data (wrote a 100%-masked file with exit 0) */
    const char *centres[] = {"8,5000,5000", "-200,16,16", "8,16,-9000", "60000,16,16"};
    for (size_t k = 0; k < sizeof centres / sizeof *centres; k++) {
        snprintf(args, sizeof args, "prepare '%s' center=%s box=8,16,16 -o '%s'", stack, centres[k],
                 out);
        expect_refused(args, NEEDLES("center", "no measured voxel"), out, INPUTS(stack));
    }
    /* a centre inside, but every voxel of its box masked by the user's boxes */
    snprintf(args, sizeof args,
             "prepare '%s' center=8,4,4 box=8,8,8 \"mask_boxes=0:32,0:12\" -o '%s'", stack, out);
    expect_refused(args, NEEDLES("no measured voxel"), out, INPUTS(stack));
}

Test(bad_input, box_sizes_beyond_the_maximum_are_refused_at_once, .timeout = 60)
{
    const char *stack = in_dir("stack.npy"), *out = in_dir("p.cxi");
    write_good_stack(stack);
    char args[4096];
    const char *boxes[] = {"box=16384,16,16", "box=8,16384,16", "box=8,16,8193"};
    for (size_t k = 0; k < sizeof boxes / sizeof *boxes; k++) {
        snprintf(args, sizeof args, "prepare '%s' %s -o '%s'", stack, boxes[k], out);
        expect_refused(args, NEEDLES("box", "4096"), out, INPUTS(stack));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 8. memory estimated before it is allocated                                                  */

Test(memory, the_machine_offers_memavailable_or_the_lower_cgroup_limit)
{
    char meminfo[1200], self[1200], root[1200];
    snprintf(meminfo, sizeof meminfo, "%s/meminfo", dir);
    snprintf(self, sizeof self, "%s/self_cgroup", dir);
    snprintf(root, sizeof root, "%s/cg", dir);
    write_text(meminfo, "MemTotal:       32000000 kB\nMemAvailable:   8000000 kB\n");
    /* no cgroup file: MemAvailable */
    bcdi_memory_offer offer;
    bcdi_memory_offered_from(meminfo, in_dir("none"), root, &offer);
    cr_assert_float_eq(offer.bytes, 8000000.0 * 1024, 1.0);
    cr_assert(strstr(offer.source, "MemAvailable"), "%s", offer.source);
    /* v2: the lowest memory.max of the cgroup and its ancestors, "max" meaning none */
    char path[1400];
    snprintf(path, sizeof path, "mkdir -p '%s/job.slice/run'", root);
    cr_assert_eq(system(path), 0);
    write_text(self, "0::/job.slice/run\n");
    snprintf(path, sizeof path, "%s/job.slice/run/memory.max", root);
    write_text(path, "max\n");
    snprintf(path, sizeof path, "%s/job.slice/memory.max", root);
    write_text(path, "2147483648\n");
    bcdi_memory_offered_from(meminfo, self, root, &offer);
    cr_assert_float_eq(offer.bytes, 2147483648.0, 1.0);
    cr_assert(strstr(offer.source, "job.slice/memory.max"), "%s", offer.source);
    /* a limit above MemAvailable does not raise it */
    write_text(path, "999999999999\n");
    bcdi_memory_offered_from(meminfo, self, root, &offer);
    cr_assert_float_eq(offer.bytes, 8000000.0 * 1024, 1.0);
    /* v1 (and hybrid): memory.limit_in_bytes, its "no limit" value ignored */
    snprintf(path, sizeof path, "mkdir -p '%s/memory/batch/42'", root);
    cr_assert_eq(system(path), 0);
    write_text(self, "4:memory:/batch/42\n0::/\n");
    snprintf(path, sizeof path, "%s/memory/batch/42/memory.limit_in_bytes", root);
    write_text(path, "9223372036854771712\n");
    snprintf(path, sizeof path, "%s/memory/batch/memory.limit_in_bytes", root);
    write_text(path, "1073741824\n");
    bcdi_memory_offered_from(meminfo, self, root, &offer);
    cr_assert_float_eq(offer.bytes, 1073741824.0, 1.0);
    /* the check: the estimate and the limit in the message */
    cr_assert_eq(bcdi_memory_check(5.0 * 1073741824.0, (size_t)1 << 30, "phase", "1024^3", "say"),
                 BCDI_ERR_NOMEM);
    cr_assert(strstr(bcdi_last_error(), "phase needs about 5.0 GiB (1024^3)") &&
                  strstr(bcdi_last_error(), "1.0 GiB key 'max_memory'"),
              "%s", bcdi_last_error());
    cr_assert_eq(bcdi_memory_check(1e6, (size_t)1 << 30, "x", NULL, NULL), BCDI_OK);
}

Test(bad_input, max_memory_accepts_byte_counts_and_refuses_the_rest)
{
    const char *stack = in_dir("stack.npy"), *out = in_dir("p.cxi");
    write_good_stack(stack);
    char args[4096];
    const char *bad[] = {"max_memory=-1", "max_memory=1.5", "max_memory=4X", "max_memory=0",
                         "max_memory=2E"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        snprintf(args, sizeof args, "prepare '%s' %s -o '%s'", stack, bad[k], out);
        expect_refused(args, NEEDLES("max_memory"), out, INPUTS(stack));
    }
    const char *good[] = {"max_memory=4G", "max_memory=1.5GiB", "max_memory=2048M",
                          "max_memory=auto", "max_memory=8589934592"};
    for (size_t k = 0; k < sizeof good / sizeof *good; k++) {
        char *text = NULL;
        snprintf(args, sizeof args, "prepare '%s' %s -o '%s'", stack, good[k], out);
        cr_assert_eq(run(args, &text), 0, "%s: %s", good[k], text);
        free(text);
    }
}

Test(bad_input, runs_beyond_memory_are_refused_with_the_estimate_before_the_data_is_read)
{
    char args[4096];
    /* a declared 1024^3 prepared file (never written: reading it would take 5 GB) */
    const char *big = in_dir("big.cxi"), *out = in_dir("r.cxi");
    hsize_t d[3] = {1024, 1024, 1024};
    write_h5_declared(big, "entry_1/instrument_1/detector_1/data", 3, d);
    snprintf(args, sizeof args, "phase '%s' max_memory=16G -o '%s'", big, out);
    expect_refused(args, NEEDLES("phase needs about", "1024 x 1024 x 1024", "max_memory"), out,
                   INPUTS(big));
    /* runs=10000 of a 32^3 prepared file: the figure, with runs= named */
    const char *prepared = in_dir("prepared.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    snprintf(args, sizeof args, "phase '%s' runs=10000 max_memory=1G -o '%s'", prepared, out);
    expect_refused(args, NEEDLES("GiB", "runs=10000", "max_memory"), out, INPUTS(prepared));
    /* the other stages, each before its bulk data */
    snprintf(args, sizeof args, "prepare '%s' max_memory=1M -o '%s'", prepared, in_dir("p.cxi"));
    expect_refused(args, NEEDLES("prepare needs about", "max_memory"), in_dir("p.cxi"),
                   INPUTS(prepared));
    /* a stack reordered by axes= is held whole: refused before it is read */
    const char *stack = in_dir("stack.npy");
    write_good_stack(stack);
    snprintf(args, sizeof args, "prepare '%s' axes=row,frame,column max_memory=1M -o '%s'", stack,
             in_dir("p.cxi"));
    expect_refused(args, NEEDLES("prepare needs about", "reordered by axes=", "max_memory"),
                   in_dir("p.cxi"), INPUTS(stack));
    const char *result = in_dir("result.cxi");
    write_h5_declared(result, "entry_1/image_1/data", 3, d);
    snprintf(args, sizeof args, "analyze '%s' max_memory=8G -o '%s'", result, in_dir("a"));
    expect_refused(args, NEEDLES("analyze needs about", "1024 x 1024 x 1024"), in_dir("a"),
                   INPUTS(result));
    snprintf(args, sizeof args, "compare '%s' '%s' max_memory=8G -o '%s'", result, result,
             in_dir("c"));
    expect_refused(args, NEEDLES("compare needs about", "max_memory"), in_dir("c"), INPUTS(result));
    snprintf(args, sizeof args, "simulate shape=2048,512,512 gaps=none max_memory=1G -o '%s'",
             in_dir("s.nxs"));
    expect_refused(args, NEEDLES("simulate needs about", "2048 x 512 x 512"), in_dir("s.nxs"),
                   NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* 9. a cropped result keeps the physics of the grid it came from                              */

#include "io/json.h"

/* enough iterations for a support on the 32^3 simulated crystal, in seconds */
#define QUICK_RECIPE "150*HIO + 50*ER"

static void grid_of(const char *folder, double voxel[3], double *volume, double *voxels)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/summary.json", folder);
    json_t *root = NULL;
    cr_assert_eq(bcdi_json_read(path, &root), BCDI_OK, "%s", bcdi_last_error());
    cr_assert(bcdi_json_numbers_at(root, "grid/voxel_size_nm", voxel, 3));
    cr_assert(bcdi_json_number_at(root, "support/volume_nm3", volume));
    cr_assert(bcdi_json_number_at(root, "support/voxels", voxels));
    json_decref(root);
}

Test(bad_input, cropped_and_whole_results_of_the_same_run_analyse_and_compare_alike)
{
    const char *prepared = in_dir("prepared.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    char args[4096], *text = NULL;
    /* the same run (seed) written whole and cropped to its support plus 2 voxels */
    snprintf(args, sizeof args, "phase '%s' seed=7 crop=false \"recipe=%s\" -o '%s'", prepared,
             QUICK_RECIPE, in_dir("whole.cxi"));
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    snprintf(args, sizeof args, "phase '%s' seed=7 crop=true crop_margin=2 \"recipe=%s\" -o '%s'",
             prepared, QUICK_RECIPE, in_dir("cropped.cxi"));
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    size_t whole_shape[3], cropped_shape[3];
    cr_assert_eq(bcdi_cxi_result_shape(in_dir("whole.cxi"), whole_shape), BCDI_OK);
    cr_assert_eq(bcdi_cxi_result_shape(in_dir("cropped.cxi"), cropped_shape), BCDI_OK);
    cr_assert(cropped_shape[0] * cropped_shape[1] * cropped_shape[2] <
                  whole_shape[0] * whole_shape[1] * whole_shape[2],
              "the crop kept the whole %zu x %zu x %zu", cropped_shape[0], cropped_shape[1],
              cropped_shape[2]);
    const char *names[2] = {"whole", "cropped"};
    double voxel[2][3], volume[2], voxels[2];
    for (int k = 0; k < 2; k++) {
        char folder[1300];
        snprintf(folder, sizeof folder, "%s/a_%s", dir, names[k]);
        snprintf(args, sizeof args, "analyze '%s/%s.cxi' -o '%s'", dir, names[k], folder);
        cr_assert_eq(run(args, &text), 0, "%s", text);
        free(text);
        grid_of(folder, voxel[k], &volume[k], &voxels[k]);
    }
    /* the same grid: voxel sizes and volumes agree to float rounding (the basis is the full
     * data grid's, not recomputed for the cropped box) */
    for (int a = 0; a < 3; a++)
        cr_assert(fabs(voxel[1][a] - voxel[0][a]) <= 1e-9 * voxel[0][a],
                  "axis %d: voxel %.9g nm cropped, %.9g nm whole", a, voxel[1][a], voxel[0][a]);
    cr_assert_eq(voxels[1], voxels[0], "support voxels %g cropped, %g whole", voxels[1], voxels[0]);
    cr_assert(fabs(volume[1] - volume[0]) <= 1e-9 * volume[0], "volume %.9g cropped, %.9g whole",
              volume[1], volume[0]);
    /* compare takes them as the same grid (it refused two cropped runs before) */
    snprintf(args, sizeof args, "compare '%s' '%s' -o '%s'", in_dir("whole.cxi"),
             in_dir("cropped.cxi"), in_dir("c1"));
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    snprintf(args, sizeof args, "phase '%s' seed=8 crop=true crop_margin=3 \"recipe=%s\" -o '%s'",
             prepared, QUICK_RECIPE, in_dir("cropped2.cxi"));
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    snprintf(args, sizeof args, "compare '%s' '%s' -o '%s'", in_dir("cropped.cxi"),
             in_dir("cropped2.cxi"), in_dir("c2"));
    cr_assert_eq(run(args, &text), 0, "%s", text);
    free(text);
    /* a crop that claims to sit outside the grid it came from is refused, not guessed */
    hid_t f = H5Fopen(in_dir("cropped2.cxi"), H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t d = H5Dopen2(f, "entry_1/image_1/process_1/results/crop_origin", H5P_DEFAULT);
    cr_assert_geq(d, 0);
    double outside[3] = {100, 0, 0};
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, outside), 0);
    H5Dclose(d);
    H5Fclose(f);
    snprintf(args, sizeof args, "analyze '%s' -o '%s'", in_dir("cropped2.cxi"), in_dir("a3"));
    expect_refused(args, NEEDLES("cropped2.cxi", "crop_origin", "data_shape"), in_dir("a3"),
                   INPUTS(in_dir("cropped2.cxi")));
}
