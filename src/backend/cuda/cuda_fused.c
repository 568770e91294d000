/* SPDX-License-Identifier: BSD-3-Clause */
/* ops->iterate on CUDA: one ER/HIO/RAAR iteration as two cuFFT transforms whose last passes run
 * the per-voxel work through store callbacks (kernels/lto/fft_callbacks.cu, linked into cuFFT's
 * kernels at plan time by cufftXtSetJITCallback):
 *   forward rho -> psi, storing P_M's Fourier-space values (reads amplitude and mask);
 *   inverse psi in place, storing update(rho, p, support) into rho instead of p into psi.
 * Modelled traffic: the two transforms plus 5 B (amplitude, mask) and 9 B (rho read, support) per
 * voxel against the composed 21 + 25 B of the separate passes (docs/algorithms.md says why
 * callbacks rather than a 2D/1D split here).
 *
 * Iterations that want the metric sums decline (BCDI_ERR_UNSUPPORTED) and the engine composes
 * them from the reducing kernels: a callback cannot reduce without atomics, and the sums are
 * wanted only every metric_interval iterations. So does every iteration of a plan whose
 * callback plans could not be made (an older driver, no nvJitLink): once, with a notice. */
#include "backend/cuda/cuda_private.h"

#include "bcdi/log.h"
#include "cuda_callbacks.h"

#include <cufftXt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bcdi_fft_callbacks_fatbin[] and bcdi_fft_callbacks_c_fatbin[]: the LTO-IR fatbins of
 * fft_callbacks.cu with C++ and with C linkage (bin2c, generated) */
#include "bcdi_fft_callbacks_c_fatbin.h"
#include "bcdi_fft_callbacks_fatbin.h"

/* The builds tried in turn: the first whose two plans cuFFT makes is kept. */
static const struct {
    const char *linkage;
    const void *fatbin;
    size_t size;
} callback_builds[] = {
    {"C++", bcdi_fft_callbacks_fatbin, sizeof bcdi_fft_callbacks_fatbin},
    {"C", bcdi_fft_callbacks_c_fatbin, sizeof bcdi_fft_callbacks_c_fatbin},
};

struct cuda_fused {
    cufftHandle forward, inverse;
    int have_forward, have_inverse;
    bcdi_cuda_callback_info *info; /* device */
};

void cuda_fused_destroy(cuda_fused *f)
{
    if (!f) return;
    if (f->have_forward) cufftDestroy(f->forward);
    if (f->have_inverse) cufftDestroy(f->inverse);
    if (f->info) cudaFree(f->info);
    free(f);
}

/* One callback plan. int32: cufftMakePlanMany (int sizes) rather than cufftMakePlanMany64, for a
 * cuFFT that takes callbacks only with the former (the legacy callback documentation never says
 * the 64-bit interface takes them; the H200 run refused every 64-bit callback plan). */
static bcdi_status callback_plan(bcdi_fft *plan, cufftHandle *handle, int *made, const char *symbol,
                                 int build, int int32, bcdi_cuda_callback_info **info)
{
    cufftResult r = cufftCreate(handle);
    if (r != CUFFT_SUCCESS) return cuda_cufft_fail(r, "fused iteration: create");
    *made = 1;
    r = cufftSetStream(*handle, state_of(plan->be)->stream);
    if (r == CUFFT_SUCCESS)
        r = cufftXtSetJITCallback(*handle, symbol, callback_builds[build].fatbin,
                                  callback_builds[build].size, CUFFT_CB_ST_COMPLEX, (void **)info);
    if (r != CUFFT_SUCCESS) return cuda_cufft_fail(r, "fused iteration: JIT callback");
    size_t work_bytes = 0;
    if (int32) {
        int dims[3] = {(int)plan->shape[0], (int)plan->shape[1], (int)plan->shape[2]};
        r = cufftMakePlanMany(*handle, 3, dims, NULL, 1, 0, NULL, 1, 0, CUFFT_C2C, (int)plan->batch,
                              &work_bytes);
    } else {
        long long dims[3] = {(long long)plan->shape[0], (long long)plan->shape[1],
                             (long long)plan->shape[2]};
        r = cufftMakePlanMany64(*handle, 3, dims, NULL, 1, 0, NULL, 1, 0, CUFFT_C2C,
                                (long long)plan->batch, &work_bytes);
    }
    if (r != CUFFT_SUCCESS) return cuda_cufft_fail(r, "fused iteration: plan with callback");
    return BCDI_OK;
}

