/* SPDX-License-Identifier: BSD-3-Clause */
/* Comparison of one crystal's states (e.g. across battery voltages): `braggcdi compare`,
 * docs/compare.md.
 *
 * Each state is a phasing result (CXI) or a folder written by `braggcdi analyze` (its
 * summary.json names the result and the parameters, and the result is analysed again with them,
 * because the comparison needs the complex object). Every state is analysed (bcdi_analysis_run),
 * then aligned to the reference on a common native grid: twin by density correlation, sub-voxel
 * translation by DFT registration of the density, common phase offset. Per state: volume,
 * domains, displacement/strain statistics, dislocations; difference maps on the common support;
 * dislocation lines matched to the reference's; the lattice from prepare's diffraction summary
 * (docs/physics.md §3). */
#ifndef BCDI_COMPARE_H
#define BCDI_COMPARE_H

#include "bcdi/align.h"
#include "bcdi/analysis.h"
#include "bcdi/config.h"
#include "bcdi/error.h"
#include "bcdi/geometry.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bcdi_compare_params {
    double match_distance_nm; /* lines closer than this are the same line; <= 0: 3 mean voxels */
    double move_distance_nm;  /* matched lines further apart than this "moved"; <= 0: 1 voxel */
    double twin_margin;       /* density-correlation difference that decides the twin; below
                                 it the complex-field correlation decides */
    int upsample;             /* sub-voxel registration: 1/upsample voxel */
    int hkl[3];               /* reflection; all 0: from the result's geometry */
    char reference[4096];     /* the reference state: a label, a 1-based position or a path;
                                 "" = the first (the CLI resolves it to bcdi_compare_run's index) */
} bcdi_compare_params;

/* The defaults of the key table. */
void bcdi_compare_default(bcdi_compare_params *p);
/* The key table of `compare`, bound to bcdi_compare_params (compare also takes every key of
 * bcdi_analysis_param_table(), bound to the analysis parameters of its states). */
const bcdi_param_table *bcdi_compare_param_table(void);

/* One state as given on the command line. */
typedef struct bcdi_compare_input {
    const char *path;         /* result CXI or analysed folder */
    const char *label;        /* NULL or "": the path's base name */
    const char *summary_path; /* diffraction summary (JSON or prepared CXI); NULL: located */
} bcdi_compare_input;

/* The diffraction summary of prepare (docs/prepare.md) as far as compare uses it. */
typedef struct bcdi_compare_peak {
    int available;
    char source[4096];    /* the file it came from */
    double two_theta_deg; /* of the intensity centre of mass */
    double rocking_deg;   /* centre-of-mass rocking angle */
    double com_pixel[3];  /* frame, row, column (input coordinates, unbinned) */
    double integrated_intensity;
    double d_spacing_m; /* λ/(2 sin θ) as prepare computed it */
    double bin[3];      /* prepare's binning (pixel sizes in the geometry are binned) */
} bcdi_compare_peak;

/* The lattice of a state against the reference (docs/physics.md §3). NaN where not available. */
typedef struct bcdi_compare_lattice {
    double delta_two_theta_deg;
    double delta_theta_deg;      /* Δθ_B = Δ2θ/2 */
    double delta_d_over_d;       /* −cot θ_B · Δθ_B (θ_B of the reference) */
    double d_spacing_angstrom;   /* d_ref · (1 + Δd/d), d_ref from the reference's summary */
    double c_angstrom;           /* l · d for a (00l) reflection, else NaN */
    double rocking_shift_deg;    /* Δ of the centre-of-mass rocking angle */
    double rocking_rotation_deg; /* Δω − Δθ_B: rotation about the rocking axis */
    double ring_rotation_deg;    /* shift along the ring (detector rows) as an angle: Δrow·p/D */
    double intensity_ratio;      /* integrated intensity / the reference's */
} bcdi_compare_lattice;

typedef enum {
    BCDI_LINE_UNCHANGED = 0, /* matched, within move_distance */
    BCDI_LINE_MOVED,         /* matched, further than move_distance */
    BCDI_LINE_APPEARED,      /* no reference line within match_distance */
    BCDI_LINE_VANISHED       /* a reference line with no partner in this state */
} bcdi_line_change;

