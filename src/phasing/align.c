/* SPDX-License-Identifier: BSD-3-Clause */
/* Alignment of complex objects (include/bcdi/align.h for the conventions).
 *
 * Registration follows Guizar-Sicairos, Thurman & Fienup, Opt. Lett. 33, 156 (2008): the
 * cross-power spectrum R(k) = F_ref(k) conj(F_mov(k)) is inverse-transformed once by FFT for the
 * integer peak; the peak is then refined by evaluating the inverse DFT of R only on a small grid
 * around it, as three matrix products (one per axis), which costs far less than zero-padding. */
#include "bcdi/align.h"

#include "backend/backend.h"
#include "num/constants.h"
#include "num/volume.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Work space shared by the registrations and shifts of one alignment. On the CPU backend,
 * ops->alloc returns host memory, so the buffers are read and written directly. */
typedef struct align_ctx {
    bcdi_backend *be;
    bcdi_fft *plan;
    size_t shape[3], n;
    bcdi_cf *ref_spectrum; /* F(reference), kept across registrations */
    double ref_norm;       /* ||reference|| */
    bcdi_cf *cross;        /* cross-power spectrum R */
    bcdi_cf *scratch;      /* cross-correlation, or a spectrum being shifted */
} align_ctx;

static bcdi_status check_shape(const size_t shape[3], const char *who)
{
    if (!shape || !shape[0] || !shape[1] || !shape[2])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: empty shape", who);
    return BCDI_OK;
}

static void ctx_close(align_ctx *c)
{
    if (!c->be) return;
    if (c->plan) c->be->ops->fft_destroy(c->plan);
    c->be->ops->free(c->be, c->ref_spectrum);
    c->be->ops->free(c->be, c->cross);
    c->be->ops->free(c->be, c->scratch);
    bcdi_backend_close(c->be);
    memset(c, 0, sizeof *c);
}

static bcdi_status ctx_open(align_ctx *c, const size_t shape[3])
{
    memset(c, 0, sizeof *c);
    bcdi_status st = bcdi_backend_cpu_open(&c->be);
    if (st != BCDI_OK) return st;
    memcpy(c->shape, shape, sizeof c->shape);
    c->n = shape[0] * shape[1] * shape[2];
    size_t bytes = c->n * sizeof(bcdi_cf);
    if ((st = c->be->ops->fft_create(c->be, shape, 1, &c->plan)) != BCDI_OK ||
        (st = c->be->ops->alloc(c->be, bytes, (void **)&c->ref_spectrum)) != BCDI_OK ||
        (st = c->be->ops->alloc(c->be, bytes, (void **)&c->cross)) != BCDI_OK ||
        (st = c->be->ops->alloc(c->be, bytes, (void **)&c->scratch)) != BCDI_OK) {
        ctx_close(c);
        return st;
    }
    return BCDI_OK;
}

static double norm_cf(const bcdi_cf *x, size_t n)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; ++i)
        acc += (double)x[i].re * x[i].re + (double)x[i].im * x[i].im;
    return sqrt(acc);
}

static bcdi_status ctx_set_reference(align_ctx *c, const bcdi_cf *reference)
{
    c->ref_norm = norm_cf(reference, c->n);
    if (!(c->ref_norm > 0.0)) return bcdi_error(BCDI_ERR_DATA, "align: the reference is all zero");
    return c->be->ops->fft_forward(c->plan, reference, c->ref_spectrum);
}

/* Signed frequency of FFT index k on an axis of length len: [-floor(len/2), ceil(len/2) - 1],
 * numpy's fftfreq * len. Used by both the shift ramp and the upsampled DFT so they agree. */
static double signed_freq(size_t k, size_t len)
{
    return k < (len + 1) / 2 ? (double)k : (double)k - (double)len;
}

/* Integer index -> signed offset in [-len/2, len/2). */
static double signed_offset(size_t i, size_t len)
{
    return i < (len + 1) / 2 ? (double)i : (double)i - (double)len;
}

