/* SPDX-License-Identifier: BSD-3-Clause */
/* Device facts (gpu_device.h): copy bandwidth, device memory per voxel of phasing runs and the
 * largest cube, for tools/gpu-verify.sh. The CUDA runtime is asked directly (cudaMemGetInfo,
 * events): these are facts about the device, not ops of the backend. */
#include "gpu_device.h"

#include <stdio.h>

#ifndef BCDI_HAVE_CUDA
int gpu_device_facts(double host_gib, size_t try_cap)
{
    (void)host_gib, (void)try_cap;
    printf("FACT skipped reason=\"built without CUDA\"\n");
    return 77;
}
#else

#include "backend/backend.h"
#include "bcdi/phasing.h"

#include <cuda_runtime_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static size_t free_bytes(void)
{
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) return 0;
    return free_b;
}

/* ---- copy bandwidth ---------------------------------------------------------------------------
 */
static int fact_copy(void)
{
    const size_t bytes = (size_t)1 << 30;
    const int reps = 20;
    void *a = NULL, *b = NULL;
    cudaEvent_t start, stop;
    float ms = 0.0f;
    cudaError_t e = cudaMalloc(&a, bytes);
    if (e == cudaSuccess) e = cudaMalloc(&b, bytes);
    if (e == cudaSuccess) e = cudaMemset(a, 1, bytes);
    if (e == cudaSuccess) e = cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice); /* warm-up */
    if (e == cudaSuccess) e = cudaEventCreate(&start);
    if (e == cudaSuccess) e = cudaEventCreate(&stop);
    if (e == cudaSuccess) e = cudaEventRecord(start, 0);
    for (int r = 0; e == cudaSuccess && r < reps; ++r)
        e = cudaMemcpyAsync(r % 2 ? a : b, r % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice, 0);
    if (e == cudaSuccess) e = cudaEventRecord(stop, 0);
    if (e == cudaSuccess) e = cudaEventSynchronize(stop);
    if (e == cudaSuccess) e = cudaEventElapsedTime(&ms, start, stop);
    cudaFree(a);
    cudaFree(b);
    if (e != cudaSuccess) {
        printf("FACT copy status=fail error=\"%s\"\n", cudaGetErrorString(e));
        return 1;
    }
    /* each copy reads and writes every byte once */
    double gbs = 2.0 * (double)bytes * reps / (ms * 1e-3) / 1e9;
    printf("FACT copy bytes=%zu reps=%d ms=%.3f gbs_read_write=%.1f\n", bytes, reps, ms, gbs);
    return 0;
}

/* ---- device memory of phasing runs ------------------------------------------------------------
 */
typedef struct {
    size_t min_free;
    int samples;
} mem_probe;

static void sample_memory(long done, long total, double best, void *user)
{
    (void)done, (void)total, (void)best;
    mem_probe *probe = user;
    size_t f = free_bytes();
    if (f && f < probe->min_free) probe->min_free = f;
    probe->samples++;
}

/* A smooth positive pattern: a Gaussian peak at the centre over a flat floor. Its phasing does
 * not converge to anything; only the buffers it needs matter here. */
static float *make_intensity(size_t size)
{
    size_t n = size * size * size;
    float *intensity = malloc(n * sizeof *intensity);
    if (!intensity) return NULL;
    const double c = (double)size / 2.0, inv_2s2 = 1.0 / (2.0 * (size / 8.0) * (size / 8.0));
#pragma omp parallel for schedule(static)
    for (size_t i0 = 0; i0 < size; ++i0)
        for (size_t i1 = 0; i1 < size; ++i1)
            for (size_t i2 = 0; i2 < size; ++i2) {
                double d0 = (double)i0 - c, d1 = (double)i1 - c, d2 = (double)i2 - c;
                intensity[(i0 * size + i1) * size + i2] =
                    (float)(1e6 * exp(-(d0 * d0 + d1 * d1 + d2 * d2) * inv_2s2) + 1.0);
            }
    return intensity;
}

/* Device bytes a bcdi_phase run of `runs` at size^3 holds (peak over progress callbacks);
 * 0 on failure. */
