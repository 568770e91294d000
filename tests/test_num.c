/* The small shared numerics of src/num/ against hand-computed cases. */
#include "num/constants.h"
#include "num/mat3.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

/* ---- constants ---- */

Test(num, constants_values)
{
    cr_expect_eq(BCDI_PI, acos(-1.0));
    cr_expect_eq(BCDI_TWO_PI, 2.0 * acos(-1.0));
    cr_expect_eq(180.0 * BCDI_DEG_TO_RAD, BCDI_PI);
    cr_expect_eq(BCDI_PI * BCDI_RAD_TO_DEG, 180.0);
    /* hc = 6.62607015e-34 J s × 299792458 m/s / 1.602176634e-16 J/keV, in Å (all exact in SI) */
    double hc = 6.62607015e-34 * 299792458.0 / 1.602176634e-16 * 1e10;
    cr_expect_lt(fabs(BCDI_HC_KEV_ANGSTROM - hc), 1e-14, "hc %.17g vs %.17g", BCDI_HC_KEV_ANGSTROM,
                 hc);
    /* 11 keV (the I13-1 set-up): λ = 1.127129 Å */
    cr_expect_lt(fabs(bcdi_wavelength_m(11.0) - 1.1271290767e-10), 1e-19);
}

/* ---- 3×3 ---- */

Test(num, mat3_inverse_of_a_known_matrix)
{
    /* det = 4·13 − 7·7 + 2·3 = 9; inverse = adj / 9 (cofactors by hand) */
    const double m[3][3] = {{4, 7, 2}, {3, 6, 1}, {2, 5, 3}};
    const double expected[3][3] = {{13, -11, -5}, {-7, 8, 2}, {3, -6, 3}};
    cr_expect_eq(bcdi_mat3_det(m), 9.0);
    double inv[3][3];
    cr_assert_eq(bcdi_mat3_inverse(m, inv), 1);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(inv[i][j] - expected[i][j] / 9.0), 1e-15, "inv[%d][%d] = %g", i, j,
                         inv[i][j]);
    /* m · m⁻¹ = 1 through apply */
    for (int j = 0; j < 3; ++j) {
        double col[3] = {inv[0][j], inv[1][j], inv[2][j]}, out[3];
        bcdi_mat3_apply(m, col, out);
        for (int i = 0; i < 3; ++i)
            cr_expect_lt(fabs(out[i] - (i == j)), 1e-14); /* sums of terms up to ~10 */
    }
    /* mᵀ · (1, 0, 0) is the first row of m */
    double e0[3] = {1, 0, 0}, row[3];
    bcdi_mat3_apply_transpose(m, e0, row);
    cr_expect(row[0] == 4 && row[1] == 7 && row[2] == 2);
}

Test(num, mat3_singular_and_small_scale)
{
    const double rank2[3][3] = {{1, 2, 3}, {2, 4, 6}, {0, 1, 1}};
    double inv[3][3];
    memset(inv, 0x55, sizeof inv);
    cr_expect_eq(bcdi_mat3_inverse(rank2, inv), 0);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_eq(inv[i][j], 0.0, "a singular matrix leaves zeros");
    /* a real-space basis in metres: tiny determinant (1e-24), far from singular */
    const double basis[3][3] = {{2e-8, 0, 0}, {0, 5e-9, 0}, {1e-9, 0, 1e-8}};
    cr_assert_eq(bcdi_mat3_inverse(basis, inv), 1);
    cr_expect_lt(fabs(inv[0][0] - 5e7) / 5e7, 1e-15);
    cr_expect_lt(fabs(inv[1][1] - 2e8) / 2e8, 1e-15);
    cr_expect_lt(fabs(inv[2][0] - (-5e6)) / 5e6, 1e-15, "%g", inv[2][0]); /* −m20/(m00 m22) */
    const double nan_m[3][3] = {{NAN, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    cr_expect_eq(bcdi_mat3_inverse(nan_m, inv), 0);
}

Test(num, vectors_and_frame)
{
    const double x[3] = {1, 0, 0}, y[3] = {0, 1, 0};
    double z[3];
    bcdi_cross3(x, y, z);
    cr_expect(z[0] == 0 && z[1] == 0 && z[2] == 1);
    const double v[3] = {3, 4, 12};
    cr_expect_eq(bcdi_norm3(v), 13.0);
    cr_expect_eq(bcdi_dot3(v, v), 169.0);
    double w[3] = {0, 0, 0};
    cr_expect_eq(bcdi_normalise3(w), 0);
    double u[3] = {0, 3, 4};
    cr_expect_eq(bcdi_normalise3(u), 1);
    cr_expect_lt(fabs(u[1] - 0.6) + fabs(u[2] - 0.8), 1e-16);

    /* z = ẑ, hint (0, 1, 1): y = ŷ, x = y × z = x̂ */
    const double zhat[3] = {0, 0, 1}, hint[3] = {0, 1, 1}, parallel[3] = {0, 0, 2};
    double axes[3][3];
    bcdi_orthonormal_frame(zhat, hint, axes);
    const double expected[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(axes[i][j] - expected[i][j]), 1e-15);
    /* a hint ∥ z falls back to x̂: y = x̂, x = x̂ × ẑ = −ŷ */
    bcdi_orthonormal_frame(zhat, parallel, axes);
    const double fallback[3][3] = {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(axes[i][j] - fallback[i][j]), 1e-15);
}
