/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi bench: ms per batched forward+inverse FFT pair and the effective bandwidth, per
 * backend, size and batch. Figures, not assertions: docs/performance.md records them.
 *
 * Effective bandwidth counts the minimum traffic of a pair: each of the two transforms reads and
 * writes every complex64 value once, 2 x 2 x 8 B = 32 B per voxel per pair. Real FFTs make
 * several passes, so this is a lower bound on the bytes actually moved. */
#include "cli.h"

#include "backend/backend.h"
#include "core/clock.h"
#include "bcdi/recipe.h"
#include "phasing/iteration.h"
#include "bcdi/error.h"
#include "bcdi/log.h"
#include "bcdi/phasing_params.h"
#include "core/output.h"
#include "io/hdf5.h"
#include "io/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char device[64];
    double sizes[16], gpu_sizes[16], batches[16];
    size_t n_sizes, n_gpu, n_batches;
    double min_time_s, max_bytes;
    int phasing;         /* mode */
    int planner_measure; /* planner */
    char fft_wisdom[1024];
} bench_params;

static bcdi_status check_bench_device(const char *value, void *params)
{
    (void)params;
    return strcmp(value, "all") == 0 ? BCDI_OK : bcdi_device_name_check(value);
}

static const char *const mode_names[] = {"fft", "phasing", NULL};
static const char *const planner_names[] = {"estimate", "measure", NULL};

static const bcdi_param_spec bench_specs[] = {
    BCDI_KEY_STRING("device", bench_params, device, "all",
                    "all|auto|cpu|cuda|cuda:N: backends to time", .parse = check_bench_device),
    BCDI_KEY_NUMBERS("sizes", bench_params, sizes, "64,128,256", 1, 2, 4096,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_COUNTED,
                     "cubic sizes N (N^3 voxels) on every backend",
                     .count_offset = offsetof(bench_params, n_sizes)),
    BCDI_KEY_NUMBERS("gpu_sizes", bench_params, gpu_sizes, "512", 0, 2, 4096,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_COUNTED,
                     "extra sizes timed on CUDA devices only",
                     .count_offset = offsetof(bench_params, n_gpu)),
    BCDI_KEY_NUMBERS("batches", bench_params, batches, "1,8", 1, 1, 1024,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_COUNTED, "runs per batched plan",
                     .count_offset = offsetof(bench_params, n_batches)),
    BCDI_KEY_DOUBLE("min_time_s", bench_params, min_time_s, "0.5", 0, 3600, 0,
                    "time each case for at least this long"),
    BCDI_KEY_DOUBLE("max_bytes", bench_params, max_bytes, "4e9", 0, 1e15, 0,
                    "skip cases whose buffer exceeds this (bytes)"),
    BCDI_KEY_CHOICE("mode", bench_params, phasing, "fft", mode_names, NULL,
                    "fft: batched FFT pairs; phasing: ms per ER/HIO/RAAR/DM iteration against the "
                    "FFT pair"),
    BCDI_KEY_CHOICE("planner", bench_params, planner_measure, "measure", planner_names, NULL,
                    "CPU FFTW planner: measure (fastest plans, as phase uses by default) or "
                    "estimate"),
    BCDI_KEY_STRING("fft_wisdom", bench_params, fft_wisdom, "auto",
                    "FFTW wisdom file for measured plans: auto (the per-user cache phase uses), "
                    "none, or a path"),
};

static const bcdi_param_table bench_table = {
    "bench", bench_specs, sizeof bench_specs / sizeof *bench_specs, sizeof(bench_params), NULL,
};

static const cli_command bench_command = {
    .name = "bench",
    .summary = "FFT benchmark",
    .usage = "braggcdi bench [config.ini] [key=value ...] [-o bench.json]",
    .description =
        "Times one batched 3D forward+inverse FFT pair (complex64, in place) per size and\n"
        "batch on each backend: median ms per pair, ms per run, and the effective\n"
        "bandwidth at 32 bytes per voxel per pair. Prints a table; -o writes JSON.",
    .takes_input = 0,
    .needs_output = 0,
    .table = &bench_table,
};

