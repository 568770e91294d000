/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration load of one stage as the CLI does it (src/cli/cli.c cli_configure): the
 * stage's key table (compare: with analyze's keys, [analyze] read below [compare]), the other
 * stages' sections skipped, an INI file, key=value assignments, then the bound structs. Used
 * by fuzz_config_ini and fuzz_config_keys. */
#ifndef BCDI_FUZZ_STAGE_H
#define BCDI_FUZZ_STAGE_H

#include <stddef.h>

enum { FUZZ_STAGE_COUNT = 5 }; /* simulate, prepare, phase, analyze, compare */

/* Load a stage picked by a character: (stage - '0') % FUZZ_STAGE_COUNT, so a seed that starts with
 * '0' is simulate, '1' prepare, '2' phase, '3' analyze, '4' compare. ini_path may be NULL.
 * Returns the bcdi_status. */
int fuzz_load_stage(unsigned stage, const char *ini_path, const char *const *assignments,
                    size_t assignment_count);

#endif
