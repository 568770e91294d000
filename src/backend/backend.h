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

    /* Per-run reductions into host arrays of `batch` entries. */
    bcdi_status (*sum)(bcdi_backend *be, const float *x, size_t n, size_t batch, double *host_out);
    bcdi_status (*max)(bcdi_backend *be, const float *x, size_t n, size_t batch, float *host_out);
    bcdi_status (*count_nonzero)(bcdi_backend *be, const uint8_t *x, size_t n, size_t batch,
                                 uint64_t *host_out);
} bcdi_backend_ops;

struct bcdi_backend {
    const bcdi_backend_ops *ops;
    bcdi_backend_kind kind;
    int device_index;      /* CUDA ordinal, -1 for the CPU */
    char device_name[256]; /* "CPU (2 threads)", "NVIDIA H100 80GB HBM3", ... */
    int threads;           /* CPU threads used (CPU backend) */
    int fft_measure;       /* CPU: 1 = FFTW_MEASURE plans (faster, planning takes seconds and
                            * may pick different algorithms from run to run); 0 = FFTW_ESTIMATE
                            * (default: deterministic, bit-identical runs for one seed) */
    void *impl;            /* backend private state */
};

/* bcdi_backend_open/close and the device queries are declared in bcdi/backend.h. */

/* Instances (also callable directly, e.g. by tests). */
bcdi_status bcdi_backend_cpu_open(bcdi_backend **out);
bcdi_status bcdi_backend_cuda_open(int ordinal, bcdi_backend **out);

#ifdef __cplusplus
}
#endif
#endif