typedef struct {
    char backend[16];
    char device[256];
    size_t size, batch;
    int repeats;
    double ms_pair, ms_per_run, gbs;
} bench_row;

/* CPU time of the whole process (all threads): on a machine shared with other work it counts
 * what this process computed, not the time it waited for a core (passive OpenMP waits sleep). */
static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bcdi_status time_case(bcdi_backend *be, size_t size, size_t batch, double min_time,
                             bench_row *row)
{
    const bcdi_backend_ops *ops = be->ops;
    size_t shape[3] = {size, size, size};
    size_t n = size * size * size, total = n * batch;
    bcdi_cf *data = NULL;
    bcdi_fft *plan = NULL;
    double times[256];
    int reps = 0;
    bcdi_status st = ops->alloc(be, total * sizeof(bcdi_cf), (void **)&data);
    /* deterministic non-trivial content: uniform noise in both parts */
    if (st == BCDI_OK) st = ops->random_uniform(be, (float *)data, 2 * total, 1, 0, 0);
    if (st == BCDI_OK) st = ops->fft_create(be, shape, batch, &plan);
    if (st == BCDI_OK) st = ops->fft_forward(plan, data, data); /* warm-up */
    if (st == BCDI_OK) st = ops->fft_inverse(plan, data, data);
    if (st == BCDI_OK) st = ops->synchronize(be);
    double start = bcdi_clock_s();
    while (st == BCDI_OK && reps < 256 && (reps < 3 || bcdi_clock_s() - start < min_time)) {
        double t0 = bcdi_clock_s();
        st = ops->fft_forward(plan, data, data);
        if (st == BCDI_OK) st = ops->fft_inverse(plan, data, data);
        if (st == BCDI_OK) st = ops->synchronize(be);
        times[reps++] = bcdi_clock_s() - t0;
    }
    if (plan) ops->fft_destroy(plan);
    ops->free(be, data);
    if (st != BCDI_OK) return st;
    qsort(times, (size_t)reps, sizeof *times, cmp_double);
    double median = times[reps / 2];
    row->size = size;
    row->batch = batch;
    row->repeats = reps;
    row->ms_pair = 1e3 * median;
    row->ms_per_run = row->ms_pair / (double)batch;
    row->gbs = 32.0 * (double)total / median / 1e9;
    return BCDI_OK;
}

/* Modelled bytes per voxel per iteration per run (docs/algorithms.md, "Memory and traffic"):
 * composed, each FFT counted as one read and one write of the complex array (the minimum: FFTW
 * makes two or more passes over a 3D array) and every element-wise pass as what it reads and
 * writes; fused (the backend's iterate), the three passes it makes. */
static double modelled_bytes(bcdi_algorithm algorithm, int fused)
{
    const double fft = 16, modulus = 8 + 4 + 1 + 8, update = 8 + 8 + 1 + 8, copy = 16;
    if (algorithm != BCDI_ALGO_DM && fused)
        return 16 + 21 + 25; /* planes forward; pencils + projection; planes inverse + update */
    if (algorithm != BCDI_ALGO_DM) return fft + modulus + fft + update; /* 78 */
    /* a = P_M(rho); b = copy, f_S, P_M; two combining updates */
    return (fft + modulus + fft) + copy + update + (fft + modulus + fft) + 2 * update; /* 197 */
}

/* The cases timed per size and batch, in this order. */
enum {
    CASE_PAIR,         /* the FFT pair alone, as the composed iteration makes it */
    CASE_HIO_FUSED,    /* HIO through the backend's iterate (= composed where it has none) */
    CASE_HIO_COMPOSED, /* HIO through the composed ops */
    CASE_HIO_METRICS,  /* fused HIO with the metric sums (every metric_interval iterations) */
    CASE_ER,           /* ER, RAAR and DM as the engine runs them */
    CASE_RAAR,
    CASE_DM,
    CASE_WRAP_FUSED, /* one shrink-wrap update (sigma 2, threshold 0.2 of the maximum) */
    CASE_WRAP_COMPOSED,
    CASE_COUNT
};
static const char *const case_names[CASE_COUNT] = {
    "fft_pair", "hio_fused", "hio_composed",     "hio_metrics",        "er",
    "raar",     "dm",        "shrinkwrap_fused", "shrinkwrap_composed"};

