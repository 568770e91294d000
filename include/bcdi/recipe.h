/* SPDX-License-Identifier: BSD-3-Clause */
/* Phasing recipes: a left-to-right expression of algorithm steps, parsed once into a schedule.
 *
 *   recipe  := term ( '+' term )*
 *   term    := [ COUNT '*' ] factor
 *   factor  := ALGO [ '(' param ( ',' param )* ')' ]  |  '(' recipe ')'
 *   ALGO    := ER | HIO | RAAR | DM            (case-insensitive)
 *   param   := NAME '=' NUMBER                 (beta, positivity)
 *   COUNT   := positive integer
 *
 * Example: 100*HIO + 3*(180*HIO + 20*ER) + 50*RAAR(beta=0.8) + 100*ER
 * An algorithm without a count runs one iteration. Whitespace is free. docs/algorithms.md. */
#ifndef BCDI_RECIPE_H
#define BCDI_RECIPE_H

#include "bcdi/error.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { BCDI_ALGO_ER = 0, BCDI_ALGO_HIO, BCDI_ALGO_RAAR, BCDI_ALGO_DM } bcdi_algorithm;

typedef struct bcdi_recipe_step {
    bcdi_algorithm algorithm;
    long iterations;
    double beta;    /* the recipe's value, or the default given to the parser */
    int positivity; /* 0/1 */
} bcdi_recipe_step;

typedef struct bcdi_recipe {
    bcdi_recipe_step *steps; /* consecutive identical steps are merged */
    size_t count;
    long total_iterations;
} bcdi_recipe;

/* Parse `text`; default_beta applies where a step gives none. Errors (BCDI_ERR_CONFIG) point at
 * the 1-based column: "recipe '...': column 7: expected ...". */
bcdi_status bcdi_recipe_parse(const char *text, double default_beta, bcdi_recipe *out);
void bcdi_recipe_free(bcdi_recipe *recipe);
const char *bcdi_algorithm_name(bcdi_algorithm algorithm);

#ifdef __cplusplus
}
#endif
#endif
