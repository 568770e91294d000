/* SPDX-License-Identifier: BSD-3-Clause */
/* The phasing engine: runs a recipe on a batch of reconstructions through the backend ops table.
 *
 * Device memory per run: rho (8 B/voxel), psi (8 B/voxel; also the float scratch of shrink-wrap:
 * |rho| in its first half, the blur's temporary in its second), support (1 B/voxel): 17 B/voxel.
 * DM adds one more complex array (8 B/voxel), psf=gaussian two (16 B/voxel: the blurred model
 * and the PSF's spectrum). Amplitudes (4 B) and mask (1 B) are shared.
 *
 * Arrays are kept ifftshifted on the device (zero frequency at index 0), so the object lives
 * around index 0 with periodic wrap; results are fftshifted back and centred on output.
 *
 * (A little over 700 lines: the batch loop, its restarts, the generations and the results stay
 * in one reading order; what could leave has left: the population between generations in
 * population.c, checkpoints in checkpoint.c, rank rounds in engine_sync.c, the PSF in
 * engine_psf.c.) */
#include "bcdi/phasing.h"

#include "bcdi/align.h"
#include "bcdi/breed.h"
#include "bcdi/log.h"
#include "core/ckd.h"
#include "core/interrupt.h"
#include "num/volume.h"
#include "phasing/engine_internal.h"
#include "phasing/mask_bound.h"
#include "phasing/support.h"
#include "core/clock.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const metric_names[] = {"llk", "fourier", "free_llk", "sharpness"};

const char *bcdi_metric_name(bcdi_metric metric)
{
    return (unsigned)metric < 4 ? metric_names[metric] : "?";
}

bcdi_status bcdi_metric_from_name(const char *name, bcdi_metric *metric)
{
    for (int m = 0; m < 4; ++m)
        if (!strcasecmp(name, metric_names[m])) {
            *metric = (bcdi_metric)m;
            return BCDI_OK;
        }
    return bcdi_error(BCDI_ERR_CONFIG, "metric '%s': expected llk, fourier, free_llk or sharpness",
                      name);
}

/* bcdi_phasing_default: the defaults of the key table, in phasing_params.c */

static double metric_value(bcdi_metric metric, const bcdi_history_point *h)
{
    switch (metric) {
    case BCDI_METRIC_LLK:
        return h->llk;
    case BCDI_METRIC_FOURIER:
        return h->fourier_error;
    case BCDI_METRIC_FREE_LLK:
        return h->free_llk;
    case BCDI_METRIC_SHARPNESS:
        return h->sharpness;
    }
    return NAN;
}

double bcdi_engine_metric(bcdi_metric metric, const bcdi_history_point *h)
{
    return metric_value(metric, h);
}

bcdi_status bcdi_engine_push_history(individual *ind, const bcdi_history_point *h)
{
    if (ind->history_count == ind->history_capacity) {
        size_t cap = ind->history_capacity ? 2 * ind->history_capacity : 64;
        bcdi_history_point *bigger = realloc(ind->history, cap * sizeof *bigger);
        if (!bigger) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for the history");
        ind->history = bigger;
        ind->history_capacity = cap;
    }
    ind->history[ind->history_count++] = *h;
    return BCDI_OK;
}

/* ---- data ------------------------------------------------------------------------------------ */

static bcdi_status check_data(const bcdi_phasing_data *data, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
        float v = data->intensity[i];
        size_t i2 = i % data->shape[2], i1 = (i / data->shape[2]) % data->shape[1],
               i0 = i / (data->shape[1] * data->shape[2]);
        if (data->mask && data->mask[i]) continue;
        if (!isfinite(v))
            return bcdi_error(
                BCDI_ERR_DATA,
                "intensity is not finite (%g) at frame %zu, row %zu, column %zu: mask "
                "it or fix the data",
                (double)v, i0, i1, i2);
        if (v < 0)
            return bcdi_error(BCDI_ERR_DATA,
                              "negative intensity %g at frame %zu, row %zu, column %zu: counts "
                              "must be >= 0 (mask the pixel or subtract less background)",
                              (double)v, i0, i1, i2);
        total += v;
    }
    if (!(total > 0))
        return bcdi_error(BCDI_ERR_DATA, "no measured pixel has a positive intensity (all zero "
                                         "or all masked): nothing to reconstruct");
    return BCDI_OK;
}

/* Masked voxels: their amplitude slot holds the bound from their measured neighbourhood
 * (BCDI_MASK_NO_BOUND without one); with mask_bound they become BCDI_MASK_BOUNDED and the
 * projection holds the model to it, without it the metrics count how often the model exceeds
 * it. Says what it did, since it shapes what the masked region will hold. */
