/* SPDX-License-Identifier: BSD-3-Clause */
/* The frame reads of `prepare` on an open input, as its passes make them (fuzz_npy, fuzz_tiff,
 * fuzz_hdf5): a few frames, read whole when small, else their first and last region. */
#ifndef BCDI_FUZZ_FRAMES_H
#define BCDI_FUZZ_FRAMES_H

#include "prep/prep_input.h"

/* Open `path` as `format` (prep_input_open), read what a pass would read, close. */
void fuzz_read_stack(const char *path, const char *format);
/* A calibration image (mask_file=, dark_file=, flat_file=) from `path`: whole, then cut to a
 * smaller frame at an origin (prep_load_image). dataset: for HDF5 only. */
void fuzz_read_image(const char *path, const char *dataset);
/* The whole of prepare's loading (metadata, masks, peak, box, binning, geometry, summary) with
 * the default keys, on a stack of at most FUZZ_PREPARE_MAX_VOXELS voxels (larger ones are
 * read by fuzz_read_stack only: prepare reads every frame twice). */
#define FUZZ_PREPARE_MAX_VOXELS (64 * 64 * 64)
void fuzz_prepare(const char *path, const char *format);

#endif
