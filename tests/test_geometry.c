/* SPDX-License-Identifier: BSD-3-Clause */
/* Geometry against the hand-computed table of docs/physics.md §2, and the Excalibur 3M gap layout. */
#include "bcdi/geometry.h"
#include "instrument/excalibur.h"

#include <criterion/criterion.h>
#include <math.h>

#ifndef M_PI /* strict C11 headers do not define it */
#define M_PI 3.14159265358979323846
#endif

static double rel_err(double value, double expected)
{
    return fabs(value - expected) / fabs(expected);
}

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void column(const double m[3][3], int a, double out[3])
{
    for (int i = 0; i < 3; ++i)
        out[i] = m[i][a];
}

static bcdi_geometry i13_for(size_t n)
{
    bcdi_geometry g;
    bcdi_geometry_default_i13(&g);
    size_t shape[3] = {n, n, n};
    cr_assert_eq(bcdi_geometry_compute(&g, shape), BCDI_OK, "%s", bcdi_last_error());
    return g;
}

Test(geometry, i13_wavelength_angles_and_g)
{
    bcdi_geometry g = i13_for(256);
    cr_expect_lt(rel_err(g.wavelength_m * 1e10, 1.12713), 1e-5, "λ = %.6f Å",
                 g.wavelength_m * 1e10);
    cr_expect_lt(fabs(g.two_theta_deg - 13.68), 0.005, "2θ = %.4f°", g.two_theta_deg);
    /* at the Bragg condition |Q| = |G| = 2π/d */
    double q = sqrt(dot3(g.q_bragg, g.q_bragg)) * 1e-10;
    cr_expect_lt(rel_err(q, 1.3274), 1e-4, "|Q| = %.5f 1/Å", q);
    cr_expect_lt(rel_err(2.0 * M_PI / 4.733, 1.3274), 1e-4);
}

Test(geometry, i13_q_steps)
{
    bcdi_geometry g = i13_for(256);
    double col[3];
    column(g.q_step, 1, col);
    cr_expect_lt(rel_err(sqrt(dot3(col, col)) * 1e-10, 1.057e-4), 5e-4, "row step %.5g",
                 sqrt(dot3(col, col)) * 1e-10);
    column(g.q_step, 2, col);
    cr_expect_lt(rel_err(sqrt(dot3(col, col)) * 1e-10, 1.057e-4), 5e-4);
    double rock[3];
    column(g.q_step, 0, rock);
    double rock_len = sqrt(dot3(rock, rock)) * 1e-10;
    cr_expect_lt(rel_err(rock_len, 1.158e-4), 5e-4, "rocking step %.5g", rock_len);
    /* direction of docs/physics.md: ∓(cos 2θ − 1, 0, −sin 2θ)/(2 sin θ); here the minus sign */
    double tth = g.two_theta_deg * M_PI / 180.0;
    double expected_dir[3] = {-(cos(tth) - 1.0) / (2.0 * sin(tth / 2)), 0.0,
                              sin(tth) / (2.0 * sin(tth / 2))};
    cr_expect_gt(dot3(rock, expected_dir) / sqrt(dot3(rock, rock)), 1.0 - 1e-12);
    /* angle between the rocking step and the detector plane (normal d̂): 90° − θ_B = 83.2° */
    double d_hat[3] = {sin(tth), 0.0, cos(tth)};
    double angle = asin(fabs(dot3(rock, d_hat)) / sqrt(dot3(rock, rock))) * 180.0 / M_PI;
    cr_expect_lt(fabs(angle - 83.2), 0.05, "angle %.3f°", angle);
}

Test(geometry, real_basis_is_dual)
{
    bcdi_geometry g = i13_for(200);
    /* T·Bᵀ = 2π I with B = q_step·diag(N) */
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            double sum = 0.0;
            for (int a = 0; a < 3; ++a)
                sum += g.real_basis[i][a] * g.q_step[j][a] * 200.0;
            double expected = i == j ? 2.0 * M_PI : 0.0;
            cr_expect_lt(fabs(sum - expected), 1e-9, "T·Bᵀ[%d][%d] = %.12g", i, j, sum);
        }
}

