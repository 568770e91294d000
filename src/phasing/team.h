/* SPDX-License-Identifier: BSD-3-Clause */
/* What the phasing engine asks of the other processes sharing its population (docs/hpc.md):
 * a few collectives, given as functions so that the engine knows nothing of MPI. src/hpc fills
 * one from an MPI group (bcdi_hpc_phase_team); NULL means this process alone.
 *
 * Every function is collective over the team except send/recv (point to point) and round,
 * which every rank calls as often as it likes: rounds are a chain of non-blocking reductions,
 * one open at a time, so ranks that run different amounts of work still see the same sequence
 * of results and can all stop (or checkpoint) after the same one. */
#ifndef BCDI_PHASING_TEAM_H
#define BCDI_PHASING_TEAM_H

#include "bcdi/error.h"

#include <stddef.h>

typedef struct bcdi_phase_team {
    int rank, size;
    void *ctx;
    /* Open a round with `mine` when none is open, then test it: 1 with the element-wise maximum
     * over the ranks in `result` when it completed (the next call opens the next round). */
    int (*round)(void *ctx, const int mine[2], int result[2]);
    /* The status of the lowest rank that failed, with its message, on every rank. */
    bcdi_status (*agree)(void *ctx, bcdi_status local);
    bcdi_status (*allgather)(void *ctx, const void *mine, size_t bytes, void *all);
    bcdi_status (*bcast)(void *ctx, void *data, size_t bytes, int root);
    bcdi_status (*send)(void *ctx, int dest, const void *data, size_t bytes);
    bcdi_status (*recv)(void *ctx, int source, void *data, size_t bytes);
} bcdi_phase_team;

#endif
