/* SPDX-License-Identifier: BSD-3-Clause */
/* One phasing iteration and one shrink-wrap update on a batch, through the backend ops table.
 * The engine (engine.c) drives these; tests call them directly on hand-sized cases. */
#ifndef BCDI_PHASING_ITERATION_H
#define BCDI_PHASING_ITERATION_H

#include "backend/backend.h"
#include "bcdi/recipe.h"

/* Backend buffers of one batch. psi doubles as the float scratch of shrink-wrap (|rho| in its
 * first half, the blur temporary in its second), so a run needs rho + psi + support only;
 * dm_b is allocated only for recipes with DM. amplitude (sqrt I) and mask are shared. */
typedef struct bcdi_phasing_workspace {
    bcdi_backend *be;
    size_t shape[3], n, batch;
    const float *amplitude;
    const uint8_t *mask;
    bcdi_cf *rho, *psi, *dm_b;
    uint8_t *support;
    bcdi_fft *plan;
    /* partial coherence (phasing/psf.h): the blurred model intensity and the PSF's spectrum,
     * [batch][n] complex each, NULL without a PSF model; psf_active: this iteration's modulus
     * projection uses them (never fused); psf_floor: the smallest model intensity used */
    bcdi_cf *psf_model, *psf_hat;
    float psf_floor;
    int psf_active;
    int unfused; /* 1: always the composed sequence of ops, never the backend's fused iterate and
                  * shrink_wrap (the reference that tests and the benchmark compare them with) */
    size_t fused_iterations; /* iterations the backend's fused iterate ran (bench reports it) */
} bcdi_phasing_workspace;

/* The real-space rule of ER/HIO/RAAR as bcdi_vox_update coefficients (docs/algorithms.md). */
bcdi_update_coeffs bcdi_update_coefficients(bcdi_algorithm algorithm, float beta, int positivity,
                                            int real_only);

/* rho <- one iteration of `algorithm`. fourier_terms / update_terms ([batch][K] host doubles, or
 * NULL) receive the fused sums of the modulus projection and of the real-space update. */
bcdi_status bcdi_phasing_iterate(bcdi_phasing_workspace *ws, bcdi_algorithm algorithm, float beta,
                                 int positivity, int real_only, double *fourier_terms,
                                 double *update_terms);

/* support <- (|rho| blurred by sigma) > threshold[r], with threshold[r] = relative[r] * max of the
 * blurred amplitude, or, with rms_of_rho (host, [batch], may be NULL), relative[r] * rms_of_rho[r].
 * counts[r] receives the support size. host_scratch holds 2*batch floats. */
bcdi_status bcdi_phasing_shrink_wrap(bcdi_phasing_workspace *ws, double sigma,
                                     const double *relative, const double *rms_of_rho,
                                     int only_shrink, float *host_scratch, uint64_t *counts);

#endif
