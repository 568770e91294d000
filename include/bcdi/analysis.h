/* SPDX-License-Identifier: BSD-3-Clause */
/* Post-processing of a phased object (`braggcdi analyze`, docs/analysis.md): support and
 * enclosing box, phase ramp and offset, Bragg density, displacement u = −φ/|G| (Å), strain
 * Ĝ·∇u from the complex field, dislocation lines (phase vortices), domains, and resampling
 * onto an orthonormal lab (or crystal) grid.
 *
 * Frames: the native grid is the detector-conjugate grid of the object: voxel i sits at
 * r = T·(i − N/2) (T = basis_m, columns = real-space steps per index, lab frame: z along the
 * beam, y up, x = y × z). Positions reported to people are in nm, displacements in Å. */
#ifndef BCDI_ANALYSIS_H
#define BCDI_ANALYSIS_H

#include "bcdi/config.h"
#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "bcdi/types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { BCDI_PHASE_REF_MEAN = 0, BCDI_PHASE_REF_COM, BCDI_PHASE_REF_NONE } bcdi_phase_ref;
typedef enum { BCDI_ORTHO_LAB = 0, BCDI_ORTHO_CRYSTAL } bcdi_ortho_frame;
typedef enum { BCDI_LINE_SCREW = 0, BCDI_LINE_EDGE, BCDI_LINE_MIXED } bcdi_line_character;

/* The support threshold's reference amplitude: this percentile of |ρ| inside the result's
 * support (when used), else of the voxels above BCDI_ANALYSIS_REFERENCE_FLOOR of the maximum —
 * a hot spot of a few voxels moves neither (docs/analysis.md, step 1). */
#define BCDI_ANALYSIS_REFERENCE_PERCENTILE 99.0
#define BCDI_ANALYSIS_REFERENCE_FLOOR 0.05

typedef struct bcdi_analysis_params {
    double support_threshold; /* of the reference amplitude; 0: automatic (Otsu, histogram) */
    int use_file_support;     /* 1: also require the result's own support (entry_1/image_1/mask) */
    long crop_margin;         /* voxels kept around the support's enclosing box */
    int remove_ramp;
    bcdi_phase_ref phase_reference;
    int strain_absolute; /* 1: add the ramp's mean lattice strain back (strain vs d) */
    int orthogonalise;
    bcdi_ortho_frame frame;
    double ortho_voxel_nm;   /* <= 0: the smallest native voxel size */
    int unwrap;              /* 1: add a 3D-unwrapped phase (display only) */
    double vortex_smoothing; /* σ (voxels) of the density blur that gates vortex faces */
    double vortex_threshold; /* gate: smoothed density > this × its maximum */
    double min_line_voxels;  /* lines shorter than this (voxels) are dropped as noise */
    double min_line_depth;   /* lines never deeper than this (voxels) inside the gate: dropped */
    double screw_angle_deg;  /* angle(t, G) below: screw-like */
    double edge_angle_deg;   /* angle(t, G) above: edge-like; between: mixed */
    long domain_erosion;     /* > 0: split domains at necks by this many erosions (0 = off) */
    long min_domain_voxels;  /* smaller components are reported as fragments only */
    /* stand-ins / overrides */
    double voxel_size_nm; /* > 0: orthogonal grid of this voxel when the file has no geometry */
    double d_spacing_angstrom; /* > 0: overrides the file's d-spacing (required without geometry) */
    double g_direction[3];     /* Ĝ along the grid axes (0,1,2) when there is no geometry */
    size_t max_memory; /* bytes the run may use; 0 = what the machine offers (core/memory.h) */
} bcdi_analysis_params;

/* The defaults of the key table. */
void bcdi_analysis_default(bcdi_analysis_params *p);
/* The key table of `analyze`, bound to bcdi_analysis_params (bcdi_config_bind), and its keys. */
const bcdi_param_table *bcdi_analysis_param_table(void);
const bcdi_param_spec *bcdi_analysis_param_specs(size_t *count);
/* bcdi_config_bind with the table: BCDI_ERR_CONFIG naming origin, key, value and range. */
bcdi_status bcdi_analysis_params_from_config(const bcdi_config *cfg, bcdi_analysis_params *p);
/* BCDI_ERR_INVALID_ARG naming the key for out-of-range values (the table's ranges). */
bcdi_status bcdi_analysis_validate(const bcdi_analysis_params *p);
/* Host memory (bytes) analysing an object of `shape` needs (src/analysis/analysis_run.c): the
 * object and support read (9 B/voxel), amplitude and masks (5), the cropped maps (object,
 * density, phase, displacement, strain, labels, masks: 35), the vortex search's work arrays (23),
 * the writers' point lists (12) and, with orthogonalise, a grid of about as many voxels (30). */
