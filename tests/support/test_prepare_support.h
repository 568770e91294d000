/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers of the prepare tests: prepare with key=value overrides through the one loader, with
 * the library's log captured (the precedence tests read the line that states each value), and
 * the 3-vector products of the geometry hand computations. */
#ifndef BCDI_TEST_PREPARE_SUPPORT_H
#define BCDI_TEST_PREPARE_SUPPORT_H

#include "bcdi/prepare.h"

/* bcdi_prepare_load on `input` with the table's defaults and `overrides` (NULL-terminated
 * "key=value", NULL = none; a later key wins); the log of the call is kept for tu_prepare_log.
 * BCDI_ERR_CONFIG (the loader's detail) when a key is refused. */
bcdi_status tu_prepare(const char *input, const char *const *overrides, bcdi_prepared *out);
/* Every log line of the last tu_prepare, one per line. */
const char *tu_prepare_log(void);
/* The first line of that log holding `a` (and `b` unless NULL), or NULL. Static storage. */
const char *tu_prepare_log_line(const char *a, const char *b);

void tu_cross3(const double a[3], const double b[3], double c[3]);
double tu_dot3(const double a[3], const double b[3]);

#endif