static bcdi_status bound_masked_voxels(engine *e, const bcdi_phasing_data *data, uint8_t *mask,
                                       float *amplitude)
{
    bcdi_mask_bound_summary sum;
    bcdi_status st =
        bcdi_masked_voxel_bounds(data->intensity, mask, e->shape, e->p->mask_bound_radius,
                                 e->p->mask_bound_factor, amplitude, &sum);
    if (st != BCDI_OK) return st;
    /* with mask_bound the bounded voxels are held to it; without, the bound only measures */
    if (sum.masked && e->p->mask_bound)
        for (size_t i = 0; i < e->n; ++i)
            if (mask[i] == BCDI_MASK_UNMEASURED && amplitude[i] != BCDI_MASK_NO_BOUND)
                mask[i] = BCDI_MASK_BOUNDED;
    e->n_masked = sum.masked;
    e->n_bounded = sum.bounded;
    if (!sum.masked || (e->team && e->team->rank != 0)) return BCDI_OK; /* rank 0 says it */
    bcdi_log(BCDI_LOG_NOTICE,
             "masked voxels: %zu (%.3f%% of the box); %s %g x (the largest measured count within "
             "%ld voxels + 1; for %zu deep in masked regions, within the nearest reach that holds "
             "a measured voxel): %.6g photons in all",
             sum.masked, 100.0 * (double)sum.masked / (double)e->n,
             e->p->mask_bound ? "held at most at" : "free (mask_bound=false), compared with",
             e->p->mask_bound_factor, e->p->mask_bound_radius, sum.bounded_far, sum.bound_photons);
    return BCDI_OK;
}

static bcdi_status upload_data(engine *e, const bcdi_phasing_data *data)
{
    size_t n = e->n;
    float *amplitude_host = malloc(n * sizeof *amplitude_host);
    float *shifted = malloc(n * sizeof *shifted);
    uint8_t *mask_host = calloc(n, 1), *mask_shifted = malloc(n);
    bcdi_status st = BCDI_OK;
    if (!amplitude_host || !shifted || !mask_host || !mask_shifted) {
        st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for the data");
        goto done;
    }
    for (size_t i = 0; i < n; ++i) {
        int masked = data->mask && data->mask[i];
        mask_host[i] = masked ? BCDI_MASK_UNMEASURED : BCDI_MASK_MEASURED;
        amplitude_host[i] = masked ? BCDI_MASK_NO_BOUND : sqrtf(data->intensity[i]);
    }
    st = bound_masked_voxels(e, data, mask_host, amplitude_host);
    if (st != BCDI_OK) goto done;
    bcdi_ifftshift3(shifted, amplitude_host, e->shape, sizeof(float));
    bcdi_ifftshift3(mask_shifted, mask_host, e->shape, 1);
    e->n_free = bcdi_choose_free_pixels(mask_shifted, e->shape, e->p->free_fraction, e->p->seed);
    e->n_measured = 0;
    for (size_t i = 0; i < n; ++i)
        e->n_measured += mask_shifted[i] == BCDI_MASK_MEASURED;
    st = e->ops->alloc(e->be, n * sizeof(float), (void **)&e->amplitude);
    if (st == BCDI_OK) st = e->ops->alloc(e->be, n, (void **)&e->mask);
    if (st == BCDI_OK) st = e->ops->upload(e->be, e->amplitude, shifted, n * sizeof(float));
    if (st == BCDI_OK) st = e->ops->upload(e->be, e->mask, mask_shifted, n);
    if (st != BCDI_OK) goto done;
    /* the initial support, in the internal layout */
    e->initial_support = malloc(n);
    if (!e->initial_support) {
        st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for the support");
        goto done;
    }
    st = bcdi_initial_support(e->p, data, e->initial_support);
done:
    free(amplitude_host);
    free(shifted);
    free(mask_host);
    free(mask_shifted);
    return st;
}

/* ---- batch buffers -----------------------------------------------------------------------------
 */

