/* SPDX-License-Identifier: BSD-3-Clause */
/* The one loader: a stage's key table bound to its plain parameter struct (bcdi/config.h).
 * Each bound key is converted from its text, checked against its type and range or choices,
 * and stored at its field; errors name where the value came from, the key, the value found and
 * what was expected. The same table gives the defaults, the checks of a struct filled by hand,
 * and the text of --help (bcdi_param_describe). */
#include "bcdi/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Values of a list are parsed into this many numbers at most (the longest array bound). */
#define MAX_NUMBERS 16

static void *field_at(void *params, size_t offset)
{
    return (char *)params + offset;
}

static size_t store_size(bcdi_param_store store)
{
    switch (store) {
    case BCDI_STORE_INT:
        return sizeof(int);
    case BCDI_STORE_LONG:
        return sizeof(long);
    case BCDI_STORE_ULONG:
        return sizeof(unsigned long);
    case BCDI_STORE_DOUBLE:
        return sizeof(double);
    }
    return 0;
}

static void store_value(void *params, const bcdi_param_spec *spec, size_t index, double value)
{
    char *at = (char *)params + spec->offset + index * store_size(spec->store);
    switch (spec->store) {
    case BCDI_STORE_INT: {
        int v = (int)value;
        memcpy(at, &v, sizeof v);
        break;
    }
    case BCDI_STORE_LONG: {
        long v = (long)value;
        memcpy(at, &v, sizeof v);
        break;
    }
    case BCDI_STORE_ULONG: {
        unsigned long v = (unsigned long)value;
        memcpy(at, &v, sizeof v);
        break;
    }
    case BCDI_STORE_DOUBLE:
        memcpy(at, &value, sizeof value);
        break;
    }
}

/* Integers beyond 2^53 lose nothing here: ranges of integer keys stay far below (seeds up to
 * 2^53 are exact, larger ones are refused by their range). */
static double load_value(const void *params, const bcdi_param_spec *spec, size_t index)
{
    const char *at = (const char *)params + spec->offset + index * store_size(spec->store);
    switch (spec->store) {
    case BCDI_STORE_INT: {
        int v;
        memcpy(&v, at, sizeof v);
        return v;
    }
    case BCDI_STORE_LONG: {
        long v;
        memcpy(&v, at, sizeof v);
        return (double)v;
    }
    case BCDI_STORE_ULONG: {
        unsigned long v;
        memcpy(&v, at, sizeof v);
        return (double)v;
    }
    case BCDI_STORE_DOUBLE: {
        double v;
        memcpy(&v, at, sizeof v);
        return v;
    }
    }
    return NAN;
}

static void set_flag(void *params, size_t offset, int value)
{
    if (offset) memcpy(field_at(params, offset), &value, sizeof value);
}

static int get_flag(const void *params, size_t offset)
{
    int value = 0;
    if (offset) memcpy(&value, (const char *)params + offset, sizeof value);
    return value;
}

/* "1e+308" and "10000" rather than "1e+04" */
static void format_number(char *buf, size_t cap, double v)
{
    if (v == floor(v) && fabs(v) < 1e17)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.15g", v);
}

static const char *range_text(const bcdi_param_spec *spec, char *buf, size_t cap)
{
    char lo[40], hi[40];
    format_number(lo, sizeof lo, spec->min);
    format_number(hi, sizeof hi, spec->max);
    int integer = spec->type == BCDI_PARAM_INT || (spec->flags & BCDI_PARAM_INTEGER);
    if (integer && !(spec->flags & (BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN)))
        snprintf(buf, cap, "%s..%s", lo, hi);
    else
        snprintf(buf, cap, "%s%s, %s%s", spec->flags & BCDI_PARAM_MIN_OPEN ? "(" : "[", lo, hi,
                 spec->flags & BCDI_PARAM_MAX_OPEN ? ")" : "]");
    return buf;
}

static void append(char *buf, size_t cap, size_t *used, const char *text)
{
    if (*used >= cap) return;
    int n = snprintf(buf + *used, cap - *used, "%s", text);
    if (n > 0) *used += (size_t)n < cap - *used ? (size_t)n : cap - *used - 1;
}

