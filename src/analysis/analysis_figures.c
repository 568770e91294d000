/* SPDX-License-Identifier: BSD-3-Clause */
/* PNG figures: the three central slices of the orthonormal grid (through the density's centre
 * of mass), Bragg density in grey, displacement and strain in a diverging map, each over colour
 * limits from robust percentiles of where the field is defined (num/plot.h: a few outlying voxels
 * cannot stretch the scale), a colour bar labelled with the limits, a note saying the rule and how
 * many voxels it clips, a scale bar in nm, and rings where dislocation lines cross a slice. All
 * text at the figures' one text scale. */
#include "analysis_internal.h"
#include "analysis_output.h"

#include "io/png.h"
#include "num/volume.h"
#include "num/plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct grid_view {
    size_t shape[3]; /* nz, ny, nx (x fastest) */
    double voxel_nm;
    double origin_nm[3];  /* x, y, z of voxel 0 (frame coordinates) */
    double axes[3][3];    /* rows: frame axes in lab */
    const float *density; /* the slices go through its centre of mass */
    const uint8_t *support;
    const char *axis_names[3];
} grid_view;

static const uint8_t WHITE[3] = {255, 255, 255}, BLACK[3] = {0, 0, 0}, OUTSIDE[3] = {200, 200, 200},
                     MARK_DENSITY[3] = {230, 40, 40}, MARK_DISPLACEMENT[3] = {0, 0, 0};

/* Panel k shows the plane normal to frame axis `normal[k]`; horizontal axis h, vertical v
 * (growing upwards). */
static const int PANEL_NORMAL[3] = {2, 1, 0}, PANEL_H[3] = {0, 0, 1}, PANEL_V[3] = {1, 2, 2};

static size_t axis_len(const grid_view *g, int frame_axis)
{
    return g->shape[2 - frame_axis];
}

static size_t voxel_at(const grid_view *g, const size_t ijk[3]) /* ijk: x, y, z indices */
{
    return (ijk[2] * g->shape[1] + ijk[1]) * g->shape[2] + ijk[0];
}

/* What each figure shows: its title, the field and where it is defined. */
static const char *const FIGURE_TITLE[ANA_FIGURE_COUNT] = {
    "Bragg density", "displacement along G (\xc3\x85)", "strain along G"};
static const char *const FIGURE_OVER[ANA_FIGURE_COUNT] = {"the support", "the support",
                                                          "the valid strain voxels"};

static const float *figure_field(const bcdi_analysis_result *r, ana_figure figure)
{
    return figure == ANA_FIGURE_DENSITY        ? r->o_density
           : figure == ANA_FIGURE_DISPLACEMENT ? r->o_displacement
                                               : r->o_strain;
}

/* Where the figure's field is defined (its colour limits are taken there). */
static const uint8_t *figure_mask(const bcdi_analysis_result *r, ana_figure figure)
{
    return figure == ANA_FIGURE_STRAIN ? r->o_strain_valid : r->o_support;
}

bcdi_status ana_figure_limits(const bcdi_analysis_result *r, bcdi_colour_limits *limits)
{
    if (!r->has_ortho)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "figures need the orthonormal grid "
                                                "(orthogonalise=true)");
    const size_t n = r->ortho_shape[0] * r->ortho_shape[1] * r->ortho_shape[2];
    for (int f = 0; f < ANA_FIGURE_COUNT; ++f) {
        /* the absolute strain rides on the mean lattice strain (−9e-3 on the gold scan, ±2e-4
         * about it): its scale is centred on the median, or the map is one colour */
        bcdi_colour_kind kind = f == ANA_FIGURE_DENSITY  ? BCDI_COLOUR_FROM_ZERO
                                : f == ANA_FIGURE_STRAIN ? BCDI_COLOUR_ABOUT_MEDIAN
                                                         : BCDI_COLOUR_SIGNED;
        bcdi_status st =
            bcdi_colour_limits_masked(figure_field(r, (ana_figure)f), figure_mask(r, (ana_figure)f),
                                      n, kind, BCDI_COLOUR_PERCENTILE, &limits[f]);
        if (st != BCDI_OK) return st;
    }
    return BCDI_OK;
}

