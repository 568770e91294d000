/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU backend: FFTW3f (batched plans, OpenMP threads) and OpenMP loops over the per-voxel
 * functions of voxel_ops.h. Reductions are summed in fixed blocks and then in block order, so
 * results are bit-identical for any thread count. Every parallel loop runs be->threads threads
 * (the CPUs this process may use, bcdi_cpu_threads_default), never the OpenMP default, which
 * counts the machine's CPUs and ignores cgroup quotas. The fused iteration and shrink-wrap live
 * in cpu_fused.c, the FFTW wisdom cache in fftw_wisdom.c. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "backend/cpu/cpu_private.h"

#include "bcdi/log.h"
#include "core/clock.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Fixed reduction block: partial sums per block, then a sequential sum over blocks. */
#define REDUCE_BLOCK 4096

static int fftw_threads_ready;

static void cpu_close(bcdi_backend *be)
{
    free(be);
}

static bcdi_status cpu_alloc(bcdi_backend *be, size_t bytes, void **ptr)
{
    (void)be;
    *ptr = fftwf_malloc(bytes ? bytes : 1);
    if (!*ptr) return bcdi_error(BCDI_ERR_NOMEM, "CPU backend: cannot allocate %zu bytes", bytes);
    return BCDI_OK;
}

static void cpu_free(bcdi_backend *be, void *ptr)
{
    (void)be;
    if (ptr) fftwf_free(ptr);
}

static bcdi_status cpu_zero(bcdi_backend *be, void *ptr, size_t bytes)
{
    (void)be;
    memset(ptr, 0, bytes);
    return BCDI_OK;
}

static bcdi_status cpu_copy(bcdi_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (dst != src) memmove(dst, src, bytes);
    return BCDI_OK;
}

static bcdi_status cpu_synchronize(bcdi_backend *be)
{
    (void)be;
    return BCDI_OK;
}

unsigned cpu_planner_flags(const bcdi_backend *be)
{
    return be->fft_measure ? FFTW_MEASURE : FFTW_ESTIMATE;
}

/* FFTW_ESTIMATE: planning is deterministic (one seed gives bit-identical runs) and does not touch
 * the arrays, so planning on the live arrays is safe. FFTW_MEASURE overwrites the arrays it plans
 * on, so measured plans are only ever made on scratch (at fft_create). FFTW's c2c out-of-place
 * transforms preserve their input by default. Measured plans come from the wisdom file when it
 * has them (fftw_wisdom.c), so processes sharing it run the same algorithms. */
static fftwf_plan plan_many(const bcdi_fft *p, fftwf_complex *in, fftwf_complex *out, int sign,
                            unsigned flags)
{
    int dims[3] = {(int)p->shape[0], (int)p->shape[1], (int)p->shape[2]};
    int n = dims[0] * dims[1] * dims[2];
    fftwf_plan_with_nthreads(p->be->threads);
    return fftwf_plan_many_dft(3, dims, (int)p->batch, in, NULL, 1, n, out, NULL, 1, n, sign,
                               flags);
}

/* A measured plan for arrays with the alignments of `in` and `out`, made on scratch copies of
 * those alignments (measuring overwrites its arrays); the wisdom file is read before and
 * written after. Measured plans are made on first use, so a phasing run that only uses the
 * fused iteration never measures the 3D transforms. */
