/* SPDX-License-Identifier: BSD-3-Clause */
/* Breeding (guided phasing, Chen et al., PRB 76, 064113 (2007); rules named as in PyNX/cohere):
 * each individual of a generation is aligned to the best one, alpha (twin allowed, sub-voxel
 * shift, global phase), then mixed with it voxel by voxel (bcdi_vox_breed in voxel_ops.h, rules
 * BCDI_BREED_*). Host arrays, C order, one volume of n0 x n1 x n2 voxels each. */
#ifndef BCDI_BREED_H
#define BCDI_BREED_H

#include "bcdi/align.h"
#include "bcdi/error.h"
#include "bcdi/types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Known names: sqrt_ab, pixel_switch, b_pa, avg_ab, max_ab, 2ab_a_b. An unknown name gives
 * BCDI_ERR_CONFIG with the list of known names in bcdi_last_error(). */
bcdi_status bcdi_breed_rule_from_name(const char *name, int *rule);
/* The rule's name, or NULL for an unknown rule. */
const char *bcdi_breed_rule_name(int rule);

/* population holds `count` volumes ([count][n]); each is replaced in place by its child:
 *   individual_k <- align(individual_k onto alpha, allow_twin = 1, upsample)
 *   child_k      <- bcdi_vox_breed(rule, alpha, individual_k, bits)
 * where pixel_switch's bits for voxel i of individual k are word 0 of Philox(seed,
 * first_stream + k, i): one seed gives the same children in any thread order. alpha is read
 * through a private copy, so it may point into `population`. alignments (may be NULL) receives
 * `count` entries. */
bcdi_status bcdi_breed_population(const size_t shape[3], const bcdi_cf *alpha, bcdi_cf *population,
                                  size_t count, int rule, int upsample, uint64_t seed,
                                  uint64_t first_stream, bcdi_alignment *alignments);

#ifdef __cplusplus
}
#endif
#endif
