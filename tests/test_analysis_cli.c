/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi analyze through the executable: a full run writes every output and nothing else;
 * bad input (no geometry and no stand-ins, empty support, NaN object) fails with a clear
 * message, a non-zero exit and nothing written. */
#include "io/cxi.h"
#include "io/tiff_io.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const OUTPUTS[] = {
    "analysis.vti", "analysis_sheared.vts", "dislocations.vtp", "density.tif", "displacement.tif",
    "density.png",  "displacement.png",     "strain.png",       "summary.json"};

/* The payload of DataArray `name` in a VTK XML file written by braggcdi: base64 of a UInt64
 * byte count, then base64 of the bytes (encoded separately). Returns malloc'd bytes. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static size_t b64_decode(const char *in, size_t chars, unsigned char *out)
{
    size_t n = 0;
    for (size_t i = 0; i + 3 < chars + 1 && i < chars; i += 4) {
        int v[4];
        for (int k = 0; k < 4; ++k)
            v[k] = in[i + k] == '=' ? -2 : b64_value(in[i + k]);
        uint32_t chunk = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
                         ((uint32_t)(v[2] < 0 ? 0 : v[2]) << 6) | (uint32_t)(v[3] < 0 ? 0 : v[3]);
        out[n++] = (unsigned char)(chunk >> 16);
        if (v[2] >= 0) out[n++] = (unsigned char)(chunk >> 8);
        if (v[3] >= 0) out[n++] = (unsigned char)chunk;
    }
    return n;
}

static unsigned char *vtk_payload(const char *xml, const char *name, uint64_t *bytes)
{
    char key[128];
    snprintf(key, sizeof key, "Name=\"%s\"", name);
    const char *at = strstr(xml, key);
    if (!at) return NULL;
    at = strchr(at, '>') + 1;
    while (*at == ' ' || *at == '\n')
        ++at;
    unsigned char header[9];
    b64_decode(at, 12, header);
    memcpy(bytes, header, 8);
    const char *end = strchr(at + 12, '\n');
    unsigned char *out = malloc((size_t)(end - at));
    size_t got = b64_decode(at + 12, (size_t)(end - at - 12), out);
    cr_expect_eq(got, *bytes, "%s: %zu bytes decoded, header says %llu", name, got,
                 (unsigned long long)*bytes);
    return out;
}

Test(analyze_cli, full_run_writes_every_output, .timeout = 60)
{
    char *dir = tu_make_temp_dir("analyze-ok");
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "simulate shape=48,48,48 oversampling=2 photons=0 noise=none "
             "\"dislocations=p=0,0,0 d=0,0,1 b=0,0,4.733\" -o %s/s.nxs",
             dir);
    cr_assert_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "analyze %s/s_truth.cxi unwrap=true -o %s/out", dir, dir);
    cr_assert_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    char path[4096];
    snprintf(path, sizeof path, "%s/out", dir);
    cr_expect_eq(tu_count_entries(path), 9, "exactly the 9 outputs, no temporaries");
    for (size_t k = 0; k < sizeof OUTPUTS / sizeof *OUTPUTS; ++k) {
        snprintf(path, sizeof path, "%s/out/%s", dir, OUTPUTS[k]);
        cr_expect(tu_file_exists(path), "%s missing", OUTPUTS[k]);
    }
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    char *json = tu_read_text(path);
    cr_assert_not_null(json);
    cr_expect(strstr(json, "\"screw-like\"") != NULL, "no screw-like line in %s", json);
    cr_expect(strstr(json, "\"displacement_angstrom\"") != NULL);
    cr_expect(strstr(json, "\"p95\"") != NULL);
    cr_expect(strstr(json, "\"table\"") != NULL);
    cr_expect(strstr(json, "\"unwrap\": \"true\"") != NULL, "parameters not recorded");
    free(json);
    snprintf(path, sizeof path, "%s/out/analysis.vti", dir);
    char *vti = tu_read_text(path);
    cr_expect(strstr(vti, "<VTKFile type=\"ImageData\"") != NULL);
    for (const char *name = "density"; name; name = NULL)
        cr_expect(strstr(vti, name) != NULL);
    cr_expect(strstr(vti, "Name=\"displacement\"") && strstr(vti, "Name=\"strain\"") &&
              strstr(vti, "Name=\"support\"") && strstr(vti, "Name=\"phase\""));
    /* the density payload decodes to the TIFF's numbers, page by page */
    uint64_t bytes = 0;
    unsigned char *density = vtk_payload(vti, "density", &bytes);
    cr_assert_not_null(density);
    snprintf(path, sizeof path, "%s/out/density.tif", dir);
    size_t tp, tr, tc;
    bcdi_dtype tt;
    cr_assert_eq(bcdi_tiff_info(path, &tp, &tr, &tc, &tt), BCDI_OK);
    cr_expect_eq(bytes, tp * tr * tc * sizeof(float));
    float *page = malloc(tr * tc * sizeof *page);
    cr_assert_eq(bcdi_tiff_read_page(path, tp / 2, page, tr * tc), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(
        memcmp(page, density + (tp / 2) * tr * tc * sizeof(float), tr * tc * sizeof(float)), 0,
        "the .vti and the TIFF disagree on the middle page");
    free(page);
    free(density);
    free(vti);
    snprintf(path, sizeof path, "%s/out/density.png", dir);
    char *png = tu_read_text(path);
    cr_expect(png && (unsigned char)png[0] == 0x89 && !strncmp(png + 1, "PNG", 3));
    free(png);
    size_t pages, rows, columns;
    bcdi_dtype stored;
    snprintf(path, sizeof path, "%s/out/displacement.tif", dir);
    cr_expect_eq(bcdi_tiff_info(path, &pages, &rows, &columns, &stored), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(stored, BCDI_DT_F32);
    cr_expect_gt(pages, 10);
    tu_remove_tree(dir);
    free(dir);
}

/* A result file with the object (and optionally a support), no geometry. */
static void write_result(const char *path, const size_t shape[3], const bcdi_cf *object,
                         const uint8_t *support)
{
    bcdi_h5_writer *w;
    cr_assert_eq(bcdi_cxi_create(path, &w), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_cxi_write_object(w, shape, object, support, 0), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_assert_eq(bcdi_h5_commit(w), BCDI_OK, "%s", bcdi_last_error());
}

static bcdi_cf *ball(const size_t shape[3])
{
    size_t n = shape[0] * shape[1] * shape[2];
    bcdi_cf *x = calloc(n, sizeof *x);
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                double d0 = i0 - shape[0] / 2.0, d1 = i1 - shape[1] / 2.0, d2 = i2 - shape[2] / 2.0;
                if (d0 * d0 + d1 * d1 + d2 * d2 < 36.0)
                    x[(i0 * shape[1] + i1) * shape[2] + i2] = (bcdi_cf){0.6f, 0.8f};
            }
    return x;
}

/* run analyze; expect failure with `needle` in the message and the folder left as it was */
static void expect_failure(const char *dir, const char *input, const char *extra,
                           const char *needle, int entries_before)
{
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "analyze %s/%s %s -o %s/out", dir, input, extra, dir);
    int rc = tu_run_braggcdi(cmd, &out);
    cr_expect_neq(rc, 0, "'%s' succeeded: %s", cmd, out);
    cr_expect(strstr(out, needle) != NULL, "'%s': message lacks '%s': %s", extra, needle, out);
    cr_log_info("%s %s -> exit %d: %s", input, extra, rc, out);
    cr_expect_eq(tu_count_entries(dir), entries_before, "'%s %s' left something behind", input,
                 extra);
    free(out);
}