static fftwf_plan plan_measured(bcdi_fft *p, const fftwf_complex *in, const fftwf_complex *out,
                                int sign)
{
    size_t bytes = sizeof(fftwf_complex) * p->shape[0] * p->shape[1] * p->shape[2] * p->batch;
    int in_place = in == out;
    char *a = fftwf_malloc(bytes + 64), *b = in_place ? a : fftwf_malloc(bytes + 64);
    fftwf_plan plan = NULL;
    if (a && b) {
        cpu_wisdom_before_planning(p->be);
        double start = bcdi_clock_s();
        fftwf_complex *sa = (fftwf_complex *)(a + fftwf_alignment_of((float *)in));
        fftwf_complex *sb = (fftwf_complex *)(b + fftwf_alignment_of((float *)out));
        plan = plan_many(p, sa, sb, sign, FFTW_MEASURE);
        double seconds = bcdi_clock_s() - start;
        if (plan && seconds > 1.0)
            bcdi_log(BCDI_LOG_INFO, "FFTW: measured a 3D plan for %zux%zux%zu x %zu in %.1f s",
                     p->shape[0], p->shape[1], p->shape[2], p->batch, seconds);
        if (plan) cpu_wisdom_after_planning(p->be);
    }
    fftwf_free(a);
    if (!in_place) fftwf_free(b);
    return plan;
}

static bcdi_status cpu_fft_exec(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out, int sign)
{
    fftwf_complex *src = (fftwf_complex *)in, *dst = (fftwf_complex *)out;
    cpu_plan_slot *slot = &plan->slots[sign == FFTW_FORWARD][in == out];
    int align_in = fftwf_alignment_of((float *)src), align_out = fftwf_alignment_of((float *)dst);
    if (!slot->plan || slot->align_in != align_in || slot->align_out != align_out) {
        if (slot->plan) fftwf_destroy_plan(slot->plan);
        slot->plan = plan->be->fft_measure ? plan_measured(plan, src, dst, sign)
                                           : plan_many(plan, src, dst, sign, FFTW_ESTIMATE);
        if (!slot->plan)
            return bcdi_error(BCDI_ERR_BACKEND, "FFTW could not plan %zux%zux%zu batch %zu",
                              plan->shape[0], plan->shape[1], plan->shape[2], plan->batch);
        slot->align_in = align_in;
        slot->align_out = align_out;
    }
    fftwf_execute_dft(slot->plan, src, dst);
    return BCDI_OK;
}

static bcdi_status cpu_fft_forward(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out)
{
    return cpu_fft_exec(plan, in, out, FFTW_FORWARD);
}

static bcdi_status cpu_fft_inverse(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out)
{
    return cpu_fft_exec(plan, in, out, FFTW_BACKWARD);
}

static void cpu_fft_destroy(bcdi_fft *plan)
{
    if (!plan) return;
    for (int d = 0; d < 2; ++d)
        for (int k = 0; k < 2; ++k)
            if (plan->slots[d][k].plan) fftwf_destroy_plan(plan->slots[d][k].plan);
    cpu_fused_destroy(plan->fused);
    free(plan);
}

static bcdi_status cpu_fft_create(bcdi_backend *be, const size_t shape[3], size_t batch,
                                  bcdi_fft **plan)
{
    *plan = NULL;
    if (!shape[0] || !shape[1] || !shape[2] || !batch)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "FFT plan: empty shape %zux%zux%zu batch %zu",
                          shape[0], shape[1], shape[2], batch);
    size_t n = shape[0] * shape[1] * shape[2];
    if (n > 2147483647u || batch > 2147483647u)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "FFT plan: %zu voxels x %zu runs is too large for FFTW's int API", n,
                          batch);
    bcdi_fft *p = calloc(1, sizeof *p);
    if (!p) return bcdi_error(BCDI_ERR_NOMEM, "FFT plan: out of memory");
    p->be = be;
    memcpy(p->shape, shape, sizeof p->shape);
    p->batch = batch;
    /* plan the in-place pair now (estimated: no time, arrays untouched) on an aligned scratch,
     * so a bad shape fails here; measured plans replace them on first use */
    fftwf_complex *scratch = fftwf_malloc(sizeof(fftwf_complex) * n * batch);
    if (!scratch) {
        free(p);
        return bcdi_error(BCDI_ERR_NOMEM, "FFT plan: cannot allocate %zu bytes of scratch",
                          sizeof(fftwf_complex) * n * batch);
    }
    bcdi_status st = BCDI_OK;
    for (int d = 0; d < 2 && st == BCDI_OK; ++d) {
        cpu_plan_slot *slot = &p->slots[d][1];
        slot->plan =
            plan_many(p, scratch, scratch, d ? FFTW_FORWARD : FFTW_BACKWARD, FFTW_ESTIMATE);
        if (!slot->plan)
            st = bcdi_error(BCDI_ERR_BACKEND, "FFTW could not plan %zux%zux%zu batch %zu", shape[0],
                            shape[1], shape[2], batch);
        else if (be->fft_measure) {
            fftwf_destroy_plan(slot->plan);
            slot->plan = NULL;
        } else {
            slot->align_in = slot->align_out = fftwf_alignment_of((float *)scratch);
        }
    }
    fftwf_free(scratch);
    if (st != BCDI_OK) {
        cpu_fft_destroy(p);
        return st;
    }
    *plan = p;
    return BCDI_OK;
}

