/* SPDX-License-Identifier: BSD-3-Clause */
/* bcdi_compare_results A.cxi B.cxi [--max E]: the relative difference of two phasing results of
 * the same data after alignment (twin, sub-voxel shift, global phase: bcdi_compare_objects with
 * A as the reference). tools/gpu-verify.sh compares a CUDA and a CPU reconstruction with one seed.
 * Prints one line for tools/gpu-report.sh:
 *   COMPARE relative_error=... phase_rms=... correlation=... twinned=... shift=a,b,c
 * Exits 0, 1 when --max is given and exceeded, 2 when a file cannot be read or the shapes
 * differ (phase writes uncropped objects by default: crop=false). */
#include "bcdi/align.h"
#include "io/cxi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL};
    double max_error = -1.0;
    int count = 0;
    for (int a = 1; a < argc; ++a) {
        if (!strcmp(argv[a], "--max") && a + 1 < argc)
            max_error = atof(argv[++a]);
        else if (count < 2)
            paths[count++] = argv[a];
        else
            count = 3;
    }
    if (count != 2) {
        fprintf(stderr, "usage: bcdi_compare_results A.cxi B.cxi [--max E]\n");
        return 2;
    }
    size_t shape[2][3];
    bcdi_cf *object[2] = {NULL, NULL};
    uint8_t *support[2] = {NULL, NULL};
    for (int k = 0; k < 2; ++k)
        if (bcdi_cxi_read_object(paths[k], shape[k], &object[k], &support[k]) != BCDI_OK) {
            fprintf(stderr, "bcdi_compare_results: %s\n", bcdi_last_error());
            return 2;
        }
    if (memcmp(shape[0], shape[1], sizeof shape[0]) != 0) {
        fprintf(stderr,
                "bcdi_compare_results: shapes differ: %s is %zux%zux%zu, %s is %zux%zux%zu "
                "(compare uncropped results: phase crop=false)\n",
                paths[0], shape[0][0], shape[0][1], shape[0][2], paths[1], shape[1][0], shape[1][1],
                shape[1][2]);
        return 2;
    }
    bcdi_object_error e;
    if (bcdi_compare_objects(shape[0], object[0], object[1], support[0], 1, &e) != BCDI_OK) {
        fprintf(stderr, "bcdi_compare_results: %s\n", bcdi_last_error());
        return 2;
    }
    printf("COMPARE relative_error=%.6e phase_rms=%.6e correlation=%.8f twinned=%d "
           "shift=%.3f,%.3f,%.3f support_voxels=%zu\n",
           e.relative_error, e.phase_rms, e.alignment.correlation, e.alignment.twinned,
           e.alignment.shift[0], e.alignment.shift[1], e.alignment.shift[2], e.support_voxels);
    for (int k = 0; k < 2; ++k) {
        free(object[k]);
        free(support[k]);
    }
    return max_error >= 0.0 && !(e.relative_error <= max_error) ? 1 : 0;
}
