/* SPDX-License-Identifier: BSD-3-Clause */
/* Config merge: defaults < INI < key=value; unknown keys, bad values and bad sections are errors
 * that say where they came from. Bound tables: one loader fills a parameter struct from a
 * table, checks every key's type, range or choices and the cross-key rules, and describes the
 * keys for --help; every stage's table is walked. */
#include "bcdi/analysis.h"
#include "bcdi/compare.h"
#include "bcdi/config.h"
#include "bcdi/phasing_params.h"
#include "bcdi/prepare.h"
#include "bcdi/simulate.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* keys the caller reads itself (not bound to a struct) */
static const bcdi_param_spec specs[] = {
    {.key = "photons", .type = BCDI_PARAM_DOUBLE, .default_value = "1e8", .help = "total counts"},
    {.key = "seed", .type = BCDI_PARAM_INT, .default_value = "1", .help = "seed"},
    {.key = "noise", .type = BCDI_PARAM_BOOL, .default_value = "true", .help = "noise"},
    {.key = "shape", .type = BCDI_PARAM_LIST, .default_value = "64,64,64", .help = "shape"},
    {.key = "name", .type = BCDI_PARAM_STRING, .help = "no default"},
};

/* the CLI registers the other stages' sections */
static const char *const other_stages[] = {"simulate", "prepare", "phase", "analyze",
                                           "compare",  "info",    "bench", NULL};

static char *write_ini(const char *text)
{
    char *dir = tu_make_temp_dir("cfg");
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/c.ini", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    free(dir);
    return path;
}

Test(config, precedence_default_file_command_line)
{
    bcdi_config *cfg;
    cr_assert_eq(bcdi_config_create("simulate", specs, 5, &cfg), BCDI_OK);
    bcdi_config_skip_sections(cfg, other_stages);
    char *ini = write_ini(
        "seed = 5\nphotons = 2e6\n[simulate]\nname = from file\n[phase]\nrecipe = 10*ER\n");
    cr_assert_eq(bcdi_config_load_ini(cfg, ini), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_config_override(cfg, "seed=7"), BCDI_OK);
    long seed;
    double photons;
    int noise;
    bcdi_config_int(cfg, "seed", &seed);
    bcdi_config_double(cfg, "photons", &photons);
    bcdi_config_bool(cfg, "noise", &noise);
    cr_expect_eq(seed, 7, "command line wins");
    cr_expect_eq(photons, 2e6, "file beats default");
    cr_expect_eq(noise, 1, "default kept");
    cr_expect_str_eq(bcdi_config_string(cfg, "name"), "from file");
    cr_expect_str_eq(bcdi_config_origin(cfg, "seed"), "command line");
    cr_expect(strstr(bcdi_config_origin(cfg, "photons"), ":2") != NULL, "origin has the line: %s",
              bcdi_config_origin(cfg, "photons"));
    double shape[3];
    size_t count;
    cr_expect_eq(bcdi_config_doubles(cfg, "shape", shape, 3, 3, &count), BCDI_OK);
    cr_expect_eq(shape[2], 64);
    cr_expect_eq(bcdi_config_count(cfg), 5);
    bcdi_config_free(cfg);
    free(ini);
}

Test(config, errors_name_key_and_origin)
{
    bcdi_config *cfg;
    bcdi_config_create("simulate", specs, 5, &cfg);
    bcdi_config_skip_sections(cfg, other_stages);
    cr_expect_eq(bcdi_config_override(cfg, "phtons=3"), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "unknown key 'phtons'") &&
                  strstr(bcdi_last_error(), "photons"),
              "%s", bcdi_last_error());
    cr_expect_eq(bcdi_config_override(cfg, "seed=1.5"), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "integer"), "%s", bcdi_last_error());
    cr_expect_eq(bcdi_config_override(cfg, "photons=nan"), BCDI_ERR_CONFIG);
    cr_expect_eq(bcdi_config_override(cfg, "noise=maybe"), BCDI_ERR_CONFIG);
    cr_expect_eq(bcdi_config_override(cfg, "=3"), BCDI_ERR_CONFIG);
    cr_expect_eq(bcdi_config_override(cfg, "shape=1,2,"), BCDI_OK); /* lists checked on use */
    double v[3];
    cr_expect_eq(bcdi_config_doubles(cfg, "shape", v, 3, 3, NULL), BCDI_ERR_CONFIG);
    bcdi_config_override(cfg, "shape=1,2");
    cr_expect_eq(bcdi_config_doubles(cfg, "shape", v, 3, 3, NULL), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "at least 3"), "%s", bcdi_last_error());
    cr_expect_eq(bcdi_config_string(cfg, "name"), NULL);
    char *ini = write_ini("seed = 2\nbogus = 1\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "c.ini:2") && strstr(bcdi_last_error(), "bogus"), "%s",
              bcdi_last_error());
    free(ini);
    ini = write_ini("[simulat]\nseed = 2\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "unknown section [simulat]") &&
                  strstr(bcdi_last_error(), "[phase]"),
              "the message lists the sections it knows: %s", bcdi_last_error());
    free(ini);
    ini = write_ini("seed 2\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "line 1"), "%s", bcdi_last_error());
    free(ini);
    /* a line over the INI reader's buffer is named as such, with its own line number */
    char long_ini[1200];
    snprintf(long_ini, sizeof long_ini, "seed = 3\nname = %0900d\nphotons = 2\n", 7);
    ini = write_ini(long_ini);
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "line 2 is longer than") != NULL, "%s", bcdi_last_error());
    free(ini);
    cr_expect_eq(bcdi_config_load_ini(cfg, "/nonexistent/x.ini"), BCDI_ERR_IO);
    bcdi_config_free(cfg);
}

