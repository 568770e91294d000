/* SPDX-License-Identifier: BSD-3-Clause */
/* Compute backends: where the phasing engine runs. A backend is an opaque handle, opened from a
 * device string, passed to bcdi_phase (and to the other functions that take one), then closed:
 *
 *     bcdi_backend *be = NULL;
 *     if (bcdi_backend_open("auto", &be) != BCDI_OK) { ... bcdi_last_error() ... }
 *     ...
 *     bcdi_backend_close(be);
 *
 * Devices: "cpu" (FFTW3f + OpenMP; it uses OpenMP's thread count, so OMP_NUM_THREADS or
 * omp_set_num_threads before opening set it), "cuda" or "cuda:N" (cuFFT on CUDA device N;
 * BCDI_ERR_UNSUPPORTED in a build without CUDA, BCDI_ERR_NO_DEVICE when no such device answers),
 * "auto" (or NULL, or ""): device 0 when a CUDA device answers, else the CPU with one notice
 * through the log sink (bcdi/log.h). A backend is used by one thread at a time. */
#ifndef BCDI_BACKEND_API_H
#define BCDI_BACKEND_API_H

#include "bcdi/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bcdi_backend bcdi_backend;

typedef enum { BCDI_BACKEND_CPU = 0, BCDI_BACKEND_CUDA = 1 } bcdi_backend_kind;

/* Options set when a backend opens; fill with bcdi_backend_default_opts, then change fields. */
typedef struct bcdi_backend_opts {
    int fft_measure; /* CPU: 1 = FFTW_MEASURE plans (faster FFTs, planning takes seconds and may
                      * pick different algorithms from run to run); 0 = FFTW_ESTIMATE (default:
                      * bit-identical runs for one seed). Ignored by CUDA. */
} bcdi_backend_opts;

void bcdi_backend_default_opts(bcdi_backend_opts *opts);

/* Open the backend named by `device` with default options. */
bcdi_status bcdi_backend_open(const char *device, bcdi_backend **out);
/* The same with options (NULL = defaults). */
bcdi_status bcdi_backend_open_opts(const char *device, const bcdi_backend_opts *opts,
                                   bcdi_backend **out);
/* Releases the backend; NULL is allowed. Results returned by the library are host memory and
 * outlive it. */
void bcdi_backend_close(bcdi_backend *backend);

bcdi_backend_kind bcdi_backend_get_kind(const bcdi_backend *backend);
/* "cpu" or "cuda". */
const char *bcdi_backend_kind_name(bcdi_backend_kind kind);
/* "CPU (8 OpenMP threads, FFTW fftw-3.3.10-...)", "NVIDIA H100 80GB HBM3", ...; valid while the
 * backend is open. */
const char *bcdi_backend_device_name(const bcdi_backend *backend);
/* CUDA device ordinal, -1 for the CPU. */
int bcdi_backend_device_index(const bcdi_backend *backend);
/* CPU threads the backend uses for its FFTs and loops (1 for CUDA: one host thread). */
int bcdi_backend_threads(const bcdi_backend *backend);

/* Number of CUDA devices that answer (0 in CPU-only builds or without a driver). */
int bcdi_cuda_device_count(void);
/* 1 if this build of the library includes the CUDA backend. */
int bcdi_cuda_built(void);

#ifdef __cplusplus
}
#endif
#endif
