/* SPDX-License-Identifier: BSD-3-Clause */
/* Inputs of `prepare`, axis order: a stack whose stored axes hold the frames, rows and columns in
 * another order than (frames, rows, columns) — MATLAB's A(row, column, frame), a numpy stack
 * saved frames last — is read as if it were (frames, rows, columns). HDF5 inputs stay on
 * hyperslabs (the region of one frame is one slab of the stored array, transposed when the rows
 * come after the columns); the others are held whole in memory once. */
#include "prep/prep_internal.h"

#include "core/memory.h"

#include "bcdi/log.h"
#include "core/interrupt.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Stored stacks held whole are float32: refuse more than this (16 GiB). */
#define PREP_WHOLE_MAX_ELEMENTS ((size_t)1 << 32)

static bcdi_status load_whole(prep_input *in)
{
    const size_t *s = in->stored_dims;
    if (s[1] && s[2] > SIZE_MAX / s[1])
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': frames of %zu x %zu overflow", in->path, s[1],
                          s[2]);
    size_t plane = s[1] * s[2];
    if (plane && s[0] > PREP_WHOLE_MAX_ELEMENTS / plane)
        return bcdi_error(BCDI_ERR_NOMEM,
                          "'%s': a %zu x %zu x %zu stack whose frames are not its first axis is "
                          "read whole, and that is more than %zu values",
                          in->path, s[0], s[1], s[2], PREP_WHOLE_MAX_ELEMENTS);
    float *whole = malloc(s[0] * plane * sizeof *whole);
    if (!whole)
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot hold the %zu x %zu x %zu stack", in->path,
                          s[0], s[1], s[2]);
    for (size_t k = 0; k < s[0]; k++) {
        bcdi_status st =
            bcdi_interrupt_check("during prepare, reading stored frame %zu of %zu", k + 1, s[0]);
        if (st == BCDI_OK) st = prep_input_read_stored(in, k, 0, s[1], 0, s[2], whole + k * plane);
        if (st != BCDI_OK) {
            free(whole);
            return st;
        }
    }
    in->whole = whole;
    return BCDI_OK;
}

bcdi_status prep_input_set_axes(prep_input *in, const int axis_of[3])
{
    int seen[3] = {0, 0, 0};
    for (int a = 0; a < 3; a++) {
        if (axis_of[a] < 0 || axis_of[a] > 2 || seen[axis_of[a]])
            return bcdi_error(BCDI_ERR_CONFIG, "axes %d,%d,%d: not a permutation of 0,1,2",
                              axis_of[0], axis_of[1], axis_of[2]);
        seen[axis_of[a]] = 1;
    }
    int permuted = axis_of[0] != 0 || axis_of[1] != 1 || axis_of[2] != 2;
    int single_frame = (in->kind == PREP_INPUT_HDF5 || in->kind == PREP_INPUT_CXI)
                           ? in->data_rank == 2
                       : in->kind == PREP_INPUT_NPY ? in->npy.rank == 2
                                                    : 0;
    if (permuted && single_frame)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "'%s' holds a single 2-D frame: key 'axes' (%d,%d,%d) cannot reorder it",
                          in->path, axis_of[0], axis_of[1], axis_of[2]);
    memcpy(in->axis_of, axis_of, sizeof in->axis_of);
    in->permuted = permuted;
    for (int a = 0; a < 3; a++)
        in->dims[a] = in->stored_dims[axis_of[a]];
    if (!permuted || in->whole || in->kind == PREP_INPUT_HDF5 || in->kind == PREP_INPUT_CXI)
        return BCDI_OK;
    return load_whole(in);
}

/* One frame region of a permuted HDF5 stack: one hyperslab in the stored order. */
static bcdi_status read_slab_permuted(prep_input *in, size_t f, size_t r0, size_t nr, size_t c0,
                                      size_t nc, float *out)
{
    size_t start[3], count[3];
    start[in->axis_of[0]] = f, count[in->axis_of[0]] = 1;
    start[in->axis_of[1]] = r0, count[in->axis_of[1]] = nr;
    start[in->axis_of[2]] = c0, count[in->axis_of[2]] = nc;
    if (in->axis_of[1] < in->axis_of[2]) /* rows before columns: already row-major */
        return bcdi_h5_read_slab(in->h5, in->data_path, BCDI_DT_F32, start, count, out);
    float *columns_first = malloc(nr * nc * sizeof *columns_first);
    if (!columns_first)
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot allocate a %zu x %zu region", in->path, nr,
                          nc);
    bcdi_status st =
        bcdi_h5_read_slab(in->h5, in->data_path, BCDI_DT_F32, start, count, columns_first);
    for (size_t r = 0; st == BCDI_OK && r < nr; r++)
        for (size_t c = 0; c < nc; c++)
            out[r * nc + c] = columns_first[c * nr + r];
    free(columns_first);
    return st;
}

