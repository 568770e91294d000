/* SPDX-License-Identifier: BSD-3-Clause */
/* realpath() is an X/Open extension */
#define _XOPEN_SOURCE 700
/* What `phase` does once its keys are bound (stages.h): read the prepared data, phase, write
 * the best run and the kept ones in one transaction. Shared by `phase` and `batch`. */
#include "stages.h"

#include "phase_report.h"
#include "progress.h"

#include "backend/backend.h"
#include "bcdi/error.h"
#include "bcdi/log.h"
#include "bcdi/phasing.h"
#include "core/hash.h"
#include "core/memory.h"
#include "core/output.h"
#include "hpc/phase_team.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/hdf5.h"
#include "num/volume.h"
#include "phasing/checkpoint.h"
#include "phasing/combine_runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *input;
    const bcdi_config *config;
    const bcdi_phasing_params *params;
    const bcdi_phasing_result *result;
    const bcdi_backend *be;
    const uint8_t *data_mask;
    const bcdi_geometry *geometry; /* NULL if the input had none */
    bcdi_h5_reader *prepared;      /* the input, open: its diffraction summary is copied */
    int crop;
    long crop_margin, deflate;
    const bcdi_combined *combined; /* NULL: the answer is the best run */
} result_context;

/* The combined runs as io/cxi writes them. */
static bcdi_cxi_combined cxi_combined_of(const bcdi_combined *c)
{
    const bcdi_reproducibility *rep = &c->reproducibility;
    bcdi_cxi_combined out = {
        .runs = c->count,
        .run_ids = c->run_ids,
        .generations = c->generations,
        .correlation = c->correlation,
        .twinned = c->twinned,
        .mode_weights = c->mode_weights,
        .complex_mean = rep->complex_mean,
        .complex_min = rep->complex_min,
        .complex_max = rep->complex_max,
        .amplitude_mean = rep->amplitude_mean,
        .amplitude_min = rep->amplitude_min,
        .amplitude_max = rep->amplitude_max,
        .threshold = exp(-1.0), /* bcdi_prtf_default_options */
        .physical = c->prtf.physical,
    };
    const bcdi_prtf_curve *curves[4] = {&c->prtf.overall, &c->prtf.axis[0], &c->prtf.axis[1],
                                        &c->prtf.axis[2]};
    for (int i = 0; i < 4; ++i)
        out.prtf[i] = (bcdi_cxi_curve){curves[i]->shells, curves[i]->frequency, curves[i]->value,
                                       curves[i]->resolution, curves[i]->reached};
    return out;
}

/* Stage kept run `rank` (or the combined answer: rank 0 with c->combined) as `path` in tx: the
 * object (cropped to its support plus the margin when asked) and everything io/cxi records in
 * a result. A combined answer carries the best run's metrics, identity and history beside its
 * combined group. */