/* Blocks of one run's n voxels; the terms of block b live at partial[b * nterms]. */
static size_t block_count(size_t n)
{
    return (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
}

static void sum_blocks(const double *partial, size_t blocks, int nterms, double *out)
{
    for (int t = 0; t < nterms; ++t)
        out[t] = 0.0;
    for (size_t b = 0; b < blocks; ++b)
        for (int t = 0; t < nterms; ++t)
            out[t] += partial[b * (size_t)nterms + (size_t)t];
}

static bcdi_status cpu_modulus_project(bcdi_backend *be, bcdi_cf *psi, const float *amplitude,
                                       const uint8_t *mask, size_t n, size_t batch, float inv_n,
                                       double *host_terms)
{
    if (!host_terms) {
        for (size_t run = 0; run < batch; ++run) {
            bcdi_cf *x = psi + run * n;
#pragma omp parallel for num_threads(be->threads) schedule(static)
            for (long long i = 0; i < (long long)n; ++i)
                x[i] = bcdi_vox_modulus_project(x[i], amplitude[i], mask[i], inv_n, NULL);
        }
        return BCDI_OK;
    }
    size_t blocks = block_count(n);
    double *partial = calloc(blocks * batch * BCDI_FOURIER_TERMS, sizeof *partial);
    if (!partial) return bcdi_error(BCDI_ERR_NOMEM, "modulus_project: out of memory");
    long long tasks = (long long)(blocks * batch);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long task = 0; task < tasks; ++task) {
        size_t run = (size_t)task / blocks, block = (size_t)task % blocks;
        size_t begin = block * REDUCE_BLOCK,
               end = begin + REDUCE_BLOCK < n ? begin + REDUCE_BLOCK : n;
        double *terms = partial + (size_t)task * BCDI_FOURIER_TERMS;
        bcdi_cf *x = psi + run * n;
        for (size_t i = begin; i < end; ++i)
            x[i] = bcdi_vox_modulus_project(x[i], amplitude[i], mask[i], inv_n, terms);
    }
    for (size_t run = 0; run < batch; ++run)
        sum_blocks(partial + run * blocks * BCDI_FOURIER_TERMS, blocks, BCDI_FOURIER_TERMS,
                   host_terms + run * BCDI_FOURIER_TERMS);
    free(partial);
    return BCDI_OK;
}

