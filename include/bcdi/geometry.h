/* SPDX-License-Identifier: BSD-3-Clause */
/* Diffraction geometry: beamline parameters -> reciprocal-space steps and the real-space basis
 * of the detector-conjugate grid (docs/physics.md §2 and §6).
 * Lab frame: z along the incident beam, y vertical up, x = y × z. Lengths in metres,
 * angles in degrees in this struct (radians only inside computations). */
#ifndef BCDI_GEOMETRY_H
#define BCDI_GEOMETRY_H

#include "bcdi/error.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BCDI_DETECTOR_TWO_THETA = 0,  /* detector in the horizontal plane at 2θ (Diamond I13-1) */
    BCDI_DETECTOR_DELTA_GAMMA = 1 /* APS 34-ID-C arm: delta about y+, gamma about x- */
} bcdi_detector_angles;

typedef struct bcdi_geometry {
    double energy_kev;
    double wavelength_m;    /* derived: hc / E (12.3984 keV·Å / E) */
    double distance_m;      /* sample to detector */
    double pixel_size_m[2]; /* [0] along detector rows (vertical step), [1] along columns */
    bcdi_detector_angles angles;
    double two_theta_deg;        /* BCDI_DETECTOR_TWO_THETA */
    double delta_deg, gamma_deg; /* BCDI_DETECTOR_DELTA_GAMMA */
    double rocking_step_deg;     /* signed step of the rocking motor between frames */
    double rocking_axis[3];      /* unit vector, lab frame (default (0,1,0): θ about vertical) */
    int row_sign;       /* +1: detector row index grows downwards (r̂ = (0,-1,0)); -1: up */
    double d_spacing_m; /* of the reflection */
    int hkl[3];
    /* derived by bcdi_geometry_compute(): */
    double q_step[3][3];     /* columns: Δq per frame, per row, per column (1/m), lab frame */
    double real_basis[3][3]; /* columns: real-space step per voxel along axes 0,1,2 (m) */
    double voxel_size_m[3];  /* lengths of the real_basis columns */
    double q_bragg[3];       /* Q at the detector centre (1/m), lab frame */
    size_t shape[3];         /* the array shape real_basis was computed for */
} bcdi_geometry;

/* Defaults: Diamond I13-1, NMC811 (003): 11 keV, 2.9 m, 55 µm, Δθ = 0.005°, 2θ from d = 4.733 Å. */
void bcdi_geometry_default_i13(bcdi_geometry *g);

/* Fill wavelength, q_step, real_basis, voxel_size, q_bragg for an array of `shape`
 * (frames, rows, columns). Errors on non-physical input (E <= 0, D <= 0, zero step...). */
bcdi_status bcdi_geometry_compute(bcdi_geometry *g, const size_t shape[3]);

/* The geometry stored in a prepared-data or result CXI file (entry_1/bcdi_geometry, written by
 * `braggcdi prepare`, `phase` and `simulate`), derived fields included. BCDI_ERR_FORMAT when the
 * file holds none. */
bcdi_status bcdi_geometry_read(const char *path, bcdi_geometry *g);

/* 2θ (degrees) for a d-spacing at a wavelength (Bragg's law); error if λ > 2d. */
bcdi_status bcdi_bragg_two_theta_deg(double wavelength_m, double d_spacing_m,
                                     double *two_theta_deg);

#ifdef __cplusplus
}
#endif
#endif
