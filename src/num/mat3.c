/* SPDX-License-Identifier: BSD-3-Clause */
#include "num/mat3.h"

#include <string.h>

double bcdi_mat3_det(const double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

int bcdi_mat3_inverse(const double m[3][3], double inv[3][3])
{
    double det = bcdi_mat3_det(m), scale = 0.0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            scale = fmax(scale, fabs(m[i][j]));
    /* relative test: a basis in metres (~1e-8) has det ~1e-24 and is far from singular */
    if (!(fabs(det) > 1e-12 * scale * scale * scale) || !isfinite(det)) {
        memset(inv, 0, 9 * sizeof(double));
        return 0;
    }
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

void bcdi_orthonormal_frame(const double z_unit[3], const double y_hint[3], double axes[3][3])
{
    double y[3] = {y_hint[0], y_hint[1], y_hint[2]};
    double along = bcdi_dot3(y, z_unit);
    for (int a = 0; a < 3; ++a)
        y[a] -= along * z_unit[a];
    if (!(bcdi_norm3(y) > 1e-9 * bcdi_norm3(y_hint))) {
        y[0] = 1.0, y[1] = 0.0, y[2] = 0.0;
        along = bcdi_dot3(y, z_unit);
        for (int a = 0; a < 3; ++a)
            y[a] -= along * z_unit[a];
    }
    bcdi_normalise3(y);
    double x[3];
    bcdi_cross3(y, z_unit, x);
    for (int a = 0; a < 3; ++a)
        axes[0][a] = x[a], axes[1][a] = y[a], axes[2][a] = z_unit[a];
}
