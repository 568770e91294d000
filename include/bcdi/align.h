/* SPDX-License-Identifier: BSD-3-Clause */
/* Alignment of complex objects: sub-voxel registration (Guizar-Sicairos et al., Opt. Lett. 33,
 * 156 (2008)), Fourier shifts, the twin (conjugate + inversion), global-phase removal and the
 * comparison of a reconstruction with a known object.
 *
 * All arrays are host arrays of one complex volume, C order, shape n0 x n1 x n2. FFTs go through
 * the CPU backend's ops table (FFTW3f); sums are taken in double, sequentially, so results do
 * not depend on the thread count.
 *
 * Each call opens the CPU backend and plans its FFTs; FFTW planning is not thread-safe, so do not
 * call these functions from several threads at once.
 *
 * Conventions (docs/algorithms.md):
 *  - Shift: bcdi_shift(x, s) gives x'(r) = x(r - s): the content moves by +s voxels (periodic,
 *    band-limited interpolation). bcdi_register_translation returns the s for which
 *    bcdi_shift(moving, s) best matches `reference`; so if moving(r) = reference(r - t), the
 *    answer is s = -t.
 *  - Registration correlates the complex fields (not their amplitudes): the peak of
 *    |sum_r conj(moving(r - s)) reference(r)| ignores a global phase, and unlike the amplitude it
 *    tells an object from its twin when the amplitude is nearly centrosymmetric (a strained
 *    sphere), which is what the twin check needs.
 *  - Twin: x(r) -> conj(x(-r)) with the inversion about index 0 in the FFT sense,
 *    i -> (N - i) mod N per axis. A centre at c moves to (N - c) mod N: an object centred on
 *    N/2 (the fftshift centre, even N) stays put, one centred on (N-1)/2 moves by one voxel.
 *    Registration absorbs that voxel.
 *  - Global phase: the phase alpha = arg sum conj(reference) moving is removed by multiplying
 *    moving by exp(-i alpha), so that moving matches the reference. */
#ifndef BCDI_ALIGN_H
#define BCDI_ALIGN_H

#include "bcdi/error.h"
#include "bcdi/types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What bcdi_align did to `moving`, in this order: twin (if twinned), shift, phase. */
typedef struct bcdi_alignment {
    int twinned;        /* 1 if moving was replaced by its twin */
    double shift[3];    /* voxels, applied with bcdi_shift after the twin */
    double phase;       /* alpha (radians, (-pi, pi]): moving was multiplied by exp(-i alpha) */
    double correlation; /* |sum conj(ref) moved| / (||ref|| ||moved||) after alignment, in [0,1] */
} bcdi_alignment;

/* bcdi_compare_objects' report. */
typedef struct bcdi_object_error {
    double relative_error;     /* ||aligned - truth|| / ||truth|| over the whole box */
    double phase_rms;          /* sqrt(mean over support of W(phi_a - phi_t)^2), radians */
    double phase_rms_weighted; /* the same weighted by |truth|^2 (weak voxels count less) */
    size_t support_voxels;     /* voxels in the support used for the phase errors */
    bcdi_alignment alignment;  /* how the estimate's copy was aligned to the truth */
} bcdi_object_error;

/* Sub-voxel translation mapping `moving` onto `reference` (see the sign convention above):
 * integer peak of the FFT cross-correlation, then a matrix-multiply DFT of the cross-power
 * spectrum on a 1.5 x 1.5 x 1.5-voxel neighbourhood sampled every 1/upsample voxel.
 * upsample = 1 gives the integer peak only. Each component lies in [-N/2, N/2] (give or take
 * the 0.75-voxel refinement window).
 * `peak` (may be NULL) receives the normalised correlation at the peak,
 * |CC| / (||reference|| ||moving||), in [0, 1] up to interpolation. BCDI_ERR_DATA if either
 * field is all zero. */
bcdi_status bcdi_register_translation(const size_t shape[3], const bcdi_cf *reference,
                                      const bcdi_cf *moving, int upsample, double shift[3],
                                      double *peak);

/* In place x(r) -> x(r - shift) by a phase ramp in reciprocal space (periodic). */
bcdi_status bcdi_shift(const size_t shape[3], bcdi_cf *x, const double shift[3]);

/* In place x(r) -> conj(x(-r)), inversion about index 0 ((N - i) mod N per axis). An involution,
 * exact (no arithmetic but the sign of the imaginary part). */
bcdi_status bcdi_twin(const size_t shape[3], bcdi_cf *x);

/* Align `moving` onto `reference` in place. With allow_twin, moving and its twin are both
 * registered and the one with the higher registered correlation is kept. Then the registered
 * shift and the global phase are removed. `out` may be NULL. */
bcdi_status bcdi_align(const size_t shape[3], const bcdi_cf *reference, bcdi_cf *moving,
                       int allow_twin, int upsample, bcdi_alignment *out);

/* Aligns a copy of `estimate` to `truth` (upsample 20) and scores it. truth_support (1 = inside)
 * selects the voxels of the phase errors; NULL takes |truth| > 0.1 max |truth|. The phase error
 * is the wrapped difference arg(aligned conj(truth)) in (-pi, pi]. */
bcdi_status bcdi_compare_objects(const size_t shape[3], const bcdi_cf *truth,
                                 const bcdi_cf *estimate, const uint8_t *truth_support,
                                 int allow_twin, bcdi_object_error *out);

/* In place x *= exp(-i <phi>) with <phi> = arg sum_{support} x (support NULL = every voxel):
 * a rotation of each voxel by one angle, so amplitudes change only by float rounding (and not at
 * all when <phi> is 0). A zero sum (no defined mean phase) leaves x untouched. */
bcdi_status bcdi_remove_mean_phase(const size_t shape[3], bcdi_cf *x, const uint8_t *support);

/* Roll x (integer, periodic) so that the centre of mass of |x| sits at voxel N/2 of each axis
 * (the fftshift centre), within half a voxel. The centre is found as a circular mean first, so
 * an object straddling the box edges is handled, then refined as a plain centre of mass.
 * `roll` (may be NULL) receives the roll applied: x'(i) = x(i - roll). */
bcdi_status bcdi_center(const size_t shape[3], bcdi_cf *x, long roll[3]);

#ifdef __cplusplus
}
#endif
#endif
