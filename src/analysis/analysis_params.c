/* `analyze` parameters: defaults, configuration keys, and the grid frame (basis, G) taken from
 * the result's geometry or from the voxel_size= / d_spacing= stand-ins. */
#include "analysis_internal.h"

#include "bcdi/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bcdi_analysis_default(bcdi_analysis_params *p)
{
    memset(p, 0, sizeof(*p));
    p->support_threshold = 0.3;
    p->use_file_support = 1;
    p->crop_margin = 4;
    p->remove_ramp = 1;
    p->phase_reference = BCDI_PHASE_REF_MEAN;
    p->strain_absolute = 1;
    p->orthogonalise = 1;
    p->frame = BCDI_ORTHO_LAB;
    p->ortho_voxel_nm = 0.0;
    p->unwrap = 0;
    p->vortex_smoothing = 1.0;
    p->vortex_threshold = 0.3;
    p->min_line_voxels = 3.0;
    p->min_line_depth = 4.0;
    p->screw_angle_deg = 30.0;
    p->edge_angle_deg = 60.0;
    p->domain_erosion = 0;
    p->min_domain_voxels = 27;
    p->g_direction[2] = 1.0;
}

static const bcdi_param_spec analysis_specs[] = {
    {"support_threshold", BCDI_PARAM_STRING, "0.3",
     "support/isosurface: amplitude > this fraction of the maximum, or 'auto' (Otsu threshold "
     "of the amplitude histogram above 5% of the maximum)"},
    {"use_file_support", BCDI_PARAM_BOOL, "true",
     "also require the result's own support (entry_1/image_1/mask) when it has one"},
    {"crop_margin", BCDI_PARAM_INT, "4", "voxels kept around the support's enclosing box"},
    {"remove_ramp", BCDI_PARAM_BOOL, "true",
     "remove the linear phase ramp (mean of wrapped neighbour differences; its value is kept)"},
    {"phase_reference", BCDI_PARAM_STRING, "mean",
     "phase offset removed: mean (amplitude-weighted circular mean over the support), com (phase "
     "at the density's centre of mass) or none"},
    {"strain_reference", BCDI_PARAM_STRING, "absolute",
     "absolute: strain relative to the d-spacing (the ramp's mean lattice strain added back); "
     "relative: relative to the crystal's own mean lattice"},
    {"orthogonalise", BCDI_PARAM_BOOL, "true",
     "resample onto an orthonormal grid (.vti, TIFF, PNG)"},
    {"frame", BCDI_PARAM_STRING, "lab",
     "orthonormal grid frame: lab (x = y × z, y up, z along the beam) or crystal (z = G, y = "
     "rocking axis ⟂ G)"},
    {"ortho_voxel_nm", BCDI_PARAM_DOUBLE, "0",
     "voxel of the orthonormal grid, nm (0: the smallest native voxel size)"},
    {"unwrap", BCDI_PARAM_BOOL, "false", "add a 3D-unwrapped phase to the .vti (display only)"},
    {"vortex_smoothing", BCDI_PARAM_DOUBLE, "1",
     "sigma (voxels) of the density blur whose threshold gates vortex faces"},
    {"vortex_threshold", BCDI_PARAM_DOUBLE, "0.3",
     "vortex faces count where the smoothed density exceeds this fraction of its maximum at all "
     "four corners"},
    {"min_line_voxels", BCDI_PARAM_DOUBLE, "3",
     "dislocation lines shorter than this many native voxels are dropped as noise"},
    {"min_line_depth", BCDI_PARAM_DOUBLE, "4",
     "dislocation lines that never get this many voxels (city block) inside the vortex gate are "
     "dropped: the weak rim's noise vortices hug the surface"},
    {"screw_angle_deg", BCDI_PARAM_DOUBLE, "30", "angle(line, G) below which a line is screw-like"},
    {"edge_angle_deg", BCDI_PARAM_DOUBLE, "60", "angle(line, G) above which a line is edge-like"},
    {"domain_erosion", BCDI_PARAM_INT, "0",
     "split domains at low-density necks: erode the support this many times, label, grow back "
     "(0 = plain connected components)"},
    {"min_domain_voxels", BCDI_PARAM_INT, "27",
     "components with fewer voxels are counted as fragments, not domains"},
    {"voxel_size", BCDI_PARAM_DOUBLE, NULL,
     "stand-in when the result has no geometry: voxel size in nm (orthogonal grid)"},
    {"d_spacing", BCDI_PARAM_DOUBLE, NULL,
     "d-spacing in Å (required without geometry; overrides the file's value)"},
    {"g_direction", BCDI_PARAM_LIST, "0,0,1", "without geometry: G along the grid axes (0, 1, 2)"},
};