Test(analyze_cli, bad_input_clear_error_nothing_written)
{
    char *dir = tu_make_temp_dir("analyze-bad");
    const size_t shape[3] = {24, 24, 24};
    size_t n = shape[0] * shape[1] * shape[2];
    bcdi_cf *x = ball(shape);
    char path[4096];
    snprintf(path, sizeof path, "%s/plain.cxi", dir);
    write_result(path, shape, x, NULL);
    /* no geometry, no stand-ins: both named; one given: the other named */
    expect_failure(dir, "plain.cxi", "", "voxel_size= (nm) and d_spacing= (", 1);
    expect_failure(dir, "plain.cxi", "voxel_size=20", "give d_spacing=", 1);
    expect_failure(dir, "plain.cxi", "d_spacing=4.733", "give voxel_size= (nm) on", 1);
    /* an empty support */
    uint8_t *empty = calloc(n, 1);
    snprintf(path, sizeof path, "%s/empty.cxi", dir);
    write_result(path, shape, x, empty);
    expect_failure(dir, "empty.cxi", "voxel_size=20 d_spacing=4.733", "support", 2);
    /* an all-zero object */
    bcdi_cf *zero = calloc(n, sizeof *zero);
    snprintf(path, sizeof path, "%s/zero.cxi", dir);
    write_result(path, shape, zero, NULL);
    expect_failure(dir, "zero.cxi", "voxel_size=20 d_spacing=4.733", "empty support", 3);
    /* a NaN */
    x[n / 2 + 3].re = NAN;
    snprintf(path, sizeof path, "%s/nan.cxi", dir);
    write_result(path, shape, x, NULL);
    expect_failure(dir, "nan.cxi", "voxel_size=20 d_spacing=4.733", "NaN", 4);
    /* bad keys and values */
    expect_failure(dir, "plain.cxi", "voxel_size=20 d_spacing=4.733 frame=sideways", "frame", 4);
    expect_failure(dir, "plain.cxi", "voxel_size=20 d_spacing=4.733 support_threshold=2",
                   "support_threshold", 4);
    expect_failure(dir, "plain.cxi", "voxl_size=20", "voxl_size", 4);
    expect_failure(dir, "missing.cxi", "voxel_size=20 d_spacing=4.733", "missing.cxi", 4);
    /* an output path that is a file, and one whose parent does not exist */
    char cmd0[4096], *out0 = NULL;
    snprintf(cmd0, sizeof cmd0,
             "analyze %s/plain.cxi voxel_size=20 d_spacing=4.733 -o %s/plain.cxi", dir, dir);
    cr_expect_neq(tu_run_braggcdi(cmd0, &out0), 0);
    cr_expect(strstr(out0, "not a folder") != NULL, "%s", out0);
    free(out0);
    snprintf(cmd0, sizeof cmd0, "analyze %s/plain.cxi voxel_size=20 d_spacing=4.733 -o %s/no/out",
             dir, dir);
    cr_expect_neq(tu_run_braggcdi(cmd0, &out0), 0);
    cr_expect(strstr(out0, "folder") != NULL && strstr(out0, "does not exist") != NULL, "%s", out0);
    free(out0);
    cr_expect_eq(tu_count_entries(dir), 4, "bad output paths left something behind");
    /* and with the stand-ins the plain file works */
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "analyze %s/plain.cxi voxel_size=20 d_spacing=4.733 -o %s/out", dir,
             dir);
    cr_expect_eq(tu_run_braggcdi(cmd, &out), 0, "%s", out);
    free(out);
    snprintf(path, sizeof path, "%s/out", dir);
    cr_expect_eq(tu_count_entries(path), 9);
    free(x);
    free(zero);
    free(empty);
    tu_remove_tree(dir);
    free(dir);
}

Test(analyze_cli, help_lists_keys)
{
    char *out = NULL;
    cr_expect_eq(tu_run_braggcdi("analyze --help", &out), 0);
    cr_expect(strstr(out, "usage") && strstr(out, "support_threshold") &&
                  strstr(out, "voxel_size") && strstr(out, "d_spacing") &&
                  strstr(out, "phase_reference"),
              "%s", out);
    free(out);
}
