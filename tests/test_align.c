/* SPDX-License-Identifier: BSD-3-Clause */
/* Alignment: registration against analytic shifts, Fourier shift round trips, twin detection,
 * global phase, object comparison, mean-phase removal and centring. */
#include "bcdi/align.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.28318530717958647692

/* Non-cubic, with an odd axis, so axis mix-ups and even/odd frequency handling show. */
static const size_t shape[3] = {32, 36, 27};
#define NVOX ((size_t)32 * 36 * 27)

/* An asymmetric complex blob: a sum of Gaussians (sigma 1.6 voxels) with complex weights at random
 * positions in the middle of the box, evaluated analytically at r - offset, so a shifted copy is
 * exact and does not depend on bcdi_shift. The centres stay within 0.35-0.65 of each axis so a
 * blob shifted by up to ~2.5 voxels keeps its tails (4 sigma) inside the box: the analytic copy
 * is then also the periodic one that a Fourier shift produces. */
#define BLOBS 24
static void make_blob(bcdi_cf *x, const double offset[3], uint64_t seed)
{
    double centre[BLOBS][3], wre[BLOBS], wim[BLOBS];
    for (int b = 0; b < BLOBS; ++b) {
        bcdi_u32x4 r = bcdi_philox_at(seed, 5, (uint64_t)b);
        bcdi_u32x4 w = bcdi_philox_at(seed, 6, (uint64_t)b);
        for (int d = 0; d < 3; ++d)
            centre[b][d] = shape[d] * (0.35 + 0.3 * bcdi_u32_to_unit(r.v[d]));
        double amplitude = 0.5 + bcdi_u32_to_unit(w.v[0]);
        double phase = TWO_PI * bcdi_u32_to_unit(w.v[1]);
        wre[b] = amplitude * cos(phase);
        wim[b] = amplitude * sin(phase);
    }
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                double p[3] = {i0 - offset[0], i1 - offset[1], i2 - offset[2]}, re = 0, im = 0;
                for (int b = 0; b < BLOBS; ++b) {
                    double r2 = 0;
                    for (int d = 0; d < 3; ++d)
                        r2 += (p[d] - centre[b][d]) * (p[d] - centre[b][d]);
                    double g = exp(-r2 / (2 * 1.6 * 1.6));
                    re += wre[b] * g;
                    im += wim[b] * g;
                }
                x[(i0 * shape[1] + i1) * shape[2] + i2] = bcdi_cf_make((float)re, (float)im);
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

static void multiply_phase(bcdi_cf *x, size_t n, double phase)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = bcdi_cf_mul(x[i], bcdi_cf_make((float)cos(phase), (float)sin(phase)));
}

static const double zero[3] = {0, 0, 0};

Test(align, registers_analytic_subvoxel_shift)
{
    bcdi_cf *ref = malloc(NVOX * sizeof *ref), *mov = malloc(NVOX * sizeof *mov);
    const double t[3] = {1.3, -2.7, 0.45};
    make_blob(ref, zero, 11);
    make_blob(mov, t, 11); /* mov(r) = ref(r - t) */
    double s[3], peak;
    cr_assert_eq(bcdi_register_translation(shape, ref, mov, 20, s, &peak), BCDI_OK, "%s",
                 bcdi_last_error());
    /* convention: bcdi_shift(mov, s) matches ref, so s = -t. t lies on the 0.05 grid and is
     * found exactly (measured 0); 0.05 voxel is the requirement */
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(s[d] + t[d]) < 0.05, "axis %d: got %g, expected %g", d, s[d], -t[d]);
    /* measured 0.9999999; the shifted blob stays inside the box so nothing wraps */
    cr_expect(peak > 0.999 && peak <= 1.0 + 1e-6, "peak %g", peak);
    /* and the other way round */
    cr_assert_eq(bcdi_register_translation(shape, mov, ref, 20, s, NULL), BCDI_OK);
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(s[d] - t[d]) < 0.05, "reverse axis %d: %g", d, s[d]);
    /* upsample 1 gives the nearest integer */
    cr_assert_eq(bcdi_register_translation(shape, ref, mov, 1, s, NULL), BCDI_OK);
    cr_expect(s[0] == -1.0 && s[1] == 3.0 && s[2] == 0.0, "integer: %g %g %g", s[0], s[1], s[2]);
    /* off the sampling grid: at most half a grid step (0.025) plus interpolation; measured
     * worst 0.027 over 40 random shifts in [-2.5, 2.5]^3 */
    const double off_grid[3] = {0.37, -1.62, 2.13};
    make_blob(mov, off_grid, 11);
    cr_assert_eq(bcdi_register_translation(shape, ref, mov, 20, s, NULL), BCDI_OK);
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(s[d] + off_grid[d]) < 0.05, "off-grid axis %d: %g", d, s[d]);
    free(ref);
    free(mov);
}

