/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON through jansson (rules in json.h). */
#include "io/json.h"

#include "bcdi/log.h"
#include "core/input_file.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *bcdi_json_real(double value)
{
    if (!isfinite(value)) return json_null();
    if (value == 0.0) value = 0.0; /* no "-0" */
    return json_real(value);
}

json_t *bcdi_json_reals(const double *values, size_t count)
{
    json_t *a = json_array();
    int ok = a != NULL;
    for (size_t i = 0; ok && i < count; ++i)
        bcdi_json_push(a, bcdi_json_real(values[i]), &ok);
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *bcdi_json_sizes(const size_t *values, size_t count)
{
    json_t *a = json_array();
    int ok = a != NULL;
    for (size_t i = 0; ok && i < count; ++i)
        bcdi_json_push(a, json_integer((json_int_t)values[i]), &ok);
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when the bytes there are not one
 * (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

int bcdi_utf8_repair(const char *text, char **clean)
{
    *clean = NULL;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t bad = 0, len = 0;
    for (size_t i = 0; s[i];) {
        size_t n = utf8_sequence(s + i);
        if (n) {
            i += n;
            len += n;
        } else {
            ++i;
            ++bad;
            len += 3;
        }
    }
    if (!bad) return 0;
    char *out = malloc(len + 1);
    if (!out) return 1;
    size_t o = 0;
    for (size_t i = 0; s[i];) {
        size_t n = utf8_sequence(s + i);
        if (n) {
            memcpy(out + o, s + i, n);
            i += n;
            o += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
            ++i;
            o += 3;
        }
    }
    out[o] = '\0';
    *clean = out;
    return 1;
}

json_t *bcdi_json_text(const char *text)
{
    char *clean = NULL;
    if (!bcdi_utf8_repair(text, &clean)) return json_string(text ? text : "");
    if (!clean) return NULL;
    bcdi_log(BCDI_LOG_WARN,
             "text with invalid UTF-8 written to JSON as '%s' (U+FFFD for each bad byte)", clean);
    json_t *s = json_string(clean);
    free(clean);
    return s;
}

void bcdi_json_put(json_t *obj, const char *key, json_t *value, int *ok)
{
    /* json_object_set_new takes the value even when it fails; NULL is refused */
    if (!value || json_object_set_new(obj, key, value) != 0) *ok = 0;
}

void bcdi_json_push(json_t *array, json_t *value, int *ok)
{
    if (!value || json_array_append_new(array, value) != 0) *ok = 0;
}

bcdi_status bcdi_json_write(bcdi_output *tx, const char *path, const json_t *root)
{
    if (!root) return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory building the JSON", path);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(9) | JSON_PRESERVE_ORDER);
    if (!text) return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory writing the JSON", path);
    bcdi_output *own;
    FILE *f;
    bcdi_status st = bcdi_output_stream(tx, &own, path, &f);
    if (st == BCDI_OK) {
        fputs(text, f);
        fputc('\n', f);
        st = bcdi_output_finish(own, BCDI_OK); /* write errors: reported by the commit */
    }
    free(text);
    return st;
}

bcdi_status bcdi_json_read(const char *path, json_t **root)
{
    json_error_t e;
    FILE *f;
    *root = NULL;
    bcdi_status st = bcdi_input_open(path, "JSON file", BCDI_JSON_MAX_BYTES, &f, NULL);
    if (st != BCDI_OK) return st;
    *root = json_loadf(f, 0, &e);
    fclose(f);
    if (*root) return BCDI_OK;
    if (e.line < 1) return bcdi_error(BCDI_ERR_IO, "'%s': cannot read JSON: %s", path, e.text);
    return bcdi_error(BCDI_ERR_FORMAT, "'%s': not valid JSON at line %d, column %d: %s", path,
                      e.line, e.column, e.text);
}

json_t *bcdi_json_at(json_t *root, const char *path)
{
    json_t *v = root;
    char key[256];
    for (const char *p = path; v && p && *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_is_object(v) ? json_object_get(v, key) : NULL;
        p = slash ? slash + 1 : NULL;
    }
    return v;
}

static int number_of(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    if (json_is_null(v)) { /* how NaN is written */
        *out = NAN;
        return 1;
    }
    return 0;
}

int bcdi_json_number_at(json_t *root, const char *path, double *out)
{
    json_t *v = bcdi_json_at(root, path);
    return v && number_of(v, out);
}

int bcdi_json_numbers_at(json_t *root, const char *path, double *out, size_t count)
{
    json_t *v = bcdi_json_at(root, path);
    if (!json_is_array(v) || json_array_size(v) != count) return 0;
    for (size_t i = 0; i < count; ++i)
        if (!number_of(json_array_get(v, i), &out[i])) return 0;
    return 1;
}

const char *bcdi_json_string_at(json_t *root, const char *path)
{
    json_t *v = bcdi_json_at(root, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
