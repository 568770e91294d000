/* SPDX-License-Identifier: BSD-3-Clause */
/* Raster figures (see plot.h). The font is a 5×7 cell per glyph, one string of 35 characters
 * per glyph ('#' = ink; 40 for g, p, q, y, _, µ and φ, whose eighth row is a descender), drawn
 * for braggcdi. */
#include "num/plot.h"

#include "num/percentile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct glyph {
    const char *key;  /* one character, or a UTF-8 sequence */
    const char *rows; /* 7 (or 8, with a descender) rows of 5 */
} glyph;

static const glyph FONT[] = {
    {"0", ".###.#...##..###.#.###..##...#.###."},
    {"1", "..#...##....#....#....#....#...###."},
    {"2", ".###.#...#....#...#...#...#...#####"},
    {"3", "#####...#...#.....#.....##...#.###."},
    {"4", "...#...##..#.#.#..#.#####...#....#."},
    {"5", "######....####.....#....##...#.###."},
    {"6", "..##..#...#....####.#...##...#.###."},
    {"7", "#####....#...#...#...#....#....#..."},
    {"8", ".###.#...##...#.###.#...##...#.###."},
    {"9", ".###.#...##...#.####....#...#..##.."},
    {"a", "...........###.....#.#####...#.####"},
    {"b", "#....#....#.##.##..##...##...#####."},
    {"c", "...........###.#....#....#...#.###."},
    {"d", "....#....#.##.##..###...##...#.####"},
    {"e", "...........###.#...#######.....###."},
    {"f", "..##..#..#.#...###...#....#....#..."},
    {"g", "...........#####...##...#.####....#.###."},
    {"h", "#....#....#.##.##..##...##...##...#"},
    {"i", "..#........##....#....#....#...###."},
    {"j", "...#.........##....#....##..#..##.."},
    {"k", "#....#....#..#.#.#..##...#.#..#..#."},
    {"l", ".##....#....#....#....#....#...###."},
    {"m", "..........##.#.#.#.##.#.##...##...#"},
    {"n", "..........#.##.##..##...##...##...#"},
    {"o", "...........###.#...##...##...#.###."},
    {"p", "..........####.#...##...#####.#....#...."},
    {"q", "...........#####...##...#.####....#....#"},
    {"r", "..........#.##.##..##....#....#...."},
    {"s", "...........###.#.....###.....#####."},
    {"t", ".#....#...###...#....#....#..#..##."},
    {"u", "..........#...##...##...##..##.##.#"},
    {"v", "..........#...##...##...#.#.#...#.."},
    {"w", "..........#...##...##.#.##.#.#.#.#."},
    {"x", "..........#...#.#.#...#...#.#.#...#"},
    {"y", "..........#...##...##...#.####....#.###."},
    {"z", "..........#####...#...#...#...#####"},
    {"A", "..#...#.#.#...##...#######...##...#"},
    {"B", "####.#...##...#####.#...##...#####."},
    {"C", ".###.#...##....#....#....#...#.###."},
    {"D", "###..#..#.#...##...##...##..#.###.."},
    {"E", "######....#....####.#....#....#####"},
    {"F", "######....#....####.#....#....#...."},
    {"G", ".###.#...##....#.####...##...#.###."},
    {"H", "#...##...##...#######...##...##...#"},
    {"I", ".###...#....#....#....#....#...###."},
    {"J", "..###...#....#....#....#.#..#..##.."},
    {"K", "#...##..#.#.#..##...#.#..#..#.#...#"},
    {"L", "#....#....#....#....#....#....#####"},
    {"M", "#...###.###.#.##.#.##...##...##...#"},
    {"N", "#...##...###..##.#.##..###...##...#"},
    {"O", ".###.#...##...##...##...##...#.###."},
    {"P", "####.#...##...#####.#....#....#...."},
    {"Q", ".###.#...##...##...##.#.##..#..##.#"},
    {"R", "####.#...##...#####.#.#..#..#.#...#"},
    {"S", ".#####....#.....###.....#....#####."},
    {"T", "#####..#....#....#....#....#....#.."},
    {"U", "#...##...##...##...##...##...#.###."},
    {"V", "#...##...##...##...#.#.#..#.#...#.."},
    {"W", "#...##...##...##.#.##.#.##.#.#.#.#."},
    {"X", "#...##...#.#.#...#...#.#.#...##...#"},
    {"Y", "#...##...#.#.#...#....#....#....#.."},
    {"Z", "#####....#...#...#...#...#....#####"},
    {"<", "........#...#...#.....#.....#......"},
    {">", "......#.....#.....#...#...#........"},
    {"[", ".###..#....#....#....#....#....###."},
    {"]", ".###....#....#....#....#....#..###."},
    {"%", "##...##..#...#...#...#...#..##...##"},
    {";", "......##...##........##....#...#..."},
    {"'", "..#....#..........................."},
    {"\"", ".#.#..#.#.........................."},
    {"_", "...................................#####"},
    {"^", "..#...#.#.#...#...................."},
    {"|", "..#....#....#....#....#....#....#.."},
    {"?", ".###.#...#....#...#...#.........#.."},
    {"!", "..#....#....#....#....#.........#.."},
    {"*", ".......#..#.#.#.###.#.#.#..#......."},
    {"\xc2\xb0", ".##..#..#..##......................"},      /* ° */
    {"\xc2\xb2", ".##.....#...#...#....###..........."},      /* ² */
    {"\xc2\xb3", ".##.....#...#.....#..##............"},      /* ³ */
    {"\xc2\xb5", "..........#...##...##...###.###.#.##...."}, /* µ (micro sign) */
    {"\xce\xbc", "..........#...##...##...###.###.#.##...."}, /* μ (Greek mu) */
    {"\xce\xb8", ".###.#...##...#######...##...#.###."},      /* θ */
    {"\xcf\x86", "..#....#...###.#.#.##.#.#.###...#....#.."}, /* φ */
    {"\xce\x94", "..#....#...#.#..#.#.#...##...######"},      /* Δ */
    {"\xc3\x97", ".....#...#.#.#...#...#.#.#...#....."},      /* × */
    {"\xe2\x88\x92", "...............#####..............."},  /* − (minus sign) */
    {"-", "...............#####..............."},
    {"+", ".......#....#..#####..#....#......."},
    {".", "..........................##...##.."},
    {",", ".....................##....#...#..."},
    {"=", "..........#####.....#####.........."},
    {"(", "...#...#...#....#....#.....#.....#."},
    {")", ".#.....#.....#....#....#...#...#..."},
    {"/", ".........#...#...#...#...#........."},
    {":", "......##...##.........##...##......"},
    {" ", "..................................."},
    {"\xc3\x85", "..#...#.#...#...###.#...#######...#"}, /* Å */
    {"\xce\xb5", "...........###.#.....##..#.....###."}, /* ε */
};

