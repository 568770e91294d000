/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU backend: every op against an independent plain loop or a hand formula. */
#include "backend/backend.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bcdi_backend *be;

static void open_cpu(void)
{
    cr_assert_eq(bcdi_backend_cpu_open(&be), BCDI_OK, "%s", bcdi_last_error());
}
static void close_cpu(void)
{
    bcdi_backend_close(be);
}

TestSuite(backend_cpu, .init = open_cpu, .fini = close_cpu);

/* Naive 3D DFT (double precision) of one volume, sign -1 forward. */
static void naive_dft(const bcdi_cf *in, bcdi_cf *out, const size_t s[3], int sign)
{
    for (size_t k0 = 0; k0 < s[0]; ++k0)
        for (size_t k1 = 0; k1 < s[1]; ++k1)
            for (size_t k2 = 0; k2 < s[2]; ++k2) {
                double re = 0, im = 0;
                for (size_t j0 = 0; j0 < s[0]; ++j0)
                    for (size_t j1 = 0; j1 < s[1]; ++j1)
                        for (size_t j2 = 0; j2 < s[2]; ++j2) {
                            double a = sign * 6.283185307179586 *
                                       ((double)(k0 * j0) / s[0] + (double)(k1 * j1) / s[1] +
                                        (double)(k2 * j2) / s[2]);
                            const bcdi_cf x = in[(j0 * s[1] + j1) * s[2] + j2];
                            re += x.re * cos(a) - x.im * sin(a);
                            im += x.re * sin(a) + x.im * cos(a);
                        }
                out[(k0 * s[1] + k1) * s[2] + k2] = bcdi_cf_make((float)re, (float)im);
            }
}

static void check_fft_against_dft(size_t a, size_t b, size_t c, size_t batch)
{
    size_t shape[3] = {a, b, c}, n = a * b * c;
    bcdi_cf *x, *host = malloc(n * batch * sizeof *host), *ref = malloc(n * sizeof *ref);
    tu_fill_complex(host, n * batch, a * 100 + b * 10 + c);
    cr_assert_eq(be->ops->alloc(be, n * batch * sizeof *x, (void **)&x), BCDI_OK);
    be->ops->upload(be, x, host, n * batch * sizeof *x);
    bcdi_fft *plan;
    cr_assert_eq(be->ops->fft_create(be, shape, batch, &plan), BCDI_OK, "%s", bcdi_last_error());
    be->ops->fft_forward(plan, x, x);
    for (size_t r = 0; r < batch; ++r) {
        naive_dft(host + r * n, ref, shape, -1);
        double err = tu_rel_max_err_cf(x + r * n, ref, n);
        /* float32 FFT vs double DFT: measured ~1e-7 relative; 1e-5 leaves room */
        cr_expect_lt(err, 1e-5, "forward %zux%zux%zu run %zu: rel err %g", a, b, c, r, err);
    }
    be->ops->fft_inverse(plan, x, x);
    for (size_t r = 0; r < batch; ++r) {
        for (size_t i = 0; i < n; ++i)
            x[r * n + i] = bcdi_cf_scale(x[r * n + i], 1.0f / n);
        double err = tu_rel_max_err_cf(x + r * n, host + r * n, n);
        cr_expect_lt(err, 1e-5, "round trip %zux%zux%zu run %zu: rel err %g", a, b, c, r, err);
    }
    /* the inverse alone against the naive DFT with the + sign */
    be->ops->upload(be, x, host, n * sizeof *x);
    bcdi_fft *single;
    cr_assert_eq(be->ops->fft_create(be, shape, 1, &single), BCDI_OK);
    be->ops->fft_inverse(single, x, x);
    naive_dft(host, ref, shape, +1);
    cr_expect_lt(tu_rel_max_err_cf(x, ref, n), 1e-5, "inverse vs DFT");
    be->ops->fft_destroy(single);
    be->ops->fft_destroy(plan);
    be->ops->free(be, x);
    free(host);
    free(ref);
}

Test(backend_cpu, fft_matches_naive_dft_odd_and_even)
{
    check_fft_against_dft(3, 4, 5, 2);
    check_fft_against_dft(6, 6, 6, 1);
    check_fft_against_dft(7, 2, 9, 3);
    check_fft_against_dft(1, 8, 5, 1);
}