Test(align, registration_is_scale_free)
{
    /* photon-count-scaled reference against a tiny moving object: the cross-power spectrum is
     * normalised by the norms, so nothing overflows float and the peak stays ~1 */
    bcdi_cf *ref = malloc(NVOX * sizeof *ref), *mov = malloc(NVOX * sizeof *mov);
    const double t[3] = {0.8, 1.15, -1.4};
    make_blob(ref, zero, 13);
    make_blob(mov, t, 13);
    for (size_t i = 0; i < NVOX; ++i) {
        ref[i] = bcdi_cf_scale(ref[i], 3e6f);
        mov[i] = bcdi_cf_scale(mov[i], 1e-3f);
    }
    double s[3], peak;
    cr_assert_eq(bcdi_register_translation(shape, ref, mov, 20, s, &peak), BCDI_OK);
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(s[d] + t[d]) < 0.05, "axis %d: %g", d, s[d]);
    cr_expect(peak > 0.999 && peak <= 1.0 + 1e-6, "peak %g", peak);
    free(ref);
    free(mov);
}

Test(align, shift_then_register_round_trip)
{
    bcdi_cf *ref = malloc(NVOX * sizeof *ref), *mov = malloc(NVOX * sizeof *mov);
    bcdi_cf *exact = malloc(NVOX * sizeof *exact);
    const double t[3] = {-0.35, 4.6, 1.85};
    make_blob(ref, zero, 23);
    memcpy(mov, ref, NVOX * sizeof *mov);
    cr_assert_eq(bcdi_shift(shape, mov, t), BCDI_OK, "%s", bcdi_last_error());
    /* bcdi_shift moves the content by +t: compare with the analytic shifted blob. The blob is
     * smooth and inside the box, so the band-limited shift matches it: measured 3.8e-6 */
    make_blob(exact, t, 23);
    double err = rel_l2(mov, exact, NVOX);
    cr_expect(err < 1e-4, "Fourier shift vs analytic: %g", err);
    double s[3];
    cr_assert_eq(bcdi_register_translation(shape, ref, mov, 20, s, NULL), BCDI_OK);
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(s[d] + t[d]) < 0.05, "axis %d: %g vs %g", d, s[d], -t[d]);
    /* the registered shift undoes the shift */
    cr_assert_eq(bcdi_shift(shape, mov, s), BCDI_OK);
    err = rel_l2(mov, ref, NVOX);
    /* t is on the 0.05 grid, so the undo is exact up to float FFTs: measured 3.2e-7 */
    cr_expect(err < 1e-5, "after undoing: %g", err);
    free(ref);
    free(mov);
    free(exact);
}

Test(align, integer_shift_is_a_roll)
{
    bcdi_cf *x = malloc(NVOX * sizeof *x), *y = malloc(NVOX * sizeof *y);
    tu_fill_complex(x, NVOX, 3);
    memcpy(y, x, NVOX * sizeof *y);
    const double t[3] = {2, -5, 1};
    cr_assert_eq(bcdi_shift(shape, y, t), BCDI_OK);
    double worst = 0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t j0 = (i0 + shape[0] - 2) % shape[0], j1 = (i1 + 5) % shape[1],
                       j2 = (i2 + shape[2] - 1) % shape[2];
                bcdi_cf a = y[(i0 * shape[1] + i1) * shape[2] + i2];
                bcdi_cf b = x[(j0 * shape[1] + j1) * shape[2] + j2];
                double d = hypot(a.re - b.re, a.im - b.im);
                if (d > worst) worst = d;
            }
    cr_expect(worst < 1e-5, "integer shift of white noise vs roll: %g",
              worst); /* float FFT round trip */
    free(x);
    free(y);
}

