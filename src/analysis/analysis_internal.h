/* Small helpers shared by the analysis sources (not part of the public API). */
#ifndef BCDI_ANALYSIS_INTERNAL_H
#define BCDI_ANALYSIS_INTERNAL_H

#include "bcdi/analysis.h"

#include "num/constants.h"

#include <math.h>
#include <stddef.h>

static inline double ana_dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void ana_cross3(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static inline double ana_det3(const double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* Inverse of a row-major 3x3 matrix; returns 0 when singular. */
static inline int ana_inv3(const double m[3][3], double inv[3][3])
{
    double det = ana_det3(m);
    if (!(fabs(det) > 0.0)) return 0;
    inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    return 1;
}

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

static inline double ana_abs(bcdi_cf a)
{
    return sqrt((double)a.re * a.re + (double)a.im * a.im);
}

/* Separable Gaussian blur with clamped (not periodic) edges: a crystal is not periodic. */
void ana_blur(float *volume, const size_t shape[3], double sigma);

#endif