Test(backend_cpu, fft_parseval_and_batch_independence)
{
    size_t shape[3] = {12, 10, 14}, n = 12 * 10 * 14, batch = 4;
    bcdi_cf *x, *single;
    be->ops->alloc(be, n * batch * sizeof *x, (void **)&x);
    be->ops->alloc(be, n * sizeof *single, (void **)&single);
    tu_fill_complex(x, n * batch, 5);
    double energy[4] = {0};
    for (size_t r = 0; r < batch; ++r)
        for (size_t i = 0; i < n; ++i)
            energy[r] += bcdi_cf_abs2(x[r * n + i]);
    memcpy(single, x + 2 * n, n * sizeof *single);
    bcdi_fft *plan, *plan1;
    cr_assert_eq(be->ops->fft_create(be, shape, batch, &plan), BCDI_OK);
    cr_assert_eq(be->ops->fft_create(be, shape, 1, &plan1), BCDI_OK);
    be->ops->fft_forward(plan, x, x);
    be->ops->fft_forward(plan1, single, single);
    for (size_t r = 0; r < batch; ++r) {
        double e = 0;
        for (size_t i = 0; i < n; ++i)
            e += bcdi_cf_abs2(x[r * n + i]);
        /* Parseval for the unnormalised transform: sum |X|^2 = N sum |x|^2 */
        cr_expect_lt(fabs(e / (n * energy[r]) - 1.0), 1e-5, "run %zu: Parseval ratio %g", r,
                     e / (n * energy[r]));
    }
    /* run 2 of the batch equals the same volume transformed alone */
    cr_expect_lt(tu_rel_max_err_cf(x + 2 * n, single, n), 1e-6, "batch member differs from single");
    be->ops->fft_destroy(plan);
    be->ops->fft_destroy(plan1);
    be->ops->free(be, x);
    be->ops->free(be, single);
}

Test(backend_cpu, philox_known_answers)
{
    /* Known-answer vectors of Philox4x32-10 (Random123 kat_vectors). */
    bcdi_u32x4 r = bcdi_philox4x32_10(0, 0, 0, 0, 0, 0);
    cr_expect_eq(r.v[0], 0x6627e8d5u);
    cr_expect_eq(r.v[1], 0xe169c58du);
    cr_expect_eq(r.v[2], 0xbc57ac4cu);
    cr_expect_eq(r.v[3], 0x9b00dbd8u);
    r = bcdi_philox4x32_10(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                           0xffffffffu);
    cr_expect_eq(r.v[0], 0x408f276du);
    cr_expect_eq(r.v[1], 0x41c83b0eu);
    cr_expect_eq(r.v[2], 0xa20bc7c6u);
    cr_expect_eq(r.v[3], 0x6d5451fdu);
    r = bcdi_philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u,
                           0x299f31d0u);
    cr_expect_eq(r.v[0], 0xd16cfe09u);
    cr_expect_eq(r.v[1], 0x94fdccebu);
    cr_expect_eq(r.v[2], 0x5001e420u);
    cr_expect_eq(r.v[3], 0x24126ea1u);
}

Test(backend_cpu, random_uniform_matches_generator_and_moments)
{
    size_t count = 200000;
    float *u;
    be->ops->alloc(be, count * sizeof *u, (void **)&u);
    cr_assert_eq(be->ops->random_uniform(be, u, count, 42, 3, 1), BCDI_OK);
    double mean = 0, var = 0;
    for (size_t i = 0; i < count; ++i) {
        cr_assert(u[i] >= 0.0f && u[i] < 1.0f);
        mean += u[i];
    }
    mean /= count;
    for (size_t i = 0; i < count; ++i)
        var += (u[i] - mean) * (u[i] - mean);
    var /= count;
    /* mean 1/2 with standard error 0.29/sqrt(2e5) = 6.5e-4: 5 sigma */
    cr_expect_lt(fabs(mean - 0.5), 3.3e-3, "mean %g", mean);
    cr_expect_lt(fabs(var - 1.0 / 12), 2e-3, "variance %g", var);
    cr_expect_eq(u[12345], bcdi_u32_to_unit(bcdi_philox_at(42, 3, 12345).v[1]));
    cr_expect_neq(be->ops->random_uniform(be, u, 4, 1, 1, 4), BCDI_OK, "word 4 must be refused");
    be->ops->free(be, u);
}

Test(backend_cpu, random_start_inside_support_only)
{
    size_t n = 1000, batch = 3;
    bcdi_cf *x = malloc(n * batch * sizeof *x), *y = malloc(n * batch * sizeof *y);
    uint8_t *support = malloc(n * batch);
    for (size_t i = 0; i < n * batch; ++i)
        support[i] = ((i % n) % 7) != 0;
    be->ops->random_start(be, x, support, n, batch, 9, 0);
    be->ops->random_start(be, y, support, n, batch, 9, 1);
    for (size_t i = 0; i < n * batch; ++i) {
        float amp = bcdi_cf_abs(x[i]);
        if (!support[i])
            cr_assert(x[i].re == 0 && x[i].im == 0);
        else
            cr_assert(amp < 1.0001f);
    }
    /* run r of a start at first_run=1 is run r+1 of a start at first_run=0 */
    cr_expect_eq(memcmp(y, x + n, n * sizeof *x), 0, "streams follow the run index");
    cr_expect_neq(memcmp(x, x + n, n * sizeof *x), 0, "runs differ");
    free(x);
    free(y);
    free(support);
}