typedef struct {
    char backend[16];
    char device[256];
    size_t size, batch;
    int fused;       /* the backend's fused iterate ran (not merely exists: CUDA may decline) */
    double copy_gbs; /* copy bandwidth of the memory the backend works in (host or device) */
    double ms[CASE_COUNT];
    double cpu_ms[CASE_COUNT]; /* fastest process CPU time (meaningful for the CPU backend) */
} phasing_row;

static bcdi_status run_case(bcdi_phasing_workspace *ws, int which)
{
    const bcdi_backend_ops *ops = ws->be->ops;
    double relative[1024], rms[1];
    float scratch[2048];
    (void)rms;
    for (size_t r = 0; r < ws->batch && r < 1024; ++r)
        relative[r] = 0.2;
    ws->unfused = which == CASE_HIO_COMPOSED || which == CASE_WRAP_COMPOSED;
    double terms[2][1024 * BCDI_FOURIER_TERMS];
    switch (which) {
    case CASE_PAIR: {
        bcdi_status st = ops->fft_forward(ws->plan, ws->rho, ws->psi);
        return st == BCDI_OK ? ops->fft_inverse(ws->plan, ws->psi, ws->psi) : st;
    }
    case CASE_HIO_FUSED:
    case CASE_HIO_COMPOSED:
        return bcdi_phasing_iterate(ws, BCDI_ALGO_HIO, 0.9f, 0, 0, NULL, NULL);
    case CASE_HIO_METRICS:
        return bcdi_phasing_iterate(ws, BCDI_ALGO_HIO, 0.9f, 0, 0, terms[0], terms[1]);
    case CASE_ER:
    case CASE_RAAR:
    case CASE_DM: {
        bcdi_algorithm a = which == CASE_ER     ? BCDI_ALGO_ER
                           : which == CASE_RAAR ? BCDI_ALGO_RAAR
                                                : BCDI_ALGO_DM;
        return bcdi_phasing_iterate(ws, a, 0.9f, 0, 0, NULL, NULL);
    }
    default:
        return bcdi_phasing_shrink_wrap(ws, 2.0, relative, NULL, 0, scratch, NULL);
    }
}

