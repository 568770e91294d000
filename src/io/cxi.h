/* SPDX-License-Identifier: BSD-3-Clause */
/* CXI (HDF5) files, the layout PyNX users' tools read (docs/file-formats.md).
 *  results:  entry_1/image_1/data   complex64 object (compound r,i), centred
 *            entry_1/image_1/mask   support, uint8 (1 = inside)
 *            entry_1/image_1/process_1/configuration/<key>   every parameter, as strings
 *            entry_1/image_1/process_1/results/<name>        metrics, history
 *  prepared: entry_1/instrument_1/detector_1/{data (float32 I), mask (uint8, non-zero = not
 *            measured), distance, x_pixel_size, y_pixel_size}; entry_1/data_1/data -> link
 *            entry_1/instrument_1/source_1/{energy (J, CXI), wavelength (m)}
 *  geometry: entry_1/bcdi_geometry/{energy_kev, wavelength, distance, pixel_size, detector_angles,
 *            two_theta, delta, gamma, rocking_step, rocking_axis, row_sign, d_spacing, hkl,
 *            q_step (3x3, 1/m), real_basis (3x3, m), voxel_size (3, m), q_bragg, shape} */
#ifndef BCDI_IO_CXI_H
#define BCDI_IO_CXI_H

#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "io/hdf5.h"
#include "bcdi/types.h"

#include <stdint.h>
#include <stdio.h>

/* Create a CXI file with cxi_version and entry_1, under a temporary name until bcdi_h5_commit
 * (bcdi_cxi_create_in: until the caller's transaction commits; see bcdi_h5_create_in). */
bcdi_status bcdi_cxi_create(const char *path, bcdi_h5_writer **out);
bcdi_status bcdi_cxi_create_in(bcdi_output *tx, const char *path, bcdi_h5_writer **out);
bcdi_status bcdi_cxi_write_object(bcdi_h5_writer *w, const size_t shape[3], const bcdi_cf *object,
                                  const uint8_t *support, int deflate_level);
bcdi_status bcdi_cxi_write_prepared(bcdi_h5_writer *w, const size_t shape[3],
                                    const float *intensity, const uint8_t *mask,
                                    const bcdi_geometry *geometry, int deflate_level);
bcdi_status bcdi_cxi_write_geometry(bcdi_h5_writer *w, const bcdi_geometry *geometry);
/* Every key/value under `group` (e.g. "entry_1/image_1/process_1/configuration"). */
bcdi_status bcdi_cxi_write_config(bcdi_h5_writer *w, const char *group, const char *const *keys,
                                  const char *const *values, size_t count);

/* The shape of the prepared intensities, nothing read (memory is estimated from it first). */
bcdi_status bcdi_cxi_prepared_shape(const char *path, size_t shape[3]);
/* Read back (caller frees with free()). Missing datasets -> BCDI_ERR_FORMAT naming them. */
bcdi_status bcdi_cxi_read_object(const char *path, size_t shape[3], bcdi_cf **object,
                                 uint8_t **support);
bcdi_status bcdi_cxi_read_prepared(const char *path, size_t shape[3], float **intensity,
                                   uint8_t **mask);
/* Returns BCDI_ERR_FORMAT if the file has no entry_1/bcdi_geometry group, and for a group that
 * lacks a field (naming it) or holds a value that is not finite (or not positive where physics
 * needs it: energy, wavelength, distance, pixel and voxel sizes), a zero rocking step, a row
 * sign other than +-1. */
bcdi_status bcdi_cxi_read_geometry(const char *path, bcdi_geometry *geometry);
/* The same, where a file without the group is fine: *present = 0 and BCDI_OK; a group that is
 * there must be complete and valid. */
bcdi_status bcdi_cxi_read_geometry_if_present(const char *path, bcdi_geometry *geometry,
                                              int *present);

/* One line per recognised part for `braggcdi info` (prepared data: shape, mask, energy,
 * distance, pixel, rocking step; result: object shape, support voxels); nothing otherwise. */
void bcdi_cxi_describe(bcdi_h5_reader *r, FILE *out);

#endif