double bcdi_analysis_memory_estimate(const bcdi_analysis_params *p, const size_t shape[3]);

/* Where the grid sits: basis, G and the detector-centre Q (all lab frame, SI units). */
typedef struct bcdi_analysis_frame {
    double basis_m[3][3]; /* columns: real-space step per index along axes 0, 1, 2 */
    double g_hat[3];
    double g_norm; /* |G| = 2π/d, 1/m */
    double d_spacing_m;
    double q_centre[3]; /* Q at the grid centre (1/m); zero without geometry */
    double rocking_axis[3];
    int has_geometry;
} bcdi_analysis_frame;

/* From the file's geometry (NULL: none; then voxel_size_nm and d_spacing_angstrom must be set,
 * else BCDI_ERR_CONFIG naming what is missing). `shape` is the grid the object was phased on
 * (a result's data_shape: a cropped object keeps that grid's basis, its voxels are the same); a
 * geometry computed for another shape is recomputed for `shape`. */
bcdi_status bcdi_analysis_frame_make(const bcdi_geometry *geometry, const size_t shape[3],
                                     const bcdi_analysis_params *p, bcdi_analysis_frame *out);

typedef struct bcdi_stats {
    size_t count;
    double mean, std, p05, p95, min, max;
} bcdi_stats;

typedef struct bcdi_dislocation_line {
    size_t point_count;
    double *points_nm; /* [point_count][3], lab frame, from the array centre */
    double length_nm;
    double centroid_nm[3];
    double tangent[3]; /* unit, lab; oriented so that t·Ĝ >= 0 (docs/analysis.md) */
    int winding;       /* ∮∇φ·dl / 2π around t (right hand) */
    int closed;
    double angle_to_g_deg; /* 0..90 */
    bcdi_line_character character;
    double ring_n;         /* ring fit (docs/physics.md §5): fitted winding n (NaN: no fit) */
    double ring_harmonic2; /* amplitude of the 2θ harmonics (rad) */
    double mean_density;   /* smoothed density along the line, relative to the gate's reference */
    double depth_voxels;   /* deepest point: voxels (city block) from the gate's surface */
} bcdi_dislocation_line;

typedef struct bcdi_domain_info {
    size_t voxels;
    double volume_nm3;
    double centroid_nm[3];
    double mean_displacement_angstrom;
    double mean_strain;
} bcdi_domain_info;

typedef struct bcdi_analysis_result {
    /* native (cropped) grid */
    size_t input_shape[3];
    size_t shape[3];
    size_t origin[3];            /* first input index of the crop */
    size_t box_lo[3], box_hi[3]; /* the support's enclosing box, input indices, inclusive */
    bcdi_analysis_frame frame;
    double threshold; /* threshold used, relative to amplitude_reference */
    int threshold_auto;
    int file_support_used;      /* the result's own support also bounded the support */
    double amplitude_max;       /* max |ρ| inside the support (density normalisation) */
    double amplitude_reference; /* the threshold's reference (BCDI_ANALYSIS_REFERENCE_*) */
    double threshold_amplitude; /* support: |ρ| above this */
    bcdi_cf *object;            /* ramp and offset removed */
    float *density, *phase, *displacement, *strain, *vortex_density;
    uint8_t *support, *strain_valid, *vortex_gate;
    int32_t *domain_label; /* 0 outside, 1.. domains (fragments: -1) */
    /* phase ramp (kept: it carries the mean lattice change) */
    double ramp_rad_per_voxel[3];
    double ramp_q[3];     /* 1/m, lab: the peak's offset from the grid centre */
    double ramp_strain;   /* mean lattice strain along G relative to d */
    double strain_offset; /* added to every strain value (0 with strain_reference=relative) */
    double phase_offset_rad;
    size_t support_voxels;
    double voxel_volume_nm3;
    double total_volume_nm3; /* the crystal's volume: support_voxels × voxel volume */
    /* the former definition, |ρ| above support_threshold × amplitude_max (the same as the
     * support with support_threshold=auto): a hot spot moves it */
    size_t support_voxels_of_max;
    double volume_of_max_nm3;
    bcdi_stats displacement_stats, strain_stats;
    bcdi_dislocation_line *lines;
    size_t line_count;
    size_t dropped_lines;
    size_t vortex_faces;
    bcdi_domain_info *domains;
    size_t domain_count;
    size_t fragment_count;
    /* orthonormal grid (x fastest: arrays are [nz][ny][nx]) */
    int has_ortho;
    size_t ortho_shape[3]; /* nz, ny, nx */
    double ortho_voxel_nm;
    double ortho_origin_nm[3]; /* x, y, z of voxel (0,0,0), frame coordinates */
    double ortho_axes[3][3];   /* rows: the frame's x, y, z as lab unit vectors */
    float *o_density, *o_phase, *o_displacement, *o_strain, *o_unwrapped;
    uint8_t *o_support, *o_strain_valid;
} bcdi_analysis_result;

