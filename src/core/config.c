/* SPDX-License-Identifier: BSD-3-Clause */
/* Typed configuration store: defaults < INI file < key=value overrides. The binding of a
 * stage's key table to its parameter struct is in config_bind.c. */
#include "bcdi/config.h"
#include "core/ini.h"

#include "core/input_file.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Who set a value: a key of the stage's own section (or of no section) wins over the same key
 * of an "also" section wherever the two stand in the file. */
enum { RANK_DEFAULT = 0, RANK_ALSO, RANK_OWN };

struct bcdi_config {
    char section[32];
    const bcdi_param_spec *specs;
    size_t count;
    char **values; /* NULL = unset */
    char **origins;
    int *ranks;
    const char *const *skip_sections; /* NULL-terminated, the caller's */
    const char *const *also_sections;
    const char **value_view; /* compacted views for bcdi_config_keys/values */
    const char **key_view;
    size_t view_count;
    const char *loading_path; /* while loading an INI file */
};

void bcdi_ini_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t start = 0;
    while (s[start] && isspace((unsigned char)s[start]))
        ++start;
    if (start) memmove(s, s + start, n - start + 1);
}

static long find_key(const bcdi_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->count; ++i)
        if (strcmp(cfg->specs[i].key, key) == 0) return (long)i;
    return -1;
}

static bcdi_status check_value(const bcdi_param_spec *spec, const char *value, const char *origin)
{
    /* a bound key is converted and checked, range included, by bcdi_config_bind */
    if (spec->flags & BCDI_PARAM_BOUND) return BCDI_OK;
    char *end = NULL;
    errno = 0;
    switch (spec->type) {
    case BCDI_PARAM_INT: {
        (void)strtol(value, &end, 10);
        if (end == value || *end || errno)
            return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' expects an integer, found '%s'",
                              origin, spec->key, value);
        break;
    }
    case BCDI_PARAM_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end || errno || !isfinite(v))
            return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' expects a number, found '%s'", origin,
                              spec->key, value);
        break;
    }
    case BCDI_PARAM_BOOL: {
        static const char *const words[] = {"1", "0", "true", "false", "yes", "no", "on", "off"};
        int ok = 0;
        for (size_t i = 0; i < sizeof words / sizeof *words; ++i)
            if (strcasecmp(value, words[i]) == 0) ok = 1;
        if (!ok)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: key '%s' expects true/false (yes/no, on/off, 1/0), found '%s'",
                              origin, spec->key, value);
        break;
    }
    default:
        break;
    }
    return BCDI_OK;
}

bcdi_status bcdi_config_create(const char *section, const bcdi_param_spec *specs, size_t count,
                               bcdi_config **out)
{
    *out = NULL;
    bcdi_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return bcdi_error(BCDI_ERR_NOMEM, "config: out of memory");
    snprintf(cfg->section, sizeof cfg->section, "%s", section ? section : "");
    cfg->specs = specs;
    cfg->count = count;
    cfg->values = calloc(count + 1, sizeof *cfg->values);
    cfg->origins = calloc(count + 1, sizeof *cfg->origins);
    cfg->ranks = calloc(count + 1, sizeof *cfg->ranks);
    cfg->key_view = calloc(count + 1, sizeof *cfg->key_view);
    cfg->value_view = calloc(count + 1, sizeof *cfg->value_view);
    if (!cfg->values || !cfg->origins || !cfg->ranks || !cfg->key_view || !cfg->value_view) {
        bcdi_config_free(cfg);
        return bcdi_error(BCDI_ERR_NOMEM, "config: out of memory");
    }
    for (size_t i = 0; i < count; ++i) {
        if (specs[i].default_value) {
            cfg->values[i] = strdup(specs[i].default_value);
            cfg->origins[i] = strdup("default");
        }
    }
    *out = cfg;
    return BCDI_OK;
}

void bcdi_config_free(bcdi_config *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->count; ++i) {
        if (cfg->values) free(cfg->values[i]);
        if (cfg->origins) free(cfg->origins[i]);
    }
    free(cfg->values);
    free(cfg->origins);
    free(cfg->ranks);
    free(cfg->key_view);
    free(cfg->value_view);
    free(cfg);
}

