/* SPDX-License-Identifier: BSD-3-Clause */
/* Content and identity hashes: 64-bit FNV-1a (Fowler, Noll, Vo), as 16 hex digits in files.
 * Used to tell whether an input or a set of keys changed (batch resume, phase checkpoints), not
 * for security: FNV is fast and well spread, not collision-resistant against an adversary. */
#ifndef BCDI_CORE_HASH_H
#define BCDI_CORE_HASH_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

#define BCDI_HASH_INIT 0xcbf29ce484222325ull

/* Continue `h` over `size` bytes (start from BCDI_HASH_INIT). */
uint64_t bcdi_hash_bytes(uint64_t h, const void *data, size_t size);
/* Continue `h` over a NUL-terminated text and its terminator (so "ab","c" differs from "a","bc").
 */
uint64_t bcdi_hash_text(uint64_t h, const char *text);
/* The hash of a file's whole content, read in blocks. Errors name the file. */
bcdi_status bcdi_hash_file(const char *path, uint64_t *hash);
/* A file's or a folder's identity without reading its content: resolved path, size, modification
 * time (ns) and inode; for a folder the same of every entry, in name order, one level deep. For
 * raw inputs too large to read again on every rerun; a glob pattern (frames/scan_*.tif) that names
 * no file stands for its matches. Errors name the path. */
bcdi_status bcdi_hash_identity(const char *path, uint64_t *hash);
/* A folder's content: every regular file's name and content, in name order, one level deep
 * (temporaries of interrupted writes skipped). */
bcdi_status bcdi_hash_folder(const char *path, uint64_t *hash);
struct bcdi_config;
/* The keys of a merged configuration with their values, in table order, after `salt` (the
 * stage's name), leaving out the keys named in `ignored` (NULL-terminated, may be NULL). */
uint64_t bcdi_hash_config(const char *salt, const struct bcdi_config *cfg,
                          const char *const *ignored);
/* "%016llx" into text[17]. */
void bcdi_hash_format(uint64_t hash, char text[17]);

#endif
