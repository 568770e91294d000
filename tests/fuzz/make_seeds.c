/* SPDX-License-Identifier: BSD-3-Clause */
/* Seed files for the binary-format fuzz targets, made at build time by braggcdi's own writers
 * (and libtiff/matio for the variants braggcdi does not write), so no binary blob is kept in the
 * repository. Usage: bcdi_fuzz_seeds OUTDIR -> OUTDIR/<target>/<seed> for fuzz_npy, fuzz_tiff,
 * fuzz_hdf5, fuzz_hdf5_layout and fuzz_mat. Every seed is a small valid file (a few frames of a
 * few pixels), so the fuzzer starts from inputs that get deep into each reader. It also writes
 * OUTDIR/fuzz_config_ini.dict and fuzz_config_keys.dict, libFuzzer dictionaries of every key,
 * section and choice word of the stages' tables (so they follow the tables). */
#include "bcdi/analysis.h"
#include "bcdi/compare.h"
#include "bcdi/config.h"
#include "bcdi/geometry.h"
#include "bcdi/phasing_params.h"
#include "bcdi/prepare.h"
#include "bcdi/simulate.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/hdf5.h"
#include "io/nexus.h"
#include "io/npy.h"
#include "io/tiff_io.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#ifdef BCDI_HAVE_MATIO
#include <matio.h>
#endif

static const char *out_dir;
static int failures;

static const char *seed_path(const char *target, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bcdi_fuzz_seeds: cannot make '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    return path;
}

static void check(bcdi_status st, const char *what)
{
    if (st == BCDI_OK) return;
    fprintf(stderr, "bcdi_fuzz_seeds: %s: %s\n", what, bcdi_last_error());
    failures++;
}

enum { F = 3, R = 6, C = 5, N = F * R * C };

static void npy_seeds(const float *f32, const uint16_t *u16)
{
    const size_t stack[3] = {F, R, C}, frame[2] = {R, C}, small[2] = {3, 5};
    check(bcdi_npy_write(NULL, seed_path("fuzz_npy", "stack_f32.npy"), BCDI_DT_F32, 3, stack, f32),
          "npy f32");
    check(bcdi_npy_write(NULL, seed_path("fuzz_npy", "frame_u16.npy"), BCDI_DT_U16, 2, frame, u16),
          "npy u16");
    /* regression: prepare's peak search wrote 5 x 5 values into buffers of a 3 x 5 frame */
    check(bcdi_npy_write(NULL, seed_path("fuzz_npy", "regress_small_frame.npy"), BCDI_DT_U16, 2,
                         small, u16),
          "npy small frame");
}

/* A tiled uint16 page: braggcdi writes strips, detectors sometimes tiles. */
static void tiled_tiff(const char *path, const uint16_t *u16)
{
    TIFF *t = TIFFOpen(path, "w");
    if (!t) {
        failures++;
        return;
    }
    enum { W = 20, H = 18, TILE = 16 };
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)W);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)H);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, (uint16_t)16);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, (uint16_t)SAMPLEFORMAT_UINT);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, (uint16_t)PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, (uint16_t)PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_TILEWIDTH, (uint32_t)TILE);
    TIFFSetField(t, TIFFTAG_TILELENGTH, (uint32_t)TILE);
    uint16_t tile[TILE * TILE];
    for (uint32_t y = 0; y < H; y += TILE)
        for (uint32_t x = 0; x < W; x += TILE) {
            for (int i = 0; i < TILE * TILE; ++i)
                tile[i] = u16[i % N];
            if (TIFFWriteTile(t, tile, x, y, 0, 0) < 0) failures++;
        }
    TIFFClose(t);
}

static void tiff_seeds(const float *f32, const uint16_t *u16)
{
    const size_t stack[3] = {F, R, C}, one[3] = {1, R, C};
    check(bcdi_tiff_write_multipage(NULL, seed_path("fuzz_tiff", "pages_u16.tif"), BCDI_DT_U16,
                                    stack, u16),
          "tiff u16");
    check(bcdi_tiff_write_multipage(NULL, seed_path("fuzz_tiff", "page_f32.tif"), BCDI_DT_F32, one,
                                    f32),
          "tiff f32");
    tiled_tiff(seed_path("fuzz_tiff", "tiled_u16.tif"), u16);
}

