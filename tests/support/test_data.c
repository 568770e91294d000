/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared test inputs (test_data.h). */
#include "test_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *tu_shared_dataset(const char *relative)
{
    static char path[1200];
    const char *roots[] = {getenv("BCDI_SHARED_DATASETS"), BCDI_SHARED_DATASETS};
    for (size_t i = 0; i < 2; ++i) {
        if (!roots[i]) continue;
        snprintf(path, sizeof path, "%s/%s", roots[i], relative);
        struct stat st;
        if (stat(path, &st) == 0) return path;
    }
    return NULL;
}

void tu_make_crystal(bcdi_cf *x, const size_t shape[3], const double radii[3])
{
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                double p[3] = {((double)i0 - shape[0] / 2.0) / radii[0],
                               ((double)i1 - shape[1] / 2.0) / radii[1],
                               ((double)i2 - shape[2] / 2.0) / radii[2]};
                double r = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
                double amplitude = (1.0 + 0.3 * p[0]) / (1.0 + exp((r - 1.0) / 0.1));
                double phase = 0.9 * sin(2.2 * p[0] + 0.5) + 0.6 * p[1] * p[2] + 0.4 * p[2];
                x[(i0 * shape[1] + i1) * shape[2] + i2] =
                    bcdi_cf_make((float)(amplitude * cos(phase)), (float)(amplitude * sin(phase)));
            }
}
