/* SPDX-License-Identifier: BSD-3-Clause */
/* CUDA instance of the backend ops table: cuFFT for the transforms, kernels/cuda_kernels.cu for
 * everything per voxel. All work of one backend goes to its own stream, so ops are ordered among
 * themselves; only transfers to or from the host (download, reductions, upload) wait. */
#include "backend/cuda/cuda_private.h"
#include "cuda_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bcdi_status cuda_fail(cudaError_t err, const char *what)
{
    bcdi_status status = err == cudaErrorMemoryAllocation ? BCDI_ERR_NOMEM : BCDI_ERR_BACKEND;
    return bcdi_error(status, "CUDA %s: %s", what, cudaGetErrorString(err));
}

#define CUDA_TRY(call, what)                                                                       \
    do {                                                                                           \
        cudaError_t cuda_err_ = (call);                                                            \
        if (cuda_err_ != cudaSuccess) return cuda_fail(cuda_err_, what);                           \
    } while (0)

/* cuFFT has no message function of its own. */
static const char *cufft_message(cufftResult result)
{
    switch (result) {
    case CUFFT_SUCCESS:
        return "success";
    case CUFFT_INVALID_PLAN:
        return "invalid plan";
    case CUFFT_ALLOC_FAILED:
        return "allocation failed";
    case CUFFT_INVALID_TYPE:
        return "invalid type";
    case CUFFT_INVALID_VALUE:
        return "invalid value";
    case CUFFT_INTERNAL_ERROR:
        return "internal error";
    case CUFFT_EXEC_FAILED:
        return "execution failed";
    case CUFFT_SETUP_FAILED:
        return "setup failed (library not initialised)";
    case CUFFT_INVALID_SIZE:
        return "invalid size";
    case CUFFT_UNALIGNED_DATA:
        return "unaligned data";
    case CUFFT_INVALID_DEVICE:
        return "invalid device";
    case CUFFT_NO_WORKSPACE:
        return "no workspace";
    case CUFFT_NOT_IMPLEMENTED:
        return "not implemented";
    case CUFFT_NOT_SUPPORTED:
        return "not supported";
    default:
        return "unknown cuFFT error";
    }
}

bcdi_status cuda_cufft_fail(cufftResult result, const char *what)
{
    bcdi_status status = result == CUFFT_ALLOC_FAILED ? BCDI_ERR_NOMEM : BCDI_ERR_BACKEND;
    return bcdi_error(status, "cuFFT %s: %s (code %d)", what, cufft_message(result), (int)result);
}

/* Every op makes the backend's device current: a process may hold backends on several GPUs.
 * It also clears the runtime's per-thread last error: a failed call whose error was already
 * returned (a cudaMalloc out of memory, say) or one whose result is ignored (cuda_free) leaves it
 * set, and the kernel launchers read cudaGetLastError() after each launch, so a later good launch
 * would be reported as failing with that old error. Sticky errors (a faulted context) are not
 * lost: every later call returns them again. */
bcdi_status cuda_use_device(bcdi_backend *be, const char *what)
{
    (void)cudaGetLastError();
    CUDA_TRY(cudaSetDevice(be->device_index), what);
    return BCDI_OK;
}

static bcdi_status check_batch(size_t batch, const char *what)
{
    if (batch > BCDI_CUDA_MAX_BATCH)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "CUDA %s: batch %zu exceeds %d runs", what, batch,
                          BCDI_CUDA_MAX_BATCH);
    return BCDI_OK;
}

/* Device scratch kept per backend and only ever grown. The stream is drained first, so no
 * queued kernel still reads the old buffer (cudaFree's own implicit synchronisation is not
 * something the runtime documents for non-blocking streams; growing is rare, the wait is free). */
static bcdi_status grow_device(cudaStream_t stream, void **buffer, size_t *have, size_t need,
                               const char *what)
{
    if (need <= *have) return BCDI_OK;
    if (*buffer) {
        CUDA_TRY(cudaStreamSynchronize(stream), what);
        cudaFree(*buffer);
    }
    *buffer = NULL;
    *have = 0;
    CUDA_TRY(cudaMalloc(buffer, need), what);
    *have = need;
    return BCDI_OK;
}

static bcdi_status grow_host(void **buffer, size_t *have, size_t need, const char *what)
{
    if (need <= *have) return BCDI_OK;
    if (*buffer) cudaFreeHost(*buffer);
    *buffer = NULL;
    *have = 0;
    CUDA_TRY(cudaMallocHost(buffer, need), what);
    *have = need;
    return BCDI_OK;
}