/* The store knows no stage names: without a registered list, another stage's section is an
 * error like any unknown one. */
Test(config, sections_to_skip_come_from_the_caller)
{
    bcdi_config *cfg;
    bcdi_config_create("simulate", specs, 5, &cfg);
    char *ini = write_ini("seed = 2\n[phase]\nrecipe = 10*ER\n");
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "unknown section [phase]"), "%s", bcdi_last_error());
    static const char *const only_phase[] = {"phase", NULL};
    bcdi_config_skip_sections(cfg, only_phase);
    cr_expect_eq(bcdi_config_load_ini(cfg, ini), BCDI_OK, "%s", bcdi_last_error());
    bcdi_config_free(cfg);
    free(ini);
}

/* ---- a test table: every kind of key ------------------------------------------------------ */

typedef enum { COLOUR_RED = 0, COLOUR_GREEN, COLOUR_BLUE } colour;

typedef struct {
    char name[8];
    long runs;
    int level;
    double fraction, lo, hi, offset_deg;
    int enabled;
    colour colour;
    int depth;
    size_t shape[3];
    int hkl[3];
    double pixel[2];
    double sizes[4];
    size_t n_sizes;
    long centre[3];
    int centre_auto;
    double threshold;
    int pairs;
    int offset_given;
    double optional;
} toy_params;

static const char *const colour_names[] = {"red", "green", "blue", NULL};
static const char *const depth_names[] = {"none", "12", "24", NULL};
static const int depth_values[] = {0, 12, 24};

static bcdi_status parse_pairs(const char *value, void *params)
{
    toy_params *p = params;
    p->pairs = 0;
    for (const char *c = value; *c; ++c)
        if (*c == ':') ++p->pairs;
    if (!p->pairs) return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s' holds no a:b pair", value);
    return BCDI_OK;
}

static bcdi_status toy_rules(const void *params, const bcdi_config *cfg)
{
    const toy_params *p = params;
    if (!(p->lo < p->hi))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: key 'lo' is %g, expected below hi (%g)",
                          cfg ? bcdi_config_origin(cfg, "lo") : "parameters", p->lo, p->hi);
    return BCDI_OK;
}

