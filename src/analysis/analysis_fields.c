/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-voxel fields: automatic threshold, phase ramp and offset, strain from the complex field,
 * statistics, blur. Every phase derivative is taken as arg(ρ(r+h)·conj ρ(r)), so 2π wraps never
 * enter a fit or a derivative (docs/physics.md §4). */
#include "analysis_internal.h"

#include "num/percentile.h"

#include <stdlib.h>
#include <string.h>

double bcdi_analysis_auto_threshold(const float *amplitude, size_t n)
{
    enum { BINS = 256 };
    double peak = 0.0;
    for (size_t v = 0; v < n; ++v)
        if (amplitude[v] > peak) peak = amplitude[v];
    if (!(peak > 0.0)) return 0.3;
    /* Otsu on the amplitudes above 5% of the max: the empty box around a crystal would
     * otherwise dominate the histogram and pull the threshold to the noise floor. */
    double hist[BINS] = {0};
    double total = 0.0;
    for (size_t v = 0; v < n; ++v) {
        double rel = amplitude[v] / peak;
        if (rel < 0.05) continue;
        int bin = (int)(rel * BINS);
        if (bin >= BINS) bin = BINS - 1;
        hist[bin] += 1.0;
        total += 1.0;
    }
    if (total < 2.0) return 0.3;
    double sum_all = 0.0;
    for (int b = 0; b < BINS; ++b)
        sum_all += hist[b] * (b + 0.5);
    double w0 = 0.0, sum0 = 0.0, best = -1.0;
    int best_bin = (int)(0.3 * BINS);
    for (int b = 0; b < BINS - 1; ++b) {
        w0 += hist[b];
        sum0 += hist[b] * (b + 0.5);
        double w1 = total - w0;
        if (w0 <= 0.0 || w1 <= 0.0) continue;
        double m0 = sum0 / w0, m1 = (sum_all - sum0) / w1;
        double between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if (between > best) best = between, best_bin = b;
    }
    return (best_bin + 1.0) / BINS;
}

bcdi_status bcdi_analysis_fit_ramp(const size_t shape[3], const bcdi_cf *object,
                                   const uint8_t *support, double ramp[3])
{
    const size_t n1 = shape[1], n2 = shape[2];
    const size_t stride[3] = {n1 * n2, n2, 1};
    for (int a = 0; a < 3; ++a) {
        double weighted = 0.0, weights = 0.0;
#pragma omp parallel for reduction(+ : weighted, weights) schedule(static)
        for (long i0 = 0; i0 < (long)shape[0]; ++i0) {
            for (size_t i1 = 0; i1 < n1; ++i1) {
                for (size_t i2 = 0; i2 < n2; ++i2) {
                    size_t idx[3] = {(size_t)i0, i1, i2};
                    if (idx[a] + 1 >= shape[a]) continue;
                    size_t v = (size_t)i0 * stride[0] + i1 * n2 + i2, w = v + stride[a];
                    if (!support[v] || !support[w]) continue;
                    double weight = ana_abs(object[v]) * ana_abs(object[w]);
                    weighted += weight * ana_phase_diff(object[w], object[v]);
                    weights += weight;
                }
            }
        }
        ramp[a] = weights > 0.0 ? weighted / weights : 0.0;
    }
    return BCDI_OK;
}

void bcdi_analysis_apply_ramp(const size_t shape[3], bcdi_cf *object, const double ramp[3],
                              double offset)
{
    const double c0 = (double)(shape[0] / 2), c1 = (double)(shape[1] / 2),
                 c2 = (double)(shape[2] / 2);
#pragma omp parallel for schedule(static)
    for (long i0 = 0; i0 < (long)shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t v = ((size_t)i0 * shape[1] + i1) * shape[2] + i2;
                double phase = ramp[0] * ((double)i0 - c0) + ramp[1] * ((double)i1 - c1) +
                               ramp[2] * ((double)i2 - c2) + offset;
                double c = cos(phase), s = sin(phase);
                double re = object[v].re, im = object[v].im;
                object[v].re = (float)(re * c + im * s);
                object[v].im = (float)(im * c - re * s);
            }
}

