/* SPDX-License-Identifier: BSD-3-Clause */
/* Many runs into one answer: noisy copies of a known crystal with random shifts, twins and
 * phase offsets aligned and averaged back to the truth; mode weights of a stack built from two
 * known orthogonal objects; the Hermitian eigen-solver; reproducibility figures. */
#include "phasing/combine.h"
#include "test_data.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.28318530717958647692
#define N0 32
#define N1 30
#define N2 28
#define NVOX ((size_t)N0 * N1 * N2)
static const size_t shape[3] = {N0, N1, N2};

static void make_crystal(bcdi_cf *x)
{
    const double radii[3] = {8, 7, 6};
    tu_make_crystal(x, shape, radii);
}

/* Complex Gaussian noise, sigma per component, deterministic. */
static void add_noise(bcdi_cf *x, size_t n, double sigma, uint64_t seed)
{
    for (size_t i = 0; i < n; ++i) {
        bcdi_u32x4 r = bcdi_philox_at(seed, 17, i);
        double u1 = (bcdi_u32_to_unit(r.v[0]) + 1e-7), u2 = bcdi_u32_to_unit(r.v[1]);
        double radius = sigma * sqrt(-2.0 * log(u1));
        x[i].re += (float)(radius * cos(TWO_PI * u2));
        x[i].im += (float)(radius * sin(TWO_PI * u2));
    }
}

static void multiply_phase(bcdi_cf *x, size_t n, double phase)
{
    bcdi_cf f = bcdi_cf_make((float)cos(phase), (float)sin(phase));
    for (size_t i = 0; i < n; ++i)
        x[i] = bcdi_cf_mul(x[i], f);
}

static double norm2(const bcdi_cf *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i)
        s += (double)x[i].re * x[i].re + (double)x[i].im * x[i].im;
    return s;
}