/* Cross-correlation of the reference with `moving` evaluated on an upsampled grid around `centre`
 * (voxels): returns the best sample's position in `shift` and its |CC| in `best_abs`.
 * CC(p) = sum_k R(k) exp(+2 pi i sum_d f_d p_d / N_d) = N sum_r ref(r) conj(moving(r - p)),
 * with R scaled by 1 / (||ref|| ||moving||) (see ctx_register). */
static bcdi_status upsampled_peak(const align_ctx *c, const double centre[3], int upsample,
                                  double shift[3], double *best_abs)
{
    const size_t *N = c->shape;
    size_t m[3];                                    /* samples per axis */
    double first[3];                                /* position of sample 0 */
    double complex *kernel[3] = {NULL, NULL, NULL}; /* kernel[d][j * N_d + k] */
    double complex *stage1 = NULL, *stage2 = NULL, *samples = NULL;
    bcdi_status st = BCDI_OK;
    for (int d = 0; d < 3; ++d) {
        /* a length-1 axis has nothing to refine */
        m[d] = N[d] > 1 ? (size_t)ceil(1.5 * upsample) : 1;
        first[d] = centre[d] - (double)(m[d] / 2) / upsample;
        kernel[d] = malloc(m[d] * N[d] * sizeof(double complex));
        if (!kernel[d]) goto nomem;
        for (size_t j = 0; j < m[d]; ++j) {
            double p = first[d] + (double)j / upsample;
            for (size_t k = 0; k < N[d]; ++k) {
                /* f*p reduced modulo N first: a small angle keeps cexp accurate */
                double turns = fmod(signed_freq(k, N[d]) * p, (double)N[d]) / (double)N[d];
                kernel[d][j * N[d] + k] = cexp(I * BCDI_TWO_PI * turns);
            }
        }
    }
    stage1 = malloc(N[0] * N[1] * m[2] * sizeof *stage1);
    stage2 = malloc(N[0] * m[1] * m[2] * sizeof *stage2);
    samples = malloc(m[0] * m[1] * m[2] * sizeof *samples);
    if (!stage1 || !stage2 || !samples) goto nomem;

    /* axis 2: stage1[k0][k1][j2] = sum_k2 R[k0][k1][k2] E2[j2][k2] */
    long long rows = (long long)(N[0] * N[1]);
#pragma omp parallel for schedule(static)
    for (long long row = 0; row < rows; ++row) {
        const bcdi_cf *r = c->cross + (size_t)row * N[2];
        for (size_t j = 0; j < m[2]; ++j) {
            const double complex *e = kernel[2] + j * N[2];
            double complex acc = 0.0;
            for (size_t k = 0; k < N[2]; ++k)
                acc += ((double)r[k].re + I * (double)r[k].im) * e[k];
            stage1[(size_t)row * m[2] + j] = acc;
        }
    }
    /* axis 1: stage2[k0][j1][j2] = sum_k1 stage1[k0][k1][j2] E1[j1][k1] */
#pragma omp parallel for schedule(static)
    for (long long k0 = 0; k0 < (long long)N[0]; ++k0)
        for (size_t j1 = 0; j1 < m[1]; ++j1)
            for (size_t j2 = 0; j2 < m[2]; ++j2) {
                double complex acc = 0.0;
                for (size_t k1 = 0; k1 < N[1]; ++k1)
                    acc += stage1[((size_t)k0 * N[1] + k1) * m[2] + j2] * kernel[1][j1 * N[1] + k1];
                stage2[((size_t)k0 * m[1] + j1) * m[2] + j2] = acc;
            }
    /* axis 0: samples[j0][j1][j2] = sum_k0 stage2[k0][j1][j2] E0[j0][k0] */
    size_t plane = m[1] * m[2];
#pragma omp parallel for schedule(static)
    for (long long j0 = 0; j0 < (long long)m[0]; ++j0)
        for (size_t q = 0; q < plane; ++q) {
            double complex acc = 0.0;
            for (size_t k0 = 0; k0 < N[0]; ++k0)
                acc += stage2[k0 * plane + q] * kernel[0][(size_t)j0 * N[0] + k0];
            samples[(size_t)j0 * plane + q] = acc;
        }

    size_t best = 0;
    double best_value = -1.0;
    for (size_t i = 0; i < m[0] * plane; ++i) {
        double v = cabs(samples[i]);
        if (v > best_value) {
            best_value = v;
            best = i;
        }
    }
    size_t jbest[3] = {best / plane, (best / m[2]) % m[1], best % m[2]};
    for (int d = 0; d < 3; ++d)
        shift[d] = first[d] + (double)jbest[d] / upsample;
    *best_abs = best_value;
    goto done;
nomem:
    st = bcdi_error(BCDI_ERR_NOMEM, "registration: out of memory for the upsampled DFT");
done:
    for (int d = 0; d < 3; ++d)
        free(kernel[d]);
    free(stage1);
    free(stage2);
    free(samples);
    return st;
}

