/* SPDX-License-Identifier: BSD-3-Clause */
/* INI files walked key by key with their line numbers (inih underneath): the one reader of
 * config files (bcdi_config_load_ini) and of batch manifests (src/hpc/batch.c). */
#ifndef BCDI_CORE_INI_H
#define BCDI_CORE_INI_H

#include "bcdi/error.h"

/* Called for each `key = value` with its section ("" before any) and 1-based line; a status
 * other than BCDI_OK stops the walk and is returned by bcdi_ini_walk. */
typedef bcdi_status (*bcdi_ini_fn)(const char *section, const char *key, const char *value,
                                   int line, void *user);
/* Errors: the file cannot be opened, a line is longer than the reader's limit, a syntax error
 * (each naming the file and line), or fn's status. */
bcdi_status bcdi_ini_walk(const char *path, bcdi_ini_fn fn, void *user);

/* Remove leading and trailing white space in place (keys, values and labels of INI lines and
 * key=value arguments). */
void bcdi_ini_trim(char *s);

#endif
