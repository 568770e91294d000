/* Beamline presets: what a beamline's files do not say about its instrument (detector model,
 * axis conventions, which motors hold energy, distance and detector angles, defaults), and the
 * geometry of one scan from a preset and the scan's SPEC metadata.
 *
 * The table is extensible: a new beamline is one more row in beamline.c. Conventions are those
 * of include/bcdi/geometry.h (lab frame: z along the beam, y up, x = y × z). Sample circles
 * are listed from the outermost (nearest the floor) inwards, each with its rotation axis at
 * zero angles; a rocking circle's lab axis is its own axis turned by every circle outside it at
 * the scan's #P positions, so rocking an inner circle (34-ID-C's phi) is handled too.
 *
 * Sources of each value, in order: the SPEC metadata when the preset names where it lives
 * (metadata wins over a default, and a note says when they differ), else the preset's default
 * (a note says so). Every value used is reported as a note, so a log can show all of them. */
#ifndef BCDI_INSTRUMENT_BEAMLINE_H
#define BCDI_INSTRUMENT_BEAMLINE_H

#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "io/spec.h"

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
    /* where the SPEC file holds each value (a mnemonic or name; NULL: not logged) and the factor
     * to the unit of bcdi_geometry */
    const char *energy_motor;
    double energy_to_kev;
    const char *distance_motor;
    double distance_to_m;
    const char *delta_motor, *gamma_motor, *two_theta_motor;
    const char *detector_header; /* SPEC header line naming the detector ("UIMDET") */
    const char *roi_header;      /* "minX sizeX minY sizeY" of the saved frames ("UIMR5") */
    /* defaults */
    double energy_kev, distance_m;
    double delta_deg, gamma_deg; /* BCDI_DETECTOR_DELTA_GAMMA */
    double two_theta_deg;        /* BCDI_DETECTOR_TWO_THETA; 0: from Bragg's law and d */
    double rocking_step_deg;
    double d_spacing_m; /* 0: none, d follows from 2θ at the reference pixel */
    int hkl[3];
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

/* What the scan says beyond bcdi_geometry. */
typedef struct bcdi_beamline_scan {
    const bcdi_detector_model *detector;
    char rocking_motor[64];    /* SPEC mnemonic of the rocking circle */
    double rocking_start_deg;  /* rocking angle of frame 0 */
    size_t frames;             /* points the scan command asks for (0 without a scan) */
    size_t points_read;        /* data rows in the SPEC file */
    long roi_origin[2];        /* full-detector (row, col) of frame pixel (0, 0) */
    double reference_pixel[2]; /* frame (row, col) the detector angles point at: the detector
                                * centre, minus the ROI origin */
} bcdi_beamline_scan;

/* Fill `g` (energy, distance, pixel size, detector angles, rocking step and axis, row sign,
 * d-spacing, hkl; not the derived fields: call bcdi_geometry_compute with the box shape next),
 * `info` and `notes` from the preset and `scan` (NULL: defaults only). `info` and `notes` may
 * be NULL. Errors: BCDI_ERR_UNSUPPORTED when the scan moves a motor the preset cannot use as a
 * rocking circle (a detector arm, energy), BCDI_ERR_FORMAT when metadata the preset relies on is
 * malformed (an ROI line that is not four integers), BCDI_ERR_INVALID_ARG for non-physical
 * values (energy <= 0, ...), each naming the scan. */
bcdi_status bcdi_beamline_geometry(const bcdi_beamline *beamline, const bcdi_spec_scan *scan,
                                   bcdi_geometry *g, bcdi_beamline_scan *info,
                                   bcdi_beamline_notes *notes);

#endif
