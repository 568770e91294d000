/* SPDX-License-Identifier: BSD-3-Clause */
/* The phasing engine's collectives (phasing/team.h) on the MPI layer (hpc.h). */
#include "hpc/phase_team.h"

static int round_of(void *ctx, const int mine[2], int result[2])
{
    return bcdi_hpc_round(ctx, mine, result);
}

static bcdi_status agree(void *ctx, bcdi_status local)
{
    return bcdi_hpc_agree(ctx, local);
}

static bcdi_status allgather(void *ctx, const void *mine, size_t bytes, void *all)
{
    return bcdi_hpc_allgather(ctx, mine, bytes, all);
}

static bcdi_status bcast(void *ctx, void *data, size_t bytes, int root)
{
    return bcdi_hpc_bcast(ctx, data, bytes, root);
}

/* one tag for the engine's messages: between two ranks they keep their order */
enum { PHASE_TAG = 7 };

static bcdi_status send(void *ctx, int dest, const void *data, size_t bytes)
{
    return bcdi_hpc_send(ctx, dest, PHASE_TAG, data, bytes);
}

static bcdi_status recv(void *ctx, int source, void *data, size_t bytes)
{
    return bcdi_hpc_recv(ctx, source, PHASE_TAG, data, bytes);
}

void bcdi_hpc_phase_team(bcdi_hpc *group, bcdi_phase_team *team)
{
    team->rank = bcdi_hpc_rank(group);
    team->size = bcdi_hpc_size(group);
    team->ctx = group;
    team->round = round_of;
    team->agree = agree;
    team->allgather = allgather;
    team->bcast = bcast;
    team->send = send;
    team->recv = recv;
}
