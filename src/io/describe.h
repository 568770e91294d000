/* SPDX-License-Identifier: BSD-3-Clause */
/* What is in a file, for `braggcdi info`: the HDF5 tree (io/hdf5) followed by the summary of
 * each layout recognised in it (io/nexus, io/cxi). */
#ifndef BCDI_IO_DESCRIBE_H
#define BCDI_IO_DESCRIBE_H

#include "bcdi/error.h"

#include <stdio.h>

bcdi_status bcdi_io_describe_hdf5(const char *path, FILE *out);

#endif
