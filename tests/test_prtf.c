/* SPDX-License-Identifier: BSD-3-Clause */
/* PRTF: 1 for the exact object against its own |F|^2; a Gaussian low-pass gives the analytic
 * curve exp(-f^2 / 2 sigma^2) and its 1/e resolution; a sharp low-pass falls at its cut-off;
 * masked voxels are left out. */
#include "phasing/prtf.h"

#include "backend/backend.h"
#include "num/volume.h"
#include "test_data.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N0 32
#define N1 32
#define N2 32
#define NVOX ((size_t)N0 * N1 * N2)
static const size_t shape[3] = {N0, N1, N2};

static void make_crystal(bcdi_cf *x)
{
    const double radii[3] = {7, 6, 5};
    tu_make_crystal(x, shape, radii);
}

/* Centred intensity |FFT(x)|^2 (unnormalised, as the phasing engine) and, when filter is not
 * NULL, x replaced by IFFT(FFT(x) * filter(f)) / n, f = |q| in cycles per voxel. */
static void transform(bcdi_cf *x, float *intensity, double (*filter)(double f, double p),
                      double parameter)
{
    bcdi_backend *be;
    bcdi_fft *plan;
    cr_assert_eq(bcdi_backend_cpu_open(&be), BCDI_OK);
    cr_assert_eq(be->ops->fft_create(be, shape, 1, &plan), BCDI_OK);
    bcdi_cf *spectrum = malloc(NVOX * sizeof *spectrum);
    float *raw = malloc(NVOX * sizeof *raw);
    cr_assert_eq(be->ops->fft_forward(plan, x, spectrum), BCDI_OK);
    for (size_t i = 0; i < NVOX; ++i)
        raw[i] = bcdi_cf_abs2(spectrum[i]);
    bcdi_fftshift3(intensity, raw, shape, sizeof *raw);
    if (filter) {
        for (size_t k0 = 0; k0 < N0; ++k0)
            for (size_t k1 = 0; k1 < N1; ++k1)
                for (size_t k2 = 0; k2 < N2; ++k2) {
                    double f[3] = {(k0 < N0 / 2 ? k0 : k0 - (double)N0) / N0,
                                   (k1 < N1 / 2 ? k1 : k1 - (double)N1) / N1,
                                   (k2 < N2 / 2 ? k2 : k2 - (double)N2) / N2};
                    double w = filter(sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]), parameter);
                    size_t i = (k0 * N1 + k1) * N2 + k2;
                    spectrum[i] = bcdi_cf_make((float)(spectrum[i].re * w / NVOX),
                                               (float)(spectrum[i].im * w / NVOX));
                }
        cr_assert_eq(be->ops->fft_inverse(plan, spectrum, x), BCDI_OK);
    }
    free(spectrum);
    free(raw);
    be->ops->fft_destroy(plan);
    bcdi_backend_close(be);
}

static double gaussian(double f, double sigma)
{
    return exp(-f * f / (2 * sigma * sigma));
}

static double sharp(double f, double cutoff)
{
    return f < cutoff ? 1.0 : 0.0;
}

