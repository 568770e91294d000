/* SPDX-License-Identifier: BSD-3-Clause */
/* The work of a subcommand once its keys are bound, as functions `batch` calls in-process for
 * every scan (the subcommands call the same ones): no printing of errors, no exit codes; each
 * returns a bcdi_status with the detail set. */
#ifndef BCDI_CLI_STAGES_H
#define BCDI_CLI_STAGES_H

#include "bcdi/analysis.h"
#include "bcdi/config.h"
#include "bcdi/error.h"
#include "bcdi/phasing_params.h"

#include <stddef.h>

struct bcdi_hpc;

/* `phase`: prepared CXI -> result CXI (and <stem>-run<K>.cxi for keep > 1). */
typedef struct cli_phase_job {
    const char *input;  /* prepared CXI */
    const char *output; /* result CXI */
    const bcdi_phase_options *options;
    const bcdi_config *config; /* the merged keys, recorded in the result */
    int quiet;                 /* no progress line */
    const char *label;         /* of the progress line ("phase") */
    struct bcdi_hpc *team;     /* the ranks sharing the runs; NULL: this process alone */
} cli_phase_job;

/* The outputs a job writes, checked before any data is read (core/output.h): the result and the
 * first thousand kept runs' names. */
bcdi_status cli_phase_check_outputs(const cli_phase_job *job);
/* Read the data, phase, write the outputs in one transaction. */
bcdi_status cli_phase_run(const cli_phase_job *job);
/* Name of kept run `rank` (0 = best): "<stem>-run<rank+1><ext>". */
void cli_phase_run_path(const char *output, size_t rank, char *out, size_t cap);

/* `analyze`: result CXI -> the analysis folder (all or nothing). */
bcdi_status cli_analyze_run(const char *input, const char *output,
                            const bcdi_analysis_params *params, const bcdi_config *config);

#endif
