/* SPDX-License-Identifier: BSD-3-Clause */
/* The PNG writer (libpng); the pictures themselves are drawn with num/plot. */
#ifndef BCDI_IO_PNG_H
#define BCDI_IO_PNG_H

#include "bcdi/error.h"
#include "core/output.h"

#include <stddef.h>
#include <stdint.h>

/* 8-bit RGB PNG of width × height pixels (rgb: rows from the top, 3 bytes a pixel), staged in tx
 * (NULL: its own transaction, committed here; core/output.h). */
bcdi_status bcdi_png_write(bcdi_output *tx, const char *path, size_t width, size_t height,
                           const uint8_t *rgb);

#endif
