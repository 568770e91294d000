/* Writing a comparison: comparison.csv, comparison.json, slices.png, trends.png, index.html,
 * in one output transaction (core/output.h): the files appear together when all are complete,
 * or not at all. */
#include "compare_internal.h"

#include "analysis/analysis_output.h"
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

/* ---- CSV (RFC 4180: fields with a comma, quote or newline are quoted) ---- */

static void csv_text(FILE *f, const char *s)
{
    if (s && strpbrk(s, ",\"\n\r")) {
        fputc('"', f);
        for (; *s; ++s) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else if (s) {
        fputs(s, f);
    }
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

static void json_field(FILE *f, const char *name, double v)
{
    fprintf(f, "\"%s\": ", name);
    bcdi_json_number(f, v);
}

static bcdi_status write_json(bcdi_output *tx, const char *path, const bcdi_comparison *c)
{
    FILE *f;
    bcdi_status st = bcdi_output_fopen(tx, path, &f);
    if (st != BCDI_OK) return st;
    const bcdi_compare_state *ref = &c->states[c->reference];
    fprintf(f, "{\n  \"software\": \"braggcdi %s\",\n  \"reference\": ", BCDI_VERSION);
    bcdi_json_string(f, ref->label);
    fprintf(f, ",\n  \"common_grid\": {\"shape\": [%zu, %zu, %zu], \"voxel_volume_nm3\": ",
            c->cg_shape[0], c->cg_shape[1], c->cg_shape[2]);
    bcdi_json_number(f, c->voxel_volume_nm3);
    fputs(", \"grid\": \"the reference's native (detector-conjugate) grid\"},\n  ", f);
    json_field(f, "line_match_distance_nm", c->match_distance_nm);
    fputs(", ", f);
    json_field(f, "line_move_distance_nm", c->move_distance_nm);
    fprintf(f, ", \"hkl\": [%d, %d, %d], ", c->hkl[0], c->hkl[1], c->hkl[2]);
    json_field(f, "reference_d_spacing_angstrom", c->d_reference_angstrom);
    fputs(",\n  \"states\": [", f);
    for (size_t k = 0; k < c->state_count; ++k) {
        const bcdi_compare_state *s = &c->states[k];
        const bcdi_analysis_result *r = &s->analysis;
        fputs(k ? ",\n    {" : "\n    {", f);
        fputs("\"label\": ", f);
        bcdi_json_string(f, s->label);
        fputs(", \"input\": ", f);
        bcdi_json_string(f, s->path);
        fputs(", \"result\": ", f);
        bcdi_json_string(f, s->result_path);
        fprintf(
            f,
            ", \"analysed_folder\": %s, \"reference\": %s,\n     \"alignment\": {\"twinned\": %s, ",
            s->from_folder ? "true" : "false", k == c->reference ? "true" : "false",
            s->alignment.twinned ? "true" : "false");
        json_field(f, "density_correlation", s->density_correlation);
        fputs(", ", f);
        json_field(f, "density_correlation_direct", s->density_correlation_direct);
        fputs(", ", f);
        json_field(f, "density_correlation_twin", s->density_correlation_twin);
        fputs(", ", f);
        json_field(f, "field_correlation", s->alignment.correlation);
        fputs(", \"shift_voxels\": [", f);
        for (int a = 0; a < 3; ++a) {
            if (a) fputs(", ", f);
            bcdi_json_number(f, s->alignment.shift[a]);
        }
        fputs("], \"shift_nm_lab\": [", f);
        for (int a = 0; a < 3; ++a) {
            if (a) fputs(", ", f);
            bcdi_json_number(f, s->shift_nm[a]);
        }
        fputs("], ", f);
        json_field(f, "phase_offset_rad", s->alignment.phase);
        fputs("},\n     \"volume\": {", f);
        json_field(f, "total_nm3", r->total_volume_nm3);
        fputs(", ", f);
        json_field(f, "ratio_to_reference",
                   ratio(r->total_volume_nm3, ref->analysis.total_volume_nm3));
        fputs(", ", f);
        json_field(f, "common_nm3", s->common_volume_nm3);
        fputs(", ", f);
        json_field(f, "lost_nm3", s->lost_volume_nm3);
        fputs(", ", f);
        json_field(f, "gained_nm3", s->gained_volume_nm3);
        fputs(", \"note\": \"lost: in the reference, not in this state (left the Bragg condition); "
              "gained: the reverse\"},\n",
              f);
        fprintf(f, "     \"domains\": {\"count\": %zu, \"fragments\": %zu, \"table\": [",
                r->domain_count, r->fragment_count);
        for (size_t d = 0; d < r->domain_count; ++d) {
            fprintf(f, "%s{\"id\": %zu, ", d ? ", " : "", d + 1);
            json_field(f, "volume_nm3", r->domains[d].volume_nm3);
            fputs(", ", f);
            json_field(f, "mean_displacement_angstrom", r->domains[d].mean_displacement_angstrom);
            fputs(", ", f);
            json_field(f, "tilt_deg_vs_reference", s->domain_changes[d].tilt_deg);
            fputs(", ", f);
            json_field(f, "strain_change_vs_reference", s->domain_changes[d].strain_change);
            fputc('}', f);
        }
        fputs("]},\n     \"displacement_angstrom\": ", f);
        bcdi_stats_write_json(f, &r->displacement_stats);
        fputs(",\n     \"strain\": ", f);
        bcdi_stats_write_json(f, &r->strain_stats);
        fputs(",\n     ", f);
        json_field(f, "ramp_strain", r->ramp_strain);
        fputs(", ", f);
        json_field(f, "ramp_strain_change", s->mean_strain_change);
        fputs(",\n     \"difference_on_common_support\": {\"displacement_angstrom\": ", f);
        bcdi_stats_write_json(f, &s->delta_displacement);
        fputs(", \"density\": ", f);
        bcdi_stats_write_json(f, &s->delta_density);
        fputs("},\n", f);
        fprintf(f, "     \"dislocations\": {\"count\": %zu, ", r->line_count);
        json_field(f, "total_length_nm", s->total_line_length_nm);
        fprintf(f,
                ", \"unchanged\": %zu, \"moved\": %zu, \"appeared\": %zu, \"vanished\": %zu, "
                "\"lines\": [",
                s->lines_unchanged, s->lines_moved, s->lines_appeared, s->lines_vanished);
        for (size_t m = 0; m < s->match_count; ++m) {
            const bcdi_line_match *x = &s->matches[m];
            const bcdi_dislocation_line *l = x->change == BCDI_LINE_VANISHED
                                                 ? &ref->analysis.lines[x->line]
                                                 : &r->lines[x->line];
            fprintf(f, "%s\n       {\"%s\": %zu, \"change\": \"%s\", \"reference_line\": ",
                    m ? "," : "", x->change == BCDI_LINE_VANISHED ? "reference_line_id" : "id",
                    x->line + 1, change_name(x->change));
            if (x->partner >= 0)
                fprintf(f, "%ld", x->partner + 1);
            else
                fputs("null", f);
            fputs(", ", f);
            json_field(f, "distance_nm", x->distance_nm);
            fputs(", ", f);
            json_field(f, "length_nm", l->length_nm);
            fputs(", ", f);
            json_field(f, "angle_to_g_deg", l->angle_to_g_deg);
            fprintf(f, ", \"character\": \"%s\", \"winding\": %d, \"centroid_nm\": [",
                    character_name(l->character), l->winding);
            for (int a = 0; a < 3; ++a) {
                if (a) fputs(", ", f);
                bcdi_json_number(f, l->centroid_nm[a]);
            }
            fputs("]}", f);
        }
        fputs("]},\n     \"diffraction\": ", f);
        if (!s->peak.available) {
            fputs("null", f);
        } else {
            const bcdi_compare_lattice *l = &s->lattice;
            fputs("{\"summary\": ", f);
            bcdi_json_string(f, s->peak.source);
            fputs(", ", f);
            json_field(f, "two_theta_deg", s->peak.two_theta_deg);
            fputs(", ", f);
            json_field(f, "rocking_deg", s->peak.rocking_deg);
            fputs(", ", f);
            json_field(f, "integrated_intensity", s->peak.integrated_intensity);
            fputs(", ", f);
            json_field(f, "summary_d_spacing_angstrom", s->peak.d_spacing_m * 1e10);
            fputs(",\n       ", f);
            json_field(f, "delta_two_theta_deg", l->delta_two_theta_deg);
            fputs(", ", f);
            json_field(f, "delta_theta_deg", l->delta_theta_deg);
            fputs(", ", f);
            json_field(f, "delta_d_over_d", l->delta_d_over_d);
            fputs(", ", f);
            json_field(f, "d_spacing_angstrom", l->d_spacing_angstrom);
            fputs(", ", f);
            json_field(f, "c_angstrom", l->c_angstrom);
            fputs(",\n       ", f);
            json_field(f, "rocking_shift_deg", l->rocking_shift_deg);
            fputs(", ", f);
            json_field(f, "rocking_rotation_deg", l->rocking_rotation_deg);
            fputs(", ", f);
            json_field(f, "ring_rotation_deg", l->ring_rotation_deg);
            fputs(", ", f);
            json_field(f, "intensity_ratio", l->intensity_ratio);
            fputc('}', f);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"files\": [", f);
    for (int k = 0; k < OUT_COUNT; ++k) {
        if (k) fputs(", ", f);
        bcdi_json_string(f, OUTPUT_NAMES[k]);
    }
    fputs("]\n}\n", f);
    return BCDI_OK; /* write errors: reported by the commit */
}

/* ---- HTML (offline: inline CSS, relative image paths, no scripts) ---- */

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; ++s) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void html_num(FILE *f, double v, const char *format)
{
    fputs("<td>", f);
    if (v == 0.0) v = 0.0; /* no "-0" */
    if (isfinite(v))
        fprintf(f, format, v);
    else
        fputs("&ndash;", f);
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
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>braggcdi compare</title>\n<style>\n"
          "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1400px}\n"
          "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\n"
          "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}\n"
          "th,td{border:1px solid #bbb;padding:3px 7px;text-align:right}\n"
          "th{background:#eef2f7}td.l{text-align:left;font-weight:bold}\n"
          "img{max-width:100%;border:1px solid #ddd}p.note{color:#555;font-size:0.85em}\n"
          "</style>\n</head>\n<body>\n<h1>Comparison of ",
          f);
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
    for (int k = 0; k < OUT_COUNT; ++k)
        snprintf(path[k], sizeof path[k], "%s/%s", out_dir, OUTPUT_NAMES[k]);
    if (st == BCDI_OK) st = write_csv(tx, path[OUT_CSV], c);
    if (st == BCDI_OK) st = write_json(tx, path[OUT_JSON], c);
    if (st == BCDI_OK) st = cmp_write_figures(tx, c, path[OUT_SLICES], path[OUT_TRENDS]);
    if (st == BCDI_OK) st = write_html(tx, path[OUT_HTML], c);
    if (st == BCDI_OK) return bcdi_output_commit(tx);
    bcdi_output_abort(tx);
    return st;
}
