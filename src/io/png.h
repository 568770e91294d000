/* RGB raster images for figures, a small built-in 5×7 bitmap font (glyphs drawn for this
 * project), colour maps, and an atomic PNG writer (libpng). */
#ifndef BCDI_IO_PNG_H
#define BCDI_IO_PNG_H

#include "bcdi/error.h"
#include "core/output.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bcdi_image {
    size_t width, height;
    uint8_t *rgb; /* width*height*3, row 0 at the top */
} bcdi_image;

bcdi_status bcdi_image_create(bcdi_image *img, size_t width, size_t height, const uint8_t bg[3]);
void bcdi_image_free(bcdi_image *img);
void bcdi_image_set(bcdi_image *img, long x, long y, const uint8_t rgb[3]); /* clipped */
void bcdi_image_fill_rect(bcdi_image *img, long x, long y, long w, long h, const uint8_t rgb[3]);
void bcdi_image_ring(bcdi_image *img, double cx, double cy, double radius, double thickness,
                     const uint8_t rgb[3]);

/* Text (UTF-8) in the built-in font, drawn as written: A-Z, a-z, 0-9, space,
 * - + . , : ; = < > ( ) [ ] % ' " _ ^ / | ? ! * and ° ² ³ Å µ (μ) θ φ Δ ε × − ; any other
 * character is drawn as '?', one cell per character. `scale` multiplies the 5×7 cell. x, y:
 * top-left corner. */
void bcdi_image_text(bcdi_image *img, long x, long y, const char *text, int scale,
                     const uint8_t rgb[3]);
long bcdi_text_width(const char *text, int scale);
#define BCDI_FONT_HEIGHT 7

/* Colour maps, t in [0, 1]: grey (black → white) and diverging (blue → white → red). */
void bcdi_colormap_grey(double t, uint8_t rgb[3]);
void bcdi_colormap_diverging(double t, uint8_t rgb[3]);

/* 8-bit RGB PNG, staged in tx (NULL: its own transaction, committed here; core/output.h). */
bcdi_status bcdi_png_write(bcdi_output *tx, const char *path, const bcdi_image *img);

#endif
