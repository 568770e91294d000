/* Building blocks of `prepare`: FFT-friendly sizes, binning, Gaussian profile fits and the
 * oversampling ratio from the autocorrelation. */
#include "bcdi/prepare.h"

#include "backend/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t bcdi_prepare_good_size(size_t n)
{
    size_t m = n < 2 ? 2 : n + (n & 1);
    for (;; m += 2) {
        size_t r = m;
        for (size_t p = 2; p <= 7; p++)
            while (r % p == 0)
                r /= p;
        if (r == 1) return m;
    }
}

bcdi_status bcdi_prepare_bin(const size_t shape[3], const float *intensity, const uint8_t *mask,
                             const size_t bin[3], size_t out_shape[3], float **out_intensity,
                             uint8_t **out_mask)
{
    for (int a = 0; a < 3; a++)
        if (!bin[a] || !shape[a] || shape[a] % bin[a])
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "binning: axis %d of length %zu is not a "
                              "multiple of the bin %zu",
                              a, shape[a], bin[a]);
    size_t o0 = shape[0] / bin[0], o1 = shape[1] / bin[1], o2 = shape[2] / bin[2];
    size_t n = o0 * o1 * o2;
    float *I = calloc(n, sizeof *I);
    uint8_t *m = calloc(n, 1);
    if (!I || !m) {
        free(I);
        free(m);
        return bcdi_error(BCDI_ERR_NOMEM, "binning: cannot allocate %zu voxels", n);
    }
    /* sums in double per output voxel would need a second array; float partial sums of up to
     * bin0·bin1·bin2 terms lose nothing measurable for photon counts */
    for (size_t i0 = 0; i0 < shape[0]; i0++)
        for (size_t i1 = 0; i1 < shape[1]; i1++) {
            size_t in_row = (i0 * shape[1] + i1) * shape[2];
            size_t out_row = ((i0 / bin[0]) * o1 + i1 / bin[1]) * o2;
            for (size_t i2 = 0; i2 < shape[2]; i2++) {
                I[out_row + i2 / bin[2]] += intensity[in_row + i2];
                if (mask && mask[in_row + i2]) m[out_row + i2 / bin[2]] = 1;
            }
        }
    out_shape[0] = o0;
    out_shape[1] = o1;
    out_shape[2] = o2;
    *out_intensity = I;
    *out_mask = m;
    return BCDI_OK;
}

static double gauss_model(const double p[4], double x, double grad[4])
{
    double s = p[2], d = x - p[1];
    double e = exp(-d * d / (2.0 * s * s));
    if (grad) {
        grad[0] = e;
        grad[1] = p[0] * e * d / (s * s);
        grad[2] = p[0] * e * d * d / (s * s * s);
        grad[3] = 1.0;
    }
    return p[3] + p[0] * e;
}

static double residual(const double p[4], const double *y, size_t n)
{
    double r = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = y[i] - gauss_model(p, (double)i, NULL);
        r += d * d;
    }
    return r;
}