const char *bcdi_param_describe(const bcdi_param_spec *spec, char *buf, size_t cap)
{
    char range[100], part[160];
    size_t used = 0;
    buf[0] = '\0';
    int ranged = (spec->flags & BCDI_PARAM_HAS_MIN) && (spec->flags & BCDI_PARAM_HAS_MAX);
    switch (spec->type) {
    case BCDI_PARAM_STRING:
        if (spec->choices) {
            append(buf, cap, &used, "one of ");
            for (size_t i = 0; spec->choices[i]; ++i) {
                if (i) append(buf, cap, &used, ", ");
                append(buf, cap, &used, spec->choices[i]);
            }
            break;
        }
        if (spec->flags & BCDI_PARAM_BOUND && spec->size)
            snprintf(part, sizeof part, "text of at most %zu characters", spec->size - 1);
        else
            snprintf(part, sizeof part, "text");
        append(buf, cap, &used, part);
        break;
    case BCDI_PARAM_INT:
        if (spec->flags & BCDI_PARAM_BYTES) {
            append(buf, cap, &used, "a byte count (suffix K, M, G or T: powers of 1024)");
            break;
        }
        snprintf(part, sizeof part, "an integer%s%s", ranged ? " in " : "",
                 ranged ? range_text(spec, range, sizeof range) : "");
        append(buf, cap, &used, part);
        break;
    case BCDI_PARAM_DOUBLE:
        snprintf(part, sizeof part, "a number%s%s", ranged ? " in " : "",
                 ranged ? range_text(spec, range, sizeof range) : "");
        append(buf, cap, &used, part);
        break;
    case BCDI_PARAM_BOOL:
        append(buf, cap, &used, "true or false");
        break;
    case BCDI_PARAM_LIST:
        append(buf, cap, &used, "a list (see the help)");
        break;
    case BCDI_PARAM_CHOICE:
        append(buf, cap, &used, "one of ");
        for (size_t i = 0; spec->choices && spec->choices[i]; ++i) {
            if (i) append(buf, cap, &used, ", ");
            append(buf, cap, &used, spec->choices[i]);
        }
        break;
    case BCDI_PARAM_NUMBERS: {
        const char *what = spec->flags & BCDI_PARAM_INTEGER ? "integer" : "number";
        if (spec->count_min == spec->size)
            snprintf(part, sizeof part, "%zu %ss", spec->size, what);
        else
            snprintf(part, sizeof part, "%zu to %zu %ss", spec->count_min, spec->size, what);
        append(buf, cap, &used, part);
        if (ranged) {
            snprintf(part, sizeof part, ", each in %s", range_text(spec, range, sizeof range));
            append(buf, cap, &used, part);
        }
        if (spec->flags & BCDI_PARAM_NONZERO) append(buf, cap, &used, ", not all zero");
        break;
    }
    }
    if (spec->word) {
        snprintf(part, sizeof part, ", or %s", spec->word);
        append(buf, cap, &used, part);
    }
    return buf;
}

static bcdi_status expected_error_as(bcdi_status status, const bcdi_param_spec *spec,
                                     const char *origin, const char *found)
{
    char expected[512];
    bcdi_param_describe(spec, expected, sizeof expected);
    return bcdi_error(status, "%s: key '%s' is '%s', expected %s", origin, spec->key, found,
                      expected);
}

static bcdi_status expected_error(const bcdi_param_spec *spec, const char *origin,
                                  const char *found)
{
    return expected_error_as(BCDI_ERR_CONFIG, spec, origin, found);
}

static int in_range(const bcdi_param_spec *spec, double v)
{
    if (!isfinite(v)) return 0;
    if (spec->flags & BCDI_PARAM_HAS_MIN) {
        if (spec->flags & BCDI_PARAM_MIN_OPEN ? !(v > spec->min) : !(v >= spec->min)) return 0;
    }
    if (spec->flags & BCDI_PARAM_HAS_MAX) {
        if (spec->flags & BCDI_PARAM_MAX_OPEN ? !(v < spec->max) : !(v <= spec->max)) return 0;
    }
    return 1;
}

/* A byte count: a number and an optional K, M, G or T (powers of 1024), then "B" or "iB"; the
 * bytes must come out whole. */
static int parse_bytes(const char *begin, const char **end, double *out)
{
    char *stop = NULL;
    errno = 0;
    double v = strtod(begin, &stop);
    if (stop == begin || errno || !isfinite(v) || v < 0.0) return 0;
    static const char units[] = "KMGT";
    const char *unit = *stop ? strchr(units, toupper((unsigned char)*stop)) : NULL;
    if (unit) {
        v = ldexp(v, 10 * (int)(unit - units + 1));
        ++stop;
        if (*stop == 'i' && (stop[1] == 'B' || stop[1] == 'b'))
            stop += 2;
        else if (*stop == 'B' || *stop == 'b')
            ++stop;
    } else if (*stop == 'B' || *stop == 'b') {
        ++stop;
    }
    if (v != floor(v)) return 0;
    *out = v;
    *end = stop;
    return 1;
}