/* Registration of `moving` against the context's reference (see bcdi_register_translation). */
static bcdi_status ctx_register(align_ctx *c, const bcdi_cf *moving, int upsample, double shift[3],
                                double *peak)
{
    const bcdi_backend_ops *ops = c->be->ops;
    double moving_norm = norm_cf(moving, c->n);
    if (!(moving_norm > 0.0))
        return bcdi_error(BCDI_ERR_DATA, "align: the moving object is all zero");
    bcdi_status st = ops->fft_forward(c->plan, moving, c->cross);
    if (st != BCDI_OK) return st;
    /* scaled by 1 / (||ref|| ||moving||) so that |CC| <= N whatever the objects' units: no float
     * overflow for photon-count-scaled objects, and the peak divides by N only */
    double scale = 1.0 / (c->ref_norm * moving_norm);
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < (long long)c->n; ++i) {
        bcdi_cf f = c->cross[i], g = c->ref_spectrum[i];
        double re = (double)g.re * f.re + (double)g.im * f.im,
               im = (double)g.im * f.re - (double)g.re * f.im;
        c->cross[i] = bcdi_cf_make((float)(re * scale), (float)(im * scale));
    }
    if ((st = ops->fft_inverse(c->plan, c->cross, c->scratch)) != BCDI_OK) return st;
    size_t best = 0;
    double best_value = -1.0;
    for (size_t i = 0; i < c->n; ++i) {
        double v = (double)c->scratch[i].re * c->scratch[i].re +
                   (double)c->scratch[i].im * c->scratch[i].im;
        if (v > best_value) {
            best_value = v;
            best = i;
        }
    }
    const size_t *N = c->shape;
    size_t index[3] = {best / (N[1] * N[2]), (best / N[2]) % N[1], best % N[2]};
    double centre[3], best_abs = sqrt(best_value);
    for (int d = 0; d < 3; ++d)
        centre[d] = signed_offset(index[d], N[d]);
    if (upsample > 1) {
        if ((st = upsampled_peak(c, centre, upsample, shift, &best_abs)) != BCDI_OK) return st;
    } else {
        memcpy(shift, centre, sizeof centre);
    }
    /* CC = N sum ref conj(moved) / (||ref|| ||moving||): divide by N (Cauchy-Schwarz bound 1) */
    if (peak) *peak = best_abs / (double)c->n;
    return BCDI_OK;
}