static const glyph *lookup(const char *key, size_t n)
{
    for (size_t i = 0; i < sizeof FONT / sizeof *FONT; ++i)
        if (strlen(FONT[i].key) == n && !memcmp(FONT[i].key, key, n)) return &FONT[i];
    return NULL;
}

/* The glyph of the character (one UTF-8 sequence) at `text`, drawn as written (no case
 * folding); one without a glyph of its own is drawn as '?'. *advance: its length in bytes. */
static const glyph *find_glyph(const char *text, size_t *advance)
{
    size_t n = 1;
    if ((unsigned char)text[0] >= 0x80)
        while (n < 4 && ((unsigned char)text[n] & 0xC0) == 0x80)
            ++n;
    *advance = n;
    const glyph *g = lookup(text, n);
    return g ? g : lookup("?", 1);
}

long bcdi_text_width(const char *text, int scale)
{
    long count = 0;
    for (size_t i = 0; text[i];) {
        size_t adv;
        find_glyph(text + i, &adv);
        i += adv;
        ++count;
    }
    return count ? count * 6 * scale - scale : 0;
}

void bcdi_image_text(bcdi_image *img, long x, long y, const char *text, int scale,
                     const uint8_t rgb[3])
{
    if (*text) {
        if (!img->text_scale_min || scale < img->text_scale_min) img->text_scale_min = scale;
        if (scale > img->text_scale_max) img->text_scale_max = scale;
    }
    for (size_t i = 0; text[i];) {
        size_t adv;
        const glyph *g = find_glyph(text + i, &adv);
        i += adv;
        /* 35 characters: a 5×7 cell; 40: an eighth row below the baseline (descenders) */
        int rows = g ? (int)(strlen(g->rows) / 5) : 0;
        if (g && rows >= 7)
            for (int row = 0; row < rows; ++row)
                for (int col = 0; col < 5; ++col)
                    if (g->rows[row * 5 + col] == '#')
                        bcdi_image_fill_rect(img, x + col * scale, y + row * scale, scale, scale,
                                             rgb);
        x += 6 * scale;
    }
}

