/* SPDX-License-Identifier: BSD-3-Clause */
/* Phase retrieval transfer function (Chapman et al., JOSA A 23, 1179 (2006)): how much of the
 * measured Fourier modulus the combined answer of many runs keeps, shell by shell,
 *     PRTF(q) = < |F(combined)(q)| / sqrt(I(q)) >  over the measured voxels of a shell of |q|,
 * where F is the forward FFT without normalisation (the phasing engine's convention: a
 * reconstruction that fits the data has |F| = sqrt(I)). Runs that agree in phase keep |F| of
 * their average; where their phases scatter, the average cancels and the PRTF falls. The
 * resolution is read where it first drops below a threshold (1/e by convention), as a half
 * period 1/(2 f) with f the spatial frequency in cycles per unit length.
 *
 * Frequencies: a centred array of N voxels along an axis holds f = (i - N/2)/N cycles per voxel
 * at index i; given real-space voxel sizes v (the lengths of the detector-conjugate basis), the
 * physical frequency along that axis is f / v. Shells ignore the small shear of that grid.
 * Per-axis curves take the voxels inside a cone around each array axis, in shells of their
 * component along it (one shell per index step). Measured voxels are
 * those with mask 0 (PyNX's convention: non-zero = not measured) and a positive, finite
 * intensity (a zero count has no ratio). */
#ifndef BCDI_PHASING_PRTF_H
#define BCDI_PHASING_PRTF_H

#include "bcdi/error.h"
#include "voxel_ops.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bcdi_prtf_options {
    double voxel_size_m[3];     /* real-space voxel sizes (m); all 0: voxel units */
    double cone_half_angle_deg; /* half angle of the per-axis cones (20°) */
    double threshold;           /* resolution threshold (1/e) */
} bcdi_prtf_options;

void bcdi_prtf_default_options(bcdi_prtf_options *opt);

typedef struct bcdi_prtf_curve {
    size_t shells;
    double width;      /* shell width: cycles per nm, or per voxel without voxel sizes */
    double *frequency; /* mean |q| of each shell's measured voxels (s x width when empty) */
    double *value;     /* mean ratio in the shell; NaN when no measured voxel falls in it */
    size_t *voxels;    /* measured voxels per shell */
    double crossing;   /* frequency where the curve first falls below the threshold (linear
                        * interpolation between the shells around it) */
    double resolution; /* half period 1 / (2 crossing): nm, or voxels */
    int reached;       /* 0: never below the threshold up to the last shell: crossing is that
                        * shell's nominal frequency (s x width) and resolution a bound set by
                        * the sampling (the voxel size along an axis) */
} bcdi_prtf_curve;

typedef struct bcdi_prtf {
    int physical;            /* 1: frequencies in 1/nm and resolutions in nm; 0: voxel units */
    bcdi_prtf_curve overall; /* complete shells of |q|, so only up to the smallest per-axis
                              * Nyquist frequency: with anisotropic voxels its resolution is at
                              * best the largest voxel size; the axis curves go finer */
    bcdi_prtf_curve axis[3]; /* cones around array axes 0, 1, 2; one shell per index step */
} bcdi_prtf;

/* PRTF of `object` (a centred complex volume, e.g. the average of aligned runs) against the
 * centred `intensity`; `mask` may be NULL (all measured). BCDI_ERR_DATA if no voxel is
 * measured, BCDI_ERR_INVALID_ARG for a bad shape or options. */
bcdi_status bcdi_prtf_compute(const size_t shape[3], const bcdi_cf *object, const float *intensity,
                              const uint8_t *mask, const bcdi_prtf_options *opt, bcdi_prtf *out);
void bcdi_prtf_free(bcdi_prtf *prtf);

#endif
