/* Writing the analysis: every file goes to a hidden staging name in the output folder first;
 * only when all of them are complete are they renamed to their final names, so a failed run
 * leaves nothing under a final name (and removes the folder if it created it). */
#include "analysis_internal.h"
#include "analysis_output.h"

#include "io/h5io.h"
#include "io/json.h"
#include "io/tiff_io.h"
#include "io/vtk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    OUT_VTI = 0,
    OUT_VTS,
    OUT_VTP,
    OUT_DENSITY_TIF,
    OUT_DISPLACEMENT_TIF,
    OUT_DENSITY_PNG,
    OUT_DISPLACEMENT_PNG,
    OUT_SUMMARY,
    OUT_COUNT
};
static const char *const OUTPUT_NAMES[OUT_COUNT] = {
    "analysis.vti",     "analysis_sheared.vts", "dislocations.vtp", "density.tif",
    "displacement.tif", "density.png",          "displacement.png", "summary.json"};

typedef struct staging {
    char final_path[OUT_COUNT][4096];
    char stage_path[OUT_COUNT][4096];
    int written[OUT_COUNT];
} staging;

/* ---- JSON ---- */

/* Shared with compare's comparison.json. */
void bcdi_stats_write_json(FILE *f, const bcdi_stats *s)
{
    fprintf(f, "{\"count\": %zu, \"mean\": ", s->count);
    bcdi_json_number(f, s->mean);
    fputs(", \"std\": ", f);
    bcdi_json_number(f, s->std);
    fputs(", \"p05\": ", f);
    bcdi_json_number(f, s->p05);
    fputs(", \"p95\": ", f);
    bcdi_json_number(f, s->p95);
    fputs(", \"min\": ", f);
    bcdi_json_number(f, s->min);
    fputs(", \"max\": ", f);
    bcdi_json_number(f, s->max);
    fputs(", \"range\": ", f);
    bcdi_json_number(f, s->max - s->min);
    fputc('}', f);
}

static const char *character_name(bcdi_line_character c)
{
    return c == BCDI_LINE_SCREW ? "screw-like" : c == BCDI_LINE_EDGE ? "edge-like" : "mixed";
}

