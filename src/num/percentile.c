/* SPDX-License-Identifier: BSD-3-Clause */
/* Percentiles (see percentile.h). */
#include "num/percentile.h"

#include <stdlib.h>

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void bcdi_sort_floats(float *values, size_t count)
{
    if (count > 1) qsort(values, count, sizeof *values, compare_floats);
}

double bcdi_percentile_sorted(const float *sorted, size_t count, double percent)
{
    if (count == 0) return 0.0;
    percent = percent < 0.0 ? 0.0 : (percent > 100.0 ? 100.0 : percent);
    double at = percent / 100.0 * (double)(count - 1);
    size_t lo = (size_t)at;
    if (lo >= count - 1) return sorted[count - 1];
    return sorted[lo] + (at - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

bcdi_status bcdi_sorted_masked(const float *values, const uint8_t *mask, size_t n, float **out,
                               size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t k = 0;
    for (size_t v = 0; v < n; ++v)
        k += !mask || mask[v];
    if (k == 0) return BCDI_OK;
    float *sorted = malloc(k * sizeof *sorted);
    if (!sorted) return bcdi_error(BCDI_ERR_NOMEM, "percentiles of %zu values", k);
    k = 0;
    for (size_t v = 0; v < n; ++v)
        if (!mask || mask[v]) sorted[k++] = values[v];
    bcdi_sort_floats(sorted, k);
    *out = sorted;
    *count = k;
    return BCDI_OK;
}
