/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: phasing recipes (include/bcdi/recipe.h). Input: the recipe text. A parsed
 * recipe must keep the parser's promises: within the step and iteration limits, every step
 * with a positive count, a known algorithm and beta in (0, 2]. */
#include "fuzz_common.h"

#include "bcdi/recipe.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = fuzz_text(data, size);
    if (!text) return 0;
    bcdi_recipe recipe;
    if (bcdi_recipe_parse(text, 0.9, &recipe) != BCDI_OK) return 0;
    long total = 0;
    for (size_t i = 0; i < recipe.count; ++i) {
        const bcdi_recipe_step *s = &recipe.steps[i];
        if (s->iterations <= 0 || (unsigned)s->algorithm > BCDI_ALGO_DM || !(s->beta > 0.0) ||
            s->beta > 2.0 || (s->positivity != 0 && s->positivity != 1))
            abort();
        total += s->iterations;
    }
    if (recipe.count == 0 || total != recipe.total_iterations || total > 100000000L) abort();
    bcdi_recipe_free(&recipe);
    return 0;
}
