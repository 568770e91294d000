/* SPDX-License-Identifier: BSD-3-Clause */
/* The backend ops table: everything the phasing engine may do with device memory. One CPU
 * instance (FFTW3f + OpenMP) and one CUDA instance (cuFFT + kernels + CUB) fill it; engines see
 * only this table, so no algorithm is written twice.
 *
 * Layout conventions:
 *  - a "batched" array holds `batch` independent volumes of `n` voxels each, contiguous
 *    ([batch][n], C order inside a volume);
 *  - shared arrays (amplitude, mask) hold one volume of `n` voxels used by every run;
 *  - pointers passed to ops are backend pointers (from ops->alloc) unless named host_*;
 *  - per-run results (sums, maxima) are returned in host arrays of `batch` entries;
 *  - FFTs are in place and unnormalised; forward is exp(-i q.r) (FFTW/cuFFT/numpy sign).
 * Every op returns a bcdi_status and sets bcdi_last_error() on failure. Ops are ordered on the
 * backend's stream: only download, synchronize and the ops returning host values wait for the
 * device, so only those make results visible on the host. */
#ifndef BCDI_BACKEND_H
#define BCDI_BACKEND_H

#include "bcdi/backend.h" /* the public part: opaque handle, open/close, queries */
#include "bcdi/error.h"
#include "voxel_ops.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bcdi_fft bcdi_fft;

typedef struct bcdi_backend_ops {
    /* releases the instance (its plans and buffers must be freed first) */
    void (*close)(bcdi_backend *be);
    /* memory */
    bcdi_status (*alloc)(bcdi_backend *be, size_t bytes, void **ptr);
    void (*free)(bcdi_backend *be, void *ptr);
    bcdi_status (*zero)(bcdi_backend *be, void *ptr, size_t bytes);
    bcdi_status (*upload)(bcdi_backend *be, void *dst, const void *host_src, size_t bytes);
    bcdi_status (*download)(bcdi_backend *be, void *host_dst, const void *src, size_t bytes);
    bcdi_status (*copy)(bcdi_backend *be, void *dst, const void *src, size_t bytes);
    bcdi_status (*synchronize)(bcdi_backend *be);

    /* FFT: one plan transforms `batch` volumes of `shape` at once; in == out is in place,
     * otherwise out-of-place with `in` preserved (saves a copy per iteration in phasing). */
    bcdi_status (*fft_create)(bcdi_backend *be, const size_t shape[3], size_t batch,
                              bcdi_fft **plan);
    bcdi_status (*fft_forward)(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out);
    bcdi_status (*fft_inverse)(bcdi_fft *plan, const bcdi_cf *in, bcdi_cf *out);
    void (*fft_destroy)(bcdi_fft *plan);

    /* psi <- P_M(psi) with the 1/N folded in (bcdi_vox_modulus_project); if host_terms is not
     * NULL it receives BCDI_FOURIER_TERMS sums per run ([batch][BCDI_FOURIER_TERMS]). */
    bcdi_status (*modulus_project)(bcdi_backend *be, bcdi_cf *psi, const float *amplitude,
                                   const uint8_t *mask, size_t n, size_t batch, float inv_n,
                                   double *host_terms);

    /* rho <- update(rho, p, support) (bcdi_vox_update); support is batched ([batch][n]);
     * host_terms ([batch][BCDI_UPDATE_TERMS]) may be NULL. */
    bcdi_status (*update)(bcdi_backend *be, bcdi_cf *rho, const bcdi_cf *proj,
                          const uint8_t *support, size_t n, size_t batch,
                          const bcdi_update_coeffs *coeffs, double *host_terms);

    /* rho <- random start inside support (bcdi_vox_random_start); support is batched
     * ([batch][n]); run r uses stream first_run + r. */
    bcdi_status (*random_start)(bcdi_backend *be, bcdi_cf *rho, const uint8_t *support, size_t n,
                                size_t batch, uint64_t seed, uint64_t first_run);

    /* Raw generator output: out[i] = unit float of word `word` (0..3) of Philox(seed, stream, i).
     * Exposed so the two backends can be checked bit for bit. */
    bcdi_status (*random_uniform)(bcdi_backend *be, float *out, size_t count, uint64_t seed,
                                  uint64_t stream, int word);

    /* out[i] = |in[i]| over count elements. */
    bcdi_status (*cf_abs)(bcdi_backend *be, float *out, const bcdi_cf *in, size_t count);

    /* x[r][i] *= host_factors[r] (complex), per run. */
    bcdi_status (*cf_scale)(bcdi_backend *be, bcdi_cf *x, size_t n, size_t batch,
                            const bcdi_cf *host_factors);

    /* support[r][i] = threshold(value[r][i] > host_thresholds[r]) (bcdi_vox_threshold). */
    bcdi_status (*threshold)(bcdi_backend *be, uint8_t *support, const float *value, size_t n,
                             size_t batch, const float *host_thresholds, int only_shrink);

    /* In-place separable Gaussian blur of `batch` real volumes (periodic edges); sigma per axis
     * in voxels (0 = no blur along that axis); tmp is a backend scratch of batch*n floats. */
    bcdi_status (*gaussian_blur)(bcdi_backend *be, float *volume, float *tmp, const size_t shape[3],
                                 size_t batch, const float sigma[3]);

    /* Partial coherence (docs/algorithms.md, "Partial coherence"); the convolutions around these
     * are FFTs through the plan above. out[i] = |psi[i]|^2 + 0i over count elements. */
    bcdi_status (*coherent_intensity)(bcdi_backend *be, bcdi_cf *out, const bcdi_cf *psi,
                                      size_t count);
    /* x[i] <- x[i] * y[i] (conj(y[i]) with conjugate_y) * scale over count elements
     * (bcdi_vox_spectrum_product). */
    bcdi_status (*spectrum_product)(bcdi_backend *be, bcdi_cf *x, const bcdi_cf *y, size_t count,
                                    int conjugate_y, float scale);
    /* psi <- the partially coherent modulus projection (bcdi_vox_pc_modulus_project) with the
     * blurred model intensity in the real parts of model ([batch][n], batched like psi);
     * host_terms as modulus_project's. */
    bcdi_status (*pc_modulus_project)(bcdi_backend *be, bcdi_cf *psi, const float *amplitude,
                                      const uint8_t *mask, const bcdi_cf *model, size_t n,
                                      size_t batch, float inv_n, float model_floor,
                                      double *host_terms);
    /* model <- bcdi_vox_rl_ratio(amplitude, Re model, mask) + 0i, in place, [batch][n]. */
    bcdi_status (*rl_ratio)(bcdi_backend *be, bcdi_cf *model, const float *amplitude,
                            const uint8_t *mask, size_t n, size_t batch, float model_floor);

    /* Per-run reductions into host arrays of `batch` entries. */
    bcdi_status (*sum)(bcdi_backend *be, const float *x, size_t n, size_t batch, double *host_out);
    bcdi_status (*max)(bcdi_backend *be, const float *x, size_t n, size_t batch, float *host_out);
    bcdi_status (*count_nonzero)(bcdi_backend *be, const uint8_t *x, size_t n, size_t batch,
                                 uint64_t *host_out);

    /* Optional fused ops. NULL: the engine composes the ops above (the reference sequence the
     * tests compare a fused op against; docs/algorithms.md, "The fused iteration").
     *
     * iterate: one ER/HIO/RAAR iteration of the plan's batch, rho <- update(rho, P_M(rho),
     * support) with the modulus projection and the update fused into the transforms' passes;
     * the same per-voxel functions as modulus_project and update, the same terms (either may be
     * NULL). psi is scratch of batch*n complex values; its contents afterwards are unspecified.
     * May decline a case it does not fuse with BCDI_ERR_UNSUPPORTED (nothing done): CUDA declines
     * when sums are wanted or its callback plans cannot be made. */
    bcdi_status (*iterate)(bcdi_fft *plan, bcdi_cf *rho, bcdi_cf *psi, const float *amplitude,
                           const uint8_t *mask, const uint8_t *support, float inv_n,
                           const bcdi_update_coeffs *coeffs, double *fourier_terms,
                           double *update_terms);

    /* shrink_wrap: support[r] <- threshold(G_sigma * |rho[r]| > t[r]) with t[r] = relative[r] *
     * reference[r], or relative[r] * (max of the blurred amplitude) when reference is NULL;
     * the same results as cf_abs, gaussian_blur, max, threshold and count_nonzero. scratch holds
     * 2*batch*n floats; host_maxima ([batch], may be NULL) receives the maxima (when reference is
     * NULL), host_counts ([batch], may be NULL) the support sizes. */
    bcdi_status (*shrink_wrap)(bcdi_backend *be, uint8_t *support, const bcdi_cf *rho,
                               float *scratch, const size_t shape[3], size_t batch,
                               const float sigma[3], const double *relative,
                               const double *reference, int only_shrink, float *host_maxima,
                               uint64_t *host_counts);
} bcdi_backend_ops;

