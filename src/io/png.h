/* The PNG writer (libpng); the pictures themselves are drawn with num/plot. */
#ifndef BCDI_IO_PNG_H
#define BCDI_IO_PNG_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

/* 8-bit RGB PNG of width × height pixels (rgb: rows from the top, 3 bytes a pixel), written to
 * a temporary name and renamed (atomic). */
bcdi_status bcdi_png_write(const char *path, size_t width, size_t height, const uint8_t *rgb);

#endif
