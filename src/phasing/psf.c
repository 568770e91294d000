/* SPDX-License-Identifier: BSD-3-Clause */
/* Partial coherence: the Gaussian PSF, its FFT convolution with |Psi|^2 and its Richardson-Lucy
 * refinement (psf.h). */
#include "phasing/psf.h"

#include <math.h>
#include <stdlib.h>

/* periodic signed distance of index i from `origin` on an axis of length len */
static double periodic_offset(size_t i, size_t origin, size_t len)
{
    long d = (long)i - (long)origin;
    long half = (long)len / 2;
    while (d > half)
        d -= (long)len;
    while (d < -half + ((long)len % 2 == 0 ? 1 : 0))
        d += (long)len;
    return (double)d;
}

bcdi_status bcdi_psf_gaussian(const size_t shape[3], const double sigma[3], int centred, float *out)
{
    /* separable: one normalised profile per axis, then their outer product */
    double *profile[3];
    size_t total = shape[0] + shape[1] + shape[2];
    double *store = malloc(total * sizeof *store);
    if (!store) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for the PSF's profiles");
    profile[0] = store, profile[1] = store + shape[0], profile[2] = profile[1] + shape[1];
    for (int a = 0; a < 3; ++a) {
        double s = sigma[a] > BCDI_PSF_MIN_SIGMA ? sigma[a] : BCDI_PSF_MIN_SIGMA, sum = 0.0;
        size_t origin = centred ? shape[a] / 2 : 0;
        for (size_t i = 0; i < shape[a]; ++i) {
            double d = periodic_offset(i, origin, shape[a]);
            profile[a][i] = exp(-0.5 * d * d / (s * s));
            sum += profile[a][i];
        }
        for (size_t i = 0; i < shape[a]; ++i)
            profile[a][i] /= sum;
    }
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1) {
            double w01 = profile[0][i0] * profile[1][i1];
            float *row = out + (i0 * shape[1] + i1) * shape[2];
            for (size_t i2 = 0; i2 < shape[2]; ++i2)
                row[i2] = (float)(w01 * profile[2][i2]);
        }
    free(store);
    return BCDI_OK;
}

int bcdi_psf_moment_widths(const size_t shape[3], const bcdi_cf *volume, const float *gaussian,
                           double sigma[3])
{
    double total = 0.0, second[3] = {0.0, 0.0, 0.0};
    size_t i = 0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0) {
        double d0 = periodic_offset(i0, 0, shape[0]);
        for (size_t i1 = 0; i1 < shape[1]; ++i1) {
            double d1 = periodic_offset(i1, 0, shape[1]);
            for (size_t i2 = 0; i2 < shape[2]; ++i2, ++i) {
                double w = (double)volume[i].re * (double)gaussian[i];
                if (!(w > 0.0)) continue;
                double d2 = periodic_offset(i2, 0, shape[2]);
                total += w;
                second[0] += w * d0 * d0;
                second[1] += w * d1 * d1;
                second[2] += w * d2 * d2;
            }
        }
    }
    if (!(total > 0.0)) {
        sigma[0] = sigma[1] = sigma[2] = 0.0;
        return 0;
    }
    for (int a = 0; a < 3; ++a)
        sigma[a] = sqrt(second[a] / total);
    return 1;
}

bcdi_status bcdi_phasing_psf_set(bcdi_phasing_workspace *ws, const double *sigma,
                                 bcdi_cf *host_volume, float *host_gaussian)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    size_t n = ws->n;
    bcdi_status st = BCDI_OK;
    for (size_t r = 0; st == BCDI_OK && r < ws->batch; ++r) {
        st = bcdi_psf_gaussian(ws->shape, sigma + 3 * r, 0, host_gaussian);
        if (st != BCDI_OK) break;
        for (size_t i = 0; i < n; ++i)
            host_volume[i] = bcdi_cf_make(host_gaussian[i], 0.0f);
        st = ops->upload(ws->be, ws->psf_hat + r * n, host_volume, n * sizeof(bcdi_cf));
    }
    if (st == BCDI_OK) st = ops->fft_forward(ws->plan, ws->psf_hat, ws->psf_hat);
    return st;
}