static void hdf5_seeds(const float *f32, const uint16_t *u16)
{
    bcdi_geometry g;
    bcdi_geometry_default_i13(&g);
    const size_t stack[3] = {F, R, C};
    check(bcdi_geometry_compute(&g, stack), "geometry");
    double theta[F];
    uint32_t mask[R * C];
    for (int i = 0; i < F; ++i)
        theta[i] = 10.0 + 0.005 * i;
    for (int i = 0; i < R * C; ++i)
        mask[i] = i % 7 == 0 ? BCDI_PIXEL_DEAD : 0;
    bcdi_nexus_stack nexus = {.dims = {F, R, C},
                              .type = BCDI_DT_U16,
                              .frames = u16,
                              .rocking_deg = theta,
                              .pixel_mask = mask,
                              .geometry = &g};
    check(bcdi_nexus_write_stack(NULL, seed_path("fuzz_hdf5", "stack.nxs"), &nexus), "nexus");

    /* prepared data with its geometry and diffraction summary */
    uint8_t measured[N];
    for (int i = 0; i < N; ++i)
        measured[i] = i % 11 == 0;
    bcdi_h5_writer *w = NULL;
    bcdi_status st = bcdi_cxi_create(seed_path("fuzz_hdf5", "prepared.cxi"), &w);
    if (st == BCDI_OK) st = bcdi_cxi_write_prepared(w, stack, f32, measured, &g, 0);
    bcdi_cxi_summary s;
    memset(&s, 0, sizeof s);
    s.bin[0] = s.bin[1] = s.bin[2] = 1;
    s.two_theta_deg = g.two_theta_deg;
    if (st == BCDI_OK) st = bcdi_cxi_write_summary(w, &s);
    if (st == BCDI_OK)
        st = bcdi_h5_commit(w);
    else
        bcdi_h5_abort(w);
    check(st, "cxi prepared");

    /* a phasing result */
    bcdi_cf object[N];
    for (int i = 0; i < N; ++i)
        object[i] = (bcdi_cf){f32[i], -f32[i]};
    bcdi_cxi_result result = {.shape = {F, R, C},
                              .object = object,
                              .support = measured,
                              .data_shape = {F, R, C},
                              .geometry = &g,
                              .metric = "llk",
                              .program = "braggcdi"};
    check(bcdi_cxi_write_result(NULL, seed_path("fuzz_hdf5", "result.cxi"), &result), "result");
}

/* fuzz_hdf5_layout reads a description of a file (fuzz_hdf5_layout.c): per object its path
 * (index into known_paths), kind, element type, rank, dimensions and value bytes. */
typedef struct {
    uint8_t bytes[512];
    size_t size;
} layout;

static void put(layout *l, const uint8_t *bytes, size_t n)
{
    if (l->size + n > sizeof l->bytes) {
        failures++;
        return;
    }
    if (n) memcpy(l->bytes + l->size, bytes, n);
    l->size += n;
}

/* A dataset: kind 0 (3: with units), type, dims (each < 200 is itself mod 9, >= 200 a large
 * value), then min(bytes, 64) value bytes taken from `values`. */
static void layout_dataset(layout *l, uint8_t path, uint8_t kind, uint8_t type, int rank,
                           const uint8_t *dims, const void *values, size_t value_bytes)
{
    uint8_t head[4] = {path, kind, type, (uint8_t)rank};
    put(l, head, 4);
    put(l, dims, (size_t)rank);
    put(l, values, value_bytes < 64 ? value_bytes : 64);
}

static void layout_write(const char *name, const layout *l)
{
    FILE *f = fopen(seed_path("fuzz_hdf5_layout", name), "wb");
    if (!f || fwrite(l->bytes, 1, l->size, f) != l->size) failures++;
    if (f) fclose(f);
}

/* path indices in known_paths of fuzz_hdf5_layout.c */
enum {
    P_NEXUS_DATA = 0,
    P_PIXEL_MASK = 1,
    P_T1_THETA = 6,
    P_ENERGY = 7,
    P_CXI_DATA = 14,
    P_CXI_MASK = 15,
    P_CXI_LINK = 16,
    P_GEO_ENERGY = 22,
    P_IMAGE_DATA = 40,
};
/* element types: 0 u8, 1 u16, 2 u32, 6 f32, 7 f64, 8 complex; units 4 = deg, 6 = keV */
static void layout_seeds(const float *f32, const uint16_t *u16)
{
    const uint8_t stack[3] = {F, R, C}, frame[2] = {R, C}, three[1] = {F};
    const double theta[F] = {10.0, 10.005, 10.01}, energy = 11.0;
    uint32_t mask[R * C] = {0};
    mask[3] = BCDI_PIXEL_DEAD;
    layout nexus = {0};
    layout_dataset(&nexus, P_NEXUS_DATA, 0, 1, 3, stack, u16, sizeof(uint16_t) * N);
    layout_dataset(&nexus, P_PIXEL_MASK, 0, 2, 2, frame, mask, sizeof mask);
    layout_dataset(&nexus, P_T1_THETA, 3, 7, 1, three, theta, sizeof theta);
    put(&nexus, (const uint8_t[]){4}, 1); /* deg */
    layout_dataset(&nexus, P_ENERGY, 3, 7, 0, NULL, &energy, sizeof energy);
    put(&nexus, (const uint8_t[]){6}, 1); /* keV */
    layout_write("nexus", &nexus);

    layout cxi = {0};
    uint8_t measured[N] = {0};
    layout_dataset(&cxi, P_CXI_DATA, 0, 6, 3, stack, f32, sizeof(float) * N);
    layout_dataset(&cxi, P_CXI_MASK, 0, 0, 3, stack, measured, sizeof measured);
    put(&cxi, (const uint8_t[]){P_CXI_LINK, 1, P_CXI_DATA}, 3); /* data_1/data -> detector */
    layout_dataset(&cxi, P_GEO_ENERGY, 0, 7, 0, NULL, &energy, sizeof energy);
    layout_dataset(&cxi, P_IMAGE_DATA, 0, 8, 3, stack, f32, sizeof(float) * N);
    layout_write("cxi", &cxi);

    /* declared sizes that overflow a product: 2 x 2^61 x 64 frames, 1 x (2^63 - 1) x 8 */
    layout huge = {0};
    layout_dataset(&huge, P_NEXUS_DATA, 0, 1, 3, (const uint8_t[]){2, 207, 200}, NULL, 0);
    layout_dataset(&huge, P_CXI_DATA, 4, 6, 3, (const uint8_t[]){1, 209, 8}, NULL, 0);
    layout_write("huge", &huge);

    /* regression: frames under 5 x 5 pixels (prepare's peak search overflowed its buffers) */
    layout small = {0};
    layout_dataset(&small, P_NEXUS_DATA, 0, 1, 3, (const uint8_t[]){3, 2, 3}, u16, 36);
    layout_write("regress_small_frame", &small);
}