void bcdi_config_skip_sections(bcdi_config *cfg, const char *const *sections)
{
    cfg->skip_sections = sections;
}

void bcdi_config_also_sections(bcdi_config *cfg, const char *const *sections)
{
    cfg->also_sections = sections;
}

static int in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; ++i)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

static bcdi_status set_ranked(bcdi_config *cfg, const char *key, const char *value,
                              const char *origin, int rank)
{
    long i = find_key(cfg, key);
    if (i < 0) {
        char known[2048] = "";
        size_t used = 0;
        for (size_t k = 0; k < cfg->count && used + 40 < sizeof known; ++k)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", k ? ", " : "",
                                     cfg->specs[k].key);
        return bcdi_error(BCDI_ERR_CONFIG, "%s: unknown key '%s' for '%s' (known keys: %s)", origin,
                          key, cfg->section, known);
    }
    bcdi_status st = check_value(&cfg->specs[i], value, origin);
    if (st != BCDI_OK) return st;
    if (rank < cfg->ranks[i]) return BCDI_OK; /* the stage's own section already set it */
    char *v = strdup(value), *o = strdup(origin);
    if (!v || !o) {
        free(v);
        free(o);
        return bcdi_error(BCDI_ERR_NOMEM, "config: out of memory");
    }
    free(cfg->values[i]);
    free(cfg->origins[i]);
    cfg->values[i] = v;
    cfg->origins[i] = o;
    cfg->ranks[i] = rank;
    return BCDI_OK;
}

bcdi_status bcdi_config_set(bcdi_config *cfg, const char *key, const char *value,
                            const char *origin)
{
    return set_ranked(cfg, key, value, origin, RANK_OWN);
}

/* Debian's libinih is built without line numbers in the handler: a reader that counts lines
 * gives them back (the handler runs right after the line that holds the key is read). */
typedef struct {
    FILE *file;
    int line;
    int too_long; /* the line that did not fit the reader's buffer */
    int limit;
} counting_reader;

/* inih reads into a fixed buffer (INI_MAX_LINE, 200 in Debian's build) and would take the rest
 * of a longer line as the next line: stop at such a line and say so instead. */
static char *read_counted_line(char *str, int num, void *stream)
{
    counting_reader *reader = stream;
    char *got = fgets(str, num, reader->file);
    if (!got) return NULL;
    ++reader->line;
    size_t len = strlen(got);
    if (len == (size_t)num - 1 && got[len - 1] != '\n' && !feof(reader->file)) {
        reader->too_long = reader->line;
        reader->limit = num - 1;
        return NULL;
    }
    return got;
}

/* One INI file walked with line numbers: fn gets each key with its section and line. */
typedef struct {
    bcdi_ini_fn fn;
    void *user;
    const int *line;
    bcdi_status status;
} ini_walk;

static int ini_walk_line(void *user, const char *section, const char *name, const char *value)
{
    ini_walk *w = user;
    bcdi_status st = w->fn(section, name, value, *w->line, w->user);
    if (st != BCDI_OK) {
        w->status = st;
        return 0;
    }
    return 1;
}

bcdi_status bcdi_ini_walk(const char *path, bcdi_ini_fn fn, void *user)
{
    /* a regular file of sane size: /dev/zero would never end, a FIFO would block, a folder
     * would read as empty */
    FILE *f;
    bcdi_status opened = bcdi_input_open(path, "config file", BCDI_CONFIG_MAX_BYTES, &f, NULL);
    if (opened != BCDI_OK) return opened;
    counting_reader reader = {f, 0, 0, 0};
    ini_walk walk = {fn, user, &reader.line, BCDI_OK};
    int line = ini_parse_stream(read_counted_line, &reader, ini_walk_line, &walk);
    fclose(f);
    if (walk.status != BCDI_OK) return walk.status;
    if (reader.too_long)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "config file '%s': line %d is longer than %d characters (the INI "
                          "reader's limit): shorten it, or give that value as key=value on the "
                          "command line",
                          path, reader.too_long, reader.limit);
    if (line != 0)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "config file '%s': syntax error at line %d (expected 'key = value' or "
                          "'[section]')",
                          path, line);
    return BCDI_OK;
}

