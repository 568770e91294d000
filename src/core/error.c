/* SPDX-License-Identifier: BSD-3-Clause */
#include "bcdi/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[2048];

const char *bcdi_strerror(bcdi_status status)
{
    switch (status) {
    case BCDI_OK:
        return "success";
    case BCDI_ERR_INVALID_ARG:
        return "invalid argument";
    case BCDI_ERR_CONFIG:
        return "configuration error";
    case BCDI_ERR_IO:
        return "input/output error";
    case BCDI_ERR_FORMAT:
        return "unexpected file format";
    case BCDI_ERR_NOMEM:
        return "out of memory";
    case BCDI_ERR_BACKEND:
        return "backend failure";
    case BCDI_ERR_NO_DEVICE:
        return "no CUDA device";
    case BCDI_ERR_UNSUPPORTED:
        return "not supported in this build";
    case BCDI_ERR_DATA:
        return "unusable data";
    case BCDI_ERR_INTERNAL:
        return "internal error";
    case BCDI_ERR_INTERRUPTED:
        return "interrupted";
    }
    return "unknown error";
}

const char *bcdi_last_error(void)
{
    return last_error;
}

void bcdi_clear_error(void)
{
    last_error[0] = '\0';
}

bcdi_status bcdi_error(bcdi_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

bcdi_status bcdi_error_prefix(bcdi_status status, const char *fmt, ...)
{
    char prefix[1024], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    /* Truncation is acceptable here: the message stays a message. */
    size_t used = strlen(prefix);
    if (used >= sizeof last_error) used = sizeof last_error - 1;
    memcpy(last_error, prefix, used);
    size_t rest = strlen(old);
    if (rest > sizeof last_error - 1 - used) rest = sizeof last_error - 1 - used;
    memcpy(last_error + used, old, rest);
    last_error[used + rest] = '\0';
    return status;
}