Test(combine, aligned_average_of_noisy_twinned_shifted_copies_matches_truth, .timeout = 120)
{
    enum { K = 6 };
    const double shifts[K][3] = {{0.4, -1.3, 0.7},  {-1.8, 0.6, 1.2}, {1.1, 1.7, -0.9},
                                 {-0.3, -2.1, 0.2}, {2.2, 0.3, -1.6}, {0.9, -0.8, 1.9}};
    const int twins[K] = {0, 0, 1, 0, 1, 1};
    const double phases[K] = {0.3, -2.0, 1.4, 2.9, -0.7, 0.1};
    const double sigma = 0.03;
    bcdi_cf *truth = malloc(NVOX * sizeof *truth), *stack = malloc(K * NVOX * sizeof *stack);
    bcdi_cf *average = malloc(NVOX * sizeof *average);
    make_crystal(truth);
    for (int k = 0; k < K; ++k) {
        bcdi_cf *x = stack + k * NVOX;
        memcpy(x, truth, NVOX * sizeof *x);
        if (twins[k]) cr_assert_eq(bcdi_twin(shape, x), BCDI_OK);
        cr_assert_eq(bcdi_shift(shape, x, shifts[k]), BCDI_OK);
        multiply_phase(x, NVOX, phases[k]);
        add_noise(x, NVOX, sigma, 100 + (uint64_t)k);
    }
    /* one copy alone, for scale */
    bcdi_object_error single;
    cr_assert_eq(bcdi_compare_objects(shape, truth, stack + NVOX, NULL, 1, &single), BCDI_OK);

    bcdi_combine_options opt;
    bcdi_combine_default_options(&opt);
    bcdi_alignment al[K];
    cr_assert_eq(bcdi_combine_align(shape, K, stack, 0, &opt, al), BCDI_OK, "%s",
                 bcdi_last_error());
    for (int k = 0; k < K; ++k) {
        cr_expect_eq(al[k].twinned, twins[k] != twins[0], "run %d twinned %d", k, al[k].twinned);
        cr_expect_gt(al[k].correlation, 0.9, "run %d correlation %g", k, al[k].correlation);
    }
    cr_expect_eq(al[0].correlation, 1.0);
    cr_assert_eq(bcdi_combine_average(shape, K, stack, average), BCDI_OK);
    bcdi_object_error combined;
    cr_assert_eq(bcdi_compare_objects(shape, truth, average, NULL, 1, &combined), BCDI_OK);
    /* averaging K copies divides the noise by sqrt(K); alignment adds little on top
     * (measured: single 0.206, average 0.0846 = 0.410 x single, sqrt(1/6) = 0.408) */
    cr_log_info("relative error: one copy %.4f, average of %d %.4f", single.relative_error, K,
                combined.relative_error);
    cr_expect_lt(combined.relative_error, 1.15 * single.relative_error / sqrt((double)K),
                 "average %.4f vs single %.4f", combined.relative_error, single.relative_error);
    cr_expect_lt(combined.phase_rms_weighted, 0.1, "phase rms %.4f", combined.phase_rms_weighted);

    /* reproducibility: noise ratio rho^2 = ||n||^2/||t||^2 gives a complex correlation
     * 1/(1 + rho^2) between two aligned copies */
    double rho2 = 2 * sigma * sigma * NVOX / norm2(truth, NVOX);
    bcdi_reproducibility rep;
    cr_assert_eq(bcdi_combine_reproducibility(shape, K, stack, NULL, &opt, &rep), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_log_info("complex corr %.4f (%.4f..%.4f), expected %.4f; amplitude corr %.4f over %zu "
                "voxels",
                rep.complex_mean, rep.complex_min, rep.complex_max, 1 / (1 + rho2),
                rep.amplitude_mean, rep.support_voxels);
    cr_expect_lt(fabs(rep.complex_mean - 1 / (1 + rho2)), 0.01);
    cr_expect_leq(rep.complex_min, rep.complex_mean);
    cr_expect_geq(rep.complex_max, rep.complex_mean);
    cr_expect_gt(rep.amplitude_min, 0.8);
    cr_expect_eq(rep.complex_corr[0], 1.0);
    cr_expect_eq(rep.complex_corr[1 * K + 2], rep.complex_corr[2 * K + 1]);
    bcdi_reproducibility_free(&rep);
    free(truth);
    free(stack);
    free(average);
}

Test(combine, identical_runs_correlate_exactly)
{
    enum { K = 3 };
    bcdi_cf *stack = malloc(K * NVOX * sizeof *stack);
    make_crystal(stack);
    for (int k = 1; k < K; ++k)
        memcpy(stack + k * NVOX, stack, NVOX * sizeof *stack);
    bcdi_reproducibility rep;
    cr_assert_eq(bcdi_combine_reproducibility(shape, K, stack, NULL, NULL, &rep), BCDI_OK);
    cr_expect_lt(fabs(rep.complex_min - 1), 1e-9);
    cr_expect_lt(fabs(rep.amplitude_min - 1), 1e-9);
    bcdi_reproducibility_free(&rep);
    /* an all-zero run is refused, naming it */
    memset(stack + 2 * NVOX, 0, NVOX * sizeof *stack);
    cr_expect_eq(bcdi_combine_reproducibility(shape, K, stack, NULL, NULL, &rep), BCDI_ERR_DATA);
    cr_expect(strstr(bcdi_last_error(), "run 2"), "%s", bcdi_last_error());
    cr_expect_eq(bcdi_combine_align(shape, K, stack, K, NULL, NULL), BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_combine_average(shape, 0, stack, stack), BCDI_ERR_INVALID_ARG);
    free(stack);
}

Test(combine, modes_recover_known_weights_of_two_orthogonal_objects)
{
    enum { K = 6 };
    /* A: the crystal; B: the crystal times a phase ramp of one cycle across axis 0 minus its
     * projection on A (Gram-Schmidt), both normalised */
    bcdi_cf *a = malloc(NVOX * sizeof *a), *b = malloc(NVOX * sizeof *b);
    make_crystal(a);
    for (size_t i = 0; i < NVOX; ++i) {
        double ramp = TWO_PI * (double)(i / (N1 * N2)) / N0;
        b[i] = bcdi_cf_mul(a[i], bcdi_cf_make((float)cos(ramp), (float)sin(ramp)));
    }
    double na = sqrt(norm2(a, NVOX));
    for (size_t i = 0; i < NVOX; ++i)
        a[i] = bcdi_cf_make((float)(a[i].re / na), (float)(a[i].im / na));
    double pre = 0, pim = 0; /* <a, b> = sum conj(a) b */
    for (size_t i = 0; i < NVOX; ++i) {
        pre += (double)a[i].re * b[i].re + (double)a[i].im * b[i].im;
        pim += (double)a[i].re * b[i].im - (double)a[i].im * b[i].re;
    }
    for (size_t i = 0; i < NVOX; ++i) {
        b[i].re -= (float)(pre * a[i].re - pim * a[i].im);
        b[i].im -= (float)(pre * a[i].im + pim * a[i].re);
    }
    double nb = sqrt(norm2(b, NVOX));
    for (size_t i = 0; i < NVOX; ++i)
        b[i] = bcdi_cf_make((float)(b[i].re / nb), (float)(b[i].im / nb));
    /* x_i = sqrt(p) e^{i t_i} A + sqrt(q) e^{i (t_i + 2 pi i / K)} B: the coefficient columns
     * are orthogonal, so the weights are p/(p+q) and q/(p+q) exactly */
    const double p = 0.8, q = 0.2;
    bcdi_cf *stack = malloc(K * NVOX * sizeof *stack);
    for (int k = 0; k < K; ++k) {
        double t = 0.7 * k * k - 1.0, u = t + TWO_PI * k / K;
        double ca[2] = {sqrt(p) * cos(t), sqrt(p) * sin(t)},
               cb[2] = {sqrt(q) * cos(u), sqrt(q) * sin(u)};
        for (size_t i = 0; i < NVOX; ++i) {
            stack[k * NVOX + i].re =
                (float)(ca[0] * a[i].re - ca[1] * a[i].im + cb[0] * b[i].re - cb[1] * b[i].im);
            stack[k * NVOX + i].im =
                (float)(ca[0] * a[i].im + ca[1] * a[i].re + cb[0] * b[i].im + cb[1] * b[i].re);
        }
    }
    bcdi_modes modes;
    cr_assert_eq(bcdi_combine_modes(shape, K, stack, 2, &modes), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(modes.count, K);
    cr_assert_eq(modes.kept, 2);
    cr_log_info("mode weights %.6f %.6f %.2g", modes.weights[0], modes.weights[1],
                modes.weights[2]);
    cr_expect_lt(fabs(modes.weights[0] - 0.8), 1e-5);
    cr_expect_lt(fabs(modes.weights[1] - 0.2), 1e-5);
    double rest = 0;
    for (int m = 2; m < K; ++m)
        rest += modes.weights[m];
    cr_expect_lt(rest, 1e-6);
    /* the modes are A and B up to a phase, with ||mode||^2 = weight x mean power (1 here) */
    const bcdi_cf *truth[2] = {a, b};
    for (int m = 0; m < 2; ++m) {
        const bcdi_cf *mode = modes.modes + m * NVOX;
        double re = 0, im = 0;
        for (size_t i = 0; i < NVOX; ++i) {
            re += (double)truth[m][i].re * mode[i].re + (double)truth[m][i].im * mode[i].im;
            im += (double)truth[m][i].re * mode[i].im - (double)truth[m][i].im * mode[i].re;
        }
        double power = norm2(mode, NVOX);
        cr_expect_lt(fabs(power - (m ? q : p)), 1e-5, "mode %d power %g", m, power);
        cr_expect_gt(hypot(re, im) / sqrt(power), 1 - 1e-5, "mode %d overlap", m);
    }
    bcdi_modes_free(&modes);
    free(a);
    free(b);
    free(stack);
}

Test(combine, hermitian_eigen_decomposition)
{
    enum { K = 7 };
    double a[2 * K * K], values[K], vectors[2 * K * K];
    for (int i = 0; i < K; ++i)
        for (int j = i; j < K; ++j) {
            bcdi_u32x4 r = bcdi_philox_at(5, 3, (uint64_t)(i * K + j));
            double re = bcdi_u32_to_unit(r.v[0]) - 0.5, im = bcdi_u32_to_unit(r.v[1]) - 0.5;
            if (i == j) im = 0, re *= 4;
            a[2 * (i * K + j)] = re, a[2 * (i * K + j) + 1] = im;
            a[2 * (j * K + i)] = re, a[2 * (j * K + i) + 1] = -im;
        }
    cr_assert_eq(bcdi_hermitian_eigen(K, a, values, vectors), BCDI_OK);
    double trace = 0, sum = 0;
    for (int i = 0; i < K; ++i)
        trace += a[2 * (i * K + i)], sum += values[i];
    cr_expect_lt(fabs(trace - sum), 1e-12);
    for (int m = 0; m + 1 < K; ++m)
        cr_expect_geq(values[m], values[m + 1]);
    /* A v_m = lambda_m v_m and V^H V = I */
    for (int m = 0; m < K; ++m) {
        for (int i = 0; i < K; ++i) {
            double re = 0, im = 0;
            for (int j = 0; j < K; ++j) {
                double ar = a[2 * (i * K + j)], ai = a[2 * (i * K + j) + 1];
                double vr = vectors[2 * (j * K + m)], vi = vectors[2 * (j * K + m) + 1];
                re += ar * vr - ai * vi;
                im += ar * vi + ai * vr;
            }
            cr_expect_lt(fabs(re - values[m] * vectors[2 * (i * K + m)]), 1e-12);
            cr_expect_lt(fabs(im - values[m] * vectors[2 * (i * K + m) + 1]), 1e-12);
        }
        for (int l = 0; l < K; ++l) {
            double re = 0, im = 0;
            for (int i = 0; i < K; ++i) {
                double xr = vectors[2 * (i * K + m)], xi = vectors[2 * (i * K + m) + 1];
                double yr = vectors[2 * (i * K + l)], yi = vectors[2 * (i * K + l) + 1];
                re += xr * yr + xi * yi;
                im += xr * yi - xi * yr;
            }
            cr_expect_lt(fabs(re - (l == m)), 1e-12);
            cr_expect_lt(fabs(im), 1e-12);
        }
    }
}
