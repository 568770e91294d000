/* SPDX-License-Identifier: BSD-3-Clause */
/* Diffraction geometry (docs/physics.md §2): detector direction and axes, Q, per-index q steps and
 * the real-space basis T = 2π (B⁻¹)ᵀ of the detector-conjugate grid.
 *
 * Conventions chosen here (docs/simulate.md repeats them):
 *  - the detector at rest looks along +z with its columns along +x and its rows along
 *    -row_sign·y (row_sign = +1: row index grows downwards);
 *  - 2θ mode rotates it by 2θ about +y; delta/gamma mode (34-ID-C) applies gamma about -x
 *    first (inner circle), then delta about +y (outer circle), so cos 2θ = cos δ cos γ and the
 *    two modes agree for γ = 0, δ = 2θ;
 *  - a frame taken at ω + Δω about â sees the crystal rotated by +Δω, so the crystal-frame
 *    scattering vector moves by Δq_rock = -Δω (â × Q) per frame. */
#include "bcdi/geometry.h"

#include "num/constants.h"
#include "num/mat3.h"

#include <math.h>
#include <string.h>

static double deg2rad(double deg)
{
    return deg * BCDI_DEG_TO_RAD;
}

bcdi_status bcdi_bragg_two_theta_deg(double wavelength_m, double d_spacing_m, double *two_theta_deg)
{
    if (!(wavelength_m > 0.0) || !(d_spacing_m > 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "Bragg angle: wavelength (%g m) and d-spacing (%g m) must be > 0",
                          wavelength_m, d_spacing_m);
    double s = wavelength_m / (2.0 * d_spacing_m);
    if (s > 1.0)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "Bragg angle: wavelength %.5g Å exceeds 2d = %.5g Å, no reflection",
                          wavelength_m * 1e10, 2.0 * d_spacing_m * 1e10);
    *two_theta_deg = 2.0 * asin(s) * BCDI_RAD_TO_DEG;
    return BCDI_OK;
}

void bcdi_geometry_default_i13(bcdi_geometry *g)
{
    memset(g, 0, sizeof(*g));
    g->energy_kev = 11.0;
    g->wavelength_m = bcdi_wavelength_m(g->energy_kev);
    g->distance_m = 2.9;
    g->pixel_size_m[0] = 55e-6;
    g->pixel_size_m[1] = 55e-6;
    g->angles = BCDI_DETECTOR_TWO_THETA;
    g->d_spacing_m = 4.733e-10;
    /* 11 keV and 4.733 Å always satisfy Bragg's law, so the status can be ignored. */
    (void)bcdi_bragg_two_theta_deg(g->wavelength_m, g->d_spacing_m, &g->two_theta_deg);
    g->delta_deg = g->two_theta_deg;
    g->gamma_deg = 0.0;
    g->rocking_step_deg = 0.005;
    g->rocking_axis[1] = 1.0;
    g->row_sign = 1;
    g->hkl[2] = 3;
}

/* Detector centre direction d̂, row direction r̂ and column direction ĉ (unit vectors, lab). */
static void detector_axes(const bcdi_geometry *g, double d_hat[3], double r_hat[3], double c_hat[3])
{
    double delta, gamma;
    if (g->angles == BCDI_DETECTOR_DELTA_GAMMA) {
        delta = deg2rad(g->delta_deg);
        gamma = deg2rad(g->gamma_deg);
    } else {
        delta = deg2rad(g->two_theta_deg);
        gamma = 0.0;
    }
    double sd = sin(delta), cd = cos(delta), sg = sin(gamma), cg = cos(gamma);
    /* R_y(δ)·R_x(-γ) applied to ẑ, x̂ and ŷ */
    d_hat[0] = cg * sd;
    d_hat[1] = sg;
    d_hat[2] = cg * cd;
    c_hat[0] = cd;
    c_hat[1] = 0.0;
    c_hat[2] = -sd;
    double rs = g->row_sign < 0 ? -1.0 : 1.0;
    r_hat[0] = -rs * (-sg * sd);
    r_hat[1] = -rs * cg;
    r_hat[2] = -rs * (-sg * cd);
}

bcdi_status bcdi_geometry_compute(bcdi_geometry *g, const size_t shape[3])
{
    if (!(g->energy_kev > 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: energy %g keV must be > 0",
                          g->energy_kev);
    if (!(g->distance_m > 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: detector distance %g m must be > 0",
                          g->distance_m);
    if (!(g->pixel_size_m[0] > 0.0) || !(g->pixel_size_m[1] > 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: pixel sizes (%g, %g m) must be > 0",
                          g->pixel_size_m[0], g->pixel_size_m[1]);
    if (!(fabs(g->rocking_step_deg) > 0.0) || !isfinite(g->rocking_step_deg))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: rocking step %g deg must be non-zero",
                          g->rocking_step_deg);
    if (g->angles != BCDI_DETECTOR_TWO_THETA && g->angles != BCDI_DETECTOR_DELTA_GAMMA)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: unknown detector angle convention %d",
                          (int)g->angles);
    for (int a = 0; a < 3; ++a)
        if (shape[a] == 0)
            return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: shape axis %d is zero", a);
    double axis_norm = bcdi_norm3(g->rocking_axis);
    if (!(axis_norm > 0.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "geometry: rocking axis is the zero vector");

    g->wavelength_m = bcdi_wavelength_m(g->energy_kev);
    double k = 2.0 * BCDI_PI / g->wavelength_m;
    double d_hat[3], r_hat[3], c_hat[3];
    detector_axes(g, d_hat, r_hat, c_hat);
    double q[3] = {k * d_hat[0], k * d_hat[1], k * (d_hat[2] - 1.0)};
    double axis[3] = {g->rocking_axis[0] / axis_norm, g->rocking_axis[1] / axis_norm,
                      g->rocking_axis[2] / axis_norm};
    double axq[3];
    bcdi_cross3(axis, q, axq);
    double dw = deg2rad(g->rocking_step_deg);
    double row_step = 2.0 * BCDI_PI * g->pixel_size_m[0] / (g->wavelength_m * g->distance_m);
    double col_step = 2.0 * BCDI_PI * g->pixel_size_m[1] / (g->wavelength_m * g->distance_m);
    for (int i = 0; i < 3; ++i) {
        g->q_bragg[i] = q[i];
        g->q_step[i][0] = -dw * axq[i];
        g->q_step[i][1] = row_step * r_hat[i];
        g->q_step[i][2] = col_step * c_hat[i];
    }
    double b[3][3], b_inv[3][3];
    for (int i = 0; i < 3; ++i)
        for (int a = 0; a < 3; ++a)
            b[i][a] = (double)shape[a] * g->q_step[i][a];
    if (!bcdi_mat3_inverse(b, b_inv))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "geometry: the q steps are coplanar (rocking axis parallel to Q, or "
                          "2θ = 0): no real-space basis");
    for (int i = 0; i < 3; ++i)
        for (int a = 0; a < 3; ++a)
            g->real_basis[i][a] = 2.0 * BCDI_PI * b_inv[a][i];
    for (int a = 0; a < 3; ++a) {
        double col[3] = {g->real_basis[0][a], g->real_basis[1][a], g->real_basis[2][a]};
        g->voxel_size_m[a] = bcdi_norm3(col);
        g->shape[a] = shape[a];
    }
    return BCDI_OK;
}
