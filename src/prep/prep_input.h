/* SPDX-License-Identifier: BSD-3-Clause */
/* Inputs of `prepare`, behind one interface: a stack of stored frames (frames x rows x columns)
 * that can be read one region of one frame at a time, so only the region of interest is ever
 * held in memory. Kinds: HDF5/NeXus/CXI (hyperslab reads), a folder or glob of per-frame TIFFs
 * (numerical order), one multi-page TIFF, .npy, and MATLAB .mat (read whole: matio has no
 * partial reads of compressed variables).
 *
 * Axes (prep_axes.c): the stored axes may hold the frames, rows and columns in any order
 * (axes= key). `dims` is always frames x rows x columns; `stored_dims` is the file's order.
 * HDF5 inputs are still read by hyperslab; other permuted inputs are held whole in memory. */
#ifndef BCDI_PREP_INPUT_H
#define BCDI_PREP_INPUT_H

#include "bcdi/error.h"
#include "io/hdf5.h"
#include "io/npy.h"

#include <stddef.h>

typedef enum {
    PREP_INPUT_HDF5 = 0,   /* NeXus, plain HDF5 */
    PREP_INPUT_CXI,        /* CXI as PyNX users keep it (HDF5 with other default paths) */
    PREP_INPUT_TIFF_FILES, /* one TIFF per frame: a folder or a glob */
    PREP_INPUT_TIFF_PAGES, /* one multi-page TIFF */
    PREP_INPUT_NPY,
    PREP_INPUT_MAT
} prep_input_kind;

typedef struct prep_input {
    prep_input_kind kind;
    char path[4096];
    size_t dims[3];        /* frames, rows, columns */
    size_t stored_dims[3]; /* as stored (a 2-D input: 1, rows, columns) */
    int axis_of[3];        /* stored axis of the frames, the rows, the columns */
    int permuted;          /* axis_of is not 0, 1, 2 */
    float *whole;          /* the whole stored stack (.mat, or a permuted non-HDF5 input) */
    bcdi_dtype stored;     /* stored element type (saturation default) */
    /* HDF5 */
    bcdi_h5_reader *h5;
    char data_path[1024];
    int data_rank; /* 3, or 2 for a single frame */
    /* TIFF */
    char **files;
    size_t file_count;
    float *page_cache; /* one decoded page (TIFFs are read whole), reused for its regions */
    size_t cached_page;
    int cache_valid;
    /* npy */
    bcdi_npy npy;
} prep_input;

/* Natural ("numerical") order of file names: "f2.tif" < "f10.tif". */
int prep_natural_compare(const char *a, const char *b);

/* Open `input`. format: "auto" (folder -> TIFF frames; a name with * ? [ -> glob of TIFFs;
 * .tif/.tiff -> multi-page TIFF; .npy; .cxi -> CXI; .mat -> MATLAB; anything else HDF5), or one
 * of "nexus", "hdf5", "cxi", "tiff", "npy", "mat". data_path: the frames dataset for HDF5/CXI
 * ("" = default: BCDI_NEXUS_DATA_PATH for NeXus, entry_1/instrument_1/detector_1/data or
 * entry_1/data_1/data for CXI), the variable of a .mat file ("" = its only 3-D one). The axes
 * are the stored ones until prep_input_set_axes. */
bcdi_status prep_input_open(const char *input, const char *format, const char *data_path,
                            prep_input *in);
void prep_input_close(prep_input *in);

/* prep_axes.c: take stored axis axis_of[0] as the frames, axis_of[1] as the rows, axis_of[2] as
 * the columns (dims follow). A permuted non-HDF5 input is read whole into memory here (its size
 * checked). BCDI_ERR_CONFIG for a permutation of a single frame (2-D input). */
bcdi_status prep_input_set_axes(prep_input *in, const int axis_of[3]);

/* Rows r0..r0+nr-1, columns c0..c0+nc-1 of frame f (in dims' order), as floats (row-major,
 * nr*nc). (prep_axes.c; the read through the file's own order is prep_input_read_stored.) */
bcdi_status prep_input_read(prep_input *in, size_t f, size_t r0, size_t nr, size_t c0, size_t nc,
                            float *out);
/* The same in the stored order (stored_dims) of a file-backed input. */
bcdi_status prep_input_read_stored(prep_input *in, size_t f, size_t r0, size_t nr, size_t c0,
                                   size_t nc, float *out);

/* A 2-D calibration image (mask, dark, white field) from a TIFF (first page), .npy or HDF5 file
 * (dataset `dataset`, rank 2, or rank 3 with one frame), as rows x columns floats.
 * If the file is larger than rows x columns, the rows x columns part starting at `origin`
 * (row, column) is taken (frames cut from a bigger detector); if it is exactly that size the
 * origin is ignored; anything else is an error naming both shapes. *out is malloc'd. The image
 * is refused before it is read when it (and its cut) would not fit in max_memory (bytes; 0: what
 * the machine offers). */
bcdi_status prep_load_image(const char *path, const char *dataset, size_t *rows, size_t *cols,
                            const long origin[2], size_t max_memory, float **out);
/* (*rows == 0 asks for the whole image: *rows, *cols receive its size.) */
/* The rows x cols part at origin of a file_rows x file_cols image (takes ownership of full). */
bcdi_status prep_cut_image(const char *path, float *full, size_t file_rows, size_t file_cols,
                           size_t rows, size_t cols, const long origin[2], float **out);

#endif
