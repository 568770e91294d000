/* SPDX-License-Identifier: BSD-3-Clause */
/* Beamline presets: what a beamline's files do not say about its instrument (detector model,
 * axis conventions, which motors hold energy, distance and detector angles, defaults), and the
 * geometry of one scan from a preset and the scan's metadata.
 *
 * The metadata comes in through bcdi_scan_metadata (motor positions and header entries by
 * lookup, the rocking motion as plain values), so this room reads no file format: src/prep turns
 * a SPEC scan (io/spec.h) into it (prep/prep_metadata.h).
 *
 * The table is extensible: a new beamline is one more row in beamline.c. Conventions are those
 * of include/bcdi/geometry.h (lab frame: z along the beam, y up, x = y × z). Sample circles
 * are listed from the outermost (nearest the floor) inwards, each with its rotation axis at
 * zero angles; a rocking circle's lab axis is its own axis turned by every circle outside it at
 * the scan's #P positions, so rocking an inner circle (34-ID-C's phi) is handled too.
 *
 * Sources of each value, in order: the scan's metadata when the preset names where it lives
 * (metadata wins over a default, and a note says when they differ), else the preset's default
 * (a note says so). Every value used is reported as a note, so a log can show all of them. */
#ifndef BCDI_INSTRUMENT_BEAMLINE_H
#define BCDI_INSTRUMENT_BEAMLINE_H

#include "bcdi/error.h"
#include "bcdi/geometry.h"

#include <stddef.h>

typedef enum {
    BCDI_GAPS_NONE = 0,  /* one chip, or gaps already in the frames */
    BCDI_GAPS_CHIP_GRID, /* chip_rows x chip_cols chips, row_gap / col_gap pixels between them */
    BCDI_GAPS_EXCALIBUR  /* the Excalibur 3M module layout of instrument/excalibur.h */
} bcdi_gap_layout;

typedef struct bcdi_detector_model {
    const char *name;       /* "Excalibur 3M", "Timepix quad" */
    const char *spec_id;    /* the #UIMDET value naming it in SPEC files, NULL if none */
    size_t rows, cols;      /* a full frame as the detector writes it, without inserted gaps */
    double pixel_size_m[2]; /* along rows, along columns */
    int chip_size;          /* pixels per chip side */
    bcdi_gap_layout gaps;
    int chip_rows, chip_cols; /* BCDI_GAPS_CHIP_GRID */
    int row_gap, col_gap;     /* BCDI_GAPS_CHIP_GRID: pixels between chips */
} bcdi_detector_model;

typedef struct bcdi_circle {
    const char *mnemonic, *name; /* SPEC #o / #O names (either may match) */
    double axis[3];              /* right-handed rotation axis at zero angles, lab frame */
} bcdi_circle;

#define BCDI_BEAMLINE_MAX_CIRCLES 4

typedef struct bcdi_beamline {
    const char *name;    /* "34idc" */
    const char *aliases; /* comma-separated other names ("34-id-c,aps-34idc") */
    const char *description;
    const bcdi_detector_model *detector; /* default; SPEC's #UIMDET may name another */
    bcdi_detector_angles angles;
    int row_sign;                                  /* geometry.h: +1 = row index grows downwards */
    bcdi_circle sample[BCDI_BEAMLINE_MAX_CIRCLES]; /* outermost first; mnemonic NULL ends */
    /* which motor of the metadata holds each value (a mnemonic or name, as SPEC's #o/#O; NULL:
     * not logged) and the factor to the unit of bcdi_geometry */
    const char *energy_motor;
    double energy_to_kev;
    const char *distance_motor;
    double distance_to_m;
    const char *delta_motor, *gamma_motor, *two_theta_motor;
    const char *detector_header; /* header entry naming the detector (SPEC: "UIMDET") */
    const char *roi_header;      /* "minX sizeX minY sizeY" of the saved frames (SPEC: "UIMR5") */
    /* defaults */
    double energy_kev, distance_m;
    double delta_deg, gamma_deg; /* BCDI_DETECTOR_DELTA_GAMMA */
    double two_theta_deg;        /* BCDI_DETECTOR_TWO_THETA; 0: from Bragg's law and d */
    double rocking_step_deg;
    double d_spacing_m; /* 0: none, d follows from 2θ at the reference pixel */
    int hkl[3];
    /* the beamline's dark image (a dark*.tif beside the frames of a dataset folder) is a
     * bad-pixel map: pixels above this are bad (34-ID-C: 1); NaN: no such convention */
    double dark_bad_above;
} bcdi_beamline;