/* Solve the 4x4 system a·x = b by Gaussian elimination with partial pivoting. */
static int solve4(double a[4][4], double b[4], double x[4])
{
    for (int c = 0; c < 4; c++) {
        int piv = c;
        for (int r = c + 1; r < 4; r++)
            if (fabs(a[r][c]) > fabs(a[piv][c])) piv = r;
        if (!(fabs(a[piv][c]) > 0.0)) return 0;
        if (piv != c) {
            for (int k = 0; k < 4; k++) {
                double t = a[c][k];
                a[c][k] = a[piv][k];
                a[piv][k] = t;
            }
            double t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (int r = c + 1; r < 4; r++) {
            double f = a[r][c] / a[c][c];
            for (int k = c; k < 4; k++)
                a[r][k] -= f * a[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int r = 3; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < 4; k++)
            s -= a[r][k] * x[k];
        x[r] = s / a[r][r];
    }
    return 1;
}

bcdi_status bcdi_gauss_fit_profile(const double *y, size_t n, bcdi_gauss_fit *fit)
{
    const double fwhm_per_sigma = 2.0 * sqrt(2.0 * log(2.0));
    memset(fit, 0, sizeof *fit);
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
    double p[4] = {amp, (double)imax, fmax(0.5, (double)above / fwhm_per_sigma), bg};
    fit->amplitude = p[0];
    fit->centre = p[1];
    fit->sigma = p[2];
    fit->background = p[3];
    fit->fwhm = p[2] * fwhm_per_sigma;
    if (n < 4 || !(amp > 0.0))
        return BCDI_OK; /* nothing to fit: the moments stand, converged = 0 */
    double lambda = 1e-3, r = residual(p, y, n);
    int converged = 0;
    for (int it = 0; it < 200 && !converged; it++) {
        double jtj[4][4] = {{0}}, jtr[4] = {0};
        for (size_t i = 0; i < n; i++) {
            double g[4];
            double d = y[i] - gauss_model(p, (double)i, g);
            for (int a = 0; a < 4; a++) {
                jtr[a] += g[a] * d;
                for (int b = 0; b < 4; b++)
                    jtj[a][b] += g[a] * g[b];
            }
        }
        for (;;) {
            double a[4][4], b[4], step[4];
            memcpy(a, jtj, sizeof a);
            memcpy(b, jtr, sizeof b);
            for (int k = 0; k < 4; k++)
                a[k][k] *= 1.0 + lambda;
            if (!solve4(a, b, step)) {
                lambda *= 10.0;
                if (lambda > 1e12) break;
                continue;
            }
            double q[4] = {p[0] + step[0], p[1] + step[1], fabs(p[2] + step[2]), p[3] + step[3]};
            double rq = residual(q, y, n);
            if (rq <= r) {
                double change = fabs(r - rq) / (r > 0 ? r : 1.0);
                memcpy(p, q, sizeof p);
                r = rq;
                lambda = fmax(lambda * 0.3, 1e-12);
                if (change < 1e-10) converged = 1;
                break;
            }
            lambda *= 10.0;
            if (lambda > 1e12) {
                converged = 1; /* no step improves: we are at the minimum */
                break;
            }
        }
        if (lambda > 1e12) break;
    }
    if (!(p[2] > 0.0) || !isfinite(p[0]) || !isfinite(p[1]) || p[1] < -(double)n ||
        p[1] > 2.0 * (double)n)
        return BCDI_OK; /* a fit that ran away: keep the starting moments */
    fit->amplitude = p[0];
    fit->centre = p[1];
    fit->sigma = p[2];
    fit->background = p[3];
    fit->fwhm = p[2] * fwhm_per_sigma;
    fit->converged = 1;
    return BCDI_OK;
}

/* Replace masked voxels of the crop by the mean of their already known 6-neighbours, sweeping
 * until every voxel is known (a diffusion-like inpainting, enough for an extent estimate). */
static bcdi_status fill_masked(const size_t crop[3], const size_t start[3], const size_t shape[3],
                               const uint8_t *mask, bcdi_cf *buf)
{
    if (!mask) return BCDI_OK;
    size_t n = crop[0] * crop[1] * crop[2], unknown = 0;
    uint8_t *known = malloc(n);
    if (!known) return bcdi_error(BCDI_ERR_NOMEM, "oversampling: out of memory");
    for (size_t i0 = 0; i0 < crop[0]; i0++)
        for (size_t i1 = 0; i1 < crop[1]; i1++)
            for (size_t i2 = 0; i2 < crop[2]; i2++) {
                size_t src =
                    ((start[0] + i0) * shape[1] + start[1] + i1) * shape[2] + start[2] + i2;
                size_t i = (i0 * crop[1] + i1) * crop[2] + i2;
                known[i] = !mask[src];
                unknown += !known[i];
            }
    if (unknown == n) {
        memset(known, 1, n); /* nothing measured: leave zeros */
        unknown = 0;
    }
    while (unknown) {
        size_t before = unknown;
        for (size_t i0 = 0; i0 < crop[0]; i0++)
            for (size_t i1 = 0; i1 < crop[1]; i1++)
                for (size_t i2 = 0; i2 < crop[2]; i2++) {
                    size_t i = (i0 * crop[1] + i1) * crop[2] + i2;
                    if (known[i]) continue;
                    double s = 0.0;
                    int k = 0;
                    long idx[3] = {(long)i0, (long)i1, (long)i2};
                    for (int a = 0; a < 3; a++)
                        for (int d = -1; d <= 1; d += 2) {
                            long j[3] = {idx[0], idx[1], idx[2]};
                            j[a] += d;
                            if (j[a] < 0 || j[a] >= (long)crop[a]) continue;
                            size_t jj =
                                ((size_t)j[0] * crop[1] + (size_t)j[1]) * crop[2] + (size_t)j[2];
                            if (known[jj] == 1) {
                                s += buf[jj].re;
                                k++;
                            }
                        }
                    if (k) {
                        buf[i].re = (float)(s / k);
                        known[i] = 2; /* filled in this sweep: a source only from the next */
                        unknown--;
                    }
                }
        for (size_t i = 0; i < n; i++)
            if (known[i] == 2) known[i] = 1;
        if (unknown == before) break;
    }
    free(known);
    return BCDI_OK;
}

bcdi_status bcdi_prepare_oversampling(const size_t shape[3], const float *intensity,
                                      const uint8_t *mask, double threshold, double ratio[3])
{
    /* the central part of reciprocal space keeps the autocorrelation's extent (at a coarser
     * real-space resolution), so a 64³ crop measures it at a small cost */
    size_t crop[3], start[3];
    for (int a = 0; a < 3; a++) {
        crop[a] = shape[a] < 64 ? shape[a] : 64;
        start[a] = shape[a] / 2 - crop[a] / 2;
        ratio[a] = 0.0;
    }
    size_t n = crop[0] * crop[1] * crop[2];
    bcdi_backend *be = NULL;
    bcdi_status st = bcdi_backend_cpu_open(&be);
    if (st != BCDI_OK) return st;
    bcdi_cf *buf = NULL;
    bcdi_fft *plan = NULL;
    double *profile = NULL;
    /* CPU backend pointers are host pointers */
    if ((st = be->ops->alloc(be, n * sizeof *buf, (void **)&buf)) != BCDI_OK) goto done;
    for (size_t i0 = 0; i0 < crop[0]; i0++)
        for (size_t i1 = 0; i1 < crop[1]; i1++)
            for (size_t i2 = 0; i2 < crop[2]; i2++) {
                size_t src =
                    ((start[0] + i0) * shape[1] + start[1] + i1) * shape[2] + start[2] + i2;
                float v = (mask && mask[src]) ? 0.0f : intensity[src];
                buf[(i0 * crop[1] + i1) * crop[2] + i2] = (bcdi_cf){v, 0.0f};
            }
    /* masked voxels (saturated peak, gaps, padding) as zeros would punch holes whose own
     * transform is broad and hides the extent: fill them from their measured neighbours */
    if ((st = fill_masked(crop, start, shape, mask, buf)) != BCDI_OK) goto done;
    if ((st = be->ops->fft_create(be, crop, 1, &plan)) != BCDI_OK ||
        (st = be->ops->fft_inverse(plan, buf, buf)) != BCDI_OK)
        goto done;
    size_t longest = crop[0] > crop[1] ? crop[0] : crop[1];
    longest = longest > crop[2] ? longest : crop[2];
    if (!(profile = calloc(3 * longest, sizeof *profile))) {
        st = bcdi_error(BCDI_ERR_NOMEM, "oversampling: out of memory");
        goto done;
    }
    /* maximum projection of |autocorrelation| onto each axis (zero lag at index 0) */
    for (size_t i0 = 0; i0 < crop[0]; i0++)
        for (size_t i1 = 0; i1 < crop[1]; i1++)
            for (size_t i2 = 0; i2 < crop[2]; i2++) {
                bcdi_cf c = buf[(i0 * crop[1] + i1) * crop[2] + i2];
                double m = sqrt((double)c.re * c.re + (double)c.im * c.im);
                size_t idx[3] = {i0, i1, i2};
                for (int a = 0; a < 3; a++)
                    if (m > profile[a * longest + idx[a]]) profile[a * longest + idx[a]] = m;
            }
    for (int a = 0; a < 3; a++) {
        const double *p = profile + a * longest;
        double level = threshold * p[0];
        size_t half = crop[a] / 2, right = 0, left = 0;
        /* walk outwards from zero lag (periodic) while the projection stays above the level */
        while (right + 1 < half && p[right + 1] > level)
            right++;
        while (left + 1 < half && p[(crop[a] - left - 1) % crop[a]] > level)
            left++;
        double extent = (double)(left + right + 1);
        /* still above the level at the window's edge: the autocorrelation wraps around, so
         * the true extent is at least the window and the ratio at most 2 */
        if (right + 1 >= half || left + 1 >= half) extent = (double)crop[a];
        ratio[a] = 2.0 * (double)crop[a] / extent;
    }
done:
    free(profile);
    if (plan) be->ops->fft_destroy(plan);
    if (buf) be->ops->free(be, buf);
    bcdi_backend_close(be);
    return st;
}
