/* Progress output for long commands: a bar with ETA on a terminal, a plain log line every 10%
 * otherwise (batch jobs, CI logs), nothing with --quiet. */
#ifndef BCDI_CLI_PROGRESS_H
#define BCDI_CLI_PROGRESS_H

typedef struct cli_progress {
    int quiet, tty;
    double start, last_print;
    int last_decile;
    const char *label;  /* "phase" */
    const char *metric; /* name of the value shown */
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label, const char *metric, int quiet);
/* Matches bcdi_progress_fn. */
void cli_progress_update(long done, long total, double value, void *user);
void cli_progress_finish(cli_progress *p);

#endif