static void fill_view(const bcdi_analysis_result *r, grid_view *g, size_t centre[3])
{
    memset(g, 0, sizeof *g);
    memcpy(g->shape, r->ortho_shape, sizeof g->shape);
    g->voxel_nm = r->ortho_voxel_nm;
    memcpy(g->origin_nm, r->ortho_origin_nm, sizeof g->origin_nm);
    memcpy(g->axes, r->ortho_axes, sizeof g->axes);
    g->density = r->o_density;
    g->support = r->o_support;
    int crystal = !(g->axes[0][0] == 1.0 && g->axes[1][1] == 1.0 && g->axes[2][2] == 1.0);
    g->axis_names[0] = crystal ? "xc" : "x";
    g->axis_names[1] = crystal ? "yc" : "y";
    g->axis_names[2] = crystal ? "zc" : "z";
    /* slices through the density's centre of mass inside the support */
    double com_zyx[3];
    double mass = bcdi_centre_of_mass(g->density, g->support, g->shape, com_zyx);
    for (int a = 0; a < 3; ++a) {
        long c = mass > 0.0 ? lround(com_zyx[2 - a]) : (long)(axis_len(g, a) / 2);
        if (c < 0) c = 0;
        if (c >= (long)axis_len(g, a)) c = (long)axis_len(g, a) - 1;
        centre[a] = (size_t)c;
    }
}

