/* SPDX-License-Identifier: BSD-3-Clause */
/* Many runs into one answer (phasing/combine.h): alignment onto the best run, average, modes
 * from the Gram matrix, reproducibility figures, and the small Hermitian eigen-solver. */
#include "phasing/combine.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Voxel sums are split into this many fixed blocks (each summed in order, then the blocks in
 * order): parallel, yet the same result for any thread count. */
#define COMBINE_BLOCKS 256

void bcdi_combine_default_options(bcdi_combine_options *opt)
{
    opt->allow_twin = 1;
    opt->upsample = 10;
    opt->support_threshold = 0.3;
}

/* n = n0 n1 n2 and count * n, refusing overflow. */
static bcdi_status stack_size(const size_t shape[3], size_t count, size_t *n, const char *who)
{
    if (!shape || !shape[0] || !shape[1] || !shape[2])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: empty shape", who);
    if (count == 0 || count > BCDI_COMBINE_MAX_RUNS)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: %zu runs, expected 1..%d", who, count,
                          BCDI_COMBINE_MAX_RUNS);
    size_t total, bytes;
    if (__builtin_mul_overflow(shape[0], shape[1], n) || __builtin_mul_overflow(*n, shape[2], n) ||
        __builtin_mul_overflow(*n, count, &total) ||
        __builtin_mul_overflow(total, sizeof(bcdi_cf), &bytes))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: %zu runs of %zu x %zu x %zu voxels overflow",
                          who, count, shape[0], shape[1], shape[2]);
    return BCDI_OK;
}

bcdi_status bcdi_combine_align(const size_t shape[3], size_t count, bcdi_cf *stack,
                               size_t reference, const bcdi_combine_options *opt,
                               bcdi_alignment *alignments)
{
    size_t n;
    bcdi_status st = stack_size(shape, count, &n, "combine: align");
    if (st != BCDI_OK) return st;
    if (reference >= count)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "combine: align: reference run %zu of %zu",
                          reference, count);
    bcdi_combine_options defaults;
    if (!opt) {
        bcdi_combine_default_options(&defaults);
        opt = &defaults;
    }
    const bcdi_cf *ref = stack + reference * n;
    for (size_t k = 0; k < count; ++k) {
        bcdi_alignment al = {.correlation = 1.0};
        if (k != reference) {
            st = bcdi_align(shape, ref, stack + k * n, opt->allow_twin, opt->upsample, &al);
            if (st != BCDI_OK) return bcdi_error_prefix(st, "combine: run %zu: ", k);
        }
        if (alignments) alignments[k] = al;
    }
    return BCDI_OK;
}

bcdi_status bcdi_combine_average(const size_t shape[3], size_t count, const bcdi_cf *stack,
                                 bcdi_cf *average)
{
    size_t n;
    bcdi_status st = stack_size(shape, count, &n, "combine: average");
    if (st != BCDI_OK) return st;
    double inv = 1.0 / (double)count;
#pragma omp parallel for schedule(static)
    for (long long r = 0; r < (long long)n; ++r) {
        double re = 0.0, im = 0.0;
        for (size_t k = 0; k < count; ++k) {
            re += stack[k * n + (size_t)r].re;
            im += stack[k * n + (size_t)r].im;
        }
        average[r].re = (float)(re * inv);
        average[r].im = (float)(im * inv);
    }
    return BCDI_OK;
}

/* G_ij = sum_r x_i(r) conj(x_j(r)), K x K, Hermitian (both halves filled). */
static bcdi_status gram_matrix(size_t count, size_t n, const bcdi_cf *stack, double complex *gram)
{
    size_t pairs = count * (count + 1) / 2;
    double complex *partial = calloc(COMBINE_BLOCKS * pairs, sizeof *partial);
    if (!partial) return bcdi_error(BCDI_ERR_NOMEM, "combine: out of memory for the Gram matrix");
#pragma omp parallel for schedule(dynamic, 1)
    for (long long b = 0; b < COMBINE_BLOCKS; ++b) {
        /* n < 2^56 for any array that fits in memory, so n * 256 cannot overflow */
        size_t lo = n * (size_t)b / COMBINE_BLOCKS, hi = n * (size_t)(b + 1) / COMBINE_BLOCKS;
        double complex *acc = partial + (size_t)b * pairs;
        size_t p = 0;
        for (size_t i = 0; i < count; ++i)
            for (size_t j = i; j < count; ++j, ++p) {
                const bcdi_cf *xi = stack + i * n, *xj = stack + j * n;
                double re = 0.0, im = 0.0;
                for (size_t r = lo; r < hi; ++r) {
                    re += (double)xi[r].re * xj[r].re + (double)xi[r].im * xj[r].im;
                    im += (double)xi[r].im * xj[r].re - (double)xi[r].re * xj[r].im;
                }
                acc[p] = re + I * im;
            }
    }
    size_t p = 0;
    for (size_t i = 0; i < count; ++i)
        for (size_t j = i; j < count; ++j, ++p) {
            double complex sum = 0.0;
            for (size_t b = 0; b < COMBINE_BLOCKS; ++b)
                sum += partial[b * pairs + p];
            gram[i * count + j] = sum;
            gram[j * count + i] = conj(sum);
        }
    free(partial);
    return BCDI_OK;
}

