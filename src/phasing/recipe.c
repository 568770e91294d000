/* SPDX-License-Identifier: BSD-3-Clause */
/* Recursive-descent parser for phasing recipes (grammar in include/bcdi/recipe.h). */
#include "bcdi/recipe.h"

#include "core/ckd.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Expansion guard: a recipe is a schedule, not a way to allocate unbounded memory. */
#define MAX_STEPS 100000
#define MAX_ITERATIONS 100000000L

typedef struct {
    const char *text;
    size_t pos;
    double default_beta;
    bcdi_status status;
} parser;

typedef struct {
    bcdi_recipe_step *steps;
    size_t count, capacity;
} step_list;

static const char *const algo_names[] = {"ER", "HIO", "RAAR", "DM"};

const char *bcdi_algorithm_name(bcdi_algorithm algorithm)
{
    return (unsigned)algorithm < 4 ? algo_names[algorithm] : "?";
}

static void skip_space(parser *p)
{
    while (isspace((unsigned char)p->text[p->pos]))
        ++p->pos;
}

static bcdi_status fail(parser *p, const char *expected)
{
    if (p->status != BCDI_OK) return p->status;
    char found[32];
    if (!p->text[p->pos])
        snprintf(found, sizeof found, "the end");
    else
        snprintf(found, sizeof found, "'%.12s'", p->text + p->pos);
    p->status = bcdi_error(BCDI_ERR_CONFIG, "recipe '%s': column %zu: expected %s, found %s",
                           p->text, p->pos + 1, expected, found);
    return p->status;
}

/* Every iteration count is checked against MAX_ITERATIONS as it grows (by a factor or by a
 * merge), so no count can wrap past it: 32768*(65536*(65536*(65536*HIO))) is refused, not
 * stored negative. */
static bcdi_status too_many_iterations(parser *p)
{
    if (p->status != BCDI_OK) return p->status;
    p->status = bcdi_error(BCDI_ERR_CONFIG,
                           "recipe '%s': column %zu: more than %ld iterations (counts multiply "
                           "through parentheses)",
                           p->text, p->pos, MAX_ITERATIONS);
    return p->status;
}

static int push(step_list *list, const bcdi_recipe_step *step)
{
    if (list->count && list->steps[list->count - 1].algorithm == step->algorithm &&
        list->steps[list->count - 1].beta == step->beta &&
        list->steps[list->count - 1].positivity == step->positivity) {
        long merged;
        if (bcdi_ckd_add_long(&merged, list->steps[list->count - 1].iterations, step->iterations) ||
            merged > MAX_ITERATIONS)
            return -2;
        list->steps[list->count - 1].iterations = merged;
        return 0;
    }
    if (list->count >= MAX_STEPS) return -1;
    if (list->count == list->capacity) {
        size_t cap = list->capacity ? 2 * list->capacity : 16;
        bcdi_recipe_step *bigger = realloc(list->steps, cap * sizeof *bigger);
        if (!bigger) return -1;
        list->steps = bigger;
        list->capacity = cap;
    }
    list->steps[list->count++] = *step;
    return 0;
}

static bcdi_status parse_recipe(parser *p, step_list *out);

static bcdi_status parse_params(parser *p, bcdi_recipe_step *step)
{
    /* after '(' */
    for (;;) {
        skip_space(p);
        size_t start = p->pos;
        while (isalpha((unsigned char)p->text[p->pos]) || p->text[p->pos] == '_')
            ++p->pos;
        if (p->pos == start) return fail(p, "a parameter name (beta, positivity)");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(p->pos - start), p->text + start);
        int is_beta = !strcasecmp(name, "beta"), is_pos = !strcasecmp(name, "positivity");
        if (!is_beta && !is_pos) {
            p->pos = start;
            return fail(p, "a parameter name (beta, positivity)");
        }
        skip_space(p);
        if (p->text[p->pos] != '=') return fail(p, "'='");
        ++p->pos;
        skip_space(p);
        char *end = NULL;
        errno = 0;
        double value = strtod(p->text + p->pos, &end);
        if (end == p->text + p->pos || errno || !isfinite(value)) return fail(p, "a number");
        if (is_beta && !(value > 0.0 && value <= 2.0)) return fail(p, "beta in (0, 2]");
        if (is_pos && value != 0.0 && value != 1.0) return fail(p, "positivity 0 or 1");
        p->pos = (size_t)(end - p->text);
        if (is_beta)
            step->beta = value;
        else
            step->positivity = (int)value;
        skip_space(p);
        if (p->text[p->pos] == ',') {
            ++p->pos;
            continue;
        }
        if (p->text[p->pos] == ')') {
            ++p->pos;
            return BCDI_OK;
        }
        return fail(p, "',' or ')'");
    }
}