static bcdi_status cpu_update(bcdi_backend *be, bcdi_cf *rho, const bcdi_cf *proj,
                              const uint8_t *support, size_t n, size_t batch,
                              const bcdi_update_coeffs *coeffs, double *host_terms)
{
    if (!host_terms) {
        /* a local copy of the coefficients: through the pointer, every store to rho could alias
         * them and force reloads */
        const bcdi_update_coeffs c = *coeffs;
        long long total = (long long)(n * batch);
#pragma omp parallel for num_threads(be->threads) schedule(static)
        for (long long k = 0; k < total; ++k)
            rho[k] = bcdi_vox_update(rho[k], proj[k], support[k], &c, NULL);
        return BCDI_OK;
    }
    size_t blocks = block_count(n);
    double *partial = calloc(blocks * batch * BCDI_UPDATE_TERMS, sizeof *partial);
    if (!partial) return bcdi_error(BCDI_ERR_NOMEM, "update: out of memory");
    long long tasks = (long long)(blocks * batch);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long task = 0; task < tasks; ++task) {
        size_t run = (size_t)task / blocks, block = (size_t)task % blocks;
        size_t begin = block * REDUCE_BLOCK,
               end = begin + REDUCE_BLOCK < n ? begin + REDUCE_BLOCK : n;
        double *terms = partial + (size_t)task * BCDI_UPDATE_TERMS;
        size_t off = run * n;
        for (size_t i = begin; i < end; ++i)
            rho[off + i] =
                bcdi_vox_update(rho[off + i], proj[off + i], support[off + i], coeffs, terms);
    }
    for (size_t run = 0; run < batch; ++run)
        sum_blocks(partial + run * blocks * BCDI_UPDATE_TERMS, blocks, BCDI_UPDATE_TERMS,
                   host_terms + run * BCDI_UPDATE_TERMS);
    free(partial);
    return BCDI_OK;
}

static bcdi_status cpu_random_start(bcdi_backend *be, bcdi_cf *rho, const uint8_t *support,
                                    size_t n, size_t batch, uint64_t seed, uint64_t first_run)
{
    for (size_t run = 0; run < batch; ++run) {
        bcdi_cf *x = rho + run * n;
        const uint8_t *s = support + run * n;
#pragma omp parallel for num_threads(be->threads) schedule(static)
        for (long long i = 0; i < (long long)n; ++i)
            x[i] = bcdi_vox_random_start(seed, first_run + run, (uint64_t)i, s[i]);
    }
    return BCDI_OK;
}

static bcdi_status cpu_random_uniform(bcdi_backend *be, float *out, size_t count, uint64_t seed,
                                      uint64_t stream, int word)
{
    if (word < 0 || word > 3)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "random_uniform: word %d not in 0..3", word);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long k = 0; k < (long long)count; ++k)
        out[k] = bcdi_u32_to_unit(bcdi_philox_at(seed, stream, (uint64_t)k).v[word]);
    return BCDI_OK;
}

static bcdi_status cpu_cf_abs(bcdi_backend *be, float *out, const bcdi_cf *in, size_t count)
{
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long k = 0; k < (long long)count; ++k)
        out[k] = bcdi_cf_abs(in[k]);
    return BCDI_OK;
}

static bcdi_status cpu_cf_scale(bcdi_backend *be, bcdi_cf *x, size_t n, size_t batch,
                                const bcdi_cf *host_factors)
{
    for (size_t run = 0; run < batch; ++run) {
        bcdi_cf *v = x + run * n;
        const bcdi_cf factor = host_factors[run];
#pragma omp parallel for num_threads(be->threads) schedule(static)
        for (long long i = 0; i < (long long)n; ++i)
            v[i] = bcdi_cf_mul(v[i], factor);
    }
    return BCDI_OK;
}

static bcdi_status cpu_coherent_intensity(bcdi_backend *be, bcdi_cf *out, const bcdi_cf *psi,
                                          size_t count)
{
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long k = 0; k < (long long)count; ++k)
        out[k] = bcdi_vox_coherent_intensity(psi[k]);
    return BCDI_OK;
}

static bcdi_status cpu_spectrum_product(bcdi_backend *be, bcdi_cf *x, const bcdi_cf *y,
                                        size_t count, int conjugate_y, float scale)
{
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long k = 0; k < (long long)count; ++k)
        x[k] = bcdi_vox_spectrum_product(x[k], y[k], conjugate_y, scale);
    return BCDI_OK;
}

