/* SPDX-License-Identifier: BSD-3-Clause */
/* MATLAB .mat files (v5, and v7.3 which is HDF5) through libmatio: one numeric variable read
 * as float32.
 *
 * Axis order: MATLAB stores arrays column-major (the first index varies fastest). The reader
 * keeps MATLAB's index meaning and writes C order: shape = size(A) (a 2-D variable gets a
 * trailing 1, as MATLAB's size(A, 3) says), and out[(i * shape[1] + j) * shape[2] + k] is
 * A(i+1, j+1, k+1). So a stack saved in MATLAB as A(row, column, frame) arrives with the frames
 * on the last axis: the caller chooses which axis is the rocking axis.
 *
 * Sizes are checked before any data is read: a product of dimensions that overflows, more than
 * BCDI_MAT_MAX_ELEMENTS elements, or more elements than the file could hold (one byte each
 * uncompressed, deflate's 1032:1 at best when compressed or in v7.3) is refused. Non-finite
 * values (NaN is MATLAB's usual mark for a bad pixel) are kept; doubles beyond float range
 * become infinities. Without libmatio at build time every call returns BCDI_ERR_UNSUPPORTED. */
#ifndef BCDI_IO_MAT_H
#define BCDI_IO_MAT_H

#include "bcdi/error.h"

#include <stddef.h>

#define BCDI_MAT_MAX_ELEMENTS ((size_t)1 << 34) /* 64 GiB of float32 */

typedef struct bcdi_mat_array {
    float *data;     /* shape[0] * shape[1] * shape[2] values, C order (see above) */
    size_t shape[3]; /* size(A) as MATLAB prints it, trailing 1 for 2-D */
    int rank;        /* 2 or 3, as stored */
    char name[64];   /* the variable's name */
    char type[16];   /* its MATLAB class: "double", "single", "uint16", "logical", ... */
    int version;     /* 5 or 73 */
} bcdi_mat_array;

/* 1 when this build reads .mat files (libmatio found), else 0. */
int bcdi_mat_available(void);

/* Read `variable` (NULL: the only 3-D real numeric or logical variable of the file) from `path`.
 * Errors name the file and variable: BCDI_ERR_IO (cannot open), BCDI_ERR_FORMAT (not a .mat
 * file, no such variable (the file's variables are listed), none or several 3-D candidates,
 * complex, sparse, cell or struct, rank other than 2 or 3, an empty dimension, sizes refused as
 * above, data that cannot be read), BCDI_ERR_NOMEM, BCDI_ERR_UNSUPPORTED (built without
 * matio). */
bcdi_status bcdi_mat_read(const char *path, const char *variable, bcdi_mat_array *out);
void bcdi_mat_array_free(bcdi_mat_array *array);

#endif