/* ---- Hermitian eigen-decomposition --------------------------------------------------------- */

bcdi_status bcdi_hermitian_eigen(size_t k, const double *a_in, double *values, double *vectors)
{
    if (k == 0 || k > 4096) return bcdi_error(BCDI_ERR_INVALID_ARG, "eigen: size %zu", k);
    double complex *a = malloc(k * k * sizeof *a), *v = calloc(k * k, sizeof *v);
    if (!a || !v) {
        free(a), free(v);
        return bcdi_error(BCDI_ERR_NOMEM, "eigen: out of memory");
    }
    double total = 0.0;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) {
            double complex aij = a_in[2 * (i * k + j)] + I * a_in[2 * (i * k + j) + 1];
            double complex aji = a_in[2 * (j * k + i)] + I * a_in[2 * (j * k + i) + 1];
            a[i * k + j] = 0.5 * (aij + conj(aji));
            total += creal(a[i * k + j] * conj(a[i * k + j]));
        }
    for (size_t i = 0; i < k; ++i)
        v[i * k + i] = 1.0;
    int converged = 0;
    for (int sweep = 0; sweep < 100 && !converged; ++sweep) {
        double off = 0.0;
        for (size_t p = 0; p < k; ++p)
            for (size_t q = p + 1; q < k; ++q)
                off += creal(a[p * k + q] * conj(a[p * k + q]));
        if (!(off > 1e-30 * total)) {
            converged = 1;
            break;
        }
        for (size_t p = 0; p < k; ++p)
            for (size_t q = p + 1; q < k; ++q) {
                double g = cabs(a[p * k + q]);
                if (g == 0.0) continue;
                /* D = diag(.., e^{-i phi} at q): a_pq becomes real and positive */
                double complex ph = conj(a[p * k + q]) / g;
                for (size_t r = 0; r < k; ++r) {
                    a[r * k + q] *= ph;
                    v[r * k + q] *= ph;
                }
                for (size_t r = 0; r < k; ++r)
                    a[q * k + r] *= conj(ph);
                /* then the real Jacobi rotation that zeroes a_pq */
                double app = creal(a[p * k + p]), aqq = creal(a[q * k + q]);
                double theta = (aqq - app) / (2.0 * g);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (size_t r = 0; r < k; ++r) {
                    double complex arp = a[r * k + p], arq = a[r * k + q];
                    a[r * k + p] = c * arp - s * arq;
                    a[r * k + q] = s * arp + c * arq;
                    double complex vrp = v[r * k + p], vrq = v[r * k + q];
                    v[r * k + p] = c * vrp - s * vrq;
                    v[r * k + q] = s * vrp + c * vrq;
                }
                for (size_t r = 0; r < k; ++r) {
                    double complex apr = a[p * k + r], aqr = a[q * k + r];
                    a[p * k + r] = c * apr - s * aqr;
                    a[q * k + r] = s * apr + c * aqr;
                }
                a[p * k + q] = a[q * k + p] = 0.0;
                a[p * k + p] = creal(a[p * k + p]);
                a[q * k + q] = creal(a[q * k + q]);
            }
    }
    if (!converged) {
        free(a), free(v);
        return bcdi_error(BCDI_ERR_INTERNAL, "eigen: Jacobi sweeps did not converge (k = %zu)", k);
    }
    /* descending order (selection sort: k is small) */
    size_t *order = malloc(k * sizeof *order);
    if (!order) {
        free(a), free(v);
        return bcdi_error(BCDI_ERR_NOMEM, "eigen: out of memory");
    }
    for (size_t i = 0; i < k; ++i)
        order[i] = i;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = i + 1; j < k; ++j)
            if (creal(a[order[j] * k + order[j]]) > creal(a[order[i] * k + order[i]])) {
                size_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
    for (size_t m = 0; m < k; ++m) {
        values[m] = creal(a[order[m] * k + order[m]]);
        for (size_t r = 0; r < k; ++r) {
            vectors[2 * (r * k + m)] = creal(v[r * k + order[m]]);
            vectors[2 * (r * k + m) + 1] = cimag(v[r * k + order[m]]);
        }
    }
    free(order);
    free(a);
    free(v);
    return BCDI_OK;
}