/* As cpu_modulus_project, with the blurred model intensity beside psi. */
static bcdi_status cpu_pc_modulus_project(bcdi_backend *be, bcdi_cf *psi, const float *amplitude,
                                          const uint8_t *mask, const bcdi_cf *model, size_t n,
                                          size_t batch, float inv_n, float model_floor,
                                          double *host_terms)
{
    size_t blocks = block_count(n);
    double *partial =
        host_terms ? calloc(blocks * batch * BCDI_FOURIER_TERMS, sizeof *partial) : NULL;
    if (host_terms && !partial)
        return bcdi_error(BCDI_ERR_NOMEM, "pc_modulus_project: out of memory");
    long long tasks = (long long)(blocks * batch);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long task = 0; task < tasks; ++task) {
        size_t run = (size_t)task / blocks, block = (size_t)task % blocks;
        size_t begin = block * REDUCE_BLOCK,
               end = begin + REDUCE_BLOCK < n ? begin + REDUCE_BLOCK : n;
        double *terms = partial ? partial + (size_t)task * BCDI_FOURIER_TERMS : NULL;
        bcdi_cf *x = psi + run * n;
        const bcdi_cf *m = model + run * n;
        for (size_t i = begin; i < end; ++i)
            x[i] = bcdi_vox_pc_modulus_project(x[i], amplitude[i], m[i].re, mask[i], inv_n,
                                               model_floor, terms);
    }
    for (size_t run = 0; partial && run < batch; ++run)
        sum_blocks(partial + run * blocks * BCDI_FOURIER_TERMS, blocks, BCDI_FOURIER_TERMS,
                   host_terms + run * BCDI_FOURIER_TERMS);
    free(partial);
    return BCDI_OK;
}

static bcdi_status cpu_rl_ratio(bcdi_backend *be, bcdi_cf *model, const float *amplitude,
                                const uint8_t *mask, size_t n, size_t batch, float model_floor)
{
    for (size_t run = 0; run < batch; ++run) {
        bcdi_cf *m = model + run * n;
#pragma omp parallel for num_threads(be->threads) schedule(static)
        for (long long i = 0; i < (long long)n; ++i)
            m[i] =
                bcdi_cf_make(bcdi_vox_rl_ratio(amplitude[i], m[i].re, mask[i], model_floor), 0.0f);
    }
    return BCDI_OK;
}

static bcdi_status cpu_threshold(bcdi_backend *be, uint8_t *support, const float *value, size_t n,
                                 size_t batch, const float *host_thresholds, int only_shrink)
{
    for (size_t run = 0; run < batch; ++run) {
        uint8_t *s = support + run * n;
        const float *v = value + run * n, threshold = host_thresholds[run];
#pragma omp parallel for num_threads(be->threads) schedule(static)
        for (long long i = 0; i < (long long)n; ++i)
            s[i] = bcdi_vox_threshold(v[i], threshold, s[i], only_shrink);
    }
    return BCDI_OK;
}

/* One axis of the separable blur: src -> dst. */
static void blur_axis(const bcdi_backend *be, float *dst, const float *src, const size_t shape[3],
                      size_t batch, int axis, const float *weights, int radius)
{
    size_t n = shape[0] * shape[1] * shape[2];
    long stride = axis == 0 ? (long)(shape[1] * shape[2]) : axis == 1 ? (long)shape[2] : 1;
    long len = (long)shape[axis];
    long long total = (long long)(n * batch);
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long k = 0; k < total; ++k) {
        size_t run = (size_t)k / n, i = (size_t)k % n;
        size_t coord = (i / (size_t)stride) % (size_t)len;
        const float *line = src + run * n + (i - coord * (size_t)stride);
        dst[k] = bcdi_vox_blur_tap(line, stride, len, (long)coord, weights, radius);
    }
}

