/* SPDX-License-Identifier: BSD-3-Clause */
/* `analyze` parameters: the key table bound to bcdi_analysis_params (defaults, ranges, help),
 * and the grid frame (basis, G) taken from the result's geometry or from the voxel_size= /
 * d_spacing= stand-ins. */
#include "analysis_internal.h"

#include "bcdi/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const phase_refs[] = {"mean", "com", "none", NULL};
static const char *const strain_refs[] = {"relative", "absolute", NULL};
static const char *const frames[] = {"lab", "crystal", NULL};

#define ANA bcdi_analysis_params
static const bcdi_param_spec analysis_specs[] = {
    BCDI_KEY_DOUBLE("support_threshold", ANA, support_threshold, "0.3", 0, 1,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN,
                    "support/isosurface: amplitude > this fraction of the reference amplitude "
                    "(p99 of |rho| inside the result's support, else above 5% of the maximum: a "
                    "hot spot does not move it), or 'auto' (Otsu threshold of the amplitude "
                    "histogram above 5% of the maximum)",
                    .word = "auto"),
    BCDI_KEY_BOOL("use_file_support", ANA, use_file_support, "true",
                  "also require the result's own support (entry_1/image_1/mask) when it has one"),
    BCDI_KEY_INT("crop_margin", ANA, crop_margin, "4", 0, 4096,
                 "voxels kept around the support's enclosing box"),
    BCDI_KEY_BOOL("remove_ramp", ANA, remove_ramp, "true",
                  "remove the linear phase ramp (mean of wrapped neighbour differences; its value "
                  "is kept)"),
    BCDI_KEY_CHOICE("phase_reference", ANA, phase_reference, "mean", phase_refs, NULL,
                    "phase offset removed: mean (amplitude-weighted circular mean over the "
                    "support), com (phase at the density's centre of mass) or none"),
    BCDI_KEY_CHOICE("strain_reference", ANA, strain_absolute, "absolute", strain_refs, NULL,
                    "absolute: strain relative to the d-spacing (the ramp's mean lattice strain "
                    "added back); relative: relative to the crystal's own mean lattice"),
    BCDI_KEY_BOOL("orthogonalise", ANA, orthogonalise, "true",
                  "resample onto an orthonormal grid (.vti, TIFF, PNG)"),
    BCDI_KEY_CHOICE("frame", ANA, frame, "lab", frames, NULL,
                    "orthonormal grid frame: lab (x = y × z, y up, z along the beam) or crystal "
                    "(z = G, y = rocking axis ⟂ G)"),
    BCDI_KEY_DOUBLE("ortho_voxel_nm", ANA, ortho_voxel_nm, "0", 0, 1e4, 0,
                    "voxel of the orthonormal grid, nm (0: the smallest native voxel size)"),
    BCDI_KEY_BOOL("unwrap", ANA, unwrap, "false",
                  "add a 3D-unwrapped phase to the .vti (display only)"),
    BCDI_KEY_DOUBLE("vortex_smoothing", ANA, vortex_smoothing, "1", 0, 5, 0,
                    "sigma (voxels) of the density blur whose threshold gates vortex faces"),
    BCDI_KEY_DOUBLE("vortex_threshold", ANA, vortex_threshold, "0.3", 0, 1, BCDI_PARAM_MAX_OPEN,
                    "vortex faces count where the smoothed density exceeds this fraction of its "
                    "99th percentile over the support at all four corners"),
    BCDI_KEY_DOUBLE("min_line_voxels", ANA, min_line_voxels, "3", 0, 1e6, 0,
                    "dislocation lines shorter than this many native voxels are dropped as noise"),
    BCDI_KEY_DOUBLE("min_line_depth", ANA, min_line_depth, "4", 0, 1e6, 0,
                    "dislocation lines that never get this many voxels (city block) inside the "
                    "vortex gate are dropped: the weak rim's noise vortices hug the surface"),
    BCDI_KEY_DOUBLE("screw_angle_deg", ANA, screw_angle_deg, "30", 0, 90, 0,
                    "angle(line, G) below which a line is screw-like (<= edge_angle_deg)"),
    BCDI_KEY_DOUBLE("edge_angle_deg", ANA, edge_angle_deg, "60", 0, 90, 0,
                    "angle(line, G) above which a line is edge-like"),
    BCDI_KEY_INT("domain_erosion", ANA, domain_erosion, "0", 0, 10,
                 "split domains at low-density necks: erode the support this many times, label, "
                 "grow back (0 = plain connected components)"),
    BCDI_KEY_INT("min_domain_voxels", ANA, min_domain_voxels, "27", 1, 1e9,
                 "components with fewer voxels are counted as fragments, not domains"),
    BCDI_KEY_DOUBLE("voxel_size", ANA, voxel_size_nm, NULL, 0, 1e6, 0,
                    "stand-in when the result has no geometry: voxel size in nm (orthogonal "
                    "grid; 0 = none)"),
    BCDI_KEY_DOUBLE("d_spacing", ANA, d_spacing_angstrom, NULL, 0, 1000, 0,
                    "d-spacing in Å (required without geometry; overrides the file's value; "
                    "0 = none)"),
    BCDI_KEY_NUMBERS("g_direction", ANA, g_direction, "0,0,1", 3, -1e6, 1e6, BCDI_PARAM_NONZERO,
                     "without geometry: G along the grid axes (0, 1, 2)"),
    BCDI_KEY_MAX_MEMORY(ANA, max_memory),
};
#undef ANA