static bcdi_status write_result(bcdi_output *tx, const result_context *c, size_t rank, int combined,
                                const char *path)
{
    bcdi_run_result answer = c->result->runs[rank];
    if (combined) answer.object = c->combined->average; /* in the best run's frame and support */
    const bcdi_run_result *run = &answer;
    const size_t *shape = c->result->shape;
    size_t lo[3] = {0, 0, 0}, out_shape[3] = {shape[0], shape[1], shape[2]};
    size_t first[3], last[3];
    /* an empty support keeps the whole array */
    if (c->crop && bcdi_mask_bounds(run->support, shape, first, last))
        bcdi_box_with_margin(first, last, (size_t)c->crop_margin, shape, lo, out_shape);
    size_t n_out = out_shape[0] * out_shape[1] * out_shape[2];
    bcdi_cf *object = malloc(n_out * sizeof *object);
    uint8_t *support = malloc(n_out);
    double *history = malloc((run->history_count ? run->history_count : 1) *
                             BCDI_CXI_HISTORY_NCOLUMNS * sizeof *history);
    bcdi_status st = BCDI_OK;
    if (!object || !support || !history)
        st = bcdi_error(BCDI_ERR_NOMEM, "out of memory writing '%s'", path);
    for (size_t i0 = 0; st == BCDI_OK && i0 < out_shape[0]; ++i0)
        for (size_t i1 = 0; i1 < out_shape[1]; ++i1) {
            size_t src = ((i0 + lo[0]) * shape[1] + (i1 + lo[1])) * shape[2] + lo[2];
            size_t dst = (i0 * out_shape[1] + i1) * out_shape[2];
            memcpy(object + dst, run->object + src, out_shape[2] * sizeof *object);
            memcpy(support + dst, run->support + src, out_shape[2]);
        }
    /* history: one row per evaluation */
    for (size_t r = 0; st == BCDI_OK && r < run->history_count; ++r) {
        const bcdi_history_point *h = &run->history[r];
        double row[BCDI_CXI_HISTORY_NCOLUMNS] = {
            (double)h->iteration, h->fourier_error,  h->llk,
            h->free_llk,          h->sharpness,      h->support_fraction,
            h->outside_fraction,  h->masked_photons, h->masked_over_bound};
        memcpy(history + BCDI_CXI_HISTORY_NCOLUMNS * r, row, sizeof row);
    }
    /* the prepared input, as an absolute path */
    char input_abs[4096];
    const char *input = realpath(c->input, input_abs) ? input_abs : c->input;
    const bcdi_config *cfg = c->config;
    bcdi_cxi_combined cxi_combined;
    if (combined) cxi_combined = cxi_combined_of(c->combined);
    bcdi_cxi_result out = {
        .shape = {out_shape[0], out_shape[1], out_shape[2]},
        .object = object,
        .support = support,
        .crop_origin = {lo[0], lo[1], lo[2]},
        .data_shape = {shape[0], shape[1], shape[2]},
        .data_mask = c->data_mask,
        .geometry = c->geometry,
        .config_keys = bcdi_config_keys(cfg),
        .config_values = bcdi_config_values(cfg),
        .config_count = bcdi_config_count(cfg),
        .input = input,
        .summary_source = c->prepared,
        .fourier_error = run->final.fourier_error,
        .llk = run->final.llk,
        .free_llk = run->final.free_llk,
        .sharpness = run->final.sharpness,
        .support_fraction = run->final.support_fraction,
        .outside_fraction = run->final.outside_fraction,
        .shrinkwrap_threshold = run->shrinkwrap_threshold,
        .elapsed_s = c->result->elapsed_s,
        .metric = bcdi_metric_name(c->params->metric),
        .backend = c->be->kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu",
        .device = c->be->device_name,
        .program = "braggcdi " BCDI_VERSION,
        .rank = (long)rank + 1,
        .run_id = run->run_id,
        .generation = run->generation + 1,
        .restarts = run->restarts,
        .iterations = c->result->total_iterations,
        .seed = (long)c->params->seed,
        .history = history,
        .history_rows = run->history_count,
        .combined = combined ? &cxi_combined : NULL,
        .deflate_level = (int)c->deflate,
        .psf = run->psf,
        .psf_sigma = {run->psf_sigma[0], run->psf_sigma[1], run->psf_sigma[2]},
    };
    if (st == BCDI_OK) st = bcdi_cxi_write_result(tx, path, &out);
    free(object);
    free(support);
    free(history);
    return st;
}

void cli_phase_run_path(const char *output, size_t rank, char *out, size_t cap)
{
    const char *dot = strrchr(output, '.'), *slash = strrchr(output, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - output) : strlen(output);
    snprintf(out, cap, "%.*s-run%zu%s", (int)stem, output, rank + 1,
             dot && (!slash || dot > slash) ? dot : ".cxi");
}

