/* TIFF stacks: per-frame files (as areaDetector writes them) and multi-page files.
 * Private/unknown tags are ignored quietly (libtiff warnings are silenced). */
#ifndef BCDI_IO_TIFF_IO_H
#define BCDI_IO_TIFF_IO_H

#include "bcdi/error.h"
#include "core/output.h"
#include "io/hdf5.h"

#include <stddef.h>

/* Read one image (page `page` of a multi-page file); pixel types uint16/uint32/int32/float32.
 * dims = {rows, columns}; out receives rows*columns floats (converted). */
bcdi_status bcdi_tiff_info(const char *path, size_t *pages, size_t *rows, size_t *columns,
                           bcdi_dtype *stored);
bcdi_status bcdi_tiff_read_page(const char *path, size_t page, float *out, size_t capacity);

/* Write frames (n0 frames of n1 x n2, C order) as one multi-page TIFF, staged in tx (NULL: its
 * own transaction, committed here; core/output.h). */
bcdi_status bcdi_tiff_write_multipage(bcdi_output *tx, const char *path, bcdi_dtype type,
                                      const size_t dims[3], const void *data);
/* Write frames as files <dir>/<prefix>_00000.tif ..., a folder output of tx (NULL: its own):
 * a missing dir is made, whole, on commit; its parent must exist. */
bcdi_status bcdi_tiff_write_frames(bcdi_output *tx, const char *dir, const char *prefix,
                                   bcdi_dtype type, const size_t dims[3], const void *data);

#endif
