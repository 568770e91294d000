/* SPDX-License-Identifier: BSD-3-Clause */
/* Phase retrieval transfer function and resolution (phasing/prtf.h). */
#include "phasing/prtf.h"

#include "backend/backend.h"
#include "num/constants.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bcdi_prtf_default_options(bcdi_prtf_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->cone_half_angle_deg = 20.0;
    opt->threshold = exp(-1.0);
}

static void curve_free(bcdi_prtf_curve *c)
{
    free(c->frequency);
    free(c->value);
    free(c->voxels);
    memset(c, 0, sizeof *c);
}

void bcdi_prtf_free(bcdi_prtf *prtf)
{
    if (!prtf) return;
    curve_free(&prtf->overall);
    for (int a = 0; a < 3; ++a)
        curve_free(&prtf->axis[a]);
}

static int curve_alloc(bcdi_prtf_curve *c, size_t shells, double width)
{
    c->shells = shells;
    c->frequency = calloc(shells, sizeof *c->frequency);
    c->value = calloc(shells, sizeof *c->value);
    c->voxels = calloc(shells, sizeof *c->voxels);
    c->width = width;
    return c->frequency && c->value && c->voxels;
}

/* One measured voxel of frequency |q| = `frequency` into shell s. */
static void curve_add(bcdi_prtf_curve *c, size_t s, double frequency, double ratio)
{
    if (s >= c->shells) return;
    c->value[s] += ratio;
    c->frequency[s] += frequency;
    c->voxels[s]++;
}

/* Shell means (a shell's frequency is the mean |q| of its voxels: a shell holds more voxels
 * beyond its centre than inside it), then the first fall below the threshold. */
static void curve_finish(bcdi_prtf_curve *c, double threshold)
{
    for (size_t s = 0; s < c->shells; ++s) {
        c->value[s] = c->voxels[s] ? c->value[s] / (double)c->voxels[s] : NAN;
        c->frequency[s] =
            c->voxels[s] ? c->frequency[s] / (double)c->voxels[s] : (double)s * c->width;
    }
    long previous = -1; /* last non-empty shell at or above the threshold */
    c->reached = 0;
    for (size_t s = 0; s < c->shells; ++s) {
        if (!c->voxels[s]) continue;
        if (c->value[s] < threshold && previous >= 0) {
            double v0 = c->value[previous], v1 = c->value[s];
            double f0 = c->frequency[previous], f1 = c->frequency[s];
            c->crossing = f0 + (v0 - threshold) / (v0 - v1) * (f1 - f0);
            c->reached = 1;
            break;
        }
        if (c->value[s] >= threshold) previous = (long)s;
    }
    if (!c->reached) { /* the bound: the last measured shell's nominal frequency */
        c->crossing = 0.0;
        for (size_t s = c->shells; s-- > 0;)
            if (c->voxels[s]) {
                c->crossing = (double)s * c->width;
                break;
            }
    }
    c->resolution = c->crossing > 0.0 ? 0.5 / c->crossing : INFINITY;
}

