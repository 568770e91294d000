/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing the analysis: one output transaction (core/output.h) holds every file of the folder,
 * so the files appear together when all are complete, or not at all (a missing folder is made
 * whole on commit). */
#include "analysis_internal.h"
#include "analysis_output.h"

#include "io/hdf5.h"
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
    OUT_STRAIN_PNG,
    OUT_SUMMARY,
    OUT_COUNT
};
static const char *const OUTPUT_NAMES[OUT_COUNT] = {
    "analysis.vti", "analysis_sheared.vts", "dislocations.vtp", "density.tif", "displacement.tif",
    "density.png",  "displacement.png",     "strain.png",       "summary.json"};

/* ---- JSON ---- */

/* Shared with compare's comparison.json. */
json_t *bcdi_stats_json(const bcdi_stats *s)
{
    json_t *o = json_object();
    int ok = o != NULL;
    if (ok) {
        bcdi_json_put(o, "count", json_integer((json_int_t)s->count), &ok);
        bcdi_json_put(o, "mean", bcdi_json_real(s->mean), &ok);
        bcdi_json_put(o, "std", bcdi_json_real(s->std), &ok);
        bcdi_json_put(o, "p05", bcdi_json_real(s->p05), &ok);
        bcdi_json_put(o, "p95", bcdi_json_real(s->p95), &ok);
        bcdi_json_put(o, "min", bcdi_json_real(s->min), &ok);
        bcdi_json_put(o, "max", bcdi_json_real(s->max), &ok);
        bcdi_json_put(o, "range", bcdi_json_real(s->max - s->min), &ok);
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *bcdi_colour_limits_json(const bcdi_colour_limits *l, const char *field, const char *over)
{
    json_t *o = json_object();
    int ok = o != NULL;
    char rule[128];
    if (l->kind == BCDI_COLOUR_SIGNED)
        snprintf(rule, sizeof rule, "symmetric: +-max(|p%g|, |p%g|)", 100.0 - l->percentile,
                 l->percentile);
    else if (l->kind == BCDI_COLOUR_ABOUT_MEDIAN)
        snprintf(rule, sizeof rule, "about the median m: m +- max(|p%g - m|, |p%g - m|)",
                 100.0 - l->percentile, l->percentile);
    else
        snprintf(rule, sizeof rule, "0 to p%g", l->percentile);
    if (ok) {
        bcdi_json_put(o, "field", json_string(field), &ok);
        bcdi_json_put(o, "rule", json_string(rule), &ok);
        bcdi_json_put(o, "percentile", bcdi_json_real(l->percentile), &ok);
        bcdi_json_put(o, "over", json_string(over), &ok);
        bcdi_json_put(o, "min", bcdi_json_real(l->lo), &ok);
        bcdi_json_put(o, "max", bcdi_json_real(l->hi), &ok);
        bcdi_json_put(o, "voxels", json_integer((json_int_t)l->count), &ok);
        bcdi_json_put(o, "clipped_low", json_integer((json_int_t)l->below), &ok);
        bcdi_json_put(o, "clipped_high", json_integer((json_int_t)l->above), &ok);
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *character_name(bcdi_line_character c)
{
    return c == BCDI_LINE_SCREW ? "screw-like" : c == BCDI_LINE_EDGE ? "edge-like" : "mixed";
}

/* JSON object holder: NULL-safe for bcdi_json_put when the allocation failed. */
static json_t *object(int *ok)
{
    json_t *o = json_object();
    if (!o) *ok = 0;
    return o;
}

static json_t *array(int *ok)
{
    json_t *a = json_array();
    if (!a) *ok = 0;
    return a;
}

#define PUT(obj, key, value) bcdi_json_put((obj), (key), (value), &ok)

static json_t *grid_json(const bcdi_analysis_result *r, int *okp)
{
    int ok = 1;
    const bcdi_analysis_frame *fr = &r->frame;
    json_t *g = object(&ok);
    if (!g) return *okp = 0, NULL;
    PUT(g, "input_shape", bcdi_json_sizes(r->input_shape, 3));
    PUT(g, "crop_origin", bcdi_json_sizes(r->origin, 3));
    PUT(g, "crop_shape", bcdi_json_sizes(r->shape, 3));
    json_t *box = object(&ok);
    if (box) {
        PUT(box, "lo", bcdi_json_sizes(r->box_lo, 3));
        PUT(box, "hi", bcdi_json_sizes(r->box_hi, 3));
    }
    PUT(g, "support_box", box);
    json_t *columns = array(&ok);
    double sizes[3];
    for (int a = 0; a < 3; ++a) {
        double col[3] = {fr->basis_m[0][a] * 1e9, fr->basis_m[1][a] * 1e9, fr->basis_m[2][a] * 1e9};
        if (columns) bcdi_json_push(columns, bcdi_json_reals(col, 3), &ok);
        sizes[a] = sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
    }
    PUT(g, "basis_nm_columns", columns);
    PUT(g, "voxel_size_nm", bcdi_json_reals(sizes, 3));
    PUT(g, "voxel_volume_nm3", bcdi_json_real(r->voxel_volume_nm3));
    PUT(g, "geometry", json_string(fr->has_geometry ? "file" : "stand-in (voxel_size, d_spacing)"));
    PUT(g, "d_spacing_angstrom", bcdi_json_real(fr->d_spacing_m * 1e10));
    PUT(g, "g_norm_inv_angstrom", bcdi_json_real(fr->g_norm * 1e-10));
    PUT(g, "g_hat_lab", bcdi_json_reals(fr->g_hat, 3));
    if (!ok) *okp = 0;
    return g;
}

static json_t *domains_json(const bcdi_analysis_result *r, int *okp)
{
    int ok = 1;
    json_t *d = object(&ok), *table = array(&ok);
    if (!d) return *okp = 0, json_decref(table), NULL;
    PUT(d, "count", json_integer((json_int_t)r->domain_count));
    PUT(d, "fragments", json_integer((json_int_t)r->fragment_count));
    PUT(d, "total_volume_nm3", bcdi_json_real(r->total_volume_nm3));
    for (size_t k = 0; table && k < r->domain_count; ++k) {
        const bcdi_domain_info *di = &r->domains[k];
        json_t *row = object(&ok);
        if (!row) break;
        PUT(row, "id", json_integer((json_int_t)(k + 1)));
        PUT(row, "voxels", json_integer((json_int_t)di->voxels));
        PUT(row, "volume_nm3", bcdi_json_real(di->volume_nm3));
        PUT(row, "centroid_nm", bcdi_json_reals(di->centroid_nm, 3));
        PUT(row, "mean_displacement_angstrom", bcdi_json_real(di->mean_displacement_angstrom));
        PUT(row, "mean_strain", bcdi_json_real(di->mean_strain));
        bcdi_json_push(table, row, &ok);
    }
    PUT(d, "table", table);
    if (!ok) *okp = 0;
    return d;
}

static json_t *lines_json(const bcdi_analysis_result *r, int *okp)
{
    int ok = 1;
    json_t *d = object(&ok), *lines = array(&ok);
    if (!d) return *okp = 0, json_decref(lines), NULL;
    PUT(d, "count", json_integer((json_int_t)r->line_count));
    PUT(d, "dropped_short", json_integer((json_int_t)r->dropped_lines));
    PUT(d, "vortex_faces", json_integer((json_int_t)r->vortex_faces));
    PUT(d, "note",
        json_string("one reflection gives only G.b: winding = -G.b/2pi around the reported "
                    "tangent; a full Burgers vector needs three or more non-coplanar "
                    "reflections"));
    for (size_t k = 0; lines && k < r->line_count; ++k) {
        const bcdi_dislocation_line *l = &r->lines[k];
        json_t *row = object(&ok);
        if (!row) break;
        PUT(row, "id", json_integer((json_int_t)(k + 1)));
        PUT(row, "points", json_integer((json_int_t)l->point_count));
        PUT(row, "length_nm", bcdi_json_real(l->length_nm));
        PUT(row, "centroid_nm", bcdi_json_reals(l->centroid_nm, 3));
        PUT(row, "tangent", bcdi_json_reals(l->tangent, 3));
        PUT(row, "winding", json_integer(l->winding));
        PUT(row, "closed", json_boolean(l->closed));
        PUT(row, "angle_to_g_deg", bcdi_json_real(l->angle_to_g_deg));
        PUT(row, "character", json_string(character_name(l->character)));
        PUT(row, "ring_fit_n", bcdi_json_real(l->ring_n));
        PUT(row, "ring_fit_harmonic2_rad", bcdi_json_real(l->ring_harmonic2));
        PUT(row, "depth_voxels", bcdi_json_real(l->depth_voxels));
        PUT(row, "mean_smoothed_density", bcdi_json_real(l->mean_density));
        bcdi_json_push(lines, row, &ok);
    }
    PUT(d, "lines", lines);
    if (!ok) *okp = 0;
    return d;
}

static bcdi_status write_summary(bcdi_output *tx, const char *path, const bcdi_analysis_result *r,
                                 const bcdi_analysis_params *p, const char *input_path,
                                 const char *const *keys, const char *const *values, size_t count,
                                 const int *wanted, const bcdi_colour_limits *limits)
{
    int ok = 1;
    json_t *root = object(&ok);
    if (!root) return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    PUT(root, "software", json_string("braggcdi " BCDI_VERSION));
    PUT(root, "input", bcdi_json_text(input_path));
    PUT(root, "frames",
        json_string("positions in nm from the input array's centre, lab frame (x = y cross z, "
                    "y up, z along the beam); the VTK files use the orthonormal grid's frame"));
    PUT(root, "grid", grid_json(r, &ok));
    json_t *support = object(&ok);
    if (support) {
        char reference[128];
        snprintf(reference, sizeof reference, "p%g of |rho| %s", BCDI_ANALYSIS_REFERENCE_PERCENTILE,
                 r->file_support_used ? "inside the result's support" : "above 5% of its maximum");
        PUT(support, "threshold", bcdi_json_real(r->threshold));
        PUT(support, "threshold_of", json_string("amplitude_reference"));
        PUT(support, "threshold_automatic", json_boolean(r->threshold_auto));
        PUT(support, "threshold_amplitude", bcdi_json_real(r->threshold_amplitude));
        PUT(support, "amplitude_reference", bcdi_json_real(r->amplitude_reference));
        PUT(support, "amplitude_reference_is", json_string(reference));
        PUT(support, "voxels", json_integer((json_int_t)r->support_voxels));
        PUT(support, "volume_nm3", bcdi_json_real(r->total_volume_nm3));
        PUT(support, "volume_um3", bcdi_json_real(r->total_volume_nm3 * 1e-9));
        PUT(support, "amplitude_max", bcdi_json_real(r->amplitude_max));
        /* the former definition, |rho| above the threshold times the maximum */
        PUT(support, "voxels_of_max", json_integer((json_int_t)r->support_voxels_of_max));
        PUT(support, "volume_of_max_nm3", bcdi_json_real(r->volume_of_max_nm3));
    }
    PUT(root, "support", support);
    json_t *ramp = object(&ok);
    if (ramp) {
        static const char *const refs[] = {"mean", "com", "none"};
        double dq[3] = {r->ramp_q[0] * 1e-10, r->ramp_q[1] * 1e-10, r->ramp_q[2] * 1e-10};
        PUT(ramp, "removed", json_boolean(p->remove_ramp));
        PUT(ramp, "rad_per_voxel", bcdi_json_reals(r->ramp_rad_per_voxel, 3));
        PUT(ramp, "peak_offset_inv_angstrom", bcdi_json_reals(dq, 3));
        PUT(ramp, "mean_strain_along_g", bcdi_json_real(r->ramp_strain));
        PUT(ramp, "offset_rad", bcdi_json_real(r->phase_offset_rad));
        PUT(ramp, "offset_reference", json_string(refs[p->phase_reference]));
    }
    PUT(root, "phase_ramp", ramp);
    PUT(root, "displacement_angstrom", bcdi_stats_json(&r->displacement_stats));
    PUT(root, "strain", bcdi_stats_json(&r->strain_stats));
    PUT(root, "strain_reference", json_string(p->strain_absolute ? "absolute" : "relative"));
    PUT(root, "strain_offset_added", bcdi_json_real(r->strain_offset));
    PUT(root, "domains", domains_json(r, &ok));
    PUT(root, "dislocations", lines_json(r, &ok));
    if (r->has_ortho) {
        json_t *o = object(&ok), *axes = array(&ok);
        if (o) {
            PUT(o, "frame", json_string(p->frame == BCDI_ORTHO_LAB ? "lab" : "crystal"));
            PUT(o, "voxel_nm", bcdi_json_real(r->ortho_voxel_nm));
            PUT(o, "shape_zyx", bcdi_json_sizes(r->ortho_shape, 3));
            PUT(o, "origin_nm_xyz", bcdi_json_reals(r->ortho_origin_nm, 3));
        }
        for (int k = 0; axes && k < 3; ++k)
            bcdi_json_push(axes, bcdi_json_reals(r->ortho_axes[k], 3), &ok);
        if (o)
            PUT(o, "axes_in_lab", axes);
        else
            json_decref(axes);
        PUT(root, "orthonormal_grid", o);
    }
    if (limits) {
        /* each figure's colour limits, as its colour bar and note say them */
        static const char *const fields[ANA_FIGURE_COUNT] = {"density", "displacement_angstrom",
                                                             "strain"};
        json_t *figures = object(&ok);
        for (int f = 0; figures && f < ANA_FIGURE_COUNT; ++f) {
            json_t *one = bcdi_colour_limits_json(
                &limits[f], fields[f],
                f == ANA_FIGURE_STRAIN ? "orthonormal valid strain voxels" : "orthonormal support");
            if (!one) ok = 0;
            PUT(figures, OUTPUT_NAMES[OUT_DENSITY_PNG + f], one);
        }
        PUT(root, "figures", figures);
    }
    json_t *parameters = object(&ok);
    for (size_t i = 0; parameters && i < count; ++i)
        PUT(parameters, keys[i], bcdi_json_text(values[i]));
    PUT(root, "parameters", parameters);
    json_t *files = array(&ok);
    for (int k = 0; files && k < OUT_COUNT; ++k)
        if (wanted[k]) bcdi_json_push(files, json_string(OUTPUT_NAMES[k]), &ok);
    PUT(root, "files", files);
    bcdi_status st = ok ? bcdi_json_write(tx, path, root)
                        : bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    json_decref(root);
    return st;
}

#undef PUT

/* ---- VTK ---- */

static bcdi_status write_sheared(bcdi_output *tx, const char *path, const bcdi_analysis_result *r)
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
        bcdi_vtk_write_structured(tx, path, dims, points, arrays, sizeof arrays / sizeof *arrays);
    free(points);
    return st;
}

static bcdi_status write_lines(bcdi_output *tx, const char *path, const bcdi_analysis_result *r)
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
    st = bcdi_vtk_write_polylines(tx, path, r->line_count, counts, points, arrays,
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

static bcdi_status write_image(bcdi_output *tx, const char *path, const bcdi_analysis_result *r)
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
    return bcdi_vtk_write_image(tx, path, dims, r->ortho_origin_nm, spacing, arrays, count);
}

/* ---- all together ---- */

bcdi_status bcdi_analysis_write(const bcdi_analysis_result *r, const bcdi_analysis_params *p,
                                const char *input_path, const char *out_dir,
                                const char *const *config_keys, const char *const *config_values,
                                size_t config_count)
{
    bcdi_output *tx = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    if (st == BCDI_OK) st = bcdi_output_folder(tx, out_dir);
    char path[OUT_COUNT][4096];
    for (int k = 0; k < OUT_COUNT && st == BCDI_OK; ++k) {
        int len = snprintf(path[k], sizeof path[k], "%s/%s", out_dir, OUTPUT_NAMES[k]);
        if (len < 0 || (size_t)len >= sizeof path[k])
            st = bcdi_error(BCDI_ERR_INVALID_ARG, "output folder name too long: '%s'", out_dir);
    }
    const size_t odims[3] = {r->ortho_shape[0], r->ortho_shape[1], r->ortho_shape[2]};
    /* without the orthonormal grid (orthogonalise=false) only the sheared grid, the lines and
     * the summary are written */
    int wanted[OUT_COUNT];
    for (int k = 0; k < OUT_COUNT; ++k)
        wanted[k] = r->has_ortho || k == OUT_VTS || k == OUT_VTP || k == OUT_SUMMARY;
    if (st == BCDI_OK && wanted[OUT_VTI]) st = write_image(tx, path[OUT_VTI], r);
    if (st == BCDI_OK) st = write_sheared(tx, path[OUT_VTS], r);
    if (st == BCDI_OK) st = write_lines(tx, path[OUT_VTP], r);
    if (st == BCDI_OK && wanted[OUT_DENSITY_TIF])
        st = bcdi_tiff_write_multipage(tx, path[OUT_DENSITY_TIF], BCDI_DT_F32, odims, r->o_density);
    if (st == BCDI_OK && wanted[OUT_DISPLACEMENT_TIF])
        st = bcdi_tiff_write_multipage(tx, path[OUT_DISPLACEMENT_TIF], BCDI_DT_F32, odims,
                                       r->o_displacement);
    bcdi_colour_limits limits[ANA_FIGURE_COUNT];
    if (st == BCDI_OK && wanted[OUT_DENSITY_PNG]) {
        const char *const figure_paths[ANA_FIGURE_COUNT] = {
            path[OUT_DENSITY_PNG], path[OUT_DISPLACEMENT_PNG], path[OUT_STRAIN_PNG]};
        st = ana_figure_limits(r, limits);
        if (st == BCDI_OK) st = ana_write_figures(tx, r, limits, figure_paths);
    }
    if (st == BCDI_OK)
        st = write_summary(tx, path[OUT_SUMMARY], r, p, input_path, config_keys, config_values,
                           config_keys ? config_count : 0, wanted,
                           wanted[OUT_DENSITY_PNG] ? limits : NULL);
    if (st == BCDI_OK) return bcdi_output_commit(tx);
    bcdi_output_abort(tx);
    return st;
}
