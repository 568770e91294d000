/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, the diffraction summary: centre of mass, integrated intensity, Gaussian fits of
 * the box profiles, 2θ and d of the centre of mass, the oversampling ratio from the
 * autocorrelation; and the summary as a table for people. */
#include "prep/prep_internal.h"

#include "backend/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Masked voxels of the crop (gaps, a saturated core, padding), as zeros, would multiply the
 * pattern by a mask whose own transform spreads the autocorrelation (a masked peak alone adds
 * a floor of its share of the counts at every lag). Fill them: first from the Friedel partner
 * about the peak (I(q) ≈ I(−q), exact for an unstrained crystal) when it was measured, then
 * from the mean of their known 6-neighbours, sweep after sweep (a diffusion-like inpainting,
 * enough for an extent estimate). */
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
    /* Friedel partners: the peak sits at shape/2, i.e. crop/2 of the crop */
    for (size_t i0 = 0; unknown && i0 < crop[0]; i0++)
        for (size_t i1 = 0; i1 < crop[1]; i1++)
            for (size_t i2 = 0; i2 < crop[2]; i2++) {
                size_t i = (i0 * crop[1] + i1) * crop[2] + i2;
                size_t idx[3] = {i0, i1, i2}, j[3];
                int inside = !known[i];
                for (int a = 0; inside && a < 3; a++) {
                    j[a] = 2 * (crop[a] / 2) - idx[a];
                    inside = idx[a] <= 2 * (crop[a] / 2) && j[a] < crop[a];
                }
                if (!inside) continue;
                size_t partner = (j[0] * crop[1] + j[1]) * crop[2] + j[2];
                if (known[partner] == 1) {
                    buf[i].re = buf[partner].re;
                    known[i] = 3; /* from its partner: not a source for other partners */
                    unknown--;
                }
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
                            if (known[jj] == 1 || known[jj] == 3) {
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

/* Where the profile p[0..half-1] (p[k] at lag k, walking one way) falls through `level`:
 * the fractional lag by linear interpolation between the last lag above it and the next;
 * -1 when it never does inside the window. */
static double crossing(const double *p, size_t count, size_t half, int backwards, double level)
{
#define LAG(k) p[backwards ? (count - (k)) % count : (k)]
    size_t k = 0;
    while (k + 1 < half && LAG(k + 1) > level)
        k++;
    if (k + 1 >= half) return -1.0;
    double above = LAG(k), below = LAG(k + 1);
    return (double)k + (above > below ? (above - level) / (above - below) : 0.0);
#undef LAG
}

bcdi_status bcdi_prepare_oversampling(const size_t shape[3], const float *intensity,
                                      const uint8_t *mask, double threshold, double ratio[3])
{
    /* the central part of reciprocal space keeps the autocorrelation's extent (at a coarser
     * real-space resolution: one lag of the crop is shape/crop voxels), so a 128³ crop
     * measures it at a small cost */
    size_t crop[3], start[3];
    for (int a = 0; a < 3; a++) {
        crop[a] = shape[a] < BCDI_OVERSAMPLING_CROP ? shape[a] : BCDI_OVERSAMPLING_CROP;
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
        size_t half = crop[a] / 2;
        /* an object of L voxels has an autocorrelation over lags −(L−1)..L−1; where it falls
         * through the level between lag L−1 and L, the crossing is ≈ L − 1/2 */
        double right = crossing(p, crop[a], half, 0, level);
        double left = crossing(p, crop[a], half, 1, level);
        /* still above the level at the window's edge: the autocorrelation wraps around, so
         * the object fills at least half the window and the ratio is at most 2 */
        if (right < 0.0 || left < 0.0) {
            ratio[a] = 2.0;
            continue;
        }
        double width = 0.5 * (left + right) + 0.5;
        ratio[a] = (double)crop[a] / width;
    }
done:
    free(profile);
    if (plan) be->ops->fft_destroy(plan);
    if (buf) be->ops->free(be, buf);
    bcdi_backend_close(be);
    return st;
}

/* Centre of mass, integrated intensity and Gaussian fits of the box profiles; 2θ and d. */
bcdi_status prep_summarise(prep_ctx *c, const float *I, const uint8_t *M, const size_t S[3],
                           const long origin[3], const bcdi_geometry *g_unbinned,
                           const long reference[2], bcdi_diffraction_summary *s)
{
    double *prof[3];
    for (int a = 0; a < 3; a++)
        if (!(prof[a] = calloc(S[a], sizeof(double)))) {
            for (int b = 0; b < a; b++)
                free(prof[b]);
            return bcdi_error(BCDI_ERR_NOMEM, "prepare: out of memory");
        }
    double total = 0.0, m[3] = {0, 0, 0};
    for (size_t i0 = 0; i0 < S[0]; i0++)
        for (size_t i1 = 0; i1 < S[1]; i1++)
            for (size_t i2 = 0; i2 < S[2]; i2++) {
                size_t i = (i0 * S[1] + i1) * S[2] + i2;
                if (M[i]) continue;
                double v = I[i];
                total += v;
                m[0] += v * (double)i0;
                m[1] += v * (double)i1;
                m[2] += v * (double)i2;
                prof[0][i0] += v;
                prof[1][i1] += v;
                prof[2][i2] += v;
            }
    s->integrated_intensity = total;
    for (int a = 0; a < 3; a++)
        s->centre_of_mass[a] = (total > 0 ? m[a] / total : 0.0) + (double)origin[a];
    s->com_rocking_deg = prep_rocking_at(c, s->centre_of_mass[0]);
    s->peak_rocking_deg = prep_rocking_at(c, (double)s->peak[0]);
    bcdi_status st = BCDI_OK;
    for (int a = 0; a < 3 && st == BCDI_OK; a++) {
        st = bcdi_gauss_fit_profile(prof[a], S[a], &s->profile[a]);
        s->profile[a].centre += (double)origin[a];
    }
    for (int a = 0; a < 3; a++)
        free(prof[a]);
    if (st != BCDI_OK) return st;
    s->rocking_fwhm_deg = s->profile[0].fwhm * fabs(g_unbinned->rocking_step_deg);
    s->rocking_fwhm_err_deg = s->profile[0].fwhm_err * fabs(g_unbinned->rocking_step_deg);
    /* 2θ of the centre of mass: the ray from the sample to that pixel */
    double d_hat[3], r_hat[3], c_hat[3], p[3];
    prep_detector_vectors(g_unbinned, d_hat, r_hat, c_hat);
    double dr = (s->centre_of_mass[1] - (double)reference[0]) * g_unbinned->pixel_size_m[0];
    double dc = (s->centre_of_mass[2] - (double)reference[1]) * g_unbinned->pixel_size_m[1];
    for (int i = 0; i < 3; i++)
        p[i] = g_unbinned->distance_m * d_hat[i] + dr * r_hat[i] + dc * c_hat[i];
    double norm = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    s->two_theta_deg = acos(p[2] / norm) * 180.0 / BCDI_PI;
    double sin_theta = sin(0.5 * s->two_theta_deg * BCDI_PI / 180.0);
    s->d_spacing_m = sin_theta > 0 ? g_unbinned->wavelength_m / (2.0 * sin_theta) : 0.0;
    return BCDI_OK;
}

void bcdi_diffraction_summary_print(FILE *f, const bcdi_prepared *p)
{
    const bcdi_diffraction_summary *s = &p->summary;
    const bcdi_geometry *g = &p->geometry;
    fprintf(f, "Diffraction summary (pixels in input coordinates: frame, row, column)\n");
    fprintf(f, "  %-26s %14s %14s %14s\n", "", "rocking", "rows", "columns");
    fprintf(f, "  %-26s %14ld %14ld %14ld\n", "peak pixel", s->peak[0], s->peak[1], s->peak[2]);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "centre of mass", s->centre_of_mass[0],
            s->centre_of_mass[1], s->centre_of_mass[2]);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "Gaussian centre", s->profile[0].centre,
            s->profile[1].centre, s->profile[2].centre);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "  uncertainty (1 sigma)",
            s->profile[0].centre_err, s->profile[1].centre_err, s->profile[2].centre_err);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "Gaussian FWHM (pixels)", s->profile[0].fwhm,
            s->profile[1].fwhm, s->profile[2].fwhm);
    fprintf(f, "  %-26s %14.3f %14.3f %14.3f\n", "  uncertainty (1 sigma)", s->profile[0].fwhm_err,
            s->profile[1].fwhm_err, s->profile[2].fwhm_err);
    fprintf(f, "  %-26s %14.2f %14.2f %14.2f\n", "oversampling ratio", s->oversampling[0],
            s->oversampling[1], s->oversampling[2]);
    fprintf(f, "  %-26s %14zu %14zu %14zu\n", "prepared shape", p->shape[0], p->shape[1],
            p->shape[2]);
    fprintf(f, "  %-26s %14ld %14ld %14ld\n", "box origin (unbinned)", p->box_origin[0],
            p->box_origin[1], p->box_origin[2]);
    fprintf(f, "  %-26s %14zu %14zu %14zu\n", "bin", p->bin[0], p->bin[1], p->bin[2]);
    fprintf(f, "  %-26s %14.2f %14.2f %14.2f\n", "voxel size (nm)", g->voxel_size_m[0] * 1e9,
            g->voxel_size_m[1] * 1e9, g->voxel_size_m[2] * 1e9);
    fprintf(f, "  %-26s %.6f deg (centre of mass %.6f deg, FWHM %.5f ± %.5f deg)\n",
            "rocking angle at peak", s->peak_rocking_deg, s->com_rocking_deg, s->rocking_fwhm_deg,
            s->rocking_fwhm_err_deg);
    fprintf(f, "  %-26s %.6g photons (peak voxel %.6g)\n", "integrated intensity",
            s->integrated_intensity, s->peak_intensity);
    fprintf(f, "  %-26s %.4f deg -> d = %.5f A (%.4g keV)\n", "2theta of centre of mass",
            s->two_theta_deg, s->d_spacing_m * 1e10, g->energy_kev);
    fprintf(f, "  %-26s %zu of %zu voxels (%.3f%%)\n", "masked", s->masked_voxels, s->voxels,
            s->voxels ? 100.0 * (double)s->masked_voxels / (double)s->voxels : 0.0);
}
