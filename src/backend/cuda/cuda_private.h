/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to the CUDA backend (backend_cuda.c, cuda_fused.c): its state, the FFT plan object and
 * the error helpers. Nothing outside src/backend/cuda/ includes this. */
#ifndef BCDI_CUDA_PRIVATE_H
#define BCDI_CUDA_PRIVATE_H

#include "backend/backend.h"

#include <cuda_runtime_api.h>
#include <cufft.h>

typedef struct cuda_state {
    cudaStream_t stream;
    /* per-block partial sums of the reducing kernels (device) */
    void *partials;
    size_t partials_bytes;
    /* per-run results of a reduction (device), then their pinned host copy */
    void *results;
    size_t results_bytes;
    void *host_results;
    size_t host_results_bytes;
    /* per-run parameters of cf_scale / threshold (device) */
    void *params;
    size_t params_bytes;
} cuda_state;

typedef struct cuda_fused cuda_fused; /* the callback plans of the fused iteration */

struct bcdi_fft {
    bcdi_backend *be;
    cufftHandle handle;
    size_t shape[3], batch;
    cuda_fused *fused;     /* made on the first fused iteration */
    int fused_unavailable; /* the callback plans failed once: the composed sequence runs */
};

static inline cuda_state *state_of(bcdi_backend *be)
{
    return (cuda_state *)be->impl;
}

/* Make the backend's device current and clear a stale runtime error. */
bcdi_status cuda_use_device(bcdi_backend *be, const char *what);
bcdi_status cuda_fail(cudaError_t err, const char *what);
bcdi_status cuda_cufft_fail(cufftResult result, const char *what);

/* ops->iterate (cuda_fused.c) and the release of its plans. */
bcdi_status cuda_iterate(bcdi_fft *plan, bcdi_cf *rho, bcdi_cf *psi, const float *amplitude,
                         const uint8_t *mask, const uint8_t *support, float inv_n,
                         const bcdi_update_coeffs *coeffs, double *fourier_terms,
                         double *update_terms);
void cuda_fused_destroy(cuda_fused *fused);

#endif