void bcdi_plot_text(bcdi_image *img, long x, long y, const char *text, const uint8_t rgb[3])
{
    bcdi_image_text(img, x, y, text, BCDI_PLOT_TEXT_SCALE, rgb);
}

long bcdi_plot_text_width(const char *text)
{
    return bcdi_text_width(text, BCDI_PLOT_TEXT_SCALE);
}

bcdi_status bcdi_image_create(bcdi_image *img, size_t width, size_t height, const uint8_t bg[3])
{
    img->text_scale_min = img->text_scale_max = 0;
    img->width = width;
    img->height = height;
    img->rgb = malloc(width * height * 3);
    if (!img->rgb) return bcdi_error(BCDI_ERR_NOMEM, "image %zux%zu", width, height);
    for (size_t i = 0; i < width * height; ++i)
        memcpy(img->rgb + 3 * i, bg, 3);
    return BCDI_OK;
}

void bcdi_image_free(bcdi_image *img)
{
    free(img->rgb);
    img->rgb = NULL;
}

void bcdi_image_set(bcdi_image *img, long x, long y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= (long)img->width || y >= (long)img->height) return;
    memcpy(img->rgb + 3 * ((size_t)y * img->width + (size_t)x), rgb, 3);
}

void bcdi_image_fill_rect(bcdi_image *img, long x, long y, long w, long h, const uint8_t rgb[3])
{
    for (long j = y; j < y + h; ++j)
        for (long i = x; i < x + w; ++i)
            bcdi_image_set(img, i, j, rgb);
}

void bcdi_image_ring(bcdi_image *img, double cx, double cy, double radius, double thickness,
                     const uint8_t rgb[3])
{
    long r = (long)ceil(radius + thickness);
    for (long j = (long)cy - r; j <= (long)cy + r; ++j)
        for (long i = (long)cx - r; i <= (long)cx + r; ++i) {
            double d = hypot(i + 0.5 - cx, j + 0.5 - cy);
            if (fabs(d - radius) <= 0.5 * thickness) bcdi_image_set(img, i, j, rgb);
        }
}

static uint8_t to_byte(double v)
{
    v = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
    return (uint8_t)lround(255.0 * v);
}

void bcdi_colormap_grey(double t, uint8_t rgb[3])
{
    rgb[0] = rgb[1] = rgb[2] = to_byte(t);
}

void bcdi_colormap_diverging(double t, uint8_t rgb[3])
{
    /* blue (0.23, 0.30, 0.75) → near-white (0.87, 0.87, 0.87) → red (0.71, 0.02, 0.15), linear
     * in each half: symmetric, and zero displacement reads as neutral */
    static const double lo[3] = {0.23, 0.30, 0.75}, mid[3] = {0.87, 0.87, 0.87},
                        hi[3] = {0.71, 0.02, 0.15};
    t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    for (int k = 0; k < 3; ++k) {
        double v = t < 0.5 ? lo[k] + (mid[k] - lo[k]) * (t / 0.5)
                           : mid[k] + (hi[k] - mid[k]) * ((t - 0.5) / 0.5);
        rgb[k] = to_byte(v);
    }
}

void bcdi_image_frame(bcdi_image *img, long x, long y, long w, long h, const uint8_t rgb[3])
{
    bcdi_image_fill_rect(img, x - 1, y - 1, w + 2, 1, rgb);
    bcdi_image_fill_rect(img, x - 1, y + h, w + 2, 1, rgb);
    bcdi_image_fill_rect(img, x - 1, y - 1, 1, h + 2, rgb);
    bcdi_image_fill_rect(img, x + w, y - 1, 1, h + 2, rgb);
}