/* Scratch for a reduction of `terms` values per run, each `elem` bytes wide. */
static bcdi_status reduce_scratch(cuda_state *st, size_t n, size_t batch, size_t terms, size_t elem,
                                  const char *what)
{
    size_t result_bytes = batch * terms * elem;
    bcdi_status s = grow_device(st->stream, &st->partials, &st->partials_bytes,
                                result_bytes * bcdi_cuda_reduce_blocks(n), what);
    if (s == BCDI_OK)
        s = grow_device(st->stream, &st->results, &st->results_bytes, result_bytes, what);
    if (s == BCDI_OK) s = grow_host(&st->host_results, &st->host_results_bytes, result_bytes, what);
    return s;
}

/* Checks the launch, brings the per-run results to the caller's array. */
static bcdi_status reduce_finish(cuda_state *st, cudaError_t launch, void *host_out, size_t bytes,
                                 const char *what)
{
    CUDA_TRY(launch, what);
    CUDA_TRY(
        cudaMemcpyAsync(st->host_results, st->results, bytes, cudaMemcpyDeviceToHost, st->stream),
        what);
    CUDA_TRY(cudaStreamSynchronize(st->stream), what);
    memcpy(host_out, st->host_results, bytes);
    return BCDI_OK;
}

/* Per-run parameters (factors, thresholds) go to a device buffer on the stream. The source is
 * pageable host memory, so the copy has been staged when cudaMemcpyAsync returns. */
static bcdi_status upload_params(cuda_state *st, const void *host_params, size_t bytes,
                                 const char *what)
{
    bcdi_status s = grow_device(st->stream, &st->params, &st->params_bytes, bytes, what);
    if (s != BCDI_OK) return s;
    CUDA_TRY(cudaMemcpyAsync(st->params, host_params, bytes, cudaMemcpyHostToDevice, st->stream),
             what);
    return BCDI_OK;
}

/* ---- life cycle and memory ------------------------------------------------------------------- */
static void cuda_close(bcdi_backend *be)
{
    if (!be) return;
    cuda_state *st = state_of(be);
    if (st) {
        cudaSetDevice(be->device_index);
        if (st->stream) cudaStreamSynchronize(st->stream);
        cudaFree(st->partials);
        cudaFree(st->results);
        cudaFree(st->params);
        cudaFreeHost(st->host_results);
        if (st->stream) cudaStreamDestroy(st->stream);
        free(st);
    }
    free(be);
}

static bcdi_status cuda_alloc(bcdi_backend *be, size_t bytes, void **ptr)
{
    *ptr = NULL;
    bcdi_status s = cuda_use_device(be, "alloc");
    if (s != BCDI_OK) return s;
    cudaError_t err = cudaMalloc(ptr, bytes ? bytes : 1);
    if (err != cudaSuccess) {
        *ptr = NULL;
        return bcdi_error(err == cudaErrorMemoryAllocation ? BCDI_ERR_NOMEM : BCDI_ERR_BACKEND,
                          "CUDA alloc of %zu bytes on %s: %s", bytes, be->device_name,
                          cudaGetErrorString(err));
    }
    return BCDI_OK;
}

static void cuda_free(bcdi_backend *be, void *ptr)
{
    if (!ptr) return;
    cudaSetDevice(be->device_index);
    /* callers free buffers that queued work may still use (e.g. the engine regrowing its batch) */
    cudaStreamSynchronize(state_of(be)->stream);
    cudaFree(ptr);
}

/* zero and copy stay queued on the stream: later ops and downloads are ordered after them. */
static bcdi_status cuda_zero(bcdi_backend *be, void *ptr, size_t bytes)
{
    bcdi_status s = cuda_use_device(be, "zero");
    if (s != BCDI_OK) return s;
    CUDA_TRY(cudaMemsetAsync(ptr, 0, bytes, state_of(be)->stream), "zero");
    return BCDI_OK;
}

static bcdi_status cuda_upload(bcdi_backend *be, void *dst, const void *host_src, size_t bytes)
{
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, "upload");
    if (s != BCDI_OK) return s;
    CUDA_TRY(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, st->stream), "upload");
    CUDA_TRY(cudaStreamSynchronize(st->stream), "upload");
    return BCDI_OK;
}