const bcdi_param_spec *bcdi_analysis_param_specs(size_t *count)
{
    *count = sizeof analysis_specs / sizeof *analysis_specs;
    return analysis_specs;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        bcdi_status try_status_ = (expr);                                                          \
        if (try_status_ != BCDI_OK) return try_status_;                                            \
    } while (0)

static bcdi_status read_choice(const bcdi_config *cfg, const char *key, const char *const *names,
                               int count, int *out)
{
    const char *value = bcdi_config_string(cfg, key);
    if (!value) return BCDI_OK;
    for (int i = 0; i < count; ++i)
        if (!strcasecmp(value, names[i])) {
            *out = i;
            return BCDI_OK;
        }
    return bcdi_error(BCDI_ERR_CONFIG, "%s: unknown value '%s' (expected %s%s%s%s%s)", key, value,
                      names[0], count > 1 ? ", " : "", count > 1 ? names[1] : "",
                      count > 2 ? ", " : "", count > 2 ? names[2] : "");
}

bcdi_status bcdi_analysis_params_from_config(const bcdi_config *cfg, bcdi_analysis_params *p)
{
    bcdi_analysis_default(p);
    const char *thr = bcdi_config_string(cfg, "support_threshold");
    if (thr) {
        if (!strcasecmp(thr, "auto")) {
            p->support_threshold = 0.0;
        } else {
            char *end = NULL;
            double v = strtod(thr, &end);
            if (end == thr || *end != '\0' || !(v > 0.0 && v < 1.0))
                return bcdi_error(
                    BCDI_ERR_CONFIG,
                    "support_threshold: '%s', expected a fraction in (0, 1) or 'auto'", thr);
            p->support_threshold = v;
        }
    }
    TRY(bcdi_config_bool_if_set(cfg, "use_file_support", &p->use_file_support));
    TRY(bcdi_config_int_if_set(cfg, "crop_margin", &p->crop_margin));
    TRY(bcdi_config_bool_if_set(cfg, "remove_ramp", &p->remove_ramp));
    static const char *const refs[] = {"mean", "com", "none"};
    int ref = (int)p->phase_reference;
    TRY(read_choice(cfg, "phase_reference", refs, 3, &ref));
    p->phase_reference = (bcdi_phase_ref)ref;
    static const char *const strain_refs[] = {"relative", "absolute"};
    TRY(read_choice(cfg, "strain_reference", strain_refs, 2, &p->strain_absolute));
    TRY(bcdi_config_bool_if_set(cfg, "orthogonalise", &p->orthogonalise));
    static const char *const frames[] = {"lab", "crystal"};
    int frame = (int)p->frame;
    TRY(read_choice(cfg, "frame", frames, 2, &frame));
    p->frame = (bcdi_ortho_frame)frame;
    TRY(bcdi_config_double_if_set(cfg, "ortho_voxel_nm", &p->ortho_voxel_nm));
    TRY(bcdi_config_bool_if_set(cfg, "unwrap", &p->unwrap));
    TRY(bcdi_config_double_if_set(cfg, "vortex_smoothing", &p->vortex_smoothing));
    TRY(bcdi_config_double_if_set(cfg, "vortex_threshold", &p->vortex_threshold));
    TRY(bcdi_config_double_if_set(cfg, "min_line_voxels", &p->min_line_voxels));
    TRY(bcdi_config_double_if_set(cfg, "min_line_depth", &p->min_line_depth));
    TRY(bcdi_config_double_if_set(cfg, "screw_angle_deg", &p->screw_angle_deg));
    TRY(bcdi_config_double_if_set(cfg, "edge_angle_deg", &p->edge_angle_deg));
    TRY(bcdi_config_int_if_set(cfg, "domain_erosion", &p->domain_erosion));
    TRY(bcdi_config_int_if_set(cfg, "min_domain_voxels", &p->min_domain_voxels));
    TRY(bcdi_config_double_if_set(cfg, "voxel_size", &p->voxel_size_nm));
    TRY(bcdi_config_double_if_set(cfg, "d_spacing", &p->d_spacing_angstrom));
    if (bcdi_config_is_set(cfg, "g_direction")) {
        size_t count = 0;
        TRY(bcdi_config_doubles(cfg, "g_direction", p->g_direction, 3, 3, &count));
    }
    return bcdi_analysis_validate(p);
}