static bcdi_status ensure_batch(engine *e, size_t batch)
{
    bcdi_status st = BCDI_OK;
    if (batch > e->capacity) {
        e->capacity = 0; /* until every buffer below exists */
        e->ops->free(e->be, e->rho);
        e->ops->free(e->be, e->psi);
        e->ops->free(e->be, e->dm_b);
        e->ops->free(e->be, e->support);
        e->rho = e->psi = e->dm_b = NULL;
        e->support = NULL;
        size_t voxels = batch * e->n;
        st = e->ops->alloc(e->be, voxels * sizeof(bcdi_cf), (void **)&e->rho);
        if (st == BCDI_OK) st = e->ops->alloc(e->be, voxels * sizeof(bcdi_cf), (void **)&e->psi);
        if (st == BCDI_OK && e->uses_dm)
            st = e->ops->alloc(e->be, voxels * sizeof(bcdi_cf), (void **)&e->dm_b);
        if (st == BCDI_OK) st = e->ops->alloc(e->be, voxels, (void **)&e->support);
        if (st == BCDI_OK) st = bcdi_engine_psf_alloc(e, batch);
        free(e->fourier_terms);
        free(e->update_terms);
        free(e->maxima);
        free(e->thresholds);
        free(e->counts);
        e->fourier_terms = calloc(batch * BCDI_FOURIER_TERMS, sizeof(double));
        e->update_terms = calloc(batch * BCDI_UPDATE_TERMS, sizeof(double));
        e->maxima = calloc(2 * batch, sizeof(float)); /* shrink-wrap scratch */
        e->thresholds = calloc(batch, sizeof(float));
        e->counts = calloc(batch, sizeof(uint64_t));
        if (st == BCDI_OK &&
            (!e->fourier_terms || !e->update_terms || !e->maxima || !e->thresholds || !e->counts))
            st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of host memory");
        if (st != BCDI_OK) return st;
        e->capacity = batch;
    }
    if (e->plan_batch != batch) {
        if (e->plan) e->ops->fft_destroy(e->plan);
        e->plan = NULL;
        e->plan_batch = 0;
        st = e->ops->fft_create(e->be, e->shape, batch, &e->plan);
        if (st != BCDI_OK) return st;
        e->plan_batch = batch;
    }
    e->ws.be = e->be;
    memcpy(e->ws.shape, e->shape, sizeof e->ws.shape);
    e->ws.n = e->n;
    e->ws.batch = batch;
    e->ws.amplitude = e->amplitude;
    e->ws.mask = e->mask;
    e->ws.rho = e->rho;
    e->ws.psi = e->psi;
    e->ws.dm_b = e->dm_b;
    e->ws.support = e->support;
    e->ws.plan = e->plan;
    bcdi_engine_psf_bind(e);
    return BCDI_OK;
}

/* ---- shrink-wrap -------------------------------------------------------------------------------
 */

static double sigma_at(const bcdi_phasing_params *p, long t, long total)
{
    double s0 = p->shrinkwrap_sigma_start, s1 = p->shrinkwrap_sigma_end;
    if (total <= 1 || s0 <= 0 || s1 <= 0) return s1 > 0 ? s1 : s0;
    double f = (double)t / (double)(total - 1);
    return s0 * pow(s1 / s0, f); /* geometric decay from start to end */
}

/* Support <- blurred |rho| > threshold (per-run thresholds relative to the max of the blurred
 * amplitude, or to the rms of |rho|); marks runs whose support fraction leaves [min, max]. */
static bcdi_status shrink_wrap(engine *e, individual **slots, size_t batch, double sigma,
                               int only_shrink, int force_max)
{
    /* on the heap: batch is the user's run count (a VLA of 2 x 8 B per run overflowed the stack
     * from about half a million runs) */
    double *relative = malloc(2 * (batch > 0 ? batch : 1) * sizeof *relative);
    if (!relative) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for shrink-wrap");
    double *rms = relative + batch;
    int use_rms = e->p->shrinkwrap_threshold_rms && !force_max;
    for (size_t r = 0; r < batch; ++r) {
        relative[r] = slots[r]->threshold;
        /* rms of |rho| over the box, from the update's fused sums of this iteration */
        const double *u = e->update_terms + r * BCDI_UPDATE_TERMS;
        rms[r] = sqrt((u[0] + u[1]) / (double)e->n);
    }
    e->ws.batch = batch;
    bcdi_status st = bcdi_phasing_shrink_wrap(&e->ws, sigma, relative, use_rms ? rms : NULL,
                                              only_shrink, e->maxima, e->counts);
    free(relative);
    if (st != BCDI_OK) return st;
    for (size_t r = 0; r < batch; ++r) {
        double fraction = (double)e->counts[r] / (double)e->n;
        if (!slots[r]->failed &&
            (fraction < e->p->support_min_fraction || fraction > e->p->support_max_fraction)) {
            slots[r]->failed = 1;
            slots[r]->failed_fraction = fraction;
        }
    }
    return BCDI_OK;
}

/* ---- metrics -----------------------------------------------------------------------------------
 */

