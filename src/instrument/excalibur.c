/* SPDX-License-Identifier: BSD-3-Clause */
/* Excalibur 3M gap layout: index mapping between raw (gapless) and gapped frames. */
#include "instrument/excalibur.h"

void bcdi_excalibur_default(bcdi_excalibur *det)
{
    det->chip_size = 256;
    det->chips_per_stripe = 8;
    det->stripes = 6;
    det->stripes_per_module = 2;
    det->chip_gap = 3;
    det->module_gap = 125;
}

bcdi_status bcdi_excalibur_validate(const bcdi_excalibur *det)
{
    if (det->chip_size <= 0 || det->chips_per_stripe <= 0 || det->stripes <= 0 ||
        det->stripes_per_module <= 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "Excalibur layout: chip size, chips per stripe, stripes and stripes per "
                          "module must be > 0");
    if (det->chip_gap < 0 || det->module_gap < 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "Excalibur layout: gaps must be >= 0");
    if (det->stripes % det->stripes_per_module != 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "Excalibur layout: %d stripes are not whole modules of %d", det->stripes,
                          det->stripes_per_module);
    return BCDI_OK;
}

size_t bcdi_excalibur_raw_rows(const bcdi_excalibur *det)
{
    return (size_t)det->stripes * (size_t)det->chip_size;
}

size_t bcdi_excalibur_raw_cols(const bcdi_excalibur *det)
{
    return (size_t)det->chips_per_stripe * (size_t)det->chip_size;
}

size_t bcdi_excalibur_gapped_rows(const bcdi_excalibur *det)
{
    int modules = det->stripes / det->stripes_per_module;
    size_t chip_gaps = (size_t)modules * (size_t)(det->stripes_per_module - 1);
    return bcdi_excalibur_raw_rows(det) + chip_gaps * (size_t)det->chip_gap +
           (size_t)(modules - 1) * (size_t)det->module_gap;
}

size_t bcdi_excalibur_gapped_cols(const bcdi_excalibur *det)
{
    return bcdi_excalibur_raw_cols(det) +
           (size_t)(det->chips_per_stripe - 1) * (size_t)det->chip_gap;
}

/* Offset of stripe s's first row on the gapped frame. */
static long stripe_start(const bcdi_excalibur *det, long s)
{
    long module = s / det->stripes_per_module;
    long inside = s % det->stripes_per_module;
    long module_height = (long)det->stripes_per_module * det->chip_size +
                         (long)(det->stripes_per_module - 1) * det->chip_gap;
    return module * (module_height + det->module_gap) + inside * (det->chip_size + det->chip_gap);
}

long bcdi_excalibur_row_to_gapped(const bcdi_excalibur *det, long raw_row)
{
    if (raw_row < 0 || raw_row >= (long)bcdi_excalibur_raw_rows(det)) return -1;
    long s = raw_row / det->chip_size;
    return stripe_start(det, s) + raw_row % det->chip_size;
}

long bcdi_excalibur_col_to_gapped(const bcdi_excalibur *det, long raw_col)
{
    if (raw_col < 0 || raw_col >= (long)bcdi_excalibur_raw_cols(det)) return -1;
    long chip = raw_col / det->chip_size;
    return chip * (det->chip_size + det->chip_gap) + raw_col % det->chip_size;
}

long bcdi_excalibur_row_to_raw(const bcdi_excalibur *det, long gapped_row)
{
    if (gapped_row < 0 || gapped_row >= (long)bcdi_excalibur_gapped_rows(det)) return -1;
    /* few stripes: a linear scan is clearer than inverting the module arithmetic */
    for (long s = 0; s < det->stripes; ++s) {
        long start = stripe_start(det, s);
        if (gapped_row >= start && gapped_row < start + det->chip_size)
            return s * det->chip_size + (gapped_row - start);
    }
    return -1;
}

long bcdi_excalibur_col_to_raw(const bcdi_excalibur *det, long gapped_col)
{
    if (gapped_col < 0 || gapped_col >= (long)bcdi_excalibur_gapped_cols(det)) return -1;
    long pitch = det->chip_size + det->chip_gap;
    long chip = gapped_col / pitch, inside = gapped_col % pitch;
    if (inside >= det->chip_size) return -1;
    return chip * det->chip_size + inside;
}

int bcdi_excalibur_is_gap(const bcdi_excalibur *det, long gapped_row, long gapped_col)
{
    return bcdi_excalibur_row_to_raw(det, gapped_row) < 0 ||
           bcdi_excalibur_col_to_raw(det, gapped_col) < 0;
}

size_t bcdi_excalibur_gap_mask(const bcdi_excalibur *det, long origin_row, long origin_col,
                               size_t rows, size_t cols, uint32_t *mask, uint32_t gap_value)
{
    size_t count = 0;
    for (size_t r = 0; r < rows; ++r) {
        int row_gap = bcdi_excalibur_row_to_raw(det, origin_row + (long)r) < 0;
        for (size_t c = 0; c < cols; ++c) {
            if (row_gap || bcdi_excalibur_col_to_raw(det, origin_col + (long)c) < 0) {
                mask[r * cols + c] |= gap_value;
                ++count;
            }
        }
    }
    return count;
}