/* ---- modes ---------------------------------------------------------------------------------- */

void bcdi_modes_free(bcdi_modes *modes)
{
    if (!modes) return;
    free(modes->weights);
    free(modes->modes);
    memset(modes, 0, sizeof *modes);
}

bcdi_status bcdi_combine_modes(const size_t shape[3], size_t count, const bcdi_cf *stack,
                               size_t keep, bcdi_modes *out)
{
    memset(out, 0, sizeof *out);
    size_t n;
    bcdi_status st = stack_size(shape, count, &n, "combine: modes");
    if (st != BCDI_OK) return st;
    if (keep > count) keep = count;
    double complex *gram = malloc(count * count * sizeof *gram);
    double *values = malloc(count * sizeof *values);
    double *vectors = malloc(2 * count * count * sizeof *vectors);
    out->weights = malloc(count * sizeof *out->weights);
    if (keep) out->modes = malloc(keep * n * sizeof *out->modes);
    if (!gram || !values || !vectors || !out->weights || (keep && !out->modes)) {
        st = bcdi_error(BCDI_ERR_NOMEM, "combine: out of memory for %zu modes", keep);
        goto done;
    }
    if ((st = gram_matrix(count, n, stack, gram)) != BCDI_OK) goto done;
    /* double complex is layout-compatible with double[2] (C11 6.2.5) */
    if ((st = bcdi_hermitian_eigen(count, (const double *)gram, values, vectors)) != BCDI_OK)
        goto done;
    double total = 0.0;
    for (size_t m = 0; m < count; ++m) {
        if (values[m] < 0.0) values[m] = 0.0; /* rounding of a positive semi-definite matrix */
        total += values[m];
    }
    if (!(total > 0.0)) {
        st = bcdi_error(BCDI_ERR_DATA, "combine: modes: every run is all zero");
        goto done;
    }
    out->count = count;
    out->kept = keep;
    for (size_t m = 0; m < count; ++m)
        out->weights[m] = values[m] / total;
    double inv_sqrt_k = 1.0 / sqrt((double)count);
    for (size_t m = 0; m < keep; ++m) {
        /* mode_m = (1/sqrt K) sum_i conj(U_im) x_i: W^H row m scaled by s_m / sqrt K */
        double complex coeff[BCDI_COMBINE_MAX_RUNS];
        for (size_t i = 0; i < count; ++i)
            coeff[i] = inv_sqrt_k *
                       conj(vectors[2 * (i * count + m)] + I * vectors[2 * (i * count + m) + 1]);
        bcdi_cf *mode = out->modes + m * n;
#pragma omp parallel for schedule(static)
        for (long long r = 0; r < (long long)n; ++r) {
            double complex acc = 0.0;
            for (size_t i = 0; i < count; ++i)
                acc += coeff[i] * (stack[i * n + (size_t)r].re + I * stack[i * n + (size_t)r].im);
            mode[r].re = (float)creal(acc);
            mode[r].im = (float)cimag(acc);
        }
        /* phase convention: the largest voxel real and positive */
        size_t peak = 0;
        for (size_t r = 1; r < n; ++r)
            if (bcdi_cf_abs2(mode[r]) > bcdi_cf_abs2(mode[peak])) peak = r;
        double amp = bcdi_cf_abs(mode[peak]);
        if (amp > 0.0) {
            double c = mode[peak].re / amp, s = -mode[peak].im / amp;
#pragma omp parallel for schedule(static)
            for (long long r = 0; r < (long long)n; ++r) {
                float re = mode[r].re, im = mode[r].im;
                mode[r].re = (float)(re * c - im * s);
                mode[r].im = (float)(re * s + im * c);
            }
        }
    }
done:
    free(gram);
    free(values);
    free(vectors);
    if (st != BCDI_OK) bcdi_modes_free(out);
    return st;
}

/* ---- reproducibility ------------------------------------------------------------------------ */

void bcdi_reproducibility_free(bcdi_reproducibility *r)
{
    if (!r) return;
    free(r->complex_corr);
    free(r->amplitude_corr);
    memset(r, 0, sizeof *r);
}

/* Pair statistics (i < j) of a K x K matrix; 1 for K = 1. */
static void pair_stats(const double *m, size_t k, double *mean, double *lo, double *hi)
{
    double sum = 0.0;
    size_t pairs = 0;
    *lo = 1.0, *hi = (k > 1) ? -1.0 : 1.0;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = i + 1; j < k; ++j) {
            double v = m[i * k + j];
            sum += v;
            pairs++;
            if (v < *lo) *lo = v;
            if (v > *hi) *hi = v;
        }
    *mean = pairs ? sum / (double)pairs : 1.0;
}