size_t bcdi_beamline_count(void);
const bcdi_beamline *bcdi_beamline_at(size_t index);
/* By name or alias, case-insensitive; BCDI_ERR_CONFIG listing the known names otherwise. */
bcdi_status bcdi_beamline_find(const char *name, const bcdi_beamline **out);

typedef enum {
    BCDI_SOURCE_METADATA = 0, /* read from the scan's metadata */
    BCDI_SOURCE_DEFAULT,      /* the preset's default: the metadata has no such value */
    BCDI_SOURCE_DERIVED       /* computed from other values */
} bcdi_value_source;

#define BCDI_BEAMLINE_MAX_NOTES 24

typedef struct bcdi_beamline_notes {
    size_t count;
    struct {
        char key[24]; /* "energy", "distance", "delta", "rocking", "detector", ... */
        bcdi_value_source source;
        char text[320]; /* one sentence for a log */
    } note[BCDI_BEAMLINE_MAX_NOTES];
} bcdi_beamline_notes;

/* What a scan's metadata says, whatever file it came from. Lookups take a motor's name or
 * mnemonic; `source` is handed to them. Strings and `positions` must outlive the call. */
typedef struct bcdi_scan_metadata {
    const char *where;   /* the scan, for messages: "'scan54.spec' scan 54 (line 28)" */
    const char *command; /* the scan command as written ("ascan th -0.28 0.72 200 0.25") */
    const void *source;
    /* position of a motor at the scan's start: 1 when known (and *position set), else 0 */
    int (*motor)(const void *source, const char *name, double *position);
    /* text of a header entry ("UIMDET", "UIMR5"; leading blanks skipped), NULL when absent */
    const char *(*header)(const void *source, const char *key);
    struct {
        char kind[16];     /* ascan, dscan, ... (for messages) */
        char mnemonic[64]; /* the moved motor as the command names it */
        char name[64];     /* its long name, "" when unknown */
        double start_deg;  /* absolute position of the first point */
        int start_known;   /* 0: a relative scan of a motor without a start position */
        double step_deg;   /* signed */
        size_t points;     /* points the command asks for */
    } motion;
    const double *positions; /* positions the moved motor reached, NULL when not recorded */
    size_t position_count;
    size_t points_read;  /* data rows recorded */
    double wavelength_m; /* the metadata's own wavelength (SPEC: #G4 field 4), NaN when none */
} bcdi_scan_metadata;

/* What the scan says beyond bcdi_geometry. */
typedef struct bcdi_beamline_scan {
    const bcdi_detector_model *detector;
    char rocking_motor[64];    /* SPEC mnemonic of the rocking circle */
    double rocking_start_deg;  /* rocking angle of frame 0 */
    size_t frames;             /* points the scan command asks for (0 without a scan) */
    size_t points_read;        /* data rows recorded */
    long roi_origin[2];        /* full-detector (row, col) of frame pixel (0, 0) */
    double reference_pixel[2]; /* frame (row, col) the detector angles point at: the detector
                                * centre, minus the ROI origin */
} bcdi_beamline_scan;

/* Fill `g` (energy, distance, pixel size, detector angles, rocking step and axis, row sign,
 * d-spacing, hkl; not the derived fields: call bcdi_geometry_compute with the box shape next),
 * `info` and `notes` from the preset and `scan` (NULL: defaults only). `info` and `notes` may
 * be NULL. Errors: BCDI_ERR_UNSUPPORTED when the scan moves a motor the preset cannot use as a
 * rocking circle (a detector arm, energy), BCDI_ERR_FORMAT when metadata the preset relies on is
 * malformed (an ROI line that is not four integers) or a value has neither metadata nor a
 * default, BCDI_ERR_INVALID_ARG for non-physical values (energy <= 0, ...), each naming the
 * scan. */
bcdi_status bcdi_beamline_geometry(const bcdi_beamline *beamline, const bcdi_scan_metadata *scan,
                                   bcdi_geometry *g, bcdi_beamline_scan *info,
                                   bcdi_beamline_notes *notes);

#endif
