/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging: the library never prints by itself. It calls a sink the application installs
 * (the CLI installs one that writes to stderr); with no sink, messages are dropped. */
#ifndef BCDI_LOG_H
#define BCDI_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { BCDI_LOG_DEBUG = 0, BCDI_LOG_INFO, BCDI_LOG_NOTICE, BCDI_LOG_WARN } bcdi_log_level;

typedef void (*bcdi_log_sink)(bcdi_log_level level, const char *message, void *user);

void bcdi_set_log_sink(bcdi_log_sink sink, void *user);
void bcdi_log(bcdi_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