static bcdi_status fused_create_build(bcdi_fft *plan, int build, int int32)
{
    cuda_fused *f = calloc(1, sizeof *f);
    if (!f) return bcdi_error(BCDI_ERR_NOMEM, "fused iteration: out of host memory");
    bcdi_status st = BCDI_OK;
    cudaError_t err = cudaMalloc((void **)&f->info, sizeof *f->info);
    if (err != cudaSuccess) st = cuda_fail(err, "fused iteration: callback parameters");
    if (st == BCDI_OK)
        st = callback_plan(plan, &f->forward, &f->have_forward, BCDI_CB_STORE_MODULUS, build, int32,
                           &f->info);
    if (st == BCDI_OK)
        st = callback_plan(plan, &f->inverse, &f->have_inverse, BCDI_CB_STORE_UPDATE, build, int32,
                           &f->info);
    const char *api = int32 ? "cufftMakePlanMany" : "cufftMakePlanMany64";
    if (st != BCDI_OK) {
        cuda_fused_destroy(f);
        return bcdi_error_prefix(st, "%s-linkage callbacks, %s: ", callback_builds[build].linkage,
                                 api);
    }
    plan->fused = f;
    bcdi_log(BCDI_LOG_INFO, "CUDA: fused iteration with cuFFT LTO callbacks (%s linkage, %s)",
             callback_builds[build].linkage, api);
    return BCDI_OK;
}

/* Each callback build with the 64-bit planning call, then, where the sizes fit an int, with the
 * 32-bit one: the first pair of plans cuFFT makes is kept. On failure the error names every try. */
static bcdi_status fused_create(bcdi_fft *plan)
{
    char failures[1024] = "";
    size_t builds = sizeof callback_builds / sizeof callback_builds[0];
    int fits_int = plan->shape[0] * plan->shape[1] * plan->shape[2] * plan->batch <= INT_MAX;
    bcdi_status st = BCDI_OK;
    for (size_t b = 0; b < builds; ++b)
        for (int int32 = 0; int32 <= fits_int; ++int32) {
            st = fused_create_build(plan, (int)b, int32);
            if (st == BCDI_OK) return BCDI_OK;
            size_t used = strlen(failures);
            snprintf(failures + used, sizeof failures - used, "%s%s", used ? "; " : "",
                     bcdi_last_error());
        }
    return bcdi_error(st, "%s", failures);
}

bcdi_status cuda_iterate(bcdi_fft *plan, bcdi_cf *rho, bcdi_cf *psi, const float *amplitude,
                         const uint8_t *mask, const uint8_t *support, float inv_n,
                         const bcdi_update_coeffs *coeffs, double *fourier_terms,
                         double *update_terms)
{
    if (fourier_terms || update_terms)
        return bcdi_error(BCDI_ERR_UNSUPPORTED, "CUDA fused iteration: no metric sums");
    if (plan->fused_unavailable)
        return bcdi_error(BCDI_ERR_UNSUPPORTED, "CUDA fused iteration: callback plans unavailable");
    bcdi_status st = cuda_use_device(plan->be, "fused iteration");
    if (st != BCDI_OK) return st;
    if (!plan->fused) {
        st = fused_create(plan);
        if (st != BCDI_OK) {
            plan->fused_unavailable = 1;
            bcdi_log(BCDI_LOG_NOTICE,
                     "CUDA: cuFFT callback plans unavailable (%s): iterations run as separate "
                     "transforms and passes",
                     bcdi_last_error());
            return bcdi_error(BCDI_ERR_UNSUPPORTED, "CUDA fused iteration: callback plans "
                                                    "unavailable");
        }
    }
    cuda_fused *f = plan->fused;
    cudaStream_t stream = state_of(plan->be)->stream;
    bcdi_cuda_callback_info host = {
        amplitude,
        mask,
        rho,
        support,
        (unsigned long long)(plan->shape[0] * plan->shape[1] * plan->shape[2]),
        inv_n,
        *coeffs};
    /* from pageable memory: staged before cudaMemcpyAsync returns, ordered before the transforms */
    cudaError_t err = cudaMemcpyAsync(f->info, &host, sizeof host, cudaMemcpyHostToDevice, stream);
    if (err != cudaSuccess) return cuda_fail(err, "fused iteration: callback parameters");
    cufftResult r =
        cufftExecC2C(f->forward, (cufftComplex *)rho, (cufftComplex *)psi, CUFFT_FORWARD);
    if (r == CUFFT_SUCCESS)
        r = cufftExecC2C(f->inverse, (cufftComplex *)psi, (cufftComplex *)psi, CUFFT_INVERSE);
    if (r != CUFFT_SUCCESS) return cuda_cufft_fail(r, "fused iteration");
    return BCDI_OK;
}
