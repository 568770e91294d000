/* SPDX-License-Identifier: BSD-3-Clause */
/* Batch manifests (batch.h): sections, scans, overrides, and each stage's configuration built
 * from them with the stage's own key table. */
#include "hpc/batch.h"

#include "core/hash.h"
#include "core/ini.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[BCDI_BATCH_STAGES] = {"prepare", "phase", "analyze",
                                                           "compare"};

const char *bcdi_batch_stage_name(bcdi_batch_stage stage)
{
    return (unsigned)stage < BCDI_BATCH_STAGES ? stage_names[stage] : "?";
}

static int stage_from_name(const char *name, size_t len)
{
    for (int k = 0; k < BCDI_BATCH_STAGES; ++k)
        if (strlen(stage_names[k]) == len && !strncmp(stage_names[k], name, len)) return k;
    return -1;
}

/* Keys naming files read by a step: relative values in the manifest are relative to it. Empty
 * and `none` (prepare: take nothing, not even what a dataset folder holds) name no file. */
static int names_a_file(bcdi_batch_stage stage, const char *key, const char *value)
{
    if (!value[0] || !strcmp(value, "none")) return 0;
    if (stage == BCDI_BATCH_PREPARE)
        return !strcmp(key, "mask_file") || !strcmp(key, "dark_file") ||
               !strcmp(key, "flat_file") || !strcmp(key, "spec");
    return stage == BCDI_BATCH_PHASE && !strcmp(key, "support_file");
}

/* ---- the [batch] keys ---- */

#define BP bcdi_batch_params
static const bcdi_param_spec batch_specs[] = {
    BCDI_KEY_INT("ranks_per_scan", BP, ranks_per_scan, "1", 0, 1 << 20,
                 "under MPI: ranks that share one scan's phasing runs (0 = all ranks work on one "
                 "scan at a time); the ranks form groups of this size and each free group takes "
                 "the next scan"),
    BCDI_KEY_STRING("scan", BP, scan, "",
                    "one scan alone (a job array's task): its label or 1-based position; "
                    "recorded in OUTDIR/status.LABEL.json, no compare"),
};
#undef BP
static const bcdi_param_table batch_table = {"batch", batch_specs,
                                             sizeof batch_specs / sizeof *batch_specs,
                                             sizeof(bcdi_batch_params), NULL};

const bcdi_param_table *bcdi_batch_param_table(void)
{
    return &batch_table;
}

/* ---- reading ---- */

typedef struct {
    bcdi_batch_manifest *m;
    char section[256]; /* of the previous key: a new [scan] section starts where it changes */
} reader;

static char *text_copy(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* value as given, or folder/value for a relative path */
static char *resolved(const char *folder, const char *value)
{
    if (value[0] == '/' || !strcmp(folder, ".")) return text_copy(value);
    size_t n = strlen(folder) + strlen(value) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s/%s", folder, value);
    return out;
}

static bcdi_status push_setting(bcdi_batch_setting **list, size_t *count, bcdi_batch_stage stage,
                                const char *key, const char *value, const char *origin)
{
    bcdi_batch_setting *grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (!grown) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory reading the manifest");
    *list = grown;
    bcdi_batch_setting *s = &grown[*count];
    s->stage = stage;
    s->key = text_copy(key);
    s->value = text_copy(value);
    s->origin = text_copy(origin);
    if (!s->key || !s->value || !s->origin) {
        free(s->key), free(s->value), free(s->origin);
        return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory reading the manifest");
    }
    ++*count;
    return BCDI_OK;
}

static bcdi_status check_label(const char *label, const char *where)
{
    size_t n = strlen(label);
    if (n == 0) return bcdi_error(BCDI_ERR_CONFIG, "%s: [scan] needs a label: [scan LABEL]", where);
    if (n >= 64)
        return bcdi_error(BCDI_ERR_CONFIG, "%s: scan label '%s' is longer than 63 characters",
                          where, label);
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = (unsigned char)label[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-' && c != '+')
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: scan label '%s' has '%c': a label names the scan's folder, so "
                              "it holds letters, digits, '.', '_', '-' and '+' only",
                              where, label, c);
    }
    if (label[0] == '.' || !strcmp(label, "comparison"))
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s: scan label '%s' is not allowed (it may not start with '.' or be "
                          "'comparison', the folder of compare's report)",
                          where, label);
    return BCDI_OK;
}

