/* SPDX-License-Identifier: BSD-3-Clause */
#include "bcdi/log.h"

#include <stdarg.h>
#include <stdio.h>

static bcdi_log_sink log_sink;
static void *log_user;

void bcdi_set_log_sink(bcdi_log_sink sink, void *user)
{
    log_sink = sink;
    log_user = user;
}

void bcdi_log(bcdi_log_level level, const char *fmt, ...)
{
    if (!log_sink) return;
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_sink(level, message, log_user);
}