static bcdi_status time_phasing(bcdi_backend *be, size_t size, size_t batch, double min_time,
                                phasing_row *row)
{
    const bcdi_backend_ops *ops = be->ops;
    size_t shape[3] = {size, size, size}, n = size * size * size, total = n * batch;
    bcdi_phasing_workspace ws = {.be = be, .shape = {size, size, size}, .n = n, .batch = batch};
    float *amplitude = NULL;
    uint8_t *mask = NULL, *ball = NULL;
    if (batch > 1024) return bcdi_error(BCDI_ERR_CONFIG, "bench: batch %zu > 1024", batch);
    bcdi_status st = ops->alloc(be, n * sizeof(float), (void **)&amplitude);
    if (st == BCDI_OK) st = ops->alloc(be, n, (void **)&mask);
    if (st == BCDI_OK) st = ops->alloc(be, total * sizeof(bcdi_cf), (void **)&ws.rho);
    if (st == BCDI_OK) st = ops->alloc(be, total * sizeof(bcdi_cf), (void **)&ws.psi);
    if (st == BCDI_OK) st = ops->alloc(be, total * sizeof(bcdi_cf), (void **)&ws.dm_b);
    if (st == BCDI_OK) st = ops->alloc(be, total, (void **)&ws.support);
    if (st == BCDI_OK) st = ops->random_uniform(be, amplitude, n, 2, 0, 0);
    if (st == BCDI_OK) st = ops->zero(be, mask, n);
    /* a contiguous support, a centred ball of a third of the box (as in phasing) */
    if (st == BCDI_OK && !(ball = malloc(n)))
        st = bcdi_error(BCDI_ERR_NOMEM, "bench: out of memory");
    for (size_t i = 0; st == BCDI_OK && i < n; ++i) {
        double d0 = (double)(i / (size * size)) - size / 2.0,
               d1 = (double)(i / size % size) - size / 2.0, d2 = (double)(i % size) - size / 2.0;
        ball[i] = d0 * d0 + d1 * d1 + d2 * d2 < (size / 3.0) * (size / 3.0);
    }
    if (st == BCDI_OK) st = ops->fft_create(be, shape, batch, &ws.plan);
    ws.amplitude = amplitude;
    ws.mask = mask;
    memset(row, 0, sizeof *row);
    row->size = size;
    row->batch = batch;
    for (int which = 0; which < CASE_COUNT && st == BCDI_OK; ++which) {
        /* the same start for every case: fresh values, the ball support */
        st = ops->random_uniform(be, (float *)ws.rho, 2 * total, 3, 0, 0);
        for (size_t r = 0; st == BCDI_OK && r < batch; ++r)
            st = ops->upload(be, ws.support + r * n, ball, n);
        if (st == BCDI_OK) st = run_case(&ws, which); /* warm-up (and planning) */
        if (st == BCDI_OK) st = ops->synchronize(be);
        double times[256], cpu_best = INFINITY;
        int reps = 0;
        double start = bcdi_clock_s();
        while (st == BCDI_OK && reps < 256 && (reps < 3 || bcdi_clock_s() - start < min_time)) {
            double t0 = bcdi_clock_s(), c0 = cpu_now_s();
            st = run_case(&ws, which);
            if (st == BCDI_OK) st = ops->synchronize(be);
            times[reps++] = bcdi_clock_s() - t0;
            double c = cpu_now_s() - c0;
            if (c < cpu_best) cpu_best = c;
        }
        row->cpu_ms[which] = 1e3 * cpu_best;
        if (st != BCDI_OK) break;
        /* the fastest repetition: on a machine shared with other work, the others measure the
         * neighbours as much as the code */
        qsort(times, (size_t)reps, sizeof *times, cmp_double);
        row->ms[which] = 1e3 * times[0];
    }
    row->fused = ws.fused_iterations > 0;
    free(ball);
    if (ws.plan) ops->fft_destroy(ws.plan);
    ops->free(be, ws.rho);
    ops->free(be, ws.psi);
    ops->free(be, ws.dm_b);
    ops->free(be, ws.support);
    ops->free(be, amplitude);
    ops->free(be, mask);
    return st;
}

/* The host's copy bandwidth (read + write, GB/s): the fastest of a few memcpy of 256 MiB. It
 * turns an iteration's time into the bytes per voxel it could have moved. */
static double copy_bandwidth(void)
{
    size_t bytes = (size_t)256 << 20;
    char *a = malloc(bytes), *b = malloc(bytes);
    if (!a || !b) {
        free(a), free(b);
        return NAN;
    }
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    double best = INFINITY;
    for (int k = 0; k < 5; ++k) {
        double t0 = bcdi_clock_s();
        memcpy(b, a, bytes);
        double t = bcdi_clock_s() - t0;
        if (t < best) best = t;
        a[k] = b[bytes - 1 - (size_t)k]; /* keep the copies observable */
    }
    free(a), free(b);
    return 2.0 * (double)bytes / best / 1e9;
}

/* The copy bandwidth of the memory a backend works in (read + write, GB/s): the host's for the
 * CPU backend, a device-to-device copy of 256 MiB (ops->copy) for a GPU. NAN when unmeasured. */