bcdi_status cli_phase_check_outputs(const cli_phase_job *job)
{
    const bcdi_phasing_params *p = &job->options->phasing;
    if (p->support_file[0]) bcdi_output_add_input(p->support_file);
    long kept = p->keep > 1 && p->keep <= p->runs ? p->keep : 0;
    bcdi_status st = BCDI_OK;
    for (long k = 0; st == BCDI_OK && k <= kept && k <= 1000; ++k) {
        char run_name[4200];
        if (k > 0) cli_phase_run_path(job->output, (size_t)k - 1, run_name, sizeof run_name);
        st = bcdi_output_check(k > 0 ? run_name : job->output, BCDI_OUTPUT_FILE);
    }
    char report[4300];
    cli_phase_report_dir(job->output, report, sizeof report);
    if (st == BCDI_OK && job->options->report) st = bcdi_output_check(report, BCDI_OUTPUT_FOLDER);
    char checkpoint[4300];
    snprintf(checkpoint, sizeof checkpoint, "%s.ckpt", job->output);
    if (st == BCDI_OK && job->options->checkpoint_interval > 0)
        st = bcdi_output_check(checkpoint, BCDI_OUTPUT_FILE);
    return st;
}

/* support=file: the support of an earlier result of the same shape (its object is not kept). */
static bcdi_status read_support_file(const char *path, const size_t shape[3], uint8_t **support)
{
    bcdi_cxi_phased earlier;
    bcdi_status st = bcdi_cxi_read_result(path, 1, &earlier);
    if (st == BCDI_OK && !earlier.support)
        st = bcdi_error(BCDI_ERR_FORMAT, "support_file '%s' has no support (entry_1/image_1/mask)",
                        path);
    else if (st == BCDI_OK && memcmp(earlier.shape, shape, sizeof earlier.shape) != 0)
        st = bcdi_error(
            BCDI_ERR_FORMAT, "support_file '%s' is %zux%zux%zu but the data is %zux%zux%zu", path,
            earlier.shape[0], earlier.shape[1], earlier.shape[2], shape[0], shape[1], shape[2]);
    if (st == BCDI_OK) {
        *support = earlier.support;
        earlier.support = NULL;
    }
    bcdi_cxi_phased_free(&earlier);
    return st;
}

/* The kept runs into one answer (1), or 0 with a warning saying why not: the runs are there
 * and good, so a failure to combine them leaves the best run as the answer rather than losing
 * the work. PRTF in nm when the data has a geometry (its voxel sizes for the data's shape). */
static int combine_kept_runs(const bcdi_phasing_result *result, const float *intensity,
                             const uint8_t *mask, const bcdi_geometry *geometry,
                             bcdi_combined *combined)
{
    double voxel_size_m[3] = {0, 0, 0};
    bcdi_status st = BCDI_OK;
    if (geometry) {
        bcdi_geometry g = *geometry;
        if (memcmp(g.shape, result->shape, sizeof g.shape) != 0)
            st = bcdi_geometry_compute(&g, result->shape);
        if (st == BCDI_OK) memcpy(voxel_size_m, g.voxel_size_m, sizeof voxel_size_m);
    }
    if (st == BCDI_OK)
        st = bcdi_combine_runs(result, intensity, mask, geometry ? voxel_size_m : NULL, combined);
    if (st != BCDI_OK) {
        bcdi_log(BCDI_LOG_WARN,
                 "could not combine the %zu kept runs (%s): the answer is the best run",
                 result->count, bcdi_last_error());
        bcdi_clear_error();
        return 0;
    }
    return 1;
}

/* Every kept run and the answer (the combined runs, or the best) under the requested name, all
 * together or none. */