static bcdi_status evaluate(engine *e, individual **slots, size_t batch, long iteration)
{
    bcdi_status st = e->ops->count_nonzero(e->be, e->support, e->n, batch, e->counts);
    if (st != BCDI_OK) return st;
    for (size_t r = 0; r < batch; ++r) {
        const double *f = e->fourier_terms + r * BCDI_FOURIER_TERMS;
        const double *u = e->update_terms + r * BCDI_UPDATE_TERMS;
        bcdi_history_point h;
        h.iteration = iteration;
        /* the field's Fourier error: the root of the relative squared modulus misfit */
        h.fourier_error = (float)(f[1] > 0 ? sqrt(f[0] / f[1]) : NAN);
        h.llk = (float)(e->n_measured ? f[2] / (double)e->n_measured : NAN);
        h.free_llk = (float)(e->n_free ? f[4] / (double)e->n_free : NAN);
        h.sharpness = (float)(u[0] > 0 ? (double)e->counts[r] * u[2] / (u[0] * u[0]) : NAN);
        h.support_fraction = (float)((double)e->counts[r] / (double)e->n);
        h.outside_fraction = (float)(u[0] + u[1] > 0 ? u[1] / (u[0] + u[1]) : NAN);
        h.masked_photons = (float)(e->n_masked ? f[5] : NAN);
        h.masked_over_bound = (float)(e->n_bounded ? f[6] / (double)e->n_bounded : NAN);
        slots[r]->final = h;
        st = bcdi_engine_push_history(slots[r], &h);
        if (st != BCDI_OK) return st;
    }
    /* the leading run of this batch now (its current values, not the best ever seen) */
    const individual *lead = NULL;
    double lead_metric = NAN;
    for (size_t r = 0; r < batch; ++r) {
        double m = metric_value(e->p->metric, &slots[r]->final);
        if (!slots[r]->failed && isfinite(m) && (!lead || m < lead_metric))
            lead = slots[r], lead_metric = m;
    }
    if (lead) {
        e->now.run_id = lead->run_id;
        e->now.metric = lead_metric;
        e->now.llk = lead->final.llk;
        e->now.fourier_error = lead->final.fourier_error;
        e->now.free_llk = lead->final.free_llk;
    }
    return BCDI_OK;
}

/* ---- a batch through one recipe ------------------------------------------------------------- */

/* How the individuals of a batch start: all the same way, at the same iteration. */
typedef enum { START_RANDOM = 0, START_CHILD, START_RESUME } start_mode;

static start_mode start_of(const individual *ind)
{
    if (ind->state == IND_RUNNING) return START_RESUME;
    return ind->from_object ? START_CHILD : START_RANDOM;
}

static bcdi_status run_batch(engine *e, individual **slots, size_t batch, const bcdi_recipe *recipe,
                             start_mode mode, long first)
{
    const bcdi_backend_ops *ops = e->ops;
    size_t n = e->n;
    bcdi_status st = ensure_batch(e, batch);
    if (st != BCDI_OK) return st;
    for (size_t r = 0; r < batch; ++r) {
        individual *ind = slots[r];
        if (mode != START_RESUME) {
            ind->failed = 0;
            ind->history_count = 0;
        }
        if (mode == START_CHILD) {
            st = ops->upload(e->be, e->rho + r * n, ind->object, n * sizeof(bcdi_cf));
        } else if (mode == START_RESUME) {
            /* the iterate as the checkpoint held it, bit for bit */
            st = ops->upload(e->be, e->rho + r * n, ind->object, n * sizeof(bcdi_cf));
            if (st == BCDI_OK) st = ops->upload(e->be, e->support + r * n, ind->support, n);
        } else {
            st = ops->upload(e->be, e->support + r * n, e->initial_support, n);
            /* restarts draw from fresh Philox streams: attempt k of run i uses i + k * 2^32 */
            uint64_t stream = (uint64_t)ind->run_id + ((uint64_t)ind->attempt << 32);
            if (st == BCDI_OK)
                st = ops->random_start(e->be, e->rho + r * n, e->support + r * n, n, 1, e->p->seed,
                                       stream);
        }
        if (st != BCDI_OK) return st;
    }
    if (mode == START_CHILD) {
        /* children get their support from their own density at the final blur width (relative
         * to the maximum: no update sums exist yet for the rms rule) */
        st = shrink_wrap(e, slots, batch, e->p->shrinkwrap_sigma_end, 0, 1);
        if (st != BCDI_OK) return st;
    }
    st = bcdi_engine_psf_begin(e, slots, batch, mode == START_RANDOM);
    if (st != BCDI_OK) return st;
    long total = recipe->total_iterations, t = 0;
    long interval = e->p->metric_interval > 0 ? e->p->metric_interval : total;
    for (size_t s = 0; s < recipe->count; ++s) {
        const bcdi_recipe_step *step = &recipe->steps[s];
        for (long k = 0; k < step->iterations; ++k, ++t) {
            if (t < first) continue; /* done before the checkpoint this batch resumes from */
            int last = t == total - 1;
            int wrap_now = e->p->shrinkwrap_period > 0 && !last &&
                           (t + 1) % e->p->shrinkwrap_period == 0 &&
                           (step->algorithm != BCDI_ALGO_ER || e->p->shrinkwrap_in_er);
            int want_terms =
                last || (t + 1) % interval == 0 || (wrap_now && e->p->shrinkwrap_threshold_rms);
            bcdi_engine_psf_before(e, t);
            st = bcdi_phasing_iterate(&e->ws, step->algorithm, (float)step->beta,
                                      step->positivity || e->p->positivity, e->p->real_only,
                                      want_terms ? e->fourier_terms : NULL,
                                      want_terms ? e->update_terms : NULL);
            if (st == BCDI_OK && want_terms) st = evaluate(e, slots, batch, t + 1);
            if (st == BCDI_OK) st = bcdi_engine_psf_after(e, slots, batch, t);
            if (st == BCDI_OK && wrap_now)
                st = shrink_wrap(e, slots, batch, sigma_at(e->p, t, total),
                                 e->p->shrinkwrap_only_shrink, 0);
            if (st == BCDI_OK) st = bcdi_engine_sync_point(e, slots, batch, t + 1);
            if (st != BCDI_OK) return st;
            ++e->done;
            if (e->progress && (e->done % 10 == 0 || last)) {
                e->now.done = e->done;
                e->now.total = e->total;
                e->now.generation = e->generation;
                e->progress(&e->now, e->user);
            }
        }
    }
    /* bring the individuals home */
    for (size_t r = 0; r < batch; ++r) {
        individual *ind = slots[r];
        if (!ind->object) ind->object = malloc(n * sizeof(bcdi_cf));
        if (!ind->support) ind->support = malloc(n);
        if (!ind->object || !ind->support)
            return bcdi_error(BCDI_ERR_NOMEM, "phase: out of host memory for the results");
        st = ops->download(e->be, ind->object, e->rho + r * n, n * sizeof(bcdi_cf));
        if (st == BCDI_OK) st = ops->download(e->be, ind->support, e->support + r * n, n);
        if (st != BCDI_OK) return st;
    }
    return BCDI_OK;
}