static bcdi_status parse_factor(parser *p, step_list *out)
{
    skip_space(p);
    if (p->text[p->pos] == '(') {
        ++p->pos;
        if (parse_recipe(p, out) != BCDI_OK) return p->status;
        skip_space(p);
        if (p->text[p->pos] != ')') return fail(p, "')'");
        ++p->pos;
        return BCDI_OK;
    }
    size_t start = p->pos;
    while (isalpha((unsigned char)p->text[p->pos]))
        ++p->pos;
    size_t len = p->pos - start;
    int algo = -1;
    for (int a = 0; a < 4; ++a)
        if (len == strlen(algo_names[a]) && !strncasecmp(p->text + start, algo_names[a], len))
            algo = a;
    if (algo < 0) {
        p->pos = start;
        return fail(p, "an algorithm (ER, HIO, RAAR, DM) or '('");
    }
    bcdi_recipe_step step = {(bcdi_algorithm)algo, 1, p->default_beta, 0};
    skip_space(p);
    if (p->text[p->pos] == '(') {
        ++p->pos;
        if (parse_params(p, &step) != BCDI_OK) return p->status;
    }
    int pushed = push(out, &step);
    if (pushed != 0)
        return pushed == -2 ? too_many_iterations(p) : fail(p, "a shorter recipe (too many steps)");
    return BCDI_OK;
}

static bcdi_status parse_term(parser *p, step_list *out)
{
    skip_space(p);
    long count = 1;
    if (isdigit((unsigned char)p->text[p->pos])) {
        char *end = NULL;
        errno = 0;
        long v = strtol(p->text + p->pos, &end, 10);
        if (errno || v <= 0 || v > MAX_ITERATIONS) return fail(p, "a positive count");
        p->pos = (size_t)(end - p->text);
        skip_space(p);
        if (p->text[p->pos] != '*') return fail(p, "'*' after the count");
        ++p->pos;
        count = v;
    } else if (p->text[p->pos] == '-' || p->text[p->pos] == '0') {
        return fail(p, "a positive count or an algorithm");
    }
    step_list inner = {0};
    if (parse_factor(p, &inner) != BCDI_OK) {
        free(inner.steps);
        return p->status;
    }
    if (inner.count == 1) {
        /* N*ALGO: scale the single step rather than repeating it (checked: no wrap) */
        long scaled;
        if (bcdi_ckd_mul_long(&scaled, inner.steps[0].iterations, count) ||
            scaled > MAX_ITERATIONS) {
            free(inner.steps);
            return too_many_iterations(p);
        }
        inner.steps[0].iterations = scaled;
        count = 1;
    }
    for (long r = 0; r < count; ++r)
        for (size_t i = 0; i < inner.count; ++i) {
            int pushed = push(out, &inner.steps[i]);
            if (pushed != 0) {
                free(inner.steps);
                return pushed == -2 ? too_many_iterations(p)
                                    : fail(p, "a shorter recipe (too many steps)");
            }
        }
    free(inner.steps);
    return BCDI_OK;
}

static bcdi_status parse_recipe(parser *p, step_list *out)
{
    if (parse_term(p, out) != BCDI_OK) return p->status;
    for (;;) {
        skip_space(p);
        if (p->text[p->pos] != '+') return BCDI_OK;
        ++p->pos;
        if (parse_term(p, out) != BCDI_OK) return p->status;
    }
}

bcdi_status bcdi_recipe_parse(const char *text, double default_beta, bcdi_recipe *out)
{
    memset(out, 0, sizeof *out);
    if (!text) text = "";
    parser p = {text, 0, default_beta, BCDI_OK};
    step_list list = {0};
    skip_space(&p);
    if (!text[p.pos]) {
        p.status = bcdi_error(BCDI_ERR_CONFIG, "recipe is empty: expected e.g. '100*HIO + 50*ER'");
    } else if (parse_recipe(&p, &list) == BCDI_OK) {
        skip_space(&p);
        if (text[p.pos]) fail(&p, "'+' or the end of the recipe");
    }
    long total = 0;
    for (size_t i = 0; p.status == BCDI_OK && i < list.count; ++i) {
        /* each step is at most MAX_ITERATIONS, so the sum is checked before it could wrap */
        total += list.steps[i].iterations;
        if (list.steps[i].iterations < 1 || total > MAX_ITERATIONS)
            p.status = bcdi_error(BCDI_ERR_CONFIG, "recipe '%s': more than %ld iterations", text,
                                  MAX_ITERATIONS);
    }
    if (p.status != BCDI_OK) {
        free(list.steps);
        return p.status;
    }
    out->steps = list.steps;
    out->count = list.count;
    out->total_iterations = total;
    return BCDI_OK;
}

void bcdi_recipe_free(bcdi_recipe *recipe)
{
    free(recipe->steps);
    memset(recipe, 0, sizeof *recipe);
}