/* docs/physics.md voxel table. Its numbers are the orthogonal-grid sizes 2π/(N |Δq_a|) (λD/(Np) and
 * 2π/(N|Q|Δω)); the true column norms of T are larger by 1/cos θ_B (0.7 %) along the column and
 * rocking axes, which shear against each other by θ_B, and equal along the rows (ŷ is
 * orthogonal to both). */
static void check_voxels(size_t n, double detector_nm, double rocking_nm)
{
    bcdi_geometry g = i13_for(n);
    double theta = g.two_theta_deg * M_PI / 360.0;
    double nominal[3];
    for (int a = 0; a < 3; ++a) {
        double step[3];
        column(g.q_step, a, step);
        nominal[a] = 2.0 * M_PI / ((double)n * sqrt(dot3(step, step))) * 1e9;
    }
    cr_expect_lt(rel_err(nominal[0], rocking_nm), 5e-3, "N=%zu rocking %.3f nm", n, nominal[0]);
    cr_expect_lt(rel_err(nominal[1], detector_nm), 5e-3, "N=%zu rows %.3f nm", n, nominal[1]);
    cr_expect_lt(rel_err(nominal[2], detector_nm), 5e-3, "N=%zu cols %.3f nm", n, nominal[2]);
    cr_expect_lt(rel_err(g.voxel_size_m[1] * 1e9, nominal[1]), 1e-9);
    cr_expect_lt(rel_err(g.voxel_size_m[2] * 1e9, nominal[2] / cos(theta)), 1e-9,
                 "col norm %.4f nm", g.voxel_size_m[2] * 1e9);
    cr_expect_lt(rel_err(g.voxel_size_m[0] * 1e9, nominal[0] / cos(theta)), 1e-9,
                 "rock norm %.4f nm", g.voxel_size_m[0] * 1e9);
}

Test(geometry, voxel_sizes)
{
    check_voxels(256, 23.2, 21.2);
    check_voxels(200, 29.7, 27.1);
    check_voxels(128, 46.4, 42.4);
}

Test(geometry, gold_scan_delta_gamma)
{
    bcdi_geometry g;
    bcdi_geometry_default_i13(&g);
    g.energy_kev = 9.0;
    g.distance_m = 0.5;
    g.angles = BCDI_DETECTOR_DELTA_GAMMA;
    g.delta_deg = 32.174;
    g.gamma_deg = 12.6346;
    size_t shape[3] = {64, 64, 64};
    cr_assert_eq(bcdi_geometry_compute(&g, shape), BCDI_OK, "%s", bcdi_last_error());
    double k = 2.0 * M_PI / g.wavelength_m;
    double q = sqrt(dot3(g.q_bragg, g.q_bragg));
    double two_theta = 2.0 * asin(q / (2.0 * k)) * 180.0 / M_PI;
    cr_expect_lt(fabs(two_theta - 34.3), 0.05, "2θ = %.4f°", two_theta);
    double d = 2.0 * M_PI / q * 1e10;
    /* measured 2.3347 Å: 0.85 % below Au(111) 2.356 Å, because cos δ cos γ gives 34.32°, not
     * the 34.02° of Au(111) at 9 keV (the peak is off the detector reference pixel) */
    cr_expect_lt(rel_err(d, 2.3347), 3e-4, "d = %.5f Å", d);
    cr_expect_lt(rel_err(d, 2.356), 1e-2, "d = %.5f Å", d);
    /* γ = 0 must reproduce the 2θ mode exactly */
    bcdi_geometry a, b;
    bcdi_geometry_default_i13(&a);
    b = a;
    b.angles = BCDI_DETECTOR_DELTA_GAMMA;
    b.delta_deg = a.two_theta_deg;
    b.gamma_deg = 0.0;
    cr_assert_eq(bcdi_geometry_compute(&a, shape), BCDI_OK);
    cr_assert_eq(bcdi_geometry_compute(&b, shape), BCDI_OK);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(a.q_step[i][j] - b.q_step[i][j]), 1e-6);
}

