/* SPDX-License-Identifier: BSD-3-Clause */
/* The HDF5 layer used by every file layout (NeXus stacks: io/nexus; CXI prepared data and
 * results: io/cxi), split by job: types (hdf5_types.c), reading (hdf5_read.c), writing
 * (hdf5_write.c), describing (hdf5_describe.c). It knows no layout. Writers always write to a
 * temporary name in the target folder and rename on commit, so a failed run leaves nothing under
 * the final name. HDF5's own error printing is switched off: failures come back as bcdi_status
 * with a message naming the file and dataset. */
#ifndef BCDI_IO_HDF5_H
#define BCDI_IO_HDF5_H

#include "bcdi/error.h"
#include "core/output.h"

#include <stddef.h>
#include <stdio.h>

typedef enum bcdi_dtype {
    BCDI_DT_U8 = 0,
    BCDI_DT_U16,
    BCDI_DT_U32,
    BCDI_DT_I32,
    BCDI_DT_F32,
    BCDI_DT_F64,
    BCDI_DT_CF32 /* complex64 stored as h5py does: compound {r: float32, i: float32} */
} bcdi_dtype;

size_t bcdi_dtype_size(bcdi_dtype type);
const char *bcdi_dtype_name(bcdi_dtype type);

/* Programs call this first thing, before any HDF5 use (braggcdi's main does): it keeps HDF5 from
 * installing its exit handler, which crashes after a close that failed (disk full); every file
 * opened here is closed explicitly, so the handler has nothing to do. HDF5's printing goes off. */
void bcdi_h5_process_init(void);

typedef struct bcdi_h5_reader bcdi_h5_reader;

/* ---- writing ---- */
typedef struct bcdi_h5_writer bcdi_h5_writer;

/* A new file under a temporary name (core/output.h rules): bcdi_h5_create runs its own
 * transaction, which bcdi_h5_commit commits; bcdi_h5_create_in stages the file in the caller's
 * transaction, where bcdi_h5_commit only closes it and the file appears when tx commits. */
bcdi_status bcdi_h5_create(const char *final_path, bcdi_h5_writer **out);
bcdi_status bcdi_h5_create_in(bcdi_output *tx, const char *final_path, bcdi_h5_writer **out);
/* Create a group (and missing parents); nx_class, if not NULL, becomes its NX_class attribute. */
bcdi_status bcdi_h5_group(bcdi_h5_writer *w, const char *path, const char *nx_class);
/* Write a whole dataset (parents created). deflate_level 0 = contiguous/no filter; 1..9 = chunked
 * with gzip. rank 0 writes a scalar. */
bcdi_status bcdi_h5_write(bcdi_h5_writer *w, const char *path, bcdi_dtype type, int rank,
                          const size_t *dims, const void *data, int deflate_level);
bcdi_status bcdi_h5_write_double(bcdi_h5_writer *w, const char *path, double value,
                                 const char *units);
bcdi_status bcdi_h5_write_int(bcdi_h5_writer *w, const char *path, long value);
bcdi_status bcdi_h5_write_string(bcdi_h5_writer *w, const char *path, const char *value);
/* String attribute on an existing group or dataset. */
bcdi_status bcdi_h5_attr_string(bcdi_h5_writer *w, const char *object_path, const char *name,
                                const char *value);
bcdi_status bcdi_h5_link_soft(bcdi_h5_writer *w, const char *link_path, const char *target_path);
/* Chunked dataset written piecewise (e.g. frame by frame): create, then write hyperslabs. */
bcdi_status bcdi_h5_create_dataset(bcdi_h5_writer *w, const char *path, bcdi_dtype type, int rank,
                                   const size_t *dims, const size_t *chunk_dims, int deflate_level);
bcdi_status bcdi_h5_write_slab(bcdi_h5_writer *w, const char *path, bcdi_dtype type,
                               const size_t *start, const size_t *count, const void *data);
/* Copy a group or dataset (with everything under it and its attributes) from an open file to
 * the same path in w (parents created). */
