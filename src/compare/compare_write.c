/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing a comparison: comparison.csv, comparison.json, slices.png, trends.png, index.html,
 * in one output transaction (core/output.h): the files appear together when all are complete,
 * or not at all. */
#include "compare_internal.h"

#include "analysis/analysis_output.h"
#include "core/html.h"
#include "io/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OUT_CSV = 0, OUT_JSON, OUT_SLICES, OUT_TRENDS, OUT_HTML, OUT_COUNT };
static const char *const OUTPUT_NAMES[OUT_COUNT] = {"comparison.csv", "comparison.json",
                                                    "slices.png", "trends.png", "index.html"};

static const char *change_name(bcdi_line_change c)
{
    switch (c) {
    case BCDI_LINE_UNCHANGED:
        return "unchanged";
    case BCDI_LINE_MOVED:
        return "moved";
    case BCDI_LINE_APPEARED:
        return "appeared";
    case BCDI_LINE_VANISHED:
        return "vanished";
    }
    return "?";
}

static const char *character_name(bcdi_line_character c)
{
    return c == BCDI_LINE_SCREW ? "screw-like" : c == BCDI_LINE_EDGE ? "edge-like" : "mixed";
}

/* ---- CSV (RFC 4180: fields with a comma, quote or line break are quoted) ---- */

/* A plain decimal number ("-0.25", "1e-3"): left as it is, so spreadsheets read it as one. */
static int plain_number(const char *s)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s)) return 0;
    char *end = NULL;
    strtod(s, &end);
    return end && *end == '\0';
}

/* A text cell. Spreadsheets run a cell starting with =, +, -, @ (or tab, CR) as a formula:
 * such a cell that is not a plain number gets a leading ' (formula injection). */
static void csv_text(FILE *f, const char *s)
{
    if (!s) return;
    int neutralise = strchr("=+-@\t\r", s[0]) && s[0] && !plain_number(s);
    int quote = strpbrk(s, ",\"\n\r") != NULL;
    if (quote) fputc('"', f);
    if (neutralise) fputc('\'', f);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    if (quote) fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
    fputc(',', f);
    if (v == 0.0) v = 0.0; /* no "-0" */
    if (isfinite(v)) fprintf(f, "%.9g", v);
}

static double shift_length_nm(const bcdi_compare_state *s)
{
    return sqrt(s->shift_nm[0] * s->shift_nm[0] + s->shift_nm[1] * s->shift_nm[1] +
                s->shift_nm[2] * s->shift_nm[2]);
}

static double ratio(double a, double b)
{
    return b > 0.0 ? a / b : NAN;
}

