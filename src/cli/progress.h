/* SPDX-License-Identifier: BSD-3-Clause */
/* Progress output for long commands: a bar with ETA on a terminal, a plain log line every 10%
 * otherwise (batch jobs, CI logs), nothing with --quiet. For phase it shows the leading run's
 * current llk and Fourier error (not the best values seen), and the ranking metric when it is
 * another one. */
#ifndef BCDI_CLI_PROGRESS_H
#define BCDI_CLI_PROGRESS_H

#include "bcdi/phasing.h"

typedef struct cli_progress {
    int quiet, tty;
    double start, last_print;
    int last_decile;
    const char *label;  /* "phase" */
    const char *metric; /* name of the ranking metric */
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label, const char *metric, int quiet);
/* Matches bcdi_phase_progress_fn. */
void cli_progress_update(const bcdi_phase_progress *now, void *user);
/* The text of the values shown for `now` (empty before the first evaluation). */
void cli_progress_values(const cli_progress *p, const bcdi_phase_progress *now, char *out,
                         size_t cap);
void cli_progress_finish(cli_progress *p);

#endif
