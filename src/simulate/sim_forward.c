/* SPDX-License-Identifier: BSD-3-Clause */
/* Forward model and detector: |FFT(ρ)|², scaling, Poisson noise, Excalibur gaps, dead pixels,
 * saturation and the stored dtype. */
#include "backend/backend.h"
#include "bcdi/simulate.h"
#include "io/nexus.h"
#include "philox.h"
#include "instrument/excalibur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* index with the zero frequency moved from 0 to N/2 (numpy fftshift) */
static size_t shift_index(size_t i, size_t n)
{
    return (i + n / 2) % n;
}

bcdi_status bcdi_simulate_intensity(bcdi_backend *backend, const size_t shape[3],
                                    const bcdi_cf *object, float *intensity)
{
    const size_t n0 = shape[0], n1 = shape[1], n2 = shape[2], n = n0 * n1 * n2;
    if (n == 0 || !object || !intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "simulate intensity: empty input");
    bcdi_backend *be = backend;
    bcdi_status st = BCDI_OK;
    if (!be && (st = bcdi_backend_open("cpu", &be)) != BCDI_OK) return st;
    bcdi_cf *host = malloc(n * sizeof *host);
    bcdi_cf *device = NULL;
    bcdi_fft *plan = NULL;
    if (!host) {
        st = bcdi_error(BCDI_ERR_NOMEM, "simulate intensity: %zu voxels", n);
        goto done;
    }
    /* the object is centred (r = 0 at index N/2): move r = 0 to index 0 for the FFT */
    for (size_t i0 = 0; i0 < n0; ++i0)
        for (size_t i1 = 0; i1 < n1; ++i1)
            for (size_t i2 = 0; i2 < n2; ++i2)
                host[(i0 * n1 + i1) * n2 + i2] =
                    object[(shift_index(i0, n0) * n1 + shift_index(i1, n1)) * n2 +
                           shift_index(i2, n2)];
    if ((st = be->ops->alloc(be, n * sizeof *host, (void **)&device)) != BCDI_OK ||
        (st = be->ops->upload(be, device, host, n * sizeof *host)) != BCDI_OK ||
        (st = be->ops->fft_create(be, shape, 1, &plan)) != BCDI_OK ||
        (st = be->ops->fft_forward(plan, device, device)) != BCDI_OK ||
        (st = be->ops->download(be, host, device, n * sizeof *host)) != BCDI_OK)
        goto done;
    /* and the zero frequency to the middle of the centred intensity */
    for (size_t i0 = 0; i0 < n0; ++i0)
        for (size_t i1 = 0; i1 < n1; ++i1)
            for (size_t i2 = 0; i2 < n2; ++i2) {
                bcdi_cf f = host[(i0 * n1 + i1) * n2 + i2];
                intensity[(shift_index(i0, n0) * n1 + shift_index(i1, n1)) * n2 +
                          shift_index(i2, n2)] = f.re * f.re + f.im * f.im;
            }
done:
    if (plan) be->ops->fft_destroy(plan);
    if (device) be->ops->free(be, device);
    free(host);
    if (!backend && be) bcdi_backend_close(be);
    return st;
}

/* ---- Poisson ----
 * Counter for draw j of element `index`: (index << 8) | j, so each element owns 256 Philox
 * blocks; one block gives two 53-bit uniforms. */
static void uniform_pair(uint64_t seed, uint64_t stream, uint64_t index, unsigned draw, double *u,
                         double *v)
{
    bcdi_u32x4 w = bcdi_philox_at(seed, stream, (index << 8) | (uint64_t)draw);
    *u = bcdi_u32x2_to_unit_double(w.v[0], w.v[1]);
    *v = bcdi_u32x2_to_unit_double(w.v[2], w.v[3]);
}