Test(backend_cpu, modulus_projection_hand_formula_and_terms)
{
    size_t n = 6, batch = 2;
    bcdi_cf psi[12] = {{3, 4}, {0, 0}, {1, -1}, {-2, 0}, {0.5f, 0.5f}, {6, 8},
                       {1, 0}, {0, 2}, {0, 0},  {3, 4},  {-1, -1},     {2, 0}};
    float amp[6] = {10, 2, 1, 1, 4, 5};
    uint8_t mask[6] = {BCDI_MASK_MEASURED, BCDI_MASK_UNMEASURED, BCDI_MASK_BOUNDED,
                       BCDI_MASK_MEASURED, BCDI_MASK_FREE,       BCDI_MASK_MEASURED};
    bcdi_cf orig[12];
    memcpy(orig, psi, sizeof psi);
    double terms[2 * BCDI_FOURIER_TERMS];
    float inv_n = 0.25f;
    cr_assert_eq(be->ops->modulus_project(be, psi, amp, mask, n, batch, inv_n, terms), BCDI_OK);
    double err2[2] = {0}, amp2[2] = {0}, llk[2] = {0}, ferr[2] = {0}, fllk[2] = {0};
    double masked_i[2] = {0}, over[2] = {0};
    for (size_t r = 0; r < batch; ++r)
        for (size_t i = 0; i < n; ++i) {
            bcdi_cf p = orig[r * n + i];
            double mag = hypot(p.re, p.im);
            bcdi_cf want;
            int over_bound =
                mask[i] != BCDI_MASK_FREE && mask[i] != BCDI_MASK_MEASURED && mag > amp[i];
            int capped = mask[i] == BCDI_MASK_BOUNDED && over_bound;
            if (mask[i] != BCDI_MASK_MEASURED && !capped)
                want = bcdi_cf_make(p.re * inv_n, p.im * inv_n);
            else if (mag > 0)
                want = bcdi_cf_make(amp[i] * inv_n * p.re / mag, amp[i] * inv_n * p.im / mag);
            else
                want = bcdi_cf_make(amp[i] * inv_n, 0);
            cr_expect_float_eq(psi[r * n + i].re, want.re, 1e-6, "run %zu voxel %zu re", r, i);
            cr_expect_float_eq(psi[r * n + i].im, want.im, 1e-6, "run %zu voxel %zu im", r, i);
            double io = (double)amp[i] * amp[i], ic = mag * mag;
            double l = (ic < 1e-12 ? 1e-12 : ic) - io +
                       (io > 0 ? io * log(io / (ic < 1e-12 ? 1e-12 : ic)) : 0);
            if (mask[i] == BCDI_MASK_MEASURED) {
                err2[r] += (mag - amp[i]) * (mag - amp[i]);
                amp2[r] += io;
                llk[r] += l;
            } else if (mask[i] == BCDI_MASK_FREE) {
                ferr[r] += (mag - amp[i]) * (mag - amp[i]);
                fllk[r] += l;
            } else {
                masked_i[r] += ic;
                over[r] += over_bound;
            }
        }
    for (size_t r = 0; r < batch; ++r) {
        const double *t = terms + r * BCDI_FOURIER_TERMS;
        cr_expect_float_eq(t[0], err2[r], 1e-9 * (1 + err2[r]), "err2 run %zu: %g vs %g", r, t[0],
                           err2[r]);
        cr_expect_float_eq(t[1], amp2[r], 1e-9 * amp2[r]);
        cr_expect_float_eq(t[2], llk[r], 1e-6 * (1 + fabs(llk[r])), "llk run %zu: %g vs %g", r,
                           t[2], llk[r]);
        cr_expect_float_eq(t[3], ferr[r], 1e-6 * (1 + ferr[r]));
        cr_expect_float_eq(t[4], fllk[r], 1e-6 * (1 + fabs(fllk[r])));
        cr_expect_float_eq(t[5], masked_i[r], 1e-6 * (1 + masked_i[r]), "masked photons run %zu",
                           r);
        cr_expect_eq(t[6], over[r], "masked voxels over their bound, run %zu", r);
    }
    /* voxel 1 (unmeasured, bound amplitude 2): |psi| 0 and 2, neither over; voxel 2 (bounded,
     * bound 1): run 0's |psi| = sqrt(2) is held at 1, run 1's 0 is kept */
    cr_expect_eq(over[0], 1);
    cr_expect_eq(over[1], 0);
}