/* Per-axis phase ramp exp(-2 pi i f s / N) applied to a spectrum, with the inverse FFT's 1/N. */
static bcdi_status ctx_shift(align_ctx *c, bcdi_cf *x, const double shift[3])
{
    const size_t *N = c->shape;
    if (shift[0] == 0.0 && shift[1] == 0.0 && shift[2] == 0.0) return BCDI_OK;
    double complex *ramp[3];
    for (int d = 0; d < 3; ++d) {
        ramp[d] = malloc(N[d] * sizeof(double complex));
        if (!ramp[d]) {
            for (int e = 0; e < d; ++e)
                free(ramp[e]);
            return bcdi_error(BCDI_ERR_NOMEM, "shift: out of memory");
        }
        for (size_t k = 0; k < N[d]; ++k) {
            double turns = fmod(signed_freq(k, N[d]) * shift[d], (double)N[d]) / (double)N[d];
            ramp[d][k] = cexp(-I * BCDI_TWO_PI * turns);
        }
    }
    const bcdi_backend_ops *ops = c->be->ops;
    bcdi_status st = ops->fft_forward(c->plan, x, c->scratch);
    if (st == BCDI_OK) {
        double inv_n = 1.0 / (double)c->n;
        long long total = (long long)c->n;
#pragma omp parallel for schedule(static)
        for (long long i = 0; i < total; ++i) {
            size_t k0 = (size_t)i / (N[1] * N[2]), k1 = ((size_t)i / N[2]) % N[1],
                   k2 = (size_t)i % N[2];
            double complex factor = ramp[0][k0] * ramp[1][k1] * ramp[2][k2] * inv_n;
            double complex v = ((double)c->scratch[i].re + I * (double)c->scratch[i].im) * factor;
            c->scratch[i] = bcdi_cf_make((float)creal(v), (float)cimag(v));
        }
        st = ops->fft_inverse(c->plan, c->scratch, x);
    }
    for (int d = 0; d < 3; ++d)
        free(ramp[d]);
    return st;
}

bcdi_status bcdi_register_translation(const size_t shape[3], const bcdi_cf *reference,
                                      const bcdi_cf *moving, int upsample, double shift[3],
                                      double *peak)
{
    bcdi_status st = check_shape(shape, "register");
    if (st != BCDI_OK) return st;
    if (!reference || !moving || !shift)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "register: NULL array");
    if (upsample < 1)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "register: upsample %d, expected >= 1", upsample);
    align_ctx c;
    if ((st = ctx_open(&c, shape)) != BCDI_OK) return st;
    st = ctx_set_reference(&c, reference);
    if (st == BCDI_OK) st = ctx_register(&c, moving, upsample, shift, peak);
    ctx_close(&c);
    return st;
}

bcdi_status bcdi_shift(const size_t shape[3], bcdi_cf *x, const double shift[3])
{
    bcdi_status st = check_shape(shape, "shift");
    if (st != BCDI_OK) return st;
    if (!x || !shift) return bcdi_error(BCDI_ERR_INVALID_ARG, "shift: NULL argument");
    for (int d = 0; d < 3; ++d)
        if (!isfinite(shift[d])) return bcdi_error(BCDI_ERR_INVALID_ARG, "shift: non-finite shift");
    align_ctx c;
    if ((st = ctx_open(&c, shape)) != BCDI_OK) return st;
    st = ctx_shift(&c, x, shift);
    ctx_close(&c);
    return st;
}

static size_t mirror(size_t i, size_t len)
{
    return i ? len - i : 0;
}

bcdi_status bcdi_twin(const size_t shape[3], bcdi_cf *x)
{
    bcdi_status st = check_shape(shape, "twin");
    if (st != BCDI_OK) return st;
    if (!x) return bcdi_error(BCDI_ERR_INVALID_ARG, "twin: NULL array");
    const size_t n0 = shape[0], n1 = shape[1], n2 = shape[2];
    /* each pair (i, mirror(i)) is visited once, from its lower linear index */
    for (size_t i0 = 0; i0 < n0; ++i0)
        for (size_t i1 = 0; i1 < n1; ++i1)
            for (size_t i2 = 0; i2 < n2; ++i2) {
                size_t a = (i0 * n1 + i1) * n2 + i2;
                size_t b = (mirror(i0, n0) * n1 + mirror(i1, n1)) * n2 + mirror(i2, n2);
                if (b < a) continue;
                bcdi_cf xa = x[a], xb = x[b];
                x[a] = bcdi_cf_make(xb.re, -xb.im);
                x[b] = bcdi_cf_make(xa.re, -xa.im);
            }
    return BCDI_OK;
}

/* sum conj(ref) x in double. */
static double complex inner(const bcdi_cf *ref, const bcdi_cf *x, size_t n)
{
    double re = 0.0, im = 0.0;
    for (size_t i = 0; i < n; ++i) {
        re += (double)ref[i].re * x[i].re + (double)ref[i].im * x[i].im;
        im += (double)ref[i].re * x[i].im - (double)ref[i].im * x[i].re;
    }
    return re + I * im;
}

