/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, the Gaussian profile fit of the diffraction summary: y = b + a·exp(−(x − c)²/2σ²)
 * by Levenberg-Marquardt (MINPACK's lmder, through cminpack), started from the profile's
 * moments, with 1σ parameter uncertainties from the covariance at the optimum
 * (σ_res²·(JᵀJ)⁻¹, σ_res² = Σ residuals² / (n − 4): the scatter of the profile about the fit
 * stands in for its noise). */
#include "bcdi/prepare.h"

#include <cminpack.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIT_PARAMS 4 /* amplitude, centre, sigma, background */
/* MINPACK's drivers allow 200·(parameters + 1) evaluations; long profiles get fewer
 * (BCDI_GAUSS_FIT_WORK), never under 200 (a noisy sub-sample peak, σ = 0.3, took up to 134) */
#define FIT_MAX_EVALUATIONS (200 * (FIT_PARAMS + 1))
#define FIT_MIN_EVALUATIONS 200

typedef struct {
    const double *y;
} fit_data;

/* MINPACK's callback: residuals model − y (iflag 1) or their Jacobian, column-major (iflag 2). */
static int gauss_residuals(void *user, int m, int n, const double *p, double *fvec, double *fjac,
                           int ldfjac, int iflag)
{
    (void)n;
    const fit_data *d = user;
    double a = p[0], c = p[1], s = p[2], b = p[3];
    if (!(s != 0.0) || !isfinite(s)) return -1; /* stop: a degenerate width */
    for (int i = 0; i < m; i++) {
        double x = (double)i - c, e = exp(-x * x / (2.0 * s * s));
        if (iflag == 1) {
            fvec[i] = b + a * e - d->y[i];
        } else if (iflag == 2) {
            fjac[i + 0 * ldfjac] = e;
            fjac[i + 1 * ldfjac] = a * e * x / (s * s);
            fjac[i + 2 * ldfjac] = a * e * x * x / (s * s * s);
            fjac[i + 3 * ldfjac] = 1.0;
        }
    }
    return 0;
}

static void set_fit(bcdi_gauss_fit *fit, const double p[FIT_PARAMS])
{
    const double fwhm_per_sigma = 2.0 * sqrt(2.0 * log(2.0));
    fit->amplitude = p[0];
    fit->centre = p[1];
    fit->sigma = fabs(p[2]);
    fit->background = p[3];
    fit->fwhm = fit->sigma * fwhm_per_sigma;
}

bcdi_status bcdi_gauss_fit_profile(const double *y, size_t n, bcdi_gauss_fit *fit)
{
    const double fwhm_per_sigma = 2.0 * sqrt(2.0 * log(2.0));
    memset(fit, 0, sizeof *fit);
    fit->amplitude_err = fit->centre_err = fit->sigma_err = fit->background_err = fit->fwhm_err =
        NAN;
    if (!y || n == 0) return bcdi_error(BCDI_ERR_INVALID_ARG, "Gaussian fit: empty profile");
    /* start: background = minimum, centre = maximum, σ from the half-maximum width */
    size_t imax = 0, imin = 0;
    for (size_t i = 1; i < n; i++) {
        if (y[i] > y[imax]) imax = i;
        if (y[i] < y[imin]) imin = i;
    }
    double bg = y[imin], amp = y[imax] - bg;
    size_t above = 0;
    for (size_t i = 0; i < n; i++)
        if (y[i] - bg >= 0.5 * amp) above++;
    double p[FIT_PARAMS] = {amp, (double)imax, fmax(0.5, (double)above / fwhm_per_sigma), bg};
    set_fit(fit, p);
    /* nothing to fit (a flat or too short profile): the moments stand, converged = 0 */
    if (n < FIT_PARAMS || !(amp > 0.0) || n > (size_t)INT_MAX) return BCDI_OK;
    int m = (int)n, ipvt[FIT_PARAMS], nfev = 0, njev = 0;
    double *fvec = malloc(n * sizeof *fvec), *fjac = malloc(n * FIT_PARAMS * sizeof *fjac);
    double *wa4 = malloc(n * sizeof *wa4);
    double diag[FIT_PARAMS], qtf[FIT_PARAMS], wa1[FIT_PARAMS], wa2[FIT_PARAMS], wa3[FIT_PARAMS];
    if (!fvec || !fjac || !wa4) {
        free(fvec), free(fjac), free(wa4);
        return bcdi_error(BCDI_ERR_NOMEM, "Gaussian fit: out of memory");
    }
    fit_data data = {y};
    /* tolerances as MINPACK's drivers advise (sqrt of the machine precision); mode 1 scales
     * the parameters by the Jacobian's column norms (amplitude and pixels differ by 1e6) */
    const double tol = sqrt(dpmpar(1));
    /* the evaluation limit shrinks with the profile's length (BCDI_GAUSS_FIT_WORK): a
     * one-sample spike, which converges only after ~740 evaluations towards σ = 0.026, must
     * not cost a long box seconds: past 270 samples it stops at the limit, moments kept */
    int max_evaluations = BCDI_GAUSS_FIT_WORK / m;
    max_evaluations = max_evaluations < FIT_MIN_EVALUATIONS   ? FIT_MIN_EVALUATIONS
                      : max_evaluations > FIT_MAX_EVALUATIONS ? FIT_MAX_EVALUATIONS
                                                              : max_evaluations;
    int info =
        lmder(gauss_residuals, &data, m, FIT_PARAMS, p, fvec, fjac, m, tol, tol, 0.0,
              max_evaluations, diag, 1, 100.0, 0, &nfev, &njev, ipvt, qtf, wa1, wa2, wa3, wa4);
    fit->evaluations = nfev;
    /* 1-4: a tolerance met; 6-8: no further improvement is possible (at the optimum to the
     * machine's precision); 0, 5, < 0: not converged */
    int converged = (info >= 1 && info <= 4) || (info >= 6 && info <= 8);
    int sane = converged && isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]) && isfinite(p[3]) &&
               p[2] != 0.0 && p[1] >= -(double)n && p[1] <= 2.0 * (double)n;
    if (sane) {
        set_fit(fit, p);
        fit->converged = 1;
        /* covariance: on return fjac's upper n x n holds R of J·P = Q·R; covar1 turns it into
         * σ_res²·(JᵀJ)⁻¹ (a pseudo-inverse when J lost rank, then its return is the rank) */
        double fnorm = enorm(m, fvec);
        int rank = covar1(m, FIT_PARAMS, fnorm * fnorm, fjac, m, ipvt, tol, wa1);
        if (rank == 0 && m > FIT_PARAMS) {
            double *err[FIT_PARAMS] = {&fit->amplitude_err, &fit->centre_err, &fit->sigma_err,
                                       &fit->background_err};
            for (int k = 0; k < FIT_PARAMS; k++) {
                double var = fjac[k + k * m];
                *err[k] = var >= 0.0 && isfinite(var) ? sqrt(var) : NAN;
            }
            fit->fwhm_err = fit->sigma_err * fwhm_per_sigma;
        }
    }
    free(fvec), free(fjac), free(wa4);
    return BCDI_OK;
}
