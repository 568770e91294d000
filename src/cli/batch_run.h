/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi batch` inside the CLI: the state shared by cmd_batch.c (arguments, configurations,
 * distribution of scans over rank groups) and batch_steps.c (one scan's steps, compare). */
#ifndef BCDI_CLI_BATCH_RUN_H
#define BCDI_CLI_BATCH_RUN_H

#include "bcdi/analysis.h"
#include "bcdi/compare.h"
#include "bcdi/phasing_params.h"
#include "bcdi/prepare.h"
#include "hpc/batch.h"
#include "hpc/hpc.h"

#include <pthread.h>

/* One scan's bound keys and paths. */
typedef struct batch_scan {
    bcdi_prepare_params *prepare; /* large: on the heap */
    bcdi_config *prepare_cfg;
    bcdi_phase_options phase;
    bcdi_config *phase_cfg;
    bcdi_analysis_params analyze;
    bcdi_config *analyze_cfg;
    char dir[4200], prepared[4300], summary[4300], result[4300], analysis[4300];
} batch_scan;

typedef struct batch_ctx {
    const char *outdir;
    char status_path[4300], comparison[4300];
    int quiet;
    bcdi_batch_manifest manifest;
    bcdi_batch_params params;
    batch_scan *scans;
    bcdi_compare_params compare;
    bcdi_analysis_params compare_analysis;
    bcdi_config *compare_cfg;
    bcdi_param_spec *compare_specs; /* compare's keys then analyze's */
    long reference;                 /* manifest index of compare's reference, -1: the first */
    long only;                      /* batch.scan: that scan alone; -1: every scan */
    bcdi_batch_status status;       /* rank 0: what status.json says (its dispatcher writes it) */
    bcdi_batch_status mine;         /* the records of the scans this rank leads, as it works */
    bcdi_batch_status previous;     /* of the runs before (every scan pending when none) */
    int have_previous, previous_ready;
    /* ranks */
    bcdi_hpc *world;
    bcdi_hpc *group;       /* the ranks sharing one scan (the world when there is one group) */
    bcdi_hpc *ask, *reply; /* world duplicates: requests to rank 0, its answers */
    int groups;            /* 1: rank 0 leads the only group and writes status.json itself */
    pthread_mutex_t lock;  /* status, while rank 0's dispatcher thread writes it */
    char host[128];
} batch_ctx;

/* Tags of the messages between group leaders and rank 0's dispatcher (on ctx->ask/reply). */
enum { BATCH_TAG_ASK = 1, BATCH_TAG_RECORD = 2, BATCH_TAG_QUIT = 3, BATCH_TAG_GIVE = 4 };

/* What the batch's log lines say they are about: "[s1 phase]" (NULL, NULL: nothing). */
void batch_log_scope(const char *label, const char *step);

/* Publish this rank's record of scan k's step (ctx->mine; BCDI_BATCH_COMPARE: compare, rank 0):
 * into status.json when this rank writes it, else to rank 0. */
void batch_publish(batch_ctx *ctx, size_t k, bcdi_batch_stage step);

/* Scan k's steps on this rank's group: the leader runs prepare and analyze, the whole group
 * phase. BCDI_OK, a failure (recorded; the batch goes on), or BCDI_ERR_INTERRUPTED. */
bcdi_status batch_run_scan(batch_ctx *ctx, size_t k);
/* compare over the scans that reached analyze (rank 0). */
bcdi_status batch_run_compare(batch_ctx *ctx);

#endif
