/* SPDX-License-Identifier: BSD-3-Clause */
/* The phasing report (report=true, the default): a small offline HTML page with PNG panels that
 * phase writes beside its result, in the result's output transaction, as `<output stem>_report/`:
 *   index.html        the run's keys, the ranking of the kept runs and which were combined, the
 *                     combined figures (first mode, correlations, resolution per axis)
 *   convergence.png   llk, Fourier error, free llk (when pixels are held out) and support
 *                     fraction against the iteration, one line per kept run
 *   slices.png        central slices of the answer's amplitude and phase, three planes
 *   prtf.png          the PRTF curves with the 1/e threshold and each axis's resolution marked
 *                     (only when the runs were combined)
 * The page has no script and no network reference: every image is a file beside it. */
#ifndef BCDI_CLI_PHASE_REPORT_H
#define BCDI_CLI_PHASE_REPORT_H

#include "bcdi/phasing.h"
#include "core/output.h"
#include "phasing/combine_runs.h"

typedef struct cli_phase_report {
    const char *output; /* the result file: its name heads the page */
    const char *input;  /* the prepared data */
    const char *device;
    const bcdi_phasing_params *params;
    const bcdi_phasing_result *result;
    const bcdi_combined *combined; /* NULL: the answer is the best run */
    const bcdi_cf *answer;         /* the answer as written, uncropped (result->shape) */
    const uint8_t *support;        /* its support */
} cli_phase_report;

/* "<output stem>_report" (the output's name without its extension). */
void cli_phase_report_dir(const char *output, char *out, size_t cap);
/* Stage the report's folder and files in tx. */
bcdi_status cli_phase_report_write(bcdi_output *tx, const cli_phase_report *r);

#endif
