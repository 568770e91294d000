/* SPDX-License-Identifier: BSD-3-Clause */
/* Breeding of a population around its best individual (include/bcdi/breed.h). */
#include "bcdi/breed.h"

#include "voxel_ops.h"

#include <stdlib.h>
#include <string.h>

static const char *const rule_names[BCDI_BREED_RULE_COUNT] = {
    [BCDI_BREED_SQRT_AB] = "sqrt_ab", [BCDI_BREED_PIXEL_SWITCH] = "pixel_switch",
    [BCDI_BREED_B_PA] = "b_pa",       [BCDI_BREED_AVG_AB] = "avg_ab",
    [BCDI_BREED_MAX_AB] = "max_ab",   [BCDI_BREED_2AB_A_B] = "2ab_a_b",
};

const char *bcdi_breed_rule_name(int rule)
{
    return rule >= 0 && rule < BCDI_BREED_RULE_COUNT ? rule_names[rule] : NULL;
}

bcdi_status bcdi_breed_rule_from_name(const char *name, int *rule)
{
    if (!name || !rule) return bcdi_error(BCDI_ERR_INVALID_ARG, "breeding rule: NULL argument");
    for (int r = 0; r < BCDI_BREED_RULE_COUNT; ++r)
        if (strcmp(name, rule_names[r]) == 0) {
            *rule = r;
            return BCDI_OK;
        }
    char known[128] = "";
    for (int r = 0; r < BCDI_BREED_RULE_COUNT; ++r) {
        if (r) strncat(known, ", ", sizeof known - strlen(known) - 1);
        strncat(known, rule_names[r], sizeof known - strlen(known) - 1);
    }
    return bcdi_error(BCDI_ERR_CONFIG, "unknown breeding rule '%s' (known: %s)", name, known);
}

bcdi_status bcdi_breed_population(const size_t shape[3], const bcdi_cf *alpha, bcdi_cf *population,
                                  size_t count, int rule, int upsample, uint64_t seed,
                                  uint64_t first_stream, bcdi_alignment *alignments)
{
    if (!shape || !shape[0] || !shape[1] || !shape[2])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "breed: empty shape");
    if (!alpha || (!population && count))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "breed: NULL array");
    if (!bcdi_breed_rule_name(rule))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "breed: unknown rule %d", rule);
    size_t n = shape[0] * shape[1] * shape[2];
    /* private copy: alpha may be one of the individuals, which are overwritten below */
    bcdi_cf *alpha_copy = malloc(n * sizeof *alpha_copy);
    if (!alpha_copy) return bcdi_error(BCDI_ERR_NOMEM, "breed: out of memory");
    memcpy(alpha_copy, alpha, n * sizeof *alpha_copy);
    bcdi_status st = BCDI_OK;
    for (size_t k = 0; k < count && st == BCDI_OK; ++k) {
        bcdi_cf *individual = population + k * n;
        st = bcdi_align(shape, alpha_copy, individual, 1, upsample,
                        alignments ? &alignments[k] : NULL);
        if (st != BCDI_OK) {
            bcdi_error_prefix(st, "breeding individual %zu: ", k);
            break;
        }
        uint64_t stream = first_stream + k;
#pragma omp parallel for schedule(static)
        for (long long i = 0; i < (long long)n; ++i) {
            uint32_t bits = rule == BCDI_BREED_PIXEL_SWITCH
                                ? bcdi_philox_at(seed, stream, (uint64_t)i).v[0]
                                : 0u;
            individual[i] = bcdi_vox_breed(rule, alpha_copy[i], individual[i], bits);
        }
    }
    free(alpha_copy);
    return st;
}