Test(geometry, bad_input)
{
    bcdi_geometry g;
    bcdi_geometry_default_i13(&g);
    size_t shape[3] = {8, 8, 8};
    g.energy_kev = 0.0;
    cr_expect_eq(bcdi_geometry_compute(&g, shape), BCDI_ERR_INVALID_ARG);
    bcdi_geometry_default_i13(&g);
    g.rocking_step_deg = 0.0;
    cr_expect_eq(bcdi_geometry_compute(&g, shape), BCDI_ERR_INVALID_ARG);
    bcdi_geometry_default_i13(&g);
    size_t zero[3] = {8, 0, 8};
    cr_expect_eq(bcdi_geometry_compute(&g, zero), BCDI_ERR_INVALID_ARG);
    double tth;
    cr_expect_eq(bcdi_bragg_two_theta_deg(3e-10, 1e-10, &tth), BCDI_ERR_INVALID_ARG);
}

Test(excalibur, sizes_and_gaps)
{
    bcdi_excalibur det;
    bcdi_excalibur_default(&det);
    cr_assert_eq(bcdi_excalibur_validate(&det), BCDI_OK);
    cr_expect_eq(bcdi_excalibur_raw_rows(&det), 1536);
    cr_expect_eq(bcdi_excalibur_raw_cols(&det), 2048);
    cr_expect_eq(bcdi_excalibur_gapped_rows(&det), 1795);
    cr_expect_eq(bcdi_excalibur_gapped_cols(&det), 2069);
    for (long c = 256; c <= 258; ++c)
        cr_expect(bcdi_excalibur_is_gap(&det, 10, c), "col %ld", c);
    cr_expect_not(bcdi_excalibur_is_gap(&det, 10, 255));
    cr_expect_not(bcdi_excalibur_is_gap(&det, 10, 259));
    for (long r = 256; r <= 258; ++r)
        cr_expect(bcdi_excalibur_is_gap(&det, r, 10), "row %ld", r);
    for (long r = 515; r <= 639; ++r)
        cr_expect(bcdi_excalibur_is_gap(&det, r, 10), "row %ld", r);
    cr_expect_not(bcdi_excalibur_is_gap(&det, 514, 10));
    cr_expect_not(bcdi_excalibur_is_gap(&det, 640, 10));
    cr_expect_eq(bcdi_excalibur_row_to_raw(&det, 640), 512);
    cr_expect_eq(bcdi_excalibur_row_to_raw(&det, 1794), 1535);
    cr_expect_eq(bcdi_excalibur_col_to_raw(&det, 2068), 2047);
    cr_expect_eq(bcdi_excalibur_col_to_raw(&det, 257), -1);
    cr_expect_eq(bcdi_excalibur_row_to_raw(&det, 1795), -1);
    /* every raw index maps into a non-gap gapped index and back */
    for (long r = 0; r < 1536; ++r) {
        long gr = bcdi_excalibur_row_to_gapped(&det, r);
        cr_assert_eq(bcdi_excalibur_row_to_raw(&det, gr), r, "row %ld -> %ld", r, gr);
    }
    for (long c = 0; c < 2048; ++c) {
        long gc = bcdi_excalibur_col_to_gapped(&det, c);
        cr_assert_eq(bcdi_excalibur_col_to_raw(&det, gc), c, "col %ld -> %ld", c, gc);
    }
    /* a 20 x 20 region at (250, 250) holds gap rows 256..258 and gap columns 256..258 */
    uint32_t mask[400] = {0};
    size_t gaps = bcdi_excalibur_gap_mask(&det, 250, 250, 20, 20, mask, 1u);
    cr_expect_eq(gaps, 20 * 3 + 20 * 3 - 9);
    cr_expect_eq(mask[6 * 20 + 0], 1u);
    cr_expect_eq(mask[0 * 20 + 7], 1u);
    cr_expect_eq(mask[5 * 20 + 5], 0u);
    cr_expect_eq(mask[9 * 20 + 9], 0u);
}