static bcdi_status write_csv(bcdi_output *tx, const char *path, const bcdi_comparison *c)
{
    FILE *f;
    bcdi_status st = bcdi_output_fopen(tx, path, &f);
    if (st != BCDI_OK) return st;
    fputs("label,input,result,reference,twinned,density_correlation,field_correlation,"
          "shift_voxels_0,shift_voxels_1,shift_voxels_2,shift_nm,phase_offset_rad,"
          "volume_um3,volume_ratio,lost_volume_um3,gained_volume_um3,common_volume_um3,"
          "domains,domain_volumes_um3,fragments,displacement_mean_A,displacement_std_A,"
          "displacement_p05_A,displacement_p95_A,strain_mean,strain_std,ramp_strain,"
          "ramp_strain_change,delta_displacement_mean_A,delta_displacement_std_A,"
          "delta_density_mean,delta_density_std,dislocations,line_length_nm,line_angles_to_g_deg,"
          "line_characters,lines_unchanged,lines_moved,lines_appeared,lines_vanished,"
          "domain_tilt_deg,domain_strain_change,summary,two_theta_deg,rocking_deg,"
          "delta_two_theta_deg,delta_theta_deg,delta_d_over_d,d_spacing_A,c_A,"
          "rocking_rotation_deg,ring_rotation_deg,intensity_ratio\n",
          f);
    const bcdi_compare_state *ref = &c->states[c->reference];
    for (size_t k = 0; k < c->state_count; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        const bcdi_analysis_result *r = &s->analysis;
        char list[4096];
        csv_text(f, s->label);
        fputc(',', f);
        csv_text(f, s->path);
        fputc(',', f);
        csv_text(f, s->result_path);
        fprintf(f, ",%s,%s", k == c->reference ? "yes" : "no", s->alignment.twinned ? "yes" : "no");
        csv_num(f, s->density_correlation);
        csv_num(f, s->alignment.correlation);
        for (int a = 0; a < 3; ++a)
            csv_num(f, s->alignment.shift[a]);
        csv_num(f, shift_length_nm(s));
        csv_num(f, s->alignment.phase);
        csv_num(f, r->total_volume_nm3 * 1e-9);
        csv_num(f, ratio(r->total_volume_nm3, ref->analysis.total_volume_nm3));
        csv_num(f, s->lost_volume_nm3 * 1e-9);
        csv_num(f, s->gained_volume_nm3 * 1e-9);
        csv_num(f, s->common_volume_nm3 * 1e-9);
        fprintf(f, ",%zu,", r->domain_count);
        list[0] = '\0';
        for (size_t d = 0; d < r->domain_count; ++d)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.6g", d ? ";" : "",
                     r->domains[d].volume_nm3 * 1e-9);
        csv_text(f, list);
        fprintf(f, ",%zu", r->fragment_count);
        csv_num(f, r->displacement_stats.mean);
        csv_num(f, r->displacement_stats.std);
        csv_num(f, r->displacement_stats.p05);
        csv_num(f, r->displacement_stats.p95);
        csv_num(f, r->strain_stats.mean);
        csv_num(f, r->strain_stats.std);
        csv_num(f, r->ramp_strain);
        csv_num(f, s->mean_strain_change);
        csv_num(f, s->delta_displacement.mean);
        csv_num(f, s->delta_displacement.std);
        csv_num(f, s->delta_density.mean);
        csv_num(f, s->delta_density.std);
        fprintf(f, ",%zu", r->line_count);
        csv_num(f, s->total_line_length_nm);
        list[0] = '\0';
        for (size_t i = 0; i < r->line_count; ++i)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.1f", i ? ";" : "",
                     r->lines[i].angle_to_g_deg);
        fputc(',', f);
        csv_text(f, list);
        list[0] = '\0';
        for (size_t i = 0; i < r->line_count; ++i)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ";" : "",
                     character_name(r->lines[i].character));
        fputc(',', f);
        csv_text(f, list);
        fprintf(f, ",%zu,%zu,%zu,%zu", s->lines_unchanged, s->lines_moved, s->lines_appeared,
                s->lines_vanished);
        list[0] = '\0';
        for (size_t d = 0; d < r->domain_count; ++d)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.6g", d ? ";" : "",
                     s->domain_changes[d].tilt_deg);
        fputc(',', f);
        csv_text(f, list);
        list[0] = '\0';
        for (size_t d = 0; d < r->domain_count; ++d)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%.6g", d ? ";" : "",
                     s->domain_changes[d].strain_change);
        fputc(',', f);
        csv_text(f, list);
        fputc(',', f);
        csv_text(f, s->peak.available ? s->peak.source : "");
        const bcdi_compare_lattice *l = &s->lattice;
        csv_num(f, s->peak.available ? s->peak.two_theta_deg : NAN);
        csv_num(f, s->peak.available ? s->peak.rocking_deg : NAN);
        csv_num(f, l->delta_two_theta_deg);
        csv_num(f, l->delta_theta_deg);
        csv_num(f, l->delta_d_over_d);
        csv_num(f, l->d_spacing_angstrom);
        csv_num(f, l->c_angstrom);
        csv_num(f, l->rocking_rotation_deg);
        csv_num(f, l->ring_rotation_deg);
        csv_num(f, l->intensity_ratio);
        fputc('\n', f);
    }
    return BCDI_OK; /* write errors: reported by the commit */
}