bcdi_status bcdi_h5_copy(bcdi_h5_writer *w, bcdi_h5_reader *from, const char *path);
/* Close the file (once: a failed close, e.g. disk full, is an error naming the file and the
 * reason) and, for a writer with its own transaction, commit it (rename to the final name);
 * frees w in every case. On failure nothing is left: the temporary is removed (inside a
 * caller's transaction: when the caller aborts it). */
bcdi_status bcdi_h5_commit(bcdi_h5_writer *w);
/* Close without writing out; the temporary goes (now, or with the caller's transaction). Frees
 * w. NULL is a no-op. */
void bcdi_h5_abort(bcdi_h5_writer *w);

/* Integer attribute (int64) on an existing group or dataset. */
bcdi_status bcdi_h5_attr_int(bcdi_h5_writer *w, const char *object_path, const char *name,
                             long value);
/* Final and temporary names of an open writer (for messages and tests). */
const char *bcdi_h5_writer_path(const bcdi_h5_writer *w);
const char *bcdi_h5_writer_temp_path(const bcdi_h5_writer *w);

/* ---- reading ---- */

/* Errors name the file: missing, not HDF5, truncated. */
bcdi_status bcdi_h5_open(const char *path, bcdi_h5_reader **out);
void bcdi_h5_close(bcdi_h5_reader *r);
const char *bcdi_h5_path(const bcdi_h5_reader *r);
int bcdi_h5_exists(bcdi_h5_reader *r, const char *path);
/* Shape and stored type of a dataset; a missing dataset's error lists the datasets that exist. */
bcdi_status bcdi_h5_shape(bcdi_h5_reader *r, const char *path, int *rank, size_t dims[8],
                          bcdi_dtype *stored);
/* Read a whole dataset converted to `want`; capacity is in elements and must hold it. */
bcdi_status bcdi_h5_read(bcdi_h5_reader *r, const char *path, bcdi_dtype want, void *out,
                         size_t capacity);
/* Read a hyperslab (start/count of the dataset's rank) converted to `want`. */
bcdi_status bcdi_h5_read_slab(bcdi_h5_reader *r, const char *path, bcdi_dtype want,
                              const size_t *start, const size_t *count, void *out);
bcdi_status bcdi_h5_read_double(bcdi_h5_reader *r, const char *path, double *out);
bcdi_status bcdi_h5_read_string(bcdi_h5_reader *r, const char *path, char *out, size_t capacity);
/* String attribute (fixed or variable length) of a group or dataset, e.g. "units". */
bcdi_status bcdi_h5_read_attr_string(bcdi_h5_reader *r, const char *object_path, const char *name,
                                     char *out, size_t capacity);
/* Newline-separated "path (shape, type)" list of every dataset, for error messages and `info`. */
bcdi_status bcdi_h5_list(bcdi_h5_reader *r, char *out, size_t capacity);

/* Annotated tree of an open HDF5 file: every group/dataset with shape and type, scalar values
 * and string attributes, written to `out` (the caller asked for it). The summaries of known
 * layouts come from their owners (bcdi_nexus_describe, bcdi_cxi_describe; io/describe.h joins
 * them for `info`). */
bcdi_status bcdi_h5_describe(bcdi_h5_reader *r, FILE *out);

/* Check that every filter of a chunked dataset's pipeline can be used here (built in, or a
 * plugin HDF5 can load from its plugin folder / HDF5_PLUGIN_PATH). A missing one is a
 * BCDI_ERR_FORMAT naming the file, the dataset and the filter (id and name, e.g. 32004 LZ4).
 * `filters` (may be NULL) receives a comma-separated list of the pipeline's filter names. */
bcdi_status bcdi_h5_check_filters(bcdi_h5_reader *r, const char *path, char *filters,
                                  size_t capacity);
/* Name of a registered HDF5 filter id (deflate, shuffle, LZ4, bitshuffle, blosc, ...). */
const char *bcdi_h5_filter_name(int filter_id);

#endif
