/* SPDX-License-Identifier: BSD-3-Clause */
/* Percentiles of float samples, linear between order statistics (numpy's default "linear"
 * method): the one implementation behind analyze's statistics and the figures' colour limits. */
#ifndef BCDI_NUM_PERCENTILE_H
#define BCDI_NUM_PERCENTILE_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

/* Ascending, in place. */
void bcdi_sort_floats(float *values, size_t count);
/* The `percent` (0..100, clamped) percentile of `count` > 0 ascending values. */
double bcdi_percentile_sorted(const float *sorted, size_t count, double percent);
/* The values where mask != 0 (mask may be NULL: all n), copied and sorted into *out (malloc'd,
 * the caller frees; NULL when *count is 0). */
bcdi_status bcdi_sorted_masked(const float *values, const uint8_t *mask, size_t n, float **out,
                               size_t *count);

#endif
