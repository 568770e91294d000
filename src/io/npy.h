/* SPDX-License-Identifier: BSD-3-Clause */
/* NumPy .npy files (format versions 1-3), as cohere users keep their data: a header naming the
 * dtype, the order and the shape, then the raw array. Only what a detector stack needs:
 * little-endian (or byte-order-free) integers and floats, C order. Reading is by region (one
 * frame's rows at a time), so a large stack is never held in memory whole. */
#ifndef BCDI_IO_NPY_H
#define BCDI_IO_NPY_H

#include "bcdi/error.h"
#include "core/output.h"
#include "io/hdf5.h"

#include <stddef.h>
#include <stdio.h>

typedef enum {
    BCDI_NPY_U1 = 0,
    BCDI_NPY_U2,
    BCDI_NPY_U4,
    BCDI_NPY_I1,
    BCDI_NPY_I2,
    BCDI_NPY_I4,
    BCDI_NPY_I8,
    BCDI_NPY_U8,
    BCDI_NPY_F4,
    BCDI_NPY_F8
} bcdi_npy_type;

typedef struct bcdi_npy {
    FILE *file;
    char path[4096];
    bcdi_npy_type type;
    size_t element_size;
    int rank;
    size_t dims[8];
    long long data_offset; /* bytes from the start of the file to element 0 */
} bcdi_npy;

/* Parse the header; errors name the file and what is wrong (magic, Fortran order, big-endian,
 * unsupported dtype, a file shorter than its shape says). */
bcdi_status bcdi_npy_open(const char *path, bcdi_npy *npy);
void bcdi_npy_close(bcdi_npy *npy);
/* The nearest bcdi_dtype of the stored elements (for saturation defaults). */
bcdi_dtype bcdi_npy_dtype(const bcdi_npy *npy);
/* Read rows r0..r0+nr-1, columns c0..c0+nc-1 of frame f of a rank-3 array (or of the only
 * frame, f = 0, of a rank-2 array) as floats, row-major into out (nr*nc values). */
bcdi_status bcdi_npy_read_region(bcdi_npy *npy, size_t f, size_t r0, size_t nr, size_t c0,
                                 size_t nc, float *out);
/* Write a C-order float32 or uint16 array as .npy version 1.0, staged in tx (NULL: its own
 * transaction, committed here; core/output.h). */
bcdi_status bcdi_npy_write(bcdi_output *tx, const char *path, bcdi_dtype type, int rank,
                           const size_t *dims, const void *data);

#endif
