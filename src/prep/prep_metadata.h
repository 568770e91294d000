/* SPDX-License-Identifier: BSD-3-Clause */
/* `prepare`, metadata: which beamline preset describes the instrument and which scan's metadata
 * (a SPEC file beside the frames, by default) fills in the geometry. The SPEC scan is turned
 * into the instrument room's bcdi_scan_metadata here, so src/instrument reads no file format.
 *
 * beamline=auto: i13-1 for a NeXus file with the I13-1 layout (its own metadata, as before), the
 * preset a SPEC file names (its #UIMDET detector or its #F path holds the preset's name or an
 * alias), else none (the keys and the input file only). spec= "" looks for the only *.spec
 * file in the input's folder, then beside a frames folder; scan=auto takes the number in the
 * frame names (_S0054_, scan54), else the SPEC file's only scan. */
#ifndef BCDI_PREP_METADATA_H
#define BCDI_PREP_METADATA_H

#include "bcdi/error.h"
#include "bcdi/prepare.h"
#include "instrument/beamline.h"
#include "io/spec.h"
#include "prep/prep_input.h"

/* The scan as bcdi_scan_metadata: strings and positions point into `scan`, which must outlive
 * it. Errors from the scan command (bcdi_spec_scan_motion: a command that moves no motor)
 * name the scan. */
bcdi_status prep_metadata_from_spec(const bcdi_spec_scan *scan, bcdi_scan_metadata *meta);

typedef struct prep_metadata {
    const bcdi_beamline *beamline; /* NULL: none */
    char beamline_why[512];        /* for the log: how it was chosen */
    char spec_path[4096];          /* "" = no SPEC file used */
    long scan_number;
    char scan_why[256];
    bcdi_spec_scan *scan;    /* NULL without a SPEC file */
    bcdi_scan_metadata meta; /* valid when scan != NULL */
} prep_metadata;

/* Decide the preset and read the scan, from the keys and the opened input. */
bcdi_status prep_metadata_resolve(const prep_input *in, const bcdi_prepare_params *p,
                                  prep_metadata *out);
void prep_metadata_free(prep_metadata *m);

/* The scan number a file name carries ("Staff20-1a_S0054_00000.tif" -> 54, "scan54.h5",
 * "scan_12" -> 12): 1 when found. */
int prep_scan_number_from_name(const char *name, long *number);

#endif
