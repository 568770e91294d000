/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-voxel maths, written once and shared by the CPU backend (OpenMP loops, plain C) and the
 * CUDA backend (grid-stride kernels, __host__ __device__ under nvcc). Backends only loop and
 * reduce; every formula lives here. See docs/algorithms.md for the derivations. */
#ifndef BCDI_VOXEL_OPS_H
#define BCDI_VOXEL_OPS_H

#include "bcdi_hd.h"
#include "philox.h"

#include <math.h>

/* Mask codes for detector-space arrays (uint8): PyNX's convention, non-zero = not measured. */
enum {
    BCDI_MASK_MEASURED = 0,   /* pixel enters the modulus projection and the error sums */
    BCDI_MASK_UNMEASURED = 1, /* gap, dead, saturated, ...: keeps the calculated amplitude */
    BCDI_MASK_FREE = 2,       /* held out for the free log-likelihood: unconstrained, but scored */
    BCDI_MASK_BOUNDED = 3     /* unmeasured, held at most at its amplitude slot (mask_bound) */
};

/* ---- complex helpers ---------------------------------------------------------------------- */
static inline BCDI_HD bcdi_cf bcdi_cf_make(float re, float im)
{
    bcdi_cf c;
    c.re = re;
    c.im = im;
    return c;
}
static inline BCDI_HD float bcdi_cf_abs2(bcdi_cf c)
{
    return c.re * c.re + c.im * c.im;
}
static inline BCDI_HD float bcdi_cf_abs(bcdi_cf c)
{
    return sqrtf(c.re * c.re + c.im * c.im);
}
static inline BCDI_HD bcdi_cf bcdi_cf_scale(bcdi_cf c, float s)
{
    return bcdi_cf_make(c.re * s, c.im * s);
}
static inline BCDI_HD bcdi_cf bcdi_cf_mul(bcdi_cf a, bcdi_cf b)
{
    return bcdi_cf_make(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
static inline BCDI_HD bcdi_cf bcdi_cf_axpby(float a, bcdi_cf x, float b, bcdi_cf y)
{
    return bcdi_cf_make(a * x.re + b * y.re, a * x.im + b * y.im);
}

/* ---- modulus projection (Fourier space) ------------------------------------------------------
 * psi is the unnormalised forward FFT of the current object, amplitude = sqrt(measured I) on the
 * same scale. Measured pixels take the measured amplitude and keep the calculated phase;
 * unmeasured and free pixels keep the calculated amplitude. The inverse FFT's 1/N is folded in
 * as `inv_n`, so the inverse transform of the result is P_M(rho) directly.
 * Where |psi| = 0 the phase is undefined: the amplitude goes on the real axis. */
typedef struct bcdi_fourier_terms {
    double err2;      /* sum over measured of (|psi| - A)^2 */
    double amp2;      /* sum over measured of A^2 = I */
    double llk;       /* Poisson deviance / 2 over measured: Ic - Io + Io ln(Io/Ic) */
    double free_err2; /* the same two terms over free pixels */
    double free_llk;
    double masked_i;      /* sum over unmeasured (and bounded) of the model intensity (photons) */
    double masked_capped; /* of them, the pixels whose model exceeds their bound */
} bcdi_fourier_terms;
#define BCDI_FOURIER_TERMS 7

/* Unmeasured pixels hold in their amplitude slot a bound on the model's amplitude from their
 * measured neighbourhood (docs/algorithms.md, Masked voxels): BCDI_MASK_BOUNDED ones are held to
 * it, BCDI_MASK_UNMEASURED ones only counted when over it. This value means "no bound": finite,
 * not infinity, so that comparisons stay exact under any floating-point mode. */
#define BCDI_MASK_NO_BOUND 3.0e38f

/* Poisson log-likelihood term relative to a perfect fit (>= 0, 0 when Ic == Io). */
static inline BCDI_HD double bcdi_vox_poisson_llk(double i_obs, double i_calc)
{
    const double tiny = 1e-12;
    if (i_calc < tiny) i_calc = tiny;
    double term = i_calc - i_obs;
    if (i_obs > 0.0) term += i_obs * log(i_obs / i_calc);
    return term;
}

/* The sums of one pixel for a model of amplitude `model_amplitude` (intensity its square, passed
 * as computed by the caller) against the measured `amplitude`. */
static inline BCDI_HD void bcdi_vox_fourier_terms(double model_amplitude, double model_intensity,
                                                  float amplitude, uint8_t mask,
                                                  double terms[BCDI_FOURIER_TERMS])
{
    double diff = model_amplitude - (double)amplitude;
    double obs2 = (double)amplitude * (double)amplitude;
    if (mask == BCDI_MASK_MEASURED) {
        terms[0] += diff * diff;
        terms[1] += obs2;
        terms[2] += bcdi_vox_poisson_llk(obs2, model_intensity);
    } else if (mask == BCDI_MASK_FREE) {
        terms[3] += diff * diff;
        terms[4] += bcdi_vox_poisson_llk(obs2, model_intensity);
    } else {
        terms[5] += model_intensity;
        terms[6] += model_amplitude > (double)amplitude ? 1.0 : 0.0;
    }
}

static inline BCDI_HD bcdi_cf bcdi_vox_modulus_project(bcdi_cf psi, float amplitude, uint8_t mask,
                                                       float inv_n,
                                                       double terms[BCDI_FOURIER_TERMS])
{
    float calc2 = bcdi_cf_abs2(psi);
    float calc = sqrtf(calc2);
    if (terms) bcdi_vox_fourier_terms((double)calc, (double)calc2, amplitude, mask, terms);
    /* branchless selects (vectorise on the CPU, no divergence on the GPU): measured pixels take
     * the measured amplitude, bounded ones keep theirs up to their bound (then take the bound),
     * unmeasured and free ones keep theirs; a zero |psi| puts A on the real axis */
    int measured = mask == BCDI_MASK_MEASURED;
    int capped = mask == BCDI_MASK_BOUNDED && calc > amplitude; /* so calc > 0 */
    int has_phase = calc > 0.0f;
    float scale = (measured || capped) ? (has_phase ? amplitude * inv_n / calc : 0.0f) : inv_n;
    float real_fill = (measured && !has_phase) ? amplitude * inv_n : 0.0f;
    return bcdi_cf_make(psi.re * scale + real_fill, psi.im * scale);
}

/* ---- partial coherence (Clark et al., Nat. Commun. 3, 993 (2012)) ---------------------------
 * The measured intensity is modelled as the coherent one blurred by a point-spread function:
 * I_pc = |psi|^2 (*) PSF (convolution over the detector grid, done by FFT in the engine). Measured
 * pixels scale psi by sqrt(I_meas / I_pc), so the blurred model meets the data while psi keeps
 * its own phase and relative amplitudes; unmeasured and free pixels keep psi. The error sums
 * compare the data with the blurred model. I_pc below `model_floor` (FFT rounding can leave it at
 * or under zero) counts as that floor, a small positive fraction of the data's maximum. */
static inline BCDI_HD bcdi_cf bcdi_vox_coherent_intensity(bcdi_cf psi)
{
    return bcdi_cf_make(bcdi_cf_abs2(psi), 0.0f);
}

/* x * y (or x * conj(y)) * scale: the spectra products of FFT convolutions and correlations. */
static inline BCDI_HD bcdi_cf bcdi_vox_spectrum_product(bcdi_cf x, bcdi_cf y, int conjugate_y,
                                                        float scale)
{
    bcdi_cf yy = bcdi_cf_make(y.re, conjugate_y ? -y.im : y.im);
    return bcdi_cf_scale(bcdi_cf_mul(x, yy), scale);
}

static inline BCDI_HD bcdi_cf bcdi_vox_pc_modulus_project(bcdi_cf psi, float amplitude, float i_pc,
                                                          uint8_t mask, float inv_n,
                                                          float model_floor,
                                                          double terms[BCDI_FOURIER_TERMS])
{
    float model = i_pc > model_floor ? i_pc : model_floor;
    float model_amplitude = sqrtf(model);
    if (terms) bcdi_vox_fourier_terms(sqrt((double)model), (double)model, amplitude, mask, terms);
    /* unmeasured pixels: the blurred model is held at the bound, as the measured ones at the data
     */
    int capped = mask == BCDI_MASK_BOUNDED && model_amplitude > amplitude;
    float scale =
        (mask == BCDI_MASK_MEASURED || capped) ? amplitude * inv_n / model_amplitude : inv_n;
    return bcdi_cf_scale(psi, scale);
}

/* The Richardson-Lucy ratio I_meas / I_pc on measured pixels; 1 (no evidence either way) on
 * unmeasured and free ones. */
static inline BCDI_HD float bcdi_vox_rl_ratio(float amplitude, float i_pc, uint8_t mask,
                                              float model_floor)
{
    float model = i_pc > model_floor ? i_pc : model_floor;
    return mask == BCDI_MASK_MEASURED ? amplitude * amplitude / model : 1.0f;
}

/* ---- real-space update -----------------------------------------------------------------------
 * One linear rule covers ER, HIO and RAAR (the engine fills the coefficients; docs/algorithms.md):
 *   inside the support:  rho' = in_rho  * rho + in_proj  * p
 *   outside:             rho' = out_rho * rho + out_proj * p
 * with p = P_M(rho). ER: (0,1 | 0,0). HIO(b): (0,1 | 1,-b). RAAR(b): (0,1 | b,1-2b).
 * With `positivity`, a voxel inside the support whose Re(p) < 0 follows the outside rule
 * (Fienup 1982); with `real_only`, voxels that take the inside rule keep only their real part. */
typedef struct bcdi_update_coeffs {
    float in_rho, in_proj;
    float out_rho, out_proj;
    int positivity;
    int real_only; /* inside the support, keep only the real part (a real-valued object) */
} bcdi_update_coeffs;

/* Sums the update reports per run (of p, the projected estimate): */
typedef struct bcdi_update_terms {
    double in2;  /* sum over support of |p|^2 */
    double out2; /* sum outside support of |p|^2 */
    double in4;  /* sum over support of |p|^4 (sharpness) */
} bcdi_update_terms;
#define BCDI_UPDATE_TERMS 3

static inline BCDI_HD bcdi_cf bcdi_vox_update(bcdi_cf rho, bcdi_cf p, uint8_t in_support,
                                              const bcdi_update_coeffs *c,
                                              double terms[BCDI_UPDATE_TERMS])
{
    float p2 = bcdi_cf_abs2(p);
    if (terms) {
        if (in_support) {
            terms[0] += (double)p2;
            terms[2] += (double)p2 * (double)p2;
        } else {
            terms[1] += (double)p2;
        }
    }
    /* branchless select: supports are ragged, and selects vectorise where branches do not */
    int inside = in_support && !(c->positivity && p.re < 0.0f);
    float a = inside ? c->in_rho : c->out_rho;
    float b = inside ? c->in_proj : c->out_proj;
    bcdi_cf next = bcdi_cf_axpby(a, rho, b, p);
    next.im = (inside && c->real_only) ? 0.0f : next.im;
    return next;
}

/* ---- random start ----------------------------------------------------------------------------
 * Uniform amplitude in [0,1) and phase in [-pi, pi) inside the support, zero outside; element
 * `index` of run `run` draws from Philox stream `run`, so any thread order and either backend
 * give the same uniforms. */
static inline BCDI_HD bcdi_cf bcdi_vox_random_start(uint64_t seed, uint64_t run, uint64_t index,
                                                    uint8_t in_support)
{
    if (!in_support) return bcdi_cf_make(0.0f, 0.0f);
    bcdi_u32x4 r = bcdi_philox_at(seed, run, index);
    float amplitude = bcdi_u32_to_unit(r.v[0]);
    float phase = (bcdi_u32_to_unit(r.v[1]) - 0.5f) * 6.28318530717958647692f;
    return bcdi_cf_make(amplitude * cosf(phase), amplitude * sinf(phase));
}

/* ---- separable Gaussian blur -----------------------------------------------------------------
 * One output sample of a 1-D convolution along an axis with periodic wrap (arrays may be kept
 * fft-shifted, so the object can straddle the box edges). `line` points at element 0 of the line,
 * `stride` is the step between its elements, `len` its length, `weights` has 2*radius+1 taps. */
static inline BCDI_HD float bcdi_vox_blur_tap(const float *line, long stride, long len, long i,
                                              const float *weights, int radius)
{
    /* the taps are symmetric (bcdi_gauss_weights: weights[radius - k] == weights[radius + k]
     * bit for bit), so the two samples k apart share one product: the centre first, then k = 1,
     * 2, ... radius (the CPU's fused shrink-wrap sums in this same order) */
    float acc = weights[radius] * line[i * stride];
    for (int k = 1; k <= radius; ++k) {
        long below = i - k, above = i + k;
        /* wrap by add/subtract: a modulo per tap is slow on GPUs; the loops also cover
         * radius > len */
        while (below < 0)
            below += len;
        while (above >= len)
            above -= len;
        acc += weights[radius + k] * (line[below * stride] + line[above * stride]);
    }
    return acc;
}

/* Normalised Gaussian taps for sigma (voxels), truncated at 4 sigma; returns the radius used
 * (weights must hold 2*BCDI_BLUR_MAX_RADIUS+1 floats). sigma <= 0 gives the identity. */
#define BCDI_BLUR_MAX_RADIUS 64
static inline BCDI_HD int bcdi_gauss_weights(float sigma, float *weights)
{
    if (!(sigma > 0.0f)) {
        weights[0] = 1.0f;
        return 0;
    }
    int radius = (int)ceilf(4.0f * sigma);
    if (radius > BCDI_BLUR_MAX_RADIUS) radius = BCDI_BLUR_MAX_RADIUS;
    double sum = 0.0;
    for (int k = -radius; k <= radius; ++k) {
        double w = exp(-0.5 * (double)k * (double)k / ((double)sigma * (double)sigma));
        weights[k + radius] = (float)w;
        sum += w;
    }
    for (int k = 0; k < 2 * radius + 1; ++k)
        weights[k] = (float)(weights[k] / sum);
    return radius;
}

/* ---- support threshold ----------------------------------------------------------------------- */
static inline BCDI_HD uint8_t bcdi_vox_threshold(float value, float threshold, uint8_t previous,
                                                 int only_shrink)
{
    uint8_t inside = value > threshold;
    return only_shrink ? (uint8_t)(inside && previous) : inside;
}

/* ---- breeding rules (guided phasing; Chen et al., PRB 76, 064113 (2007)) ---------------------
 * a = alpha (the best individual of a generation), b = an individual already aligned to a (twin,
 * shift, global phase). The child voxel mixes the two; names follow PyNX/cohere. Where a mean
 * phase is taken, phi_b - phi_a is wrapped to (-pi, pi] first, so the mean goes the short way
 * round (phi_a = 3, phi_b = -3 give pi, not 0). */
enum {
    BCDI_BREED_SQRT_AB = 0,  /* sqrt(|a||b|) exp(i mean phase) */
    BCDI_BREED_PIXEL_SWITCH, /* a or b, by the lowest random bit (0: a, 1: b) */
    BCDI_BREED_B_PA,         /* |b| exp(i phi_a) */
    BCDI_BREED_AVG_AB,       /* (a + b) / 2 */
    BCDI_BREED_MAX_AB,       /* max(|a|, |b|) exp(i mean phase) */
    BCDI_BREED_2AB_A_B,      /* 2ab / (a + b), 0 where a + b = 0 */
    BCDI_BREED_RULE_COUNT
};

/* exp(i (phi_a + phi_b) / 2) the short way round; a voxel with one zero takes the other's phase,
 * both zero give 1. */
static inline BCDI_HD bcdi_cf bcdi_vox_mean_phase_unit(bcdi_cf a, bcdi_cf b)
{
    float abs_a = bcdi_cf_abs(a), abs_b = bcdi_cf_abs(b);
    if (abs_a == 0.0f && abs_b == 0.0f) return bcdi_cf_make(1.0f, 0.0f);
    if (abs_a == 0.0f) return bcdi_cf_scale(b, 1.0f / abs_b);
    if (abs_b == 0.0f) return bcdi_cf_scale(a, 1.0f / abs_a);
    float phase_a = atan2f(a.im, a.re);
    /* arg(b conj a) is phi_b - phi_a already wrapped into (-pi, pi] */
    float difference = atan2f(b.im * a.re - b.re * a.im, b.re * a.re + b.im * a.im);
    float phase = phase_a + 0.5f * difference;
    return bcdi_cf_make(cosf(phase), sinf(phase));
}

static inline BCDI_HD bcdi_cf bcdi_vox_breed(int rule, bcdi_cf a, bcdi_cf b, uint32_t random_bits)
{
    switch (rule) {
    case BCDI_BREED_SQRT_AB:
        return bcdi_cf_scale(bcdi_vox_mean_phase_unit(a, b),
                             sqrtf(bcdi_cf_abs(a) * bcdi_cf_abs(b)));
    case BCDI_BREED_PIXEL_SWITCH:
        return (random_bits & 1u) ? b : a;
    case BCDI_BREED_B_PA: {
        float abs_a = bcdi_cf_abs(a), abs_b = bcdi_cf_abs(b);
        if (abs_a == 0.0f) return b; /* alpha has no phase here: keep b whole */
        return bcdi_cf_scale(a, abs_b / abs_a);
    }
    case BCDI_BREED_AVG_AB:
        return bcdi_cf_axpby(0.5f, a, 0.5f, b);
    case BCDI_BREED_MAX_AB: {
        float abs_a = bcdi_cf_abs(a), abs_b = bcdi_cf_abs(b);
        return bcdi_cf_scale(bcdi_vox_mean_phase_unit(a, b), abs_a > abs_b ? abs_a : abs_b);
    }
    case BCDI_BREED_2AB_A_B: {
        bcdi_cf sum = bcdi_cf_axpby(1.0f, a, 1.0f, b);
        float sum2 = bcdi_cf_abs2(sum);
        if (sum2 == 0.0f) return bcdi_cf_make(0.0f, 0.0f);
        /* 2ab conj(a+b) / |a+b|^2 */
        bcdi_cf twice_ab = bcdi_cf_scale(bcdi_cf_mul(a, b), 2.0f);
        bcdi_cf conj_sum = bcdi_cf_make(sum.re, -sum.im);
        return bcdi_cf_scale(bcdi_cf_mul(twice_ab, conj_sum), 1.0f / sum2);
    }
    default:
        return a;
    }
}
/* ---- end of breeding rules ------------------------------------------------------------------ */

#endif