struct bcdi_backend {
    const bcdi_backend_ops *ops;
    bcdi_backend_kind kind;
    int device_index;      /* CUDA ordinal, -1 for the CPU */
    char device_name[256]; /* "CPU (2 threads)", "NVIDIA H100 80GB HBM3", ... */
    int threads;           /* CPU threads used (CPU backend; bcdi_cpu_threads_default) */
    int fft_measure;       /* CPU: 1 = FFTW_MEASURE plans (faster; planning takes seconds and
                            * may pick different algorithms in different processes unless they
                            * share fft_wisdom); 0 = FFTW_ESTIMATE (the library default:
                            * deterministic, bit-identical runs for one seed) */
    char fft_wisdom[1024]; /* CPU: FFTW wisdom file read before and written after measured
                            * planning ("" = none; bcdi_fftw_wisdom_default_path) */
    void *impl;            /* backend private state */
};

/* bcdi_backend_open/close and the device queries are declared in bcdi/backend.h. */

/* Instances (also callable directly, e.g. by tests). */
bcdi_status bcdi_backend_cpu_open(bcdi_backend **out);
bcdi_status bcdi_backend_cuda_open(int ordinal, bcdi_backend **out);
/* CPU threads by default: OMP_NUM_THREADS when set, else the CPUs in this process's affinity
 * mask, capped by a cgroup CPU quota (v2 cpu.max or v1 cpu.cfs_quota_us, rounded up). */
int bcdi_cpu_threads_default(void);
/* The per-user FFTW wisdom file: $XDG_CACHE_HOME/braggcdi (else $HOME/.cache/braggcdi)
 * /fftw-wisdom-<host>-<signature of CPU model and flags, FFTW version>; the folder is created
 * (0700) when missing. */
bcdi_status bcdi_fftw_wisdom_default_path(char *out, size_t capacity);
/* be->fft_wisdom from a user's choice: "auto" (the default path above), "none" or "" (no
 * wisdom), or a file path. */
bcdi_status bcdi_backend_set_fft_wisdom(bcdi_backend *be, const char *choice);

#ifdef __cplusplus
}
#endif
#endif