/* After its batch: finished, or a failed run restarted from a fresh random start with an
 * adjusted threshold (collapse: lower; runaway: higher) at most support_max_restarts times,
 * then dropped. */
static void settle(engine *e, individual *ind, const bcdi_recipe *recipe)
{
    ind->position = 0;
    if (!ind->failed) {
        ind->state = IND_FINISHED;
        return;
    }
    const char *why = ind->failed_fraction < e->p->support_min_fraction ? "collapsed" : "grew";
    if (ind->attempt >= e->p->support_max_restarts) {
        bcdi_log(BCDI_LOG_WARN,
                 "run %ld: support %s (fraction %.3g outside [%g, %g]) after %d restarts; "
                 "dropping it",
                 ind->run_id, why, ind->failed_fraction, e->p->support_min_fraction,
                 e->p->support_max_fraction, ind->attempt);
        ind->state = IND_DROPPED;
        return;
    }
    double old = ind->threshold;
    ind->threshold *= ind->failed_fraction < e->p->support_min_fraction ? 0.7 : 1.3;
    ind->attempt++;
    e->total += recipe->total_iterations;
    bcdi_log(BCDI_LOG_NOTICE,
             "run %ld: support %s (fraction %.3g outside [%g, %g]); restarting with "
             "shrink-wrap threshold %.3g (was %.3g)",
             ind->run_id, why, ind->failed_fraction, e->p->support_min_fraction,
             e->p->support_max_fraction, ind->threshold, old);
    ind->state = IND_PENDING;
    ind->from_object = 0; /* restarts begin from random starts */
}

/* Run this rank's individuals through `recipe` in batches of those that start the same way at
 * the same iteration (in ranking order), until each has finished or been dropped; then wait
 * for the team. The results do not depend on how the batches are made: each run's arithmetic
 * is its own (tests/test_hpc.c). */
static bcdi_status run_population(engine *e, const bcdi_recipe *recipe)
{
    size_t count = e->local_count;
    size_t batch_max = e->p->batch > 0 ? (size_t)e->p->batch : (count ? count : 1);
    individual **slots = malloc((count ? count : 1) * sizeof *slots);
    if (!slots) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    bcdi_status st = BCDI_OK;
    while (st == BCDI_OK) {
        size_t b = 0;
        int mode = -1;
        long first = 0;
        for (size_t i = 0; i < count && b < batch_max; ++i) {
            individual *ind = e->local[i];
            if (ind->state != IND_PENDING && ind->state != IND_RUNNING) continue;
            long at = ind->state == IND_RUNNING ? ind->position : 0;
            if (mode < 0) mode = (int)start_of(ind), first = at;
            if ((int)start_of(ind) == mode && at == first) slots[b++] = ind;
        }
        if (b == 0) break;
        st = run_batch(e, slots, b, recipe, (start_mode)mode, first);
        for (size_t r = 0; st == BCDI_OK && r < b; ++r)
            settle(e, slots[r], recipe);
    }
    free(slots);
    /* an agreed stop ends every rank at the same round: no more rounds then */
    if (st == BCDI_ERR_INTERRUPTED || e->team_failed) return st;
    bcdi_status waited = bcdi_engine_wait_for_team(e, st != BCDI_OK);
    return st != BCDI_OK ? st : waited;
}

/* ---- output -------------------------------------------------------------------------------- */

/* Centre the object (circular centre of mass of |rho| to the box centre), remove the mean
 * phase inside the support; both moved into the centred (fftshifted) layout. */
