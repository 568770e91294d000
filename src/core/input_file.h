/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening input files safely (docs/security.md): what braggcdi reads must be a regular file.
 * A FIFO named like a frame would block the run forever, a device (/dev/zero) never ends, a
 * folder given as a config file reads as empty; each is refused at once with a message naming
 * what the path is. Inputs are opened with O_NONBLOCK, so even a FIFO never blocks the check,
 * and the check is made on the opened descriptor (fstat), not on the name. */
#ifndef BCDI_CORE_INPUT_FILE_H
#define BCDI_CORE_INPUT_FILE_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdio.h>

/* "a folder", "a FIFO (named pipe)", "a character device", ... for a st_mode. */
const char *bcdi_input_kind_name(unsigned mode);

/* Open `path` for reading as a descriptor (blocking mode restored, close-on-exec). Refuses a path
 * that is not a regular file and, when max_bytes > 0, a file larger than max_bytes. *size (may be
 * NULL) receives the file's size. Errors name `what` ("config file", "TIFF") and the path. */
bcdi_status bcdi_input_open_fd(const char *path, const char *what, size_t max_bytes, int *fd,
                               size_t *size);
/* The same as a stdio stream ("rb"). */
bcdi_status bcdi_input_open(const char *path, const char *what, size_t max_bytes, FILE **out,
                            size_t *size);
/* For libraries that open files by name (HDF5, matio): the same check without keeping the file
 * open. */
bcdi_status bcdi_input_check(const char *path, const char *what, size_t *size);

#endif
