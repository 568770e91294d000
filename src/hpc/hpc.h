/* SPDX-License-Identifier: BSD-3-Clause */
/* The optional MPI layer (docs/hpc.md): a group of ranks, the few collectives braggcdi needs,
 * and where each rank computes (its GPU, or its share of the node's cores).
 *
 * Built with MPI (CMake found it: hpc_mpi.c), the same binary runs alone or under mpirun/srun:
 * MPI is initialised only when the environment says a launcher started several ranks
 * (OMPI_COMM_WORLD_SIZE, PMIX_RANK with SLURM_STEP_NUM_TASKS, PMI_SIZE, SLURM_STEP_NUM_TASKS > 1)
 * or BCDI_MPI=1 forces it (BCDI_MPI=0 never initialises). Built without MPI (hpc_serial.c), every
 * group is one rank and the collectives copy. Waits poll with short sleeps rather than spin, so
 * a rank waiting for others leaves the cores to the ranks still working.
 *
 * Errors on one rank never hang the others: every collective the engine and batch use sits at a
 * point all ranks reach, and bcdi_hpc_agree gives every rank the status and message of the first
 * rank that failed. */
#ifndef BCDI_HPC_HPC_H
#define BCDI_HPC_HPC_H

#include "bcdi/error.h"

#include <stddef.h>

typedef struct bcdi_hpc bcdi_hpc;

/* 1 when this build has the MPI layer. */
int bcdi_hpc_built_with_mpi(void);
/* The world: MPI_Init_thread(FUNNELED, or MULTIPLE when `threads` is set) when launched as
 * above, else one rank. Prints nothing; errors say what the environment claimed. */
bcdi_status bcdi_hpc_start(int *argc, char ***argv, int threads, bcdi_hpc **world);
/* MPI_Finalize (after every group made from the world is freed). NULL is allowed. */
void bcdi_hpc_finish(bcdi_hpc *world);
/* End every rank now with `code` (MPI_Abort; exit() without MPI). For errors that cannot be
 * agreed on (a rank lost inside a collective). */
void bcdi_hpc_abort(bcdi_hpc *h, int code);

int bcdi_hpc_rank(const bcdi_hpc *h); /* 0 for NULL */
int bcdi_hpc_size(const bcdi_hpc *h); /* 1 for NULL */
/* Ranks of this group on this node (MPI_COMM_TYPE_SHARED), and this rank among them. */
int bcdi_hpc_node_rank(const bcdi_hpc *h);
int bcdi_hpc_node_size(const bcdi_hpc *h);
/* 1 when MPI runs under this group (several ranks, or one rank of an MPI launch). */
int bcdi_hpc_is_mpi(const bcdi_hpc *h);
/* The thread level MPI granted: 1 when several threads may call MPI at once. */
int bcdi_hpc_threads_ok(const bcdi_hpc *h);

/* Groups of `h`: ranks with the same color, ordered by rank (collective over h). */
bcdi_status bcdi_hpc_split(bcdi_hpc *h, int color, bcdi_hpc **group);
void bcdi_hpc_free(bcdi_hpc *group);

/* ---- collectives (every rank of h calls them) ---- */

/* The status of the lowest rank whose `local` is not BCDI_OK, with its message as this rank's
 * error detail ("rank 3: ..."), or BCDI_OK everywhere. */
bcdi_status bcdi_hpc_agree(bcdi_hpc *h, bcdi_status local);
bcdi_status bcdi_hpc_bcast(bcdi_hpc *h, void *data, size_t bytes, int root);
/* all[r * bytes ...] receives rank r's `mine` (bytes each). */
bcdi_status bcdi_hpc_allgather(bcdi_hpc *h, const void *mine, size_t bytes, void *all);
bcdi_status bcdi_hpc_barrier(bcdi_hpc *h);

/* Rounds of a non-blocking reduction (the element-wise maximum of two ints over the ranks): a
 * call opens a round with `mine` when none is open, then tests it; 1 with the result when it
 * completed (the next call opens the next). Every rank sees the same sequence of rounds, however
 * often each calls. Not blocking. */
int bcdi_hpc_round(bcdi_hpc *h, const int mine[2], int result[2]);

/* ---- point to point (any size; split into pieces MPI counts can hold) ---- */

bcdi_status bcdi_hpc_send(bcdi_hpc *h, int dest, int tag, const void *data, size_t bytes);
bcdi_status bcdi_hpc_recv(bcdi_hpc *h, int source, int tag, void *data, size_t bytes);
/* A message waiting from any rank with any tag: 1 with its source, tag and size, else 0 (not
 * blocking). */
int bcdi_hpc_poll(bcdi_hpc *h, int *source, int *tag, size_t *bytes);

/* ---- where this rank computes ---- */

/* The device of this rank: "auto" and "cuda" become "cuda:<node rank mod visible devices>"
 * when the node has CUDA devices and several ranks (an explicit "cuda:N" or "cpu" wins). Out of
 * a CPU device's reach nothing changes. `device` holds cap bytes. */
void bcdi_hpc_bind_device(const bcdi_hpc *world, char *device, size_t cap);
/* On the CPU: when OMP_NUM_THREADS is unset and ranks of this node share CPUs (mpirun
 * --bind-to none, or more ranks than cores), each takes its share of the CPUs its affinity
 * allows (at least one): OMP_NUM_THREADS and omp_set_num_threads. Returns the thread count set
 * (0: unchanged). Collective over the world's node. */
int bcdi_hpc_share_cpus(bcdi_hpc *world);

#endif
