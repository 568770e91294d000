/* SPDX-License-Identifier: BSD-3-Clause */
/* Breeding: each per-voxel rule against hand-computed values (including the phase wrap), the
 * Philox bits of pixel_switch, rule names, and a whole population bred around alpha. */
#include "bcdi/breed.h"
#include "test_util.h"

#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static bcdi_cf polar(double amplitude, double phase)
{
    return bcdi_cf_make((float)(amplitude * cos(phase)), (float)(amplitude * sin(phase)));
}

static void expect_near(bcdi_cf got, double re, double im, double tol, const char *what)
{
    cr_expect(fabs(got.re - re) <= tol && fabs(got.im - im) <= tol,
              "%s: got (%.7g, %.7g), expected (%.7g, %.7g)", what, got.re, got.im, re, im);
}

/* a = 2 exp(0.5i), b = 8 exp(1.1i). Tolerances 1e-5: float trig on values of order 10 (measured
 * errors <= 2.5e-7). */
Test(breed, rules_hand_computed)
{
    bcdi_cf a = polar(2, 0.5), b = polar(8, 1.1);
    /* sqrt(2*8) exp(i (0.5 + 1.1) / 2) = 4 exp(0.8i) */
    expect_near(bcdi_vox_breed(BCDI_BREED_SQRT_AB, a, b, 0), 4 * cos(0.8), 4 * sin(0.8), 1e-5,
                "sqrt_ab");
    /* |b| exp(i phi_a) = 8 exp(0.5i) */
    expect_near(bcdi_vox_breed(BCDI_BREED_B_PA, a, b, 0), 8 * cos(0.5), 8 * sin(0.5), 1e-5, "b_pa");
    /* (a + b) / 2 */
    expect_near(bcdi_vox_breed(BCDI_BREED_AVG_AB, a, b, 0), (2 * cos(0.5) + 8 * cos(1.1)) / 2,
                (2 * sin(0.5) + 8 * sin(1.1)) / 2, 1e-5, "avg_ab");
    /* max(2, 8) exp(0.8i) */
    expect_near(bcdi_vox_breed(BCDI_BREED_MAX_AB, a, b, 0), 8 * cos(0.8), 8 * sin(0.8), 1e-5,
                "max_ab");
    /* 2ab / (a + b), in double complex */
    double complex ca = 2 * cexp(0.5 * I), cb = 8 * cexp(1.1 * I), h = 2 * ca * cb / (ca + cb);
    expect_near(bcdi_vox_breed(BCDI_BREED_2AB_A_B, a, b, 0), creal(h), cimag(h), 1e-5, "2ab_a_b");
    /* pixel_switch: the lowest bit picks, bit for bit */
    bcdi_cf s0 = bcdi_vox_breed(BCDI_BREED_PIXEL_SWITCH, a, b, 0u);
    bcdi_cf s1 = bcdi_vox_breed(BCDI_BREED_PIXEL_SWITCH, a, b, 1u);
    bcdi_cf s2 = bcdi_vox_breed(BCDI_BREED_PIXEL_SWITCH, a, b, 0xFFFFFFFEu);
    cr_expect(memcmp(&s0, &a, sizeof a) == 0 && memcmp(&s2, &a, sizeof a) == 0, "bit 0 clear: a");
    cr_expect(memcmp(&s1, &b, sizeof b) == 0, "bit 0 set: b");
}

Test(breed, mean_phase_goes_the_short_way)
{
    /* phi_a = 3.0, phi_b = -3.0: phi_b - phi_a = -6.0 wraps to 2 pi - 6 = 0.283, mean 3 + 0.1416 =
     * pi (the long way would give 0) */
    bcdi_cf a = polar(1, 3.0), b = polar(4, -3.0);
    bcdi_cf c = bcdi_vox_breed(BCDI_BREED_SQRT_AB, a, b, 0);
    double phase = atan2(c.im, c.re);
    cr_expect(fabs(fabs(phase) - PI) < 1e-5, "sqrt_ab phase %.7f, expected +-pi", phase);
    expect_near(c, -2.0, 0.0, 1e-5, "sqrt_ab wrap");
    expect_near(bcdi_vox_breed(BCDI_BREED_MAX_AB, a, b, 0), -4.0, 0.0, 1e-5, "max_ab wrap");
    /* and in the other order */
    expect_near(bcdi_vox_breed(BCDI_BREED_SQRT_AB, b, a, 0), -2.0, 0.0, 1e-5,
                "sqrt_ab wrap (b, a)");
    /* no wrap needed: 0.2 and -0.4 average to -0.1 */
    expect_near(bcdi_vox_breed(BCDI_BREED_SQRT_AB, polar(1, 0.2), polar(1, -0.4), 0), cos(-0.1),
                sin(-0.1), 1e-6, "sqrt_ab plain");
}