static bcdi_status write_outputs(const cli_phase_job *job, const result_context *ctx)
{
    const bcdi_phasing_result *result = ctx->result;
    char path[4200];
    bcdi_output *tx = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    for (size_t k = 0; st == BCDI_OK && result->count > 1 && k < result->count; ++k) {
        cli_phase_run_path(job->output, k, path, sizeof path);
        st = write_result(tx, ctx, k, 0, path);
    }
    if (st == BCDI_OK) st = write_result(tx, ctx, 0, ctx->combined != NULL, job->output);
    if (st == BCDI_OK && job->options->report) {
        cli_phase_report report = {
            .output = job->output,
            .input = job->input,
            .device = ctx->be->device_name,
            .params = ctx->params,
            .result = result,
            .combined = ctx->combined,
            .answer = ctx->combined ? ctx->combined->average : result->runs[0].object,
            .support = result->runs[0].support,
        };
        st = cli_phase_report_write(tx, &report);
    }
    if (st == BCDI_OK)
        st = bcdi_output_commit(tx);
    else
        bcdi_output_abort(tx);
    if (st == BCDI_OK)
        bcdi_log(BCDI_LOG_INFO,
                 "best run %ld: Fourier error %.4g, llk %.4g, support %.2f%% of the box; "
                 "%.1f s; wrote %s%s",
                 result->runs[0].run_id, result->runs[0].final.fourier_error,
                 result->runs[0].final.llk, 100.0 * result->runs[0].final.support_fraction,
                 result->elapsed_s, job->output,
                 result->count > 1 ? " and the kept runs as <stem>-run<K>.cxi" : "");
    /* what the model put into the masked voxels (docs/algorithms.md, Masked voxels) */
    const bcdi_history_point *best = &result->runs[0].final;
    if (st == BCDI_OK && isfinite(best->masked_photons)) {
        int runaway = isfinite(best->masked_over_bound) && best->masked_over_bound > 0.2f &&
                      !ctx->params->mask_bound;
        bcdi_log(runaway ? BCDI_LOG_WARN : BCDI_LOG_INFO,
                 "masked voxels: the best run's model holds %.6g photons there, over the bound "
                 "from their measured neighbours in %.1f%% of them%s",
                 best->masked_photons, 100.0 * best->masked_over_bound,
                 runaway ? " (more than 20%: the masked region is likely filling with what no "
                           "measurement supports; mask_bound=true holds it, docs/algorithms.md)"
                         : "");
    }
    if (st == BCDI_OK && ctx->combined) {
        const bcdi_combined *c = ctx->combined;
        const char *unit = c->prtf.physical ? "nm" : "voxels";
        bcdi_log(BCDI_LOG_INFO,
                 "%s holds the average of the best %zu runs aligned onto the best (run 1): first "
                 "mode %.3f of the power, complex correlation of the runs %.3f (lowest pair), "
                 "amplitude correlation %.3f (mean); PRTF resolution %.3g, %.3g, %.3g %s along "
                 "axes 0, 1, "
                 "2 (1/e%s)",
                 job->output, c->count, c->mode_weights[0], c->reproducibility.complex_min,
                 c->reproducibility.amplitude_mean, c->prtf.axis[0].resolution,
                 c->prtf.axis[1].resolution, c->prtf.axis[2].resolution, unit,
                 c->prtf.axis[0].reached && c->prtf.axis[1].reached && c->prtf.axis[2].reached
                     ? ""
                     : "; not reached along every axis: a bound set by the sampling there");
    }
    return st;
}

/* Keys that change nothing of the iterates: a checkpoint written with other values of these is
 * resumed all the same (a requeued job may land on another GPU, or write its result with other
 * compression). */
static const char *const checkpoint_free_keys[] = {
    "checkpoint_interval", "restart", "device",  "fft_planner", "fft_wisdom", "crop",
    "crop_margin",         "deflate", "combine", NULL};

/* "key = value" lines of the keys a checkpoint is bound to (for the message of a refusal). */
static char *keys_text(const bcdi_config *cfg)
{
    size_t n = bcdi_config_count(cfg), cap = 1;
    const char *const *keys = bcdi_config_keys(cfg);
    const char *const *values = bcdi_config_values(cfg);
    for (size_t i = 0; i < n; ++i)
        cap += strlen(keys[i]) + strlen(values[i]) + 4;
    char *text = malloc(cap);
    if (!text) return NULL;
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n; ++i) {
        int skip = 0;
        for (size_t k = 0; checkpoint_free_keys[k]; ++k)
            skip |= !strcmp(keys[i], checkpoint_free_keys[k]);
        if (!skip) used += (size_t)snprintf(text + used, cap - used, "%s=%s\n", keys[i], values[i]);
    }
    return text;
}

