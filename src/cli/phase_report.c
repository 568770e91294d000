/* SPDX-License-Identifier: BSD-3-Clause */
/* The phasing report (phase_report.h): figures drawn with num/plot's primitives, written with
 * io/png, and one offline page, all staged in the result's output transaction. */
#include "phase_report.h"

#include "core/html.h"
#include "io/png.h"
#include "num/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const uint8_t WHITE[3] = {255, 255, 255}, BLACK[3] = {0, 0, 0}, GRID[3] = {225, 225, 225},
                     OUTSIDE[3] = {200, 200, 200}, MARK[3] = {200, 40, 40};
/* one colour per kept run (cycled beyond eight) */
static const uint8_t PALETTE[8][3] = {{31, 119, 180},  {255, 127, 14},  {44, 160, 44},
                                      {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
                                      {227, 119, 194}, {127, 127, 127}};

void cli_phase_report_dir(const char *output, char *out, size_t cap)
{
    const char *dot = strrchr(output, '.'), *slash = strrchr(output, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - output) : strlen(output);
    snprintf(out, cap, "%.*s_report", (int)stem, output);
}

/* ---- a line chart ---- */

typedef struct series {
    const double *x, *y;
    size_t count;
    const uint8_t *colour;
} series;

typedef struct chart {
    const char *title;
    int log_y;       /* log10 scale (only positive values drawn) */
    double hline;    /* a horizontal reference line (NaN: none) */
    double vline[3]; /* vertical marks in the colours of series 1..3 (NaN: none) */
} chart;

static double scaled(const chart *c, double y)
{
    return c->log_y ? (y > 0 ? log10(y) : NAN) : y;
}

static void draw_chart(bcdi_image *img, long x0, long y0, long w, long h, const chart *c,
                       const series *s, size_t count)
{
    const int scale = 2;
    char text[64];
    bcdi_image_text(img, x0, y0, c->title, scale, BLACK);
    long left = x0 + 8 * 6 * scale, top = y0 + BCDI_FONT_HEIGHT * scale + 10;
    long right = x0 + w - 12, bottom = y0 + h - BCDI_FONT_HEIGHT * scale - 12;
    double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
    for (size_t k = 0; k < count; ++k)
        for (size_t i = 0; i < s[k].count; ++i) {
            double y = scaled(c, s[k].y[i]);
            if (!isfinite(y) || !isfinite(s[k].x[i])) continue;
            xlo = fmin(xlo, s[k].x[i]), xhi = fmax(xhi, s[k].x[i]);
            ylo = fmin(ylo, y), yhi = fmax(yhi, y);
        }
    if (isfinite(scaled(c, c->hline))) {
        ylo = fmin(ylo, scaled(c, c->hline));
        yhi = fmax(yhi, scaled(c, c->hline));
    }
    bcdi_image_fill_rect(img, left, top, 1, bottom - top + 1, BLACK);
    bcdi_image_fill_rect(img, left, bottom, right - left + 1, 1, BLACK);
    if (!(xhi >= xlo) || !(yhi >= ylo)) {
        bcdi_image_text(img, left + 10, (top + bottom) / 2, "not available", scale, BLACK);
        return;
    }
    if (xhi == xlo) xhi = xlo + 1;
    double pad = yhi > ylo ? 0.05 * (yhi - ylo) : 0.5;
    ylo -= pad, yhi += pad;
#define PX(v) (left + (long)lround((double)(right - left) * ((v)-xlo) / (xhi - xlo)))
#define PY(v) (bottom - (long)lround((double)(bottom - top) * ((v)-ylo) / (yhi - ylo)))
    for (int t = 0; t <= 3; ++t) { /* y ticks with grid lines */
        double v = ylo + (yhi - ylo) * t / 3.0;
        long y = PY(v);
        bcdi_image_fill_rect(img, left + 1, y, right - left, 1, GRID);
        bcdi_format_tick(c->log_y ? pow(10.0, v) : v, 3, text, sizeof text);
        bcdi_image_text(img, left - bcdi_text_width(text, scale) - 4, y - BCDI_FONT_HEIGHT, text,
                        scale, BLACK);
    }
    for (int t = 0; t <= 2; ++t) { /* x ticks */
        double v = xlo + (xhi - xlo) * t / 2.0;
        bcdi_format_tick(v, 3, text, sizeof text);
        long x = PX(v) - bcdi_text_width(text, scale) / 2;
        if (t == 2) x = right - bcdi_text_width(text, scale);
        bcdi_image_text(img, x, bottom + 6, text, scale, BLACK);
    }
    if (isfinite(scaled(c, c->hline))) {
        long y = PY(scaled(c, c->hline));
        for (long x = left + 1; x < right; x += 12) /* dashed */
            bcdi_image_fill_rect(img, x, y, 6, 2, MARK);
    }
    for (int m = 0; m < 3; ++m)
        if (isfinite(c->vline[m]) && c->vline[m] >= xlo && c->vline[m] <= xhi)
            for (long y = top; y < bottom; y += 12)
                bcdi_image_fill_rect(img, PX(c->vline[m]), y, 2, 6,
                                     (size_t)m + 1 < count ? s[m + 1].colour : MARK);
    for (size_t k = 0; k < count; ++k) {
        long px = -1, py = -1;
        for (size_t i = 0; i < s[k].count; ++i) {
            double y = scaled(c, s[k].y[i]);
            if (!isfinite(y) || !isfinite(s[k].x[i])) {
                px = -1; /* a gap */
                continue;
            }
            long x1 = PX(s[k].x[i]), y1 = PY(y);
            if (px >= 0) bcdi_image_line(img, px, py, x1, y1, 2, s[k].colour);
            if (s[k].count == 1) bcdi_image_fill_rect(img, x1 - 3, y1 - 3, 7, 7, s[k].colour);
            px = x1, py = y1;
        }
    }
#undef PX
#undef PY
}

#define LEGEND_ROW (BCDI_FONT_HEIGHT * 2 + 10)

/* Coloured boxes with labels in rows below the charts (img NULL: nothing drawn); the height
 * taken. */
static long draw_legend(bcdi_image *img, long x0, long y0, long w, char labels[][64],
                        const uint8_t (*colours)[3], size_t count)
{
    const int scale = 2;
    long x = x0, y = y0;
    for (size_t k = 0; k < count; ++k) {
        long need = 22 + bcdi_text_width(labels[k], scale) + 24;
        if (x > x0 && x + need > x0 + w) x = x0, y += LEGEND_ROW;
        if (img) {
            bcdi_image_fill_rect(img, x, y, 14, 14, colours[k]);
            bcdi_image_text(img, x + 20, y, labels[k], scale, BLACK);
        }
        x += need;
    }
    return y - y0 + LEGEND_ROW;
}

/* ---- convergence.png ---- */

static bcdi_status write_convergence(bcdi_output *tx, const char *path, const cli_phase_report *r)
{
    const bcdi_phasing_result *res = r->result;
    size_t runs = res->count, points = 0;
    for (size_t k = 0; k < runs; ++k)
        points += res->runs[k].history_count;
    /* per run: iteration, llk, Fourier error, free llk, support fraction (%) */
    double *values = malloc((points ? points : 1) * 5 * sizeof *values);
    series *s = calloc(4 * (runs ? runs : 1), sizeof *s);
    char(*labels)[64] = calloc(runs ? runs : 1, sizeof *labels);
    uint8_t(*colours)[3] = calloc(runs ? runs : 1, sizeof *colours);
    bcdi_image img = {0};
    const long chart_w = 520, chart_h = 300, margin = 16;
    bcdi_status st =
        values && s && labels && colours ? BCDI_OK : bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    int have_free = 0;
    size_t at = 0;
    for (size_t k = 0; st == BCDI_OK && k < runs; ++k) {
        const bcdi_run_result *run = &res->runs[k];
        size_t m = run->history_count;
        double *x = values + 5 * at, *llk = x + m, *fourier = llk + m, *free_llk = fourier + m,
               *support = free_llk + m;
        for (size_t i = 0; i < m; ++i) {
            const bcdi_history_point *p = &run->history[i];
            x[i] = (double)p->iteration;
            llk[i] = p->llk;
            fourier[i] = p->fourier_error;
            free_llk[i] = p->free_llk;
            support[i] = 100.0 * p->support_fraction;
            have_free |= isfinite(p->free_llk);
        }
        at += m;
        memcpy(colours[k], PALETTE[k % 8], 3);
        double *ys[4] = {llk, fourier, free_llk, support};
        for (int c = 0; c < 4; ++c)
            s[c * runs + k] = (series){x, ys[c], m, colours[k]};
        snprintf(labels[k], sizeof labels[k], "%zu: run %ld, gen. %ld%s", k + 1, run->run_id,
                 run->generation + 1, r->combined && k < r->combined->count ? " (combined)" : "");
    }
    long legend_h = st == BCDI_OK ? draw_legend(NULL, margin, 0, 2 * chart_w + margin, labels,
                                                (const uint8_t(*)[3])colours, runs)
                                  : 0;
    if (st == BCDI_OK)
        st = bcdi_image_create(&img, (size_t)(2 * chart_w + 3 * margin),
                               (size_t)(2 * chart_h + 3 * margin + 22 + legend_h), WHITE);
    if (st == BCDI_OK) {
        chart charts[4] = {{"llk (log)", 1, NAN, {NAN, NAN, NAN}},
                           {"Fourier error (log)", 1, NAN, {NAN, NAN, NAN}},
                           {have_free ? "free llk (log)" : "free llk: no pixels held out",
                            1,
                            NAN,
                            {NAN, NAN, NAN}},
                           {"support (% of the box)", 0, NAN, {NAN, NAN, NAN}}};
        for (int c = 0; c < 4; ++c)
            draw_chart(&img, margin + (c % 2) * (chart_w + margin),
                       margin + (c / 2) * (chart_h + margin), chart_w, chart_h, &charts[c],
                       s + c * runs, runs);
        bcdi_image_text(&img, margin, 2 * chart_h + 2 * margin, "x: iteration of the run's recipe",
                        2, BLACK);
        draw_legend(&img, margin, 2 * chart_h + 2 * margin + 22, 2 * chart_w + margin, labels,
                    (const uint8_t(*)[3])colours, runs);
        st = bcdi_png_write(tx, path, img.width, img.height, img.rgb);
    }
    bcdi_image_free(&img);
    free(values);
    free(s);
    free(labels);
    free(colours);
    return st;
}

/* ---- slices.png ---- */

static bcdi_status write_slices(bcdi_output *tx, const char *path, const cli_phase_report *r)
{
    const size_t *n = r->result->shape;
    size_t largest = n[0] > n[1] ? n[0] : n[1];
    if (n[2] > largest) largest = n[2];
    /* panels at least as wide as their titles */
    long zoom = (long)((300 + largest - 1) / largest);
    if (zoom < 1) zoom = 1;
    long panel = (long)largest * zoom, margin = 16, bar_w = 14, label_w = 70, title_h = 24;
    const int scale = 2;
    double amax = 0;
    size_t total = n[0] * n[1] * n[2];
    for (size_t i = 0; i < total; ++i)
        amax = fmax(amax, bcdi_cf_abs(r->answer[i]));
    if (!(amax > 0)) amax = 1;
    bcdi_image img;
    bcdi_status st =
        bcdi_image_create(&img, (size_t)(3 * (panel + margin) + margin + bar_w + label_w),
                          (size_t)(2 * (panel + title_h + margin) + margin + 24), WHITE);
    if (st != BCDI_OK) return st;
    char text[96];
    for (int row = 0; row < 2; ++row) {
        long py = margin + row * (panel + title_h + margin) + title_h;
        for (int normal = 0; normal < 3; ++normal) {
            int a1 = normal == 0 ? 1 : 0, a2 = normal == 2 ? 1 : 2; /* rows, columns */
            size_t plane = n[normal] / 2;
            long px = margin + normal * (panel + margin);
            snprintf(text, sizeof text, "%s, axis %d = %zu", row ? "phase" : "amplitude", normal,
                     plane);
            bcdi_image_text(&img, px, py - title_h + 4, text, scale, BLACK);
            for (size_t i = 0; i < n[a1]; ++i)
                for (size_t j = 0; j < n[a2]; ++j) {
                    size_t idx[3];
                    idx[normal] = plane, idx[a1] = i, idx[a2] = j;
                    size_t v = (idx[0] * n[1] + idx[1]) * n[2] + idx[2];
                    uint8_t rgb[3];
                    if (row == 0)
                        bcdi_colormap_grey(bcdi_cf_abs(r->answer[v]) / amax, rgb);
                    else if (!r->support[v])
                        memcpy(rgb, OUTSIDE, 3);
                    else
                        bcdi_colormap_diverging(
                            0.5 + atan2(r->answer[v].im, r->answer[v].re) / (2 * M_PI), rgb);
                    bcdi_image_fill_rect(&img, px + (long)j * zoom, py + (long)i * zoom, zoom, zoom,
                                         rgb);
                }
            bcdi_image_frame(&img, px, py, (long)n[a2] * zoom, (long)n[a1] * zoom, BLACK);
        }
        long bx = margin + 3 * (panel + margin);
        bcdi_image_colour_bar(&img, bx, py, bar_w, panel,
                              row ? bcdi_colormap_diverging : bcdi_colormap_grey);
        const char *ends[2][2] = {{"max", "0"}, {"+3.14", "-3.14"}};
        bcdi_image_text(&img, bx + bar_w + 4, py, ends[row][0], scale, BLACK);
        bcdi_image_text(&img, bx + bar_w + 4, py + panel - BCDI_FONT_HEIGHT * scale, ends[row][1],
                        scale, BLACK);
    }
    bcdi_image_text(&img, margin, (long)img.height - BCDI_FONT_HEIGHT * scale - 8,
                    "central planes of the data's grid; phase in rad, grey outside the support",
                    scale, BLACK);
    st = bcdi_png_write(tx, path, img.width, img.height, img.rgb);
    bcdi_image_free(&img);
    return st;
}

/* ---- prtf.png ---- */

static bcdi_status write_prtf(bcdi_output *tx, const char *path, const bcdi_combined *c)
{
    const bcdi_prtf *p = &c->prtf;
    const bcdi_prtf_curve *curves[4] = {&p->overall, &p->axis[0], &p->axis[1], &p->axis[2]};
    series s[4];
    char labels[4][64];
    uint8_t colours[4][3];
    const char *unit = p->physical ? "nm" : "voxels";
    for (int k = 0; k < 4; ++k) {
        memcpy(colours[k], k == 0 ? BLACK : PALETTE[k - 1], 3);
        s[k] = (series){curves[k]->frequency, curves[k]->value, curves[k]->shells, colours[k]};
        char axis[16];
        snprintf(axis, sizeof axis, k ? "axis %d" : "overall", k - 1);
        snprintf(labels[k], sizeof labels[k], "%s: %.3g %s%s", axis, curves[k]->resolution, unit,
                 curves[k]->reached ? "" : " (bound)");
    }
    chart ch = {p->physical ? "PRTF against spatial frequency (1/nm)"
                            : "PRTF against spatial frequency (1/voxel)",
                0,
                exp(-1.0),
                {NAN, NAN, NAN}};
    for (int a = 0; a < 3; ++a)
        if (curves[a + 1]->reached) ch.vline[a] = curves[a + 1]->crossing;
    const long w = 760, h = 380, margin = 16;
    bcdi_image img;
    bcdi_status st =
        bcdi_image_create(&img, (size_t)(w + 2 * margin), (size_t)(h + 2 * margin + 60), WHITE);
    if (st != BCDI_OK) return st;
    draw_chart(&img, margin, margin, w, h, &ch, s, 4);
    bcdi_image_text(&img, margin, h + margin + 4,
                    "dashed: 1/e (red), each axis's first fall below it", 2, BLACK);
    draw_legend(&img, margin, h + margin + 28, w, labels, (const uint8_t(*)[3])colours, 4);
    st = bcdi_png_write(tx, path, img.width, img.height, img.rgb);
    bcdi_image_free(&img);
    return st;
}

/* ---- index.html ---- */

static void html_row(FILE *f, const char *name, const char *value)
{
    fputs("<tr><th>", f);
    bcdi_html_text(f, name);
    fputs("</th><td class=\"l\">", f);
    bcdi_html_text(f, value);
    fputs("</td></tr>\n", f);
}

static bcdi_status write_html(bcdi_output *tx, const char *path, const cli_phase_report *r)
{
    FILE *f;
    bcdi_status st = bcdi_output_fopen(tx, path, &f);
    if (st != BCDI_OK) return st;
    const bcdi_phasing_result *res = r->result;
    const bcdi_phasing_params *p = r->params;
    const bcdi_combined *c = r->combined;
    const char *name = strrchr(r->output, '/');
    name = name ? name + 1 : r->output;
    char title[1200];
    snprintf(title, sizeof title, "%s \u2013 braggcdi phase", name);
    bcdi_html_begin(f, title, NULL);
    fputs("<h1>Phasing of ", f);
    bcdi_html_text(f, name);
    fputs("</h1>\n<table>\n", f);
    char text[256];
    html_row(f, "input", r->input);
    snprintf(text, sizeof text, "%zu x %zu x %zu", res->shape[0], res->shape[1], res->shape[2]);
    html_row(f, "grid", text);
    html_row(f, "recipe", p->recipe);
    snprintf(text, sizeof text, "%ld runs, %ld generation(s), %ld kept, ranked by %s", p->runs,
             p->generations, p->keep, bcdi_metric_name(p->metric));
    html_row(f, "population", text);
    snprintf(text, sizeof text, "%.1f s on %s", res->elapsed_s, r->device ? r->device : "?");
    html_row(f, "time", text);
    html_row(f, "answer",
             c ? "the kept runs aligned onto the best and averaged (the best run is "
                 "<stem>-run1.cxi)"
               : "the best run");
    html_row(f, "program", "braggcdi " BCDI_VERSION);
    fputs("</table>\n<h2>Ranking of the kept runs</h2>\n<table>\n<tr><th>rank</th><th>run</th>"
          "<th>generation</th><th>llk</th><th>Fourier error</th><th>free llk</th>"
          "<th>support (%)</th><th>combined</th><th>correlation to the best</th>"
          "<th>twin</th></tr>\n",
          f);
    for (size_t k = 0; k < res->count; ++k) {
        const bcdi_run_result *run = &res->runs[k];
        int in = c && k < c->count;
        fprintf(f, "<tr><td>%zu</td><td>%ld</td><td>%ld</td><td>", k + 1, run->run_id,
                run->generation + 1);
        bcdi_html_number(f, run->final.llk, "%.5g");
        fputs("</td><td>", f);
        bcdi_html_number(f, run->final.fourier_error, "%.5g");
        fputs("</td><td>", f);
        bcdi_html_number(f, run->final.free_llk, "%.5g");
        fputs("</td><td>", f);
        bcdi_html_number(f, 100.0 * run->final.support_fraction, "%.3f");
        fprintf(f, "</td><td>%s</td><td>", in ? "yes" : "no");
        bcdi_html_number(f, in ? c->correlation[k] : NAN, "%.4f");
        fprintf(f, "</td><td>%s</td></tr>\n", in && c->twinned[k] ? "yes" : "");
    }
    fputs("</table>\n<p class=\"note\">Fourier error: &radic;(&Sigma;<sub>M</sub> (|F| &minus; "
          "&radic;I)&sup2; / &Sigma;<sub>M</sub> I) over the measured voxels M; llk: Poisson "
          "log-likelihood (deviance / 2) per measured voxel; both at the run's last iteration, "
          "lower is better.</p>\n",
          f);
    if (c) {
        const bcdi_reproducibility *rep = &c->reproducibility;
        const char *unit = c->prtf.physical ? "nm" : "voxels";
        fputs("<h2>The runs combined</h2>\n<table>\n<tr><th>runs</th><th>first mode weight</th>"
              "<th>complex correlation, mean (min&ndash;max)</th><th>amplitude correlation, mean "
              "(min&ndash;max)</th></tr>\n",
              f);
        fprintf(f,
                "<tr><td>%zu</td><td>%.4f</td><td>%.4f (%.4f&ndash;%.4f)</td><td>%.4f "
                "(%.4f&ndash;%.4f)</td></tr>\n</table>\n",
                c->count, c->mode_weights[0], rep->complex_mean, rep->complex_min, rep->complex_max,
                rep->amplitude_mean, rep->amplitude_min, rep->amplitude_max);
        fprintf(f,
                "<table>\n<tr><th>resolution (%s)</th><th>overall</th><th>axis 0</th>"
                "<th>axis 1</th><th>axis 2</th></tr>\n<tr><th>PRTF = 1/e</th>",
                unit);
        const bcdi_prtf_curve *curves[4] = {&c->prtf.overall, &c->prtf.axis[0], &c->prtf.axis[1],
                                            &c->prtf.axis[2]};
        for (int k = 0; k < 4; ++k) {
            fputs("<td>", f);
            bcdi_html_number(f, curves[k]->resolution, "%.3g");
            if (!curves[k]->reached) fputs(" (bound)", f);
            fputs("</td>", f);
        }
        fputs("</tr>\n</table>\n<p class=\"note\">(bound): the curve never fell below 1/e; the "
              "value is the sampling's limit along that axis.</p>\n"
              "<p><img src=\"prtf.png\" alt=\"PRTF curves with the 1/e threshold\"></p>\n",
              f);
    }
    fputs("<h2>Convergence</h2>\n<p><img src=\"convergence.png\" alt=\"llk, Fourier error, free "
          "llk and support fraction against the iteration, per kept run\"></p>\n"
          "<h2>The answer</h2>\n<p><img src=\"slices.png\" alt=\"central slices of the answer's "
          "amplitude and phase\"></p>\n</body>\n</html>\n",
          f);
    return BCDI_OK; /* write errors: reported by the commit */
}

bcdi_status cli_phase_report_write(bcdi_output *tx, const cli_phase_report *r)
{
    if (!r->result || !r->result->count || !r->answer || !r->support)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "phase report: nothing to report");
    char dir[4200], path[4300];
    cli_phase_report_dir(r->output, dir, sizeof dir);
    bcdi_status st = bcdi_output_folder(tx, dir);
    snprintf(path, sizeof path, "%s/convergence.png", dir);
    if (st == BCDI_OK) st = write_convergence(tx, path, r);
    snprintf(path, sizeof path, "%s/slices.png", dir);
    if (st == BCDI_OK) st = write_slices(tx, path, r);
    snprintf(path, sizeof path, "%s/prtf.png", dir);
    if (st == BCDI_OK && r->combined) st = write_prtf(tx, path, r->combined);
    snprintf(path, sizeof path, "%s/index.html", dir);
    if (st == BCDI_OK) st = write_html(tx, path, r);
    return st;
}