Test(breed, zero_voxels)
{
    bcdi_cf zero = bcdi_cf_make(0, 0), b = polar(3, 1.0);
    expect_near(bcdi_vox_breed(BCDI_BREED_SQRT_AB, zero, b, 0), 0, 0, 0, "sqrt_ab with a = 0");
    /* one zero: the other's phase */
    expect_near(bcdi_vox_breed(BCDI_BREED_MAX_AB, zero, b, 0), 3 * cos(1.0), 3 * sin(1.0), 1e-6,
                "max_ab a = 0");
    expect_near(bcdi_vox_breed(BCDI_BREED_B_PA, zero, b, 0), b.re, b.im, 0, "b_pa a = 0 keeps b");
    expect_near(bcdi_vox_breed(BCDI_BREED_2AB_A_B, b, bcdi_cf_make(-b.re, -b.im), 0), 0, 0, 0,
                "2ab_a_b with a + b = 0");
}

Test(breed, pixel_switch_bits_are_fair_and_fixed)
{
    /* word 0 of Philox(seed 1234, stream 0, i), as bcdi_breed_population draws them: 100000
     * draws, binomial sd 0.0016, so +-0.01 is 6 sd; measured 0.49973 */
    size_t from_b = 0, count = 100000;
    bcdi_cf a = bcdi_cf_make(1, 0), b = bcdi_cf_make(0, 1);
    for (size_t i = 0; i < count; ++i) {
        bcdi_cf c = bcdi_vox_breed(BCDI_BREED_PIXEL_SWITCH, a, b, bcdi_philox_at(1234, 0, i).v[0]);
        from_b += c.im == 1.0f;
    }
    double fraction = (double)from_b / (double)count;
    cr_expect(fabs(fraction - 0.5) < 0.01, "fraction from b %g", fraction);
}

Test(breed, rule_names)
{
    const char *names[] = {"sqrt_ab", "pixel_switch", "b_pa", "avg_ab", "max_ab", "2ab_a_b"};
    for (int r = 0; r < BCDI_BREED_RULE_COUNT; ++r) {
        int rule = -1;
        cr_expect_eq(bcdi_breed_rule_from_name(names[r], &rule), BCDI_OK, "%s", names[r]);
        cr_expect_eq(rule, r, "%s", names[r]);
        cr_expect_str_eq(bcdi_breed_rule_name(r), names[r]);
    }
    int rule = 42;
    cr_expect_eq(bcdi_breed_rule_from_name("sqrt_abs", &rule), BCDI_ERR_CONFIG);
    cr_expect_eq(rule, 42, "unknown name leaves the output alone");
    const char *msg = bcdi_last_error();
    cr_expect(strstr(msg, "sqrt_abs") && strstr(msg, "sqrt_ab,") && strstr(msg, "pixel_switch") &&
                  strstr(msg, "2ab_a_b"),
              "message names the rule and the known ones: %s", msg);
    cr_expect_null(bcdi_breed_rule_name(BCDI_BREED_RULE_COUNT));
}

/* ---- whole populations --------------------------------------------------------------------- */

static const size_t shape[3] = {24, 28, 20};
#define NVOX ((size_t)24 * 28 * 20)

/* Smooth asymmetric complex object: a few complex Gaussians (sigma 1.5) near the box centre. */
static void make_object(bcdi_cf *x, uint64_t seed)
{
    double centre[12][3];
    double complex weight[12];
    for (int g = 0; g < 12; ++g) {
        bcdi_u32x4 r = bcdi_philox_at(seed, 1, (uint64_t)g);
        for (int d = 0; d < 3; ++d)
            centre[g][d] = shape[d] * (0.35 + 0.3 * bcdi_u32_to_unit(r.v[d]));
        weight[g] = (0.5 + bcdi_u32_to_unit(r.v[3])) *
                    cexp(I * 6.283185307 * bcdi_u32_to_unit(r.v[3] * 2654435761u));
    }
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                double complex v = 0;
                size_t idx[3] = {i0, i1, i2};
                for (int g = 0; g < 12; ++g) {
                    double r2 = 0;
                    for (int d = 0; d < 3; ++d)
                        r2 += pow(idx[d] - centre[g][d], 2);
                    v += weight[g] * exp(-r2 / (2 * 1.5 * 1.5));
                }
                x[(i0 * shape[1] + i1) * shape[2] + i2] =
                    bcdi_cf_make((float)creal(v), (float)cimag(v));
            }
}

static double rel_l2(const bcdi_cf *a, const bcdi_cf *b, size_t n)
{
    double d = 0, r = 0;
    for (size_t i = 0; i < n; ++i) {
        d += pow(a[i].re - b[i].re, 2) + pow(a[i].im - b[i].im, 2);
        r += pow(b[i].re, 2) + pow(b[i].im, 2);
    }
    return sqrt(d / r);
}

