/* SPDX-License-Identifier: BSD-3-Clause */
/* Phasing results and the diffraction summary, in CXI files (docs/file-formats.md). io/cxi owns
 * both layouts, read and write, so nothing else knows their paths:
 *
 *  result:   entry_1/image_1/{data (complex64 object), mask (support, uint8)}
 *            entry_1/image_1/process_1/configuration/<key>   every parameter, as strings, and
 *                                                             `input` (the prepared file)
 *            entry_1/image_1/process_1/results/<name>        final metrics, run identity,
 *                                                             crop_origin, data_shape (the
 *                                                             grid phased), history (n x 7)
 *            entry_1/image_1/process_1/combined/...          when the object is the combined
 *                                                             answer of several runs
 *            entry_1/instrument_1/detector_1/mask            the prepared data's mask
 *            entry_1/bcdi_geometry/...                       the prepared data's geometry
 *            entry_1/bcdi_summary/...                        the prepared data's diffraction
 *                                                             summary, copied as it was
 *  summary:  entry_1/bcdi_summary/{peak_pixel, peak_rocking_angle, peak_intensity,
 *            centre_of_mass, com_rocking_angle, integrated_intensity, gauss_centre, gauss_fwhm,
 *            gauss_amplitude, gauss_background, rocking_fwhm, two_theta, d_spacing,
 *            oversampling, masked_voxels, box_origin, box_shape, bin, input_shape}
 *            written by prepare into the prepared CXI, carried by phase into every result. */
#ifndef BCDI_IO_CXI_RESULT_H
#define BCDI_IO_CXI_RESULT_H

#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "core/output.h"
#include "io/hdf5.h"
#include "voxel_ops.h"

#include <stdint.h>

#define BCDI_CXI_SUMMARY_GROUP "entry_1/bcdi_summary"

/* ---- diffraction summary ---- */

/* Pixel positions are in the input's frame coordinates (frame, row, column). */
typedef struct bcdi_cxi_summary {
    double peak_pixel[3], peak_rocking_deg, peak_intensity;
    double centre_of_mass[3], com_rocking_deg, integrated_intensity;
    double gauss_centre[3], gauss_fwhm[3], gauss_amplitude[3], gauss_background[3];
    /* 1-sigma uncertainties of the profile fits (NaN where the fit gave none) */
    double gauss_centre_err[3], gauss_fwhm_err[3], gauss_amplitude_err[3], gauss_background_err[3];
    double rocking_fwhm_deg, rocking_fwhm_err_deg, two_theta_deg, d_spacing_m;
    double oversampling[3];
    long masked_voxels;
    double box_origin[3], box_shape[3], bin[3], input_shape[3];
} bcdi_cxi_summary;

bcdi_status bcdi_cxi_write_summary(bcdi_h5_writer *w, const bcdi_cxi_summary *summary);
/* 1 when the file holds a diffraction summary. */
int bcdi_cxi_has_summary(bcdi_h5_reader *r);
/* Read it back. Required: two_theta, com_rocking_angle, integrated_intensity, centre_of_mass
 * (a file without them is a FORMAT error naming what is missing); what older files lack is
 * NaN (bin: 1). A file without the group: BCDI_ERR_FORMAT "has no entry_1/bcdi_summary". */
bcdi_status bcdi_cxi_read_summary(bcdi_h5_reader *r, bcdi_cxi_summary *summary);

/* ---- phasing results ---- */

/* One PRTF curve as written: `count` shells. */
typedef struct bcdi_cxi_curve {
    size_t count;
    const double *frequency, *value;
    double resolution; /* where it first falls below the threshold (a bound when !reached) */
    int reached;
} bcdi_cxi_curve;

/* Many runs combined into the answer (phase with keep >= 2 and combine=true): written under
 * entry_1/image_1/process_1/combined (docs/file-formats.md). */