static double backend_copy_bandwidth(bcdi_backend *be)
{
    if (be->kind != BCDI_BACKEND_CUDA) return copy_bandwidth();
    const bcdi_backend_ops *ops = be->ops;
    size_t bytes = (size_t)256 << 20;
    void *a = NULL, *b = NULL;
    double best = INFINITY;
    bcdi_status st = ops->alloc(be, bytes, &a);
    if (st == BCDI_OK) st = ops->alloc(be, bytes, &b);
    if (st == BCDI_OK) st = ops->zero(be, a, bytes);
    if (st == BCDI_OK) st = ops->copy(be, b, a, bytes); /* warm-up */
    if (st == BCDI_OK) st = ops->synchronize(be);
    for (int k = 0; k < 10 && st == BCDI_OK; ++k) {
        double t0 = bcdi_clock_s();
        st = ops->copy(be, b, a, bytes);
        if (st == BCDI_OK) st = ops->synchronize(be);
        double t = bcdi_clock_s() - t0;
        if (t < best) best = t;
    }
    ops->free(be, a);
    ops->free(be, b);
    if (st != BCDI_OK) {
        bcdi_clear_error();
        return NAN;
    }
    return 2.0 * (double)bytes / best / 1e9;
}

/* Iteration GB/s from the model, and the bytes per voxel the backend's memory could have copied
 * in the iteration's time (time x copy bandwidth / voxels). */
static double model_gbs(const phasing_row *r, int which, double model)
{
    return model * (double)(r->size * r->size * r->size * r->batch) / (r->ms[which] * 1e-3) / 1e9;
}
static double bytes_at_copy(const phasing_row *r, int which)
{
    return r->ms[which] * 1e-3 * r->copy_gbs * 1e9 /
           (double)(r->size * r->size * r->size * r->batch);
}

/* The header every bench JSON starts with. */
static json_t *bench_root(int *ok)
{
    json_t *root = json_object();
    if (!root) return *ok = 0, NULL;
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    bcdi_json_put(root, "braggcdi_version", json_string(BCDI_VERSION), ok);
    bcdi_json_put(root, "date", json_string(date), ok);
    return root;
}

/* A result row with what every bench row starts with (device names come from the driver:
 * escaped like any text); NULL when out of memory. */
static json_t *row_json(const char *backend, const char *device, size_t size, size_t batch, int *ok)
{
    json_t *row = json_object();
    if (!row) return *ok = 0, NULL;
    bcdi_json_put(row, "backend", bcdi_json_text(backend), ok);
    bcdi_json_put(row, "device", bcdi_json_text(device), ok);
    bcdi_json_put(row, "size", json_integer((json_int_t)size), ok);
    bcdi_json_put(row, "batch", json_integer((json_int_t)batch), ok);
    return row;
}

/* Write, free, and say what went wrong. */
static bcdi_status write_root(const char *path, json_t *root, int ok)
{
    bcdi_status st = ok ? bcdi_json_write(NULL, path, root)
                        : bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    json_decref(root);
    return st;
}

