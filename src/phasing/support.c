/* SPDX-License-Identifier: BSD-3-Clause */
#include "phasing/support.h"

#include "backend/backend.h"
#include "bcdi/log.h"
#include "num/volume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Philox stream of the free-pixel draw (apart from the random starts' run streams). */
#define FREE_PIXEL_STREAM 0xF4EEull

/* Distance of index i from 0 on a periodic axis of length n. */
static double wrapped(size_t i, size_t n)
{
    return (double)(i <= n / 2 ? i : n - i);
}

static bcdi_status autocorrelation_support(const bcdi_phasing_params *p,
                                           const bcdi_phasing_data *data, uint8_t *support)
{
    size_t n = data->shape[0] * data->shape[1] * data->shape[2];
    bcdi_backend *cpu = NULL;
    bcdi_fft *plan = NULL;
    bcdi_cf *field = NULL;
    float *centred = malloc(n * sizeof *centred), *shifted = malloc(n * sizeof *shifted);
    bcdi_status st = BCDI_OK;
    if (!centred || !shifted) {
        st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for the autocorrelation");
        goto done;
    }
    /* unmeasured pixels count as zero intensity here: a slightly blurred autocorrelation */
    for (size_t i = 0; i < n; ++i)
        centred[i] =
            (data->mask && data->mask[i]) || !(data->intensity[i] > 0) ? 0.0f : data->intensity[i];
    bcdi_ifftshift3(shifted, centred, data->shape, sizeof(float));
    st = bcdi_backend_cpu_open(&cpu);
    if (st == BCDI_OK) st = cpu->ops->alloc(cpu, n * sizeof *field, (void **)&field);
    if (st == BCDI_OK) st = cpu->ops->fft_create(cpu, data->shape, 1, &plan);
    if (st != BCDI_OK) goto done;
    for (size_t i = 0; i < n; ++i)
        field[i] = bcdi_cf_make(shifted[i], 0.0f);
    st = cpu->ops->fft_inverse(plan, field, field);
    if (st != BCDI_OK) goto done;
    double peak = 0;
    for (size_t i = 0; i < n; ++i) {
        shifted[i] = bcdi_cf_abs(field[i]);
        if (shifted[i] > peak) peak = shifted[i];
    }
    float threshold = (float)(p->support_autocorrelation_threshold * peak);
    size_t inside = 0;
    for (size_t i = 0; i < n; ++i)
        inside += support[i] = shifted[i] > threshold;
    bcdi_log(BCDI_LOG_INFO, "initial support: autocorrelation > %.3g of max, %.2f%% of the box",
             p->support_autocorrelation_threshold, 100.0 * (double)inside / (double)n);
done:
    if (plan) cpu->ops->fft_destroy(plan);
    if (cpu) {
        cpu->ops->free(cpu, field);
        bcdi_backend_close(cpu);
    }
    free(centred);
    free(shifted);
    return st;
}

bcdi_status bcdi_initial_support(const bcdi_phasing_params *params, const bcdi_phasing_data *data,
                                 uint8_t *support)
{
    const size_t *s = data->shape;
    size_t n = s[0] * s[1] * s[2];
    switch (params->support_init) {
    case BCDI_SUPPORT_AUTOCORRELATION:
        return autocorrelation_support(params, data, support);
    case BCDI_SUPPORT_BOX:
    case BCDI_SUPPORT_SPHERE: {
        double half[3];
        for (int a = 0; a < 3; ++a)
            half[a] = 0.5 * params->support_size * (double)s[a];
        for (size_t i0 = 0; i0 < s[0]; ++i0)
            for (size_t i1 = 0; i1 < s[1]; ++i1)
                for (size_t i2 = 0; i2 < s[2]; ++i2) {
                    double d[3] = {wrapped(i0, s[0]) / half[0], wrapped(i1, s[1]) / half[1],
                                   wrapped(i2, s[2]) / half[2]};
                    int inside = params->support_init == BCDI_SUPPORT_BOX
                                     ? (d[0] <= 1 && d[1] <= 1 && d[2] <= 1)
                                     : (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= 1);
                    support[(i0 * s[1] + i1) * s[2] + i2] = (uint8_t)inside;
                }
        return BCDI_OK;
    }
    case BCDI_SUPPORT_FILE: {
        uint8_t *tmp = malloc(n);
        if (!tmp) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
        for (size_t i = 0; i < n; ++i)
            tmp[i] = data->support_file[i] != 0;
        bcdi_ifftshift3(support, tmp, s, 1);
        free(tmp);
        return BCDI_OK;
    }
    }
    return bcdi_error(BCDI_ERR_INVALID_ARG, "phase: unknown support initialisation");
}

size_t bcdi_choose_free_pixels(uint8_t *mask, const size_t shape[3], double fraction, uint64_t seed)
{
    size_t n = shape[0] * shape[1] * shape[2], measured = 0, held = 0;
    for (size_t i = 0; i < n; ++i)
        measured += mask[i] == BCDI_MASK_MEASURED;
    if (!(fraction > 0) || measured == 0) return 0;
    size_t target = (size_t)(fraction * (double)measured);
    for (uint64_t draw = 0; held < target && draw < 64 * (uint64_t)n; ++draw) {
        bcdi_u32x4 r = bcdi_philox_at(seed, FREE_PIXEL_STREAM, draw);
        size_t c[3] = {r.v[0] % shape[0], r.v[1] % shape[1], r.v[2] % shape[2]};
        for (int d0 = -1; d0 <= 1; ++d0)
            for (int d1 = -1; d1 <= 1; ++d1)
                for (int d2 = -1; d2 <= 1; ++d2) {
                    size_t j0 = (c[0] + shape[0] + (size_t)(long)d0) % shape[0];
                    size_t j1 = (c[1] + shape[1] + (size_t)(long)d1) % shape[1];
                    size_t j2 = (c[2] + shape[2] + (size_t)(long)d2) % shape[2];
                    uint8_t *m = &mask[(j0 * shape[1] + j1) * shape[2] + j2];
                    if (*m == BCDI_MASK_MEASURED) {
                        *m = BCDI_MASK_FREE;
                        ++held;
                    }
                }
    }
    return held;
}