/* x *= exp(-i angle), rotated in double and rounded once. */
static void rotate(bcdi_cf *x, size_t n, double angle)
{
    double c = cos(angle), s = sin(angle);
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < (long long)n; ++i) {
        double re = x[i].re, im = x[i].im;
        x[i] = bcdi_cf_make((float)(re * c + im * s), (float)(im * c - re * s));
    }
}

static bcdi_status ctx_align(align_ctx *c, const bcdi_cf *reference, bcdi_cf *moving,
                             int allow_twin, int upsample, bcdi_alignment *out)
{
    bcdi_alignment result;
    memset(&result, 0, sizeof result);
    double peak = 0.0;
    bcdi_status st = ctx_register(c, moving, upsample, result.shift, &peak);
    if (st != BCDI_OK) return st;
    if (allow_twin) {
        double twin_shift[3], twin_peak = 0.0;
        bcdi_twin(c->shape, moving);
        if ((st = ctx_register(c, moving, upsample, twin_shift, &twin_peak)) != BCDI_OK) return st;
        if (twin_peak > peak) {
            result.twinned = 1;
            memcpy(result.shift, twin_shift, sizeof twin_shift);
        } else {
            bcdi_twin(c->shape, moving); /* exact involution: back to the original */
        }
    }
    if ((st = ctx_shift(c, moving, result.shift)) != BCDI_OK) return st;
    double complex overlap = inner(reference, moving, c->n);
    double moved_norm = norm_cf(moving, c->n);
    result.phase = carg(overlap);
    rotate(moving, c->n, result.phase);
    result.correlation = moved_norm > 0.0 ? cabs(overlap) / (c->ref_norm * moved_norm) : 0.0;
    if (result.correlation > 1.0) result.correlation = 1.0; /* rounding only */
    if (out) *out = result;
    return BCDI_OK;
}

bcdi_status bcdi_align(const size_t shape[3], const bcdi_cf *reference, bcdi_cf *moving,
                       int allow_twin, int upsample, bcdi_alignment *out)
{
    bcdi_status st = check_shape(shape, "align");
    if (st != BCDI_OK) return st;
    if (!reference || !moving) return bcdi_error(BCDI_ERR_INVALID_ARG, "align: NULL array");
    if (upsample < 1)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "align: upsample %d, expected >= 1", upsample);
    align_ctx c;
    if ((st = ctx_open(&c, shape)) != BCDI_OK) return st;
    st = ctx_set_reference(&c, reference);
    if (st == BCDI_OK) st = ctx_align(&c, reference, moving, allow_twin, upsample, out);
    ctx_close(&c);
    return st;
}

bcdi_status bcdi_compare_objects(const size_t shape[3], const bcdi_cf *truth,
                                 const bcdi_cf *estimate, const uint8_t *truth_support,
                                 int allow_twin, bcdi_object_error *out)
{
    bcdi_status st = check_shape(shape, "compare");
    if (st != BCDI_OK) return st;
    if (!truth || !estimate || !out)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "compare: NULL argument");
    size_t n = shape[0] * shape[1] * shape[2];
    bcdi_cf *aligned = malloc(n * sizeof *aligned);
    if (!aligned) return bcdi_error(BCDI_ERR_NOMEM, "compare: out of memory");
    memcpy(aligned, estimate, n * sizeof *aligned);
    bcdi_object_error result;
    memset(&result, 0, sizeof result);
    st = bcdi_align(shape, truth, aligned, allow_twin, 20, &result.alignment);
    if (st != BCDI_OK) {
        free(aligned);
        return st;
    }
    float truth_max2 = 0.0f;
    for (size_t i = 0; i < n; ++i)
        if (bcdi_cf_abs2(truth[i]) > truth_max2) truth_max2 = bcdi_cf_abs2(truth[i]);
    /* default support |t| > 0.1 max|t|, compared on squares */
    double cut2 = 0.01 * (double)truth_max2;
    double diff2 = 0.0, truth2 = 0.0, phase2 = 0.0, phase2_weighted = 0.0, weight = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double dre = (double)aligned[i].re - truth[i].re, dim = (double)aligned[i].im - truth[i].im;
        double t2 = (double)bcdi_cf_abs2(truth[i]);
        diff2 += dre * dre + dim * dim;
        truth2 += t2;
        int inside = truth_support ? truth_support[i] != 0 : t2 > cut2;
        if (!inside) continue;
        /* arg(a conj t) is the phase difference already wrapped into (-pi, pi] */
        double re = (double)aligned[i].re * truth[i].re + (double)aligned[i].im * truth[i].im;
        double im = (double)aligned[i].im * truth[i].re - (double)aligned[i].re * truth[i].im;
        double dphi = atan2(im, re);
        phase2 += dphi * dphi;
        phase2_weighted += t2 * dphi * dphi;
        weight += t2;
        result.support_voxels++;
    }
    free(aligned);
    result.relative_error = sqrt(diff2 / truth2);
    result.phase_rms = result.support_voxels ? sqrt(phase2 / (double)result.support_voxels) : 0.0;
    result.phase_rms_weighted = weight > 0.0 ? sqrt(phase2_weighted / weight) : 0.0;
    *out = result;
    return BCDI_OK;
}