static bcdi_status scan_key(reader *r, bcdi_batch_scan *scan, const char *key, const char *value,
                            const char *origin)
{
    bcdi_batch_manifest *m = r->m;
    if (!strcmp(key, "input")) {
        if (scan->input)
            return bcdi_error(BCDI_ERR_CONFIG, "%s: key 'input' given twice for scan '%s'", origin,
                              scan->label);
        if (!value[0]) return bcdi_error(BCDI_ERR_CONFIG, "%s: key 'input' is empty", origin);
        scan->input = resolved(m->folder, value);
        return scan->input ? BCDI_OK : bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
    }
    if (!strcmp(key, "voltage")) {
        char *end = NULL;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || errno || !isfinite(v))
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s: key 'voltage' expects a number (volts), found "
                              "'%s'",
                              origin, value);
        scan->voltage = v;
        return BCDI_OK;
    }
    const char *dot = strchr(key, '.');
    int stage = dot ? stage_from_name(key, (size_t)(dot - key)) : -1;
    if (stage == BCDI_BATCH_COMPARE)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s: key '%s': compare runs once across the scans; put its keys in "
                          "[compare]",
                          origin, key);
    if (stage < 0 || !dot[1])
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s: unknown key '%s' for a scan (expected input, voltage, or "
                          "prepare.KEY, phase.KEY, analyze.KEY)",
                          origin, key);
    char *path = names_a_file((bcdi_batch_stage)stage, dot + 1, value) ? resolved(m->folder, value)
                                                                       : text_copy(value);
    if (!path) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
    bcdi_status st = push_setting(&scan->overrides, &scan->override_count, (bcdi_batch_stage)stage,
                                  dot + 1, path, origin);
    free(path);
    return st;
}

static bcdi_status manifest_line(const char *section, const char *key, const char *raw_value,
                                 int line, void *user)
{
    reader *r = user;
    bcdi_batch_manifest *m = r->m;
    char origin[4400], value[4096];
    snprintf(value, sizeof value, "%s", raw_value);
    bcdi_ini_trim(value);
    snprintf(origin, sizeof origin, "%s:%d [%s]", m->path, line, section);
    if (!section[0])
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s:%d: key '%s' outside any section (a manifest has [prepare], "
                          "[phase], [analyze], [compare], [batch] and [scan LABEL] sections)",
                          m->path, line, key);
    int new_section = strcmp(section, r->section) != 0;
    snprintf(r->section, sizeof r->section, "%s", section);
    int stage = stage_from_name(section, strlen(section));
    if (stage >= 0) {
        char *path = names_a_file((bcdi_batch_stage)stage, key, value) ? resolved(m->folder, value)
                                                                       : text_copy(value);
        if (!path) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
        bcdi_status st = push_setting(&m->settings, &m->setting_count, (bcdi_batch_stage)stage, key,
                                      path, origin);
        free(path);
        return st;
    }
    if (!strcmp(section, "batch"))
        return push_setting(&m->batch_settings, &m->batch_setting_count, BCDI_BATCH_STAGES, key,
                            value, origin);
    if (!strncmp(section, "scan", 4) &&
        (section[4] == '\0' || isspace((unsigned char)section[4]))) {
        char label[256];
        snprintf(label, sizeof label, "%s", section + 4);
        bcdi_ini_trim(label);
        char where[4400];
        snprintf(where, sizeof where, "%s:%d", m->path, line);
        bcdi_status st = check_label(label, where);
        if (st != BCDI_OK) return st;
        size_t k = 0;
        while (k < m->scan_count && strcmp(m->scans[k].label, label) != 0)
            ++k;
        if (k < m->scan_count && new_section)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "%s:%d: scan label '%s' used twice (first at line %d): labels name "
                              "the scans' folders",
                              m->path, line, label, m->scans[k].line);
        if (k == m->scan_count) {
            bcdi_batch_scan *grown = realloc(m->scans, (m->scan_count + 1) * sizeof *grown);
            if (!grown) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
            m->scans = grown;
            memset(&grown[k], 0, sizeof grown[k]);
            snprintf(grown[k].label, sizeof grown[k].label, "%s", label);
            grown[k].voltage = NAN;
            grown[k].line = line;
            m->scan_count++;
        }
        return scan_key(r, &m->scans[k], key, value, origin);
    }
    return bcdi_error(BCDI_ERR_CONFIG,
                      "%s:%d: unknown section [%s] (expected [prepare], [phase], [analyze], "
                      "[compare], [batch] or [scan LABEL])",
                      m->path, line, section);
}

bcdi_status bcdi_batch_manifest_read(const char *path, bcdi_batch_manifest *out)
{
    memset(out, 0, sizeof *out);
    out->path = text_copy(path);
    out->folder = text_copy(path);
    if (!out->path || !out->folder) {
        bcdi_batch_manifest_free(out);
        return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
    }
    char *slash = strrchr(out->folder, '/');
    if (!slash)
        strcpy(out->folder, ".");
    else if (slash == out->folder)
        slash[1] = '\0';
    else
        *slash = '\0';
    reader r = {out, ""};
    bcdi_status st = bcdi_ini_walk(path, manifest_line, &r);
    for (size_t k = 0; st == BCDI_OK && k < out->scan_count; ++k)
        if (!out->scans[k].input)
            st = bcdi_error(BCDI_ERR_CONFIG, "%s:%d: scan '%s' has no 'input = PATH'", path,
                            out->scans[k].line, out->scans[k].label);
    if (st == BCDI_OK && out->scan_count == 0)
        st = bcdi_error(BCDI_ERR_CONFIG, "manifest '%s' has no [scan LABEL] section", path);
    if (st != BCDI_OK) bcdi_batch_manifest_free(out);
    return st;
}