/* The checkpoint of this job: next to the output, bound to its keys and input. */
static bcdi_status checkpoint_options(const cli_phase_job *job, int rank, char *path, size_t cap,
                                      bcdi_checkpoint_opts *c)
{
    memset(c, 0, sizeof *c);
    snprintf(path, cap, "%s.ckpt", job->output);
    c->path = path;
    c->interval_s = job->options->checkpoint_interval;
    c->discard = job->options->restart;
    c->keys_hash = bcdi_hash_config("phase", job->config, checkpoint_free_keys);
    c->keys_text = keys_text(job->config);
    if (!c->keys_text) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    /* rank 0 reads the checkpoint, so rank 0 alone hashes the input */
    if (rank != 0 || c->interval_s <= 0) return BCDI_OK;
    const bcdi_phasing_params *p = &job->options->phasing;
    uint64_t data = 0, support = 0;
    bcdi_status st = bcdi_hash_file(job->input, &data);
    if (st == BCDI_OK && p->support_init == BCDI_SUPPORT_FILE)
        st = bcdi_hash_file(p->support_file, &support);
    c->input_hash = bcdi_hash_bytes(data, &support, sizeof support);
    return st;
}

bcdi_status cli_phase_run(const cli_phase_job *job)
{
    const bcdi_phase_options *options = job->options;
    const bcdi_phasing_params *params = &options->phasing;
    size_t shape[3] = {0, 0, 0};
    float *intensity = NULL;
    uint8_t *mask = NULL, *support_file = NULL;
    bcdi_geometry geometry;
    int have_geometry = 0;
    bcdi_backend *be = NULL;
    bcdi_phasing_result result = {0};
    bcdi_phase_team team;
    int ranks = job->team && bcdi_hpc_size(job->team) > 1;
    if (ranks) bcdi_hpc_phase_team(job->team, &team);
    int rank = ranks ? team.rank : 0;
    char checkpoint_path[4300];
    bcdi_checkpoint_opts checkpoint;
    /* the device before the data: a device that does not answer is said at once */
    bcdi_status st = bcdi_backend_open(options->device, &be);
    if (st == BCDI_OK) be->fft_measure = options->fft_measure;
    /* Over several ranks, measured plans could differ from rank to rank (each measures on its
     * own, nodes have their own wisdom files), and a run's bits would depend on the rank that
     * ran it: estimated plans unless the key was given (docs/hpc.md, "Plans under MPI"). */
    if (st == BCDI_OK && ranks && be->kind == BCDI_BACKEND_CPU && options->fft_measure &&
        job->config && !strcmp(bcdi_config_origin(job->config, "fft_planner"), "default")) {
        be->fft_measure = 0;
        if (rank == 0)
            bcdi_log(BCDI_LOG_NOTICE,
                     "%d ranks: FFTW planner 'estimate', so every run gets the same bits on any "
                     "rank (fft_planner=measure to measure plans anyway)",
                     team.size);
    }
    /* the memory the run needs, from the data's shape and the keys, before the data is read */
    if (st == BCDI_OK) st = bcdi_cxi_prepared_shape(job->input, shape);
    if (st == BCDI_OK) {
        char how[200];
        snprintf(how, sizeof how, "%zu x %zu x %zu voxels, runs=%ld, batch=%ld, keep=%ld%s",
                 shape[0], shape[1], shape[2], params->runs, params->batch, params->keep,
                 be->kind == BCDI_BACKEND_CPU ? ", on the CPU" : "");
        st = bcdi_memory_check(
            bcdi_phase_memory_estimate(options, shape, be->kind == BCDI_BACKEND_CPU),
            options->max_memory, "phase", how,
            "lower runs= (or batch= on the CPU; for a long recipe raise metric_interval=), or "
            "raise max_memory=");
    }
    if (st == BCDI_OK) st = bcdi_cxi_read_prepared(job->input, shape, &intensity, &mask);
    if (st == BCDI_OK) {
        /* no geometry group is fine (said); a partial or damaged one is refused */
        st = bcdi_cxi_read_geometry_if_present(job->input, &geometry, &have_geometry);
        if (st == BCDI_OK && !have_geometry)
            bcdi_log(BCDI_LOG_NOTICE, "'%s' holds no geometry: the result will have none",
                     job->input);
    }
    /* (support=file without support_file= was refused with the keys) */
    if (st == BCDI_OK && params->support_init == BCDI_SUPPORT_FILE)
        st = read_support_file(params->support_file, shape, &support_file);
    if (st == BCDI_OK) {
        /* estimated plans ignore wisdom: they stay the same whatever the file holds */
        if (be->fft_measure)
            st = bcdi_backend_set_fft_wisdom(be, options->fft_wisdom);
        else if (be->kind == BCDI_BACKEND_CPU && rank == 0)
            bcdi_log(BCDI_LOG_NOTICE,
                     "FFTW planner 'estimate': no planning time, but transforms up to 2.5x slower "
                     "than measured plans at 256^3 (docs/performance.md)");
    }
    int have_checkpoint = st == BCDI_OK;
    if (st == BCDI_OK)
        st = checkpoint_options(job, rank, checkpoint_path, sizeof checkpoint_path, &checkpoint);
    /* every rank has its data (or every rank stops with the first failure) */
    if (ranks) st = bcdi_hpc_agree(job->team, st);
    if (st == BCDI_OK) {
        if (ranks)
            bcdi_log(BCDI_LOG_INFO,
                     "phasing %zux%zux%zu, %ld run(s) x %ld generation(s) on %d ranks (rank 0: "
                     "%s)",
                     shape[0], shape[1], shape[2], params->runs, params->generations, team.size,
                     be->device_name);
        else
            bcdi_log(BCDI_LOG_INFO, "phasing %zux%zux%zu, %ld run(s) x %ld generation(s) on %s",
                     shape[0], shape[1], shape[2], params->runs, params->generations,
                     be->device_name);
        bcdi_phasing_data data = {{shape[0], shape[1], shape[2]}, intensity, mask, support_file};
        cli_progress progress;
        cli_progress_init(&progress, job->label ? job->label : "phase",
                          bcdi_metric_name(params->metric), job->quiet || rank != 0);
        st = bcdi_phase_run(be, params, &data, ranks ? &team : NULL, &checkpoint,
                            cli_progress_update, &progress, &result, NULL);
        cli_progress_finish(&progress);
    }
    /* rank 0 writes the outputs; the others wait for its verdict */
    bcdi_h5_reader *prepared = NULL;
    if (st == BCDI_OK && rank == 0 && (st = bcdi_h5_open(job->input, &prepared)) == BCDI_OK &&
        !bcdi_cxi_has_summary(prepared))
        bcdi_log(BCDI_LOG_NOTICE,
                 "'%s' holds no diffraction summary (%s): the result will carry none, and "
                 "compare will need summary= for its lattice",
                 job->input, BCDI_CXI_SUMMARY_GROUP);
    if (st == BCDI_OK && rank == 0) {
        result_context ctx = {job->input,
                              job->config,
                              params,
                              &result,
                              be,
                              mask,
                              have_geometry ? &geometry : NULL,
                              prepared,
                              options->crop,
                              options->crop_margin,
                              options->deflate,
                              NULL};
        bcdi_combined combined;
        if (options->combine && result.count >= 2 &&
            combine_kept_runs(&result, intensity, mask, have_geometry ? &geometry : NULL,
                              &combined))
            ctx.combined = &combined;
        st = write_outputs(job, &ctx);
        if (ctx.combined) bcdi_combined_free(&combined);
        /* the result is there: its checkpoint has served */
        if (st == BCDI_OK && unlink(checkpoint_path) == 0)
            bcdi_log(BCDI_LOG_INFO, "removed the checkpoint %s", checkpoint_path);
    }
    if (ranks) st = bcdi_hpc_agree(job->team, st);
    if (have_checkpoint) free((char *)checkpoint.keys_text);
    bcdi_h5_close(prepared);
    bcdi_phasing_result_free(&result);
    bcdi_backend_close(be);
    free(intensity);
    free(mask);
    free(support_file);
    return st;
}
