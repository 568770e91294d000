/* Raster figures and the PNG writer (see png.h). The font is a 5×7 cell per glyph, one string
 * of 35 characters per glyph ('#' = ink; 40 for g, p, q, y, _, µ and φ, whose eighth row is a
 * descender), drawn for braggcdi. */
#include "io/png.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
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

bcdi_status bcdi_image_create(bcdi_image *img, size_t width, size_t height, const uint8_t bg[3])
{
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

bcdi_status bcdi_png_write(bcdi_output *tx, const char *path, const bcdi_image *img)
{
    bcdi_output *own;
    FILE *f;
    bcdi_status st = bcdi_output_stream(tx, &own, path, &f);
    if (st != BCDI_OK) return st;
    static png_failure fail; /* static: must survive longjmp without being clobbered */
    memset(&fail, 0, sizeof fail);
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &fail, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        return bcdi_output_finish(own,
                                  bcdi_error(BCDI_ERR_NOMEM, "'%s': libpng could not start", path));
    }
    if (setjmp(fail.jump)) {
        png_destroy_write_struct(&png, &info);
        return bcdi_output_finish(own,
                                  bcdi_error(BCDI_ERR_IO, "'%s': libpng: %s", path, fail.message));
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < img->height; ++y)
        png_write_row(png, (png_const_bytep)(img->rgb + 3 * y * img->width));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    /* the stream's errors (disk full) are reported by the transaction's commit */
    return bcdi_output_finish(own, BCDI_OK);
}
