/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, per-voxel masks: a mask_file with one value per voxel of the input (frames x rows x
 * columns, in the input's stored axis order, so axes= applies to it as to the data), read one
 * frame region at a time like the frames; or one frame's pixels in any input format (a .mat
 * image included). Values above mask_threshold (and NaN) are bad. */
#include "prep/prep_internal.h"

#include "bcdi/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One frame of exactly the input's pixels: into c->bad. */
static bcdi_status mask_one_frame(prep_ctx *c, prep_input *m)
{
    size_t rows = c->in.dims[1], cols = c->in.dims[2], plane = rows * cols, bad = 0;
    float *v = malloc(plane * sizeof *v);
    if (!v) return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
    bcdi_status st = prep_input_read(m, 0, 0, rows, 0, cols, v);
    for (size_t i = 0; st == BCDI_OK && i < plane; i++)
        if (!(v[i] <= c->p->mask_threshold) && !c->bad[i]) c->bad[i] = 1, bad++;
    free(v);
    if (st == BCDI_OK)
        bcdi_log(BCDI_LOG_INFO, "mask: %zu bad pixels (value > %g) from '%s'", bad,
                 c->p->mask_threshold, c->p->mask_file);
    return st;
}

bcdi_status prep_mask3d_open(prep_ctx *c, int *handled)
{
    const bcdi_prepare_params *p = c->p;
    *handled = 0;
    prep_input m;
    /* a .mat variable name has no '/': an HDF5 path in mask_dataset means "the only one" */
    const char *dataset = p->mask_dataset;
    size_t n = strlen(p->mask_file);
    int is_mat = n > 4 && !strcmp(p->mask_file + n - 4, ".mat");
    if (is_mat && strchr(dataset, '/')) dataset = "";
    if (prep_input_open(p->mask_file, "auto", dataset, &m) != BCDI_OK) {
        bcdi_clear_error(); /* not a stack: the image path says what is wrong with it */
        return BCDI_OK;
    }
    /* a single frame has no axes to reorder (a 2-D MATLAB image is rows x columns x 1) */
    static const int identity[3] = {0, 1, 2}, matlab_image[3] = {2, 0, 1};
    const int *axes = m.stored_dims[0] == 1             ? identity
                      : is_mat && m.stored_dims[2] == 1 ? matlab_image
                                                        : c->in.axis_of;
    bcdi_status st = prep_input_set_axes(&m, axes);
    if (st != BCDI_OK) {
        prep_input_close(&m);
        return st;
    }
    const size_t *want = c->in.dims;
    if (m.dims[0] == 1 && m.dims[1] == want[1] && m.dims[2] == want[2]) {
        st = mask_one_frame(c, &m);
        prep_input_close(&m);
        *handled = st == BCDI_OK;
        return st;
    }
    if (m.dims[0] == 1 && !is_mat) { /* an image of another size: cut at frame_origin */
        prep_input_close(&m);
        return BCDI_OK;
    }
    if (m.dims[0] != want[0] || m.dims[1] != want[1] || m.dims[2] != want[2]) {
        prep_input_close(&m);
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': mask_file is %zu x %zu x %zu (frames, rows, columns after "
                          "axes=), the input '%s' is %zu x %zu x %zu: a 3-D mask needs the "
                          "input's shape, a 2-D one its frame's",
                          p->mask_file, m.dims[0], m.dims[1], m.dims[2], c->in.path, want[0],
                          want[1], want[2]);
    }
    c->mask3d_in = m;
    c->mask3d_file = 1;
    *handled = 1;
    bcdi_log(BCDI_LOG_INFO, "mask: per-voxel mask_file '%s' (%zu x %zu x %zu, value > %g = bad)",
             p->mask_file, m.dims[0], m.dims[1], m.dims[2], p->mask_threshold);
    return BCDI_OK;
}

bcdi_status prep_mask3d_read(prep_ctx *c, long f, size_t sr0, size_t nr, size_t sc0, size_t nc)
{
    if (c->mask3d_path[0]) { /* the input's own per-frame mask: uint8 by hyperslab */
        size_t start[3] = {(size_t)f, sr0, sc0}, count[3] = {1, nr, nc};
        return bcdi_h5_read_slab(c->in.h5, c->mask3d_path, BCDI_DT_U8, start, count, c->mask3d_buf);
    }
    if (nr * nc > c->mask3d_values_cap) {
        free(c->mask3d_values);
        c->mask3d_values = malloc(nr * nc * sizeof *c->mask3d_values);
        c->mask3d_values_cap = c->mask3d_values ? nr * nc : 0;
        if (!c->mask3d_values)
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: cannot allocate a %zu x %zu mask region",
                              nr, nc);
    }
    bcdi_status st = prep_input_read(&c->mask3d_in, (size_t)f, sr0, nr, sc0, nc, c->mask3d_values);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "mask_file: ");
    double threshold = c->p->mask_threshold;
    for (size_t i = 0; i < nr * nc; i++)
        c->mask3d_buf[i] = !(c->mask3d_values[i] <= threshold);
    return BCDI_OK;
}