static bcdi_status write_phasing_json(const char *path, const char *planner, double copy_gbs,
                                      const phasing_row *rows, size_t count)
{
    int ok = 1;
    json_t *root = bench_root(&ok), *model = json_object(), *device = json_object(),
           *results = json_array();
    if (!root || !model || !device || !results) {
        json_decref(model);
        json_decref(device);
        json_decref(results);
        return write_root(path, root, 0);
    }
    bcdi_json_put(root, "mode", json_string("phasing"), &ok);
    bcdi_json_put(root, "planner", json_string(planner), &ok);
    bcdi_json_put(root, "statistic", json_string("minimum over repetitions"), &ok);
    bcdi_json_put(root, "host_copy_gbs", bcdi_json_real(copy_gbs), &ok);
    bcdi_json_put(model, "fused_ER_HIO_RAAR", bcdi_json_real(modelled_bytes(BCDI_ALGO_HIO, 1)),
                  &ok);
    bcdi_json_put(model, "ER_HIO_RAAR", bcdi_json_real(modelled_bytes(BCDI_ALGO_HIO, 0)), &ok);
    bcdi_json_put(model, "DM", bcdi_json_real(modelled_bytes(BCDI_ALGO_DM, 0)), &ok);
    bcdi_json_put(model, "fft_pair_minimum", json_integer(32), &ok);
    bcdi_json_put(root, "modelled_bytes_per_voxel", model, &ok);
    bcdi_json_put(device, "ER_HIO_RAAR", json_integer(17), &ok);
    bcdi_json_put(device, "DM", json_integer(25), &ok);
    bcdi_json_put(device, "shared", json_integer(5), &ok);
    bcdi_json_put(root, "device_bytes_per_voxel_per_run", device, &ok);
    for (size_t i = 0; i < count; ++i) {
        const phasing_row *r = &rows[i];
        json_t *row = row_json(r->backend, r->device, r->size, r->batch, &ok);
        if (!row) break;
        char key[64];
        bcdi_json_put(row, "fused_iterate", json_boolean(r->fused), &ok);
        bcdi_json_put(row, "copy_gbs", bcdi_json_real(r->copy_gbs), &ok);
        for (int c = 0; c < CASE_COUNT; ++c) {
            snprintf(key, sizeof key, "ms_%s", case_names[c]);
            bcdi_json_put(row, key, bcdi_json_real(r->ms[c]), &ok);
        }
        if (!strcmp(r->backend, "cpu"))
            for (int c = 0; c < CASE_COUNT; ++c) {
                snprintf(key, sizeof key, "cpu_ms_%s", case_names[c]);
                bcdi_json_put(row, key, bcdi_json_real(r->cpu_ms[c]), &ok);
            }
        double pair = r->ms[CASE_PAIR], cpu_pair = r->cpu_ms[CASE_PAIR];
        bcdi_json_put(row, "hio_fused_over_pair", bcdi_json_real(r->ms[CASE_HIO_FUSED] / pair),
                      &ok);
        bcdi_json_put(row, "hio_composed_over_pair",
                      bcdi_json_real(r->ms[CASE_HIO_COMPOSED] / pair), &ok);
        bcdi_json_put(row, "shrinkwrap_over_pair", bcdi_json_real(r->ms[CASE_WRAP_FUSED] / pair),
                      &ok);
        bcdi_json_put(row, "cpu_time_hio_fused_over_pair",
                      bcdi_json_real(r->cpu_ms[CASE_HIO_FUSED] / cpu_pair), &ok);
        bcdi_json_put(row, "cpu_time_hio_composed_over_pair",
                      bcdi_json_real(r->cpu_ms[CASE_HIO_COMPOSED] / cpu_pair), &ok);
        double fused_model = modelled_bytes(BCDI_ALGO_HIO, r->fused);
        double composed_model = modelled_bytes(BCDI_ALGO_HIO, 0);
        bcdi_json_put(row, "gbs_hio_fused",
                      bcdi_json_real(model_gbs(r, CASE_HIO_FUSED, fused_model)), &ok);
        bcdi_json_put(row, "gbs_hio_composed",
                      bcdi_json_real(model_gbs(r, CASE_HIO_COMPOSED, composed_model)), &ok);
        json_t *at_copy = json_object();
        if (!at_copy) ok = 0;
        bcdi_json_put(at_copy, "fft_pair", bcdi_json_real(bytes_at_copy(r, CASE_PAIR)), &ok);
        bcdi_json_put(at_copy, "hio_fused", bcdi_json_real(bytes_at_copy(r, CASE_HIO_FUSED)), &ok);
        bcdi_json_put(at_copy, "hio_composed", bcdi_json_real(bytes_at_copy(r, CASE_HIO_COMPOSED)),
                      &ok);
        bcdi_json_put(row, "bytes_per_voxel_at_copy_bw", at_copy, &ok);
        bcdi_json_push(results, row, &ok);
    }
    bcdi_json_put(root, "results", results, &ok);
    return write_root(path, root, ok);
}