static bcdi_status cuda_download(bcdi_backend *be, void *host_dst, const void *src, size_t bytes)
{
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, "download");
    if (s != BCDI_OK) return s;
    CUDA_TRY(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, st->stream), "download");
    CUDA_TRY(cudaStreamSynchronize(st->stream), "download");
    return BCDI_OK;
}

static bcdi_status cuda_copy(bcdi_backend *be, void *dst, const void *src, size_t bytes)
{
    /* as on the CPU, a copy onto itself is a no-op (cudaMemcpy* leaves overlap undefined) */
    if (dst == src || bytes == 0) return BCDI_OK;
    bcdi_status s = cuda_use_device(be, "copy");
    if (s != BCDI_OK) return s;
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, state_of(be)->stream),
             "copy");
    return BCDI_OK;
}

static bcdi_status cuda_synchronize(bcdi_backend *be)
{
    bcdi_status s = cuda_use_device(be, "synchronize");
    if (s != BCDI_OK) return s;
    CUDA_TRY(cudaStreamSynchronize(state_of(be)->stream), "synchronize");
    return BCDI_OK;
}

/* ---- FFT ------------------------------------------------------------------------------------- */
static bcdi_status cuda_fft_create(bcdi_backend *be, const size_t shape[3], size_t batch,
                                   bcdi_fft **plan)
{
    *plan = NULL;
    if (!shape[0] || !shape[1] || !shape[2] || !batch)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "cuFFT plan: empty shape %zux%zux%zu batch %zu",
                          shape[0], shape[1], shape[2], batch);
    bcdi_status s = cuda_use_device(be, "fft_create");
    if (s != BCDI_OK) return s;
    bcdi_fft *fft = calloc(1, sizeof *fft);
    if (!fft) return bcdi_error(BCDI_ERR_NOMEM, "cuFFT plan: out of host memory");
    fft->be = be;
    memcpy(fft->shape, shape, sizeof fft->shape);
    fft->batch = batch;
    cufftResult r = cufftCreate(&fft->handle);
    if (r != CUFFT_SUCCESS) {
        free(fft);
        return cuda_cufft_fail(r, "create");
    }
    /* The 64-bit interface: batch * volume may exceed 2^31 elements. NULL embeds mean the
     * volumes are contiguous, C order, one after another. */
    long long dims[3] = {(long long)shape[0], (long long)shape[1], (long long)shape[2]};
    size_t work_bytes = 0;
    r = cufftSetStream(fft->handle, state_of(be)->stream);
    if (r == CUFFT_SUCCESS)
        r = cufftMakePlanMany64(fft->handle, 3, dims, NULL, 1, 0, NULL, 1, 0, CUFFT_C2C,
                                (long long)batch, &work_bytes);
    if (r != CUFFT_SUCCESS) {
        cufftDestroy(fft->handle);
        free(fft);
        /* On the H200, plans from 1764^3 up failed with "internal error" while the engine's
         * buffers fitted: cuFFT's work area (up to the data's size) is the likely cause, so the
         * message gives the free memory to judge by. */
        size_t free_bytes = 0, total_bytes = 0;
        if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) free_bytes = total_bytes = 0;
        const double gib = 1073741824.0;
        return bcdi_error_prefix(
            cuda_cufft_fail(r, "plan"),
            "%zux%zux%zu batch %zu (device memory free: %.2f of %.2f GiB; a cuFFT plan may need a "
            "work area as large as the data, %.2f GiB here: a smaller box or fewer runs at once "
            "may fit): ",
            shape[0], shape[1], shape[2], batch, free_bytes / gib, total_bytes / gib,
            (double)shape[0] * shape[1] * shape[2] * batch * sizeof(cufftComplex) / gib);
    }
    *plan = fft;
    return BCDI_OK;
}

static bcdi_status cuda_fft_exec(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out, int direction,
                                 const char *what)
{
    bcdi_status s = cuda_use_device(plan->be, what);
    if (s != BCDI_OK) return s;
    /* bcdi_cf and cufftComplex are both two packed floats. One plan serves in place and out of
     * place (cuFFT decides by idata == odata). The contract's "out of place keeps `in`" rests on
     * cuFFT documenting input overwrites only for out-of-place C2R, not C2C; gpu_checks tests it.
     */
    cufftResult r = cufftExecC2C(plan->handle, (cufftComplex *)in, (cufftComplex *)out, direction);
    if (r != CUFFT_SUCCESS) return cuda_cufft_fail(r, what);
    return BCDI_OK;
}

static bcdi_status cuda_fft_forward(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out)
{
    return cuda_fft_exec(plan, in, out, CUFFT_FORWARD, "fft_forward");
}

