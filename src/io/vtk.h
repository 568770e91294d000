/* SPDX-License-Identifier: BSD-3-Clause */
/* VTK XML writers for ParaView (docs/file-formats.md): ImageData (.vti) for orthonormal grids,
 * StructuredGrid (.vts) for the sheared detector-conjugate grid, PolyData (.vtp) for polylines.
 * Arrays are written inline, base64-encoded ("binary" format, UInt64 byte-count header encoded
 * separately, as VTK itself writes it), little-endian. Each writer stages its file in tx (NULL:
 * its own transaction, committed here; core/output.h). */
#ifndef BCDI_IO_VTK_H
#define BCDI_IO_VTK_H

#include "bcdi/error.h"
#include "core/output.h"
#include "io/hdf5.h" /* bcdi_dtype */

#include <stddef.h>

typedef struct bcdi_vtk_array {
    const char *name;
    bcdi_dtype type;  /* BCDI_DT_U8, BCDI_DT_I32, BCDI_DT_F32 or BCDI_DT_F64 */
    int components;   /* 1 (scalar) or 3 (vector) */
    const void *data; /* tuples in point order (x fastest for images and grids) */
} bcdi_vtk_array;

/* Point data on an nx × ny × nz image; dims = {nx, ny, nz}; origin/spacing in the file's units. */
bcdi_status bcdi_vtk_write_image(bcdi_output *tx, const char *path, const size_t dims[3],
                                 const double origin[3], const double spacing[3],
                                 const bcdi_vtk_array *arrays, size_t count);

/* Point data on a structured grid of dims = {nx, ny, nz} points at points_xyz (3 floats per
 * point, x index fastest). */
bcdi_status bcdi_vtk_write_structured(bcdi_output *tx, const char *path, const size_t dims[3],
                                      const float *points_xyz, const bcdi_vtk_array *arrays,
                                      size_t count);

/* Polylines: line k has point_counts[k] points, all points concatenated in points_xyz (3 doubles
 * each); cell_arrays hold one tuple per line. */
bcdi_status bcdi_vtk_write_polylines(bcdi_output *tx, const char *path, size_t line_count,
                                     const size_t *point_counts, const double *points_xyz,
                                     const bcdi_vtk_array *cell_arrays, size_t count);

#endif
