/* SPDX-License-Identifier: BSD-3-Clause */
/* Initial supports and held-out (free) pixels for the phasing engine. Arrays are in the engine's
 * internal layout: ifftshifted, zero frequency / object origin at index 0. */
#ifndef BCDI_PHASING_SUPPORT_H
#define BCDI_PHASING_SUPPORT_H

#include "bcdi/phasing.h"

/* Fill `support` (n bytes, internal layout) from params->support_init. */
bcdi_status bcdi_initial_support(const bcdi_phasing_params *params, const bcdi_phasing_data *data,
                                 uint8_t *support);
/* Mark islands of 3x3x3 measured pixels as BCDI_MASK_FREE until `fraction` of the measured
 * pixels are held out (Philox, deterministic for the seed); returns the count held out. */
size_t bcdi_choose_free_pixels(uint8_t *mask, const size_t shape[3], double fraction,
                               uint64_t seed);

#endif