Test(backend_cpu, update_er_hio_raar_by_hand)
{
    /* 2x2x2 case: rho, p and support by hand. */
    bcdi_cf rho[8], p[8];
    uint8_t s[8] = {1, 1, 0, 0, 1, 0, 1, 0};
    for (int i = 0; i < 8; ++i) {
        rho[i] = bcdi_cf_make(1.0f + i, -0.5f * i);
        p[i] = bcdi_cf_make(0.25f * i - 1.0f, 2.0f - i);
    }
    const float beta = 0.9f;
    struct {
        bcdi_update_coeffs c;
        const char *name;
    } cases[3] = {{{0, 1, 0, 0, 0, 0}, "ER"},
                  {{0, 1, 1, -beta, 0, 0}, "HIO"},
                  {{0, 1, beta, 1 - 2 * beta, 0, 0}, "RAAR"}};
    for (int k = 0; k < 3; ++k) {
        bcdi_cf x[8];
        memcpy(x, rho, sizeof x);
        double terms[BCDI_UPDATE_TERMS];
        cr_assert_eq(be->ops->update(be, x, p, s, 8, 1, &cases[k].c, terms), BCDI_OK);
        double in2 = 0, out2 = 0, in4 = 0;
        for (int i = 0; i < 8; ++i) {
            bcdi_cf want;
            if (s[i])
                want = p[i];
            else if (k == 0)
                want = bcdi_cf_make(0, 0);
            else if (k == 1)
                want = bcdi_cf_make(rho[i].re - beta * p[i].re, rho[i].im - beta * p[i].im);
            else
                want = bcdi_cf_make(beta * rho[i].re + (1 - 2 * beta) * p[i].re,
                                    beta * rho[i].im + (1 - 2 * beta) * p[i].im);
            cr_expect_float_eq(x[i].re, want.re, 1e-6, "%s voxel %d", cases[k].name, i);
            cr_expect_float_eq(x[i].im, want.im, 1e-6, "%s voxel %d", cases[k].name, i);
            double a2 = (double)p[i].re * p[i].re + (double)p[i].im * p[i].im;
            if (s[i]) {
                in2 += a2;
                in4 += a2 * a2;
            } else {
                out2 += a2;
            }
        }
        cr_expect_float_eq(terms[0], in2, 1e-9);
        cr_expect_float_eq(terms[1], out2, 1e-9);
        cr_expect_float_eq(terms[2], in4, 1e-9);
    }
    /* positivity: a voxel in the support with Re(p) < 0 takes the outside (HIO) rule */
    bcdi_update_coeffs hio_pos = {0, 1, 1, -beta, 1, 0};
    bcdi_cf x[8];
    memcpy(x, rho, sizeof x);
    be->ops->update(be, x, p, s, 8, 1, &hio_pos, NULL);
    /* voxel 0: s=1, Re(p) = -1 < 0 -> rho - beta p */
    cr_expect_float_eq(x[0].re, rho[0].re - beta * p[0].re, 1e-6);
    /* voxel 6: s=1, Re(p) = 0.5 >= 0 -> p */
    cr_expect_float_eq(x[6].re, p[6].re, 1e-6);
    /* real_only: inside voxels keep Re(p) and lose the imaginary part; outside ones are untouched
     */
    bcdi_update_coeffs hio_real = {0, 1, 1, -beta, 0, 1};
    memcpy(x, rho, sizeof x);
    be->ops->update(be, x, p, s, 8, 1, &hio_real, NULL);
    for (int i = 0; i < 8; ++i) {
        if (s[i]) {
            cr_expect_float_eq(x[i].re, p[i].re, 1e-6, "real_only voxel %d", i);
            cr_expect_eq(x[i].im, 0.0f, "real_only voxel %d keeps an imaginary part", i);
        } else {
            cr_expect_float_eq(x[i].im, rho[i].im - beta * p[i].im, 1e-6);
        }
    }
}

Test(backend_cpu, abs_scale_threshold_reductions)
{
    size_t n = 5003, batch = 3; /* not a multiple of the reduction block */
    bcdi_cf *x = malloc(n * batch * sizeof *x);
    float *a = malloc(n * batch * sizeof *a);
    uint8_t *s = malloc(n * batch);
    tu_fill_complex(x, n * batch, 77);
    be->ops->cf_abs(be, a, x, n * batch);
    for (size_t i = 0; i < n * batch; ++i)
        cr_assert_float_eq(a[i], hypotf(x[i].re, x[i].im), 1e-6);
    double sums[3];
    float maxima[3];
    be->ops->sum(be, a, n, batch, sums);
    be->ops->max(be, a, n, batch, maxima);
    for (size_t r = 0; r < batch; ++r) {
        double want = 0;
        float m = -1;
        for (size_t i = 0; i < n; ++i) {
            want += a[r * n + i];
            if (a[r * n + i] > m) m = a[r * n + i];
        }
        cr_expect_float_eq(sums[r], want, 1e-9 * want);
        cr_expect_eq(maxima[r], m);
    }
    float thr[3] = {0.2f, 0.5f, 0.9f};
    memset(s, 1, n * batch);
    be->ops->threshold(be, s, a, n, batch, thr, 0);
    uint64_t counts[3];
    be->ops->count_nonzero(be, s, n, batch, counts);
    for (size_t r = 0; r < batch; ++r) {
        uint64_t want = 0;
        for (size_t i = 0; i < n; ++i) {
            cr_assert_eq(s[r * n + i], a[r * n + i] > thr[r]);
            want += a[r * n + i] > thr[r];
        }
        cr_expect_eq(counts[r], want);
    }
    /* only_shrink never grows the support */
    uint8_t *before = malloc(n * batch);
    memcpy(before, s, n * batch);
    float lower[3] = {0.0f, 0.0f, 0.0f};
    be->ops->threshold(be, s, a, n, batch, lower, 1);
    cr_expect_eq(memcmp(before, s, n * batch), 0, "only_shrink grew the support");
    bcdi_cf f[3] = {{0, 1}, {2, 0}, {0.5f, -0.5f}};
    bcdi_cf *y = malloc(n * batch * sizeof *y);
    memcpy(y, x, n * batch * sizeof *y);
    be->ops->cf_scale(be, y, n, batch, f);
    for (size_t i = 0; i < n * batch; ++i) {
        bcdi_cf g = f[i / n];
        cr_assert_float_eq(y[i].re, x[i].re * g.re - x[i].im * g.im, 1e-6);
        cr_assert_float_eq(y[i].im, x[i].re * g.im + x[i].im * g.re, 1e-6);
    }
    free(x), free(y), free(a), free(s), free(before);
}

