/* SPDX-License-Identifier: BSD-3-Clause */
/* Between the two implementations of hpc.h (mpi/hpc_mpi.c, serial/hpc_serial.c) and the code
 * they share (hpc_common.c). */
#ifndef BCDI_HPC_INTERNAL_H
#define BCDI_HPC_INTERNAL_H

#include "hpc/hpc.h"

/* The ranks of h on this node, as a group (h itself without MPI). */
bcdi_hpc *bcdi_hpc_node_group(bcdi_hpc *h);

#endif