Test(breed, population_of_copies_breeds_back_to_alpha)
{
    bcdi_cf *alpha = malloc(NVOX * sizeof *alpha), *pop = malloc(3 * NVOX * sizeof *pop);
    make_object(alpha, 5);
    /* individual 0: shifted and phased; 1: twinned, shifted, phased; 2: alpha itself */
    const double t0[3] = {1.5, -2.0, 0.75}, t1[3] = {-0.25, 2.5, -1.0};
    memcpy(pop, alpha, NVOX * sizeof *pop);
    bcdi_shift(shape, pop, t0);
    for (size_t i = 0; i < NVOX; ++i)
        pop[i] = bcdi_cf_mul(pop[i], polar(1, -2.0));
    memcpy(pop + NVOX, alpha, NVOX * sizeof *pop);
    bcdi_shift(shape, pop + NVOX, t1);
    for (size_t i = 0; i < NVOX; ++i)
        pop[NVOX + i] = bcdi_cf_mul(pop[NVOX + i], polar(1, 0.7));
    bcdi_twin(shape, pop + NVOX);
    memcpy(pop + 2 * NVOX, alpha, NVOX * sizeof *pop);

    bcdi_alignment how[3];
    /* alpha points into the population (individual 2): read through a private copy */
    cr_assert_eq(
        bcdi_breed_population(shape, pop + 2 * NVOX, pop, 3, BCDI_BREED_SQRT_AB, 20, 7, 0, how),
        BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(how[0].twinned, 0);
    cr_expect_eq(how[1].twinned, 1);
    cr_expect_eq(how[2].twinned, 0);
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(how[0].shift[d] + t0[d]) < 0.05, "shift[%d] %g", d, how[0].shift[d]);
    /* sqrt_ab of alpha with an aligned copy of itself is alpha; the shifts are on the 0.05 grid
     * and undo Fourier shifts exactly, so float rounding only: measured <= 1.3e-7 */
    for (int k = 0; k < 3; ++k) {
        double err = rel_l2(pop + (size_t)k * NVOX, alpha, NVOX);
        cr_expect(err < 1e-5, "child %d: rel err %g", k, err);
    }
    free(alpha);
    free(pop);
}

Test(breed, pixel_switch_population_is_deterministic)
{
    bcdi_cf *alpha = malloc(NVOX * sizeof *alpha), *first = malloc(NVOX * sizeof *first);
    bcdi_cf *second = malloc(NVOX * sizeof *second), *other = malloc(NVOX * sizeof *other);
    make_object(alpha, 9);
    /* the individual is alpha with doubled amplitude: aligned without shift, twin or phase, so
     * each child voxel is visibly a (|a|) or b (2|a|) */
    for (size_t i = 0; i < NVOX; ++i)
        first[i] = second[i] = other[i] = bcdi_cf_scale(alpha[i], 2.0f);
    cr_assert_eq(
        bcdi_breed_population(shape, alpha, first, 1, BCDI_BREED_PIXEL_SWITCH, 20, 77, 3, NULL),
        BCDI_OK);
    cr_assert_eq(
        bcdi_breed_population(shape, alpha, second, 1, BCDI_BREED_PIXEL_SWITCH, 20, 77, 3, NULL),
        BCDI_OK);
    cr_expect(memcmp(first, second, NVOX * sizeof *first) == 0,
              "same seed: bit-identical children");
    cr_assert_eq(
        bcdi_breed_population(shape, alpha, other, 1, BCDI_BREED_PIXEL_SWITCH, 20, 78, 3, NULL),
        BCDI_OK);
    cr_expect(memcmp(first, other, NVOX * sizeof *first) != 0, "another seed: other children");
    size_t from_b = 0, counted = 0;
    for (size_t i = 0; i < NVOX; ++i) {
        float a = bcdi_cf_abs(alpha[i]);
        if (!(a > 0.0f)) continue; /* the far tails underflow to 0: nothing to tell apart */
        counted++;
        from_b += bcdi_cf_abs(first[i]) > 1.5f * a;
    }
    /* 13106 voxels counted: binomial sd 0.0044, +-0.03 is ~7 sd; measured fraction 0.4984 */
    double fraction = (double)from_b / (double)counted;
    cr_expect(counted > 5000, "counted %zu", counted);
    cr_expect(fabs(fraction - 0.5) < 0.03, "fraction from the individual %g", fraction);
    free(alpha);
    free(first);
    free(second);
    free(other);
}

Test(breed, bad_arguments)
{
    bcdi_cf x[8] = {{1, 0}};
    const size_t s[3] = {2, 2, 2};
    cr_expect_eq(bcdi_breed_population(s, x, x, 1, BCDI_BREED_RULE_COUNT, 10, 0, 0, NULL),
                 BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_breed_population(s, NULL, x, 1, BCDI_BREED_SQRT_AB, 10, 0, 0, NULL),
                 BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_breed_population(s, x, NULL, 0, BCDI_BREED_SQRT_AB, 10, 0, 0, NULL), BCDI_OK);
}