/* ---- JSON ---- */

#define PUT(obj, key, value) bcdi_json_put((obj), (key), (value), &ok)

static json_t *new_object(int *ok)
{
    json_t *o = json_object();
    if (!o) *ok = 0;
    return o;
}

static json_t *alignment_json(const bcdi_compare_state *s, int *okp)
{
    int ok = 1;
    json_t *a = new_object(&ok);
    if (!a) return *okp = 0, NULL;
    PUT(a, "twinned", json_boolean(s->alignment.twinned));
    PUT(a, "density_correlation", bcdi_json_real(s->density_correlation));
    PUT(a, "density_correlation_direct", bcdi_json_real(s->density_correlation_direct));
    PUT(a, "density_correlation_twin", bcdi_json_real(s->density_correlation_twin));
    PUT(a, "field_correlation", bcdi_json_real(s->alignment.correlation));
    PUT(a, "shift_voxels", bcdi_json_reals(s->alignment.shift, 3));
    PUT(a, "shift_nm_lab", bcdi_json_reals(s->shift_nm, 3));
    PUT(a, "phase_offset_rad", bcdi_json_real(s->alignment.phase));
    if (!ok) *okp = 0;
    return a;
}

static json_t *volume_json(const bcdi_compare_state *s, const bcdi_compare_state *ref, int *okp)
{
    int ok = 1;
    const bcdi_analysis_result *r = &s->analysis;
    json_t *v = new_object(&ok);
    if (!v) return *okp = 0, NULL;
    PUT(v, "total_nm3", bcdi_json_real(r->total_volume_nm3));
    PUT(v, "ratio_to_reference",
        bcdi_json_real(ratio(r->total_volume_nm3, ref->analysis.total_volume_nm3)));
    PUT(v, "common_nm3", bcdi_json_real(s->common_volume_nm3));
    PUT(v, "lost_nm3", bcdi_json_real(s->lost_volume_nm3));
    PUT(v, "gained_nm3", bcdi_json_real(s->gained_volume_nm3));
    PUT(v, "note",
        json_string("lost: in the reference, not in this state (left the Bragg "
                    "condition); gained: the reverse"));
    if (!ok) *okp = 0;
    return v;
}

static json_t *domains_json(const bcdi_compare_state *s, int *okp)
{
    int ok = 1;
    const bcdi_analysis_result *r = &s->analysis;
    json_t *d = new_object(&ok), *table = json_array();
    if (!d || !table) {
        json_decref(d);
        json_decref(table);
        return *okp = 0, NULL;
    }
    PUT(d, "count", json_integer((json_int_t)r->domain_count));
    PUT(d, "fragments", json_integer((json_int_t)r->fragment_count));
    for (size_t k = 0; k < r->domain_count; ++k) {
        json_t *row = new_object(&ok);
        if (!row) break;
        PUT(row, "id", json_integer((json_int_t)(k + 1)));
        PUT(row, "volume_nm3", bcdi_json_real(r->domains[k].volume_nm3));
        PUT(row, "mean_displacement_angstrom",
            bcdi_json_real(r->domains[k].mean_displacement_angstrom));
        PUT(row, "tilt_deg_vs_reference", bcdi_json_real(s->domain_changes[k].tilt_deg));
        PUT(row, "strain_change_vs_reference", bcdi_json_real(s->domain_changes[k].strain_change));
        bcdi_json_push(table, row, &ok);
    }
    PUT(d, "table", table);
    if (!ok) *okp = 0;
    return d;
}

