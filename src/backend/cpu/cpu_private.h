/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to the CPU backend (backend_cpu.c, cpu_fused.c, fftw_wisdom.c): the FFT plan object,
 * planner flags and the wisdom cache. Nothing outside src/backend/cpu/ includes this. */
#ifndef BCDI_CPU_PRIVATE_H
#define BCDI_CPU_PRIVATE_H

#include "backend/backend.h"

#include <fftw3.h>

/* FFTW plans are tied to in-place-ness and to the SIMD alignment of the arrays they were made
 * for; one slot per (direction, in place?) is replanned when a call's alignment differs. */
typedef struct {
    fftwf_plan plan;
    int align_in, align_out;
} cpu_plan_slot;

typedef struct cpu_fused cpu_fused; /* plans and scratch of the fused iteration (cpu_fused.c) */

struct bcdi_fft {
    bcdi_backend *be;
    cpu_plan_slot slots[2][2]; /* [forward?][in place?] */
    size_t shape[3], batch;
    cpu_fused *fused; /* made on the first fused iteration */
};

/* FFTW_MEASURE or FFTW_ESTIMATE from be->fft_measure. */
unsigned cpu_planner_flags(const bcdi_backend *be);

/* Before measured planning: load be->fft_wisdom once per process (a missing file is not an
 * error: the first run on a machine makes it). After: write it back if planning added to it. */
void cpu_wisdom_before_planning(const bcdi_backend *be);
bcdi_status cpu_wisdom_after_planning(const bcdi_backend *be);

/* The fused iteration (cpu_fused.c): ops->iterate and its plans' release. */
bcdi_status cpu_iterate(bcdi_fft *plan, bcdi_cf *rho, bcdi_cf *psi, const float *amplitude,
                        const uint8_t *mask, const uint8_t *support, float inv_n,
                        const bcdi_update_coeffs *coeffs, double *fourier_terms,
                        double *update_terms);
void cpu_fused_destroy(cpu_fused *fused);

/* The fused shrink-wrap (cpu_fused.c): ops->shrink_wrap. */
bcdi_status cpu_shrink_wrap(bcdi_backend *be, uint8_t *support, const bcdi_cf *rho, float *scratch,
                            const size_t shape[3], size_t batch, const float sigma[3],
                            const double *relative, const double *reference, int only_shrink,
                            float *host_maxima, uint64_t *host_counts);

#endif
