/* SPDX-License-Identifier: BSD-3-Clause */
/* What a parsed SPEC scan answers (io/spec.h): motor positions by name or mnemonic, data
 * columns by label, other header lines, and the motor its command moves. */
#include "io/spec_internal.h"
#include "core/ckd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- accessors ------------------------------------------------------------------------------ */

long bcdi_spec_scan_number(const bcdi_spec_scan *scan)
{
    return scan->number;
}

const char *bcdi_spec_scan_command(const bcdi_spec_scan *scan)
{
    return scan->command;
}

const char *bcdi_spec_scan_where(const bcdi_spec_scan *scan)
{
    return scan->where;
}

size_t bcdi_spec_motor_count(const bcdi_spec_scan *scan)
{
    return scan->header.name_count;
}

bcdi_status bcdi_spec_motor_at(const bcdi_spec_scan *scan, size_t index, const char **name,
                               const char **mnemonic, double *position)
{
    if (index >= scan->header.name_count)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: motor index %zu out of range (%zu motors)",
                          scan->where, index, scan->header.name_count);
    if (name) *name = scan->header.names[index];
    if (mnemonic)
        *mnemonic = index < scan->header.mnemonic_count ? scan->header.mnemonics[index] : "";
    if (!scan->position_known[index])
        return bcdi_error(BCDI_ERR_FORMAT, "%s: no #P position for motor '%s'", scan->where,
                          scan->header.names[index]);
    if (position) *position = scan->positions[index];
    return BCDI_OK;
}

/* Index of a motor by name or mnemonic, -1 when absent. */
long bcdi_spec_motor_index(const spec_header *h, const char *name)
{
    for (size_t i = 0; i < h->name_count; ++i)
        if (!strcmp(h->names[i], name)) return (long)i;
    for (size_t i = 0; i < h->mnemonic_count; ++i)
        if (!strcmp(h->mnemonics[i], name)) return (long)i;
    for (size_t i = 0; i < h->name_count; ++i)
        if (!strcasecmp(h->names[i], name)) return (long)i;
    return -1;
}

int bcdi_spec_find_motor(const bcdi_spec_scan *scan, const char *name, double *position)
{
    long i = name ? bcdi_spec_motor_index(&scan->header, name) : -1;
    if (i < 0 || !scan->position_known[i]) return 0;
    if (position) *position = scan->positions[i];
    return 1;
}

bcdi_status bcdi_spec_motor(const bcdi_spec_scan *scan, const char *name, double *position)
{
    if (bcdi_spec_find_motor(scan, name, position)) return BCDI_OK;
    long i = name ? bcdi_spec_motor_index(&scan->header, name) : -1;
    if (i >= 0)
        return bcdi_error(BCDI_ERR_FORMAT, "%s: motor '%s' has no #P position", scan->where, name);
    return bcdi_error(BCDI_ERR_FORMAT, "%s: no motor '%s' in the file header (#O/#o, %zu motors)",
                      scan->where, name ? name : "(null)", scan->header.name_count);
}

size_t bcdi_spec_column_count(const bcdi_spec_scan *scan)
{
    return scan->column_count;
}

size_t bcdi_spec_point_count(const bcdi_spec_scan *scan)
{
    return scan->points;
}

const char *bcdi_spec_column_label(const bcdi_spec_scan *scan, size_t index)
{
    return index < scan->column_count ? scan->labels[index] : NULL;
}

bcdi_status bcdi_spec_column(const bcdi_spec_scan *scan, const char *label, const double **values,
                             size_t *count)
{
    long found = -1;
    for (size_t i = 0; label && i < scan->column_count && found < 0; ++i)
        if (!strcmp(scan->labels[i], label)) found = (long)i;
    for (size_t i = 0; label && i < scan->column_count && found < 0; ++i)
        if (!strcasecmp(scan->labels[i], label)) found = (long)i;
    if (found < 0)
        return bcdi_error(BCDI_ERR_FORMAT, "%s: no data column '%s' (#L has %zu columns)",
                          scan->where, label ? label : "(null)", scan->column_count);
    *values = scan->data ? scan->data + (size_t)found * scan->points : NULL;
    *count = scan->points;
    return BCDI_OK;
}

int bcdi_spec_geometry_values(const bcdi_spec_scan *scan, int index, const double **values,
                              size_t *count)
{
    if (index < 0 || index >= BCDI_SPEC_MAX_G_LINES || !scan->g[index]) return 0;
    *values = scan->g[index];
    *count = scan->g_count[index];
    return 1;
}

int bcdi_spec_q(const bcdi_spec_scan *scan, double hkl[3])
{
    if (!scan->has_q) return 0;
    memcpy(hkl, scan->q, sizeof scan->q);
    return 1;
}

const char *bcdi_spec_header(const bcdi_spec_scan *scan, const char *key)
{
    if (!key) return NULL;
    for (size_t i = 0; i < scan->line_count; ++i)
        if (!strcmp(scan->lines[i].key, key)) return scan->lines[i].value;
    for (size_t i = 0; i < scan->header.line_count; ++i)
        if (!strcmp(scan->header.lines[i].key, key)) return scan->header.lines[i].value;
    return NULL;
}

/* ---- the scan command ----------------------------------------------------------------------- */