Test(backend_cpu, reductions_do_not_depend_on_thread_count)
{
    size_t n = 100000;
    float *a = malloc(n * sizeof *a);
    tu_fill_uniform(a, n, 3, -1.0f, 1.0f);
    double s1, s2;
    be->threads = 1;
    be->ops->sum(be, a, n, 1, &s1);
    be->threads = 2;
    be->ops->sum(be, a, n, 1, &s2);
    cr_expect_eq(memcmp(&s1, &s2, sizeof s1), 0, "sum differs between 1 and 2 threads");
    free(a);
}

Test(backend_cpu, gaussian_blur_matches_direct_convolution)
{
    size_t shape[3] = {9, 12, 7}, n = 9 * 12 * 7, batch = 2;
    float sigma[3] = {1.0f, 1.7f, 0.0f}; /* no blur along axis 2 */
    float *v = malloc(n * batch * sizeof *v), *tmp = malloc(n * batch * sizeof *tmp);
    float *orig = malloc(n * batch * sizeof *orig), *ref = malloc(n * batch * sizeof *ref);
    tu_fill_uniform(v, n * batch, 11, 0.0f, 1.0f);
    memcpy(orig, v, n * batch * sizeof *v);
    cr_assert_eq(be->ops->gaussian_blur(be, v, tmp, shape, batch, sigma), BCDI_OK);
    /* direct 3D convolution with a periodic, truncated (4 sigma), normalised Gaussian */
    int rad[3];
    double w[3][2 * 16 + 1];
    for (int ax = 0; ax < 3; ++ax) {
        rad[ax] = sigma[ax] > 0 ? (int)ceil(4 * sigma[ax]) : 0;
        double sum = 0;
        for (int k = -rad[ax]; k <= rad[ax]; ++k)
            sum += w[ax][k + rad[ax]] =
                sigma[ax] > 0 ? exp(-0.5 * k * k / (sigma[ax] * sigma[ax])) : 1;
        for (int k = 0; k <= 2 * rad[ax]; ++k)
            w[ax][k] /= sum;
    }
    for (size_t r = 0; r < batch; ++r)
        for (long i0 = 0; i0 < 9; ++i0)
            for (long i1 = 0; i1 < 12; ++i1)
                for (long i2 = 0; i2 < 7; ++i2) {
                    double acc = 0;
                    for (int a = -rad[0]; a <= rad[0]; ++a)
                        for (int b = -rad[1]; b <= rad[1]; ++b)
                            for (int c = -rad[2]; c <= rad[2]; ++c) {
                                long j0 = ((i0 + a) % 9 + 9) % 9, j1 = ((i1 + b) % 12 + 12) % 12,
                                     j2 = ((i2 + c) % 7 + 7) % 7;
                                acc += w[0][a + rad[0]] * w[1][b + rad[1]] * w[2][c + rad[2]] *
                                       orig[r * n + (j0 * 12 + j1) * 7 + j2];
                            }
                    ref[r * n + (i0 * 12 + i1) * 7 + i2] = (float)acc;
                }
    double err = tu_rel_max_err_f(v, ref, n * batch);
    cr_expect_lt(err, 1e-5, "blur vs direct convolution: rel err %g", err);
    free(v), free(tmp), free(orig), free(ref);
}

