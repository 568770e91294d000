/* SPDX-License-Identifier: BSD-3-Clause */
/* Figures of a comparison: slices.png (one central plane of the common grid per state, side by
 * side; rows density, displacement, displacement change and density change, each row with one
 * shared colour scale from robust percentiles, num/plot.h) and trends.png (volume, mean
 * displacement, dislocation count and d-spacing against the state's label). All text at the
 * figures' one text scale. */
#include "compare_internal.h"

#include "io/png.h"
#include "num/percentile.h"
#include "num/plot.h"
#include "num/volume.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t WHITE[3] = {255, 255, 255}, BLACK[3] = {0, 0, 0}, OUTSIDE[3] = {200, 200, 200},
                     GRID[3] = {225, 225, 225}, LINE[3] = {30, 90, 170};

/* Labels are drawn as written in the built-in font (characters without a glyph show as '?').
 * Labels over `max_chars` characters (UTF-8 sequences, one cell each) are cut to fit. */
static void short_label(const char *label, size_t max_chars, char *out, size_t cap)
{
    size_t chars = 0, keep = 0; /* keep: bytes of the first max_chars - 2 characters */
    for (size_t i = 0; label[i]; ++i)
        if (((unsigned char)label[i] & 0xC0) != 0x80 && chars++ == max_chars - 2) keep = i;
    if (chars > max_chars)
        snprintf(out, cap, "%.*s..", (int)keep, label);
    else
        snprintf(out, cap, "%s", label);
}

static const char *const ROW_TITLE[CMP_SLICE_ROWS] = {"density", "displacement (\xc3\x85)",
                                                      "displacement change (\xc3\x85)",
                                                      "density change (lost -, gained +)"};

static const float *row_field(const bcdi_compare_state *s, int row)
{
    return row == 0   ? s->cg_density
           : row == 1 ? s->cg_displacement
           : row == 2 ? s->cg_delta_displacement
                      : s->cg_delta_density;
}

static int row_inside(const bcdi_compare_state *s, const bcdi_compare_state *ref, size_t v, int row)
{
    if (row < 2) return s->cg_support[v];
    if (row == 2) return s->cg_support[v] && ref->cg_support[v];
    return s->cg_support[v] || ref->cg_support[v]; /* lost and gained volume show */
}

bcdi_status cmp_slice_limits(const bcdi_comparison *c, bcdi_colour_limits *limits)
{
    const size_t *n = c->cg_shape;
    const size_t nv = n[0] * n[1] * n[2];
    const bcdi_compare_state *ref = &c->states[c->reference];
    /* 4 bytes per common-grid voxel and state: within the 18 of each state's maps that
     * compare's memory estimate counts */
    float *pool = malloc((c->state_count ? c->state_count : 1) * nv * sizeof *pool);
    if (!pool) return bcdi_error(BCDI_ERR_NOMEM, "compare: colour limits of %zu voxels", nv);
    /* each row's values inside its voxels, pooled over the states: one scale per row */
    for (int row = 0; row < CMP_SLICE_ROWS; ++row) {
        size_t count = 0;
        for (size_t k = 0; k < c->state_count; ++k) {
            const float *field = row_field(&c->states[k], row);
            for (size_t v = 0; v < nv; ++v)
                if (row_inside(&c->states[k], ref, v, row)) pool[count++] = field[v];
        }
        bcdi_sort_floats(pool, count);
        bcdi_colour_limits_sorted(pool, count,
                                  row == 0 ? BCDI_COLOUR_FROM_ZERO : BCDI_COLOUR_SIGNED,
                                  BCDI_COLOUR_PERCENTILE, &limits[row]);
        bcdi_colour_limits *l = &limits[row];
        if (row == 3 && l->hi > 1.0) {
            /* densities are in [0, 1]: Fourier-shift ringing must not stretch the scale */
            l->lo = -1.0, l->hi = 1.0, l->below = l->above = 0;
            for (size_t i = 0; i < count; ++i)
                l->below += pool[i]<l->lo, l->above += pool[i]> l->hi;
        }
    }
    free(pool);
    return BCDI_OK;
}

