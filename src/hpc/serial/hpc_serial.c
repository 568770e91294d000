/* SPDX-License-Identifier: BSD-3-Clause */
/* hpc.h in a build without MPI: every group is this process alone. */
#include "hpc/hpc_internal.h"

#include <stdlib.h>
#include <string.h>

struct bcdi_hpc {
    int unused;
};

static bcdi_hpc the_process;

int bcdi_hpc_built_with_mpi(void)
{
    return 0;
}

bcdi_status bcdi_hpc_start(int *argc, char ***argv, int threads, bcdi_hpc **world)
{
    (void)argc, (void)argv, (void)threads;
    *world = &the_process;
    return BCDI_OK;
}

void bcdi_hpc_finish(bcdi_hpc *world)
{
    (void)world;
}

void bcdi_hpc_abort(bcdi_hpc *h, int code)
{
    (void)h;
    exit(code);
}

int bcdi_hpc_rank(const bcdi_hpc *h)
{
    (void)h;
    return 0;
}

int bcdi_hpc_size(const bcdi_hpc *h)
{
    (void)h;
    return 1;
}

int bcdi_hpc_node_rank(const bcdi_hpc *h)
{
    (void)h;
    return 0;
}

int bcdi_hpc_node_size(const bcdi_hpc *h)
{
    (void)h;
    return 1;
}

int bcdi_hpc_is_mpi(const bcdi_hpc *h)
{
    (void)h;
    return 0;
}

int bcdi_hpc_threads_ok(const bcdi_hpc *h)
{
    (void)h;
    return 1;
}

bcdi_hpc *bcdi_hpc_node_group(bcdi_hpc *h)
{
    return h;
}

bcdi_status bcdi_hpc_split(bcdi_hpc *h, int color, bcdi_hpc **group)
{
    (void)color;
    *group = h ? h : &the_process;
    return BCDI_OK;
}

void bcdi_hpc_free(bcdi_hpc *group)
{
    (void)group;
}

bcdi_status bcdi_hpc_agree(bcdi_hpc *h, bcdi_status local)
{
    (void)h;
    return local;
}

bcdi_status bcdi_hpc_bcast(bcdi_hpc *h, void *data, size_t bytes, int root)
{
    (void)h, (void)data, (void)bytes, (void)root;
    return BCDI_OK;
}

bcdi_status bcdi_hpc_allgather(bcdi_hpc *h, const void *mine, size_t bytes, void *all)
{
    (void)h;
    if (bytes && all != mine) memmove(all, mine, bytes);
    return BCDI_OK;
}

bcdi_status bcdi_hpc_barrier(bcdi_hpc *h)
{
    (void)h;
    return BCDI_OK;
}

bcdi_status bcdi_hpc_send(bcdi_hpc *h, int dest, int tag, const void *data, size_t bytes)
{
    (void)h, (void)dest, (void)tag, (void)data, (void)bytes;
    return bcdi_error(BCDI_ERR_INTERNAL, "hpc: a message to rank %d in a build without MPI", dest);
}

bcdi_status bcdi_hpc_recv(bcdi_hpc *h, int source, int tag, void *data, size_t bytes)
{
    (void)h, (void)tag, (void)data, (void)bytes;
    return bcdi_error(BCDI_ERR_INTERNAL, "hpc: a message from rank %d in a build without MPI",
                      source);
}

int bcdi_hpc_poll(bcdi_hpc *h, int *source, int *tag, size_t *bytes)
{
    (void)h, (void)source, (void)tag, (void)bytes;
    return 0;
}

int bcdi_hpc_round(bcdi_hpc *h, const int mine[2], int result[2])
{
    (void)h;
    result[0] = mine[0], result[1] = mine[1];
    return 1;
}
