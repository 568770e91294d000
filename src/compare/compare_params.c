/* SPDX-License-Identifier: BSD-3-Clause */
/* The keys of `compare` bound to bcdi_compare_params: defaults, ranges and help. */
#include "bcdi/compare.h"

#define CMP bcdi_compare_params
static const bcdi_param_spec compare_specs[] = {
    BCDI_KEY_STRING("reference", CMP, reference, NULL,
                    "the reference state: its label, its 1-based position or its path (default: "
                    "the first)"),
    BCDI_KEY_DOUBLE("match_distance_nm", CMP, match_distance_nm, "0", 0, 1e6, 0,
                    "dislocation lines closer than this are one line (0: 3 mean voxels)"),
    BCDI_KEY_DOUBLE("move_distance_nm", CMP, move_distance_nm, "0", 0, 1e6, 0,
                    "matched lines further apart than this have moved (0: 1 mean voxel)"),
    BCDI_KEY_DOUBLE("twin_margin", CMP, twin_margin, "0.002", 0, 1, 0,
                    "density-correlation difference that decides the twin; below it the complex "
                    "field decides"),
    BCDI_KEY_INT("upsample", CMP, upsample, "20", 1, 1000,
                 "sub-voxel registration to 1/upsample voxel"),
    BCDI_KEY_NUMBERS(
        "hkl", CMP, hkl, "auto", 3, -1000, 1000, BCDI_PARAM_INTEGER | BCDI_PARAM_NONZERO,
        "reflection h,k,l (auto: the result's geometry); c = l*d for (00l)", .word = "auto"),
};
#undef CMP

static const bcdi_param_table compare_table = {
    "compare",
    compare_specs,
    sizeof compare_specs / sizeof *compare_specs,
    sizeof(bcdi_compare_params),
    NULL,
};

const bcdi_param_table *bcdi_compare_param_table(void)
{
    return &compare_table;
}

void bcdi_compare_default(bcdi_compare_params *p)
{
    (void)bcdi_params_defaults(&compare_table, p); /* a constant table, known good */
}