Test(backend_cpu, fft_out_of_place_preserves_input_and_matches_in_place)
{
    size_t shape[3] = {6, 5, 4}, n = 120, batch = 3;
    bcdi_cf *a, *b, *keep = malloc(n * batch * sizeof *keep);
    be->ops->alloc(be, n * batch * sizeof *a, (void **)&a);
    be->ops->alloc(be, n * batch * sizeof *b, (void **)&b);
    tu_fill_complex(a, n * batch, 21);
    memcpy(keep, a, n * batch * sizeof *a);
    bcdi_fft *plan;
    cr_assert_eq(be->ops->fft_create(be, shape, batch, &plan), BCDI_OK);
    cr_assert_eq(be->ops->fft_forward(plan, a, b), BCDI_OK);
    cr_expect_eq(memcmp(a, keep, n * batch * sizeof *a), 0,
                 "out-of-place forward changed its input");
    be->ops->fft_forward(plan, a, a);
    cr_expect_eq(memcmp(a, b, n * batch * sizeof *a), 0, "in-place and out-of-place differ");
    cr_assert_eq(be->ops->fft_inverse(plan, b, a), BCDI_OK);
    for (size_t i = 0; i < n * batch; ++i)
        a[i] = bcdi_cf_scale(a[i], 1.0f / n);
    cr_expect_lt(tu_rel_max_err_cf(a, keep, n * batch), 1e-6);
    /* a misaligned view (offset by one complex) is replanned, not mis-executed */
    bcdi_fft *single;
    cr_assert_eq(be->ops->fft_create(be, shape, 1, &single), BCDI_OK);
    memcpy(a + 1, keep, n * sizeof *a);
    be->ops->fft_forward(single, a + 1, a + 1);
    memcpy(b, keep, n * sizeof *b);
    be->ops->fft_forward(single, b, b);
    cr_expect_lt(tu_rel_max_err_cf(a + 1, b, n), 1e-6);
    be->ops->fft_destroy(single);
    be->ops->fft_destroy(plan);
    be->ops->free(be, a);
    be->ops->free(be, b);
    free(keep);
}

Test(backend_cpu, measured_plans_match_estimated_and_keep_data)
{
    size_t shape[3] = {10, 12, 8}, n = 960, batch = 2;
    bcdi_cf *a, *b, *keep = malloc(n * batch * sizeof *keep);
    be->ops->alloc(be, n * batch * sizeof *a, (void **)&a);
    be->ops->alloc(be, n * batch * sizeof *b, (void **)&b);
    tu_fill_complex(a, n * batch, 31);
    memcpy(keep, a, n * batch * sizeof *a);
    bcdi_fft *estimated, *measured;
    cr_assert_eq(be->ops->fft_create(be, shape, batch, &estimated), BCDI_OK);
    be->fft_measure = 1;
    cr_assert_eq(be->ops->fft_create(be, shape, batch, &measured), BCDI_OK);
    be->fft_measure = 0;
    /* measuring plans on scratch must leave live arrays alone */
    cr_expect_eq(memcmp(a, keep, n * batch * sizeof *a), 0, "planning touched the data");
    be->ops->fft_forward(measured, a, b);
    be->ops->fft_forward(estimated, a, a);
    cr_expect_lt(tu_rel_max_err_cf(b, a, n * batch), 1e-6, "measured vs estimated plan");
    be->ops->fft_destroy(estimated);
    be->ops->fft_destroy(measured);
    be->ops->free(be, a);
    be->ops->free(be, b);
    free(keep);
}

/* ---- the fused ops against the composed sequence they replace ------------------------------- */

typedef struct {
    size_t shape[3], n, batch;
    bcdi_cf *rho, *psi;
    float *amplitude;
    uint8_t *mask, *support;
} iteration_case;

/* Random object, amplitudes, a mask with measured, unmeasured and free pixels, and a support
 * of about half the box. */
static iteration_case make_iteration_case(size_t a, size_t b, size_t c, size_t batch, uint64_t seed)
{
    iteration_case k = {{a, b, c}, a * b * c, batch, NULL, NULL, NULL, NULL, NULL};
    size_t total = k.n * batch;
    cr_assert_eq(be->ops->alloc(be, total * sizeof(bcdi_cf), (void **)&k.rho), BCDI_OK);
    cr_assert_eq(be->ops->alloc(be, total * sizeof(bcdi_cf), (void **)&k.psi), BCDI_OK);
    cr_assert_eq(be->ops->alloc(be, k.n * sizeof(float), (void **)&k.amplitude), BCDI_OK);
    cr_assert_eq(be->ops->alloc(be, k.n, (void **)&k.mask), BCDI_OK);
    cr_assert_eq(be->ops->alloc(be, total, (void **)&k.support), BCDI_OK);
    tu_fill_complex(k.rho, total, seed);
    tu_fill_uniform(k.amplitude, k.n, seed + 1, 0.0f, 3.0f * sqrtf((float)k.n));
    float *u = malloc(total * sizeof *u);
    tu_fill_uniform(u, total, seed + 2, 0.0f, 1.0f);
    for (size_t i = 0; i < k.n; ++i)
        k.mask[i] = u[i] < 0.8f   ? BCDI_MASK_MEASURED
                    : u[i] < 0.9f ? BCDI_MASK_UNMEASURED
                                  : BCDI_MASK_FREE;
    for (size_t i = 0; i < total; ++i)
        k.support[i] = u[(i * 7919) % total] < 0.5f;
    free(u);
    return k;
}

static void free_iteration_case(iteration_case *k)
{
    be->ops->free(be, k->rho), be->ops->free(be, k->psi), be->ops->free(be, k->amplitude);
    be->ops->free(be, k->mask), be->ops->free(be, k->support);
}