bcdi_status bcdi_remove_mean_phase(const size_t shape[3], bcdi_cf *x, const uint8_t *support)
{
    bcdi_status st = check_shape(shape, "remove_mean_phase");
    if (st != BCDI_OK) return st;
    if (!x) return bcdi_error(BCDI_ERR_INVALID_ARG, "remove_mean_phase: NULL array");
    size_t n = shape[0] * shape[1] * shape[2];
    double re = 0.0, im = 0.0;
    for (size_t i = 0; i < n; ++i) {
        if (support && !support[i]) continue;
        re += x[i].re;
        im += x[i].im;
    }
    if (re == 0.0 && im == 0.0) return BCDI_OK;
    double mean_phase = atan2(im, re);
    /* a rotation by exp(-i <phi>): never exp(i (arg x - <phi>)) of a complex array, which would
     * throw the amplitudes away */
    if (mean_phase != 0.0) rotate(x, n, mean_phase);
    return BCDI_OK;
}

bcdi_status bcdi_center(const size_t shape[3], bcdi_cf *x, long roll[3])
{
    bcdi_status st = check_shape(shape, "center");
    if (st != BCDI_OK) return st;
    if (!x) return bcdi_error(BCDI_ERR_INVALID_ARG, "center: NULL array");
    size_t n = shape[0] * shape[1] * shape[2];
    float *amplitude = malloc(n * sizeof *amplitude);
    bcdi_cf *copy = malloc(n * sizeof *copy);
    if (!amplitude || !copy) {
        free(amplitude);
        free(copy);
        return bcdi_error(BCDI_ERR_NOMEM, "center: out of memory");
    }
    long total_roll[3] = {0, 0, 0};
    /* pass 0: circular mean, which brings an object split by the box edges together;
     * pass 1: plain centre of mass of the now unbroken object */
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < n; ++i)
            amplitude[i] = bcdi_cf_abs(x[i]);
        double com[3] = {0, 0, 0}; /* stays 0 for an all-zero array */
        if (pass == 0)
            bcdi_circular_com(amplitude, shape, com);
        else
            bcdi_centre_of_mass(amplitude, NULL, shape, com);
        long step[3];
        for (int d = 0; d < 3; ++d) {
            step[d] = lround((double)(shape[d] / 2) - com[d]);
            total_roll[d] += step[d];
        }
        memcpy(copy, x, n * sizeof *copy);
        bcdi_roll3(x, copy, shape, sizeof *x, step);
    }
    for (int d = 0; d < 3; ++d) {
        total_roll[d] %= (long)shape[d];
        if (total_roll[d] < 0) total_roll[d] += (long)shape[d];
    }
    if (roll) memcpy(roll, total_roll, sizeof total_roll);
    free(amplitude);
    free(copy);
    return BCDI_OK;
}