double bcdi_simulate_poisson(uint64_t seed, uint64_t stream, uint64_t index, double lambda)
{
    if (!(lambda > 0.0)) return 0.0;
    double u, v;
    if (lambda < 10.0) {
        /* inversion: walk the cumulative distribution until it passes u */
        uniform_pair(seed, stream, index, 0, &u, &v);
        double term = exp(-lambda), cumulative = term;
        double k = 0.0;
        while (u > cumulative && k < 1000.0) {
            k += 1.0;
            term *= lambda / k;
            cumulative += term;
            if (term < 1e-300 && k > lambda) break; /* rounding left u above the total */
        }
        return k;
    }
    /* PTRS: Hörmann, "The transformed rejection method for generating Poisson random
     * variables", Insurance: Mathematics and Economics 12, 39 (1993) */
    double slam = sqrt(lambda), loglam = log(lambda);
    double b = 0.931 + 2.53 * slam;
    double a = -0.059 + 0.02483 * b;
    double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    double v_r = 0.9277 - 3.6224 / (b - 2.0);
    for (unsigned draw = 0; draw < 256; ++draw) {
        uniform_pair(seed, stream, index, draw, &u, &v);
        u -= 0.5;
        double us = 0.5 - fabs(u);
        double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
        if (us >= 0.07 && v <= v_r) return k;
        if (k < 0.0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
            -lambda + k * loglam - lgamma(k + 1.0))
            return k;
    }
    return floor(lambda + 0.5); /* 256 rejections in a row: probability below 1e-250 */
}

/* ---- detector ---- */

void bcdi_simulate_frames_free(bcdi_simulate_frames *frames)
{
    if (!frames) return;
    free(frames->data);
    free(frames->pixel_mask);
    free(frames->rocking_deg);
    frames->data = NULL;
    frames->pixel_mask = NULL;
    frames->rocking_deg = NULL;
}

static size_t dtype_bytes(bcdi_sim_dtype t)
{
    return t == BCDI_SIM_UINT16 ? 2 : 4;
}

bcdi_status bcdi_simulate_frames_make(const bcdi_simulate_params *p, const bcdi_geometry *g,
                                      const float *intensity, bcdi_simulate_frames *out)
{
    memset(out, 0, sizeof(*out));
    bcdi_status st = bcdi_simulate_validate(p);
    if (st != BCDI_OK) return st;
    const size_t n0 = p->shape[0], n1 = p->shape[1], n2 = p->shape[2], n = n0 * n1 * n2;

    /* where the region sits on the gapped detector, and which of its rows/columns are kept */
    bcdi_excalibur det;
    bcdi_excalibur_default(&det);
    long origin[2] = {-1, -1};
    if (p->gaps != BCDI_SIM_GAPS_NONE) {
        long rows = (long)bcdi_excalibur_gapped_rows(&det),
             cols = (long)bcdi_excalibur_gapped_cols(&det);
        if (p->roi_centered) {
            origin[0] = (rows - (long)n1) / 2;
            origin[1] = (cols - (long)n2) / 2;
        } else {
            origin[0] = p->roi_origin[0];
            origin[1] = p->roi_origin[1];
        }
        if (origin[0] < 0 || origin[1] < 0 || origin[0] + (long)n1 > rows ||
            origin[1] + (long)n2 > cols)
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "roi_origin: a %zu x %zu region at (%ld, %ld) leaves the %ld x %ld "
                              "Excalibur frame",
                              n1, n2, origin[0], origin[1], rows, cols);
    }
    size_t *keep_rows = malloc(n1 * sizeof *keep_rows);
    size_t *keep_cols = malloc(n2 * sizeof *keep_cols);
    if (!keep_rows || !keep_cols) {
        st = bcdi_error(BCDI_ERR_NOMEM, "simulate frames");
        goto fail;
    }
    size_t out_rows = 0, out_cols = 0;
    for (size_t r = 0; r < n1; ++r)
        if (p->gaps != BCDI_SIM_GAPS_RAW ||
            bcdi_excalibur_row_to_raw(&det, origin[0] + (long)r) >= 0)
            keep_rows[out_rows++] = r;
    for (size_t c = 0; c < n2; ++c)
        if (p->gaps != BCDI_SIM_GAPS_RAW ||
            bcdi_excalibur_col_to_raw(&det, origin[1] + (long)c) >= 0)
            keep_cols[out_cols++] = c;
    if (out_rows == 0 || out_cols == 0) {
        st = bcdi_error(BCDI_ERR_INVALID_ARG,
                        "gaps=raw: the region at (%ld, %ld) lies entirely in detector gaps",
                        origin[0], origin[1]);
        goto fail;
    }
    out->dims[0] = n0;
    out->dims[1] = out_rows;
    out->dims[2] = out_cols;
    out->dtype = p->dtype;
    out->origin[0] = origin[0];
    out->origin[1] = origin[1];
    const size_t frame = out_rows * out_cols, total = n0 * frame;
    out->data = malloc(total * dtype_bytes(p->dtype));
    out->pixel_mask = calloc(frame, sizeof *out->pixel_mask);
    out->rocking_deg = malloc(n0 * sizeof *out->rocking_deg);
    if (!out->data || !out->pixel_mask || !out->rocking_deg) {
        st = bcdi_error(BCDI_ERR_NOMEM, "simulate frames: %zu values", total);
        goto fail;
    }
    double theta_bragg = 0.5 * g->two_theta_deg;
    for (size_t f = 0; f < n0; ++f)
        out->rocking_deg[f] = theta_bragg + ((double)f - (double)(n0 / 2)) * p->rocking_step_deg;

    /* gap flags (inserted mode only: raw has removed them, none has none) */
    if (p->gaps == BCDI_SIM_GAPS_INSERTED)
        bcdi_excalibur_gap_mask(&det, origin[0], origin[1], n1, n2, out->pixel_mask,
                                BCDI_PIXEL_GAP);
    /* dead pixels: distinct non-gap pixels of the written frame (Philox stream DEAD) */
    size_t usable = 0;
    for (size_t i = 0; i < frame; ++i)
        usable += out->pixel_mask[i] == 0;
    if ((size_t)p->dead_pixels > usable / 2) {
        st = bcdi_error(BCDI_ERR_INVALID_ARG,
                        "dead_pixels: %ld, but the frame has only %zu pixels outside the gaps",
                        p->dead_pixels, usable);
        goto fail;
    }
    uint64_t draw = 0;
    for (long k = 0; k < p->dead_pixels; ++draw) {
        bcdi_u32x4 w = bcdi_philox_at(p->seed, BCDI_SIM_STREAM_DEAD, draw);
        size_t pixel = (size_t)(bcdi_u32x2_to_unit_double(w.v[0], w.v[1]) * (double)frame);
        if (pixel >= frame || out->pixel_mask[pixel] != 0) continue;
        out->pixel_mask[pixel] = BCDI_PIXEL_DEAD;
        ++k;
    }

    /* expected counts */
    double sum = 0.0;
    for (size_t v = 0; v < n; ++v)
        sum += intensity[v];
    if (p->photons > 0.0 && !(sum > 0.0)) {
        st = bcdi_error(BCDI_ERR_DATA, "simulate: the diffraction pattern is zero everywhere");
        goto fail;
    }
    out->scale = p->photons > 0.0 ? p->photons / sum : 1.0;
    double ceiling = HUGE_VAL;
    if (p->bits > 0) ceiling = ldexp(1.0, p->bits) - 1.0;
    if (p->dtype == BCDI_SIM_UINT16 && ceiling > 65535.0) ceiling = 65535.0;
    if (p->dtype == BCDI_SIM_UINT32 && ceiling > 4294967295.0) ceiling = 4294967295.0;

    size_t saturated = 0;