Test(prtf, exact_object_is_one_everywhere)
{
    bcdi_cf *x = malloc(NVOX * sizeof *x);
    float *intensity = malloc(NVOX * sizeof *intensity);
    make_crystal(x);
    transform(x, intensity, NULL, 0);
    bcdi_prtf prtf;
    cr_assert_eq(bcdi_prtf_compute(shape, x, intensity, NULL, NULL, &prtf), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(prtf.physical, 0);
    const bcdi_prtf_curve *curves[4] = {&prtf.overall, &prtf.axis[0], &prtf.axis[1], &prtf.axis[2]};
    for (int c = 0; c < 4; ++c) {
        size_t filled = 0;
        for (size_t s = 0; s < curves[c]->shells; ++s) {
            if (!curves[c]->voxels[s]) continue;
            filled++;
            cr_expect_lt(fabs(curves[c]->value[s] - 1), 1e-4, "curve %d shell %zu: %g", c, s,
                         curves[c]->value[s]);
        }
        cr_expect_geq(filled, 16, "curve %d: %zu shells with voxels", c, filled);
        /* never below 1/e: the resolution is the box's bound, half a period at the last shell */
        cr_expect_eq(curves[c]->reached, 0);
        cr_expect_lt(fabs(curves[c]->resolution - 0.5 / curves[c]->crossing), 1e-12);
    }
    cr_expect_lt(fabs(prtf.overall.resolution - 1.0), 0.05, "bound %g voxels",
                 prtf.overall.resolution);
    /* masked voxels do not count, whatever they hold */
    uint8_t *mask = calloc(NVOX, 1);
    for (size_t i = 0; i < NVOX; i += 7) {
        mask[i] = 1;
        intensity[i] = 1e9f;
    }
    bcdi_prtf masked;
    cr_assert_eq(bcdi_prtf_compute(shape, x, intensity, mask, NULL, &masked), BCDI_OK);
    for (size_t s = 0; s < masked.overall.shells; ++s)
        if (masked.overall.voxels[s]) cr_expect_lt(fabs(masked.overall.value[s] - 1), 1e-4);
    cr_expect_lt(masked.overall.voxels[5], prtf.overall.voxels[5]);
    memset(mask, 1, NVOX);
    bcdi_prtf none;
    cr_expect_eq(bcdi_prtf_compute(shape, x, intensity, mask, NULL, &none), BCDI_ERR_DATA);
    bcdi_prtf_free(&prtf);
    bcdi_prtf_free(&masked);
    free(mask);
    free(x);
    free(intensity);
}

Test(prtf, gaussian_low_pass_gives_its_analytic_resolution)
{
    /* PRTF(f) = exp(-f^2 / 2 sigma^2) falls to 1/e at f = sqrt(2) sigma: half period
     * 1 / (2 sqrt(2) sigma) = 3.536 voxels for sigma = 0.1 cycle per voxel */
    const double sigma = 0.1, expected = 1.0 / (2.0 * sqrt(2.0) * sigma);
    bcdi_cf *x = malloc(NVOX * sizeof *x);
    float *intensity = malloc(NVOX * sizeof *intensity);
    make_crystal(x);
    transform(x, intensity, gaussian, sigma);
    bcdi_prtf_options opt;
    bcdi_prtf_default_options(&opt);
    bcdi_prtf prtf;
    cr_assert_eq(bcdi_prtf_compute(shape, x, intensity, NULL, &opt, &prtf), BCDI_OK);
    for (size_t s = 1; s < prtf.overall.shells; ++s)
        if (prtf.overall.voxels[s] && prtf.overall.frequency[s] < 0.3)
            cr_expect_lt(fabs(prtf.overall.value[s] - gaussian(prtf.overall.frequency[s], sigma)),
                         0.02, "shell %zu (f %.3f): %g vs %g", s, prtf.overall.frequency[s],
                         prtf.overall.value[s], gaussian(prtf.overall.frequency[s], sigma));
    cr_expect_eq(prtf.overall.reached, 1);
    /* measured: overall 3.505, each axis 3.515 voxels (linear interpolation between shells of
     * a curved function) */
    cr_log_info("Gaussian low-pass: resolution overall %.3f, axes %.3f %.3f %.3f voxels (expected "
                "%.3f)",
                prtf.overall.resolution, prtf.axis[0].resolution, prtf.axis[1].resolution,
                prtf.axis[2].resolution, expected);
    cr_expect_lt(fabs(prtf.overall.resolution - expected), 0.1);
    for (int a = 0; a < 3; ++a)
        cr_expect_lt(fabs(prtf.axis[a].resolution - expected), 0.1, "axis %d: %g", a,
                     prtf.axis[a].resolution);
    bcdi_prtf_free(&prtf);

    /* with voxel sizes: per-axis resolutions scale by each axis's voxel size, in nm (measured
     * 3.61, 3.51, 3.46 voxels: a cone taken in 1/nm holds other voxels than in voxel units
     * when the sizes differ, and this filter is isotropic in voxel units) */
    const double voxel_nm[3] = {4.0, 5.0, 6.5};
    for (int a = 0; a < 3; ++a)
        opt.voxel_size_m[a] = voxel_nm[a] * 1e-9;
    cr_assert_eq(bcdi_prtf_compute(shape, x, intensity, NULL, &opt, &prtf), BCDI_OK);
    cr_expect_eq(prtf.physical, 1);
    for (int a = 0; a < 3; ++a) {
        cr_expect_lt(fabs(prtf.axis[a].width - 1.0 / (N0 * voxel_nm[a])), 1e-12);
        cr_expect_lt(fabs(prtf.axis[a].resolution / voxel_nm[a] - expected), 0.1,
                     "axis %d: %.3f nm", a, prtf.axis[a].resolution);
        cr_log_info("voxel %.1f nm: axis %d resolution %.3f nm (expected %.3f)", voxel_nm[a], a,
                    prtf.axis[a].resolution, expected * voxel_nm[a]);
    }
    bcdi_prtf_free(&prtf);
    free(x);
    free(intensity);
}

Test(prtf, sharp_low_pass_falls_at_its_cutoff)
{
    /* cut-off 0.25 cycle per voxel: half period 2 voxels */
    bcdi_cf *x = malloc(NVOX * sizeof *x);
    float *intensity = malloc(NVOX * sizeof *intensity);
    make_crystal(x);
    transform(x, intensity, sharp, 0.25);
    bcdi_prtf prtf;
    cr_assert_eq(bcdi_prtf_compute(shape, x, intensity, NULL, NULL, &prtf), BCDI_OK);
    for (size_t s = 0; s < prtf.overall.shells; ++s) {
        double f = prtf.overall.frequency[s];
        if (!prtf.overall.voxels[s]) continue;
        if (f < 0.2)
            cr_expect_gt(prtf.overall.value[s], 0.99, "f %.3f: %g", f, prtf.overall.value[s]);
        if (f > 0.3)
            cr_expect_lt(prtf.overall.value[s], 0.01, "f %.3f: %g", f, prtf.overall.value[s]);
    }
    cr_log_info("sharp low-pass: resolution overall %.3f, axes %.3f %.3f %.3f voxels (cut-off 2)",
                prtf.overall.resolution, prtf.axis[0].resolution, prtf.axis[1].resolution,
                prtf.axis[2].resolution);
    cr_expect_lt(fabs(prtf.overall.resolution - 2.0), 0.25);
    for (int a = 0; a < 3; ++a)
        cr_expect_lt(fabs(prtf.axis[a].resolution - 2.0), 0.25, "axis %d", a);
    bcdi_prtf_free(&prtf);
    bcdi_prtf_options bad;
    bcdi_prtf_default_options(&bad);
    bad.cone_half_angle_deg = 95;
    cr_expect_eq(bcdi_prtf_compute(shape, x, intensity, NULL, &bad, &prtf), BCDI_ERR_INVALID_ARG);
    free(x);
    free(intensity);
}