bcdi_status bcdi_prtf_compute(const size_t shape[3], const bcdi_cf *object, const float *intensity,
                              const uint8_t *mask, const bcdi_prtf_options *opt, bcdi_prtf *out)
{
    memset(out, 0, sizeof *out);
    if (!shape || !shape[0] || !shape[1] || !shape[2] || !object || !intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "PRTF: empty shape or missing arrays");
    bcdi_prtf_options defaults;
    if (!opt) {
        bcdi_prtf_default_options(&defaults);
        opt = &defaults;
    }
    if (!(opt->threshold > 0.0) || !(opt->cone_half_angle_deg > 0.0) ||
        !(opt->cone_half_angle_deg < 90.0))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "PRTF: threshold %g must be > 0 and the cone half angle %g° in (0, 90)",
                          opt->threshold, opt->cone_half_angle_deg);
    size_t n, bytes;
    if (__builtin_mul_overflow(shape[0], shape[1], &n) || __builtin_mul_overflow(n, shape[2], &n) ||
        __builtin_mul_overflow(n, sizeof(bcdi_cf), &bytes))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "PRTF: %zu x %zu x %zu voxels overflow", shape[0],
                          shape[1], shape[2]);
    /* voxel sizes in nm (or 1: voxel units) */
    int physical = opt->voxel_size_m[0] > 0 || opt->voxel_size_m[1] > 0 || opt->voxel_size_m[2] > 0;
    double v[3];
    for (int a = 0; a < 3; ++a) {
        v[a] = physical ? opt->voxel_size_m[a] * 1e9 : 1.0;
        if (!(v[a] > 0.0) || !isfinite(v[a]))
            return bcdi_error(BCDI_ERR_INVALID_ARG, "PRTF: voxel size %g m along axis %d",
                              opt->voxel_size_m[a], a);
    }
    out->physical = physical;

    /* |F| of the object, unnormalised forward FFT (uncentred frequencies) */
    bcdi_backend *be = NULL;
    bcdi_fft *plan = NULL;
    bcdi_cf *spectrum = NULL;
    bcdi_status st = bcdi_backend_cpu_open(&be);
    if (st == BCDI_OK) st = be->ops->fft_create(be, shape, 1, &plan);
    /* the CPU backend's buffers are host memory */
    if (st == BCDI_OK) st = be->ops->alloc(be, bytes, (void **)&spectrum);
    if (st == BCDI_OK) st = be->ops->fft_forward(plan, object, spectrum);
    if (st != BCDI_OK) goto done;

    /* shells */
    double width = 0.0, nyquist = INFINITY;
    for (int a = 0; a < 3; ++a) {
        width = fmax(width, 1.0 / ((double)shape[a] * v[a]));
        nyquist = fmin(nyquist, 0.5 / v[a]);
    }
    size_t overall_shells = (size_t)floor(nyquist / width + 1e-9) + 1;
    int ok = curve_alloc(&out->overall, overall_shells, width);
    for (int a = 0; a < 3; ++a)
        ok = ok && curve_alloc(&out->axis[a], shape[a] / 2 + 1, 1.0 / ((double)shape[a] * v[a]));
    if (!ok) {
        st = bcdi_error(BCDI_ERR_NOMEM, "PRTF: out of memory");
        goto done;
    }
    double tan_cone = tan(opt->cone_half_angle_deg * BCDI_PI / 180.0);
    size_t measured = 0;
    /* sequential sums over voxels: the same result whatever the thread count */
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t idx = (i0 * shape[1] + i1) * shape[2] + i2;
                float in = intensity[idx];
                if ((mask && mask[idx]) || !(in > 0.0f) || !isfinite(in)) continue;
                size_t index[3] = {i0, i1, i2}, k[3];
                double g[3], g2 = 0.0;
                for (int a = 0; a < 3; ++a) {
                    long centred = (long)index[a] - (long)(shape[a] / 2);
                    k[a] = (size_t)((centred + (long)shape[a]) % (long)shape[a]);
                    g[a] = (double)centred / ((double)shape[a] * v[a]);
                    g2 += g[a] * g[a];
                }
                double ratio =
                    bcdi_cf_abs(spectrum[(k[0] * shape[1] + k[1]) * shape[2] + k[2]]) / sqrt(in);
                measured++;
                double g_abs = sqrt(g2);
                curve_add(&out->overall, (size_t)lround(g_abs / width), g_abs, ratio);
                for (int a = 0; a < 3; ++a) {
                    double along = fabs(g[a]), across = sqrt(fmax(g2 - g[a] * g[a], 0.0));
                    if (across > tan_cone * along) continue;
                    curve_add(&out->axis[a], (size_t)lround(along * (double)shape[a] * v[a]), g_abs,
                              ratio);
                }
            }
    if (!measured) {
        st = bcdi_error(BCDI_ERR_DATA, "PRTF: no measured voxel with a positive intensity");
        goto done;
    }
    curve_finish(&out->overall, opt->threshold);
    for (int a = 0; a < 3; ++a)
        curve_finish(&out->axis[a], opt->threshold);
done:
    if (be) {
        if (spectrum) be->ops->free(be, spectrum);
        if (plan) be->ops->fft_destroy(plan);
        bcdi_backend_close(be);
    }
    if (st != BCDI_OK) bcdi_prtf_free(out);
    return st;
}
