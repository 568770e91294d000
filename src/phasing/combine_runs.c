/* SPDX-License-Identifier: BSD-3-Clause */
/* The kept runs of a phase run into one answer (phasing/combine_runs.h). */
#include "phasing/combine_runs.h"

#include "bcdi/align.h"
#include "core/ckd.h"

#include <stdlib.h>
#include <string.h>

void bcdi_combined_free(bcdi_combined *c)
{
    if (!c) return;
    free(c->average);
    free(c->run_ids);
    free(c->generations);
    free(c->correlation);
    free(c->twinned);
    free(c->mode_weights);
    bcdi_reproducibility_free(&c->reproducibility);
    bcdi_prtf_free(&c->prtf);
    memset(c, 0, sizeof *c);
}

bcdi_status bcdi_combine_runs(const bcdi_phasing_result *result, const float *intensity,
                              const uint8_t *mask, const double voxel_size_m[3], bcdi_combined *out)
{
    memset(out, 0, sizeof *out);
    if (!result || !intensity || result->count < 2)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "combine: %zu runs kept, at least 2 are needed",
                          result ? result->count : 0);
    const size_t *shape = result->shape;
    size_t count = result->count < BCDI_COMBINE_MAX_RUNS ? result->count : BCDI_COMBINE_MAX_RUNS;
    size_t n = 0, bytes = 0;
    bcdi_status st =
        bcdi_ckd_volume(shape, 3, sizeof(bcdi_cf), &n, &bytes, "combine: %zu runs", count);
    size_t stack_bytes = 0;
    if (st == BCDI_OK && bcdi_ckd_mul(&stack_bytes, bytes, count))
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "combine: %zu runs of %zu bytes overflow", count,
                        bytes);
    if (st != BCDI_OK) return st;
    bcdi_cf *stack = malloc(stack_bytes);
    bcdi_alignment *alignments = calloc(count, sizeof *alignments);
    bcdi_modes modes = {0};
    out->count = count;
    memcpy(out->shape, shape, sizeof out->shape);
    out->support = result->runs[0].support;
    out->average = malloc(bytes);
    out->run_ids = calloc(count, sizeof *out->run_ids);
    out->generations = calloc(count, sizeof *out->generations);
    out->correlation = calloc(count, sizeof *out->correlation);
    out->twinned = calloc(count, sizeof *out->twinned);
    out->mode_weights = calloc(count, sizeof *out->mode_weights);
    if (!stack || !alignments || !out->average || !out->run_ids || !out->generations ||
        !out->correlation || !out->twinned || !out->mode_weights) {
        st = bcdi_error(BCDI_ERR_NOMEM, "combine: out of memory for %zu runs of %zu voxels", count,
                        n);
        goto done;
    }
    for (size_t k = 0; k < count; ++k) {
        memcpy(stack + k * n, result->runs[k].object, bytes);
        out->run_ids[k] = result->runs[k].run_id;
        out->generations[k] = result->runs[k].generation;
    }
    bcdi_combine_options opt;
    bcdi_combine_default_options(&opt);
    st = bcdi_combine_align(shape, count, stack, 0, &opt, alignments);
    if (st == BCDI_OK) st = bcdi_combine_average(shape, count, stack, out->average);
    if (st == BCDI_OK) st = bcdi_combine_modes(shape, count, stack, 0, &modes);
    if (st == BCDI_OK)
        st = bcdi_combine_reproducibility(shape, count, stack, NULL, &opt, &out->reproducibility);
    if (st == BCDI_OK) st = bcdi_remove_mean_phase(shape, out->average, out->support);
    if (st == BCDI_OK) {
        bcdi_prtf_options prtf;
        bcdi_prtf_default_options(&prtf);
        if (voxel_size_m) memcpy(prtf.voxel_size_m, voxel_size_m, sizeof prtf.voxel_size_m);
        st = bcdi_prtf_compute(shape, out->average, intensity, mask, &prtf, &out->prtf);
    }
    if (st == BCDI_OK)
        for (size_t k = 0; k < count; ++k) {
            out->correlation[k] = alignments[k].correlation;
            out->twinned[k] = alignments[k].twinned;
            out->mode_weights[k] = modes.weights[k];
        }
done:
    bcdi_modes_free(&modes);
    free(alignments);
    free(stack);
    if (st != BCDI_OK) bcdi_combined_free(out);
    return st;
}