/* The whole analysis (no files). support may be NULL (then only the threshold counts). */
bcdi_status bcdi_analysis_run(const bcdi_analysis_params *p, const bcdi_analysis_frame *frame,
                              const size_t shape[3], const bcdi_cf *object, const uint8_t *support,
                              bcdi_analysis_result *out);
void bcdi_analysis_result_free(bcdi_analysis_result *r);

/* Write every output into out_dir (created if missing): analysis.vti, analysis_sheared.vts,
 * dislocations.vtp, density.tif, displacement.tif, density.png, displacement.png, strain.png,
 * summary.json (without the orthonormal grid: only the .vts, .vtp and summary.json).
 * All-or-nothing: files go to temporaries and are renamed at the end. config keys/values (may be
 * NULL) are stored as the parameters in summary.json. */
bcdi_status bcdi_analysis_write(const bcdi_analysis_result *r, const bcdi_analysis_params *p,
                                const char *input_path, const char *out_dir,
                                const char *const *config_keys, const char *const *config_values,
                                size_t config_count);

/* ---- building blocks (also used by the tests) ---- */

/* Otsu threshold (relative to the max) of the amplitudes above 5% of the max. */
double bcdi_analysis_auto_threshold(const float *amplitude, size_t n);

/* Mean of the wrapped neighbour phase differences over support pairs, weighted by
 * |ρ(v)||ρ(v+e)|: the ramp in rad per voxel along each axis. */
bcdi_status bcdi_analysis_fit_ramp(const size_t shape[3], const bcdi_cf *object,
                                   const uint8_t *support, double ramp[3]);
/* ρ ← ρ·exp(−i(ramp·(i − N/2) + offset)) */
void bcdi_analysis_apply_ramp(const size_t shape[3], bcdi_cf *object, const double ramp[3],
                              double offset);
/* Reference phase: amplitude-weighted circular mean over the support, or the phase of the
 * voxel at the density's centre of mass (its 3×3×3 mean when that voxel is below half the
 * maximum amplitude, e.g. on a vortex core). */
double bcdi_analysis_phase_reference(const size_t shape[3], const bcdi_cf *object,
                                     const uint8_t *support, bcdi_phase_ref ref);

/* ε = Ĝ·∇u from per-axis derivatives −arg(ρ(r+h)·conj ρ(r))/(|G|h) (central where both
 * neighbours are in the support, else one-sided); valid = 0 where no neighbour is. */
void bcdi_analysis_strain(const size_t shape[3], const bcdi_cf *object, const uint8_t *support,
                          const double basis_m[3][3], const double g_hat[3], double g_norm,
                          float *strain, uint8_t *valid);

/* Faces with non-zero winding, traced into lines (native grid). The gate is the blurred density
 * above vortex_threshold of its 99th percentile over `support` (NULL: over the voxels above
 * BCDI_ANALYSIS_REFERENCE_FLOOR of its maximum); an empty support or a percentile of 0 falls
 * back to the maximum. */
bcdi_status bcdi_analysis_dislocations(const bcdi_analysis_params *p,
                                       const bcdi_analysis_frame *frame, const size_t shape[3],
                                       const size_t origin[3], const size_t input_shape[3],
                                       const bcdi_cf *object, const float *density,
                                       const uint8_t *support, uint8_t *gate, float *vortex_density,
                                       bcdi_dislocation_line **lines, size_t *line_count,
                                       size_t *dropped, size_t *vortex_faces);
void bcdi_dislocation_lines_free(bcdi_dislocation_line *lines, size_t count);

/* Connected components (6-neighbours) of the support, optionally split at necks. labels get
 * 1..count for domains of at least min_voxels, -1 for smaller fragments, 0 outside. */
bcdi_status bcdi_analysis_label_domains(const size_t shape[3], const uint8_t *support, long erosion,
                                        long min_voxels, int32_t *labels, size_t *domain_count,
                                        size_t *fragment_count);

/* Percentile statistics of the values where mask != 0 (mask may be NULL). */
bcdi_status bcdi_stats_compute(const float *values, const uint8_t *mask, size_t n, bcdi_stats *out);

/* Resample the complex field onto the orthonormal grid described in r (frame, voxel); fills
 * ortho_shape/origin/axes and the o_* arrays. */
bcdi_status bcdi_analysis_orthogonalise(const bcdi_analysis_params *p, bcdi_analysis_result *r);

#ifdef __cplusplus
}
#endif
#endif
