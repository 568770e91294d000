/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_prepare_support.h"

#include "bcdi/config.h"
#include "bcdi/log.h"

#include <stdio.h>
#include <string.h>

static char log_text[1 << 16];

static void capture(bcdi_log_level level, const char *message, void *user)
{
    (void)level;
    (void)user;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%s\n", message);
}

bcdi_status tu_prepare(const char *input, const char *const *overrides, bcdi_prepared *out)
{
    size_t n = 0;
    while (overrides && overrides[n])
        n++;
    bcdi_prepare_params params;
    log_text[0] = '\0';
    bcdi_status st =
        bcdi_params_load(bcdi_prepare_param_table(), NULL, overrides, n, NULL, NULL, &params);
    if (st != BCDI_OK) return st;
    bcdi_set_log_sink(capture, NULL);
    st = bcdi_prepare_load(input, &params, out);
    bcdi_set_log_sink(NULL, NULL);
    return st;
}

const char *tu_prepare_log(void)
{
    return log_text;
}

const char *tu_prepare_log_line(const char *a, const char *b)
{
    static char line[2048];
    for (const char *p = log_text; *p;) {
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        if (strstr(line, a) && (!b || strstr(line, b))) return line;
        p += n + (p[n] == '\n');
    }
    return NULL;
}

void tu_cross3(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

double tu_dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