static bcdi_status cuda_fft_inverse(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out)
{
    return cuda_fft_exec(plan, in, out, CUFFT_INVERSE, "fft_inverse");
}

static void cuda_fft_destroy(bcdi_fft *plan)
{
    if (!plan) return;
    cudaSetDevice(plan->be->device_index);
    /* the plan's work area may still be in use by a queued transform */
    cudaStreamSynchronize(state_of(plan->be)->stream);
    cufftDestroy(plan->handle);
    cuda_fused_destroy(plan->fused);
    free(plan);
}

/* ---- per-voxel ops --------------------------------------------------------------------------- */
static bcdi_status cuda_modulus_project(bcdi_backend *be, bcdi_cf *psi, const float *amplitude,
                                        const uint8_t *mask, size_t n, size_t batch, float inv_n,
                                        double *host_terms)
{
    const char *what = "modulus_project";
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s != BCDI_OK || batch == 0) return s;
    if (!host_terms) {
        CUDA_TRY(bcdi_cuda_modulus_project(st->stream, psi, amplitude, mask, n, batch, inv_n, NULL,
                                           NULL),
                 what);
        return BCDI_OK;
    }
    s = reduce_scratch(st, n, batch, BCDI_FOURIER_TERMS, sizeof(double), what);
    if (s != BCDI_OK) return s;
    cudaError_t launch = bcdi_cuda_modulus_project(st->stream, psi, amplitude, mask, n, batch,
                                                   inv_n, st->partials, st->results);
    return reduce_finish(st, launch, host_terms, batch * BCDI_FOURIER_TERMS * sizeof(double), what);
}

static bcdi_status cuda_update(bcdi_backend *be, bcdi_cf *rho, const bcdi_cf *proj,
                               const uint8_t *support, size_t n, size_t batch,
                               const bcdi_update_coeffs *coeffs, double *host_terms)
{
    const char *what = "update";
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s != BCDI_OK || batch == 0) return s;
    if (!host_terms) {
        CUDA_TRY(bcdi_cuda_update(st->stream, rho, proj, support, n, batch, *coeffs, NULL, NULL),
                 what);
        return BCDI_OK;
    }
    s = reduce_scratch(st, n, batch, BCDI_UPDATE_TERMS, sizeof(double), what);
    if (s != BCDI_OK) return s;
    cudaError_t launch = bcdi_cuda_update(st->stream, rho, proj, support, n, batch, *coeffs,
                                          st->partials, st->results);
    return reduce_finish(st, launch, host_terms, batch * BCDI_UPDATE_TERMS * sizeof(double), what);
}

static bcdi_status cuda_random_start(bcdi_backend *be, bcdi_cf *rho, const uint8_t *support,
                                     size_t n, size_t batch, uint64_t seed, uint64_t first_run)
{
    const char *what = "random_start";
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_random_start(state_of(be)->stream, rho, support, n, batch, seed, first_run),
             what);
    return BCDI_OK;
}

static bcdi_status cuda_random_uniform(bcdi_backend *be, float *out, size_t count, uint64_t seed,
                                       uint64_t stream, int word)
{
    const char *what = "random_uniform";
    if (word < 0 || word > 3)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "CUDA %s: word %d is not 0..3", what, word);
    bcdi_status s = cuda_use_device(be, what);
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_random_uniform(state_of(be)->stream, out, count, seed, stream, word), what);
    return BCDI_OK;
}

static bcdi_status cuda_cf_abs(bcdi_backend *be, float *out, const bcdi_cf *in, size_t count)
{
    bcdi_status s = cuda_use_device(be, "cf_abs");
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_cf_abs(state_of(be)->stream, out, in, count), "cf_abs");
    return BCDI_OK;
}

static bcdi_status cuda_cf_scale(bcdi_backend *be, bcdi_cf *x, size_t n, size_t batch,
                                 const bcdi_cf *host_factors)
{
    const char *what = "cf_scale";
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s == BCDI_OK && batch) s = upload_params(st, host_factors, batch * sizeof(bcdi_cf), what);
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_cf_scale(st->stream, x, n, batch, (const bcdi_cf *)st->params), what);
    return BCDI_OK;
}

static bcdi_status cuda_coherent_intensity(bcdi_backend *be, bcdi_cf *out, const bcdi_cf *psi,
                                           size_t count)
{
    bcdi_status s = cuda_use_device(be, "coherent_intensity");
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_coherent_intensity(state_of(be)->stream, out, psi, count),
             "coherent_intensity");
    return BCDI_OK;
}

