/* SPDX-License-Identifier: BSD-3-Clause */
/* Partial coherence by point-spread-function deconvolution during phasing (Clark et al., Nat.
 * Commun. 3, 993 (2012); docs/algorithms.md, "Partial coherence"). The measured intensity is
 * modelled as I_pc = |Psi|^2 (*) PSF; the PSF is an axis-aligned Gaussian (three widths per run),
 * refined every psf_period iterations by Richardson-Lucy steps each followed by a fit of the
 * Gaussian to the updated PSF's second moments. Three numbers per run are the whole PSF state,
 * so checkpoints carry it exactly and noise cannot grow structure in it.
 *
 * The device work goes through the backend ops table (FFT convolutions of batched volumes,
 * voxel_ops.h for the per-voxel maths); the Gaussians and their moments are host arithmetic on
 * one run's volume at a time. */
#ifndef BCDI_PHASING_PSF_H
#define BCDI_PHASING_PSF_H

#include "phasing/iteration.h"

/* Widths are kept in [BCDI_PSF_MIN_SIGMA, BCDI_PSF_MAX_SIGMA] voxels. At the minimum the sampled
 * Gaussian is all but a delta (neighbours weigh 0.4% of the centre: the coherent model), yet a
 * multiplicative Richardson-Lucy step can still widen it; a width near 0 would never grow back.
 * The maximum is psf_sigma's limit. */
#define BCDI_PSF_MIN_SIGMA 0.3
#define BCDI_PSF_MAX_SIGMA 16.0

/* The sampled Gaussian exp(-d_a^2 / (2 sigma_a^2)) per axis, unit sum, into out (shape[0] *
 * shape[1] * shape[2] floats). Distances d are periodic: centred = 0 puts the peak at index 0
 * (the engine's ifftshifted layout), centred = 1 at shape/2 (the written layout). */
bcdi_status bcdi_psf_gaussian(const size_t shape[3], const double sigma[3], int centred,
                              float *out);

/* Root-mean-square widths per axis of the weights Re(volume[i]) * gaussian[i] (negative weights
 * count as 0; periodic distances from index 0) into sigma; 0 when the weights sum to nothing. */
int bcdi_psf_moment_widths(const size_t shape[3], const bcdi_cf *volume, const float *gaussian,
                           double sigma[3]);

/* ws->psf_hat <- FFT of the Gaussian of widths sigma[r][0..2] for every run r of the batch.
 * host_volume holds one volume of complex values, host_gaussian one of floats. */
bcdi_status bcdi_phasing_psf_set(bcdi_phasing_workspace *ws, const double *sigma,
                                 bcdi_cf *host_volume, float *host_gaussian);

/* I_pc = |FFT(in)|^2 (*) PSF into the real parts of ws->psf_model, with FFT(in) left in out
 * (out may be in). */
bcdi_status bcdi_phasing_pc_intensity(bcdi_phasing_workspace *ws, const bcdi_cf *in, bcdi_cf *out);

/* `steps` Richardson-Lucy updates of every run's PSF from the current iterate ws->rho:
 *   PSF <- PSF * ((I_meas / I_pc) correlated with |Psi|^2), then the Gaussian of its second
 *   moments (widths clamped to [BCDI_PSF_MIN_SIGMA, BCDI_PSF_MAX_SIGMA]).
 * sigma ([batch][3]) is read and updated; ws->psi and ws->psf_model are scratch, ws->psf_hat
 * holds the new PSFs. host_volume holds one volume of complex values, host_gaussian one of
 * floats. */
bcdi_status bcdi_phasing_psf_update(bcdi_phasing_workspace *ws, double *sigma, long steps,
                                    bcdi_cf *host_volume, float *host_gaussian);

#endif