static const bcdi_param_spec toy_specs[] = {
    BCDI_KEY_STRING("name", toy_params, name, "abc", "a short name"),
    BCDI_KEY_INT("runs", toy_params, runs, "4", 1, 10000, "runs"),
    BCDI_KEY_INT("level", toy_params, level, "3", 0, 9, "level"),
    BCDI_KEY_DOUBLE("fraction", toy_params, fraction, "0.5", 0, 1,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN, "fraction"),
    BCDI_KEY_DOUBLE("lo", toy_params, lo, "0.1", 0, 1, 0, "low"),
    BCDI_KEY_DOUBLE("hi", toy_params, hi, "0.9", 0, 1, 0, "high"),
    BCDI_KEY_DOUBLE("offset_deg", toy_params, offset_deg, "2", -180, 180, 0, "offset",
                    .given_offset = offsetof(toy_params, offset_given)),
    BCDI_KEY_BOOL("enabled", toy_params, enabled, "false", "on or off"),
    BCDI_KEY_CHOICE("colour", toy_params, colour, "green", colour_names, NULL, "a colour"),
    BCDI_KEY_CHOICE("depth", toy_params, depth, "12", depth_names, depth_values, "bits"),
    BCDI_KEY_NUMBERS("shape", toy_params, shape, "8,16,32", 3, 2, 4096, BCDI_PARAM_INTEGER,
                     "three sizes"),
    BCDI_KEY_NUMBERS("hkl", toy_params, hkl, "0,0,3", 3, -100, 100,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_NONZERO, "Miller indices"),
    BCDI_KEY_NUMBERS("pixel", toy_params, pixel, "55", 1, 0, 1e4,
                     BCDI_PARAM_MIN_OPEN | BCDI_PARAM_REPEAT, "one or two pixel sizes"),
    BCDI_KEY_NUMBERS("sizes", toy_params, sizes, "64,128", 0, 2, 4096,
                     BCDI_PARAM_INTEGER | BCDI_PARAM_COUNTED, "a few sizes",
                     .count_offset = offsetof(toy_params, n_sizes)),
    BCDI_KEY_NUMBERS("centre", toy_params, centre, "auto", 3, -1e6, 1e6, BCDI_PARAM_INTEGER,
                     "a voxel, or auto", .word = "auto",
                     .word_offset = offsetof(toy_params, centre_auto)),
    BCDI_KEY_DOUBLE("threshold", toy_params, threshold, "auto", 0, 1, BCDI_PARAM_MIN_OPEN,
                    "a fraction, or auto (stored as 0)", .word = "auto"),
    BCDI_KEY_PARSED("pairs", "1:2", parse_pairs, "a:b;..."),
    BCDI_KEY_DOUBLE("optional", toy_params, optional, NULL, 0, 10, BCDI_PARAM_UNSET_NAN,
                    "unset: NaN"),
};

static const bcdi_param_table toy_table = {
    "toy", toy_specs, sizeof toy_specs / sizeof *toy_specs, sizeof(toy_params), toy_rules,
};