static bcdi_status finalise(engine *e, individual *ind, bcdi_run_result *out)
{
    size_t n = e->n;
    float *psf = NULL; /* psf=gaussian: the run's PSF */
    bcdi_status made = bcdi_engine_psf_result(e, ind, &psf);
    if (made != BCDI_OK) return made;
    bcdi_cf *centred = malloc(n * sizeof *centred);
    uint8_t *support = malloc(n);
    float *amplitude = malloc(n * sizeof *amplitude);
    if (!centred || !support || !amplitude) {
        free(centred), free(support), free(amplitude), free(psf);
        return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    }
    for (size_t i = 0; i < n; ++i)
        amplitude[i] = ind->support[i] ? bcdi_cf_abs(ind->object[i]) : 0.0f;
    double com[3];
    long shift[3] = {(long)(e->shape[0] / 2), (long)(e->shape[1] / 2), (long)(e->shape[2] / 2)};
    if (bcdi_circular_com(amplitude, e->shape, com))
        for (int a = 0; a < 3; ++a)
            shift[a] = (long)e->shape[a] / 2 - lround(com[a]);
    bcdi_roll3(centred, ind->object, e->shape, sizeof *centred, shift);
    bcdi_roll3(support, ind->support, e->shape, 1, shift);
    free(amplitude);
    bcdi_status st = bcdi_remove_mean_phase(e->shape, centred, support);
    if (st != BCDI_OK) {
        free(centred), free(support), free(psf);
        return st;
    }
    out->run_id = ind->run_id;
    out->generation = ind->generation;
    out->restarts = ind->attempt;
    out->shrinkwrap_threshold = ind->threshold;
    out->object = centred;
    out->support = support;
    out->final = ind->final;
    out->history = ind->history;
    out->history_count = ind->history_count;
    ind->history = NULL;
    ind->history_count = ind->history_capacity = 0;
    out->psf = psf;
    if (psf) memcpy(out->psf_sigma, ind->psf_sigma, sizeof out->psf_sigma);
    return BCDI_OK;
}

static bcdi_status parse_recipes(engine *e)
{
    const char *text = e->p->recipe;
    char piece[4096];
    e->recipe_count = 0;
    while (1) {
        const char *end = strchr(text, ';');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        if (len >= sizeof piece) return bcdi_error(BCDI_ERR_CONFIG, "recipe too long");
        if (e->recipe_count >= BCDI_ENGINE_MAX_GENERATIONS)
            return bcdi_error(BCDI_ERR_CONFIG, "more than %d per-generation recipes",
                              BCDI_ENGINE_MAX_GENERATIONS);
        memcpy(piece, text, len);
        piece[len] = '\0';
        bcdi_status st = bcdi_recipe_parse(piece, e->p->beta, &e->recipes[e->recipe_count]);
        if (st != BCDI_OK) return st;
        for (size_t s = 0; s < e->recipes[e->recipe_count].count; ++s)
            if (e->recipes[e->recipe_count].steps[s].algorithm == BCDI_ALGO_DM) e->uses_dm = 1;
        e->recipe_count++;
        if (!end) break;
        text = end + 1;
    }
    if (e->recipe_count > 1 && (long)e->recipe_count != e->p->generations)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%zu recipes separated by ';' but generations=%ld: give one recipe for "
                          "all generations or one per generation",
                          e->recipe_count, e->p->generations);
    return BCDI_OK;
}