static void free_settings(bcdi_batch_setting *list, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        free(list[i].key);
        free(list[i].value);
        free(list[i].origin);
    }
    free(list);
}

void bcdi_batch_manifest_free(bcdi_batch_manifest *m)
{
    free_settings(m->settings, m->setting_count);
    free_settings(m->batch_settings, m->batch_setting_count);
    free_settings(m->command_line, m->command_line_count);
    for (size_t k = 0; k < m->scan_count; ++k) {
        free(m->scans[k].input);
        free_settings(m->scans[k].overrides, m->scans[k].override_count);
    }
    free(m->scans);
    free(m->path);
    free(m->folder);
    memset(m, 0, sizeof *m);
}

bcdi_status bcdi_batch_add_override(bcdi_batch_manifest *m, const char *assignment)
{
    const char *eq = strchr(assignment, '='), *dot = strchr(assignment, '.');
    int stage = -1;
    if (dot && eq && dot < eq) {
        stage = stage_from_name(assignment, (size_t)(dot - assignment));
        if (stage < 0 && (size_t)(dot - assignment) == 5 && !strncmp(assignment, "batch", 5))
            stage = BCDI_BATCH_STAGES;
    }
    if (stage < 0 || eq == dot + 1)
        return bcdi_error(BCDI_ERR_CONFIG,
                          "command line: '%s': expected STAGE.KEY=value with STAGE one of "
                          "prepare, phase, analyze, compare, batch",
                          assignment);
    char key[256], value[4096];
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    snprintf(value, sizeof value, "%s", eq + 1);
    bcdi_ini_trim(key);
    bcdi_ini_trim(value);
    if (stage == BCDI_BATCH_STAGES)
        return push_setting(&m->batch_settings, &m->batch_setting_count, BCDI_BATCH_STAGES, key,
                            value, "command line");
    return push_setting(&m->command_line, &m->command_line_count, (bcdi_batch_stage)stage, key,
                        value, "command line");
}

/* ---- configurations ---- */

static bcdi_status apply(bcdi_config *cfg, const bcdi_batch_setting *s, bcdi_batch_stage stage,
                         bcdi_batch_stage also)
{
    if (s->stage != stage && s->stage != also) return BCDI_OK;
    if (stage == BCDI_BATCH_PREPARE &&
        (!strcmp(s->key, "output") || !strcmp(s->key, "summary_json")))
        return bcdi_error(BCDI_ERR_CONFIG,
                          "%s: key '%s' is set by batch (OUTDIR/LABEL/prepared.cxi and its "
                          "prepared_summary.json)",
                          s->origin, s->key);
    return bcdi_config_set(cfg, s->key, s->value, s->origin);
}

bcdi_status bcdi_batch_stage_config(const bcdi_batch_manifest *m, size_t scan,
                                    bcdi_batch_stage stage, const bcdi_param_spec *specs,
                                    size_t spec_count, bcdi_config **cfg)
{
    bcdi_status st = bcdi_config_create(stage_names[stage], specs, spec_count, cfg);
    /* compare analyses its states with analyze's keys: [analyze] first, [compare] over it */
    bcdi_batch_stage also = stage == BCDI_BATCH_COMPARE ? BCDI_BATCH_ANALYZE : stage;
    for (int pass = 0; pass < 2; ++pass) {
        bcdi_batch_stage now = pass == 0 ? also : stage;
        if (pass == 1 && also == stage) break;
        for (size_t i = 0; st == BCDI_OK && i < m->setting_count; ++i)
            st = apply(*cfg, &m->settings[i], now, now);
        if (scan < m->scan_count)
            for (size_t i = 0; st == BCDI_OK && i < m->scans[scan].override_count; ++i)
                st = apply(*cfg, &m->scans[scan].overrides[i], now, now);
        for (size_t i = 0; st == BCDI_OK && i < m->command_line_count; ++i)
            st = apply(*cfg, &m->command_line[i], now, now);
    }
    if (st != BCDI_OK) {
        bcdi_config_free(*cfg);
        *cfg = NULL;
    }
    return st;
}

bcdi_status bcdi_batch_params_load(const bcdi_batch_manifest *m, bcdi_batch_params *params)
{
    bcdi_config *cfg = NULL;
    bcdi_status st = bcdi_config_create("batch", batch_table.specs, batch_table.count, &cfg);
    for (size_t i = 0; st == BCDI_OK && i < m->batch_setting_count; ++i)
        st = bcdi_config_set(cfg, m->batch_settings[i].key, m->batch_settings[i].value,
                             m->batch_settings[i].origin);
    if (st == BCDI_OK) st = bcdi_config_bind(cfg, &batch_table, params);
    bcdi_config_free(cfg);
    return st;
}

uint64_t bcdi_batch_keys_hash(const char *stage, const bcdi_config *cfg)
{
    /* how often phase checkpoints, and whether it resumes, change nothing it computes */
    static const char *const ignored[] = {"checkpoint_interval", "restart", NULL};
    return bcdi_hash_config(stage, cfg, ignored);
}
