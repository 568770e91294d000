/* SPDX-License-Identifier: BSD-3-Clause */
/* The kept runs of a phase run into one answer (docs/algorithms.md, "Many runs into one
 * answer"): every run aligned onto the best (twin, sub-voxel shift, global phase: combine.h),
 * averaged, decomposed into modes (the first mode's weight says how much of the runs is one
 * object), their seed-to-seed correlations, and the phase retrieval transfer function of the
 * average against the data with a resolution per axis (prtf.h).
 *
 * The average is in the best run's frame (the reference is not moved) and takes its support;
 * its mean phase over that support is removed as for a single run. */
#ifndef BCDI_PHASING_COMBINE_RUNS_H
#define BCDI_PHASING_COMBINE_RUNS_H

#include "bcdi/phasing.h"
#include "phasing/combine.h"
#include "phasing/prtf.h"

typedef struct bcdi_combined {
    size_t count;                /* runs combined, K (the best K kept runs) */
    size_t shape[3];             /* the data's */
    bcdi_cf *average;            /* centred, mean phase 0 over `support` */
    const uint8_t *support;      /* the reference (best) run's: not owned */
    long *run_ids, *generations; /* K: the runs combined, best first */
    double *correlation;         /* K: aligned complex correlation to the best (1 for it) */
    int *twinned;                /* K: 1 when the run's twin matched the best better */
    double *mode_weights;        /* K: power fraction of each mode, descending */
    bcdi_reproducibility reproducibility; /* pairwise correlations of the aligned runs */
    bcdi_prtf prtf;                       /* of the average against the data */
} bcdi_combined;

/* Combine the best min(result->count, BCDI_COMBINE_MAX_RUNS) runs of `result` (at least 2;
 * BCDI_ERR_INVALID_ARG otherwise). `intensity` and `mask` (may be NULL) are the centred data
 * phased; `voxel_size_m` (may be NULL, or zeros) the real-space voxel sizes for a PRTF in nm
 * (else in voxel units). Runs are copied: `result` is left as it is. */
bcdi_status bcdi_combine_runs(const bcdi_phasing_result *result, const float *intensity,
                              const uint8_t *mask, const double voxel_size_m[3],
                              bcdi_combined *out);
void bcdi_combined_free(bcdi_combined *c);

#endif
