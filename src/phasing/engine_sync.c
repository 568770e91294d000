/* SPDX-License-Identifier: BSD-3-Clause */
/* Checkpoints and stops, agreed by the ranks of a team at the same round (team.h): after every
 * iteration a rank says whether a checkpoint is due (checkpoint_interval seconds of work since
 * the last), whether a signal asked to stop, or whether it failed; when a round's result asks for
 * a checkpoint, every rank brings its batch's iterates home and rank 0 writes the file; when it
 * asks to stop, every rank returns BCDI_ERR_INTERRUPTED at that round. A rank whose work for the
 * generation is over keeps taking part in rounds until every rank's is. Alone, every iteration
 * is a round. */
#include "phasing/engine_internal.h"

#include "core/interrupt.h"
#include "core/clock.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- checkpoints and stops, agreed by the team ------------------------------------------- */

/* What a rank asks of the next round: a checkpoint is due, a signal asked to stop (with a
 * checkpoint for SIGTERM/SIGUSR1 when checkpoints are on), or this rank failed. */
enum { SYNC_CHECKPOINT = 1, SYNC_STOP_SAVE = 2, SYNC_STOP = 4, SYNC_FAILED = 8 };

static int checkpoints_on(const engine *e)
{
    const bcdi_checkpoint_opts *c = e->checkpoint;
    return c && c->path && c->path[0] && c->interval_s > 0;
}

static int local_flags(const engine *e)
{
    int flags = 0, signal_number = bcdi_interrupted();
    if (signal_number)
        flags |= checkpoints_on(e) && signal_number != SIGINT ? SYNC_STOP_SAVE : SYNC_STOP;
    if (checkpoints_on(e) && bcdi_clock_s() - e->last_checkpoint >= e->checkpoint->interval_s)
        flags |= SYNC_CHECKPOINT;
    return flags;
}

/* One round: alone, every call is a round. */
static int team_round(const engine *e, const int mine[2], int all[2])
{
    if (!e->team || e->team->size == 1) {
        all[0] = mine[0], all[1] = mine[1];
        return 1;
    }
    return e->team->round(e->team->ctx, mine, all);
}

/* Another rank failed: this one stops where it is, and the failed rank's error is agreed. */
#define TEAM_FAILED BCDI_ERR_INTERNAL

/* What a completed round asks of every rank: the iterates of the batch in `slots` (after
 * `position` iterations) brought home and a checkpoint written; a stop. */
static bcdi_status act_on(engine *e, int flags, individual **slots, size_t batch, long position)
{
    bcdi_status st = BCDI_OK;
    if (flags & SYNC_FAILED) {
        e->team_failed = 1;
        return bcdi_error(TEAM_FAILED, "another rank failed");
    }
    int save = flags & (SYNC_CHECKPOINT | SYNC_STOP_SAVE);
    for (size_t r = 0; save && r < batch && st == BCDI_OK; ++r) {
        individual *ind = slots[r];
        if (!ind->object) ind->object = malloc(e->n * sizeof(bcdi_cf));
        if (!ind->support) ind->support = malloc(e->n);
        if (!ind->object || !ind->support)
            return bcdi_error(BCDI_ERR_NOMEM, "phase: out of host memory for a checkpoint");
        st = e->ops->download(e->be, ind->object, e->rho + r * e->n, e->n * sizeof(bcdi_cf));
        if (st == BCDI_OK) st = e->ops->download(e->be, ind->support, e->support + r * e->n, e->n);
        ind->state = IND_RUNNING;
        ind->position = position;
    }
    if (save && st == BCDI_OK) {
        st = bcdi_checkpoint_save(e);
        e->last_checkpoint = bcdi_clock_s();
    }
    if (st != BCDI_OK || !(flags & (SYNC_STOP_SAVE | SYNC_STOP))) return st;
    int signal_number = bcdi_interrupted();
    char where[4400] = "";
    if (flags & SYNC_STOP_SAVE)
        snprintf(where, sizeof where,
                 "; checkpoint written to '%s': run the same command again to resume",
                 e->checkpoint->path);
    return bcdi_error(BCDI_ERR_INTERRUPTED,
                      "interrupted by %s during phasing (generation %ld of %ld)%s",
                      signal_number ? bcdi_signal_name(signal_number) : "a signal to another rank",
                      e->generation + 1, e->p->generations, where);
}

/* After an iteration (`position` done in the batch): a round, and what it asks. */
bcdi_status bcdi_engine_sync_point(engine *e, individual **slots, size_t batch, long position)
{
    int mine[2] = {local_flags(e), 1}, all[2];
    if (!team_round(e, mine, all) || !all[0]) return BCDI_OK;
    return act_on(e, all[0], slots, batch, position);
}

/* This rank's work for the generation is over (or failed): rounds, sleeping between tests,
 * until every rank's is, taking part in the checkpoints and stops they ask for. */
bcdi_status bcdi_engine_wait_for_team(engine *e, int failed)
{
    if (!e->team || e->team->size == 1) return BCDI_OK;
    long sleep_ns = 20000;
    for (;;) {
        int mine[2] = {local_flags(e) | (failed ? SYNC_FAILED : 0), 0}, all[2];
        if (team_round(e, mine, all)) {
            /* this rank's own failure is its own error, not "another rank failed" */
            int flags = failed ? all[0] & ~SYNC_FAILED : all[0];
            bcdi_status st = flags ? act_on(e, flags, NULL, 0, 0) : BCDI_OK;
            if (st != BCDI_OK || (failed && (all[0] & SYNC_FAILED)) || all[1] == 0) return st;
            sleep_ns = 20000;
            continue;
        }
        struct timespec pause = {0, sleep_ns};
        nanosleep(&pause, NULL);
        if (sleep_ns < 2000000) sleep_ns *= 2;
    }
}
