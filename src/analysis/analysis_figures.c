/* PNG figures: the three central slices of the orthonormal grid (through the density's centre
 * of mass), Bragg density in grey and displacement in a diverging map with a symmetric range in
 * Å, a labelled colour bar, a scale bar in nm, and rings where dislocation lines cross a slice. */
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
    double origin_nm[3]; /* x, y, z of voxel 0 (frame coordinates) */
    double axes[3][3];   /* rows: frame axes in lab */
    const float *density, *displacement;
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

static bcdi_status draw_figure(bcdi_output *tx, const grid_view *g, const size_t centre[3],
                               int field, const bcdi_dislocation_line *lines, size_t line_count,
                               const char *path, double range)
{
    /* pixels per voxel so that the largest panel side is about 240 px */
    size_t biggest = 1;
    for (int a = 0; a < 3; ++a)
        biggest = axis_len(g, a) > biggest ? axis_len(g, a) : biggest;
    int zoom = (int)(240 / biggest);
    if (zoom < 1) zoom = 1;
    const int scale = 2, margin = 16, gap = 24, bar_w = 18;
    const long title_h = 2 * BCDI_FONT_HEIGHT * scale + 22, bottom_h = 10 * scale + 26;
    long panel_w[3], panel_h[3], total_w = margin, max_h = 0;
    for (int k = 0; k < 3; ++k) {
        panel_w[k] = (long)axis_len(g, PANEL_H[k]) * zoom;
        panel_h[k] = (long)axis_len(g, PANEL_V[k]) * zoom;
        total_w += panel_w[k] + gap;
        if (panel_h[k] > max_h) max_h = panel_h[k];
    }
    if (max_h < 120) max_h = 120;
    long bar_x = total_w + 4;
    total_w = bar_x + bar_w + 8 + bcdi_text_width("-0.000", scale) + margin;
    long height = title_h + max_h + bottom_h;
    bcdi_image img;
    bcdi_status st = bcdi_image_create(&img, (size_t)total_w, (size_t)height, WHITE);
    if (st != BCDI_OK) return st;
    const char *title = field == 0 ? "Bragg density" : "displacement along G (\xc3\x85)";
    bcdi_image_text(&img, margin, 6, title, scale, BLACK);

    long x0 = margin;
    for (int k = 0; k < 3; ++k) {
        int hn = PANEL_H[k], vn = PANEL_V[k], nn = PANEL_NORMAL[k];
        long y0 = title_h + (max_h - panel_h[k]);
        double plane_nm = g->origin_nm[nn] + g->voxel_nm * (double)centre[nn];
        char label[64];
        snprintf(label, sizeof label, "%s-%s, %s=%.0f nm", g->axis_names[hn], g->axis_names[vn],
                 g->axis_names[nn], plane_nm);
        int label_scale = bcdi_text_width(label, scale) <= panel_w[k] + gap - 6 ? scale : 1;
        bcdi_image_text(&img, x0, title_h - BCDI_FONT_HEIGHT * label_scale - 6, label, label_scale,
                        BLACK);
        for (size_t j = 0; j < axis_len(g, vn); ++j)
            for (size_t i = 0; i < axis_len(g, hn); ++i) {
                size_t ijk[3];
                ijk[nn] = centre[nn];
                ijk[hn] = i;
                ijk[vn] = j;
                size_t v = voxel_at(g, ijk);
                uint8_t rgb[3];
                if (field == 0) {
                    bcdi_colormap_grey(g->density[v], rgb);
                } else if (g->support[v]) {
                    bcdi_colormap_diverging(0.5 + 0.5 * g->displacement[v] / range, rgb);
                } else {
                    memcpy(rgb, OUTSIDE, 3);
                }
                long px = x0 + (long)i * zoom;
                long py = y0 + (long)(axis_len(g, vn) - 1 - j) * zoom; /* vertical axis up */
                bcdi_image_fill_rect(&img, px, py, zoom, zoom, rgb);
            }
        /* dislocation crossings: segments that cross the slice plane */
        for (size_t l = 0; l < line_count; ++l) {
            const bcdi_dislocation_line *line = &lines[l];
            for (size_t s = 0; s + 1 < line->point_count; ++s) {
                double a[3], b[3];
                for (int c = 0; c < 3; ++c) {
                    a[c] = bcdi_dot3(g->axes[c], line->points_nm + 3 * s);
                    b[c] = bcdi_dot3(g->axes[c], line->points_nm + 3 * (s + 1));
                }
                double da = a[nn] - plane_nm, db = b[nn] - plane_nm;
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
                bcdi_image_ring(&img, cx, cy, radius, 2.0,
                                field == 0 ? MARK_DENSITY : MARK_DISPLACEMENT);
            }
        }
        bcdi_image_frame(&img, x0, y0, panel_w[k], panel_h[k], BLACK);
        if (k == 0) {
            /* scale bar: a round length near a quarter of the panel */
            double width_nm = g->voxel_nm * (double)axis_len(g, hn);
            double bar_nm = bcdi_nice_below(0.3 * width_nm);
            long bar_px = lround(bar_nm / g->voxel_nm * zoom);
            long by = title_h + max_h + 8;
            bcdi_image_fill_rect(&img, x0, by, bar_px, 4, BLACK);
            char text[32];
            snprintf(text, sizeof text, "%g nm", bar_nm);
            bcdi_image_text(&img, x0 + bar_px + 6, by - 5, text, scale, BLACK);
        }
        x0 += panel_w[k] + gap;
    }
    /* colour bar with labels at both ends and the middle */
    long bar_top = title_h, bar_h = max_h;
    bcdi_image_colour_bar(&img, bar_x, bar_top, bar_w, bar_h,
                          field == 0 ? bcdi_colormap_grey : bcdi_colormap_diverging);
    bcdi_image_frame(&img, bar_x, bar_top, bar_w, bar_h, BLACK);
    double lo = field == 0 ? 0.0 : -range, hi = field == 0 ? 1.0 : range;
    for (int k = 0; k < 3; ++k) {
        double value = hi - (hi - lo) * k / 2.0;
        char text[32];
        bcdi_format_tick(value, 6, text, sizeof text);
        long ty = bar_top + (long)((bar_h - 1) * k / 2) - 7;
        bcdi_image_fill_rect(&img, bar_x + bar_w, ty + 7, 4, 1, BLACK);
        bcdi_image_text(&img, bar_x + bar_w + 7, ty, text, scale, BLACK);
    }
    st = bcdi_png_write(tx, path, img.width, img.height, img.rgb);
    bcdi_image_free(&img);
    return st;
}

