/* SPDX-License-Identifier: BSD-3-Clause */
/* Small helpers shared by the analysis sources (not part of the public API). */
#ifndef BCDI_ANALYSIS_INTERNAL_H
#define BCDI_ANALYSIS_INTERNAL_H

#include "bcdi/analysis.h"

#include "num/constants.h"
#include "num/mat3.h"

#include <math.h>
#include <stddef.h>

/* Wrap into (−π, π]. */
static inline double ana_wrap(double x)
{
    x = fmod(x + BCDI_PI, 2.0 * BCDI_PI);
    if (x <= 0.0) x += 2.0 * BCDI_PI;
    return x - BCDI_PI;
}

/* arg(a · conj b): the wrapped phase difference φ_a − φ_b. */
static inline double ana_phase_diff(bcdi_cf a, bcdi_cf b)
{
    double re = (double)a.re * b.re + (double)a.im * b.im;
    double im = (double)a.im * b.re - (double)a.re * b.im;
    /* An exact zero (a synthetic core through a voxel centre) has no phase: it is taken as a
     * tiny positive real (phase 0). atan2 of signed zeros would give ±π or 0 depending on the
     * operand order, and arg(a b*) = −arg(b a*) must hold exactly for neighbouring faces to
     * conserve flux. */
    if (re == 0.0 && im == 0.0) {
        int a_zero = a.re == 0.0f && a.im == 0.0f, b_zero = b.re == 0.0f && b.im == 0.0f;
        if (a_zero && b_zero) return 0.0;
        if (b_zero) return atan2((double)a.im, (double)a.re);
        return -atan2((double)b.im, (double)b.re);
    }
    return atan2(im, re);
}

/* Fractional index of the input array → lab position in nm (index input_shape/2 at 0). */
void ana_index_to_nm(const bcdi_analysis_frame *f, const double idx[3], const size_t input_shape[3],
                     double out[3]);

static inline double ana_abs(bcdi_cf a)
{
    return sqrt((double)a.re * a.re + (double)a.im * a.im);
}

#endif