static bcdi_status config_ini_line(const char *section, const char *name, const char *value,
                                   int line, void *user)
{
    bcdi_config *cfg = user;
    char origin[1200];
    snprintf(origin, sizeof origin, "%s:%d", cfg->loading_path, line);
    int rank = RANK_OWN;
    if (section[0] && strcmp(section, cfg->section) != 0) {
        if (in_list(cfg->also_sections, section)) {
            rank = RANK_ALSO;
        } else if (in_list(cfg->skip_sections, section)) {
            return BCDI_OK; /* another stage's section */
        } else {
            char expected[512];
            size_t used = (size_t)snprintf(expected, sizeof expected, "[%s]", cfg->section);
            const char *const *lists[2] = {cfg->also_sections, cfg->skip_sections};
            for (int l = 0; l < 2; ++l)
                for (size_t k = 0; lists[l] && lists[l][k] && used + 40 < sizeof expected; ++k)
                    if (strcmp(lists[l][k], cfg->section) != 0)
                        used += (size_t)snprintf(expected + used, sizeof expected - used, ", [%s]",
                                                 lists[l][k]);
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: unknown section [%s] (expected no section or one of %s)", origin,
                              section, expected);
        }
    }
    char trimmed[4096];
    snprintf(trimmed, sizeof trimmed, "%s", value);
    bcdi_ini_trim(trimmed);
    return set_ranked(cfg, name, trimmed, origin, rank);
}

bcdi_status bcdi_config_load_ini(bcdi_config *cfg, const char *path)
{
    cfg->loading_path = path;
    bcdi_status st = bcdi_ini_walk(path, config_ini_line, cfg);
    cfg->loading_path = NULL;
    return st;
}

bcdi_status bcdi_config_override(bcdi_config *cfg, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return bcdi_error(BCDI_ERR_CONFIG, "command line: expected key=value, found '%s'",
                          assignment);
    char key[256];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key)
        return bcdi_error(BCDI_ERR_CONFIG, "command line: key too long in '%s'", assignment);
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    bcdi_ini_trim(key);
    char value[4096];
    /* refuse rather than cut: a cut value can still be valid (a recipe cut after a term) */
    if (strlen(eq + 1) >= sizeof value)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "command line: value of '%s' too long (%zu characters, at most %zu)", key,
                          strlen(eq + 1), sizeof value - 1);
    snprintf(value, sizeof value, "%s", eq + 1);
    bcdi_ini_trim(value);
    return bcdi_config_set(cfg, key, value, "command line");
}

int bcdi_config_is_set(const bcdi_config *cfg, const char *key)
{
    long i = find_key(cfg, key);
    return i >= 0 && cfg->values[i] != NULL;
}

const char *bcdi_config_string(const bcdi_config *cfg, const char *key)
{
    long i = find_key(cfg, key);
    return i >= 0 ? cfg->values[i] : NULL;
}

const char *bcdi_config_origin(const bcdi_config *cfg, const char *key)
{
    long i = find_key(cfg, key);
    return (i >= 0 && cfg->origins[i]) ? cfg->origins[i] : "unset";
}

static bcdi_status lookup(const bcdi_config *cfg, const char *key, const char **value)
{
    long i = find_key(cfg, key);
    if (i < 0) return bcdi_error(BCDI_ERR_INTERNAL, "config: key '%s' was never declared", key);
    if (!cfg->values[i])
        return bcdi_error(BCDI_ERR_CONFIG, "key '%s' is required but was not given", key);
    *value = cfg->values[i];
    return BCDI_OK;
}

bcdi_status bcdi_config_int(const bcdi_config *cfg, const char *key, long *out)
{
    const char *v = NULL;
    bcdi_status st = lookup(cfg, key, &v);
    if (st) return st;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno)
        return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' expects an integer, found '%s'",
                          bcdi_config_origin(cfg, key), key, v);
    *out = x;
    return BCDI_OK;
}

