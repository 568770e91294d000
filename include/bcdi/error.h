/* SPDX-License-Identifier: BSD-3-Clause */
/* Error codes returned by every libbcdi function. The library never exits or prints:
 * it returns one of these and leaves a human-readable detail in bcdi_last_error(). */
#ifndef BCDI_ERROR_H
#define BCDI_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bcdi_status {
    BCDI_OK = 0,
    BCDI_ERR_INVALID_ARG, /* a parameter is out of range or inconsistent */
    BCDI_ERR_CONFIG,      /* unknown key, bad value in a config file or override */
    BCDI_ERR_IO,          /* a file could not be opened, read, written or renamed */
    BCDI_ERR_FORMAT,      /* a file is readable but not what was expected (missing dataset, rank) */
    BCDI_ERR_NOMEM,       /* host or device allocation failed */
    BCDI_ERR_BACKEND,     /* FFT library or device runtime reported a failure */
    BCDI_ERR_NO_DEVICE,   /* a CUDA device was asked for but none answers */
    BCDI_ERR_UNSUPPORTED, /* feature not built in (e.g. CUDA in a CPU-only build) */
    BCDI_ERR_DATA,        /* data content is unusable: NaN, all zero, negative counts */
    BCDI_ERR_INTERNAL,
    BCDI_ERR_INTERRUPTED /* a signal (SIGINT, SIGTERM, SIGUSR1) asked the run to stop */
} bcdi_status;

/* Static name of a status code ("invalid argument", ...). */
const char *bcdi_strerror(bcdi_status status);

/* Detail message of the last error set in this thread ("" if none). */
const char *bcdi_last_error(void);

/* Set the thread's last error detail (printf-style) and return `status`, so library code can
 * write `return bcdi_error(BCDI_ERR_IO, "cannot open '%s'", path);`. */
bcdi_status bcdi_error(bcdi_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefix the current detail with more context ("reading 'x.nxs': " + old detail). */
bcdi_status bcdi_error_prefix(bcdi_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void bcdi_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