static bcdi_status validate(const bcdi_phasing_params *p, const bcdi_phasing_data *data)
{
    if (!data->shape[0] || !data->shape[1] || !data->shape[2])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "phase: empty data shape");
    if (p->runs < 1) return bcdi_error(BCDI_ERR_CONFIG, "runs=%ld: expected >= 1", p->runs);
    if (p->keep < 1 || p->keep > p->runs)
        return bcdi_error(BCDI_ERR_CONFIG, "keep=%ld: expected 1..runs (%ld)", p->keep, p->runs);
    if (p->generations < 1 || p->generations > BCDI_ENGINE_MAX_GENERATIONS)
        return bcdi_error(BCDI_ERR_CONFIG, "generations=%ld: expected 1..%d", p->generations,
                          BCDI_ENGINE_MAX_GENERATIONS);
    if (p->batch < 0) return bcdi_error(BCDI_ERR_CONFIG, "batch=%ld: expected >= 0", p->batch);
    /* the largest buffer is batch x n complex voxels: refuse sizes whose byte count wraps */
    const size_t *s = data->shape;
    size_t batch = p->batch > 0 && p->batch < p->runs ? (size_t)p->batch : (size_t)p->runs;
    if (bcdi_ckd_volume(s, 3, sizeof(bcdi_cf) * batch, NULL, NULL, "phase: %zu runs per batch",
                        batch) != BCDI_OK)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "phase: %zux%zux%zu voxels x %zu runs per batch is too large to address",
                          s[0], s[1], s[2], batch);
    if (!(p->beta > 0 && p->beta <= 2))
        return bcdi_error(BCDI_ERR_CONFIG, "beta=%g: expected 0 < beta <= 2", p->beta);
    if (!(p->shrinkwrap_threshold > 0 && p->shrinkwrap_threshold < 1))
        return bcdi_error(BCDI_ERR_CONFIG, "shrinkwrap_threshold=%g: expected in (0, 1)",
                          p->shrinkwrap_threshold);
    if (p->shrinkwrap_sigma_start < 0 || p->shrinkwrap_sigma_end < 0 ||
        p->shrinkwrap_sigma_start > BCDI_BLUR_MAX_RADIUS / 4 ||
        p->shrinkwrap_sigma_end > BCDI_BLUR_MAX_RADIUS / 4)
        return bcdi_error(BCDI_ERR_CONFIG, "shrink-wrap sigma %g..%g: expected 0..%d voxels",
                          p->shrinkwrap_sigma_start, p->shrinkwrap_sigma_end,
                          BCDI_BLUR_MAX_RADIUS / 4);
    if (!(p->support_min_fraction >= 0 && p->support_min_fraction < p->support_max_fraction &&
          p->support_max_fraction <= 1))
        return bcdi_error(BCDI_ERR_CONFIG,
                          "support fraction bounds [%g, %g]: expected 0 <= min < max <= 1",
                          p->support_min_fraction, p->support_max_fraction);
    if (p->support_max_restarts < 0)
        return bcdi_error(BCDI_ERR_CONFIG, "support_max_restarts=%ld: expected >= 0",
                          p->support_max_restarts);
    if (!(p->free_fraction >= 0 && p->free_fraction < 0.5))
        return bcdi_error(BCDI_ERR_CONFIG, "free_fraction=%g: expected in [0, 0.5)",
                          p->free_fraction);
    if (p->metric == BCDI_METRIC_FREE_LLK && !(p->free_fraction > 0))
        return bcdi_error(BCDI_ERR_CONFIG, "metric=free_llk needs free_fraction > 0");
    if (!(p->cull_fraction >= 0 && p->cull_fraction < 1))
        return bcdi_error(BCDI_ERR_CONFIG, "cull_fraction=%g: expected in [0, 1)",
                          p->cull_fraction);
    if (p->support_init == BCDI_SUPPORT_FILE && !data->support_file)
        return bcdi_error(BCDI_ERR_CONFIG, "support=file needs support_file=<result.cxi>");
    int rule;
    return bcdi_breed_rule_from_name(p->breed_rule, &rule);
}

void bcdi_engine_free_individual(individual *ind)
{
    free(ind->object);
    free(ind->support);
    free(ind->history);
    ind->object = NULL;
    ind->support = NULL;
    ind->history = NULL;
}

/* A fresh population: this rank's block of run ids, every one pending from a random start. */
static bcdi_status start_population(engine *e)
{
    const bcdi_phasing_params *p = e->p;
    int rank = e->team ? e->team->rank : 0, size = e->team ? e->team->size : 1;
    long lo, hi;
    bcdi_population_block(p->runs, rank, size, &lo, &hi);
    e->order = malloc((size_t)p->runs * sizeof *e->order);
    e->local = calloc((size_t)(hi > lo ? hi - lo : 1), sizeof *e->local);
    if (!e->order || !e->local) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (long r = 0; r < p->runs; ++r)
        e->order[r] = r;
    e->order_count = (size_t)p->runs;
    for (long r = lo; r < hi; ++r) {
        individual *ind = calloc(1, sizeof *ind);
        if (!ind) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
        ind->run_id = r;
        ind->threshold = p->shrinkwrap_threshold;
        e->local[e->local_count++] = ind;
    }
    return BCDI_OK;
}

static void free_engine(engine *e)
{
    if (e->plan) e->ops->fft_destroy(e->plan);
    if (e->ops) {
        e->ops->free(e->be, e->rho);
        e->ops->free(e->be, e->psi);
        e->ops->free(e->be, e->dm_b);
        e->ops->free(e->be, e->support);
        e->ops->free(e->be, e->amplitude);
        e->ops->free(e->be, e->mask);
        bcdi_engine_psf_free(e);
    }
    free(e->fourier_terms);
    free(e->update_terms);
    free(e->maxima);
    free(e->thresholds);
    free(e->counts);
    free(e->initial_support);
    for (size_t r = 0; r < e->recipe_count; ++r)
        bcdi_recipe_free(&e->recipes[r]);
    for (size_t i = 0; i < e->local_count; ++i) {
        bcdi_engine_free_individual(e->local[i]);
        free(e->local[i]);
    }
    free(e->local);
    free(e->order);
    free(e->alpha);
    bcdi_hall_free(e);
}

/* The kept runs: the hall (the best of every generation), finalised on rank 0. */
static bcdi_status finish(engine *e, bcdi_phasing_result *out)
{
    size_t count = e->team && e->team->rank != 0 ? 0 : e->hall_count;
    bcdi_status st = BCDI_OK;
    if (count) {
        out->runs = calloc(count, sizeof *out->runs);
        if (!out->runs) st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    }
    for (size_t k = 0; st == BCDI_OK && k < count; ++k) {
        st = finalise(e, e->hall[k].copy, &out->runs[k]);
        if (st == BCDI_OK) out->count = k + 1;
    }
    memcpy(out->shape, e->shape, sizeof out->shape);
    return st;
}

