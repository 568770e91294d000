/* SPDX-License-Identifier: BSD-3-Clause */
/* prepare's frame and calibration-image reads on a fuzzed file (fuzz_frames.h). */
#include "fuzz_frames.h"

#include "bcdi/log.h"
#include "bcdi/prepare.h"

#include <stdio.h>
#include <stdlib.h>

enum { MAX_FRAMES = 4, REGION = 48 };

static size_t smaller(size_t a, size_t b)
{
    return a < b ? a : b;
}

void fuzz_read_stack(const char *path, const char *format)
{
    prep_input in;
    if (prep_input_open(path, format, "", &in) != BCDI_OK) return;
    size_t nr = smaller(in.dims[1], REGION), nc = smaller(in.dims[2], REGION);
    float *region = malloc(nr * nc * sizeof *region);
    for (size_t f = 0; region && f < smaller(in.dims[0], MAX_FRAMES); ++f) {
        if (prep_input_read(&in, f, 0, nr, 0, nc, region) != BCDI_OK) break;
        /* the far corner: offsets computed from the declared shape */
        if (prep_input_read(&in, f, in.dims[1] - nr, nr, in.dims[2] - nc, nc, region) != BCDI_OK)
            break;
    }
    /* the last frame */
    if (region && in.dims[0] > MAX_FRAMES)
        (void)prep_input_read(&in, in.dims[0] - 1, 0, nr, 0, nc, region);
    free(region);
    prep_input_close(&in);
}

void fuzz_read_image(const char *path, const char *dataset)
{
    size_t rows = 0, cols = 0;
    float *image = NULL;
    const long origin[2] = {1, 2};
    if (prep_load_image(path, dataset, &rows, &cols, origin, 0, &image) != BCDI_OK) return;
    free(image);
    image = NULL;
    if (rows > 3 && cols > 3) {
        size_t cut_rows = rows - 2, cut_cols = cols - 3;
        if (prep_load_image(path, dataset, &cut_rows, &cut_cols, origin, 0, &image) == BCDI_OK)
            free(image);
    }
}

/* Messages are formatted (a bad argument would show) and dropped. */
static void drop_message(bcdi_log_level level, const char *message, void *user)
{
    (void)level;
    (void)message;
    (void)user;
}

void fuzz_prepare(const char *path, const char *format)
{
    bcdi_set_log_sink(drop_message, NULL);
    prep_input in;
    if (prep_input_open(path, format, "", &in) != BCDI_OK) return;
    size_t voxels = 0;
    int small = !__builtin_mul_overflow(in.dims[0], in.dims[1], &voxels) &&
                !__builtin_mul_overflow(voxels, in.dims[2], &voxels) &&
                voxels <= FUZZ_PREPARE_MAX_VOXELS;
    prep_input_close(&in);
    if (!small) return;
    bcdi_prepare_params p;
    bcdi_prepare_default(&p);
    snprintf(p.input_format, sizeof p.input_format, "%s", format);
    bcdi_prepared prepared;
    if (bcdi_prepare_load(path, &p, &prepared) == BCDI_OK) bcdi_prepared_free(&prepared);
}