bcdi_status cmp_render_slices(const bcdi_comparison *c, const bcdi_colour_limits *limits,
                              bcdi_image *out)
{
    const size_t *n = c->cg_shape;
    const bcdi_compare_state *ref = &c->states[c->reference];
    /* the plane normal to the axis along which the reference is thinnest (the largest
     * section), through its density centre of mass */
    size_t lo[3] = {n[0], n[1], n[2]}, hi[3] = {0, 0, 0}; /* kept when the support is empty */
    double com[3];
    bcdi_mask_bounds(ref->cg_support, n, lo, hi);
    double sum = bcdi_centre_of_mass(ref->cg_density, NULL, n, com);
    int normal = 0;
    for (int a = 1; a < 3; ++a)
        if (hi[a] - lo[a] < hi[normal] - lo[normal]) normal = a;
    const int ax1 = normal == 0 ? 1 : 0, ax2 = normal == 2 ? 1 : 2; /* vertical, horizontal */
    size_t plane = sum > 0.0 ? (size_t)lround(com[normal]) : n[normal] / 2;
    if (plane >= n[normal]) plane = n[normal] / 2;
    size_t stride[3] = {n[1] * n[2], n[2], 1};
#define VOXEL(i1, i2) (plane * stride[normal] + (size_t)(i1)*stride[ax1] + (size_t)(i2)*stride[ax2])
    /* the window: union of the supports in that plane, plus a margin */
    long lo1 = (long)n[ax1], hi1 = -1, lo2 = (long)n[ax2], hi2 = -1;
    for (size_t k = 0; k < c->state_count; ++k)
        for (size_t i1 = 0; i1 < n[ax1]; ++i1)
            for (size_t i2 = 0; i2 < n[ax2]; ++i2)
                if (c->states[k].cg_support[VOXEL(i1, i2)]) {
                    if ((long)i1 < lo1) lo1 = (long)i1;
                    if ((long)i1 > hi1) hi1 = (long)i1;
                    if ((long)i2 < lo2) lo2 = (long)i2;
                    if ((long)i2 > hi2) hi2 = (long)i2;
                }
    if (hi1 < 0) lo1 = 0, hi1 = (long)n[ax1] - 1, lo2 = 0, hi2 = (long)n[ax2] - 1;
    lo1 = lo1 > 2 ? lo1 - 2 : 0, lo2 = lo2 > 2 ? lo2 - 2 : 0;
    hi1 = hi1 + 2 < (long)n[ax1] ? hi1 + 2 : (long)n[ax1] - 1;
    hi2 = hi2 + 2 < (long)n[ax2] ? hi2 + 2 : (long)n[ax2] - 1;
    long w1 = hi1 - lo1 + 1, w2 = hi2 - lo2 + 1;
    long zoom = 180 / (w1 > w2 ? w1 : w2);
    if (zoom < 1) zoom = 1;
    const long text_h = BCDI_PLOT_TEXT_HEIGHT, margin = 16, gap = 14, bar_w = 16;
    const long panel_w = w2 * zoom, panel_h = w1 * zoom;
    /* each row: its title and a line on its colour scale */
    const long head_h = text_h + 14, row_title_h = 2 * text_h + 4 + 10;
    char ticks[CMP_SLICE_ROWS][3][32], rules[CMP_SLICE_ROWS][260];
    long bar_label_w = 0, text_w = 0;
    for (int row = 0; row < CMP_SLICE_ROWS; ++row) {
        const bcdi_colour_limits *l = &limits[row];
        for (int t = 0; t < 3; ++t) {
            bcdi_format_tick(l->hi - (l->hi - l->lo) * t / 2.0, 3, ticks[row][t],
                             sizeof ticks[row][t]);
            long w = bcdi_plot_text_width(ticks[row][t]) + 8;
            bar_label_w = w > bar_label_w ? w : bar_label_w;
        }
        char rule[128], clipped[128]; /* the shared rule's words, shortened to a line */
        bcdi_colour_limits_note(l, row == 0 ? "the supports" : "the row", rule, sizeof rule,
                                clipped, sizeof clipped);
        snprintf(rules[row], sizeof rules[row], "%s: %zu of %zu clipped",
                 rule + strlen("colours: "), l->below + l->above, l->count);
        long w = bcdi_plot_text_width(rules[row]);
        text_w = w > text_w ? w : text_w;
    }
    long col_w = panel_w > 150 ? panel_w : 150;
    long width = margin + (long)c->state_count * (col_w + gap) + bar_w + bar_label_w + margin;
    if (margin + text_w + margin > width) width = margin + text_w + margin;
    long height = margin + head_h + CMP_SLICE_ROWS * (row_title_h + panel_h + gap) + text_h + 16;
    bcdi_image img;
    bcdi_status st = bcdi_image_create(&img, (size_t)width, (size_t)height, WHITE);
    if (st != BCDI_OK) return st;
    char text[256];
    for (size_t k = 0; k < c->state_count; ++k) {
        char label[256];
        short_label(c->states[k].label, (size_t)(col_w / (6 * BCDI_PLOT_TEXT_SCALE)), label,
                    sizeof label);
        bcdi_plot_text(&img, margin + (long)k * (col_w + gap), margin, label, BLACK);
    }
    for (int row = 0; row < CMP_SLICE_ROWS; ++row) {
        const bcdi_colour_limits *l = &limits[row];
        long y0 = margin + head_h + row * (row_title_h + panel_h + gap);
        bcdi_plot_text(&img, margin, y0, ROW_TITLE[row], BLACK);
        bcdi_plot_text(&img, margin, y0 + text_h + 4, rules[row], BLACK);
        long py = y0 + row_title_h;
        for (size_t k = 0; k < c->state_count; ++k) {
            const bcdi_compare_state *s = &c->states[k];
            const float *field = row_field(s, row);
            long px = margin + (long)k * (col_w + gap);
            for (long a1 = 0; a1 < w1; ++a1)
                for (long a2 = 0; a2 < w2; ++a2) {
                    size_t v = VOXEL(lo1 + a1, lo2 + a2);
                    uint8_t rgb[3];
                    if (!row_inside(s, ref, v, row)) {
                        memcpy(rgb, OUTSIDE, 3);
                    } else if (row > 0) { /* the maps clamp t to [0, 1]: beyond the limits clips */
                        bcdi_colormap_diverging(bcdi_colour_position(l, field[v]), rgb);
                    } else {
                        bcdi_colormap_grey(bcdi_colour_position(l, field[v]), rgb);
                    }
                    bcdi_image_fill_rect(&img, px + a2 * zoom, py + a1 * zoom, zoom, zoom, rgb);
                }
        }
        /* colour bar: top = maximum */
        long bx = margin + (long)c->state_count * (col_w + gap);
        bcdi_image_colour_bar(&img, bx, py, bar_w, panel_h,
                              row > 0 ? bcdi_colormap_diverging : bcdi_colormap_grey);
        bcdi_plot_text(&img, bx + bar_w + 4, py, ticks[row][0], BLACK);
        bcdi_plot_text(&img, bx + bar_w + 4, py + panel_h / 2 - text_h / 2, ticks[row][1], BLACK);
        bcdi_plot_text(&img, bx + bar_w + 4, py + panel_h - text_h, ticks[row][2], BLACK);
    }
#undef VOXEL
    snprintf(text, sizeof text, "plane %zu of axis %d, native grid", plane, normal);
    bcdi_plot_text(&img, margin, height - text_h - 8, text, BLACK);
    *out = img;
    return BCDI_OK;
}