static bcdi_status cpu_gaussian_blur(bcdi_backend *be, float *volume, float *tmp,
                                     const size_t shape[3], size_t batch, const float sigma[3])
{
    size_t n = shape[0] * shape[1] * shape[2];
    float weights[2 * BCDI_BLUR_MAX_RADIUS + 1];
    for (int axis = 0; axis < 3; ++axis) {
        if (!(sigma[axis] > 0.0f) || shape[axis] < 2) continue;
        int radius = bcdi_gauss_weights(sigma[axis], weights);
        blur_axis(be, tmp, volume, shape, batch, axis, weights, radius);
        memcpy(volume, tmp, n * batch * sizeof *volume);
    }
    return BCDI_OK;
}

static bcdi_status cpu_sum(bcdi_backend *be, const float *x, size_t n, size_t batch,
                           double *host_out)
{
    size_t blocks = block_count(n);
    double *partial = calloc(blocks * batch, sizeof *partial);
    if (!partial) return bcdi_error(BCDI_ERR_NOMEM, "sum: out of memory");
#pragma omp parallel for num_threads(be->threads) schedule(static)
    for (long long task = 0; task < (long long)(blocks * batch); ++task) {
        size_t run = (size_t)task / blocks, block = (size_t)task % blocks;
        size_t begin = block * REDUCE_BLOCK,
               end = begin + REDUCE_BLOCK < n ? begin + REDUCE_BLOCK : n;
        double acc = 0.0;
        for (size_t i = begin; i < end; ++i)
            acc += (double)x[run * n + i];
        partial[task] = acc;
    }
    for (size_t run = 0; run < batch; ++run)
        sum_blocks(partial + run * blocks, blocks, 1, host_out + run);
    free(partial);
    return BCDI_OK;
}

static bcdi_status cpu_max(bcdi_backend *be, const float *x, size_t n, size_t batch,
                           float *host_out)
{
    for (size_t run = 0; run < batch; ++run) {
        float best = -INFINITY;
        const float *v = x + run * n;
#pragma omp parallel for num_threads(be->threads) reduction(max : best) schedule(static)
        for (long long i = 0; i < (long long)n; ++i)
            if (v[i] > best) best = v[i];
        host_out[run] = best;
    }
    return BCDI_OK;
}

static bcdi_status cpu_count_nonzero(bcdi_backend *be, const uint8_t *x, size_t n, size_t batch,
                                     uint64_t *host_out)
{
    for (size_t run = 0; run < batch; ++run) {
        uint64_t count = 0;
        const uint8_t *v = x + run * n;
#pragma omp parallel for num_threads(be->threads) reduction(+ : count) schedule(static)
        for (long long i = 0; i < (long long)n; ++i)
            count += v[i] != 0;
        host_out[run] = count;
    }
    return BCDI_OK;
}

static const bcdi_backend_ops cpu_ops = {
    .close = cpu_close,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .zero = cpu_zero,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .synchronize = cpu_synchronize,
    .fft_create = cpu_fft_create,
    .fft_forward = cpu_fft_forward,
    .fft_inverse = cpu_fft_inverse,
    .fft_destroy = cpu_fft_destroy,
    .modulus_project = cpu_modulus_project,
    .update = cpu_update,
    .random_start = cpu_random_start,
    .random_uniform = cpu_random_uniform,
    .cf_abs = cpu_cf_abs,
    .cf_scale = cpu_cf_scale,
    .coherent_intensity = cpu_coherent_intensity,
    .spectrum_product = cpu_spectrum_product,
    .pc_modulus_project = cpu_pc_modulus_project,
    .rl_ratio = cpu_rl_ratio,
    .threshold = cpu_threshold,
    .gaussian_blur = cpu_gaussian_blur,
    .sum = cpu_sum,
    .max = cpu_max,
    .count_nonzero = cpu_count_nonzero,
    .iterate = cpu_iterate,
    .shrink_wrap = cpu_shrink_wrap,
};

/* CPUs in this process's affinity mask. */
static int affinity_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return CPU_COUNT(&set);
}

/* A CPU quota (quota / period, in CPUs) from one cgroup control file: v2 "cpu.max" holds
 * "<quota|max> <period>", v1 cpu.cfs_quota_us holds the quota alone (-1 = none). 0 = none. */