/* rho after one iteration, fused (ops->iterate) or composed; terms into f and u. */
static bcdi_cf *one_iteration(const iteration_case *k, const bcdi_update_coeffs *c, int fused,
                              double *f, double *u)
{
    size_t total = k->n * k->batch;
    bcdi_cf *rho = malloc(total * sizeof *rho);
    bcdi_cf *work;
    be->ops->alloc(be, total * sizeof *work, (void **)&work);
    memcpy(work, k->rho, total * sizeof *work);
    bcdi_fft *plan;
    cr_assert_eq(be->ops->fft_create(be, k->shape, k->batch, &plan), BCDI_OK, "%s",
                 bcdi_last_error());
    float inv_n = 1.0f / (float)k->n;
    if (fused) {
        cr_assert_eq(
            be->ops->iterate(plan, work, k->psi, k->amplitude, k->mask, k->support, inv_n, c, f, u),
            BCDI_OK, "%s", bcdi_last_error());
    } else {
        be->ops->fft_forward(plan, work, k->psi);
        be->ops->modulus_project(be, k->psi, k->amplitude, k->mask, k->n, k->batch, inv_n, f);
        be->ops->fft_inverse(plan, k->psi, k->psi);
        be->ops->update(be, work, k->psi, k->support, k->n, k->batch, c, u);
    }
    memcpy(rho, work, total * sizeof *rho);
    be->ops->fft_destroy(plan);
    be->ops->free(be, work);
    return rho;
}

static double rel_diff(double a, double b)
{
    return fabs(a - b) / (fabs(b) > 1e-30 ? fabs(b) : 1.0);
}

Test(backend_cpu, fused_iteration_matches_composed_ops)
{
    /* 128x40x39: 1560 pencils per plane, more than a block holds for any L1 up to 1 MiB and not
     * a multiple of 16, 32, 48 or 64: several blocks and a partial one. 12x9x7: a plane of 63
     * values puts planes off FFTW's SIMD alignment (unaligned plans). 5x1x8: a flat axis. */
    const size_t shapes[4][4] = {{128, 40, 39, 2}, {12, 9, 7, 3}, {5, 1, 8, 2}, {2, 2, 2, 1}};
    const float beta = 0.9f;
    const bcdi_update_coeffs rules[4] = {{0, 1, 1, -beta, 1, 0},           /* HIO with positivity */
                                         {0, 1, beta, 1 - 2 * beta, 0, 0}, /* RAAR */
                                         {0, 1, 0, 0, 0, 0},               /* ER */
                                         {0, 1, 1, -beta, 0, 1}};          /* HIO, real */
    double worst = 0, worst_terms = 0;
    for (int s = 0; s < 4; ++s) {
        iteration_case k =
            make_iteration_case(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 40 + s);
        for (int r = 0; r < 4; ++r) {
            size_t batch = k.batch;
            double f[2][3 * BCDI_FOURIER_TERMS], u[2][3 * BCDI_UPDATE_TERMS];
            bcdi_cf *fused = one_iteration(&k, &rules[r], 1, f[0], u[0]);
            bcdi_cf *composed = one_iteration(&k, &rules[r], 0, f[1], u[1]);
            double err = tu_rel_max_err_cf(fused, composed, k.n * batch);
            /* measured: at most 3.8e-7 of the largest value (the float rounding of two FFT
             * factorisations, 3D against 2D + 1D) */
            cr_expect_lt(err, 2e-6, "%zux%zux%zu rule %d: fused vs composed rel err %g", k.shape[0],
                         k.shape[1], k.shape[2], r, err);
            if (err > worst) worst = err;
            /* the sums are over |F rho| and p, which carry the two FFTs' rounding: measured at
             * most 1.8e-7 relative */
            for (size_t t = 0; t < batch * BCDI_FOURIER_TERMS; ++t) {
                double e = rel_diff(f[0][t], f[1][t]);
                cr_expect_lt(e, 2e-6, "fourier term %zu: %.9g vs %.9g", t, f[0][t], f[1][t]);
                if (e > worst_terms) worst_terms = e;
            }
            for (size_t t = 0; t < batch * BCDI_UPDATE_TERMS; ++t) {
                double e = rel_diff(u[0][t], u[1][t]);
                cr_expect_lt(e, 2e-6, "update term %zu: %.9g vs %.9g", t, u[0][t], u[1][t]);
                if (e > worst_terms) worst_terms = e;
            }
            free(fused);
            free(composed);
        }
        free_iteration_case(&k);
    }
    cr_log_info("fused vs composed: rho rel err %.3g, terms %.3g", worst, worst_terms);
}

Test(backend_cpu, fused_iteration_does_not_depend_on_thread_count)
{
    iteration_case k = make_iteration_case(64, 24, 20, 2, 9);
    const bcdi_update_coeffs hio = {0, 1, 1, -0.9f, 0, 0};
    double f[2][2 * BCDI_FOURIER_TERMS], u[2][2 * BCDI_UPDATE_TERMS];
    be->threads = 1;
    bcdi_cf *one = one_iteration(&k, &hio, 1, f[0], u[0]);
    be->threads = 2;
    bcdi_cf *two = one_iteration(&k, &hio, 1, f[1], u[1]);
    cr_expect_eq(memcmp(one, two, k.n * k.batch * sizeof *one), 0, "rho differs");
    cr_expect_eq(memcmp(f[0], f[1], sizeof f[0]), 0, "fourier terms differ");
    cr_expect_eq(memcmp(u[0], u[1], sizeof u[0]), 0, "update terms differ");
    free(one), free(two);
    free_iteration_case(&k);
}