static bcdi_status cuda_spectrum_product(bcdi_backend *be, bcdi_cf *x, const bcdi_cf *y,
                                         size_t count, int conjugate_y, float scale)
{
    bcdi_status s = cuda_use_device(be, "spectrum_product");
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_spectrum_product(state_of(be)->stream, x, y, count, conjugate_y, scale),
             "spectrum_product");
    return BCDI_OK;
}

static bcdi_status cuda_pc_modulus_project(bcdi_backend *be, bcdi_cf *psi, const float *amplitude,
                                           const uint8_t *mask, const bcdi_cf *model, size_t n,
                                           size_t batch, float inv_n, float model_floor,
                                           double *host_terms)
{
    const char *what = "pc_modulus_project";
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s != BCDI_OK || batch == 0) return s;
    if (!host_terms) {
        CUDA_TRY(bcdi_cuda_pc_modulus_project(st->stream, psi, amplitude, mask, model, n, batch,
                                              inv_n, model_floor, NULL, NULL),
                 what);
        return BCDI_OK;
    }
    s = reduce_scratch(st, n, batch, BCDI_FOURIER_TERMS, sizeof(double), what);
    if (s != BCDI_OK) return s;
    cudaError_t launch =
        bcdi_cuda_pc_modulus_project(st->stream, psi, amplitude, mask, model, n, batch, inv_n,
                                     model_floor, st->partials, st->results);
    return reduce_finish(st, launch, host_terms, batch * BCDI_FOURIER_TERMS * sizeof(double), what);
}

static bcdi_status cuda_rl_ratio(bcdi_backend *be, bcdi_cf *model, const float *amplitude,
                                 const uint8_t *mask, size_t n, size_t batch, float model_floor)
{
    const char *what = "rl_ratio";
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s != BCDI_OK) return s;
    CUDA_TRY(
        bcdi_cuda_rl_ratio(state_of(be)->stream, model, amplitude, mask, n, batch, model_floor),
        what);
    return BCDI_OK;
}

static bcdi_status cuda_threshold(bcdi_backend *be, uint8_t *support, const float *value, size_t n,
                                  size_t batch, const float *host_thresholds, int only_shrink)
{
    const char *what = "threshold";
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s == BCDI_OK && batch) s = upload_params(st, host_thresholds, batch * sizeof(float), what);
    if (s != BCDI_OK) return s;
    CUDA_TRY(bcdi_cuda_threshold(st->stream, support, value, n, batch, (const float *)st->params,
                                 only_shrink),
             what);
    return BCDI_OK;
}

/* Separable blur: one pass per blurred axis, alternating volume -> tmp -> volume;
 * after an odd number of passes the result is copied back into volume. */
static bcdi_status cuda_gaussian_blur(bcdi_backend *be, float *volume, float *tmp,
                                      const size_t shape[3], size_t batch, const float sigma[3])
{
    const char *what = "gaussian_blur";
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, what);
    if (s == BCDI_OK) s = check_batch(batch, what);
    if (s != BCDI_OK) return s;
    float weights[2 * BCDI_BLUR_MAX_RADIUS + 1];
    const float *src = volume;
    float *dst = tmp;
    for (int axis = 0; axis < 3; ++axis) {
        /* a flat axis is left alone, as on the CPU (its taps would only round the values) */
        if (!(sigma[axis] > 0.0f) || shape[axis] < 2) continue;
        int radius = bcdi_gauss_weights(sigma[axis], weights);
        CUDA_TRY(bcdi_cuda_blur_axis(st->stream, dst, src, shape, batch, axis, weights, radius),
                 what);
        src = dst;
        dst = dst == tmp ? volume : tmp;
    }
    if (src != volume) {
        size_t bytes = batch * shape[0] * shape[1] * shape[2] * sizeof(float);
        CUDA_TRY(cudaMemcpyAsync(volume, src, bytes, cudaMemcpyDeviceToDevice, st->stream), what);
    }
    return BCDI_OK;
}

/* ---- reductions ------------------------------------------------------------------------------ */
static bcdi_status cuda_sum(bcdi_backend *be, const float *x, size_t n, size_t batch,
                            double *host_out)
{
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, "sum");
    if (s == BCDI_OK) s = check_batch(batch, "sum");
    if (s == BCDI_OK) s = reduce_scratch(st, n, batch, 1, sizeof(double), "sum");
    if (s != BCDI_OK || !batch) return s;
    cudaError_t launch = bcdi_cuda_sum(st->stream, x, n, batch, st->partials, st->results);
    return reduce_finish(st, launch, host_out, batch * sizeof(double), "sum");
}