#pragma omp parallel for schedule(static) reduction(+ : saturated)
    for (long f = 0; f < (long)n0; ++f) {
        for (size_t r = 0; r < out_rows; ++r) {
            for (size_t c = 0; c < out_cols; ++c) {
                size_t source = ((size_t)f * n1 + keep_rows[r]) * n2 + keep_cols[c];
                size_t target = ((size_t)f * out_rows + r) * out_cols + c;
                double value = 0.0;
                if (out->pixel_mask[r * out_cols + c] == 0) {
                    double lambda = out->scale * intensity[source];
                    /* the counter is the voxel of the simulated region, so a pixel's counts do
                     * not depend on the gap mode or on which pixels are dead */
                    value = p->noise == BCDI_SIM_NOISE_POISSON
                                ? bcdi_simulate_poisson(p->seed, BCDI_SIM_STREAM_POISSON, source,
                                                        lambda)
                                : lambda;
                    if (p->dtype != BCDI_SIM_FLOAT32) value = floor(value + 0.5);
                    if (value > ceiling) {
                        value = ceiling;
                        ++saturated;
                    }
                }
                if (p->dtype == BCDI_SIM_UINT16)
                    ((uint16_t *)out->data)[target] = (uint16_t)value;
                else if (p->dtype == BCDI_SIM_UINT32)
                    ((uint32_t *)out->data)[target] = (uint32_t)value;
                else
                    ((float *)out->data)[target] = (float)value;
            }
        }
    }
    out->saturated = saturated;
    free(keep_rows);
    free(keep_cols);
    return BCDI_OK;
fail:
    free(keep_rows);
    free(keep_cols);
    bcdi_simulate_frames_free(out);
    return st;
}
