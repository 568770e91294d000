/* SPDX-License-Identifier: BSD-3-Clause */
#include "phasing/iteration.h"

#include "phasing/psf.h"

bcdi_update_coeffs bcdi_update_coefficients(bcdi_algorithm algorithm, float beta, int positivity,
                                            int real_only)
{
    bcdi_update_coeffs c = {0.0f, 1.0f, 0.0f, 0.0f, positivity, real_only};
    if (algorithm == BCDI_ALGO_HIO) {
        c.out_rho = 1.0f; /* rho - beta p */
        c.out_proj = -beta;
    } else if (algorithm == BCDI_ALGO_RAAR) {
        c.out_rho = beta; /* beta rho + (1 - 2 beta) p */
        c.out_proj = 1.0f - 2.0f * beta;
    }
    return c;
}

/* out <- P_M(in) (forward FFT, modulus with the 1/N folded in, inverse FFT); with the PSF
 * active, the partially coherent modulus against |FFT(in)|^2 blurred by the PSF. */
static bcdi_status modulus_projection(bcdi_phasing_workspace *ws, const bcdi_cf *in, bcdi_cf *out,
                                      double *terms)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    if (ws->psf_active) {
        bcdi_status st = bcdi_phasing_pc_intensity(ws, in, out);
        if (st == BCDI_OK)
            st = ops->pc_modulus_project(ws->be, out, ws->amplitude, ws->mask, ws->psf_model, ws->n,
                                         ws->batch, 1.0f / (float)ws->n, ws->psf_floor, terms);
        if (st == BCDI_OK) st = ops->fft_inverse(ws->plan, out, out);
        return st;
    }
    bcdi_status st = ops->fft_forward(ws->plan, in, out);
    if (st == BCDI_OK)
        st = ops->modulus_project(ws->be, out, ws->amplitude, ws->mask, ws->n, ws->batch,
                                  1.0f / (float)ws->n, terms);
    if (st == BCDI_OK) st = ops->fft_inverse(ws->plan, out, out);
    return st;
}

bcdi_status bcdi_phasing_iterate(bcdi_phasing_workspace *ws, bcdi_algorithm algorithm, float beta,
                                 int positivity, int real_only, double *fourier_terms,
                                 double *update_terms)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    size_t n = ws->n, batch = ws->batch;
    bcdi_status st;
    if (algorithm != BCDI_ALGO_DM) {
        bcdi_update_coeffs c = bcdi_update_coefficients(algorithm, beta, positivity, real_only);
        /* the fused iteration knows only the coherent modulus */
        if (ops->iterate && !ws->unfused && !ws->psf_active) {
            st = ops->iterate(ws->plan, ws->rho, ws->psi, ws->amplitude, ws->mask, ws->support,
                              1.0f / (float)n, &c, fourier_terms, update_terms);
            /* a backend may decline a case it does not fuse (CUDA: the metric sums) */
            if (st == BCDI_OK) ++ws->fused_iterations;
            if (st != BCDI_ERR_UNSUPPORTED) return st;
            bcdi_clear_error();
        }
        st = modulus_projection(ws, ws->rho, ws->psi, fourier_terms);
        if (st == BCDI_OK)
            st = ops->update(ws->be, ws->rho, ws->psi, ws->support, n, batch, &c, update_terms);
        return st;
    }
    if (!ws->dm_b) return bcdi_error(BCDI_ERR_INTERNAL, "DM step without its extra buffer");
    /* Difference map (Elser 2003) with gamma_S = -1/beta, gamma_M = 1/beta:
     *   a = P_M(rho);  b = P_M(f_S(rho)),  f_S(rho) = rho inside S, rho/beta outside;
     *   rho' = (1+beta) a - beta b inside S,  rho - beta b outside.
     * Written with the linear update rule: b <- f_S(b = rho); a <- (1+beta)a - beta b inside,
     * -beta b outside; rho <- a inside, rho + a outside. */
    st = modulus_projection(ws, ws->rho, ws->psi, fourier_terms); /* psi = a */
    if (st == BCDI_OK) st = ops->copy(ws->be, ws->dm_b, ws->rho, batch * n * sizeof(bcdi_cf));
    bcdi_update_coeffs fs = {1.0f, 0.0f, 1.0f / beta, 0.0f, 0, 0};
    if (st == BCDI_OK)
        st = ops->update(ws->be, ws->dm_b, ws->dm_b, ws->support, n, batch, &fs, NULL);
    if (st == BCDI_OK) st = modulus_projection(ws, ws->dm_b, ws->dm_b, NULL); /* b */
    bcdi_update_coeffs mix = {1.0f + beta, -beta, 0.0f, -beta, 0, 0};
    if (st == BCDI_OK)
        st = ops->update(ws->be, ws->psi, ws->dm_b, ws->support, n, batch, &mix, NULL);
    bcdi_update_coeffs finish = {0.0f, 1.0f, 1.0f, 1.0f, 0, real_only};
    if (st == BCDI_OK)
        st = ops->update(ws->be, ws->rho, ws->psi, ws->support, n, batch, &finish, update_terms);
    return st;
}

bcdi_status bcdi_phasing_shrink_wrap(bcdi_phasing_workspace *ws, double sigma,
                                     const double *relative, const double *rms_of_rho,
                                     int only_shrink, float *host_scratch, uint64_t *counts)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    size_t n = ws->n, batch = ws->batch;
    float *value = (float *)ws->psi, *tmp = value + batch * n;
    float *maxima = host_scratch, *thresholds = host_scratch + batch;
    float sig[3] = {(float)sigma, (float)sigma, (float)sigma};
    if (ops->shrink_wrap && !ws->unfused)
        return ops->shrink_wrap(ws->be, ws->support, ws->rho, value, ws->shape, batch, sig,
                                relative, rms_of_rho, only_shrink, maxima, counts);
    bcdi_status st = ops->cf_abs(ws->be, value, ws->rho, batch * n);
    if (st == BCDI_OK) st = ops->gaussian_blur(ws->be, value, tmp, ws->shape, batch, sig);
    if (st == BCDI_OK && !rms_of_rho) st = ops->max(ws->be, value, n, batch, maxima);
    if (st != BCDI_OK) return st;
    for (size_t r = 0; r < batch; ++r)
        thresholds[r] = (float)(relative[r] * (rms_of_rho ? rms_of_rho[r] : (double)maxima[r]));
    st = ops->threshold(ws->be, ws->support, value, n, batch, thresholds, only_shrink);
    if (st == BCDI_OK && counts) st = ops->count_nonzero(ws->be, ws->support, n, batch, counts);
    return st;
}