static json_t *lines_json(const bcdi_compare_state *s, const bcdi_compare_state *ref, int *okp)
{
    int ok = 1;
    const bcdi_analysis_result *r = &s->analysis;
    json_t *d = new_object(&ok), *lines = json_array();
    if (!d || !lines) {
        json_decref(d);
        json_decref(lines);
        return *okp = 0, NULL;
    }
    PUT(d, "count", json_integer((json_int_t)r->line_count));
    PUT(d, "total_length_nm", bcdi_json_real(s->total_line_length_nm));
    PUT(d, "unchanged", json_integer((json_int_t)s->lines_unchanged));
    PUT(d, "moved", json_integer((json_int_t)s->lines_moved));
    PUT(d, "appeared", json_integer((json_int_t)s->lines_appeared));
    PUT(d, "vanished", json_integer((json_int_t)s->lines_vanished));
    for (size_t m = 0; m < s->match_count; ++m) {
        const bcdi_line_match *x = &s->matches[m];
        int vanished = x->change == BCDI_LINE_VANISHED;
        const bcdi_dislocation_line *l =
            vanished ? &ref->analysis.lines[x->line] : &r->lines[x->line];
        json_t *row = new_object(&ok);
        if (!row) break;
        PUT(row, vanished ? "reference_line_id" : "id", json_integer((json_int_t)(x->line + 1)));
        PUT(row, "change", json_string(change_name(x->change)));
        PUT(row, "reference_line",
            x->partner >= 0 ? json_integer((json_int_t)(x->partner + 1)) : json_null());
        PUT(row, "distance_nm", bcdi_json_real(x->distance_nm));
        PUT(row, "length_nm", bcdi_json_real(l->length_nm));
        PUT(row, "angle_to_g_deg", bcdi_json_real(l->angle_to_g_deg));
        PUT(row, "character", json_string(character_name(l->character)));
        PUT(row, "winding", json_integer(l->winding));
        PUT(row, "centroid_nm", bcdi_json_reals(l->centroid_nm, 3));
        bcdi_json_push(lines, row, &ok);
    }
    PUT(d, "lines", lines);
    if (!ok) *okp = 0;
    return d;
}

static json_t *diffraction_json(const bcdi_compare_state *s, int *okp)
{
    if (!s->peak.available) return json_null();
    int ok = 1;
    const bcdi_compare_lattice *l = &s->lattice;
    json_t *d = new_object(&ok);
    if (!d) return *okp = 0, NULL;
    PUT(d, "summary", bcdi_json_text(s->peak.source));
    PUT(d, "two_theta_deg", bcdi_json_real(s->peak.two_theta_deg));
    PUT(d, "rocking_deg", bcdi_json_real(s->peak.rocking_deg));
    PUT(d, "integrated_intensity", bcdi_json_real(s->peak.integrated_intensity));
    PUT(d, "summary_d_spacing_angstrom", bcdi_json_real(s->peak.d_spacing_m * 1e10));
    PUT(d, "delta_two_theta_deg", bcdi_json_real(l->delta_two_theta_deg));
    PUT(d, "delta_theta_deg", bcdi_json_real(l->delta_theta_deg));
    PUT(d, "delta_d_over_d", bcdi_json_real(l->delta_d_over_d));
    PUT(d, "d_spacing_angstrom", bcdi_json_real(l->d_spacing_angstrom));
    PUT(d, "c_angstrom", bcdi_json_real(l->c_angstrom));
    PUT(d, "rocking_shift_deg", bcdi_json_real(l->rocking_shift_deg));
    PUT(d, "rocking_rotation_deg", bcdi_json_real(l->rocking_rotation_deg));
    PUT(d, "ring_rotation_deg", bcdi_json_real(l->ring_rotation_deg));
    PUT(d, "intensity_ratio", bcdi_json_real(l->intensity_ratio));
    if (!ok) *okp = 0;
    return d;
}

