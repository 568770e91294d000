/* Plotting primitives for the PNG figures of analyze and compare: RGB raster images, drawing,
 * a small built-in 5×7 bitmap font (glyphs drawn for this project), colour maps, colour bars
 * and round axis numbers. Writing the file is io/png's job. */
#ifndef BCDI_NUM_PLOT_H
#define BCDI_NUM_PLOT_H

#include "bcdi/error.h"

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
/* A one-pixel border just outside the w × h rectangle at (x, y). */
void bcdi_image_frame(bcdi_image *img, long x, long y, long w, long h, const uint8_t rgb[3]);
/* A straight line `width` pixels thick, both ends included. */
void bcdi_image_line(bcdi_image *img, long x0, long y0, long x1, long y1, int width,
                     const uint8_t rgb[3]);
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

/* Colour maps, t in [0, 1] (clamped): grey (black → white) and diverging (blue → white →
 * red). */
typedef void (*bcdi_colormap)(double t, uint8_t rgb[3]);
void bcdi_colormap_grey(double t, uint8_t rgb[3]);
void bcdi_colormap_diverging(double t, uint8_t rgb[3]);
/* The map's gradient in a w × h box at (x, y), its top row t = 1, its bottom row t = 0. */
void bcdi_image_colour_bar(bcdi_image *img, long x, long y, long w, long h, bcdi_colormap map);

/* Round numbers for scale bars and colour-bar ends: the largest 1, 2 or 5 × 10^k not above x,
 * and the smallest 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k not below x (1 for x <= 0 or not
 * finite). */
double bcdi_nice_below(double x);
double bcdi_nice_above(double x);
/* A tick label: printf's %g with `digits` significant digits; |v| < 1e-12 is written 0. */
void bcdi_format_tick(double v, int digits, char *out, size_t cap);

#endif