#ifdef BCDI_HAVE_MATIO
static void mat_seed(const char *name, enum mat_ft version, enum matio_classes class_type,
                     enum matio_types data_type, void *values, enum matio_compression compression)
{
    mat_t *mat = Mat_CreateVer(seed_path("fuzz_mat", name), NULL, version);
    if (!mat) {
        failures++;
        return;
    }
    size_t dims[3] = {R, C, F};
    matvar_t *var = Mat_VarCreate("data", class_type, data_type, 3, dims, values, 0);
    if (!var || Mat_VarWrite(mat, var, compression) != 0) failures++;
    Mat_VarFree(var);
    Mat_Close(mat);
}

static void mat_seeds(float *f32, uint16_t *u16)
{
    mat_seed("single_v5.mat", MAT_FT_MAT5, MAT_C_SINGLE, MAT_T_SINGLE, f32, MAT_COMPRESSION_NONE);
    mat_seed("uint16_v5z.mat", MAT_FT_MAT5, MAT_C_UINT16, MAT_T_UINT16, u16, MAT_COMPRESSION_ZLIB);
}
#endif

/* "key=" (and "key = "), "[section]" and the choice words of every stage's table */
static void config_dictionaries(void)
{
    const bcdi_param_table *tables[] = {bcdi_simulate_param_table(), bcdi_prepare_param_table(),
                                        bcdi_phase_param_table(), bcdi_analysis_param_table(),
                                        bcdi_compare_param_table()};
    static const char *const names[] = {"fuzz_config_ini.dict", "fuzz_config_keys.dict"};
    for (size_t n = 0; n < 2; ++n) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", out_dir, names[n]);
        FILE *f = fopen(path, "w");
        if (!f) {
            failures++;
            continue;
        }
        fprintf(f, "# made by bcdi_fuzz_seeds from the stages' key tables\n");
        for (size_t t = 0; t < sizeof tables / sizeof *tables; ++t) {
            fprintf(f, "\"[%s]\"\n", tables[t]->section);
            for (size_t k = 0; k < tables[t]->count; ++k) {
                const bcdi_param_spec *spec = &tables[t]->specs[k];
                fprintf(f, "\"%s=\"\n\"%s = \"\n", spec->key, spec->key);
                for (size_t c = 0; spec->choices && spec->choices[c]; ++c)
                    fprintf(f, "\"%s\"\n", spec->choices[c]);
                if (spec->word) fprintf(f, "\"%s\"\n", spec->word);
            }
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bcdi_fuzz_seeds OUTDIR\n");
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bcdi_fuzz_seeds: cannot make '%s': %s\n", out_dir, strerror(errno));
        return 1;
    }
    bcdi_h5_process_init();
    float f32[N];
    uint16_t u16[N];
    for (int i = 0; i < N; ++i) { /* a peak in the middle frame */
        int f = i / (R * C), r = (i / C) % R, c = i % C;
        double d2 = (f - 1) * (f - 1) + (r - 3) * (r - 3) + (c - 2) * (c - 2);
        f32[i] = (float)(1000.0 / (1.0 + d2));
        u16[i] = (uint16_t)f32[i];
    }
    npy_seeds(f32, u16);
    tiff_seeds(f32, u16);
    hdf5_seeds(f32, u16);
    layout_seeds(f32, u16);
    config_dictionaries();
#ifdef BCDI_HAVE_MATIO
    mat_seeds(f32, u16);
#endif
    return failures ? 1 : 0;
}