void bcdi_image_line(bcdi_image *img, long x0, long y0, long x1, long y1, int width,
                     const uint8_t rgb[3])
{
    /* Bresenham, a square brush */
    long dx = labs(x1 - x0), dy = -labs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    long err = dx + dy;
    for (;;) {
        bcdi_image_fill_rect(img, x0 - width / 2, y0 - width / 2, width, width, rgb);
        if (x0 == x1 && y0 == y1) break;
        long e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

void bcdi_image_colour_bar(bcdi_image *img, long x, long y, long w, long h, bcdi_colormap map)
{
    for (long j = 0; j < h; ++j) {
        double t = 1.0 - (double)j / (double)(h > 1 ? h - 1 : 1);
        uint8_t rgb[3];
        map(t, rgb);
        bcdi_image_fill_rect(img, x, y + j, w, 1, rgb);
    }
}

double bcdi_nice_below(double x)
{
    if (!(x > 0.0) || !isfinite(x)) return 1.0;
    double p = pow(10.0, floor(log10(x)));
    if (5.0 * p <= x) return 5.0 * p;
    if (2.0 * p <= x) return 2.0 * p;
    return p;
}

double bcdi_nice_above(double x)
{
    static const double steps[] = {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0};
    if (!(x > 0.0) || !isfinite(x)) return 1.0;
    double p = pow(10.0, floor(log10(x)));
    for (size_t i = 0; i < sizeof steps / sizeof *steps; ++i)
        if (steps[i] * p >= x * (1.0 - 1e-9)) return steps[i] * p;
    return 10.0 * p;
}

void bcdi_format_tick(double v, int digits, char *out, size_t cap)
{
    if (fabs(v) < 1e-12) v = 0.0; /* no "-0" or "1e-17" from rounding */
    snprintf(out, cap, "%.*g", digits, v);
}

void bcdi_colour_limits_sorted(const float *sorted, size_t count, bcdi_colour_kind kind,
                               double percentile, bcdi_colour_limits *out)
{
    out->kind = kind;
    out->percentile = percentile;
    out->count = count;
    out->below = out->above = 0;
    double top = count ? bcdi_percentile_sorted(sorted, count, percentile) : 0.0;
    if (kind == BCDI_COLOUR_SIGNED || kind == BCDI_COLOUR_ABOUT_MEDIAN) {
        double bottom = count ? bcdi_percentile_sorted(sorted, count, 100.0 - percentile) : 0.0;
        double centre = kind == BCDI_COLOUR_ABOUT_MEDIAN && count
                            ? bcdi_percentile_sorted(sorted, count, 50.0)
                            : 0.0;
        double half = fmax(fabs(bottom - centre), fabs(top - centre));
        if (!(half > 0.0) || !isfinite(half)) half = 1.0;
        out->lo = centre - half, out->hi = centre + half;
    } else {
        out->lo = 0.0;
        out->hi = top > 0.0 && isfinite(top) ? top : 1.0;
    }
    for (size_t i = 0; i < count && sorted[i] < out->lo; ++i)
        ++out->below;
    for (size_t i = count; i > 0 && sorted[i - 1] > out->hi; --i)
        ++out->above;
}

bcdi_status bcdi_colour_limits_masked(const float *values, const uint8_t *mask, size_t n,
                                      bcdi_colour_kind kind, double percentile,
                                      bcdi_colour_limits *out)
{
    float *sorted;
    size_t count;
    bcdi_status st = bcdi_sorted_masked(values, mask, n, &sorted, &count);
    if (st != BCDI_OK) return st;
    bcdi_colour_limits_sorted(sorted, count, kind, percentile, out);
    free(sorted);
    return BCDI_OK;
}

double bcdi_colour_position(const bcdi_colour_limits *l, double v)
{
    return (v - l->lo) / (l->hi - l->lo);
}

void bcdi_colour_limits_note(const bcdi_colour_limits *l, const char *over, char *rule,
                             size_t rule_cap, char *clipped, size_t clipped_cap)
{
    if (l->kind == BCDI_COLOUR_SIGNED)
        snprintf(rule, rule_cap, "colours: p%g-p%g over %s", 100.0 - l->percentile, l->percentile,
                 over);
    else if (l->kind == BCDI_COLOUR_ABOUT_MEDIAN)
        snprintf(rule, rule_cap, "colours: p%g-p%g about the median over %s", 100.0 - l->percentile,
                 l->percentile, over);
    else
        snprintf(rule, rule_cap, "colours: 0-p%g over %s", l->percentile, over);
    snprintf(clipped, clipped_cap, "%zu of %zu voxels beyond the limits (clipped)",
             l->below + l->above, l->count);
}