static double quota_from(const char *dir, int v2)
{
    char path[4200];
    long long quota = -1, period = 100000;
    snprintf(path, sizeof path, "%s/%s", dir, v2 ? "cpu.max" : "cpu.cfs_quota_us");
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char word[64] = "";
    int got = fscanf(f, "%63s %lld", word, &period);
    fclose(f);
    if (got < 1 || !strcmp(word, "max")) return 0;
    quota = atoll(word);
    if (!v2) {
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        f = fopen(path, "r");
        if (!f || fscanf(f, "%lld", &period) != 1) period = 0;
        if (f) fclose(f);
    }
    return quota > 0 && period > 0 ? (double)quota / (double)period : 0;
}

/* The tightest CPU quota of this process's cgroup and its ancestors (v2 unified hierarchy or
 * the v1 cpu controller), in CPUs; 0 when none is set or none can be read. */
static double cgroup_cpu_quota(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return 0;
    char line[4096], v2_path[4096] = "", v1_path[4096] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *first = strchr(line, ':'), *second = first ? strchr(first + 1, ':') : NULL;
        if (!second) continue;
        *second = '\0';
        const char *controllers = first + 1, *where = second + 1;
        if (!strcmp(line, "0") && !*controllers) snprintf(v2_path, sizeof v2_path, "%s", where);
        /* v1: "N:cpu,cpuacct:/path" or "N:cpu:/path" */
        for (const char *c = controllers; *c;) {
            size_t len = strcspn(c, ",");
            if (len == 3 && !strncmp(c, "cpu", 3)) snprintf(v1_path, sizeof v1_path, "%s", where);
            c += len + (c[len] == ',');
        }
    }
    fclose(f);
    double best = 0;
    const char *roots[2] = {"/sys/fs/cgroup", "/sys/fs/cgroup/cpu"};
    const char *paths[2] = {v2_path, v1_path};
    for (int v = 0; v < 2; ++v) {
        char dir[8400];
        snprintf(dir, sizeof dir, "%s%s", roots[v], paths[v]);
        for (;;) { /* this cgroup, then each ancestor up to the root */
            size_t len = strlen(dir);
            while (len > 1 && dir[len - 1] == '/')
                dir[--len] = '\0';
            double q = quota_from(dir, v == 0);
            if (q > 0 && (best == 0 || q < best)) best = q;
            if (len <= strlen(roots[v])) break;
            char *slash = strrchr(dir, '/');
            if (!slash) break;
            *slash = '\0';
        }
    }
    return best;
}

int bcdi_cpu_threads_default(void)
{
    /* an explicit OMP_NUM_THREADS is the user's choice */
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && *env) return omp_get_max_threads();
    int cpus = affinity_cpus();
    if (cpus < 1) cpus = omp_get_num_procs();
    double quota = cgroup_cpu_quota();
    if (quota > 0 && quota < cpus) cpus = (int)ceil(quota - 1e-9);
    return cpus > 0 ? cpus : 1;
}

bcdi_status bcdi_backend_cpu_open(bcdi_backend **out)
{
    *out = NULL;
    if (!fftw_threads_ready) {
        if (!fftwf_init_threads())
            return bcdi_error(BCDI_ERR_BACKEND, "FFTW: fftwf_init_threads failed");
        fftw_threads_ready = 1;
    }
    bcdi_backend *be = calloc(1, sizeof *be);
    if (!be) return bcdi_error(BCDI_ERR_NOMEM, "CPU backend: out of memory");
    be->ops = &cpu_ops;
    be->kind = BCDI_BACKEND_CPU;
    be->device_index = -1;
    be->threads = bcdi_cpu_threads_default();
    snprintf(be->device_name, sizeof be->device_name, "CPU (%d OpenMP threads, FFTW %s)",
             be->threads, fftwf_version);
    *out = be;
    return BCDI_OK;
}
