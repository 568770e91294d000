/* SPDX-License-Identifier: BSD-3-Clause */
/* Excalibur 3M module layout (docs/physics.md §6): Medipix3 chips of chip_size² pixels,
 * chips_per_stripe chips along the columns of each stripe, `stripes` stripes stacked along the
 * rows, grouped stripes_per_module to a module. Gaps of chip_gap pixels separate neighbouring
 * chips (in both directions, including stripes inside one module) and module_gap pixels separate
 * modules.
 * "Raw" frames have no gaps (1536 × 2048 for the 3M); "gapped" frames place every pixel at its
 * physical position (1795 × 2069). Rows/columns are C-order indices (row = slow axis). */
#ifndef BCDI_PREP_EXCALIBUR_H
#define BCDI_PREP_EXCALIBUR_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bcdi_excalibur {
    int chip_size;          /* pixels per chip side (256) */
    int chips_per_stripe;   /* chips along the columns (8) */
    int stripes;            /* stripes along the rows (6) */
    int stripes_per_module; /* (2) */
    int chip_gap;           /* pixels between chips and between stripes of one module (3) */
    int module_gap;         /* pixels between modules (125) */
} bcdi_excalibur;

void bcdi_excalibur_default(bcdi_excalibur *det);
/* BCDI_ERR_INVALID_ARG for non-positive sizes, negative gaps or stripes not a multiple of
 * stripes_per_module. */
bcdi_status bcdi_excalibur_validate(const bcdi_excalibur *det);

size_t bcdi_excalibur_raw_rows(const bcdi_excalibur *det);
size_t bcdi_excalibur_raw_cols(const bcdi_excalibur *det);
size_t bcdi_excalibur_gapped_rows(const bcdi_excalibur *det);
size_t bcdi_excalibur_gapped_cols(const bcdi_excalibur *det);

/* Raw index -> gapped index (no checks beyond range: out-of-range raw gives -1). */
long bcdi_excalibur_row_to_gapped(const bcdi_excalibur *det, long raw_row);
long bcdi_excalibur_col_to_gapped(const bcdi_excalibur *det, long raw_col);
/* Gapped index -> raw index, -1 when it falls in a gap or outside the detector. */
long bcdi_excalibur_row_to_raw(const bcdi_excalibur *det, long gapped_row);
long bcdi_excalibur_col_to_raw(const bcdi_excalibur *det, long gapped_col);
/* 1 if the gapped (row, col) is not a pixel (a gap, or outside the detector), else 0. */
int bcdi_excalibur_is_gap(const bcdi_excalibur *det, long gapped_row, long gapped_col);

/* mask[r*cols + c] |= gap_value for every gap pixel of the rows × cols region whose first pixel
 * sits at (origin_row, origin_col) of the gapped frame (pixels off the detector count as gaps).
 * Returns the number of gap pixels in the region. */
size_t bcdi_excalibur_gap_mask(const bcdi_excalibur *det, long origin_row, long origin_col,
                               size_t rows, size_t cols, uint32_t *mask, uint32_t gap_value);

#endif