/* One number of an INT, DOUBLE or NUMBERS value: [begin, end) must hold exactly a number. */
static int parse_number(const char *begin, const char **end, int integer, double *out)
{
    char *stop = NULL;
    errno = 0;
    if (integer) {
        long long v = strtoll(begin, &stop, 10);
        if (stop == begin || errno) return 0;
        *out = (double)v;
    } else {
        double v = strtod(begin, &stop);
        if (stop == begin || errno || !isfinite(v)) return 0;
        *out = v;
    }
    *end = stop;
    return 1;
}

static int is_word(const bcdi_param_spec *spec, const char *value)
{
    return spec->word && (strcasecmp(value, spec->word) == 0 ||
                          /* the one spelling the tables accept both ways */
                          (!strcasecmp(spec->word, "center") && !strcasecmp(value, "centre")));
}

static bcdi_status apply_numbers(const bcdi_param_spec *spec, const char *value, void *params,
                                 const char *origin)
{
    double v[MAX_NUMBERS];
    size_t n = 0;
    int integer = spec->type == BCDI_PARAM_INT || (spec->flags & BCDI_PARAM_INTEGER);
    size_t most = spec->type == BCDI_PARAM_NUMBERS ? spec->size : 1;
    if (most > MAX_NUMBERS)
        return bcdi_error(BCDI_ERR_INTERNAL, "key '%s': table allows %zu values", spec->key, most);
    size_t fewest = spec->type == BCDI_PARAM_NUMBERS ? spec->count_min : 1;
    const char *p = value;
    while (isspace((unsigned char)*p))
        ++p;
    if (*p == '\0' && fewest == 0) { /* an empty list where none is allowed */
        if (spec->flags & BCDI_PARAM_COUNTED)
            memcpy(field_at(params, spec->count_offset), &n, sizeof n);
        return BCDI_OK;
    }
    while (1) {
        while (isspace((unsigned char)*p))
            ++p;
        const char *end = NULL;
        if (n >= most) return expected_error(spec, origin, value);
        int parsed = spec->flags & BCDI_PARAM_BYTES ? parse_bytes(p, &end, &v[n])
                                                    : parse_number(p, &end, integer, &v[n]);
        if (!parsed) return expected_error(spec, origin, value);
        ++n;
        p = end;
        while (isspace((unsigned char)*p))
            ++p;
        if (*p == '\0') break;
        if (*p != ',') return expected_error(spec, origin, value);
        ++p;
    }
    if (n < fewest && !(n == 1 && (spec->flags & BCDI_PARAM_REPEAT)))
        return expected_error(spec, origin, value);
    int nonzero = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!in_range(spec, v[i])) return expected_error(spec, origin, value);
        nonzero |= v[i] != 0.0;
    }
    if ((spec->flags & BCDI_PARAM_NONZERO) && !nonzero) return expected_error(spec, origin, value);
    size_t fill = (n == 1 && (spec->flags & BCDI_PARAM_REPEAT)) ? most : n;
    for (size_t i = 0; i < fill; ++i)
        store_value(params, spec, i, v[i < n ? i : 0]);
    if (spec->flags & BCDI_PARAM_COUNTED)
        memcpy(field_at(params, spec->count_offset), &fill, sizeof fill);
    return BCDI_OK;
}

