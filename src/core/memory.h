/* SPDX-License-Identifier: BSD-3-Clause */
/* Memory estimated before it is allocated (docs/security.md): every subcommand estimates, from
 * the shapes in its inputs' headers and its keys, the memory it will need, and refuses a run
 * whose estimate exceeds what the machine offers or the max_memory= key, before it reads its
 * bulk data: never an OOM kill, nor gigabytes read first. The estimators live beside their
 * stages (prepare, phase, analyze, compare, simulate); this module says what the machine
 * offers and makes the one check. Estimates are doubles: they cannot wrap. */
#ifndef BCDI_CORE_MEMORY_H
#define BCDI_CORE_MEMORY_H

#include "bcdi/error.h"

#include <stddef.h>

typedef struct bcdi_memory_offer {
    double bytes;     /* what a run may use; HUGE_VAL when nothing could be read */
    char source[256]; /* where the figure comes from ("MemAvailable", "cgroup memory.max ...") */
} bcdi_memory_offer;

/* What this machine offers the process: MemAvailable from /proc/meminfo, lowered to the memory
 * limit of the process's cgroup when that is lower (v2: memory.max of its cgroup and every
 * ancestor; v1: memory.limit_in_bytes of its memory cgroup and ancestors). */
void bcdi_memory_offered(bcdi_memory_offer *out);
/* The same from other files (tests): a meminfo file, a /proc/self/cgroup file and the root
 * where the cgroup file systems are mounted (NULL: the system's). */
void bcdi_memory_offered_from(const char *meminfo, const char *self_cgroup, const char *cgroup_root,
                              bcdi_memory_offer *out);

/* BCDI_OK when `need` bytes fit in max_memory (bytes; 0: what the machine offers), else
 * BCDI_ERR_NOMEM with the estimate and the limit: "<what> needs about 5.0 GiB (<how>), more than
 * the 3.2 GiB <source>; <advice>". what/how/advice may be NULL. */
bcdi_status bcdi_memory_check(double need, size_t max_memory, const char *what, const char *how,
                              const char *advice);

/* "5.0 GiB", "312 MiB", "4096 B" */
const char *bcdi_memory_text(double bytes, char *buf, size_t capacity);

#endif