static bcdi_status analysis_rules(const void *params, const bcdi_config *cfg)
{
    const bcdi_analysis_params *p = params;
    if (!(p->screw_angle_deg <= p->edge_angle_deg))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "%s: key 'screw_angle_deg' is %g, expected at most edge_angle_deg (%g)",
                          cfg ? bcdi_config_origin(cfg, "screw_angle_deg") : "parameters",
                          p->screw_angle_deg, p->edge_angle_deg);
    return BCDI_OK;
}

static const bcdi_param_table analysis_table = {
    "analyze",
    analysis_specs,
    sizeof analysis_specs / sizeof *analysis_specs,
    sizeof(bcdi_analysis_params),
    analysis_rules,
};

const bcdi_param_table *bcdi_analysis_param_table(void)
{
    return &analysis_table;
}

const bcdi_param_spec *bcdi_analysis_param_specs(size_t *count)
{
    *count = analysis_table.count;
    return analysis_specs;
}

void bcdi_analysis_default(bcdi_analysis_params *p)
{
    (void)bcdi_params_defaults(&analysis_table, p); /* a constant table, known good */
}

bcdi_status bcdi_analysis_params_from_config(const bcdi_config *cfg, bcdi_analysis_params *p)
{
    return bcdi_config_bind(cfg, &analysis_table, p);
}

bcdi_status bcdi_analysis_validate(const bcdi_analysis_params *p)
{
    return bcdi_params_check(&analysis_table, p, NULL);
}

double bcdi_analysis_memory_estimate(const bcdi_analysis_params *p, const size_t shape[3])
{
    double n = (double)shape[0] * (double)shape[1] * (double)shape[2];
    return 64.0 * 1048576.0 +
           n * (9.0 + 5.0 + 35.0 + 23.0 + 12.0 + (p->orthogonalise ? 30.0 : 0.0));
}

bcdi_status bcdi_analysis_frame_make(const bcdi_geometry *geometry, const size_t shape[3],
                                     const bcdi_analysis_params *p, bcdi_analysis_frame *out)
{
    memset(out, 0, sizeof(*out));
    if (!geometry) {
        int no_voxel = !(p->voxel_size_nm > 0.0), no_d = !(p->d_spacing_angstrom > 0.0);
        if (no_voxel || no_d)
            return bcdi_error(BCDI_ERR_CONFIG,
                              "the result has no geometry (entry_1/bcdi_geometry) and no stand-in: "
                              "give %s%s%s on the command line",
                              no_voxel ? "voxel_size= (nm)" : "", no_voxel && no_d ? " and " : "",
                              no_d ? "d_spacing= (Å)" : "");
        for (int a = 0; a < 3; ++a)
            out->basis_m[a][a] = p->voxel_size_nm * 1e-9;
        double gl = sqrt(bcdi_dot3(p->g_direction, p->g_direction));
        for (int a = 0; a < 3; ++a)
            out->g_hat[a] = p->g_direction[a] / gl;
        out->d_spacing_m = p->d_spacing_angstrom * 1e-10;
        out->rocking_axis[1] = 1.0;
        out->g_norm = 2.0 * BCDI_PI / out->d_spacing_m;
        out->has_geometry = 0;
        return BCDI_OK;
    }
    bcdi_geometry g = *geometry;
    if (g.shape[0] != shape[0] || g.shape[1] != shape[1] || g.shape[2] != shape[2]) {
        bcdi_status st = bcdi_geometry_compute(&g, shape);
        if (st != BCDI_OK)
            return bcdi_error_prefix(st, "recomputing the geometry for %zux%zux%zu: ", shape[0],
                                     shape[1], shape[2]);
    }
    memcpy(out->basis_m, g.real_basis, sizeof out->basis_m);
    memcpy(out->q_centre, g.q_bragg, sizeof out->q_centre);
    double ql = sqrt(bcdi_dot3(g.q_bragg, g.q_bragg));
    if (!(ql > 0.0)) return bcdi_error(BCDI_ERR_FORMAT, "geometry: q_bragg is the zero vector");
    for (int a = 0; a < 3; ++a)
        out->g_hat[a] = g.q_bragg[a] / ql;
    memcpy(out->rocking_axis, g.rocking_axis, sizeof out->rocking_axis);
    if (p->d_spacing_angstrom > 0.0) {
        out->d_spacing_m = p->d_spacing_angstrom * 1e-10;
    } else if (g.d_spacing_m > 0.0) {
        out->d_spacing_m = g.d_spacing_m;
    } else {
        out->d_spacing_m = 4.733e-10;
        bcdi_log(BCDI_LOG_NOTICE, "no d-spacing in the geometry: using NMC811 d003 = 4.733 Å");
    }
    out->g_norm = 2.0 * BCDI_PI / out->d_spacing_m;
    out->has_geometry = 1;
    double inverse[3][3]; /* every later step inverts the basis */
    if (!bcdi_mat3_inverse(out->basis_m, inverse))
        return bcdi_error(BCDI_ERR_FORMAT, "geometry: the real-space basis is singular");
    return BCDI_OK;
}