double bcdi_analysis_phase_reference(const size_t shape[3], const bcdi_cf *object,
                                     const uint8_t *support, bcdi_phase_ref ref)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    if (ref == BCDI_PHASE_REF_NONE) return 0.0;
    if (ref == BCDI_PHASE_REF_MEAN) {
        /* arg Σρ: the amplitude-weighted circular mean, blind to wraps */
        double re = 0.0, im = 0.0;
        for (size_t v = 0; v < n; ++v)
            if (support[v]) re += object[v].re, im += object[v].im;
        return (re == 0.0 && im == 0.0) ? 0.0 : atan2(im, re);
    }
    double com[3] = {0, 0, 0}, mass = 0.0;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t v = (i0 * shape[1] + i1) * shape[2] + i2;
                if (!support[v]) continue;
                double m = ana_abs(object[v]);
                com[0] += m * (double)i0, com[1] += m * (double)i1, com[2] += m * (double)i2;
                mass += m;
            }
    if (!(mass > 0.0)) return 0.0;
    long c[3];
    for (int a = 0; a < 3; ++a)
        c[a] = lround(com[a] / mass);
    size_t centre = ((size_t)c[0] * shape[1] + (size_t)c[1]) * shape[2] + (size_t)c[2];
    double peak = 0.0;
    for (size_t v = 0; v < n; ++v)
        if (support[v]) peak = fmax(peak, ana_abs(object[v]));
    /* the voxel itself, unless it sits in a dip (a vortex core): then the 3×3×3 mean (which a
     * steep gradient would cancel, hence not the first choice) */
    if (ana_abs(object[centre]) >= 0.5 * peak) return atan2(object[centre].im, object[centre].re);
    double re = 0.0, im = 0.0;
    for (long d0 = -1; d0 <= 1; ++d0)
        for (long d1 = -1; d1 <= 1; ++d1)
            for (long d2 = -1; d2 <= 1; ++d2) {
                long i0 = c[0] + d0, i1 = c[1] + d1, i2 = c[2] + d2;
                if (i0 < 0 || i1 < 0 || i2 < 0 || i0 >= (long)shape[0] || i1 >= (long)shape[1] ||
                    i2 >= (long)shape[2])
                    continue;
                size_t v = ((size_t)i0 * shape[1] + (size_t)i1) * shape[2] + (size_t)i2;
                re += object[v].re, im += object[v].im;
            }
    return (re == 0.0 && im == 0.0) ? 0.0 : atan2(im, re);
}

void bcdi_analysis_strain(const size_t shape[3], const bcdi_cf *object, const uint8_t *support,
                          const double basis_m[3][3], const double g_hat[3], double g_norm,
                          float *strain, uint8_t *valid)
{
    /* index derivatives d_a = ∂u/∂i_a = T_a·∇u, so ∇u = T^{-T} d and ε = Ĝ·T^{-T} d = (T^{-1}Ĝ)·d
     */
    double inv[3][3];
    bcdi_mat3_inverse(basis_m, inv);
    double weight[3];
    bcdi_mat3_apply(inv, g_hat, weight);
    const size_t n1 = shape[1], n2 = shape[2];
    const size_t stride[3] = {n1 * n2, n2, 1};
#pragma omp parallel for schedule(static)
    for (long i0 = 0; i0 < (long)shape[0]; ++i0)
        for (size_t i1 = 0; i1 < n1; ++i1)
            for (size_t i2 = 0; i2 < n2; ++i2) {
                size_t v = (size_t)i0 * stride[0] + i1 * n2 + i2;
                strain[v] = 0.0f;
                valid[v] = 0;
                if (!support[v]) continue;
                size_t idx[3] = {(size_t)i0, i1, i2};
                double eps = 0.0;
                int ok = 1;
                for (int a = 0; a < 3 && ok; ++a) {
                    if (weight[a] == 0.0) continue;
                    int up = idx[a] + 1 < shape[a] && support[v + stride[a]];
                    int down = idx[a] > 0 && support[v - stride[a]];
                    double dphi;
                    if (up && down)
                        dphi = 0.5 * ana_phase_diff(object[v + stride[a]], object[v - stride[a]]);
                    else if (up)
                        dphi = ana_phase_diff(object[v + stride[a]], object[v]);
                    else if (down)
                        dphi = ana_phase_diff(object[v], object[v - stride[a]]);
                    else {
                        ok = 0;
                        break;
                    }
                    /* u = −φ/|G| (basis in m, |G| in 1/m: the ratio is dimensionless) */
                    eps += weight[a] * (-dphi / g_norm);
                }
                if (!ok) continue;
                strain[v] = (float)eps;
                valid[v] = 1;
            }
}

bcdi_status bcdi_stats_compute(const float *values, const uint8_t *mask, size_t n, bcdi_stats *out)
{
    memset(out, 0, sizeof(*out));
    float *sorted;
    size_t count;
    bcdi_status st = bcdi_sorted_masked(values, mask, n, &sorted, &count);
    if (st != BCDI_OK || count == 0) return st;
    double sum = 0.0;
    for (size_t v = 0; v < n; ++v)
        if (!mask || mask[v]) sum += values[v];
    double mean = sum / (double)count, sq = 0.0;
    for (size_t i = 0; i < count; ++i)
        sq += (sorted[i] - mean) * (sorted[i] - mean);
    out->count = count;
    out->mean = mean;
    out->std = sqrt(sq / (double)count);
    out->min = sorted[0];
    out->max = sorted[count - 1];
    out->p05 = bcdi_percentile_sorted(sorted, count, 5.0);
    out->p95 = bcdi_percentile_sorted(sorted, count, 95.0);
    free(sorted);
    return BCDI_OK;
}