bcdi_status bcdi_combine_reproducibility(const size_t shape[3], size_t count, const bcdi_cf *stack,
                                         const uint8_t *support, const bcdi_combine_options *opt,
                                         bcdi_reproducibility *out)
{
    memset(out, 0, sizeof *out);
    size_t n;
    bcdi_status st = stack_size(shape, count, &n, "combine: reproducibility");
    if (st != BCDI_OK) return st;
    bcdi_combine_options defaults;
    if (!opt) {
        bcdi_combine_default_options(&defaults);
        opt = &defaults;
    }
    double complex *gram = malloc(count * count * sizeof *gram);
    out->complex_corr = malloc(count * count * sizeof(double));
    out->amplitude_corr = malloc(count * count * sizeof(double));
    size_t *inside = NULL;
    double *mean = calloc(count, sizeof *mean), *sumsq = NULL;
    bcdi_cf *average = NULL;
    if (!gram || !out->complex_corr || !out->amplitude_corr || !mean) goto nomem;
    out->count = count;
    if ((st = gram_matrix(count, n, stack, gram)) != BCDI_OK) goto done;
    for (size_t i = 0; i < count; ++i)
        if (!(creal(gram[i * count + i]) > 0.0)) {
            st = bcdi_error(BCDI_ERR_DATA, "combine: run %zu is all zero", i);
            goto done;
        }
    for (size_t i = 0; i < count; ++i)
        for (size_t j = 0; j < count; ++j)
            out->complex_corr[i * count + j] =
                i == j ? 1.0
                       : cabs(gram[i * count + j]) /
                             sqrt(creal(gram[i * count + i]) * creal(gram[j * count + j]));

    /* the support: given, or from the average amplitude */
    size_t voxels = 0;
    if (!(inside = malloc(n * sizeof *inside))) goto nomem;
    if (support) {
        for (size_t r = 0; r < n; ++r)
            if (support[r]) inside[voxels++] = r;
    } else {
        if (!(average = malloc(n * sizeof *average))) goto nomem;
        bcdi_combine_average(shape, count, stack, average);
        double peak = 0.0;
        for (size_t r = 0; r < n; ++r)
            peak = fmax(peak, bcdi_cf_abs(average[r]));
        for (size_t r = 0; r < n; ++r)
            if (peak > 0.0 && bcdi_cf_abs(average[r]) >= opt->support_threshold * peak)
                inside[voxels++] = r;
    }
    out->support_voxels = voxels;
    if (voxels < 2) {
        st = bcdi_error(BCDI_ERR_DATA,
                        "combine: the amplitude-correlation support has %zu voxels (need 2)",
                        voxels);
        goto done;
    }
    /* Pearson correlation of amplitudes over the support (sequential sums: deterministic) */
    if (!(sumsq = calloc(count * count, sizeof *sumsq))) goto nomem;
    for (size_t i = 0; i < count; ++i) {
        double sum = 0.0;
        for (size_t v = 0; v < voxels; ++v)
            sum += bcdi_cf_abs(stack[i * n + inside[v]]);
        mean[i] = sum / (double)voxels;
    }
    for (size_t i = 0; i < count; ++i)
        for (size_t j = i; j < count; ++j) {
            double sum = 0.0;
            for (size_t v = 0; v < voxels; ++v)
                sum += (bcdi_cf_abs(stack[i * n + inside[v]]) - mean[i]) *
                       (bcdi_cf_abs(stack[j * n + inside[v]]) - mean[j]);
            sumsq[i * count + j] = sumsq[j * count + i] = sum;
        }
    for (size_t i = 0; i < count; ++i)
        if (!(sumsq[i * count + i] > 0.0)) {
            st = bcdi_error(BCDI_ERR_DATA,
                            "combine: run %zu has one amplitude over the whole support: no "
                            "amplitude correlation",
                            i);
            goto done;
        }
    for (size_t i = 0; i < count; ++i)
        for (size_t j = 0; j < count; ++j)
            out->amplitude_corr[i * count + j] =
                i == j ? 1.0
                       : sumsq[i * count + j] / sqrt(sumsq[i * count + i] * sumsq[j * count + j]);
    pair_stats(out->complex_corr, count, &out->complex_mean, &out->complex_min, &out->complex_max);
    pair_stats(out->amplitude_corr, count, &out->amplitude_mean, &out->amplitude_min,
               &out->amplitude_max);
    goto done;
nomem:
    st = bcdi_error(BCDI_ERR_NOMEM, "combine: out of memory for the reproducibility figures");
done:
    free(gram);
    free(inside);
    free(mean);
    free(sumsq);
    free(average);
    if (st != BCDI_OK) bcdi_reproducibility_free(out);
    return st;
}
