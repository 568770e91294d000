/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of `prepare` (docs/prepare.md), shared by its steps: the context the two passes
 * over the input share, and one function group per pipeline step:
 *   prep_axes.c     which stored axis holds the frames, rows, columns (axes=)
 *   prep_metadata.c the beamline preset and the SPEC scan whose metadata fills the geometry
 *   prep_load.c     the input's frame layout (Excalibur gaps), rocking angles and monitor
 *   prep_mask.c     pixels bad in every frame (the input's mask, mask_file=), hot pixels
 *   prep_correct.c  dark and white field, and one corrected, masked region of one frame
 *   prep_peak_box.c the Bragg peak (pass 1) and the FFT-friendly box around it
 *   prep_box.c      the box's size where it would reach beyond the input (padding=)
 *   prep_bin.c      FFT-friendly sizes and integer binning
 *   prep_geometry.c the geometry from the input's metadata, a beamline preset and the keys
 *   prep_summary.c  the diffraction summary: centre of mass, profile fits, oversampling
 *   prep_fit.c      the Gaussian profile fit (cminpack) with its uncertainties
 *   prep_output.c   the prepared CXI file and the summary JSON
 *   prepare.c       the driver (bcdi_prepare_load, bcdi_prepare_run)
 * Coordinates: "stored" = as in the file; "input" = after optional Excalibur gap insertion
 * (frames, rows, columns); the box lives in input coordinates and may overhang them (padding,
 * masked). */
#ifndef BCDI_PREP_INTERNAL_H
#define BCDI_PREP_INTERNAL_H

#include "bcdi/prepare.h"
#include "prep/prep_input.h"
#include "num/constants.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* a path key that names nothing */
static inline int prep_unset(const char *v)
{
    return !v || !v[0] || !strcmp(v, "none");
}

/* What the two passes share. */
typedef struct prep_ctx {
    const bcdi_prepare_params *p;
    prep_input in;
    size_t dims[3]; /* input coordinates: frames, rows, columns (after gap insertion) */
    long *row_map;  /* input row -> stored row, -1 = gap */
    long *col_map;
    uint8_t *bad;      /* stored rows x cols: 1 = bad everywhere (pixel mask, mask file, flat) */
    float *dark;       /* stored rows x cols or NULL */
    float *flat_scale; /* mean(flat)/flat, or NULL */
    double *monitor_scale;  /* per frame or NULL */
    char mask3d_path[1024]; /* a per-frame mask dataset (CXI 3-D masks), "" if none */
    prep_input mask3d_in;   /* a per-frame mask_file (3-D, the input's shape), if open */
    int mask3d_file;        /* mask3d_in is open */
    float *mask3d_values;   /* one region of it */
    size_t mask3d_values_cap;
    float saturation; /* 0 = none */
    int invalid_is_error;
    double photon_threshold;
    double background; /* counts subtracted before the threshold */
    int pad_zeros;     /* padding=zeros: the box beyond the input is measured zeros */
    int hot_pixels;
    double hot_factor;
    float *stored_buf; /* one stored region */
    size_t stored_cap;
    uint8_t *mask3d_buf;
    float peak_value; /* corrected value at the peak (saturated: the raw value) */
    int peak_pass;    /* pass 1: saturated pixels keep their value in val (still masked) */
    /* counts of the box pass */
    int counting;
    size_t n_saturated, n_invalid, n_hot, n_gap, n_static, n_user;
    double *rocking_deg; /* per frame (motor or start + f·step) */
    int motor_from_file;
    long reference[2]; /* pixel the detector angles point at (input coordinates) */
} prep_ctx;

/* In a user box (mask_boxes=) or an alien (aliens=)? (inline: asked for every pixel) */
static inline int prep_in_user_box(const bcdi_prepare_params *p, long f, long r, long col)
{
    const bcdi_prepare_box *lists[2] = {p->mask_boxes, p->aliens};
    size_t counts[2] = {p->mask_box_count, p->alien_count};
    for (int l = 0; l < 2; l++)
        for (size_t k = 0; k < counts[l]; k++) {
            const bcdi_prepare_box *b = &lists[l][k];
            if (f >= b->lo[0] && f < b->hi[0] && r >= b->lo[1] && r < b->hi[1] && col >= b->lo[2] &&
                col < b->hi[2])
                return 1;
        }
    return 0;
}

/* A measured stored value corrected: dark subtracted, white field and monitor applied, values
 * below the photon threshold (or below the dark) set to 0 (measured, no photon). Stored pixel
 * s, frame monitor scale. (inline: asked for every pixel) */
static inline float prep_corrected(const prep_ctx *c, size_t s, float v, double monitor)
{
    double x = v;
    if (c->dark) x -= c->dark[s];
    if (c->flat_scale) x *= c->flat_scale[s];
    x *= monitor;
    x -= c->background;
    if (x < c->photon_threshold || x < 0.0) x = 0.0;
    return (float)x;
}

/* prep_axes.c: the axes= key applied to c->in (logged). */
bcdi_status prep_setup_axes(prep_ctx *c);

/* prep_load.c */
void prep_ctx_free(prep_ctx *c);
/* Gap layout: which input row/column comes from which stored row/column (c->dims set). */
bcdi_status prep_setup_frame_map(prep_ctx *c);
/* Rocking angles from the motor (when the input has them; *step_from_file, else NaN) and the
 * per-frame monitor scale. */
bcdi_status prep_setup_frames(prep_ctx *c, double *step_from_file);

/* prep_mask.c */
bcdi_status prep_setup_masks(prep_ctx *c);
void prep_mask_hot_pixels(prep_ctx *c, size_t nr, size_t nc, float *val, uint8_t *msk);

/* prep_mask3d.c */
/* mask_file= holding one value per voxel (3-D, the input's shape, read frame by frame) or
 * exactly one frame's pixels in any input format: opened here (*handled = 1); other images
 * (2-D, to be cut at frame_origin) are left to prep_setup_masks (*handled = 0). */
bcdi_status prep_mask3d_open(prep_ctx *c, int *handled);
/* A per-frame mask in use (the input's own 3-D mask, or a 3-D mask_file). */
static inline int prep_mask3d_active(const prep_ctx *c)
{
    return c->mask3d_path[0] || c->mask3d_file;
}
/* c->mask3d_buf <- the per-frame mask of stored rows sr0.., columns sc0.. of frame f. */
bcdi_status prep_mask3d_read(prep_ctx *c, long f, size_t sr0, size_t nr, size_t sc0, size_t nc);

/* prep_correct.c */
bcdi_status prep_setup_corrections(prep_ctx *c);
/* A dataset folder's calibration images, for the path keys left empty (given, or "none", they
 * are kept): the one TIFF named whitefield..., flatfield... or flat... beside the frames as
 * flat_file; the one named dark... as mask_file when the beamline's dark images are bad-pixel maps
 * (bcdi_beamline.dark_bad_above, which also sets a mask_threshold left at 0). Logs each choice. */
struct bcdi_beamline;
void prep_find_calibration(const char *folder, const struct bcdi_beamline *beamline,
                           bcdi_prepare_params *p);
/* Saturation level from bits= (auto: from the stored type). */
void prep_setup_saturation(prep_ctx *c);
/* Corrected values and mask of input rows r0.., columns c0.. of input frame f (regions may
 * overhang the input: padding is masked). Masked voxels hold 0 in val; the mask says why not. */
bcdi_status prep_read_region(prep_ctx *c, long f, long r0, size_t nr, long c0, size_t nc,
                             float *val, uint8_t *msk);

/* prep_peak_box.c */
/* Pass 1: the peak (maximum after smoothing, or centre of mass) over whole frames. */
bcdi_status prep_find_peak(prep_ctx *c, int use_com, double sigma, long peak[3]);
/* The box size: bin x an even FFT-friendly size per axis (S), from the keys and the input's
 * shape alone; refused when a binned axis would pass BCDI_PREPARE_MAX_AXIS. */
bcdi_status prep_box_size(const prep_ctx *c, size_t S[3]);
/* The box of size S around `centre`: its first voxel; refused when it holds no input voxel. */
bcdi_status prep_place_box(const prep_ctx *c, const long centre[3], const size_t S[3],
                           long origin[3]);

/* prep_box.c */
/* Largest even FFT-friendly size <= n (0 when n < 2). */
size_t prep_good_size_below(size_t n);
/* padding=crop: shrink S (a multiple of the bin) per axis so that the box centred on `centre`
 * stays inside the input, logging what was dropped; origin follows. */
void prep_crop_box(const prep_ctx *c, const long centre[3], size_t S[3], long origin[3]);
/* padding=zeros: the voxels of a region outside the input become measured zeros (gaps and other
 * masks inside the input stay). */
void prep_zero_padding(const prep_ctx *c, long f, long r0, size_t nr, long c0, size_t nc,
                       float *val, uint8_t *msk);

/* prep_geometry.c */
struct prep_metadata;
/* The geometry (and c->reference, the rocking angle of each frame): from a beamline preset with
 * the scan's metadata when `m` has one (typed keys win over both), else from the input file
 * and the keys. */
bcdi_status prep_geometry_resolve(prep_ctx *c, const struct prep_metadata *m, double step_from_file,
                                  bcdi_geometry *g);
bcdi_status prep_geometry_from_inputs(prep_ctx *c, double step_from_file, bcdi_geometry *g);
/* Detector unit vectors from a computed geometry: d̂ (centre direction), r̂ (rows), ĉ (cols). */
void prep_detector_vectors(const bcdi_geometry *g, double d_hat[3], double r_hat[3],
                           double c_hat[3]);
/* Rocking angle at a (fractional) frame, interpolated. */
double prep_rocking_at(const prep_ctx *c, double frame);

/* prep_summary.c */
/* Centre of mass, integrated intensity and Gaussian fits of the box profiles; 2θ and d. */
bcdi_status prep_summarise(prep_ctx *c, const float *I, const uint8_t *M, const size_t S[3],
                           const long origin[3], const bcdi_geometry *g_unbinned,
                           const long reference[2], bcdi_diffraction_summary *s);

#endif
