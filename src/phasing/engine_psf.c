/* SPDX-License-Identifier: BSD-3-Clause */
/* The phasing engine's partial-coherence hooks (psf.h; docs/algorithms.md, "Partial
 * coherence"): keys checked against the recipes, the batch's PSF arrays, each run's widths at
 * the start of a batch, the Richardson-Lucy updates on schedule, the PSF of a finished run. Kept
 * apart from engine.c so that psf=none leaves the engine's own code as it was. */
#include "bcdi/log.h"
#include "phasing/engine_internal.h"
#include "phasing/psf.h"

#include <stdlib.h>
#include <string.h>

static int psf_on(const engine *e)
{
    return e->p->psf_model != BCDI_PSF_NONE;
}

bcdi_status bcdi_engine_psf_prepare(engine *e, const bcdi_phasing_data *data)
{
    const bcdi_phasing_params *p = e->p;
    if (!psf_on(e)) return BCDI_OK;
    if (!(p->psf_sigma >= BCDI_PSF_MIN_SIGMA && p->psf_sigma <= BCDI_PSF_MAX_SIGMA &&
          p->psf_period >= 1 && p->psf_start >= 0 && p->psf_rl_iterations >= 1))
        return bcdi_error(BCDI_ERR_CONFIG,
                          "psf: psf_sigma=%g (expected in [%g, %g]), psf_period=%ld (>= 1), "
                          "psf_start=%ld (>= 0), psf_rl_iterations=%ld (>= 1)",
                          p->psf_sigma, BCDI_PSF_MIN_SIGMA, BCDI_PSF_MAX_SIGMA, p->psf_period,
                          p->psf_start, p->psf_rl_iterations);
    for (size_t r = 0; r < e->recipe_count; ++r)
        if (p->psf_start >= e->recipes[r].total_iterations)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "psf_start=%ld: the recipe has %ld iterations, so the PSF would "
                              "never be used (expected below that, or psf=none)",
                              p->psf_start, e->recipes[r].total_iterations);
    /* the blurred model's floor: far below any count, above FFT rounding */
    float peak = 0.0f;
    for (size_t i = 0; i < e->n; ++i)
        if (!(data->mask && data->mask[i]) && data->intensity[i] > peak) peak = data->intensity[i];
    e->psf_floor = 1e-9f * peak;
    return BCDI_OK;
}

bcdi_status bcdi_engine_psf_alloc(engine *e, size_t batch)
{
    e->ops->free(e->be, e->psf_model);
    e->ops->free(e->be, e->psf_hat);
    e->psf_model = e->psf_hat = NULL;
    if (!psf_on(e)) return BCDI_OK;
    size_t bytes = batch * e->n * sizeof(bcdi_cf);
    bcdi_status st = e->ops->alloc(e->be, bytes, (void **)&e->psf_model);
    if (st == BCDI_OK) st = e->ops->alloc(e->be, bytes, (void **)&e->psf_hat);
    free(e->psf_sigma);
    e->psf_sigma = calloc(3 * batch, sizeof *e->psf_sigma);
    if (!e->psf_host_volume) e->psf_host_volume = malloc(e->n * sizeof(bcdi_cf));
    if (!e->psf_host_gaussian) e->psf_host_gaussian = malloc(e->n * sizeof(float));
    if (st == BCDI_OK && (!e->psf_sigma || !e->psf_host_volume || !e->psf_host_gaussian))
        st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of host memory for the PSF");
    return st;
}

void bcdi_engine_psf_bind(engine *e)
{
    e->ws.psf_model = e->psf_model;
    e->ws.psf_hat = e->psf_hat;
    e->ws.psf_floor = e->psf_floor;
    e->ws.psf_active = 0;
}

bcdi_status bcdi_engine_psf_begin(engine *e, individual **slots, size_t batch, int fresh)
{
    if (!psf_on(e)) return BCDI_OK;
    /* fresh starts take the key's width; children and resumed runs keep their own */
    for (size_t r = 0; r < batch; ++r) {
        if (fresh || !(slots[r]->psf_sigma[0] > 0))
            for (int a = 0; a < 3; ++a)
                slots[r]->psf_sigma[a] = e->p->psf_sigma;
        memcpy(e->psf_sigma + 3 * r, slots[r]->psf_sigma, sizeof slots[r]->psf_sigma);
    }
    return bcdi_phasing_psf_set(&e->ws, e->psf_sigma, e->psf_host_volume, e->psf_host_gaussian);
}

void bcdi_engine_psf_before(engine *e, long t)
{
    e->ws.psf_active = psf_on(e) && t >= e->p->psf_start;
}

bcdi_status bcdi_engine_psf_after(engine *e, individual **slots, size_t batch, long t)
{
    if (!e->ws.psf_active || (t + 1 - e->p->psf_start) % e->p->psf_period != 0) return BCDI_OK;
    bcdi_status st = bcdi_phasing_psf_update(&e->ws, e->psf_sigma, e->p->psf_rl_iterations,
                                             e->psf_host_volume, e->psf_host_gaussian);
    /* the widths live in the individuals, so a checkpoint taken after this holds them */
    for (size_t r = 0; st == BCDI_OK && r < batch; ++r)
        memcpy(slots[r]->psf_sigma, e->psf_sigma + 3 * r, sizeof slots[r]->psf_sigma);
    return st;
}

bcdi_status bcdi_engine_psf_result(const engine *e, const individual *ind, float **psf)
{
    *psf = NULL;
    if (!psf_on(e)) return BCDI_OK;
    *psf = malloc(e->n * sizeof **psf);
    if (!*psf) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for the PSF");
    bcdi_status st = bcdi_psf_gaussian(e->shape, ind->psf_sigma, 1, *psf);
    if (st != BCDI_OK) {
        free(*psf);
        *psf = NULL;
        return st;
    }
    bcdi_log(BCDI_LOG_NOTICE,
             "run %ld: partial-coherence PSF widths (rms) %.3g x %.3g x %.3g detector voxels",
             ind->run_id, ind->psf_sigma[0], ind->psf_sigma[1], ind->psf_sigma[2]);
    return BCDI_OK;
}

void bcdi_engine_psf_free(engine *e)
{
    e->ops->free(e->be, e->psf_model);
    e->ops->free(e->be, e->psf_hat);
    e->psf_model = e->psf_hat = NULL;
    free(e->psf_host_volume);
    free(e->psf_host_gaussian);
    free(e->psf_sigma);
    e->psf_host_volume = NULL;
    e->psf_host_gaussian = NULL;
    e->psf_sigma = NULL;
}