static bcdi_status apply(const bcdi_param_spec *spec, const char *value, void *params,
                         const char *origin)
{
    bcdi_status st = BCDI_OK;
    if ((spec->type == BCDI_PARAM_DOUBLE || spec->type == BCDI_PARAM_NUMBERS ||
         spec->type == BCDI_PARAM_INT) &&
        spec->word) {
        int word = is_word(spec, value);
        if (spec->word_offset) set_flag(params, spec->word_offset, word);
        if (word) {
            size_t count = spec->type == BCDI_PARAM_NUMBERS ? spec->size : 1;
            if (!spec->word_offset)
                for (size_t i = 0; i < count; ++i)
                    store_value(params, spec, i, spec->word_value);
            return BCDI_OK;
        }
    }
    switch (spec->type) {
    case BCDI_PARAM_STRING: {
        if (spec->choices) { /* a word kept as text: stored as the table spells it */
            long index = -1;
            for (size_t i = 0; spec->choices[i] && index < 0; ++i)
                if (!strcasecmp(value, spec->choices[i])) index = (long)i;
            if (index < 0) return expected_error(spec, origin, value);
            value = spec->choices[index];
        }
        size_t len = strlen(value);
        if (len >= spec->size)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: key '%s' is %zu characters long, expected at most %zu", origin,
                              spec->key, len, spec->size - 1);
        memcpy(field_at(params, spec->offset), value, len + 1);
        break;
    }
    case BCDI_PARAM_INT:
    case BCDI_PARAM_DOUBLE:
    case BCDI_PARAM_NUMBERS:
        st = apply_numbers(spec, value, params, origin);
        break;
    case BCDI_PARAM_BOOL: {
        static const char *const yes[] = {"1", "true", "yes", "on"};
        static const char *const no[] = {"0", "false", "no", "off"};
        int found = -1;
        for (int i = 0; i < 4; ++i) {
            if (!strcasecmp(value, yes[i])) found = 1;
            if (!strcasecmp(value, no[i])) found = 0;
        }
        if (found < 0) return expected_error(spec, origin, value);
        store_value(params, spec, 0, found);
        break;
    }
    case BCDI_PARAM_CHOICE: {
        long index = -1;
        for (size_t i = 0; spec->choices && spec->choices[i] && index < 0; ++i)
            if (!strcasecmp(value, spec->choices[i])) index = (long)i;
        if (index < 0) return expected_error(spec, origin, value);
        store_value(params, spec, 0,
                    spec->choice_values ? spec->choice_values[index] : (double)index);
        break;
    }
    case BCDI_PARAM_LIST:
        break;
    }
    if (st == BCDI_OK && spec->parse) {
        st = spec->parse(value, params);
        if (st != BCDI_OK)
            st = bcdi_error_prefix(BCDI_ERR_CONFIG, "%s: key '%s': ", origin, spec->key);
    }
    return st;
}

static bcdi_status check_table(const bcdi_param_table *table)
{
    for (size_t i = 0; i < table->count; ++i) {
        const bcdi_param_spec *s = &table->specs[i];
        if (!(s->flags & BCDI_PARAM_BOUND)) continue;
        int numeric = s->type == BCDI_PARAM_INT || s->type == BCDI_PARAM_DOUBLE ||
                      s->type == BCDI_PARAM_NUMBERS;
        int sized = s->type == BCDI_PARAM_INT || s->type == BCDI_PARAM_DOUBLE ||
                    s->type == BCDI_PARAM_BOOL || s->type == BCDI_PARAM_CHOICE;
        if ((sized && s->size != store_size(s->store)) ||
            (s->type == BCDI_PARAM_STRING && s->size == 0) ||
            (s->type == BCDI_PARAM_CHOICE && !s->choices) ||
            (s->type == BCDI_PARAM_LIST && !s->parse) ||
            (numeric && !((s->flags & BCDI_PARAM_HAS_MIN) && (s->flags & BCDI_PARAM_HAS_MAX))))
            return bcdi_error(BCDI_ERR_INTERNAL,
                              "[%s] key '%s': the table entry does not match its field (type, "
                              "size, range or choices)",
                              table->section, s->key);
    }
    return BCDI_OK;
}

bcdi_status bcdi_params_defaults(const bcdi_param_table *table, void *params)
{
    bcdi_status st = check_table(table);
    if (st != BCDI_OK) return st;
    memset(params, 0, table->params_size);
    for (size_t i = 0; i < table->count; ++i) {
        const bcdi_param_spec *s = &table->specs[i];
        if (!(s->flags & BCDI_PARAM_BOUND)) continue;
        if (s->flags & BCDI_PARAM_UNSET_NAN)
            for (size_t k = 0; k < (s->type == BCDI_PARAM_NUMBERS ? s->size : 1); ++k)
                store_value(params, s, k, NAN);
        if (!s->default_value) continue;
        st = apply(s, s->default_value, params, "default");
        if (st != BCDI_OK)
            return bcdi_error(BCDI_ERR_INTERNAL, "[%s] table: the default is refused: %s",
                              table->section, bcdi_last_error());
    }
    return BCDI_OK;
}

bcdi_status bcdi_config_bind(const bcdi_config *cfg, const bcdi_param_table *table, void *params)
{
    bcdi_status st = bcdi_params_defaults(table, params);
    for (size_t i = 0; st == BCDI_OK && i < table->count; ++i) {
        const bcdi_param_spec *s = &table->specs[i];
        if (!(s->flags & BCDI_PARAM_BOUND)) continue;
        const char *value = bcdi_config_string(cfg, s->key);
        const char *origin = bcdi_config_origin(cfg, s->key);
        if (s->given_offset)
            set_flag(params, s->given_offset,
                     value && strcmp(origin, "default") != 0 && strcmp(origin, "unset") != 0);
        if (value) st = apply(s, value, params, origin);
    }
    if (st == BCDI_OK && table->check) {
        st = table->check(params, cfg);
        /* the cross-key rules are shared with library callers (BCDI_ERR_INVALID_ARG there); here
         * they judge a configuration */
        if (st == BCDI_ERR_INVALID_ARG) st = bcdi_error_prefix(BCDI_ERR_CONFIG, "%s", "");
    }
    return st;
}