/* support after shrink-wrap: fused op (1) or the composed ops (0). */
static void shrink_wrap_once(const size_t shape[3], size_t batch, const bcdi_cf *rho,
                             uint8_t *support, float sigma, const double *relative,
                             const double *reference, int only_shrink, int fused, float *maxima,
                             uint64_t *counts)
{
    size_t n = shape[0] * shape[1] * shape[2];
    float *scratch = malloc(2 * n * batch * sizeof *scratch), *value = scratch;
    float sig[3] = {sigma, sigma, sigma}, thresholds[8];
    if (fused) {
        cr_assert_eq(be->ops->shrink_wrap(be, support, rho, scratch, shape, batch, sig, relative,
                                          reference, only_shrink, maxima, counts),
                     BCDI_OK);
    } else {
        be->ops->cf_abs(be, value, rho, n * batch);
        be->ops->gaussian_blur(be, value, scratch + n * batch, shape, batch, sig);
        if (!reference) be->ops->max(be, value, n, batch, maxima);
        for (size_t r = 0; r < batch; ++r)
            thresholds[r] = (float)(relative[r] * (reference ? reference[r] : (double)maxima[r]));
        be->ops->threshold(be, support, value, n, batch, thresholds, only_shrink);
        be->ops->count_nonzero(be, support, n, batch, counts);
    }
    free(scratch);
}

Test(backend_cpu, fused_shrink_wrap_matches_composed_ops_bitwise)
{
    /* 40x36x32: several column blocks; 5x24x20 with sigma 2: a tap radius (8) wider than the
     * axis; 1x24x20: a flat axis that is not blurred. */
    const size_t shapes[3][4] = {{40, 36, 32, 2}, {5, 24, 20, 3}, {1, 24, 20, 2}};
    const float sigmas[2] = {2.0f, 1.3f};
    for (int s = 0; s < 3; ++s) {
        size_t shape[3] = {shapes[s][0], shapes[s][1], shapes[s][2]}, batch = shapes[s][3];
        size_t n = shape[0] * shape[1] * shape[2], total = n * batch;
        /* a Gaussian blob about a corner (periodic), with noise: a support worth finding */
        bcdi_cf *rho = malloc(total * sizeof *rho);
        tu_fill_complex(rho, total, 70 + s);
        for (size_t i = 0; i < total; ++i) {
            size_t v = i % n,
                   x[3] = {v / (shape[1] * shape[2]), v / shape[2] % shape[1], v % shape[2]};
            double r2 = 0;
            for (int a = 0; a < 3; ++a) {
                double d = (double)(x[a] <= shape[a] / 2 ? x[a] : shape[a] - x[a]);
                r2 += d * d / (0.04 * (double)(shape[a] * shape[a]) + 1.0);
            }
            rho[i] = bcdi_cf_scale(rho[i], (float)(0.3 + exp(-r2)));
        }
        uint8_t *start = malloc(total), *support[2] = {malloc(total), malloc(total)};
        for (size_t i = 0; i < total; ++i)
            start[i] = (i * 2654435761u) % 7 != 0;
        double relative[3] = {0.6, 0.55, 0.7}, rms[3] = {0.5, 0.45, 0.4};
        for (int g = 0; g < 2; ++g)
            for (int use_rms = 0; use_rms < 2; ++use_rms)
                for (int only_shrink = 0; only_shrink < 2; ++only_shrink) {
                    float maxima[2][3] = {{0}};
                    uint64_t counts[2][3] = {{0}};
                    for (int fused = 0; fused < 2; ++fused) {
                        memcpy(support[fused], start, total);
                        shrink_wrap_once(shape, batch, rho, support[fused], sigmas[g], relative,
                                         use_rms ? rms : NULL, only_shrink, fused, maxima[fused],
                                         counts[fused]);
                    }
                    cr_expect_eq(memcmp(support[0], support[1], total), 0,
                                 "%zux%zux%zu sigma %g rms %d shrink %d: supports differ", shape[0],
                                 shape[1], shape[2], sigmas[g], use_rms, only_shrink);
                    cr_expect_eq(memcmp(counts[0], counts[1], sizeof counts[0]), 0, "counts");
                    if (!use_rms)
                        cr_expect_eq(memcmp(maxima[0], maxima[1], sizeof maxima[0]), 0,
                                     "maxima differ");
                    uint64_t inside = 0;
                    for (size_t i = 0; i < total; ++i)
                        inside += support[1][i];
                    /* a threshold that keeps nothing or everything would test nothing */
                    cr_expect(inside > 0 && inside < total, "support of %llu of %zu voxels",
                              (unsigned long long)inside, total);
                }
        free(rho), free(start), free(support[0]), free(support[1]);
    }
}