static json_t *state_json(const bcdi_comparison *c, size_t k, int *okp)
{
    int ok = 1;
    const bcdi_compare_state *s = &c->states[k], *ref = &c->states[c->reference];
    const bcdi_analysis_result *r = &s->analysis;
    json_t *o = new_object(&ok);
    if (!o) return *okp = 0, NULL;
    PUT(o, "label", bcdi_json_text(s->label));
    PUT(o, "input", bcdi_json_text(s->path));
    PUT(o, "result", bcdi_json_text(s->result_path));
    PUT(o, "analysed_folder", json_boolean(s->from_folder));
    PUT(o, "reference", json_boolean(k == c->reference));
    PUT(o, "alignment", alignment_json(s, &ok));
    PUT(o, "volume", volume_json(s, ref, &ok));
    PUT(o, "domains", domains_json(s, &ok));
    PUT(o, "displacement_angstrom", bcdi_stats_json(&r->displacement_stats));
    PUT(o, "strain", bcdi_stats_json(&r->strain_stats));
    PUT(o, "ramp_strain", bcdi_json_real(r->ramp_strain));
    PUT(o, "ramp_strain_change", bcdi_json_real(s->mean_strain_change));
    json_t *diff = new_object(&ok);
    if (diff) {
        PUT(diff, "displacement_angstrom", bcdi_stats_json(&s->delta_displacement));
        PUT(diff, "density", bcdi_stats_json(&s->delta_density));
    }
    PUT(o, "difference_on_common_support", diff);
    PUT(o, "dislocations", lines_json(s, ref, &ok));
    PUT(o, "diffraction", diffraction_json(s, &ok));
    if (!ok) *okp = 0;
    return o;
}

static bcdi_status write_json(bcdi_output *tx, const char *path, const bcdi_comparison *c,
                              const bcdi_colour_limits *slice_limits)
{
    int ok = 1;
    const bcdi_compare_state *ref = &c->states[c->reference];
    json_t *root = new_object(&ok), *grid = new_object(&ok), *states = json_array(),
           *files = json_array();
    if (!root || !grid || !states || !files) ok = 0;
    if (ok) {
        PUT(root, "software", json_string("braggcdi " BCDI_VERSION));
        PUT(root, "reference", bcdi_json_text(ref->label));
        PUT(grid, "shape", bcdi_json_sizes(c->cg_shape, 3));
        PUT(grid, "voxel_volume_nm3", bcdi_json_real(c->voxel_volume_nm3));
        PUT(grid, "grid", json_string("the reference's native (detector-conjugate) grid"));
        PUT(root, "common_grid", json_incref(grid));
        PUT(root, "line_match_distance_nm", bcdi_json_real(c->match_distance_nm));
        PUT(root, "line_move_distance_nm", bcdi_json_real(c->move_distance_nm));
        json_t *hkl = json_array();
        for (int a = 0; hkl && a < 3; ++a)
            bcdi_json_push(hkl, json_integer(c->hkl[a]), &ok);
        PUT(root, "hkl", hkl);
        PUT(root, "reference_d_spacing_angstrom", bcdi_json_real(c->d_reference_angstrom));
        for (size_t k = 0; k < c->state_count; ++k)
            bcdi_json_push(states, state_json(c, k, &ok), &ok);
        PUT(root, "states", json_incref(states));
        /* slices.png's colour limits per row, as its colour bars and notes say them */
        static const char *const rows[CMP_SLICE_ROWS] = {
            "density", "displacement_angstrom", "displacement_change_angstrom", "density_change"};
        json_t *slices = json_array(), *figures = new_object(&ok);
        if (!slices) ok = 0;
        for (int row = 0; slices && row < CMP_SLICE_ROWS; ++row)
            bcdi_json_push(slices,
                           bcdi_colour_limits_json(&slice_limits[row], rows[row],
                                                   row == 0 ? "each state's support"
                                                            : "the row's voxels, all states"),
                           &ok);
        PUT(figures, "slices.png", slices);
        PUT(root, "figures", figures);
        for (int k = 0; k < OUT_COUNT; ++k)
            bcdi_json_push(files, json_string(OUTPUT_NAMES[k]), &ok);
        PUT(root, "files", json_incref(files));
    }
    bcdi_status st = ok ? bcdi_json_write(tx, path, root)
                        : bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    json_decref(grid);
    json_decref(states);
    json_decref(files);
    json_decref(root);
    return st;
}