static double phase_device_bytes(bcdi_backend *be, size_t size, long runs, const char *recipe,
                                 double *seconds)
{
    float *intensity = make_intensity(size);
    if (!intensity) return 0.0;
    bcdi_phasing_params p;
    bcdi_phasing_default(&p);
    snprintf(p.recipe, sizeof p.recipe, "%s", recipe);
    p.runs = runs;
    p.keep = 1;
    p.seed = 1;
    p.support_init = BCDI_SUPPORT_SPHERE;
    p.shrinkwrap_period = 5;
    p.metric_interval = 5;
    p.support_min_fraction = 0.0; /* no restarts: the pattern is not a crystal's */
    p.support_max_fraction = 1.0;
    bcdi_phasing_data d = {{size, size, size}, intensity, NULL, NULL};
    bcdi_phasing_result r;
    size_t before = free_bytes();
    mem_probe probe = {before, 0};
    double t0 = now_s();
    bcdi_status st = bcdi_phase(be, &p, &d, sample_memory, &probe, &r);
    *seconds = now_s() - t0;
    free(intensity);
    if (st != BCDI_OK) {
        printf("FACT memory size=%zu runs=%ld status=fail error=\"%s\"\n", size, runs,
               bcdi_last_error());
        return 0.0;
    }
    bcdi_phasing_result_free(&r);
    double used = (double)(before - probe.min_free);
    printf("FACT memory size=%zu runs=%ld used_bytes=%.0f bytes_per_voxel=%.2f samples=%d "
           "seconds=%.2f\n",
           size, runs, used, used / ((double)size * size * size), probe.samples, *seconds);
    fflush(stdout);
    return used;
}

/* Largest n <= limit whose prime factors are 2, 3, 5, 7 (sizes cuFFT transforms fast). */
static size_t smooth_below(size_t limit)
{
    for (size_t n = limit; n > 1; --n) {
        size_t m = n;
        for (size_t f = 2; f <= 7; ++f)
            while (m % f == 0)
                m /= f;
        if (m == 1) return n;
    }
    return 1;
}

/* The engine's device buffers for one run at size^3 and a cuFFT plan, one forward + inverse. */
static int probe_cube(bcdi_backend *be, size_t size, double *seconds)
{
    const bcdi_backend_ops *ops = be->ops;
    size_t n = size * size * size, shape[3] = {size, size, size};
    float *amplitude = NULL;
    uint8_t *mask = NULL, *support = NULL;
    bcdi_cf *rho = NULL, *psi = NULL;
    bcdi_fft *plan = NULL;
    double t0 = now_s();
    bcdi_status st = ops->alloc(be, n * sizeof(float), (void **)&amplitude);
    if (st == BCDI_OK) st = ops->alloc(be, n, (void **)&mask);
    if (st == BCDI_OK) st = ops->alloc(be, n * sizeof(bcdi_cf), (void **)&rho);
    if (st == BCDI_OK) st = ops->alloc(be, n * sizeof(bcdi_cf), (void **)&psi);
    if (st == BCDI_OK) st = ops->alloc(be, n, (void **)&support);
    if (st == BCDI_OK) st = ops->fft_create(be, shape, 1, &plan);
    if (st == BCDI_OK) st = ops->zero(be, rho, n * sizeof(bcdi_cf));
    if (st == BCDI_OK) st = ops->fft_forward(plan, rho, psi);
    if (st == BCDI_OK) st = ops->fft_inverse(plan, psi, psi);
    if (st == BCDI_OK) st = ops->synchronize(be);
    *seconds = now_s() - t0;
    if (st != BCDI_OK)
        printf("FACT largest_probe size=%zu status=fail error=\"%s\"\n", size, bcdi_last_error());
    else
        printf("FACT largest_probe size=%zu status=ok free_after_bytes=%zu seconds=%.2f\n", size,
               free_bytes(), *seconds);
    fflush(stdout);
    if (plan) ops->fft_destroy(plan);
    ops->free(be, amplitude);
    ops->free(be, mask);
    ops->free(be, rho);
    ops->free(be, psi);
    ops->free(be, support);
    return st == BCDI_OK;
}