/* One trend chart at (x0, y0) of size w × h: values against the state index. */
static void draw_chart(bcdi_image *img, const bcdi_comparison *c, long x0, long y0, long w, long h,
                       const char *title, const double *values)
{
    const long text_h = BCDI_PLOT_TEXT_HEIGHT;
    bcdi_plot_text(img, x0, y0, title, BLACK);
    long left = x0 + bcdi_plot_text_width("-0.000e+00") + 6, top = y0 + text_h + 10;
    long right = x0 + w - 10, bottom = y0 + h - text_h - 12;
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (size_t k = 0; k < c->state_count; ++k)
        if (isfinite(values[k])) {
            if (values[k] < lo) lo = values[k];
            if (values[k] > hi) hi = values[k];
        }
    bcdi_image_fill_rect(img, left, top, 1, bottom - top + 1, BLACK);
    bcdi_image_fill_rect(img, left, bottom, right - left + 1, 1, BLACK);
    if (!(hi >= lo)) {
        bcdi_plot_text(img, left + 10, (top + bottom) / 2, "not available", BLACK);
        return;
    }
    double pad = hi > lo ? 0.1 * (hi - lo) : (fabs(hi) > 0 ? 0.05 * fabs(hi) : 1.0);
    lo -= pad, hi += pad;
    char text[64];
    for (int t = 0; t <= 2; ++t) { /* three ticks */
        double v = lo + (hi - lo) * t / 2.0;
        long y = bottom - (long)lround((double)(bottom - top) * t / 2.0);
        bcdi_image_fill_rect(img, left + 1, y, right - left, 1, GRID);
        snprintf(text, sizeof text, "%.4g", v);
        bcdi_plot_text(img, left - bcdi_plot_text_width(text) - 4, y - text_h / 2, text, BLACK);
    }
    long prev_x = -1, prev_y = -1;
    size_t count = c->state_count;
    for (size_t k = 0; k < count; ++k) {
        long x = left + (long)lround((double)(right - left) * ((double)k + 0.5) / (double)count);
        char label[32];
        short_label(c->states[k].label, 9, label, sizeof label);
        bcdi_plot_text(img, x - bcdi_plot_text_width(label) / 2, bottom + 6, label, BLACK);
        if (!isfinite(values[k])) continue;
        long y = bottom - (long)lround((double)(bottom - top) * (values[k] - lo) / (hi - lo));
        if (prev_x >= 0) bcdi_image_line(img, prev_x, prev_y, x, y, 2, LINE);
        bcdi_image_fill_rect(img, x - 4, y - 4, 9, 9, k == c->reference ? BLACK : LINE);
        prev_x = x, prev_y = y;
    }
}