bcdi_status bcdi_phasing_pc_intensity(bcdi_phasing_workspace *ws, const bcdi_cf *in, bcdi_cf *out)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    size_t count = ws->n * ws->batch;
    bcdi_status st = ops->fft_forward(ws->plan, in, out);
    if (st == BCDI_OK) st = ops->coherent_intensity(ws->be, ws->psf_model, out, count);
    if (st == BCDI_OK) st = ops->fft_forward(ws->plan, ws->psf_model, ws->psf_model);
    if (st == BCDI_OK)
        st = ops->spectrum_product(ws->be, ws->psf_model, ws->psf_hat, count, 0,
                                   1.0f / (float)ws->n);
    if (st == BCDI_OK) st = ops->fft_inverse(ws->plan, ws->psf_model, ws->psf_model);
    return st;
}

bcdi_status bcdi_phasing_psf_update(bcdi_phasing_workspace *ws, double *sigma, long steps,
                                    bcdi_cf *host_volume, float *host_gaussian)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    size_t n = ws->n, count = n * ws->batch;
    float inv_n = 1.0f / (float)n;
    bcdi_cf *spectrum = ws->psf_model, *work = ws->psi;
    /* U = FFT(|Psi|^2) stays in psf_model through the steps; Psi is the transform of the
     * object inside its support (HIO and RAAR leave feedback outside it, no part of the object) */
    const bcdi_update_coeffs inside_only = {1.0f, 0.0f, 0.0f, 0.0f, 0, 0};
    bcdi_status st = ops->copy(ws->be, work, ws->rho, count * sizeof(bcdi_cf));
    if (st == BCDI_OK)
        st = ops->update(ws->be, work, work, ws->support, n, ws->batch, &inside_only, NULL);
    if (st == BCDI_OK) st = ops->fft_forward(ws->plan, work, work);
    if (st == BCDI_OK) st = ops->coherent_intensity(ws->be, spectrum, work, count);
    if (st == BCDI_OK) st = ops->fft_forward(ws->plan, spectrum, spectrum);
    for (long k = 0; st == BCDI_OK && k < steps; ++k) {
        /* I_pc = IFFT(U PSF^) / n, then the ratio I_meas / I_pc */
        st = ops->copy(ws->be, work, spectrum, count * sizeof(bcdi_cf));
        if (st == BCDI_OK) st = ops->spectrum_product(ws->be, work, ws->psf_hat, count, 0, inv_n);
        if (st == BCDI_OK) st = ops->fft_inverse(ws->plan, work, work);
        if (st == BCDI_OK)
            st = ops->rl_ratio(ws->be, work, ws->amplitude, ws->mask, n, ws->batch, ws->psf_floor);
        /* the ratio correlated with |Psi|^2: IFFT(R conj(U)) / n */
        if (st == BCDI_OK) st = ops->fft_forward(ws->plan, work, work);
        if (st == BCDI_OK) st = ops->spectrum_product(ws->be, work, spectrum, count, 1, inv_n);
        if (st == BCDI_OK) st = ops->fft_inverse(ws->plan, work, work);
        /* PSF * correlation, and the Gaussian of its second moments, run by run on the host */
        for (size_t r = 0; st == BCDI_OK && r < ws->batch; ++r) {
            st = ops->download(ws->be, host_volume, work + r * n, n * sizeof(bcdi_cf));
            if (st != BCDI_OK) break;
            double *s = sigma + 3 * r, fitted[3];
            st = bcdi_psf_gaussian(ws->shape, s, 0, host_gaussian);
            if (st != BCDI_OK) break;
            if (!bcdi_psf_moment_widths(ws->shape, host_volume, host_gaussian, fitted))
                continue; /* no evidence (an empty iterate): keep the PSF */
            for (int a = 0; a < 3; ++a)
                s[a] = fitted[a] < BCDI_PSF_MIN_SIGMA   ? BCDI_PSF_MIN_SIGMA
                       : fitted[a] > BCDI_PSF_MAX_SIGMA ? BCDI_PSF_MAX_SIGMA
                                                        : fitted[a];
        }
        if (st == BCDI_OK) st = bcdi_phasing_psf_set(ws, sigma, host_volume, host_gaussian);
    }
    return st;
}