static const struct {
    const char *kind;
    int motors;   /* motors moved together (aNscan) or nested (mesh) */
    int relative; /* positions relative to the start position */
    int mesh;     /* m1 s1 e1 n1 m2 s2 e2 n2 t instead of (m s e)xN n t */
} spec_scan_kinds[] = {
    {"ascan", 1, 0, 0},  {"dscan", 1, 1, 0},  {"lup", 1, 1, 0},    {"a2scan", 2, 0, 0},
    {"d2scan", 2, 1, 0}, {"a3scan", 3, 0, 0}, {"d3scan", 3, 1, 0}, {"a4scan", 4, 0, 0},
    {"d4scan", 4, 1, 0}, {"mesh", 2, 0, 1},   {"dmesh", 2, 1, 1},
};

static bcdi_status command_number(const bcdi_spec_scan *scan, char **tokens, size_t i,
                                  double *value)
{
    if (!bcdi_spec_parse_finite(tokens[i], value))
        return bcdi_error(BCDI_ERR_FORMAT,
                          "%s: scan command field %zu is '%.40s', expected a finite number",
                          scan->where, i + 1, tokens[i]);
    return BCDI_OK;
}

static bcdi_status command_intervals(const bcdi_spec_scan *scan, char **tokens, size_t i,
                                     long *value)
{
    if (!bcdi_spec_parse_long(tokens[i], value) || *value < 1 || *value >= BCDI_SPEC_MAX_POINTS)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "%s: scan command field %zu is '%.40s', expected a number of intervals "
                          "1..%d",
                          scan->where, i + 1, tokens[i], BCDI_SPEC_MAX_POINTS - 1);
    return BCDI_OK;
}

bcdi_status bcdi_spec_scan_motion(const bcdi_spec_scan *scan, bcdi_spec_motion *out)
{
    memset(out, 0, sizeof *out);
    char text[SPEC_MAX_COMMAND + 1];
    snprintf(text, sizeof text, "%s", scan->command);
    char *tokens[64];
    size_t n = bcdi_spec_split_blanks(text, tokens, 63);
    if (n == 0) return bcdi_error(BCDI_ERR_FORMAT, "%s: empty scan command", scan->where);
    int kind = -1;
    for (size_t k = 0; k < sizeof spec_scan_kinds / sizeof spec_scan_kinds[0]; ++k)
        if (!strcmp(tokens[0], spec_scan_kinds[k].kind)) kind = (int)k;
    if (kind < 0)
        return bcdi_error(BCDI_ERR_UNSUPPORTED,
                          "%s: scan command '%.200s' is not a motor scan this reader knows "
                          "(ascan, dscan, lup, a2scan..d4scan, mesh, dmesh)",
                          scan->where, scan->command);
    int motors = spec_scan_kinds[kind].motors, mesh = spec_scan_kinds[kind].mesh;
    size_t need = mesh ? 10 : (size_t)(3 * motors + 3);
    if (n < need)
        return bcdi_error(BCDI_ERR_FORMAT, "%s: scan command '%.200s' has %zu fields, %s needs %zu",
                          scan->where, scan->command, n, tokens[0], need);
    snprintf(out->kind, sizeof out->kind, "%s", tokens[0]);
    if (strlen(tokens[1]) >= sizeof out->mnemonic)
        return bcdi_error(BCDI_ERR_FORMAT, "%s: motor name '%.20s...' in the command is too long",
                          scan->where, tokens[1]);
    snprintf(out->mnemonic, sizeof out->mnemonic, "%s", tokens[1]);
    bcdi_status st;
    if ((st = command_number(scan, tokens, 2, &out->start)) != BCDI_OK ||
        (st = command_number(scan, tokens, 3, &out->stop)) != BCDI_OK)
        return st;
    size_t intervals_at = mesh ? 4 : (size_t)(3 * motors + 1);
    if ((st = command_intervals(scan, tokens, intervals_at, &out->intervals)) != BCDI_OK ||
        (st = command_number(scan, tokens, need - 1, &out->count_time)) != BCDI_OK)
        return st;
    out->points = (size_t)out->intervals + 1;
    if (mesh) {
        long inner = 0;
        if ((st = command_intervals(scan, tokens, 8, &inner)) != BCDI_OK) return st;
        if (bcdi_ckd_mul(&out->points, out->points, (size_t)inner + 1) ||
            out->points > BCDI_SPEC_MAX_POINTS)
            return bcdi_error(BCDI_ERR_FORMAT, "%s: mesh of more than %d points", scan->where,
                              BCDI_SPEC_MAX_POINTS);
    }
    /* every other motor's numbers must be numbers too */
    for (int m = 1; m < motors; ++m) {
        size_t at = mesh ? 5 : (size_t)(1 + 3 * m);
        double v;
        if ((st = command_number(scan, tokens, at + 1, &v)) != BCDI_OK ||
            (st = command_number(scan, tokens, at + 2, &v)) != BCDI_OK)
            return st;
    }
    out->step = (out->stop - out->start) / (double)out->intervals;
    out->relative = spec_scan_kinds[kind].relative;
    long index = bcdi_spec_motor_index(&scan->header, out->mnemonic);
    if (index >= 0) snprintf(out->name, sizeof out->name, "%s", scan->header.names[index]);
    out->start_abs = out->start;
    out->stop_abs = out->stop;
    out->absolute_known = 1;
    if (out->relative) {
        double p;
        if (bcdi_spec_find_motor(scan, out->mnemonic, &p)) {
            out->start_abs = p + out->start;
            out->stop_abs = p + out->stop;
        } else {
            out->absolute_known = 0;
        }
    }
    return BCDI_OK;
}