bcdi_status bcdi_phase_run(bcdi_backend *backend, const bcdi_phasing_params *params,
                           const bcdi_phasing_data *data, const bcdi_phase_team *team,
                           const bcdi_checkpoint_opts *checkpoint, bcdi_phase_progress_fn progress,
                           void *user, bcdi_phasing_result *out, int *resumed_out)
{
    memset(out, 0, sizeof *out);
    if (resumed_out) *resumed_out = 0;
    double t0 = bcdi_clock_s();
    bcdi_status st = validate(params, data);
    if (st != BCDI_OK) return st;
    engine e;
    memset(&e, 0, sizeof e);
    e.be = backend;
    e.ops = backend->ops;
    e.p = params;
    memcpy(e.shape, data->shape, sizeof e.shape);
    e.n = data->shape[0] * data->shape[1] * data->shape[2];
    e.progress = progress;
    e.user = user;
    e.now.run_id = -1;
    e.now.metric = e.now.llk = e.now.fourier_error = e.now.free_llk = NAN;
    e.team = team && team->size > 1 ? team : NULL;
    e.checkpoint = checkpoint;
    e.out = out;
    e.last_checkpoint = t0;
    e.started = t0;
    st = parse_recipes(&e);
    if (st == BCDI_OK) st = check_data(data, e.n);
    if (st == BCDI_OK) st = bcdi_engine_psf_prepare(&e, data);
    if (st == BCDI_OK) st = upload_data(&e, data);
    for (long g = 0; st == BCDI_OK && g < params->generations; ++g)
        e.total += e.recipes[e.recipe_count > 1 ? g : 0].total_iterations;
    out->total_iterations = e.total;
    /* every rank agrees that the data is usable before the population is made */
    if (e.team) st = e.team->agree(e.team->ctx, st);
    int resumed = 0;
    if (st == BCDI_OK) st = bcdi_checkpoint_load(&e, &resumed);
    if (st == BCDI_OK && !resumed) st = start_population(&e);
    if (e.team) st = e.team->agree(e.team->ctx, st);
    if (resumed_out) *resumed_out = resumed;
    for (long g = e.generation; st == BCDI_OK && g < params->generations; ++g) {
        e.generation = g;
        const bcdi_recipe *recipe = &e.recipes[e.recipe_count > 1 ? g : 0];
        st = run_population(&e, recipe);
        /* the failed rank's error, or the agreed stop, on every rank */
        bcdi_status local = e.team_failed ? BCDI_OK : st;
        if (e.team && st != BCDI_ERR_INTERRUPTED) st = e.team->agree(e.team->ctx, local);
        if (st != BCDI_OK) break;
        size_t ok = 0;
        int last = g + 1 == params->generations;
        st = bcdi_population_next(&e, last, &ok);
        if (st == BCDI_OK && ok == 0)
            st = bcdi_error(BCDI_ERR_DATA,
                            "support collapse: every run's support left [%g, %g] of the box even "
                            "after %ld restarts with adjusted thresholds (check the data's "
                            "oversampling, the shrink-wrap threshold and sigma)",
                            params->support_min_fraction, params->support_max_fraction,
                            params->support_max_restarts);
        if (e.team) st = e.team->agree(e.team->ctx, st);
    }
    if (st == BCDI_OK) st = finish(&e, out);
    if (e.team) st = e.team->agree(e.team->ctx, st);
    free_engine(&e);
    /* a resumed run counts the time of the runs before it */
    out->elapsed_s = bcdi_clock_s() - t0 + e.elapsed_before;
    if (st != BCDI_OK) bcdi_phasing_result_free(out);
    return st;
}

/* bcdi_phase's callback, fed from the full progress record */
typedef struct {
    bcdi_progress_fn fn;
    void *user;
} simple_progress;

static void to_simple_progress(const bcdi_phase_progress *now, void *user)
{
    const simple_progress *s = user;
    s->fn(now->done, now->total, now->metric, s->user);
}

bcdi_status bcdi_phase(bcdi_backend *backend, const bcdi_phasing_params *params,
                       const bcdi_phasing_data *data, bcdi_progress_fn progress, void *user,
                       bcdi_phasing_result *out)
{
    simple_progress s = {progress, user};
    return bcdi_phase_run(backend, params, data, NULL, NULL, progress ? to_simple_progress : NULL,
                          &s, out, NULL);
}

void bcdi_phasing_result_free(bcdi_phasing_result *result)
{
    for (size_t k = 0; result->runs && k < result->count; ++k) {
        free(result->runs[k].object);
        free(result->runs[k].support);
        free(result->runs[k].history);
        free(result->runs[k].psf);
    }
    free(result->runs);
    result->runs = NULL;
    result->count = 0;
}