bcdi_status cmp_render_trends(const bcdi_comparison *c, bcdi_image *out)
{
    const long chart_w = 420, chart_h = 240, margin = 16;
    bcdi_image img;
    bcdi_status st = bcdi_image_create(&img, (size_t)(2 * chart_w + 3 * margin),
                                       (size_t)(2 * chart_h + 3 * margin), WHITE);
    if (st != BCDI_OK) return st;
    size_t n = c->state_count;
    double *values = malloc(4 * n * sizeof *values);
    if (!values) {
        bcdi_image_free(&img);
        return bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        values[k] = s->analysis.total_volume_nm3 * 1e-9;
        values[n + k] = s->analysis.displacement_stats.mean;
        values[2 * n + k] = (double)s->analysis.line_count;
        values[3 * n + k] = s->lattice.d_spacing_angstrom;
    }
    draw_chart(&img, c, margin, margin, chart_w, chart_h, "volume (\xc2\xb5m\xc2\xb3)", values);
    draw_chart(&img, c, 2 * margin + chart_w, margin, chart_w, chart_h,
               "mean displacement (\xc3\x85)", values + n);
    draw_chart(&img, c, margin, 2 * margin + chart_h, chart_w, chart_h, "dislocations",
               values + 2 * n);
    draw_chart(&img, c, 2 * margin + chart_w, 2 * margin + chart_h, chart_w, chart_h,
               "d-spacing (\xc3\x85)", values + 3 * n);
    free(values);
    *out = img;
    return BCDI_OK;
}

static bcdi_status write_image(bcdi_output *tx, bcdi_status rendered, bcdi_image *img,
                               const char *path)
{
    if (rendered != BCDI_OK) return rendered;
    bcdi_status st = bcdi_png_write(tx, path, img->width, img->height, img->rgb);
    bcdi_image_free(img);
    return st;
}

bcdi_status cmp_write_figures(bcdi_output *tx, const bcdi_comparison *c,
                              const bcdi_colour_limits *slice_limits, const char *slices_path,
                              const char *trends_path)
{
    bcdi_image img;
    bcdi_status st = write_image(tx, cmp_render_slices(c, slice_limits, &img), &img, slices_path);
    if (st == BCDI_OK) st = write_image(tx, cmp_render_trends(c, &img), &img, trends_path);
    return st;
}