bcdi_status bcdi_config_double(const bcdi_config *cfg, const char *key, double *out)
{
    const char *v = NULL;
    bcdi_status st = lookup(cfg, key, &v);
    if (st) return st;
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x))
        return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' expects a number, found '%s'",
                          bcdi_config_origin(cfg, key), key, v);
    *out = x;
    return BCDI_OK;
}

bcdi_status bcdi_config_bool(const bcdi_config *cfg, const char *key, int *out)
{
    const char *v = NULL;
    bcdi_status st = lookup(cfg, key, &v);
    if (st) return st;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on")) {
        *out = 1;
        return BCDI_OK;
    }
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off")) {
        *out = 0;
        return BCDI_OK;
    }
    return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' expects true/false, found '%s'",
                      bcdi_config_origin(cfg, key), key, v);
}

bcdi_status bcdi_config_doubles(const bcdi_config *cfg, const char *key, double *out,
                                size_t min_count, size_t max_count, size_t *count)
{
    const char *v = NULL;
    bcdi_status st = lookup(cfg, key, &v);
    if (st) return st;
    size_t n = 0;
    const char *p = v;
    while (*p) {
        char *end = NULL;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno || !isfinite(x))
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: key '%s' expects comma-separated numbers, found '%s'",
                              bcdi_config_origin(cfg, key), key, v);
        if (n >= max_count)
            return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' takes at most %zu values, found '%s'",
                              bcdi_config_origin(cfg, key), key, max_count, v);
        out[n++] = x;
        while (isspace((unsigned char)*end))
            ++end;
        if (*end == ',') {
            ++end;
            if (!*end)
                return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s': trailing comma in '%s'",
                                  bcdi_config_origin(cfg, key), key, v);
        } else if (*end) {
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: key '%s' expects comma-separated numbers, found '%s'",
                              bcdi_config_origin(cfg, key), key, v);
        }
        p = end;
    }
    if (n < min_count)
        return bcdi_error(BCDI_ERR_CONFIG, "%s: key '%s' needs at least %zu values, found '%s'",
                          bcdi_config_origin(cfg, key), key, min_count, v);
    if (count) *count = n;
    return BCDI_OK;
}

bcdi_status bcdi_config_int_if_set(const bcdi_config *cfg, const char *key, long *out)
{
    return bcdi_config_is_set(cfg, key) ? bcdi_config_int(cfg, key, out) : BCDI_OK;
}

bcdi_status bcdi_config_double_if_set(const bcdi_config *cfg, const char *key, double *out)
{
    return bcdi_config_is_set(cfg, key) ? bcdi_config_double(cfg, key, out) : BCDI_OK;
}

bcdi_status bcdi_config_bool_if_set(const bcdi_config *cfg, const char *key, int *out)
{
    return bcdi_config_is_set(cfg, key) ? bcdi_config_bool(cfg, key, out) : BCDI_OK;
}

static void refresh_views(const bcdi_config *cfg_const)
{
    bcdi_config *cfg = (bcdi_config *)cfg_const; /* views are a cache */
    size_t n = 0;
    for (size_t i = 0; i < cfg->count; ++i) {
        if (!cfg->values[i]) continue;
        cfg->key_view[n] = cfg->specs[i].key;
        cfg->value_view[n] = cfg->values[i];
        ++n;
    }
    cfg->view_count = n;
}

size_t bcdi_config_count(const bcdi_config *cfg)
{
    refresh_views(cfg);
    return cfg->view_count;
}
const char *const *bcdi_config_keys(const bcdi_config *cfg)
{
    refresh_views(cfg);
    return cfg->key_view;
}
const char *const *bcdi_config_values(const bcdi_config *cfg)
{
    refresh_views(cfg);
    return cfg->value_view;
}
const bcdi_param_spec *bcdi_config_specs(const bcdi_config *cfg, size_t *count)
{
    if (count) *count = cfg->count;
    return cfg->specs;
}