bcdi_status ana_write_figures(bcdi_output *tx, const bcdi_analysis_result *r,
                              const char *density_path, const char *displacement_path)
{
    grid_view g;
    memset(&g, 0, sizeof g);
    if (!r->has_ortho)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "figures need the orthonormal grid "
                                                "(orthogonalise=true)");
    memcpy(g.shape, r->ortho_shape, sizeof g.shape);
    g.voxel_nm = r->ortho_voxel_nm;
    memcpy(g.origin_nm, r->ortho_origin_nm, sizeof g.origin_nm);
    memcpy(g.axes, r->ortho_axes, sizeof g.axes);
    g.density = r->o_density;
    g.displacement = r->o_displacement;
    g.support = r->o_support;
    int crystal = !(g.axes[0][0] == 1.0 && g.axes[1][1] == 1.0 && g.axes[2][2] == 1.0);
    g.axis_names[0] = crystal ? "xc" : "x";
    g.axis_names[1] = crystal ? "yc" : "y";
    g.axis_names[2] = crystal ? "zc" : "z";
    /* slices through the density's centre of mass inside the support */
    double com_zyx[3], umax = 0.0;
    double mass = bcdi_centre_of_mass(g.density, g.support, g.shape, com_zyx);
    size_t n = g.shape[0] * g.shape[1] * g.shape[2];
    for (size_t v = 0; v < n; ++v)
        if (g.support[v] && fabs(g.displacement[v]) > umax) umax = fabs(g.displacement[v]);
    size_t centre[3]; /* x, y, z */
    for (int a = 0; a < 3; ++a) {
        long c = mass > 0.0 ? lround(com_zyx[2 - a]) : (long)(axis_len(&g, a) / 2);
        if (c < 0) c = 0;
        if (c >= (long)axis_len(&g, a)) c = (long)axis_len(&g, a) - 1;
        centre[a] = (size_t)c;
    }
    /* symmetric displacement range: the largest |u| rounded up to a round number */
    double range = bcdi_nice_above(umax > 1e-6 ? umax : 1.0);
    bcdi_status st = draw_figure(tx, &g, centre, 0, r->lines, r->line_count, density_path, 1.0);
    if (st == BCDI_OK)
        st = draw_figure(tx, &g, centre, 1, r->lines, r->line_count, displacement_path, range);
    return st;
}
