/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to the compare module (src/compare/compare_*.c). */
#ifndef BCDI_COMPARE_INTERNAL_H
#define BCDI_COMPARE_INTERNAL_H

#include "bcdi/compare.h"
#include "bcdi/config.h"
#include "core/output.h"
#include "num/plot.h"

#include "num/constants.h"
#include "num/mat3.h"

#include <stdio.h>

/* One state's object and how to analyse it. */
typedef struct cmp_loaded {
    char result_path[4096];
    int from_folder;
    bcdi_analysis_params params;
    size_t shape[3];
    size_t data_shape[3]; /* the grid it was phased on (its basis; the object may be a crop) */
    bcdi_cf *object;
    uint8_t *support; /* NULL when the file has none */
    int has_geometry;
    bcdi_geometry geometry;
} cmp_loaded;

/* The object's shape of a state (a result CXI or an analysed folder's result), nothing read
 * (compare's memory is estimated from every state's shape before any is loaded). */
bcdi_status cmp_state_shape(const char *path, const char *label, size_t shape[3]);
/* Result CXI or analysed folder -> object, support, geometry, analysis parameters (the
 * folder's own; `ap` for a result). `label` names the state in errors. */
bcdi_status cmp_load_state(const char *path, const char *label, const bcdi_analysis_params *ap,
                           cmp_loaded *out);
void cmp_loaded_free(cmp_loaded *l);
/* The state's diffraction summary (docs/compare.md): the file given with summary=, else the one
 * the result carries, else (older results) the one of the prepared file the result records;
 * out->available = 0 when none (a notice names the state, `label`). */
bcdi_status cmp_locate_peak(const char *given, const char *label, const char *result_path,
                            bcdi_compare_peak *out);

/* Helpers for writing */
/* slices.png's rows: density, displacement, displacement change, density change; each row's
 * colour limits pooled over the states (num/plot.h's robust rule; the density change within
 * ±1). */
#define CMP_SLICE_ROWS 4
bcdi_status cmp_slice_limits(const bcdi_comparison *c, bcdi_colour_limits *limits);
/* slices.png and trends.png drawn into *out (created here; the caller frees it). */
bcdi_status cmp_render_slices(const bcdi_comparison *c, const bcdi_colour_limits *limits,
                              bcdi_image *out);
bcdi_status cmp_render_trends(const bcdi_comparison *c, bcdi_image *out);
bcdi_status cmp_write_figures(bcdi_output *tx, const bcdi_comparison *c,
                              const bcdi_colour_limits *slice_limits, const char *slices_path,
                              const char *trends_path);

#endif