Test(bound, defaults_fill_every_kind_of_field)
{
    toy_params p;
    memset(&p, 0x5a, sizeof p);
    cr_assert_eq(bcdi_params_defaults(&toy_table, &p), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_str_eq(p.name, "abc");
    cr_expect_eq(p.runs, 4);
    cr_expect_eq(p.level, 3);
    cr_expect_eq(p.fraction, 0.5);
    cr_expect_eq(p.enabled, 0);
    cr_expect_eq(p.colour, COLOUR_GREEN);
    cr_expect_eq(p.depth, 12, "a choice stores its value, not its index");
    cr_expect(p.shape[0] == 8 && p.shape[1] == 16 && p.shape[2] == 32);
    cr_expect(p.hkl[0] == 0 && p.hkl[2] == 3);
    cr_expect(p.pixel[0] == 55 && p.pixel[1] == 55, "one value fills both");
    cr_expect(p.n_sizes == 2 && p.sizes[1] == 128);
    cr_expect_eq(p.centre_auto, 1);
    cr_expect_eq(p.threshold, 0.0, "the word's value");
    cr_expect_eq(p.pairs, 1);
    cr_expect_eq(p.offset_given, 0);
    cr_expect(isnan(p.optional), "no default and UNSET_NAN: NaN");
    cr_expect_eq(bcdi_params_check(&toy_table, &p, NULL), BCDI_OK, "%s", bcdi_last_error());
}

Test(bound, file_then_command_line_fill_the_struct)
{
    toy_params p;
    bcdi_config *cfg = NULL;
    char *ini = write_ini("runs = 8\n[toy]\ncolour = blue\ndepth = 24\npixel = 75, 55\n"
                          "centre = 3,-4,5\n[other]\nrecipe = x\n");
    static const char *const other[] = {"other", NULL};
    const char *cmd[] = {"runs=16",    "threshold=0.25", "offset_deg=-1.5",  "sizes=",
                         "optional=2", "name=xyzwvut",   "pairs=1:2;3:4;5:6"};
    cr_assert_eq(bcdi_params_load(&toy_table, ini, cmd, 7, other, &cfg, &p), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(p.runs, 16, "the command line wins");
    cr_expect_eq(p.colour, COLOUR_BLUE);
    cr_expect_eq(p.depth, 24);
    cr_expect(p.pixel[0] == 75 && p.pixel[1] == 55);
    cr_expect(p.centre_auto == 0 && p.centre[0] == 3 && p.centre[1] == -4 && p.centre[2] == 5);
    cr_expect_eq(p.threshold, 0.25);
    cr_expect(p.offset_deg == -1.5 && p.offset_given == 1);
    cr_expect_eq(p.n_sizes, 0, "an empty list where none is allowed");
    cr_expect_eq(p.optional, 2.0);
    cr_expect_str_eq(p.name, "xyzwvut");
    cr_expect_eq(p.pairs, 3);
    cr_expect_str_eq(bcdi_config_string(cfg, "runs"), "16", "the config keeps the provenance");
    cr_expect(strstr(bcdi_config_origin(cfg, "colour"), "c.ini:3") != NULL, "%s",
              bcdi_config_origin(cfg, "colour"));
    bcdi_config_free(cfg);
    free(ini);
}

/* Every refused value names where it came from, the key, the value found and what was
 * expected. */
Test(bound, range_errors_name_origin_key_value_and_range)
{
    static const struct {
        const char *assignment, *expected;
    } cases[] = {
        {"runs=0", "an integer in 1..10000"},
        {"runs=1000000000", "an integer in 1..10000"},
        {"runs=99999999999999999999", "an integer in 1..10000"},
        {"runs=2.5", "an integer in 1..10000"},
        {"level=10", "an integer in 0..9"},
        {"fraction=0", "a number in (0, 1)"},
        {"fraction=1", "a number in (0, 1)"},
        {"fraction=1e308", "a number in (0, 1)"},
        {"fraction=-0.1", "a number in (0, 1)"},
        {"fraction=inf", "a number in (0, 1)"},
        {"offset_deg=181", "a number in [-180, 180]"},
        {"enabled=perhaps", "true or false"},
        {"colour=purple", "one of red, green, blue"},
        {"depth=13", "one of none, 12, 24"},
        {"shape=8,16", "3 integers, each in 2..4096"},
        {"shape=8,16,32,64", "3 integers, each in 2..4096"},
        {"shape=8,1,32", "3 integers, each in 2..4096"},
        {"shape=8,16,32.5", "3 integers, each in 2..4096"},
        {"shape=8,,32", "3 integers, each in 2..4096"},
        {"hkl=0,0,0", "not all zero"},
        {"pixel=0", "1 to 2 numbers, each in (0, 10000]"},
        {"sizes=1", "0 to 4 integers, each in 2..4096"},
        {"centre=middle", "3 integers, each in -1000000..1000000, or auto"},
        {"threshold=0", "a number in (0, 1], or auto"},
        {"optional=-1", "a number in [0, 10]"},
        {"name=toolongname", "at most 7"},
        {"pairs=12", "no a:b pair"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        toy_params p;
        const char *cmd[] = {cases[i].assignment};
        bcdi_status st = bcdi_params_load(&toy_table, NULL, cmd, 1, NULL, NULL, &p);
        cr_expect_eq(st, BCDI_ERR_CONFIG, "%s: %s", cases[i].assignment, bcdi_last_error());
        const char *eq = strchr(cases[i].assignment, '=');
        char key[64], value[96];
        snprintf(key, sizeof key, "key '%.*s'", (int)(eq - cases[i].assignment),
                 cases[i].assignment);
        snprintf(value, sizeof value, "'%s'", eq + 1);
        const char *msg = bcdi_last_error();
        cr_expect(strstr(msg, "command line") && strstr(msg, key), "%s: %s", cases[i].assignment,
                  msg);
        if (strcmp(key, "key 'name'") && strcmp(key, "key 'pairs'"))
            cr_expect(strstr(msg, value) != NULL, "%s: the value is not named: %s",
                      cases[i].assignment, msg);
        cr_expect(strstr(msg, cases[i].expected) != NULL, "%s: '%s' not in: %s",
                  cases[i].assignment, cases[i].expected, msg);
    }
    /* from a file: file:line */
    toy_params p;
    char *ini = write_ini("# comment\nlevel = 2\n\nlevel = 12\n");
    cr_expect_eq(bcdi_params_load(&toy_table, ini, NULL, 0, NULL, NULL, &p), BCDI_ERR_CONFIG);
    char where[4200];
    snprintf(where, sizeof where, "%s:4: key 'level' is '12', expected an integer in 0..9", ini);
    cr_expect(strstr(bcdi_last_error(), where) != NULL, "%s", bcdi_last_error());
    free(ini);
}

Test(bound, cross_key_rules_after_every_key)
{
    toy_params p;
    const char *cmd[] = {"lo=0.8", "hi=0.2"};
    cr_expect_eq(bcdi_params_load(&toy_table, NULL, cmd, 2, NULL, NULL, &p), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "command line: key 'lo' is 0.8, expected below hi"), "%s",
              bcdi_last_error());
    /* a struct filled by hand: the same ranges and rules, as argument errors */
    cr_assert_eq(bcdi_params_defaults(&toy_table, &p), BCDI_OK);
    p.level = 11;
    cr_expect_eq(bcdi_params_check(&toy_table, &p, NULL), BCDI_ERR_INVALID_ARG);
    cr_expect(strstr(bcdi_last_error(), "key 'level' is '11'"), "%s", bcdi_last_error());
    bcdi_params_defaults(&toy_table, &p);
    p.depth = 7;
    cr_expect_eq(bcdi_params_check(&toy_table, &p, NULL), BCDI_ERR_INVALID_ARG);
    bcdi_params_defaults(&toy_table, &p);
    p.hkl[2] = 0;
    cr_expect_eq(bcdi_params_check(&toy_table, &p, NULL), BCDI_ERR_INVALID_ARG);
    cr_expect(strstr(bcdi_last_error(), "'0,0,0'"), "%s", bcdi_last_error());
    bcdi_params_defaults(&toy_table, &p);
    p.lo = 0.95;
    cr_expect_eq(bcdi_params_check(&toy_table, &p, NULL), BCDI_ERR_INVALID_ARG);
    bcdi_params_defaults(&toy_table, &p);
    p.centre_auto = 0;
    p.centre[1] = 2000000;
    cr_expect_eq(bcdi_params_check(&toy_table, &p, NULL), BCDI_ERR_INVALID_ARG);
}

Test(bound, describe_says_what_a_key_accepts)
{
    char buf[256];
    const char *expected[] = {"text of at most 7 characters",
                              "an integer in 1..10000",
                              "an integer in 0..9",
                              "a number in (0, 1)",
                              "a number in [0, 1]",
                              "a number in [0, 1]",
                              "a number in [-180, 180]",
                              "true or false",
                              "one of red, green, blue",
                              "one of none, 12, 24",
                              "3 integers, each in 2..4096",
                              "3 integers, each in -100..100, not all zero",
                              "1 to 2 numbers, each in (0, 10000]",
                              "0 to 4 integers, each in 2..4096",
                              "3 integers, each in -1000000..1000000, or auto",
                              "a number in (0, 1], or auto",
                              "a list (see the help)",
                              "a number in [0, 10]"};
    for (size_t i = 0; i < toy_table.count; ++i)
        cr_expect_str_eq(bcdi_param_describe(&toy_table.specs[i], buf, sizeof buf), expected[i],
                         "key %s", toy_table.specs[i].key);
}

/* compare reads [analyze]: its keys apply below [compare]'s wherever they stand */
Test(bound, also_sections_rank_below_the_own_section)
{
    bcdi_config *cfg;
    cr_assert_eq(bcdi_config_create("toy", toy_specs, toy_table.count, &cfg), BCDI_OK);
    static const char *const also[] = {"base", NULL};
    bcdi_config_also_sections(cfg, also);
    char *ini = write_ini("[toy]\nlevel = 5\n[base]\nlevel = 7\nruns = 9\n");
    cr_assert_eq(bcdi_config_load_ini(cfg, ini), BCDI_OK, "%s", bcdi_last_error());
    toy_params p;
    cr_assert_eq(bcdi_config_bind(cfg, &toy_table, &p), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(p.level, 5, "[toy] wins over [base] though [base] comes later");
    cr_expect_eq(p.runs, 9, "[base] applies where [toy] says nothing");
    cr_assert_eq(bcdi_config_override(cfg, "level=6"), BCDI_OK);
    bcdi_config_bind(cfg, &toy_table, &p);
    cr_expect_eq(p.level, 6, "the command line wins over both");
    bcdi_config_free(cfg);
    free(ini);
}

/* ---- every stage's table ------------------------------------------------------------------ */

static const bcdi_param_table *stage_table(int i)
{
    switch (i) {
    case 0:
        return bcdi_simulate_param_table();
    case 1:
        return bcdi_prepare_param_table();
    case 2:
        return bcdi_phase_param_table();
    case 3:
        return bcdi_analysis_param_table();
    case 4:
        return bcdi_compare_param_table();
    }
    return NULL;
}

/* Every key of every stage is bound, numbers have a range, the defaults pass their own
 * checks, and every key is described for --help. */
Test(stages, every_key_bound_ranged_and_described)
{
    for (int t = 0; t < 5; ++t) {
        const bcdi_param_table *table = stage_table(t);
        void *params = malloc(table->params_size);
        cr_assert_eq(bcdi_params_defaults(table, params), BCDI_OK, "[%s] %s", table->section,
                     bcdi_last_error());
        cr_expect_eq(bcdi_params_check(table, params, NULL), BCDI_OK, "[%s] defaults: %s",
                     table->section, bcdi_last_error());
        for (size_t i = 0; i < table->count; ++i) {
            const bcdi_param_spec *s = &table->specs[i];
            cr_expect(s->flags & BCDI_PARAM_BOUND, "[%s] %s is not bound", table->section, s->key);
            if (s->type == BCDI_PARAM_INT || s->type == BCDI_PARAM_DOUBLE ||
                s->type == BCDI_PARAM_NUMBERS)
                cr_expect((s->flags & BCDI_PARAM_HAS_MIN) && (s->flags & BCDI_PARAM_HAS_MAX),
                          "[%s] %s has no range", table->section, s->key);
            char buf[256];
            cr_expect(bcdi_param_describe(s, buf, sizeof buf)[0] && s->help && s->help[0],
                      "[%s] %s", table->section, s->key);
        }
        free(params);
    }
}

/* The values the hardening review found accepted, each refused by its stage's table. */
Test(stages, values_found_accepted_are_refused)
{
    static const struct {
        int stage;
        const char *assignment[2];
        const char *needle;
    } cases[] = {
        {2, {"runs=0"}, "key 'runs' is '0'"},
        {2, {"runs=1000000000"}, "key 'runs' is '1000000000', expected an integer in 1..10000"},
        {2, {"runs=2", "keep=3"}, "key 'keep' is 3, expected at most runs (2)"},
        {2, {"device=gpu"}, "key 'device'"},
        {2, {"device=cuda:x"}, "key 'device'"},
        {2, {"deflate=10"}, "key 'deflate' is '10'"},
        {2, {"support_min_fraction=0.6"}, "support_min_fraction"},
        {2, {"recipe=100*HIX"}, "key 'recipe'"},
        {2, {"metric=free_llk"}, "free_fraction"},
        {2, {"support=file"}, "support_file"},
        {1, {"peak_smoothing=1e308"}, "key 'peak_smoothing' is '1e308'"},
        {1, {"peak_smoothing=-1"}, "key 'peak_smoothing' is '-1'"},
        {1, {"hot_factor=-1"}, "key 'hot_factor' is '-1'"},
        {1, {"oversampling_threshold=-0.1"}, "key 'oversampling_threshold' is '-0.1'"},
        {1, {"hkl=0,0,0"}, "key 'hkl' is '0,0,0'"},
        {1, {"deflate=-1"}, "key 'deflate' is '-1'"},
        {1, {"box=0,64,64"}, "key 'box'"},
        {1, {"bin=0,1,1"}, "key 'bin'"},
        {1, {"row_sign=2"}, "key 'row_sign'"},
        {1, {"gaps=sideways"}, "key 'gaps' is 'sideways'"},
        {0, {"hkl=0,0,0"}, "key 'hkl' is '0,0,0'"},
        {0, {"deflate=10"}, "key 'deflate' is '10'"},
        {0, {"shape=64,64,1000000"}, "key 'shape'"},
        {3, {"g_direction=0,0,0"}, "key 'g_direction'"},
        {3, {"screw_angle_deg=70"}, "screw_angle_deg"},
        {4, {"hkl=0,0,0"}, "key 'hkl' is '0,0,0'"},
        {4, {"upsample=0"}, "key 'upsample' is '0'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        const bcdi_param_table *table = stage_table(cases[i].stage);
        void *params = malloc(table->params_size);
        size_t n = cases[i].assignment[1] ? 2 : 1;
        cr_expect_eq(bcdi_params_load(table, NULL, cases[i].assignment, n, NULL, NULL, params),
                     BCDI_ERR_CONFIG, "[%s] %s accepted", table->section, cases[i].assignment[0]);
        cr_expect(strstr(bcdi_last_error(), cases[i].needle) &&
                      strstr(bcdi_last_error(), "command line"),
                  "[%s] %s: '%s' not in: %s", table->section, cases[i].assignment[0],
                  cases[i].needle, bcdi_last_error());
        free(params);
    }
}
