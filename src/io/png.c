/* SPDX-License-Identifier: BSD-3-Clause */
/* The PNG writer (see png.h). */
#include "io/png.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_failure {
    jmp_buf jump;
    char message[256];
} png_failure;

static void png_on_error(png_structp png, png_const_charp message)
{
    png_failure *fail = png_get_error_ptr(png);
    snprintf(fail->message, sizeof fail->message, "%s", message);
    longjmp(fail->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message; /* the library never prints */
}

bcdi_status bcdi_png_write(bcdi_output *tx, const char *path, size_t width, size_t height,
                           const uint8_t *rgb)
{
    bcdi_output *own;
    FILE *f;
    bcdi_status st = bcdi_output_stream(tx, &own, path, &f);
    if (st != BCDI_OK) return st;
    /* on the heap, not in this frame: libpng's error handler writes the message and longjmps
     * back here, and a local object changed after setjmp would be indeterminate (C11 7.13.2.1);
     * one per call, so writers on several threads do not share it */
    png_failure *fail = calloc(1, sizeof *fail);
    if (!fail)
        return bcdi_output_finish(own, bcdi_error(BCDI_ERR_NOMEM, "'%s': PNG writer state", path));
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, fail, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        free(fail);
        return bcdi_output_finish(own,
                                  bcdi_error(BCDI_ERR_NOMEM, "'%s': libpng could not start", path));
    }
    if (setjmp(fail->jump)) {
        png_destroy_write_struct(&png, &info);
        st = bcdi_error(BCDI_ERR_IO, "'%s': libpng: %s", path, fail->message);
        free(fail);
        return bcdi_output_finish(own, st);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < height; ++y)
        png_write_row(png, (png_const_bytep)(rgb + 3 * y * width));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(fail);
    /* the stream's errors (disk full) are reported by the transaction's commit */
    return bcdi_output_finish(own, BCDI_OK);
}
