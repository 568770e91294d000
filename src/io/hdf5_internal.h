/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to the HDF5 layer (src/io/hdf5_*.c): the handle structs and helpers shared by its
 * types, read, write and describe parts. */
#ifndef BCDI_IO_HDF5_INTERNAL_H
#define BCDI_IO_HDF5_INTERNAL_H

#include "io/hdf5.h"

#include <hdf5.h>

struct bcdi_h5_writer {
    hid_t file; /* -1 once closed */
    char *final_path;
    char *tmp_path;
    bcdi_output *own; /* the writer's own transaction (bcdi_h5_create), NULL inside a caller's */
};

struct bcdi_h5_reader {
    hid_t file;
    char *path;
};

/* The library must never print: HDF5's automatic error printing off (cheap, idempotent). */
void h5i_quiet(void);
/* Innermost message of HDF5's error stack (e.g. "truncated file: eof = ..."), or ""; clears it. */
const char *h5i_error_text(void);
/* The reason of a failed write, short: the system's message when HDF5 reports one ("No space
 * left on device"), else the innermost HDF5 message. Clears the stack. */
const char *h5i_write_error_text(void);
char *h5i_dup(const char *s);

/* HDF5 types for a bcdi_dtype (close with H5Tclose); -1 for an invalid one. */
hid_t h5i_mem_type(bcdi_dtype t);
hid_t h5i_file_type(bcdi_dtype t);
int h5i_valid_dtype(bcdi_dtype t);
/* Variable-length UTF-8 string type. */
hid_t h5i_utf8_type(void);
/* Is this stored type a complex pair as h5py/PyNX write it (two float members r, i)? */
int h5i_is_complex(hid_t t);
/* Human name of a stored type ("uint16", "float64", "complex64", "string", ...). */
void h5i_type_text(hid_t t, char *buf, size_t cap);
/* Nearest bcdi_dtype of a stored type; -1 when there is none (strings, odd compounds). */
int h5i_stored_dtype(hid_t t, bcdi_dtype *out);
/* Element count of a dataspace, -1 when it cannot be had or when the product of its axes
 * overflows (H5Sget_simple_extent_npoints wraps: (3, 6148914691236517206) would give 2). */
hssize_t h5i_npoints(hid_t space);
/* "2 x 3 x 4" or "scalar". */
void h5i_shape_text(hid_t d, char *buf, size_t cap);

/* Does every component of `path` exist (links may dangle: checked by H5Oexists_by_name)? */
int h5i_path_exists(hid_t file, const char *path);
/* Read (write = 0) or write dataset d as `type`: the whole of it (start NULL) or the hyperslab
 * start/count, after checking its bounds; errors name the file and the dataset. */
bcdi_status h5i_transfer(hid_t d, const char *file, const char *path, bcdi_dtype type,
                         const size_t *start, const size_t *count, void *buffer, int write);
/* Scalar string dataset/attribute (fixed or variable length) into out: 0 ok, 1 cut, -1 not a
 * string. */
int h5i_read_string(hid_t obj, int is_attr, char *out, size_t capacity);

#endif
