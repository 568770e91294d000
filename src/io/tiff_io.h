/* SPDX-License-Identifier: BSD-3-Clause */
/* TIFF stacks: per-frame files (as areaDetector writes them) and multi-page files.
 * Private/unknown tags are ignored quietly (libtiff warnings are silenced). */
#ifndef BCDI_IO_TIFF_IO_H
#define BCDI_IO_TIFF_IO_H

#include "bcdi/error.h"
#include "core/output.h"
#include "io/hdf5.h"

#include <stddef.h>

/* What a TIFF holds: its page count, the pages' size and stored type. Only a regular file is
 * opened. Every page is checked (docs/security.md): the same size, bit depth and sample format
 * as the first, each page's data inside the file, the chain of page directories readable to its
 * end and as long as a page-number tag declares; anything else (a smaller page, mixed depths, a
 * stack cut short) is a FORMAT error naming the file and the page. pixel types: uint8/16/32,
 * int16/32, float32/64. */
bcdi_status bcdi_tiff_info(const char *path, size_t *pages, size_t *rows, size_t *columns,
                           bcdi_dtype *stored);
/* Page `page` as floats; it must hold exactly `pixels` = rows x columns (a page of another size
 * is a FORMAT error) and its data must lie inside the file. */
bcdi_status bcdi_tiff_read_page(const char *path, size_t page, float *out, size_t pixels);

/* Write frames (n0 frames of n1 x n2, C order) as one multi-page TIFF, staged in tx (NULL: its
 * own transaction, committed here; core/output.h). */
bcdi_status bcdi_tiff_write_multipage(bcdi_output *tx, const char *path, bcdi_dtype type,
                                      const size_t dims[3], const void *data);
/* Write frames as files <dir>/<prefix>_00000.tif ..., a folder output of tx (NULL: its own):
 * a missing dir is made, whole, on commit; its parent must exist. */
bcdi_status bcdi_tiff_write_frames(bcdi_output *tx, const char *dir, const char *prefix,
                                   bcdi_dtype type, const size_t dims[3], const void *data);

#endif
