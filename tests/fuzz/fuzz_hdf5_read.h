/* SPDX-License-Identifier: BSD-3-Clause */
/* Every reader of braggcdi that opens an HDF5 file (NeXus stacks, CXI prepared data, results,
 * geometry and summaries, `info`'s description, calibration images), run on one file: shared by
 * fuzz_hdf5 (the file's bytes) and fuzz_hdf5_layout (a file built from the input). */
#ifndef BCDI_FUZZ_HDF5_READ_H
#define BCDI_FUZZ_HDF5_READ_H

void fuzz_hdf5_init(void);
void fuzz_hdf5_read_all(const char *path);

#endif