static bcdi_status cuda_max(bcdi_backend *be, const float *x, size_t n, size_t batch,
                            float *host_out)
{
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, "max");
    if (s == BCDI_OK) s = check_batch(batch, "max");
    if (s == BCDI_OK) s = reduce_scratch(st, n, batch, 1, sizeof(float), "max");
    if (s != BCDI_OK || !batch) return s;
    cudaError_t launch = bcdi_cuda_max(st->stream, x, n, batch, st->partials, st->results);
    return reduce_finish(st, launch, host_out, batch * sizeof(float), "max");
}

static bcdi_status cuda_count_nonzero(bcdi_backend *be, const uint8_t *x, size_t n, size_t batch,
                                      uint64_t *host_out)
{
    cuda_state *st = state_of(be);
    bcdi_status s = cuda_use_device(be, "count_nonzero");
    if (s == BCDI_OK) s = check_batch(batch, "count_nonzero");
    if (s == BCDI_OK)
        s = reduce_scratch(st, n, batch, 1, sizeof(unsigned long long), "count_nonzero");
    if (s != BCDI_OK || !batch) return s;
    _Static_assert(sizeof(unsigned long long) == sizeof(uint64_t), "count width");
    cudaError_t launch =
        bcdi_cuda_count_nonzero(st->stream, x, n, batch, st->partials, st->results);
    return reduce_finish(st, launch, host_out, batch * sizeof(uint64_t), "count_nonzero");
}

static const bcdi_backend_ops cuda_ops = {
    .close = cuda_close,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .zero = cuda_zero,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .synchronize = cuda_synchronize,
    .fft_create = cuda_fft_create,
    .fft_forward = cuda_fft_forward,
    .fft_inverse = cuda_fft_inverse,
    .fft_destroy = cuda_fft_destroy,
    .modulus_project = cuda_modulus_project,
    .update = cuda_update,
    .random_start = cuda_random_start,
    .random_uniform = cuda_random_uniform,
    .cf_abs = cuda_cf_abs,
    .cf_scale = cuda_cf_scale,
    .coherent_intensity = cuda_coherent_intensity,
    .spectrum_product = cuda_spectrum_product,
    .pc_modulus_project = cuda_pc_modulus_project,
    .rl_ratio = cuda_rl_ratio,
    .threshold = cuda_threshold,
    .gaussian_blur = cuda_gaussian_blur,
    .sum = cuda_sum,
    .max = cuda_max,
    .count_nonzero = cuda_count_nonzero,
    .iterate = cuda_iterate,
};

/* ---- public entry points --------------------------------------------------------------------- */
int bcdi_cuda_built(void)
{
    return 1;
}

int bcdi_cuda_device_count(void)
{
    int count = 0;
    /* no driver (CPU-only node) or no device: the runtime reports an error, not zero */
    if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
    return count;
}

bcdi_status bcdi_backend_cuda_open(int ordinal, bcdi_backend **out)
{
    *out = NULL;
    int count = bcdi_cuda_device_count();
    if (ordinal < 0 || ordinal >= count)
        return bcdi_error(BCDI_ERR_NO_DEVICE, "CUDA device %d requested, %d device(s) answer",
                          ordinal, count);
    bcdi_backend *be = calloc(1, sizeof *be);
    cuda_state *st = calloc(1, sizeof *st);
    if (!be || !st) {
        free(be);
        free(st);
        return bcdi_error(BCDI_ERR_NOMEM, "CUDA backend: out of host memory");
    }
    be->ops = &cuda_ops;
    be->kind = BCDI_BACKEND_CUDA;
    be->device_index = ordinal;
    be->threads = 1;
    be->impl = st;

    struct cudaDeviceProp prop;
    cudaError_t err = cudaSetDevice(ordinal);
    if (err == cudaSuccess) err = cudaGetDeviceProperties(&prop, ordinal);
    if (err == cudaSuccess) err = cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking);
    if (err != cudaSuccess) {
        cuda_close(be);
        return bcdi_error(BCDI_ERR_BACKEND, "CUDA open of device %d: %s", ordinal,
                          cudaGetErrorString(err));
    }
    snprintf(be->device_name, sizeof be->device_name, "%s", prop.name);
    *out = be;
    return BCDI_OK;
}