typedef struct bcdi_cxi_combined {
    size_t runs;                /* K */
    const long *run_ids;        /* K, best first */
    const long *generations;    /* K, from 0 (written from 1, as results/generation) */
    const double *correlation;  /* K: aligned complex correlation to the best run */
    const int *twinned;         /* K */
    const double *mode_weights; /* K, descending */
    double complex_mean, complex_min, complex_max;
    double amplitude_mean, amplitude_min, amplitude_max;
    double threshold;       /* of the resolution (1/e) */
    int physical;           /* 1: nm and 1/nm; 0: voxel units */
    bcdi_cxi_curve prtf[4]; /* overall, then along array axes 0, 1, 2 */
} bcdi_cxi_combined;

/* What phase records for one run (or the combined answer: `combined` set). */
typedef struct bcdi_cxi_result {
    size_t shape[3]; /* object and support as written (cropped or whole) */
    const bcdi_cf *object;
    const uint8_t *support;
    size_t crop_origin[3];         /* first voxel of the written box in the phased array */
    size_t data_shape[3];          /* the prepared data's shape (the phased array) */
    const uint8_t *data_mask;      /* the prepared mask (data_shape); NULL: not written */
    const bcdi_geometry *geometry; /* NULL: the input had none */
    const char *const *config_keys;
    const char *const *config_values;
    size_t config_count;
    const char *input; /* the prepared file, recorded in configuration/input */
    /* the prepared file open for reading: its diffraction summary is copied when it has one
     * (NULL: none copied) */
    bcdi_h5_reader *summary_source;
    double fourier_error, llk, free_llk, sharpness, support_fraction, outside_fraction;
    double shrinkwrap_threshold, elapsed_s;
    const char *metric, *backend, *device, *program;
    long rank, run_id, generation, restarts, iterations, seed;
    const bcdi_cxi_combined *combined; /* NULL: one run's result */
    const double *history;             /* history_rows x BCDI_CXI_HISTORY_NCOLUMNS */
    size_t history_rows;
    int deflate_level;
    /* psf=gaussian: the final partial-coherence PSF (data_shape, centred, unit sum) and its rms
     * widths per axis in detector voxels, written as results/psf and results/psf_sigma; NULL:
     * none */
    const float *psf;
    double psf_sigma[3];
} bcdi_cxi_result;

#define BCDI_CXI_HISTORY_COLUMNS                                                                   \
    "iteration,fourier_error,llk,free_llk,sharpness,support_fraction,outside_fraction,"            \
    "masked_photons,masked_over_bound"
#define BCDI_CXI_HISTORY_NCOLUMNS 9

/* Stage the result at path in tx (NULL: its own transaction, committed here). */
bcdi_status bcdi_cxi_write_result(bcdi_output *tx, const char *path, const bcdi_cxi_result *r);

/* A result as analyze, compare and phase (support_file=) read it. */
typedef struct bcdi_cxi_phased {
    size_t shape[3];       /* the object as stored (cropped or whole) */
    size_t data_shape[3];  /* the grid it was phased on: its real-space basis is this grid's */
    size_t crop_origin[3]; /* where the object's first voxel sits in that grid */
    bcdi_cf *object;
    uint8_t *support; /* NULL when not asked for or the file has none */
    int has_geometry;
    bcdi_geometry geometry;
} bcdi_cxi_phased;

/* The object's shape, nothing read (memory is estimated from it first). */
bcdi_status bcdi_cxi_result_shape(const char *path, size_t shape[3]);
/* Read a phasing result: a file without entry_1/image_1/data is a FORMAT error saying it is
 * not one; the geometry when present; the support when want_support and present; the grid it
 * was phased on (a cropped result's geometry and basis are that grid's: readers build the frame
 * from data_shape, never from the cropped shape). */
bcdi_status bcdi_cxi_read_result(const char *path, int want_support, bcdi_cxi_phased *out);
void bcdi_cxi_phased_free(bcdi_cxi_phased *p);

#endif
