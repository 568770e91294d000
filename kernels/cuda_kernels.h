/* SPDX-License-Identifier: BSD-3-Clause */
/* Launchers for the CUDA backend's kernels (kernels/cuda_kernels.cu). Plain C so that
 * src/backend/cuda/backend_cuda.c (gcc) can call them; every launcher enqueues work on `stream`
 * and returns the launch status (cudaGetLastError), never waiting for the device.
 *
 * Batched arrays are [batch][n]; per-run kernels use a 2-D grid (x: run, y: chunks of a volume,
 * at most 8192), and batch must not exceed BCDI_CUDA_MAX_BATCH.
 *
 * Reductions are two passes: the fused kernel writes one partial per (run, block) into
 * `partials` ([batch][bcdi_cuda_reduce_blocks(n)][terms]), then a finishing kernel sums each
 * run's partials in a fixed order into `out`. The block count depends on n only, so a given
 * input always reduces in the same order: results are identical run to run. */
#ifndef BCDI_CUDA_KERNELS_H
#define BCDI_CUDA_KERNELS_H

#include "voxel_ops.h"

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BCDI_CUDA_MAX_BATCH 65535

/* Blocks per run used by the reducing kernels for volumes of n voxels. */
unsigned bcdi_cuda_reduce_blocks(size_t n);

/* ---- fused per-voxel ops -------------------------------------------------------------------
 * With partials/out NULL no sums are formed; otherwise out receives [batch][TERMS] doubles. */
cudaError_t bcdi_cuda_modulus_project(cudaStream_t stream, bcdi_cf *psi, const float *amplitude,
                                      const uint8_t *mask, size_t n, size_t batch, float inv_n,
                                      double *partials, double *out);

cudaError_t bcdi_cuda_update(cudaStream_t stream, bcdi_cf *rho, const bcdi_cf *proj,
                             const uint8_t *support, size_t n, size_t batch,
                             bcdi_update_coeffs coeffs, double *partials, double *out);

cudaError_t bcdi_cuda_random_start(cudaStream_t stream, bcdi_cf *rho, const uint8_t *support,
                                   size_t n, size_t batch, uint64_t seed, uint64_t first_run);

cudaError_t bcdi_cuda_random_uniform(cudaStream_t stream, float *out, size_t count, uint64_t seed,
                                     uint64_t philox_stream, int word);

cudaError_t bcdi_cuda_cf_abs(cudaStream_t stream, float *out, const bcdi_cf *in, size_t count);

/* factors: device array of batch complex factors. */
cudaError_t bcdi_cuda_cf_scale(cudaStream_t stream, bcdi_cf *x, size_t n, size_t batch,
                               const bcdi_cf *factors);

/* Partial coherence (voxel_ops.h): element-wise over count; pc_modulus_project's sums as
 * bcdi_cuda_modulus_project's. */
cudaError_t bcdi_cuda_coherent_intensity(cudaStream_t stream, bcdi_cf *out, const bcdi_cf *psi,
                                         size_t count);
cudaError_t bcdi_cuda_spectrum_product(cudaStream_t stream, bcdi_cf *x, const bcdi_cf *y,
                                       size_t count, int conjugate_y, float scale);
cudaError_t bcdi_cuda_pc_modulus_project(cudaStream_t stream, bcdi_cf *psi, const float *amplitude,
                                         const uint8_t *mask, const bcdi_cf *model, size_t n,
                                         size_t batch, float inv_n, float model_floor,
                                         double *partials, double *out);
cudaError_t bcdi_cuda_rl_ratio(cudaStream_t stream, bcdi_cf *model, const float *amplitude,
                               const uint8_t *mask, size_t n, size_t batch, float model_floor);

/* thresholds: device array of batch floats. */
cudaError_t bcdi_cuda_threshold(cudaStream_t stream, uint8_t *support, const float *value, size_t n,
                                size_t batch, const float *thresholds, int only_shrink);

/* One blur pass along `axis` (0 slowest .. 2 fastest) from src to dst (distinct buffers);
 * weights (host memory, 2*radius+1 taps, radius <= BCDI_BLUR_MAX_RADIUS) travel by value. */
cudaError_t bcdi_cuda_blur_axis(cudaStream_t stream, float *dst, const float *src,
                                const size_t shape[3], size_t batch, int axis, const float *weights,
                                int radius);

/* ---- plain reductions: out is a device array of batch entries -------------------------------- */
cudaError_t bcdi_cuda_sum(cudaStream_t stream, const float *x, size_t n, size_t batch,
                          double *partials, double *out);
cudaError_t bcdi_cuda_max(cudaStream_t stream, const float *x, size_t n, size_t batch,
                          float *partials, float *out);
cudaError_t bcdi_cuda_count_nonzero(cudaStream_t stream, const uint8_t *x, size_t n, size_t batch,
                                    unsigned long long *partials, unsigned long long *out);

#ifdef __cplusplus
}
#endif
#endif