static double host_available_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kib = 0.0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib * 1024.0;
}

int gpu_device_facts(double host_gib, size_t try_cap)
{
    int failed = 0;
    struct cudaDeviceProp prop;
    int runtime = 0, driver = 0;
    size_t free_b = 0, total_b = 0;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess || cudaMemGetInfo(&free_b, &total_b)) {
        printf("FACT device status=fail\n");
        return 1;
    }
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    printf("FACT device name=\"%s\" cc=%d.%d sms=%d l2_bytes=%d total_bytes=%zu free_bytes=%zu "
           "runtime=%d driver=%d\n",
           prop.name, prop.major, prop.minor, prop.multiProcessorCount, prop.l2CacheSize, total_b,
           free_b, runtime, driver);
    failed |= fact_copy();

    bcdi_backend *be = NULL;
    if (bcdi_backend_cuda_open(0, &be) != BCDI_OK) {
        printf("FACT memory status=fail error=\"%s\"\n", bcdi_last_error());
        return 1;
    }
    const char *recipe = "10*HIO + 5*ER";
    double t1, t2, t3;
    double one = phase_device_bytes(be, 256, 1, recipe, &t1);
    double two = phase_device_bytes(be, 256, 2, recipe, &t2);
    double small = phase_device_bytes(be, 128, 1, recipe, &t3);
    if (one <= 0 || two <= 0 || small <= 0) {
        bcdi_backend_close(be);
        return 1;
    }
    const double v256 = 256.0 * 256 * 256, v128 = 128.0 * 128 * 128;
    double per_run = (two - one) / v256, shared = one / v256 - per_run;
    double predicted_small = (per_run + shared) * v128;
    printf("FACT memory_model per_run_bytes_per_voxel=%.2f shared_bytes_per_voxel=%.2f "
           "one_run_bytes_per_voxel=%.2f predicted_128_over_measured=%.3f\n",
           per_run, shared, per_run + shared, predicted_small / small);

    /* the largest cube by the model, with 3% of the free memory left for the context's growth */
    double free_now = (double)free_bytes();
    size_t largest = smooth_below((size_t)cbrt(0.97 * free_now / (per_run + shared)));
    printf("FACT largest_predicted size=%zu free_bytes=%.0f bytes_per_voxel=%.2f\n", largest,
           free_now, per_run + shared);
    fflush(stdout);
    double seconds;
    /* the three sizes next below the prediction, then 7% steps down: on the H200 (CUDA 13.0)
     * cuFFT refused plans from 1764^3 up with "internal error" though the memory fitted, so the
     * probe looks for the largest cube that actually runs */
    size_t probed = largest;
    int probed_ok = 0;
    for (int attempt = 0; attempt < 9 && probed > 1; ++attempt) {
        if ((probed_ok = probe_cube(be, probed, &seconds))) break;
        probed = attempt < 2 ? smooth_below(probed - 1) : smooth_below((size_t)(0.93 * probed));
    }
    printf("FACT largest_probed size=%zu status=%s\n", probed_ok ? probed : 0,
           probed_ok ? "ok" : "none");
    fflush(stdout);

    double host = host_gib > 0 ? host_gib * 1073741824.0 : host_available_bytes();
    size_t host_limit = smooth_below((size_t)cbrt(0.7 * host / 40.0));
    size_t tried = largest < host_limit ? largest : host_limit;
    const char *limited_by = tried < largest ? "host" : "device";
    /* try_cap: the caller's bound on the run's size (time on a lent device is short) */
    if (try_cap > 0 && smooth_below(try_cap) < tried) {
        tried = smooth_below(try_cap);
        limited_by = "try_cap";
    }
    printf("FACT largest_phase_plan size=%zu host_bytes=%.0f host_limit=%zu limited_by=%s\n", tried,
           host, host_limit, limited_by);
    fflush(stdout);
    double used = phase_device_bytes(be, tried, 1, "10*HIO", &seconds);
    printf("FACT largest_phase size=%zu status=%s seconds=%.1f\n", tried, used > 0 ? "ok" : "fail",
           seconds);
    failed |= used <= 0;
    bcdi_backend_close(be);
    return failed;
}
#endif
