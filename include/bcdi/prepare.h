/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi prepare`: raw rocking-curve frames (NeXus/HDF5, TIFF, .npy, CXI) -> phasing-ready
 * prepared data (CXI): masks, corrections, Bragg peak, a box centred on it with FFT-friendly
 * sizes, binning, geometry, a diffraction summary (docs/prepare.md).
 *
 * Frames are read one region of one frame at a time (hyperslabs): a first pass over whole frames
 * finds the peak keeping a few frames in memory, a second pass reads only the box. */
#ifndef BCDI_PREPARE_H
#define BCDI_PREPARE_H

#include "bcdi/config.h"
#include "bcdi/error.h"
#include "bcdi/geometry.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = background + amplitude·exp(−(x − centre)²/(2σ²)); fwhm = 2√(2 ln 2)·σ. The *_err are
 * 1σ standard uncertainties from the covariance at the optimum, σ_res²·(JᵀJ)⁻¹ with σ_res² the
 * residual variance (NaN when the fit did not converge, has no degree of freedom left or its
 * Jacobian lost rank). */
typedef struct bcdi_gauss_fit {
    double amplitude, centre, sigma, background, fwhm;
    double amplitude_err, centre_err, sigma_err, background_err, fwhm_err;
    int converged;   /* 0 when the fit failed (flat or one-sample profile): values are moments */
    int evaluations; /* residual evaluations the fit made (at most BCDI_GAUSS_FIT_WORK / n,
                      * and never fewer than 200 allowed) */
} bcdi_gauss_fit;

/* The Gaussian fit's work limit, in profile points x residual evaluations (200 to 1000
 * evaluations): a one-sample spike, which lmder fits only after ~740 evaluations (σ → 0.026
 * samples), stops there in a profile longer than 270 samples and keeps the moments
 * (converged = 0); a 4096-point profile costs at most 200 evaluations. Peaks of a sample or more
 * took at most 40 in trials, noisy sub-sample ones (σ = 0.3) up to 134. */
#define BCDI_GAUSS_FIT_WORK 200000

/* What the compare step needs about one dataset. Pixel positions are in the frame coordinates
 * of the input (frame, row, column; after gap insertion), not of the box. */
typedef struct bcdi_diffraction_summary {
    long peak[3];             /* the peak voxel (maximum after smoothing, or nearest COM) */
    double peak_rocking_deg;  /* rocking angle of the peak frame */
    double peak_intensity;    /* corrected counts at the peak voxel */
    double centre_of_mass[3]; /* of the corrected, unmasked intensities in the box */
    double com_rocking_deg;
    double integrated_intensity;  /* sum of unmasked corrected counts in the box */
    bcdi_gauss_fit profile[3];    /* box profiles (sums over the two other axes) */
    double rocking_fwhm_deg;      /* profile[0].fwhm × rocking step */
    double rocking_fwhm_err_deg;  /* profile[0].fwhm_err × rocking step */
    double two_theta_deg;         /* 2θ of the centre of mass (detector angles + offset) */
    double d_spacing_m;           /* λ / (2 sin θ) of that 2θ */
    double oversampling[3];       /* per axis of the prepared array, from the autocorrelation */
    size_t masked_voxels, voxels; /* in the prepared array */
} bcdi_diffraction_summary;

typedef struct bcdi_prepared {
    size_t shape[3];  /* prepared (binned) array */
    float *intensity; /* float32 photon counts, peak at shape/2 */
    uint8_t *mask;    /* 1 = not measured (gap, dead, saturated, invalid, user box, padding) */
    bcdi_geometry geometry; /* computed for `shape` (binned pixel sizes and rocking step) */
    bcdi_diffraction_summary summary;
    size_t input_dims[3]; /* frames, rows, columns after gap insertion */
    long box_origin[3];   /* first voxel of the box in input coordinates (may be < 0: padding) */
    size_t box_shape[3];  /* unbinned box */
    size_t bin[3];
    /* where the geometry came from: the beamline preset ("" = none) and the SPEC file and scan
     * whose metadata it used ("" and 0 = none) */
    char beamline[32];
    char spec_file[4096];
    long spec_scan;
    /* the bad-pixel image and the white field used ("" = none), given or found beside the
     * frames of a dataset folder */
    char mask_file[4096];
    char flat_file[4096];
} bcdi_prepared;

#define BCDI_PREPARE_MAX_BOXES 64

/* What the box holds beyond the measured range (padding= key): */
typedef enum {
    BCDI_PREPARE_PAD_CROP = 0, /* no padding: a smaller FFT-friendly size that fits inside */
    BCDI_PREPARE_PAD_ZEROS,    /* padded voxels are measured zero counts */
    BCDI_PREPARE_PAD_MASKED    /* padded voxels are masked (unconstrained in phasing) */
} bcdi_prepare_padding;
#define BCDI_PREPARE_PATH_MAX 4096

/* A box in input coordinates (frames, rows, columns), end exclusive; a detector box (2-D) spans
 * every frame (axis 0 from LONG_MIN to LONG_MAX). */
typedef struct bcdi_prepare_box {
    long lo[3], hi[3];
} bcdi_prepare_box;

/* Every parameter of `prepare` (docs/prepare.md; the key of each field is in the table of
 * bcdi_prepare_param_table()). The *_given flags say a file or the command line set the key:
 * the geometry takes a value from the input file unless the key was given. */
typedef struct bcdi_prepare_params {
    /* input */
    char input_format[16]; /* auto, nexus, hdf5, cxi, tiff, npy, mat */
    char data_path[1024];  /* "" = the format's default */
    char motor_path[1024]; /* "none" = ignore */
    int motor_path_given;
    char pixel_mask_path[1024]; /* "" = the format's default, "none" = ignore */
    char monitor_path[1024];    /* "" or "none" = no monitor */
    /* which stored axis holds the frames, the rows, the columns: axis_of[0] is the stored axis
     * of the rocking frames (numpy's transpose order); axes_auto: frame,row,column, except
     * row,column,frame for .mat (MATLAB's size(A) = rows x columns x frames) */
    int axis_of[3];
    int axes_auto;
    /* metadata: beamline preset ("auto", "none" or a preset name), SPEC file ("" = look
     * beside the input, "none" = do not) and scan (scan_auto: from the frame names) */
    char beamline[32];
    char spec_file[BCDI_PREPARE_PATH_MAX];
    long scan;
    int scan_auto;
    /* detector */
    char gaps[16]; /* auto, inserted, raw, none */
    long frame_origin[2];
    long excalibur_layout[6];
    int bits; /* counter depth; -1 = auto (from the stored type); 0 = no saturation */
    char mask_file[BCDI_PREPARE_PATH_MAX];
    char mask_dataset[1024];
    double mask_threshold;
    char dark_file[BCDI_PREPARE_PATH_MAX];
    char dark_dataset[1024];
    char flat_file[BCDI_PREPARE_PATH_MAX];
    char flat_dataset[1024];
    bcdi_prepare_box mask_boxes[BCDI_PREPARE_MAX_BOXES]; /* 2-D (rows, columns) */
    size_t mask_box_count;
    bcdi_prepare_box aliens[BCDI_PREPARE_MAX_BOXES]; /* 3-D */
    size_t alien_count;
    int invalid_is_error;      /* invalid=error (else mask) */
    double photon_threshold;   /* the floor: corrected values below it become 0 */
    int photon_threshold_auto; /* 2, or 0 for a braggcdi simulate file (docs/prepare.md) */
    double background;         /* counts subtracted from every corrected pixel (then floored) */
    int hot_pixels;
    double hot_factor;
    /* peak and box */
    int peak_com; /* peak=com (else the maximum after smoothing) */
    double peak_smoothing;
    long center[3];
    int center_auto;
    long box[3];
    int box_auto;
    int padding; /* bcdi_prepare_padding: the box beyond the measured range */
    long bin[3];
    double oversampling_threshold;
    /* geometry */
    double energy_kev, distance_m, pixel_um[2], d_spacing_angstrom;
    int energy_given, distance_given, pixel_given, d_spacing_given;
    int hkl[3];
    int hkl_given;
    int detector_angles; /* bcdi_detector_angles */
    int detector_angles_given;
    double two_theta_deg, delta_deg, gamma_deg; /* two_theta, delta: NaN when not given */
    int two_theta_given, delta_given, gamma_given;
    double rocking_step_deg, rocking_start_deg;
    int rocking_step_given, rocking_start_given;
    double rocking_axis[3];
    int rocking_axis_given;
    int row_sign;
    int row_sign_given;
    long reference_pixel[2];
    int reference_center; /* reference_pixel=center */
    int reference_given;
    /* output */
    int deflate;
    size_t max_memory; /* bytes this run may use; 0 = what the machine offers (core/memory.h) */
    char summary_json[BCDI_PREPARE_PATH_MAX]; /* "" = <output stem>_summary.json */
    char output[BCDI_PREPARE_PATH_MAX];
} bcdi_prepare_params;

/* The key table of `prepare`, bound to bcdi_prepare_params (bcdi_config_bind), and its keys. */
const bcdi_param_table *bcdi_prepare_param_table(void);
const bcdi_param_spec *bcdi_prepare_param_specs(size_t *count);
/* The defaults of the table. */
void bcdi_prepare_default(bcdi_prepare_params *p);

/* Load, mask, correct, find the peak, crop, bin, compute the geometry and the summary.
 * Nothing is written. Free with bcdi_prepared_free. */
bcdi_status bcdi_prepare_load(const char *input, const bcdi_prepare_params *params,
                              bcdi_prepared *out);
void bcdi_prepared_free(bcdi_prepared *p);

/* Write the CXI prepared layout (+ geometry, summary, and every configuration value of
 * `provenance`, which may be NULL) atomically to `output`, and the summary JSON to json_path
 * (NULL or "": "<output stem>_summary.json"). On failure neither file exists under its final
 * name. */
bcdi_status bcdi_prepare_write(const char *output, const char *json_path, const bcdi_prepared *p,
                               int deflate, const bcdi_config *provenance);

/* Both of the above, to params->output and params->summary_json; `out` (may be NULL)
 * receives the prepared data. */
bcdi_status bcdi_prepare_run(const char *input, const bcdi_prepare_params *params,
                             const bcdi_config *provenance, bcdi_prepared *out);

/* A dataset folder is a folder holding frames/ (beside the scan's .spec and calibration images,
 * which prepare reads too): returns 1 and writes the frames/ path to `frames` when `input` is
 * one, else 0. */
int bcdi_prepare_dataset_frames(const char *input, char *frames, size_t capacity);

/* Default JSON name for an output path: "<dir>/<stem>_summary.json". */
bcdi_status bcdi_prepare_json_path(const char *output, char *buf, size_t capacity);

/* The summary as a human-readable table (the caller picks the stream). */
void bcdi_diffraction_summary_print(FILE *stream, const bcdi_prepared *p);
/* The summary (and shape, box, bin, voxel sizes) as JSON, written atomically. */
bcdi_status bcdi_diffraction_summary_write_json(const char *path, const bcdi_prepared *p);

/* ---- building blocks (tested on their own) ---- */

/* The longest axis of a prepared (binned) array, and of any array an FFT-friendly size is
 * searched for: 4096 voxels (a 4096^3 array of complex floats is 512 GiB, beyond any node; the
 * memory check refuses far smaller arrays first). */
#define BCDI_PREPARE_MAX_AXIS 4096
/* Smallest even n' >= n whose prime factors are all <= 7 (FFT-friendly box sizes); 0 when n is
 * beyond BCDI_PREPARE_MAX_AXIS (the search is bounded: it never spins on a huge n). */
size_t bcdi_prepare_good_size(size_t n);

/* Integer binning: out[i] = Σ of the bin's intensities (masked ones included as they are, so
 * counts are conserved); mask[i] = 1 when any pixel of the bin is masked. Shapes must divide.
 * *out_intensity and *out_mask are malloc'd. */
bcdi_status bcdi_prepare_bin(const size_t shape[3], const float *intensity, const uint8_t *mask,
                             const size_t bin[3], size_t out_shape[3], float **out_intensity,
                             uint8_t **out_mask);

/* Least-squares Gaussian + constant fit of y[0..n-1] (x = 0..n-1): Levenberg-Marquardt
 * (cminpack's lmder) started from the moments, with parameter uncertainties. */
bcdi_status bcdi_gauss_fit_profile(const double *y, size_t n, bcdi_gauss_fit *fit);

/* Oversampling ratio per axis, N / L for an object L voxels wide: the autocorrelation
 * |IFFT(I)| of the central ≤ BCDI_OVERSAMPLING_CROP voxels per axis (masked voxels filled from
 * their Friedel partner about the centre, else from their neighbours), the maximum projection
 * of it onto each axis, and L = the lag where that falls through `threshold` (fraction of the
 * zero-lag value; interpolated between lags, both sides averaged) + 1/2. A profile still above
 * the level at the window's edge gives 2. docs/prepare.md has the measured accuracy. */
#define BCDI_OVERSAMPLING_CROP 128
bcdi_status bcdi_prepare_oversampling(const size_t shape[3], const float *intensity,
                                      const uint8_t *mask, double threshold, double ratio[3]);

#ifdef __cplusplus
}
#endif
#endif