bcdi_status bcdi_analysis_validate(const bcdi_analysis_params *p)
{
    if (!(p->support_threshold < 1.0) || !isfinite(p->support_threshold))
        return bcdi_error(BCDI_ERR_CONFIG, "support_threshold: %g, expected (0, 1) or auto",
                          p->support_threshold);
    if (p->crop_margin < 0)
        return bcdi_error(BCDI_ERR_CONFIG, "crop_margin: %ld, expected >= 0", p->crop_margin);
    if (!(p->ortho_voxel_nm >= 0.0) || !isfinite(p->ortho_voxel_nm))
        return bcdi_error(BCDI_ERR_CONFIG, "ortho_voxel_nm: %g, expected >= 0", p->ortho_voxel_nm);
    if (!(p->vortex_smoothing >= 0.0 && p->vortex_smoothing <= 5.0))
        return bcdi_error(BCDI_ERR_CONFIG, "vortex_smoothing: %g, expected 0..5 voxels",
                          p->vortex_smoothing);
    if (!(p->vortex_threshold >= 0.0 && p->vortex_threshold < 1.0))
        return bcdi_error(BCDI_ERR_CONFIG, "vortex_threshold: %g, expected [0, 1)",
                          p->vortex_threshold);
    if (!(p->min_line_voxels >= 0.0) || !isfinite(p->min_line_voxels))
        return bcdi_error(BCDI_ERR_CONFIG, "min_line_voxels: %g, expected >= 0",
                          p->min_line_voxels);
    if (!(p->min_line_depth >= 0.0) || !isfinite(p->min_line_depth))
        return bcdi_error(BCDI_ERR_CONFIG, "min_line_depth: %g, expected >= 0", p->min_line_depth);
    if (!(p->screw_angle_deg >= 0.0 && p->screw_angle_deg <= p->edge_angle_deg &&
          p->edge_angle_deg <= 90.0))
        return bcdi_error(
            BCDI_ERR_CONFIG,
            "screw_angle_deg %g / edge_angle_deg %g: expected 0 <= screw <= edge <= 90",
            p->screw_angle_deg, p->edge_angle_deg);
    if (p->domain_erosion < 0 || p->domain_erosion > 10)
        return bcdi_error(BCDI_ERR_CONFIG, "domain_erosion: %ld, expected 0..10",
                          p->domain_erosion);
    if (p->min_domain_voxels < 1)
        return bcdi_error(BCDI_ERR_CONFIG, "min_domain_voxels: %ld, expected >= 1",
                          p->min_domain_voxels);
    if (p->voxel_size_nm < 0.0 || !isfinite(p->voxel_size_nm))
        return bcdi_error(BCDI_ERR_CONFIG, "voxel_size: %g nm, expected > 0", p->voxel_size_nm);
    if (p->d_spacing_angstrom < 0.0 || !isfinite(p->d_spacing_angstrom))
        return bcdi_error(BCDI_ERR_CONFIG, "d_spacing: %g Å, expected > 0", p->d_spacing_angstrom);
    double gl = sqrt(p->g_direction[0] * p->g_direction[0] + p->g_direction[1] * p->g_direction[1] +
                     p->g_direction[2] * p->g_direction[2]);
    if (!(gl > 0.0) || !isfinite(gl))
        return bcdi_error(BCDI_ERR_CONFIG, "g_direction: the zero vector");
    return BCDI_OK;
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