bcdi_status prep_input_read(prep_input *in, size_t f, size_t r0, size_t nr, size_t c0, size_t nc,
                            float *out)
{
    if (f >= in->dims[0] || r0 + nr > in->dims[1] || c0 + nc > in->dims[2])
        return bcdi_error(BCDI_ERR_INTERNAL,
                          "'%s': region frame %zu rows %zu+%zu columns %zu+%zu outside the stack",
                          in->path, f, r0, nr, c0, nc);
    /* every frame read passes here: the safe point of prepare's frame loops */
    bcdi_status stop =
        bcdi_interrupt_check("during prepare, reading frame %zu of %zu", f + 1, in->dims[0]);
    if (stop != BCDI_OK) return stop;
    if (!in->permuted) return prep_input_read_stored(in, f, r0, nr, c0, nc, out);
    if (!in->whole) return read_slab_permuted(in, f, r0, nr, c0, nc, out);
    /* strides of the stored array along the frames, rows and columns */
    size_t stride_of_stored[3] = {in->stored_dims[1] * in->stored_dims[2], in->stored_dims[2], 1};
    size_t sf = stride_of_stored[in->axis_of[0]], sr = stride_of_stored[in->axis_of[1]],
           sc = stride_of_stored[in->axis_of[2]];
    for (size_t r = 0; r < nr; r++) {
        const float *row = in->whole + f * sf + (r0 + r) * sr + c0 * sc;
        for (size_t c = 0; c < nc; c++)
            out[r * nc + c] = row[c * sc];
    }
    return BCDI_OK;
}

/* ---- the key ------------------------------------------------------------------------------- */

bcdi_status prep_setup_axes(prep_ctx *c)
{
    const bcdi_prepare_params *p = c->p;
    int axis_of[3] = {0, 1, 2};
    const char *why = "key 'axes'";
    if (!p->axes_auto) {
        memcpy(axis_of, p->axis_of, sizeof axis_of);
    } else if (c->in.kind == PREP_INPUT_MAT) {
        axis_of[0] = 2, axis_of[1] = 0, axis_of[2] = 1;
        why = "the default for .mat: MATLAB's size(A) = rows x columns x frames; give "
              "axes=frame,row,column if the frames come first";
    } else {
        why = "the default: frames first; give axes= (e.g. axes=row,column,frame) if the "
              "rocking axis is another";
    }
    int permuted = axis_of[0] != 0 || axis_of[1] != 1 || axis_of[2] != 2;
    if (permuted && c->in.kind != PREP_INPUT_HDF5 && c->in.kind != PREP_INPUT_CXI &&
        c->in.kind != PREP_INPUT_MAT) {
        /* the reordered stack is read whole: refuse it before reading when it cannot fit */
        const size_t *s = c->in.stored_dims;
        char how[120];
        snprintf(how, sizeof how, "a %zu x %zu x %zu stack reordered by axes= (held whole)", s[0],
                 s[1], s[2]);
        bcdi_status fits = bcdi_memory_check(
            64.0 * 1048576.0 + 4.0 * (double)s[0] * (double)s[1] * (double)s[2], p->max_memory,
            "prepare", how, "store the frames first (no axes=), or raise max_memory=");
        if (fits != BCDI_OK) return fits;
    }
    bcdi_status st = prep_input_set_axes(&c->in, axis_of);
    if (st != BCDI_OK) return st;
    static const char *const meaning[3] = {"frame", "row", "column"};
    const char *stored_meaning[3];
    for (int a = 0; a < 3; a++)
        stored_meaning[axis_of[a]] = meaning[a];
    bcdi_log(BCDI_LOG_NOTICE,
             "axes: stored %zu x %zu x %zu are (%s, %s, %s): the rocking axis is stored axis %d "
             "(%zu frames) (%s)",
             c->in.stored_dims[0], c->in.stored_dims[1], c->in.stored_dims[2], stored_meaning[0],
             stored_meaning[1], stored_meaning[2], axis_of[0], c->in.dims[0], why);
    if (c->in.permuted && c->in.kind != PREP_INPUT_HDF5 && c->in.kind != PREP_INPUT_CXI &&
        c->in.kind != PREP_INPUT_MAT)
        bcdi_log(BCDI_LOG_INFO, "axes: the reordered stack is held whole in memory (%.1f MB)",
                 (double)(c->in.dims[0] * c->in.dims[1] * c->in.dims[2]) * 4e-6);
    return BCDI_OK;
}
