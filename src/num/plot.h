/* SPDX-License-Identifier: BSD-3-Clause */
/* Plotting primitives for the PNG figures of analyze and compare: RGB raster images, drawing,
 * a small built-in 5×7 bitmap font (glyphs drawn for this project) with the one text size every
 * figure uses, colour maps, colour bars, robust colour limits and round axis numbers. Writing
 * the file is io/png's job. */
#ifndef BCDI_NUM_PLOT_H
#define BCDI_NUM_PLOT_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bcdi_image {
    size_t width, height;
    uint8_t *rgb; /* width*height*3, row 0 at the top */
    /* the smallest and largest text scale drawn so far (0: no text yet): how a test checks
     * that a figure keeps the font rule below */
    int text_scale_min, text_scale_max;
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

/* The font rule of every figure (analyze, compare): all text — titles, panel labels, tick
 * labels, notes — at one scale, BCDI_PLOT_TEXT_SCALE × the 5×7 cell (14-pixel capitals, legible
 * beside ~240-pixel panels). A layout makes room for its labels (a column is as wide as its
 * label); it never draws a label smaller to make it fit. */
#define BCDI_PLOT_TEXT_SCALE 2
#define BCDI_PLOT_TEXT_HEIGHT (BCDI_FONT_HEIGHT * BCDI_PLOT_TEXT_SCALE)
void bcdi_plot_text(bcdi_image *img, long x, long y, const char *text, const uint8_t rgb[3]);
long bcdi_plot_text_width(const char *text);

/* Colour maps, t in [0, 1] (clamped): grey (black → white) and diverging (blue → white →
 * red). */
typedef void (*bcdi_colormap)(double t, uint8_t rgb[3]);
void bcdi_colormap_grey(double t, uint8_t rgb[3]);
void bcdi_colormap_diverging(double t, uint8_t rgb[3]);
/* The map's gradient in a w × h box at (x, y), its top row t = 1, its bottom row t = 0. */
void bcdi_image_colour_bar(bcdi_image *img, long x, long y, long w, long h, bcdi_colormap map);

/* Colour limits from robust percentiles, so that a few outlying voxels (a rim voxel, a hot
 * spot) cannot stretch a scale over which the rest reads as one colour. Signed maps: ±L with
 * L = max(|p(100 − q)|, |p(q)|), symmetric so that zero stays the diverging map's neutral
 * centre; maps whose variation rides on an offset (absolute strain): m ± L about the median m,
 * L = max(|p(100 − q) − m|, |p(q) − m|), so the neutral colour is the median (the colour bar's
 * middle label); amplitudes and densities: 0 .. p(q). Values beyond the ends are drawn at the
 * end colours (clipped) and counted. q: BCDI_COLOUR_PERCENTILE for every figure. */
typedef enum {
    BCDI_COLOUR_SIGNED = 0,
    BCDI_COLOUR_FROM_ZERO,
    BCDI_COLOUR_ABOUT_MEDIAN
} bcdi_colour_kind;
#define BCDI_COLOUR_PERCENTILE 99.0
typedef struct bcdi_colour_limits {
    bcdi_colour_kind kind;
    double percentile;   /* q */
    double lo, hi;       /* the colour scale's ends */
    size_t count;        /* values the limits were taken over */
    size_t below, above; /* values beyond the ends (clipped) */
} bcdi_colour_limits;
/* From `count` ascending values (bcdi_sort_floats). With no values, or all at zero (all equal
 * about the median), the ends are ±1 (signed; about the median: m ± 1) or 0..1. */
void bcdi_colour_limits_sorted(const float *sorted, size_t count, bcdi_colour_kind kind,
                               double percentile, bcdi_colour_limits *out);
/* From the values where mask != 0 (mask may be NULL). */
bcdi_status bcdi_colour_limits_masked(const float *values, const uint8_t *mask, size_t n,
                                      bcdi_colour_kind kind, double percentile,
                                      bcdi_colour_limits *out);
/* The map position t (0 at lo, 1 at hi; the maps clamp it) of value v. */
double bcdi_colour_position(const bcdi_colour_limits *l, double v);
/* What a figure prints about its scale: `rule` gets e.g. "colours: p1-p99 over the support"
 * ("0-p99" for FROM_ZERO, "p1-p99 about the median" for ABOUT_MEDIAN), `clipped` e.g. "3 of 4123
 * voxels beyond the limits (clipped)". */
void bcdi_colour_limits_note(const bcdi_colour_limits *l, const char *over, char *rule,
                             size_t rule_cap, char *clipped, size_t clipped_cap);

/* Round numbers for scale bars and colour-bar ends: the largest 1, 2 or 5 × 10^k not above x,
 * and the smallest 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k not below x (1 for x <= 0 or not
 * finite). */
double bcdi_nice_below(double x);
double bcdi_nice_above(double x);
/* A tick label: printf's %g with `digits` significant digits; |v| < 1e-12 is written 0. */
void bcdi_format_tick(double v, int digits, char *out, size_t cap);

#endif
