/* SPDX-License-Identifier: BSD-3-Clause */
/* 3-vectors and row-major 3×3 matrices (m[row][col]) in double: the small linear algebra of
 * geometry, orthogonalisation, strain, dislocation tangents and comparisons, written once. */
#ifndef BCDI_NUM_MAT3_H
#define BCDI_NUM_MAT3_H

#include <math.h>

static inline double bcdi_dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline double bcdi_norm3(const double a[3])
{
    return sqrt(bcdi_dot3(a, a));
}

/* v /= |v|; returns 0 (v unchanged) when v is the zero vector */
static inline int bcdi_normalise3(double v[3])
{
    double len = bcdi_norm3(v);
    if (!(len > 0.0)) return 0;
    v[0] /= len;
    v[1] /= len;
    v[2] /= len;
    return 1;
}

/* out = a × b (out must not alias a or b) */
static inline void bcdi_cross3(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

/* out = m · v (out must not alias v) */
static inline void bcdi_mat3_apply(const double m[3][3], const double v[3], double out[3])
{
    for (int i = 0; i < 3; ++i)
        out[i] = m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2];
}

/* out = mᵀ · v (out must not alias v) */
static inline void bcdi_mat3_apply_transpose(const double m[3][3], const double v[3], double out[3])
{
    for (int i = 0; i < 3; ++i)
        out[i] = m[0][i] * v[0] + m[1][i] * v[1] + m[2][i] * v[2];
}

/* Right-handed orthonormal frame, rows x, y, z: z = z_unit (already of unit length), y the part
 * of y_hint ⟂ z made unit (x̂'s part instead when y_hint is within 1e-9 of ∥ z), x = y × z.
 * The crystal frame (z = Ĝ, y = rocking axis ⟂ Ĝ) of simulate and analyze. */
void bcdi_orthonormal_frame(const double z_unit[3], const double y_hint[3], double axes[3][3]);

/* Determinant (cofactor expansion along the first row). */
double bcdi_mat3_det(const double m[3][3]);

/* Inverse by cofactors. Returns 1, or 0 when m is singular to working precision
 * (|det| <= 1e-12 · max|m_ij|³, or not finite): inv is then all zeros. inv must not alias m. */
int bcdi_mat3_inverse(const double m[3][3], double inv[3][3]);

#endif