static bcdi_status write_summary(const char *path, const bcdi_analysis_result *r,
                                 const bcdi_analysis_params *p, const char *input_path,
                                 const char *const *keys, const char *const *values, size_t count,
                                 const int *wanted)
{
    FILE *f = fopen(path, "w");
    if (!f) return bcdi_error(BCDI_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    const bcdi_analysis_frame *fr = &r->frame;
    fprintf(f, "{\n  \"software\": \"braggcdi %s\",\n  \"input\": ", BCDI_VERSION);
    bcdi_json_string(f, input_path);
    fprintf(f, ",\n  \"frames\": \"positions in nm from the input array's centre, lab frame (x = "
               "y cross z, y up, z along the beam); the VTK files use the orthonormal grid's "
               "frame\",\n");
    fprintf(f,
            "  \"grid\": {\"input_shape\": [%zu, %zu, %zu], \"crop_origin\": [%zu, %zu, %zu], "
            "\"crop_shape\": [%zu, %zu, %zu],\n",
            r->input_shape[0], r->input_shape[1], r->input_shape[2], r->origin[0], r->origin[1],
            r->origin[2], r->shape[0], r->shape[1], r->shape[2]);
    fprintf(f, "    \"support_box\": {\"lo\": [%zu, %zu, %zu], \"hi\": [%zu, %zu, %zu]},\n",
            r->box_lo[0], r->box_lo[1], r->box_lo[2], r->box_hi[0], r->box_hi[1], r->box_hi[2]);
    fprintf(f, "    \"basis_nm_columns\": [");
    for (int a = 0; a < 3; ++a) {
        double col[3] = {fr->basis_m[0][a] * 1e9, fr->basis_m[1][a] * 1e9, fr->basis_m[2][a] * 1e9};
        if (a) fputs(", ", f);
        bcdi_json_numbers(f, col, 3);
    }
    double sizes[3];
    for (int a = 0; a < 3; ++a)
        sizes[a] = 1e9 * sqrt(fr->basis_m[0][a] * fr->basis_m[0][a] +
                              fr->basis_m[1][a] * fr->basis_m[1][a] +
                              fr->basis_m[2][a] * fr->basis_m[2][a]);
    fputs("],\n    \"voxel_size_nm\": ", f);
    bcdi_json_numbers(f, sizes, 3);
    fprintf(f, ", \"voxel_volume_nm3\": ");
    bcdi_json_number(f, r->voxel_volume_nm3);
    fprintf(f, ",\n    \"geometry\": \"%s\", \"d_spacing_angstrom\": ",
            fr->has_geometry ? "file" : "stand-in (voxel_size, d_spacing)");
    bcdi_json_number(f, fr->d_spacing_m * 1e10);
    fputs(", \"g_norm_inv_angstrom\": ", f);
    bcdi_json_number(f, fr->g_norm * 1e-10);
    fputs(", \"g_hat_lab\": ", f);
    bcdi_json_numbers(f, fr->g_hat, 3);
    fputs("},\n", f);
    fprintf(f, "  \"support\": {\"threshold\": ");
    bcdi_json_number(f, r->threshold);
    fprintf(f, ", \"threshold_automatic\": %s, \"voxels\": %zu, \"volume_nm3\": ",
            r->threshold_auto ? "true" : "false", r->support_voxels);
    bcdi_json_number(f, r->total_volume_nm3);
    fputs(", \"volume_um3\": ", f);
    bcdi_json_number(f, r->total_volume_nm3 * 1e-9);
    fputs(", \"amplitude_max\": ", f);
    bcdi_json_number(f, r->amplitude_max);
    fputs("},\n  \"phase_ramp\": {\"removed\": ", f);
    fputs(p->remove_ramp ? "true" : "false", f);
    fputs(", \"rad_per_voxel\": ", f);
    bcdi_json_numbers(f, r->ramp_rad_per_voxel, 3);
    double dq[3] = {r->ramp_q[0] * 1e-10, r->ramp_q[1] * 1e-10, r->ramp_q[2] * 1e-10};
    fputs(", \"peak_offset_inv_angstrom\": ", f);
    bcdi_json_numbers(f, dq, 3);
    fputs(", \"mean_strain_along_g\": ", f);
    bcdi_json_number(f, r->ramp_strain);
    fputs(", \"offset_rad\": ", f);
    bcdi_json_number(f, r->phase_offset_rad);
    static const char *const refs[] = {"mean", "com", "none"};
    fprintf(f, ", \"offset_reference\": \"%s\"},\n", refs[p->phase_reference]);
    fputs("  \"displacement_angstrom\": ", f);
    bcdi_stats_write_json(f, &r->displacement_stats);
    fputs(",\n  \"strain\": ", f);
    bcdi_stats_write_json(f, &r->strain_stats);
    fprintf(f, ",\n  \"strain_reference\": \"%s\", \"strain_offset_added\": ",
            p->strain_absolute ? "absolute" : "relative");
    bcdi_json_number(f, r->strain_offset);
    fprintf(f, ",\n  \"domains\": {\"count\": %zu, \"fragments\": %zu, \"total_volume_nm3\": ",
            r->domain_count, r->fragment_count);
    bcdi_json_number(f, r->total_volume_nm3);
    fputs(", \"table\": [", f);
    for (size_t k = 0; k < r->domain_count; ++k) {
        const bcdi_domain_info *d = &r->domains[k];
        fprintf(f, "%s\n    {\"id\": %zu, \"voxels\": %zu, \"volume_nm3\": ", k ? "," : "", k + 1,
                d->voxels);
        bcdi_json_number(f, d->volume_nm3);
        fputs(", \"centroid_nm\": ", f);
        bcdi_json_numbers(f, d->centroid_nm, 3);
        fputs(", \"mean_displacement_angstrom\": ", f);
        bcdi_json_number(f, d->mean_displacement_angstrom);
        fputs(", \"mean_strain\": ", f);
        bcdi_json_number(f, d->mean_strain);
        fputc('}', f);
    }
    fprintf(f,
            "]},\n  \"dislocations\": {\"count\": %zu, \"dropped_short\": %zu, "
            "\"vortex_faces\": %zu,\n",
            r->line_count, r->dropped_lines, r->vortex_faces);
    fprintf(f, "    \"note\": \"one reflection gives only G.b: winding = -G.b/2pi around the "
               "reported tangent; a full Burgers vector needs three or more non-coplanar "
               "reflections\",\n    \"lines\": [");
    for (size_t k = 0; k < r->line_count; ++k) {
        const bcdi_dislocation_line *l = &r->lines[k];
        fprintf(f, "%s\n      {\"id\": %zu, \"points\": %zu, \"length_nm\": ", k ? "," : "", k + 1,
                l->point_count);
        bcdi_json_number(f, l->length_nm);
        fputs(", \"centroid_nm\": ", f);
        bcdi_json_numbers(f, l->centroid_nm, 3);
        fputs(", \"tangent\": ", f);
        bcdi_json_numbers(f, l->tangent, 3);
        fprintf(f, ", \"winding\": %d, \"closed\": %s, \"angle_to_g_deg\": ", l->winding,
                l->closed ? "true" : "false");
        bcdi_json_number(f, l->angle_to_g_deg);
        fprintf(f, ", \"character\": \"%s\", \"ring_fit_n\": ", character_name(l->character));
        bcdi_json_number(f, l->ring_n);
        fputs(", \"ring_fit_harmonic2_rad\": ", f);
        bcdi_json_number(f, l->ring_harmonic2);
        fputs(", \"depth_voxels\": ", f);
        bcdi_json_number(f, l->depth_voxels);
        fputs(", \"mean_smoothed_density\": ", f);
        bcdi_json_number(f, l->mean_density);
        fputc('}', f);
    }
    fputs("]},\n", f);
    if (r->has_ortho) {
        fprintf(f, "  \"orthonormal_grid\": {\"frame\": \"%s\", \"voxel_nm\": ",
                p->frame == BCDI_ORTHO_LAB ? "lab" : "crystal");
        bcdi_json_number(f, r->ortho_voxel_nm);
        fprintf(f, ", \"shape_zyx\": [%zu, %zu, %zu], \"origin_nm_xyz\": ", r->ortho_shape[0],
                r->ortho_shape[1], r->ortho_shape[2]);
        bcdi_json_numbers(f, r->ortho_origin_nm, 3);
        fputs(", \"axes_in_lab\": [", f);
        for (int k = 0; k < 3; ++k) {
            if (k) fputs(", ", f);
            bcdi_json_numbers(f, r->ortho_axes[k], 3);
        }
        fputs("]},\n", f);
    }
    fputs("  \"parameters\": {", f);
    for (size_t i = 0; i < count; ++i) {
        fputs(i ? ",\n    " : "\n    ", f);
        bcdi_json_string(f, keys[i]);
        fputs(": ", f);
        bcdi_json_string(f, values[i]);
    }
    fputs("},\n  \"files\": [", f);
    for (int k = 0, first = 1; k < OUT_COUNT; ++k) {
        if (!wanted[k]) continue;
        if (!first) fputs(", ", f);
        bcdi_json_string(f, OUTPUT_NAMES[k]);
        first = 0;
    }
    fputs("]\n}\n", f);
    int failed = ferror(f);
    if (fclose(f) != 0) failed = 1;
    if (failed) return bcdi_error(BCDI_ERR_IO, "writing '%s' failed (disk full?)", path);
    return BCDI_OK;
}

/* ---- VTK ---- */

static bcdi_status write_sheared(const char *path, const bcdi_analysis_result *r)
{
    const size_t n = r->shape[0] * r->shape[1] * r->shape[2];
    float *points = malloc(n * 3 * sizeof *points);
    if (!points) return bcdi_error(BCDI_ERR_NOMEM, "'%s': %zu points", path, n);
    for (size_t i0 = 0; i0 < r->shape[0]; ++i0)
        for (size_t i1 = 0; i1 < r->shape[1]; ++i1)
            for (size_t i2 = 0; i2 < r->shape[2]; ++i2) {
                size_t v = (i0 * r->shape[1] + i1) * r->shape[2] + i2;
                double d[3] = {(double)(i0 + r->origin[0]) - (double)(r->input_shape[0] / 2),
                               (double)(i1 + r->origin[1]) - (double)(r->input_shape[1] / 2),
                               (double)(i2 + r->origin[2]) - (double)(r->input_shape[2] / 2)};
                double lab[3];
                for (int k = 0; k < 3; ++k)
                    lab[k] = 1e9 * (r->frame.basis_m[k][0] * d[0] + r->frame.basis_m[k][1] * d[1] +
                                    r->frame.basis_m[k][2] * d[2]);
                for (int k = 0; k < 3; ++k)
                    points[3 * v + k] =
                        (float)(r->has_ortho ? bcdi_dot3(r->ortho_axes[k], lab) : lab[k]);
            }
    const bcdi_vtk_array arrays[] = {
        {"density", BCDI_DT_F32, 1, r->density},
        {"phase", BCDI_DT_F32, 1, r->phase},
        {"displacement", BCDI_DT_F32, 1, r->displacement},
        {"strain", BCDI_DT_F32, 1, r->strain},
        {"support", BCDI_DT_U8, 1, r->support},
        {"strain_valid", BCDI_DT_U8, 1, r->strain_valid},
        {"vortex_density", BCDI_DT_F32, 1, r->vortex_density},
        {"vortex_gate", BCDI_DT_U8, 1, r->vortex_gate},
        {"domain", BCDI_DT_I32, 1, r->domain_label},
    };
    /* VTK wants x fastest: array axis 2 is x here, so dims are (n2, n1, n0) */
    const size_t dims[3] = {r->shape[2], r->shape[1], r->shape[0]};
    bcdi_status st =
        bcdi_vtk_write_structured(path, dims, points, arrays, sizeof arrays / sizeof *arrays);
    free(points);
    return st;
}

static bcdi_status write_lines(const char *path, const bcdi_analysis_result *r)
{
    size_t total = 0;
    for (size_t k = 0; k < r->line_count; ++k)
        total += r->lines[k].point_count;
    double *points = malloc((total ? total : 1) * 3 * sizeof *points);
    size_t *counts = malloc((r->line_count ? r->line_count : 1) * sizeof *counts);
    int32_t *winding = malloc((r->line_count ? r->line_count : 1) * sizeof *winding);
    int32_t *character = malloc((r->line_count ? r->line_count : 1) * sizeof *character);
    double *angle = malloc((r->line_count ? r->line_count : 1) * sizeof *angle);
    double *length = malloc((r->line_count ? r->line_count : 1) * sizeof *length);
    bcdi_status st = BCDI_OK;
    if (!points || !counts || !winding || !character || !angle || !length) {
        st = bcdi_error(BCDI_ERR_NOMEM, "'%s': %zu points", path, total);
        goto done;
    }
    size_t at = 0;
    for (size_t k = 0; k < r->line_count; ++k) {
        const bcdi_dislocation_line *l = &r->lines[k];
        counts[k] = l->point_count;
        winding[k] = l->winding;
        character[k] = (int32_t)l->character;
        angle[k] = l->angle_to_g_deg;
        length[k] = l->length_nm;
        for (size_t i = 0; i < l->point_count; ++i, ++at)
            for (int c = 0; c < 3; ++c)
                points[3 * at + c] = r->has_ortho
                                         ? bcdi_dot3(r->ortho_axes[c], l->points_nm + 3 * i)
                                         : l->points_nm[3 * i + c];
    }
    const bcdi_vtk_array arrays[] = {
        {"winding", BCDI_DT_I32, 1, winding},
        {"character", BCDI_DT_I32, 1, character}, /* 0 screw-like, 1 edge-like, 2 mixed */
        {"angle_to_g_deg", BCDI_DT_F64, 1, angle},
        {"length_nm", BCDI_DT_F64, 1, length},
    };
    st = bcdi_vtk_write_polylines(path, r->line_count, counts, points, arrays,
                                  sizeof arrays / sizeof *arrays);
done:
    free(points);
    free(counts);
    free(winding);
    free(character);
    free(angle);
    free(length);
    return st;
}

static bcdi_status write_image(const char *path, const bcdi_analysis_result *r)
{
    const size_t dims[3] = {r->ortho_shape[2], r->ortho_shape[1], r->ortho_shape[0]};
    const double spacing[3] = {r->ortho_voxel_nm, r->ortho_voxel_nm, r->ortho_voxel_nm};
    bcdi_vtk_array arrays[] = {
        {"density", BCDI_DT_F32, 1, r->o_density},
        {"phase", BCDI_DT_F32, 1, r->o_phase},
        {"displacement", BCDI_DT_F32, 1, r->o_displacement},
        {"strain", BCDI_DT_F32, 1, r->o_strain},
        {"support", BCDI_DT_U8, 1, r->o_support},
        {"strain_valid", BCDI_DT_U8, 1, r->o_strain_valid},
        {"unwrapped_phase", BCDI_DT_F32, 1, r->o_unwrapped},
    };
    size_t count = sizeof arrays / sizeof *arrays - (r->o_unwrapped ? 0 : 1);
    return bcdi_vtk_write_image(path, dims, r->ortho_origin_nm, spacing, arrays, count);
}

/* ---- all together ---- */

bcdi_status bcdi_analysis_write(const bcdi_analysis_result *r, const bcdi_analysis_params *p,
                                const char *input_path, const char *out_dir,
                                const char *const *config_keys, const char *const *config_values,
                                size_t config_count)
{
    struct stat sb;
    int created = 0;
    if (stat(out_dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return bcdi_error(BCDI_ERR_IO, "output '%s' exists and is not a folder", out_dir);
    } else {
        if (mkdir(out_dir, 0777) != 0)
            return bcdi_error(BCDI_ERR_IO, "cannot create the output folder '%s': %s", out_dir,
                              strerror(errno));
        created = 1;
    }
    staging *s = calloc(1, sizeof *s);
    if (!s) return bcdi_error(BCDI_ERR_NOMEM, "analyze: output names");
    bcdi_status st = BCDI_OK;
    for (int k = 0; k < OUT_COUNT && st == BCDI_OK; ++k) {
        int len =
            snprintf(s->final_path[k], sizeof s->final_path[k], "%s/%s", out_dir, OUTPUT_NAMES[k]);
        int len2 = snprintf(s->stage_path[k], sizeof s->stage_path[k], "%s/.%s.stage-%ld", out_dir,
                            OUTPUT_NAMES[k], (long)getpid());
        if (len < 0 || len2 < 0 || (size_t)len2 >= sizeof s->stage_path[k])
            st = bcdi_error(BCDI_ERR_INVALID_ARG, "output folder name too long: '%s'", out_dir);
    }
    const size_t odims[3] = {r->ortho_shape[0], r->ortho_shape[1], r->ortho_shape[2]};
#define STAGE(k, call)                                                                             \
    do {                                                                                           \
        if (st == BCDI_OK) {                                                                       \
            st = (call);                                                                           \
            if (st == BCDI_OK) s->written[k] = 1;                                                  \
        }                                                                                          \
    } while (0)
    /* without the orthonormal grid (orthogonalise=false) only the sheared grid, the lines and
     * the summary are written */
    int wanted[OUT_COUNT];
    for (int k = 0; k < OUT_COUNT; ++k)
        wanted[k] = r->has_ortho || k == OUT_VTS || k == OUT_VTP || k == OUT_SUMMARY;
    if (wanted[OUT_VTI]) STAGE(OUT_VTI, write_image(s->stage_path[OUT_VTI], r));
    STAGE(OUT_VTS, write_sheared(s->stage_path[OUT_VTS], r));
    STAGE(OUT_VTP, write_lines(s->stage_path[OUT_VTP], r));
    if (wanted[OUT_DENSITY_TIF])
        STAGE(OUT_DENSITY_TIF, bcdi_tiff_write_multipage(s->stage_path[OUT_DENSITY_TIF],
                                                         BCDI_DT_F32, odims, r->o_density));
    if (wanted[OUT_DISPLACEMENT_TIF])
        STAGE(OUT_DISPLACEMENT_TIF,
              bcdi_tiff_write_multipage(s->stage_path[OUT_DISPLACEMENT_TIF], BCDI_DT_F32, odims,
                                        r->o_displacement));
    if (st == BCDI_OK && wanted[OUT_DENSITY_PNG]) {
        st = ana_write_figures(r, s->stage_path[OUT_DENSITY_PNG],
                               s->stage_path[OUT_DISPLACEMENT_PNG]);
        if (st == BCDI_OK)
            s->written[OUT_DENSITY_PNG] = s->written[OUT_DISPLACEMENT_PNG] = 1;
        else if (access(s->stage_path[OUT_DENSITY_PNG], F_OK) == 0)
            s->written[OUT_DENSITY_PNG] = 1;
    }
    STAGE(OUT_SUMMARY, write_summary(s->stage_path[OUT_SUMMARY], r, p, input_path, config_keys,
                                     config_values, config_keys ? config_count : 0, wanted));
#undef STAGE
    /* commit: rename every staged file; on any failure undo what was renamed */
    int renamed = 0;
    if (st == BCDI_OK) {
        for (; renamed < OUT_COUNT; ++renamed)
            if (wanted[renamed] && rename(s->stage_path[renamed], s->final_path[renamed]) != 0) {
                st = bcdi_error(BCDI_ERR_IO, "cannot rename '%s' to '%s': %s",
                                s->stage_path[renamed], s->final_path[renamed], strerror(errno));
                break;
            }
    }
    if (st != BCDI_OK) {
        for (int k = 0; k < renamed; ++k)
            if (wanted[k]) remove(s->final_path[k]);
        for (int k = renamed; k < OUT_COUNT; ++k)
            if (s->written[k] || k == OUT_SUMMARY) remove(s->stage_path[k]);
        if (created) rmdir(out_dir);
    }
    free(s);
    return st;
}
