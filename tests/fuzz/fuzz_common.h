/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the libFuzzer targets (tests/fuzz/README section of docs/security.md): the readers
 * of braggcdi take paths, so each input is written to a file on tmpfs (/dev/shm, or $TMPDIR), in
 * a folder of its own, and the reader opens that file, exactly as it opens a user's file. */
#ifndef BCDI_FUZZ_COMMON_H
#define BCDI_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The file `data` was written to (one per process and suffix, rewritten on each call, removed
 * at exit); NULL when it cannot be written (the caller skips the input). */
const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix);

/* The input as a NUL-terminated string (NUL bytes inside stay: C readers stop there); freed at
 * the next call. */
const char *fuzz_text(const uint8_t *data, size_t size);

#endif