Test(align, twin_maps_indices)
{
    const size_t s[3] = {4, 3, 2};
    bcdi_cf x[24], y[24];
    for (int i = 0; i < 24; ++i)
        x[i] = y[i] = bcdi_cf_make((float)i, (float)(100 + i));
    cr_assert_eq(bcdi_twin(s, y), BCDI_OK);
    for (size_t i0 = 0; i0 < 4; ++i0)
        for (size_t i1 = 0; i1 < 3; ++i1)
            for (size_t i2 = 0; i2 < 2; ++i2) {
                size_t m = (((4 - i0) % 4) * 3 + (3 - i1) % 3) * 2 + (2 - i2) % 2;
                bcdi_cf got = y[(i0 * 3 + i1) * 2 + i2];
                cr_expect(got.re == x[m].re && got.im == -x[m].im, "twin at %zu %zu %zu", i0, i1,
                          i2);
            }
    cr_assert_eq(bcdi_twin(s, y), BCDI_OK);
    cr_expect(memcmp(x, y, sizeof x) == 0, "twin twice is the identity, bit for bit");
}

Test(align, twin_detected_and_undone)
{
    bcdi_cf *ref = malloc(NVOX * sizeof *ref), *mov = malloc(NVOX * sizeof *mov);
    const double t[3] = {0.6, -1.2, 2.3};
    make_blob(ref, zero, 31);
    make_blob(mov, t, 31);
    multiply_phase(mov, NVOX, -1.1);
    cr_assert_eq(bcdi_twin(shape, mov), BCDI_OK);
    bcdi_cf *copy = malloc(NVOX * sizeof *copy);
    memcpy(copy, mov, NVOX * sizeof *copy);

    bcdi_alignment a;
    cr_assert_eq(bcdi_align(shape, ref, mov, 1, 20, &a), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(a.twinned, 1);
    double err = rel_l2(mov, ref, NVOX);
    /* t is on the 0.05 grid, so this isolates the twin handling: measured 4.9e-6 (< 1e-3 asked).
     * Off the grid the <= 0.025-voxel registration error alone gives ~1e-2 for this blob. */
    cr_expect(err < 1e-3, "twin + shift + phase undone: rel err %g", err);
    cr_expect(a.correlation > 0.9999, "correlation %g", a.correlation);

    /* without the twin check the same object stays a poor match */
    bcdi_alignment b;
    cr_assert_eq(bcdi_align(shape, ref, copy, 0, 20, &b), BCDI_OK);
    cr_expect_eq(b.twinned, 0);
    cr_expect(b.correlation < 0.9, "untwinned correlation %g", b.correlation); /* measured 0.51 */
    free(ref);
    free(mov);
    free(copy);
}

Test(align, untwinned_object_is_not_twinned)
{
    bcdi_cf *ref = malloc(NVOX * sizeof *ref), *mov = malloc(NVOX * sizeof *mov);
    const double t[3] = {-2.2, 0.5, 0.0};
    make_blob(ref, zero, 41);
    make_blob(mov, t, 41);
    bcdi_alignment a;
    cr_assert_eq(bcdi_align(shape, ref, mov, 1, 20, &a), BCDI_OK);
    cr_expect_eq(a.twinned, 0);
    cr_expect(fabs(a.shift[0] - 2.2) < 0.05 && fabs(a.shift[1] + 0.5) < 0.05 &&
                  fabs(a.shift[2]) < 0.05,
              "shift %g %g %g", a.shift[0], a.shift[1], a.shift[2]);
    cr_expect(rel_l2(mov, ref, NVOX) < 1e-4, "rel err %g",
              rel_l2(mov, ref, NVOX)); /* measured 2.8e-6 */
    free(ref);
    free(mov);
}

Test(align, global_phase_removed)
{
    bcdi_cf *ref = malloc(NVOX * sizeof *ref), *mov = malloc(NVOX * sizeof *mov);
    make_blob(ref, zero, 53);
    memcpy(mov, ref, NVOX * sizeof *mov);
    multiply_phase(mov, NVOX, 2.1);
    bcdi_alignment a;
    cr_assert_eq(bcdi_align(shape, ref, mov, 1, 20, &a), BCDI_OK);
    cr_expect_eq(a.twinned, 0);
    /* alpha = arg sum conj(ref) mov = 2.1, removed by exp(-i alpha); float rounding only:
     * measured |phase - 2.1| 7e-9, rel err 4e-8 */
    cr_expect(fabs(a.phase - 2.1) < 1e-5, "phase %.9f", a.phase);
    for (int d = 0; d < 3; ++d)
        cr_expect(fabs(a.shift[d]) < 1e-9, "shift[%d] %g", d, a.shift[d]);
    double err = rel_l2(mov, ref, NVOX);
    cr_expect(err < 1e-5, "rel err %g", err);
    free(ref);
    free(mov);
}

Test(align, compare_objects_scores)
{
    bcdi_cf *truth = malloc(NVOX * sizeof *truth), *est = malloc(NVOX * sizeof *est);
    make_blob(truth, zero, 61);
    /* a shifted, phased, twinned copy scores ~0 */
    const double t[3] = {1.7, 2.2, -0.8};
    make_blob(est, t, 61);
    multiply_phase(est, NVOX, 0.9);
    bcdi_twin(shape, est);
    bcdi_object_error e;
    cr_assert_eq(bcdi_compare_objects(shape, truth, est, NULL, 1, &e), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(e.alignment.twinned, 1);
    /* t on the 0.05 grid: measured rel 2.7e-6, phase rms 1.6e-6 rad (weighted 1.0e-6) */
    cr_expect(e.relative_error < 1e-4, "relative error %g", e.relative_error);
    cr_expect(e.phase_rms < 1e-4, "phase rms %g", e.phase_rms);
    cr_expect(e.phase_rms_weighted < 1e-4, "weighted %g", e.phase_rms_weighted);
    cr_expect(e.support_voxels > 100, "support %zu", e.support_voxels);

    /* truth + complex white noise of 10% of the truth's norm: the alignment cannot fit the
     * noise away, so the error is 0.1 (measured 0.100000, shift 0, not twinned) */
    bcdi_cf *noise = malloc(NVOX * sizeof *noise);
    tu_fill_complex(noise, NVOX, 99);
    double nn = 0, tn = 0;
    for (size_t i = 0; i < NVOX; ++i) {
        nn += bcdi_cf_abs2(noise[i]);
        tn += bcdi_cf_abs2(truth[i]);
    }
    float scale = (float)(0.1 * sqrt(tn / nn));
    for (size_t i = 0; i < NVOX; ++i)
        est[i] = bcdi_cf_axpby(1.0f, truth[i], scale, noise[i]);
    cr_assert_eq(bcdi_compare_objects(shape, truth, est, NULL, 1, &e), BCDI_OK);
    cr_expect_eq(e.alignment.twinned, 0);
    cr_expect(e.relative_error > 0.0995 && e.relative_error < 0.1001, "noisy relative error %g",
              e.relative_error);
    /* measured 0.0248 rad plain, 0.0149 weighted by |truth|^2 (noise hurts weak voxels most) */
    cr_expect(e.phase_rms > 0.02 && e.phase_rms < 0.03, "noisy phase rms %g", e.phase_rms);
    cr_expect(e.phase_rms_weighted > 0.01 && e.phase_rms_weighted < e.phase_rms, "weighted %g",
              e.phase_rms_weighted);

    /* an explicit support is used as given */
    uint8_t *support = calloc(NVOX, 1);
    support[NVOX / 2] = 1;
    support[NVOX / 2 + 1] = 1;
    cr_assert_eq(bcdi_compare_objects(shape, truth, est, support, 1, &e), BCDI_OK);
    cr_expect_eq(e.support_voxels, 2);
    free(support);
    free(noise);
    free(truth);
    free(est);
}

Test(align, remove_mean_phase_keeps_amplitudes)
{
    bcdi_cf *x = malloc(NVOX * sizeof *x), *orig = malloc(NVOX * sizeof *orig);
    make_blob(x, zero, 71);
    memcpy(orig, x, NVOX * sizeof *x);
    uint8_t *support = calloc(NVOX, 1);
    for (size_t i = 0; i < NVOX; ++i)
        support[i] = bcdi_cf_abs(x[i]) > 0.3f;
    cr_assert_eq(bcdi_remove_mean_phase(shape, x, support), BCDI_OK);
    /* the mean phase over the support is now 0 */
    double re = 0, im = 0;
    for (size_t i = 0; i < NVOX; ++i)
        if (support[i]) {
            re += x[i].re;
            im += x[i].im;
        }
    cr_expect(re > 0 && fabs(atan2(im, re)) < 1e-6, "mean phase after: %g", atan2(im, re));
    /* amplitudes: bit for bit is impossible for a rotation stored as two rounded floats; rounded
     * once per component, |x| changes by ~1-2 ulp at most (measured 1.66e-7 relative, and 76% of
     * the voxels keep |x| bit for bit); never the collapse to 1 of exp(i arg x) */
    double worst = 0;
    for (size_t i = 0; i < NVOX; ++i) {
        double a = bcdi_cf_abs(orig[i]), b = bcdi_cf_abs(x[i]);
        if (a > 1e-6) worst = fmax(worst, fabs(a - b) / a);
    }
    cr_expect(worst < 3e-7, "amplitude change %g", worst);
    /* a second call finds the mean phase ~0 and changes almost nothing; an object whose mean
     * phase is exactly 0 is left bit for bit */
    const size_t s[3] = {1, 1, 3};
    bcdi_cf y[3] = {{1.5f, 0.25f}, {2.0f, -0.25f}, {0.75f, 0.0f}}, y0[3];
    memcpy(y0, y, sizeof y);
    cr_assert_eq(bcdi_remove_mean_phase(s, y, NULL), BCDI_OK);
    cr_expect(memcmp(y, y0, sizeof y) == 0, "zero mean phase: untouched bit for bit");
    free(x);
    free(orig);
    free(support);
}

Test(align, center_rolls_to_box_centre)
{
    bcdi_cf *x = malloc(NVOX * sizeof *x);
    /* a blob centred near the middle, then rolled so it straddles the box edges */
    make_blob(x, zero, 81);
    const double t[3] = {15, -17, 12};
    bcdi_shift(shape, x, t);
    long roll[3];
    cr_assert_eq(bcdi_center(shape, x, roll), BCDI_OK);
    double com[3] = {0, 0, 0}, total = 0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                double w = bcdi_cf_abs(x[(i0 * shape[1] + i1) * shape[2] + i2]);
                com[0] += w * i0;
                com[1] += w * i1;
                com[2] += w * i2;
                total += w;
            }
    for (int d = 0; d < 3; ++d) {
        com[d] /= total;
        cr_expect(fabs(com[d] - (double)(shape[d] / 2)) <= 0.5 + 1e-9, "axis %d: centre %g", d,
                  com[d]);
        cr_expect(roll[d] >= 0 && roll[d] < (long)shape[d], "roll %ld", roll[d]);
    }
    free(x);
}

Test(align, bad_arguments)
{
    bcdi_cf x[8] = {{1, 0}};
    const size_t s[3] = {2, 2, 2}, empty[3] = {2, 0, 2};
    double shift[3];
    cr_expect_eq(bcdi_register_translation(empty, x, x, 10, shift, NULL), BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_register_translation(s, x, x, 0, shift, NULL), BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_register_translation(s, NULL, x, 10, shift, NULL), BCDI_ERR_INVALID_ARG);
    bcdi_cf zeros[8];
    memset(zeros, 0, sizeof zeros);
    cr_expect_eq(bcdi_register_translation(s, x, zeros, 10, shift, NULL), BCDI_ERR_DATA);
    cr_expect_eq(bcdi_align(s, zeros, x, 1, 10, NULL), BCDI_ERR_DATA);
    const double nan_shift[3] = {NAN, 0, 0};
    cr_expect_eq(bcdi_shift(s, x, nan_shift), BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_compare_objects(s, x, x, NULL, 1, NULL), BCDI_ERR_INVALID_ARG);
}
