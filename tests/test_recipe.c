/* SPDX-License-Identifier: BSD-3-Clause */
/* Recipe parser: accept/reject table with the column of each error. */
#include "bcdi/recipe.h"

#include <criterion/criterion.h>
#include <string.h>

Test(recipe, seed_example_expands_left_to_right)
{
    bcdi_recipe r;
    cr_assert_eq(
        bcdi_recipe_parse("100*HIO + 3*(180*HIO + 20*ER) + 50*RAAR(beta=0.8) + 100*ER", 0.9, &r),
        BCDI_OK, "%s", bcdi_last_error());
    /* 100 HIO merges with the first 180 HIO of the repeat */
    long want_iter[] = {280, 20, 180, 20, 180, 20, 50, 100};
    bcdi_algorithm want_algo[] = {BCDI_ALGO_HIO, BCDI_ALGO_ER, BCDI_ALGO_HIO,  BCDI_ALGO_ER,
                                  BCDI_ALGO_HIO, BCDI_ALGO_ER, BCDI_ALGO_RAAR, BCDI_ALGO_ER};
    cr_assert_eq(r.count, 8);
    for (size_t i = 0; i < 8; ++i) {
        cr_expect_eq(r.steps[i].iterations, want_iter[i], "step %zu", i);
        cr_expect_eq(r.steps[i].algorithm, want_algo[i], "step %zu", i);
    }
    cr_expect_eq(r.steps[0].beta, 0.9);
    cr_expect_eq(r.steps[6].beta, 0.8);
    cr_expect_eq(r.total_iterations, 100 + 600 + 50 + 100);
    bcdi_recipe_free(&r);
}

Test(recipe, accepts)
{
    struct {
        const char *text;
        long total;
        size_t steps;
    } ok[] = {
        {"ER", 1, 1},
        {"  20 * er ", 20, 1},
        {"DM(beta=1)+ER", 2, 2},
        {"2*(HIO(beta=0.7, positivity=1) + 2*(ER + RAAR))", 10, 10},
        {"3*(20*ER+180*HIO)+20*ER", 620, 7},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; ++i) {
        bcdi_recipe r;
        cr_assert_eq(bcdi_recipe_parse(ok[i].text, 0.9, &r), BCDI_OK, "'%s': %s", ok[i].text,
                     bcdi_last_error());
        cr_expect_eq(r.total_iterations, ok[i].total, "'%s'", ok[i].text);
        cr_expect_eq(r.count, ok[i].steps, "'%s': %zu steps", ok[i].text, r.count);
        bcdi_recipe_free(&r);
    }
}

Test(recipe, rejects_with_column)
{
    struct {
        const char *text;
        const char *column;
    } bad[] = {
        {"", "empty"},
        {"100*HOI", "column 5"},
        {"100 HIO", "column 5"},
        {"100*HIO +", "column 10"},
        {"3*(20*ER", "column 9"},
        {"RAAR(beta=3)", "column 11"},
        {"RAAR(gamma=1)", "column 6"},
        {"0*ER", "column 1"},
        {"-5*ER", "column 1"},
        {"HIO)", "column 4"},
        {"HIO(beta=0.9", "column 13"},
        {"100000000*(2*ER)", "iterations"},
        /* nested counts whose product wraps a long (stored negative and skipped before) */
        {"32768*(65536*(65536*(65536*HIO)))", "iterations"},
        {"4294967296*(4294967296*ER)", "positive count"},
        {"10000*(10000*(2*HIO))", "iterations"},
        /* merges of equal steps past the guard */
        {"100000000*ER + ER", "iterations"},
        {"60000000*ER + 60000000*ER", "iterations"},
        {"3*(40000000*ER + 40000000*ER)", "iterations"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        bcdi_recipe r;
        cr_expect_eq(bcdi_recipe_parse(bad[i].text, 0.9, &r), BCDI_ERR_CONFIG, "'%s' accepted",
                     bad[i].text);
        cr_expect(strstr(bcdi_last_error(), bad[i].column) != NULL, "'%s': message '%s' lacks '%s'",
                  bad[i].text, bcdi_last_error(), bad[i].column);
    }
}