bcdi_status ana_render_figure(const bcdi_analysis_result *r, ana_figure figure,
                              const bcdi_colour_limits *lim, bcdi_image *img)
{
    if (!r->has_ortho)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "figures need the orthonormal grid "
                                                "(orthogonalise=true)");
    grid_view view;
    size_t centre[3]; /* x, y, z */
    fill_view(r, &view, centre);
    const grid_view *g = &view;
    const int density_figure = figure == ANA_FIGURE_DENSITY;
    const float *field = figure_field(r, figure);
    const uint8_t *defined = figure_mask(r, figure);
    /* pixels per voxel so that the largest panel side is about 240 px */
    size_t biggest = 1;
    for (int a = 0; a < 3; ++a)
        biggest = axis_len(g, a) > biggest ? axis_len(g, a) : biggest;
    int zoom = (int)(240 / biggest);
    if (zoom < 1) zoom = 1;
    const long text_h = BCDI_PLOT_TEXT_HEIGHT, margin = 16, gap = 24, bar_w = 18;
    const long title_h = 2 * text_h + 22;
    /* below the panels: the scale bar, then two lines on the colour scale */
    const long bottom_h = 8 + 16 + 2 * text_h + 6 + 10;
    char label[3][64];
    long panel_w[3], panel_h[3], column_w[3], total_w = margin, max_h = 0;
    double plane_nm[3];
    for (int k = 0; k < 3; ++k) {
        int hn = PANEL_H[k], vn = PANEL_V[k], nn = PANEL_NORMAL[k];
        plane_nm[k] = g->origin_nm[nn] + g->voxel_nm * (double)centre[nn];
        snprintf(label[k], sizeof label[k], "%s-%s, %s=%.0f nm", g->axis_names[hn],
                 g->axis_names[vn], g->axis_names[nn], plane_nm[k]);
        panel_w[k] = (long)axis_len(g, hn) * zoom;
        panel_h[k] = (long)axis_len(g, vn) * zoom;
        /* the font rule: a column makes room for its label, the label keeps its size */
        long label_w = bcdi_plot_text_width(label[k]);
        column_w[k] = panel_w[k] > label_w ? panel_w[k] : label_w;
        total_w += column_w[k] + gap;
        if (panel_h[k] > max_h) max_h = panel_h[k];
    }
    if (max_h < 120) max_h = 120;
    char ticks[3][32];
    long tick_w = 0;
    for (int k = 0; k < 3; ++k) {
        bcdi_format_tick(lim->hi - (lim->hi - lim->lo) * k / 2.0, 3, ticks[k], sizeof ticks[k]);
        long w = bcdi_plot_text_width(ticks[k]);
        tick_w = w > tick_w ? w : tick_w;
    }
    char rule[128], clipped[128];
    bcdi_colour_limits_note(lim, FIGURE_OVER[figure], rule, sizeof rule, clipped, sizeof clipped);
    long bar_x = total_w + 4;
    total_w = bar_x + bar_w + 8 + tick_w + margin;
    long note_w = margin + bcdi_plot_text_width(rule) + margin;
    if (note_w > total_w) total_w = note_w;
    long height = title_h + max_h + bottom_h;
    bcdi_status st = bcdi_image_create(img, (size_t)total_w, (size_t)height, WHITE);
    if (st != BCDI_OK) return st;
    bcdi_plot_text(img, margin, 6, FIGURE_TITLE[figure], BLACK);

    long x0 = margin;
    for (int k = 0; k < 3; ++k) {
        int hn = PANEL_H[k], vn = PANEL_V[k], nn = PANEL_NORMAL[k];
        long y0 = title_h + (max_h - panel_h[k]);
        bcdi_plot_text(img, x0, title_h - text_h - 6, label[k], BLACK);
        for (size_t j = 0; j < axis_len(g, vn); ++j)
            for (size_t i = 0; i < axis_len(g, hn); ++i) {
                size_t ijk[3];
                ijk[nn] = centre[nn];
                ijk[hn] = i;
                ijk[vn] = j;
                size_t v = voxel_at(g, ijk);
                uint8_t rgb[3]; /* the maps clamp t to [0, 1]: values beyond the limits clip */
                if (density_figure)
                    bcdi_colormap_grey(bcdi_colour_position(lim, field[v]), rgb);
                else if (defined[v])
                    bcdi_colormap_diverging(bcdi_colour_position(lim, field[v]), rgb);
                else
                    memcpy(rgb, OUTSIDE, 3);
                long px = x0 + (long)i * zoom;
                long py = y0 + (long)(axis_len(g, vn) - 1 - j) * zoom; /* vertical axis up */
                bcdi_image_fill_rect(img, px, py, zoom, zoom, rgb);
            }
        /* dislocation crossings: segments that cross the slice plane */
        for (size_t l = 0; l < r->line_count; ++l) {
            const bcdi_dislocation_line *line = &r->lines[l];
            for (size_t s = 0; s + 1 < line->point_count; ++s) {
                double a[3], b[3];
                for (int c = 0; c < 3; ++c) {
                    a[c] = bcdi_dot3(g->axes[c], line->points_nm + 3 * s);
                    b[c] = bcdi_dot3(g->axes[c], line->points_nm + 3 * (s + 1));
                }
                double da = a[nn] - plane_nm[k], db = b[nn] - plane_nm[k];
                if (da * db > 0.0 || (da == db)) continue;
                if (db == 0.0 && s + 2 < line->point_count) continue; /* counted once */
                double t = da / (da - db);
                double ph = (a[hn] + t * (b[hn] - a[hn]) - g->origin_nm[hn]) / g->voxel_nm;
                double pv = (a[vn] + t * (b[vn] - a[vn]) - g->origin_nm[vn]) / g->voxel_nm;
                if (ph < -0.5 || pv < -0.5 || ph > axis_len(g, hn) - 0.5 ||
                    pv > axis_len(g, vn) - 0.5)
                    continue;
                double cx = x0 + (ph + 0.5) * zoom;
                double cy = y0 + ((double)axis_len(g, vn) - 0.5 - pv) * zoom;
                double radius = fmax(4.0, 1.5 * zoom);
                bcdi_image_ring(img, cx, cy, radius, 2.0,
                                density_figure ? MARK_DENSITY : MARK_DISPLACEMENT);
            }
        }
        bcdi_image_frame(img, x0, y0, panel_w[k], panel_h[k], BLACK);
        if (k == 0) {
            /* scale bar: a round length near a quarter of the panel */
            double width_nm = g->voxel_nm * (double)axis_len(g, hn);
            double bar_nm = bcdi_nice_below(0.3 * width_nm);
            long bar_px = lround(bar_nm / g->voxel_nm * zoom);
            long by = title_h + max_h + 8;
            bcdi_image_fill_rect(img, x0, by, bar_px, 4, BLACK);
            char text[32];
            snprintf(text, sizeof text, "%g nm", bar_nm);
            bcdi_plot_text(img, x0 + bar_px + 6, by + 2 - text_h / 2, text, BLACK);
        }
        x0 += column_w[k] + gap;
    }
    /* colour bar labelled with the limits (ends) and the middle; the rule and the clipped count
     * below the panels */
    long bar_top = title_h, bar_h = max_h;
    bcdi_image_colour_bar(img, bar_x, bar_top, bar_w, bar_h,
                          density_figure ? bcdi_colormap_grey : bcdi_colormap_diverging);
    bcdi_image_frame(img, bar_x, bar_top, bar_w, bar_h, BLACK);
    for (int k = 0; k < 3; ++k) {
        long tick_y = bar_top + (long)((bar_h - 1) * k / 2);
        bcdi_image_fill_rect(img, bar_x + bar_w, tick_y, 4, 1, BLACK);
        bcdi_plot_text(img, bar_x + bar_w + 7, tick_y - text_h / 2, ticks[k], BLACK);
    }
    long note_y = title_h + max_h + 8 + 16;
    bcdi_plot_text(img, margin, note_y, rule, BLACK);
    bcdi_plot_text(img, margin, note_y + text_h + 6, clipped, BLACK);
    return BCDI_OK;
}

bcdi_status ana_write_figures(bcdi_output *tx, const bcdi_analysis_result *r,
                              const bcdi_colour_limits *limits,
                              const char *const paths[ANA_FIGURE_COUNT])
{
    bcdi_status st = BCDI_OK;
    for (int f = 0; f < ANA_FIGURE_COUNT && st == BCDI_OK; ++f) {
        bcdi_image img;
        st = ana_render_figure(r, (ana_figure)f, &limits[f], &img);
        if (st != BCDI_OK) break;
        st = bcdi_png_write(tx, paths[f], img.width, img.height, img.rgb);
        bcdi_image_free(&img);
    }
    return st;
}