#undef PUT

/* ---- HTML (offline: inline CSS, relative image paths, no scripts) ---- */

static void html_text(FILE *f, const char *s)
{
    bcdi_html_text(f, s);
}

static void html_num(FILE *f, double v, const char *format)
{
    fputs("<td>", f);
    bcdi_html_number(f, v, format);
    fputs("</td>", f);
}

static void html_label_cell(FILE *f, const bcdi_compare_state *s, int is_ref)
{
    fputs("<td class=\"l\">", f);
    html_text(f, s->label);
    if (is_ref) fputs(" <small>(reference)</small>", f);
    fputs("</td>", f);
}

static bcdi_status write_html(bcdi_output *tx, const char *path, const bcdi_comparison *c)
{
    FILE *f;
    bcdi_status st = bcdi_output_fopen(tx, path, &f);
    if (st != BCDI_OK) return st;
    const bcdi_compare_state *ref = &c->states[c->reference];
    /* wider than phase's page: one column per state */
    bcdi_html_begin(f, "braggcdi compare", "body{max-width:1400px}td.l{font-weight:bold}");
    fputs("<h1>Comparison of ", f);
    fprintf(f, "%zu states</h1>\n<p>Reference: <b>", c->state_count);
    html_text(f, ref->label);
    fputs("</b>. Generated by braggcdi " BCDI_VERSION ". Tables: "
          "<a href=\"comparison.csv\">comparison.csv</a>, "
          "<a href=\"comparison.json\">comparison.json</a>.</p>\n",
          f);
    /* alignment */
    fputs("<h2>Alignment onto the reference</h2>\n<table>\n<tr><th>state</th><th>twin flipped</th>"
          "<th>density correlation</th><th>field correlation</th><th>shift (voxels)</th>"
          "<th>shift (nm)</th><th>phase offset (rad)</th></tr>\n",
          f);
    for (size_t k = 0; k < c->state_count; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        fputs("<tr>", f);
        html_label_cell(f, s, k == c->reference);
        fprintf(f, "<td>%s</td>", s->alignment.twinned ? "yes" : "no");
        html_num(f, s->density_correlation, "%.4f");
        html_num(f, s->alignment.correlation, "%.4f");
        fprintf(f, "<td>%.2f, %.2f, %.2f</td>", s->alignment.shift[0], s->alignment.shift[1],
                s->alignment.shift[2]);
        html_num(f, shift_length_nm(s), "%.1f");
        html_num(f, s->alignment.phase, "%.3f");
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<p class=\"note\">Twin chosen by density correlation (the complex field "
          "decides when the densities cannot); sub-voxel shift by DFT registration of the "
          "density; one phase offset over the common support.</p>\n",
          f);
    /* crystal */
    fputs("<h2>Crystal</h2>\n<table>\n<tr><th>state</th><th>volume (&micro;m&sup3;)</th>"
          "<th>vs reference</th><th>lost (&micro;m&sup3;)</th><th>gained (&micro;m&sup3;)</th>"
          "<th>domains</th><th>domain volumes (&micro;m&sup3;)</th><th>domain tilt (&deg;)</th>"
          "<th>mean u (&Aring;)</th><th>std u (&Aring;)</th><th>mean strain</th>"
          "<th>strain std</th><th>ramp strain change</th><th>&Delta;u std (&Aring;)</th>"
          "<th>&Delta;density mean</th></tr>\n",
          f);
    for (size_t k = 0; k < c->state_count; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        const bcdi_analysis_result *r = &s->analysis;
        fputs("<tr>", f);
        html_label_cell(f, s, k == c->reference);
        html_num(f, r->total_volume_nm3 * 1e-9, "%.4f");
        html_num(f, 100.0 * (ratio(r->total_volume_nm3, ref->analysis.total_volume_nm3) - 1.0),
                 "%+.1f%%");
        html_num(f, s->lost_volume_nm3 * 1e-9, "%.4f");
        html_num(f, s->gained_volume_nm3 * 1e-9, "%.4f");
        fprintf(f, "<td>%zu</td><td>", r->domain_count);
        for (size_t d = 0; d < r->domain_count; ++d)
            fprintf(f, "%s%.4f", d ? ", " : "", r->domains[d].volume_nm3 * 1e-9);
        fputs("</td><td>", f);
        for (size_t d = 0; d < r->domain_count; ++d)
            fprintf(f, "%s%.4f", d ? ", " : "", s->domain_changes[d].tilt_deg);
        fputs("</td>", f);
        html_num(f, r->displacement_stats.mean, "%.3f");
        html_num(f, r->displacement_stats.std, "%.3f");
        html_num(f, r->strain_stats.mean, "%.2e");
        html_num(f, r->strain_stats.std, "%.2e");
        html_num(f, s->mean_strain_change, "%+.2e");
        html_num(f, s->delta_displacement.std, "%.3f");
        html_num(f, s->delta_density.mean, "%+.3f");
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    /* lattice */
    fputs("<h2>Lattice (prepare's diffraction summary)</h2>\n<table>\n<tr><th>state</th>"
          "<th>2&theta; (&deg;)</th><th>rocking (&deg;)</th><th>&Delta;2&theta; (&deg;)</th>"
          "<th>&Delta;&theta; (&deg;)</th><th>&Delta;d/d</th><th>d (&Aring;)</th>"
          "<th>c (&Aring;)</th><th>rotation, rocking (&deg;)</th><th>rotation, ring (&deg;)</th>"
          "<th>intensity ratio</th><th>summary</th></tr>\n",
          f);
    for (size_t k = 0; k < c->state_count; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        const bcdi_compare_lattice *l = &s->lattice;
        fputs("<tr>", f);
        html_label_cell(f, s, k == c->reference);
        html_num(f, s->peak.available ? s->peak.two_theta_deg : NAN, "%.5f");
        html_num(f, s->peak.available ? s->peak.rocking_deg : NAN, "%.5f");
        html_num(f, l->delta_two_theta_deg, "%+.5f");
        html_num(f, l->delta_theta_deg, "%+.5f");
        html_num(f, l->delta_d_over_d, "%+.2e");
        html_num(f, l->d_spacing_angstrom, "%.5f");
        html_num(f, l->c_angstrom, "%.4f");
        html_num(f, l->rocking_rotation_deg, "%+.5f");
        html_num(f, l->ring_rotation_deg, "%+.5f");
        html_num(f, l->intensity_ratio, "%.3f");
        fputs("<td class=\"l\">", f);
        html_text(f, s->peak.available ? s->peak.source : "none found");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p class=\"note\">&Delta;d/d = &minus;cot &theta;<sub>B</sub> &middot; "
          "&Delta;&theta;<sub>B</sub> with &theta;<sub>B</sub> of the reference; c = l&middot;d "
          "for a (00l) reflection. A rocking shift beyond &Delta;&theta;<sub>B</sub>, or a shift "
          "along the ring without a 2&theta; change, is a crystal rotation, not a lattice "
          "change.</p>\n",
          f);
    /* dislocations */
    fputs("<h2>Dislocations</h2>\n<table>\n<tr><th>state</th><th>count</th><th>total length (nm)"
          "</th><th>unchanged</th><th>moved</th><th>appeared</th><th>vanished</th><th>lines "
          "(change, angle to G, character, distance to the reference's line)</th></tr>\n",
          f);
    for (size_t k = 0; k < c->state_count; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        fputs("<tr>", f);
        html_label_cell(f, s, k == c->reference);
        fprintf(f, "<td>%zu</td>", s->analysis.line_count);
        html_num(f, s->total_line_length_nm, "%.0f");
        fprintf(f,
                "<td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td class=\"l\" "
                "style=\"font-weight:normal\">",
                s->lines_unchanged, s->lines_moved, s->lines_appeared, s->lines_vanished);
        for (size_t m = 0; m < s->match_count; ++m) {
            const bcdi_line_match *x = &s->matches[m];
            const bcdi_dislocation_line *l = x->change == BCDI_LINE_VANISHED
                                                 ? &ref->analysis.lines[x->line]
                                                 : &s->analysis.lines[x->line];
            fprintf(f, "%s%s %zu: %s, %.0f&deg;, %s", m ? "<br>" : "",
                    x->change == BCDI_LINE_VANISHED ? "reference line" : "line", x->line + 1,
                    change_name(x->change), l->angle_to_g_deg, character_name(l->character));
            if (isfinite(x->distance_nm)) fprintf(f, ", %.0f nm", x->distance_nm);
        }
        fputs("</td></tr>\n", f);
    }
    fprintf(f,
            "</table>\n<p class=\"note\">Lines are matched one to one, closest first, by the "
            "mean distance from the shorter line's points to the other line, after alignment: "
            "same line within %.0f nm, moved beyond %.0f nm. One reflection gives only "
            "G&middot;b.</p>\n",
            c->match_distance_nm, c->move_distance_nm);
    fputs("<h2>Central slices</h2>\n<p><img src=\"slices.png\" alt=\"central slices: density, "
          "displacement, displacement change and density change per state\"></p>\n"
          "<p class=\"note\">One plane of the common native (detector-conjugate) grid through "
          "the reference's centre of mass, normal to the grid axis along which the reference is "
          "thinnest; each row shares one colour scale. Grey: outside the crystal (for the "
          "changes: outside the common support; the density change shows lost volume in blue "
          "and gained volume in red).</p>\n<h2>Trends</h2>\n<p><img src=\"trends.png\" "
          "alt=\"trends of volume, mean "
          "displacement, dislocation count and d-spacing against the state\"></p>\n"
          "</body>\n</html>\n",
          f);
    return BCDI_OK; /* write errors: reported by the commit */
}

bcdi_status bcdi_compare_write(const bcdi_comparison *c, const bcdi_compare_params *cp,
                               const char *out_dir)
{
    (void)cp;
    if (!c || !c->states || !out_dir || !*out_dir)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "compare: nothing to write");
    bcdi_output *tx = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    if (st == BCDI_OK) st = bcdi_output_folder(tx, out_dir);
    char path[OUT_COUNT][4200];
    for (int k = 0; k < OUT_COUNT && st == BCDI_OK; ++k) {
        int len = snprintf(path[k], sizeof path[k], "%s/%s", out_dir, OUTPUT_NAMES[k]);
        if (len < 0 || (size_t)len >= sizeof path[k])
            st = bcdi_error(BCDI_ERR_INVALID_ARG, "output folder name too long: '%s'", out_dir);
    }
    if (st == BCDI_OK) st = write_csv(tx, path[OUT_CSV], c);
    bcdi_colour_limits slice_limits[CMP_SLICE_ROWS];
    if (st == BCDI_OK) st = cmp_slice_limits(c, slice_limits);
    if (st == BCDI_OK) st = write_json(tx, path[OUT_JSON], c, slice_limits);
    if (st == BCDI_OK)
        st = cmp_write_figures(tx, c, slice_limits, path[OUT_SLICES], path[OUT_TRENDS]);
    if (st == BCDI_OK) st = write_html(tx, path[OUT_HTML], c);
    if (st == BCDI_OK) return bcdi_output_commit(tx);
    bcdi_output_abort(tx);
    return st;
}
