/* SPDX-License-Identifier: BSD-3-Clause */
/* Many runs into one answer: align K reconstructions of one dataset onto the best, average them,
 * decompose the aligned stack into orthogonal modes, and measure how reproducible they are.
 *
 * A stack is K complex volumes of n = n0*n1*n2 voxels each, contiguous ([K][n], C order), all
 * centred in one box (as phase writes them). Sums are taken in double over fixed blocks of
 * voxels added in a fixed order, so results do not depend on the thread count.
 *
 * Modes: the aligned stack X (K x n) has the singular value decomposition X = U S W^H; the rows
 * of W^H are orthonormal modes and s_k^2 / sum(s^2) is the fraction of the stack's power each
 * carries (the first mode's weight says how much of the runs is one object). X X^H = U S^2 U^H
 * is the K x K Gram matrix G_ij = sum_r x_i(r) conj(x_j(r)): its eigen-decomposition gives U and
 * S exactly at the cost of K(K+1)/2 dot products and a K x K eigen-problem, instead of an SVD
 * of a K x n matrix. */
#ifndef BCDI_PHASING_COMBINE_H
#define BCDI_PHASING_COMBINE_H

#include "bcdi/align.h"
#include "bcdi/error.h"
#include "voxel_ops.h"

#include <stddef.h>
#include <stdint.h>

#define BCDI_COMBINE_MAX_RUNS 64 /* K: the Gram matrix eigen-solver is sized for small K */

typedef struct bcdi_combine_options {
    int allow_twin;           /* align each run or its twin, whichever matches better (1) */
    int upsample;             /* sub-voxel registration, 1/upsample voxel (10) */
    double support_threshold; /* support of the amplitude correlation: |average| >= this
                               * fraction of its maximum (0.3) */
} bcdi_combine_options;

void bcdi_combine_default_options(bcdi_combine_options *opt);

/* Align every run of the stack in place onto run `reference` (left untouched: rank the runs
 * first and pass the best) with bcdi_align: twin if it matches better, sub-voxel shift, global
 * phase. `alignments` (may be NULL) receives K entries, the reference's being the identity with
 * correlation 1. BCDI_ERR_INVALID_ARG for K = 0, K > BCDI_COMBINE_MAX_RUNS or a reference
 * beyond K; BCDI_ERR_DATA if a run is all zero. */
bcdi_status bcdi_combine_align(const size_t shape[3], size_t count, bcdi_cf *stack,
                               size_t reference, const bcdi_combine_options *opt,
                               bcdi_alignment *alignments);

/* average = (1/K) sum_k stack[k]. */
bcdi_status bcdi_combine_average(const size_t shape[3], size_t count, const bcdi_cf *stack,
                                 bcdi_cf *average);

typedef struct bcdi_modes {
    size_t count;    /* runs K: weights has K entries */
    size_t kept;     /* modes stored in `modes` */
    double *weights; /* s_k^2 / sum(s^2), descending, summing to 1 */
    bcdi_cf *modes;  /* kept x n, orthogonal; ||mode_k||^2 = s_k^2 / K, so the modes share the
                      * units of one run and their squared norms sum to a run's mean power */
} bcdi_modes;

/* Orthogonal modes of an aligned stack; keep = 0 stores none (weights only), keep > K stores K.
 * Each mode's global phase is chosen so that its largest voxel is real and positive. */
bcdi_status bcdi_combine_modes(const size_t shape[3], size_t count, const bcdi_cf *stack,
                               size_t keep, bcdi_modes *out);
void bcdi_modes_free(bcdi_modes *modes);

typedef struct bcdi_reproducibility {
    size_t count;          /* runs K */
    size_t support_voxels; /* voxels of the amplitude-correlation support */
    /* complex correlation |<x_i, x_j>| / (||x_i|| ||x_j||) over the whole box (aligned runs) */
    double complex_mean, complex_min, complex_max; /* over the K(K-1)/2 pairs */
    /* Pearson correlation of |x_i| and |x_j| over the support */
    double amplitude_mean, amplitude_min, amplitude_max;
    double *complex_corr;   /* K x K, 1 on the diagonal */
    double *amplitude_corr; /* K x K, 1 on the diagonal */
} bcdi_reproducibility;

/* Seed-to-seed figures of an aligned stack. `support` (1 = inside, may be NULL) selects the
 * voxels of the amplitude correlation; NULL takes |average| >= opt->support_threshold x max.
 * With K = 1 the pair statistics are 1. BCDI_ERR_DATA when the support is empty or a run has a
 * constant amplitude over it (no Pearson correlation). */
bcdi_status bcdi_combine_reproducibility(const size_t shape[3], size_t count, const bcdi_cf *stack,
                                         const uint8_t *support, const bcdi_combine_options *opt,
                                         bcdi_reproducibility *out);
void bcdi_reproducibility_free(bcdi_reproducibility *r);

/* Eigen-decomposition of a k x k Hermitian matrix by cyclic complex Jacobi rotations (why
 * hand-written: k <= BCDI_COMBINE_MAX_RUNS, so an O(k^3) sweep is microseconds, exact to
 * rounding, and no LAPACK dependency for one small solve). `a` is row-major, interleaved
 * (re, im) pairs: a[2*(i*k+j)] + i a[2*(i*k+j)+1]; only its Hermitian part is used. Eigenvalues
 * come out descending; eigenvector m is column m of `vectors` (same layout as a), unit norm.
 * BCDI_ERR_INTERNAL if the sweeps do not converge. */
bcdi_status bcdi_hermitian_eigen(size_t k, const double *a, double *values, double *vectors);

#endif