static bcdi_status write_json(const char *path, const char *planner, const bench_row *rows,
                              size_t count)
{
    int ok = 1;
    json_t *root = bench_root(&ok), *results = json_array();
    if (!root || !results) {
        json_decref(results);
        return write_root(path, root, 0);
    }
    bcdi_json_put(root, "bytes_per_voxel_per_pair", json_integer(32), &ok);
    bcdi_json_put(root, "planner", bcdi_json_text(planner), &ok);
    for (size_t i = 0; i < count; ++i) {
        const bench_row *r = &rows[i];
        json_t *row = row_json(r->backend, r->device, r->size, r->batch, &ok);
        if (!row) break;
        bcdi_json_put(row, "repeats", json_integer(r->repeats), &ok);
        bcdi_json_put(row, "ms_per_pair", bcdi_json_real(r->ms_pair), &ok);
        bcdi_json_put(row, "ms_per_run", bcdi_json_real(r->ms_per_run), &ok);
        bcdi_json_put(row, "gb_per_s", bcdi_json_real(r->gbs), &ok);
        bcdi_json_push(results, row, &ok);
    }
    bcdi_json_put(root, "results", results, &ok);
    return write_root(path, root, ok);
}

int cmd_bench(int argc, char **argv)
{
    bench_params params;
    cli_args args;
    int rc = cli_parse(&bench_command, argc, argv, &args, &params, NULL);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    const double *sizes = params.sizes, *gpu_sizes = params.gpu_sizes, *batches = params.batches;
    const size_t n_sizes = params.n_sizes, n_gpu = params.n_gpu, n_batches = params.n_batches;
    const double min_time = params.min_time_s, max_bytes = params.max_bytes;
    const char *device = params.device;
    const char *planner = params.planner_measure ? "measure" : "estimate";
    const int phasing = params.phasing;
    bcdi_status st = BCDI_OK;
    if ((rc = cli_check_output("bench", args.output, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        return rc;
    }
    phasing_row prow[256];
    size_t n_prow = 0;
    const char *devices[2];
    size_t n_devices = 0;
    if (!strcmp(device, "all")) {
        devices[n_devices++] = "cpu";
        if (bcdi_cuda_device_count() > 0)
            devices[n_devices++] = "cuda";
        else
            bcdi_log(BCDI_LOG_NOTICE, "no CUDA device answers: timing the CPU backend only");
    } else {
        devices[n_devices++] = device;
    }
    bench_row rows[256];
    size_t n_rows = 0;
    double copy_gbs = phasing ? copy_bandwidth() : NAN;
    if (phasing) {
        printf("host copy bandwidth %.1f GB/s (read + write); fastest ms per iteration or update; "
               "cpu f, cpu c: process CPU time of HIO fused, composed over the pair's; B/vox = "
               "time x the backend's copy bandwidth / voxels (model: pair >= 32, fused %.0f, "
               "composed "
               "%.0f)\n",
               copy_gbs, modelled_bytes(BCDI_ALGO_HIO, 1), modelled_bytes(BCDI_ALGO_HIO, 0));
        printf("%-4s %-4s %-3s %8s %8s %8s %6s %6s %6s %6s %8s %8s %8s %8s %8s %8s %6s %6s "
               "%6s\n",
               "back", "size", "bat", "fft pair", "HIO fus", "HIO cmp", "fus/ff", "cmp/ff", "cpu f",
               "cpu c", "HIO+sum", "ER", "RAAR", "DM", "wrap fus", "wrap cmp", "B/v ff", "B/v fu",
               "B/v cm");
    } else
        printf("%-5s %-6s %-6s %12s %12s %10s  %s\n", "back", "size", "batch", "ms/pair", "ms/run",
               "GB/s", "device");
    for (size_t d = 0; d < n_devices && st == BCDI_OK; ++d) {
        bcdi_backend *be = NULL;
        st = bcdi_backend_open(devices[d], &be);
        if (st != BCDI_OK) break;
        be->fft_measure = params.planner_measure;
        double backend_copy_gbs = NAN;
        if (phasing) {
            backend_copy_gbs = backend_copy_bandwidth(be);
            printf("%s: %s; copy bandwidth %.1f GB/s (%s, read + write)\n",
                   be->kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu", be->device_name,
                   backend_copy_gbs, be->kind == BCDI_BACKEND_CUDA ? "device" : "host");
        }
        if (be->fft_measure) st = bcdi_backend_set_fft_wisdom(be, params.fft_wisdom);
        size_t count = n_sizes + (be->kind == BCDI_BACKEND_CUDA ? n_gpu : 0);
        for (size_t s = 0; s < count && st == BCDI_OK; ++s) {
            size_t size = (size_t)(s < n_sizes ? sizes[s] : gpu_sizes[s - n_sizes]);
            for (size_t b = 0; b < n_batches && st == BCDI_OK && n_rows < 256 && n_prow < 256;
                 ++b) {
                size_t batch = (size_t)batches[b];
                double bytes = (double)size * size * size * batch * sizeof(bcdi_cf);
                if (bytes > max_bytes) {
                    bcdi_log(BCDI_LOG_NOTICE, "skipping %zu^3 x %zu: %.2f GB > max_bytes", size,
                             batch, bytes / 1e9);
                    continue;
                }
                if (phasing) {
                    /* rho, psi, dm_b (8 B each), support (1 B) per run, data 5 B */
                    if (bytes * 25.0 / 8.0 > max_bytes) continue;
                    phasing_row *pr = &prow[n_prow];
                    st = time_phasing(be, size, batch, min_time, pr);
                    if (st != BCDI_OK) break;
                    pr->copy_gbs = backend_copy_gbs;
                    snprintf(pr->backend, sizeof pr->backend, "%s",
                             be->kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu");
                    snprintf(pr->device, sizeof pr->device, "%s", be->device_name);
                    const double *ms = pr->ms;
                    const double *cpu = pr->cpu_ms;
                    printf("%-4s %-4zu %-3zu %8.3f %8.3f %8.3f %6.2f %6.2f %6.2f %6.2f %8.3f "
                           "%8.3f %8.3f %8.3f %8.3f %8.3f %6.0f %6.0f %6.0f\n",
                           pr->backend, size, batch, ms[CASE_PAIR], ms[CASE_HIO_FUSED],
                           ms[CASE_HIO_COMPOSED], ms[CASE_HIO_FUSED] / ms[CASE_PAIR],
                           ms[CASE_HIO_COMPOSED] / ms[CASE_PAIR],
                           cpu[CASE_HIO_FUSED] / cpu[CASE_PAIR],
                           cpu[CASE_HIO_COMPOSED] / cpu[CASE_PAIR], ms[CASE_HIO_METRICS],
                           ms[CASE_ER], ms[CASE_RAAR], ms[CASE_DM], ms[CASE_WRAP_FUSED],
                           ms[CASE_WRAP_COMPOSED], bytes_at_copy(pr, CASE_PAIR),
                           bytes_at_copy(pr, CASE_HIO_FUSED), bytes_at_copy(pr, CASE_HIO_COMPOSED));
                    fflush(stdout);
                    ++n_prow;
                    continue;
                }
                bench_row *row = &rows[n_rows];
                memset(row, 0, sizeof *row);
                snprintf(row->backend, sizeof row->backend, "%s",
                         be->kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu");
                snprintf(row->device, sizeof row->device, "%s", be->device_name);
                st = time_case(be, size, batch, min_time, row);
                if (st != BCDI_OK) break;
                printf("%-5s %-6zu %-6zu %12.3f %12.3f %10.2f  %s\n", row->backend, size, batch,
                       row->ms_pair, row->ms_per_run, row->gbs, row->device);
                fflush(stdout);
                ++n_rows;
            }
        }
        bcdi_backend_close(be);
    }
    if (st == BCDI_OK && args.output)
        st = phasing ? write_phasing_json(args.output, planner, copy_gbs, prow, n_prow)
                     : write_json(args.output, planner, rows, n_rows);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("bench", st);
}