bcdi_status bcdi_params_check(const bcdi_param_table *table, const void *params,
                              const bcdi_config *cfg)
{
    bcdi_status st = check_table(table);
    if (st != BCDI_OK) return st;
    for (size_t i = 0; i < table->count; ++i) {
        const bcdi_param_spec *s = &table->specs[i];
        if (!(s->flags & BCDI_PARAM_BOUND)) continue;
        const char *origin = cfg ? bcdi_config_origin(cfg, s->key) : "parameters";
        /* a struct filled by hand holds arguments, a bound one a configuration */
        bcdi_status bad = cfg ? BCDI_ERR_CONFIG : BCDI_ERR_INVALID_ARG;
        if (s->type == BCDI_PARAM_STRING) {
            const char *text = (const char *)params + s->offset;
            if (!memchr(text, '\0', s->size))
                return bcdi_error(bad, "%s: key '%s' is not terminated within %zu characters",
                                  origin, s->key, s->size);
            int ok = !s->choices || (!text[0] && !s->default_value);
            for (size_t k = 0; s->choices && s->choices[k]; ++k)
                ok |= !strcmp(text, s->choices[k]);
            if (!ok) return expected_error_as(bad, s, origin, text);
            continue;
        }
        if (s->type == BCDI_PARAM_CHOICE) {
            double v = load_value(params, s, 0);
            int ok = 0;
            for (size_t k = 0; s->choices[k]; ++k)
                ok |= v == (s->choice_values ? s->choice_values[k] : (double)k);
            if (!ok) {
                char found[40];
                format_number(found, sizeof found, v);
                return expected_error_as(bad, s, origin, found);
            }
            continue;
        }
        if (s->type == BCDI_PARAM_BOOL || s->type == BCDI_PARAM_LIST) continue;
        if (s->word_offset && get_flag(params, s->word_offset)) continue;
        size_t count = s->type == BCDI_PARAM_NUMBERS ? s->size : 1;
        if (s->flags & BCDI_PARAM_COUNTED)
            memcpy(&count, (const char *)params + s->count_offset, sizeof count);
        if (count > (s->type == BCDI_PARAM_NUMBERS ? s->size : 1))
            return bcdi_error(bad, "%s: key '%s' holds %zu values, at most %zu", origin, s->key,
                              count, s->size);
        /* a word stored as its value in every element (two_theta_deg=bragg as 0) */
        int word = s->word != NULL && !s->word_offset && count > 0;
        for (size_t k = 0; word && k < count; ++k) {
            double v = load_value(params, s, k);
            word = v == s->word_value || (isnan(v) && isnan(s->word_value));
        }
        if (word) continue;
        int nonzero = 0;
        char found[MAX_NUMBERS * 24] = "";
        size_t used = 0;
        for (size_t k = 0; k < count; ++k) {
            double v = load_value(params, s, k);
            nonzero |= v != 0.0;
            char one[40];
            format_number(one, sizeof one, v);
            append(found, sizeof found, &used, k ? "," : "");
            append(found, sizeof found, &used, one);
            if (!in_range(s, v) && !((s->flags & BCDI_PARAM_UNSET_NAN) && isnan(v)))
                return expected_error_as(bad, s, origin, one);
        }
        if ((s->flags & BCDI_PARAM_NONZERO) && !nonzero)
            return expected_error_as(bad, s, origin, found);
    }
    return table->check ? table->check(params, cfg) : BCDI_OK;
}

bcdi_status bcdi_params_load(const bcdi_param_table *table, const char *ini_path,
                             const char *const *assignments, size_t assignment_count,
                             const char *const *skip_sections, bcdi_config **cfg_out, void *params)
{
    if (cfg_out) *cfg_out = NULL;
    bcdi_config *cfg = NULL;
    bcdi_status st = bcdi_config_create(table->section, table->specs, table->count, &cfg);
    if (st == BCDI_OK) bcdi_config_skip_sections(cfg, skip_sections);
    if (st == BCDI_OK && ini_path) st = bcdi_config_load_ini(cfg, ini_path);
    for (size_t i = 0; st == BCDI_OK && i < assignment_count; ++i)
        st = bcdi_config_override(cfg, assignments[i]);
    if (st == BCDI_OK) st = bcdi_config_bind(cfg, table, params);
    if (st == BCDI_OK && cfg_out)
        *cfg_out = cfg;
    else
        bcdi_config_free(cfg);
    return st;
}