typedef struct bcdi_line_match {
    size_t line;        /* index into this state's lines (VANISHED: into the reference's) */
    long partner;       /* the matched line of the other state, -1 when none */
    double distance_nm; /* bcdi_compare_line_distance (NaN when unmatched) */
    bcdi_line_change change;
} bcdi_line_match;

typedef struct bcdi_domain_change {
    double tilt_deg;      /* |∇u ⟂ Ĝ| of the domain against the reference's mean lattice */
    double strain_change; /* Ĝ·∇u of the domain against the reference's mean lattice */
} bcdi_domain_change;

typedef struct bcdi_compare_state {
    char *label, *path, *result_path;
    int from_folder;               /* the state was an analysed folder */
    bcdi_analysis_result analysis; /* after the twin fix, if any */
    int has_geometry;
    bcdi_geometry geometry;
    /* alignment onto the reference */
    bcdi_alignment alignment;   /* twinned; shift: voxels that map this state's input array
                                   onto the reference's (after the twin); phase; correlation
                                   of the complex fields */
    double shift_nm[3];         /* the shift in the lab frame */
    double density_correlation; /* of the registered densities */
    double density_correlation_direct, density_correlation_twin; /* before the twin choice */
    /* volumes on the common grid */
    size_t common_voxels, lost_voxels, gained_voxels;
    double common_volume_nm3, lost_volume_nm3, gained_volume_nm3;
    bcdi_stats delta_displacement; /* Å, over the common support */
    bcdi_stats delta_density;      /* over the common support */
    double total_line_length_nm;
    bcdi_line_match *matches; /* one per line of this state, then one per vanished line */
    size_t match_count;
    size_t lines_unchanged, lines_moved, lines_appeared, lines_vanished;
    bcdi_domain_change *domain_changes; /* analysis.domain_count entries */
    double mean_strain_change;          /* ramp_strain − the reference's */
    bcdi_compare_peak peak;
    bcdi_compare_lattice lattice;
    /* fields on the common grid (cg_shape), aligned */
    float *cg_density, *cg_displacement, *cg_delta_displacement, *cg_delta_density;
    uint8_t *cg_support;
} bcdi_compare_state;

typedef struct bcdi_comparison {
    size_t state_count;
    size_t reference;
    bcdi_compare_state *states;
    size_t cg_shape[3];   /* the common native grid */
    double basis_m[3][3]; /* the reference's real-space basis */
    double voxel_volume_nm3;
    double match_distance_nm, move_distance_nm;
    int hkl[3];
    double d_reference_angstrom; /* the reference's d (summary, else the analysis frame) */
} bcdi_comparison;

/* Analyse, align and compare. `reference` indexes `inputs`. Every input is checked before any
 * work: a missing result, folder or summary is BCDI_ERR_IO naming the state's label and path. */
bcdi_status bcdi_compare_run(const bcdi_compare_params *cp, const bcdi_analysis_params *ap,
                             const bcdi_compare_input *inputs, size_t count, size_t reference,
                             bcdi_comparison *out);
void bcdi_comparison_free(bcdi_comparison *c);

/* comparison.csv, comparison.json, slices.png, trends.png and index.html into out_dir
 * (created if missing), all or nothing: staged under hidden names and renamed at the end. */
bcdi_status bcdi_compare_write(const bcdi_comparison *c, const bcdi_compare_params *cp,
                               const char *out_dir);

/* ---- building blocks (also used by the tests) ---- */

/* Read a diffraction summary: prepare's JSON (<stem>_summary.json) or a CXI file holding
 * entry_1/bcdi_summary. */
bcdi_status bcdi_compare_read_peak(const char *path, bcdi_compare_peak *out);

/* The lattice of `state` against `reference`; pixel_m/distance_m (unbinned pixel along rows and
 * sample-detector distance, <= 0 when unknown) give the ring rotation; hkl picks c. */
void bcdi_compare_lattice_from_peaks(const bcdi_compare_peak *reference,
                                     const bcdi_compare_peak *state, double pixel_m,
                                     double distance_m, const int hkl[3],
                                     bcdi_compare_lattice *out);

/* Distance between two point chains ([n][3], nm): the mean over
 * the shorter chain's points of the distance to the nearest point of the longer chain (a line
 * cut short by a surface still matches its longer self). */
double bcdi_compare_line_distance(const double *a, size_t na, const double *b, size_t nb);

#ifdef __cplusplus
}
#endif
#endif
