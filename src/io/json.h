/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON through jansson, for every JSON braggcdi writes (analyze's summary.json, compare's
 * comparison.json, prepare's summary, bench) and reads (compare: analysed folders, summaries).
 *
 * Writing: build a json_t tree with the helpers below (they never fail silently: each takes an
 * `ok` flag that a failed allocation clears), then bcdi_json_write stages it as a file.
 * Numbers: NaN and infinities become null, -0 becomes 0; reals keep 9 significant digits.
 * Text is always valid UTF-8: invalid bytes are replaced by U+FFFD and a warning says so.
 * Reading: values are found by their path of keys from the root ("grid/voxel_size_nm"),
 * never by the first matching key at any depth. */
#ifndef BCDI_IO_JSON_H
#define BCDI_IO_JSON_H

#include "bcdi/error.h"
#include "core/output.h"

#include <jansson.h>
#include <stddef.h>

/* ---- values ---- */
json_t *bcdi_json_real(double value); /* null for NaN/Inf */
json_t *bcdi_json_reals(const double *values, size_t count);
json_t *bcdi_json_sizes(const size_t *values, size_t count); /* integers */
/* A JSON string of `text` (NULL: ""), invalid UTF-8 replaced by U+FFFD (and logged). */
json_t *bcdi_json_text(const char *text);
/* 1 and a copy with every invalid UTF-8 sequence replaced by U+FFFD in *clean (malloc'd, NULL
 * when out of memory) when text is not valid UTF-8; 0 (and *clean NULL) when it is. */
int bcdi_utf8_repair(const char *text, char **clean);

/* obj[key] = value (value stolen). A NULL value or a failure clears *ok. */
void bcdi_json_put(json_t *obj, const char *key, json_t *value, int *ok);
/* array += value (stolen), as above. */
void bcdi_json_push(json_t *array, json_t *value, int *ok);

/* Stage `root` as path in tx (NULL: its own transaction, committed here), indented by two. */
bcdi_status bcdi_json_write(bcdi_output *tx, const char *path, const json_t *root);

/* ---- reading ---- */
/* The JSON files braggcdi reads (summaries) are a few kB; a larger one is refused unread. */
#define BCDI_JSON_MAX_BYTES ((size_t)64 << 20)
/* Whole file (a regular file of at most BCDI_JSON_MAX_BYTES: core/input_file.h); errors name the
 * file, line and column. Free with json_decref. */
bcdi_status bcdi_json_read(const char *path, json_t **root);
/* The value at a '/'-separated path of object keys, NULL when any step is missing. */
json_t *bcdi_json_at(json_t *root, const char *path);
/* 1 when the value at path is a number (integer or real; null: NaN), stored in *out. */
int bcdi_json_number_at(json_t *root, const char *path, double *out);
/* 1 when the value at path is an array of `count` numbers. */
int bcdi_json_numbers_at(json_t *root, const char *path, double *out, size_t count);
/* The string at path, NULL when absent or not a string (owned by root). */
const char *bcdi_json_string_at(json_t *root, const char *path);

#endif
