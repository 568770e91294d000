/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal: the figures of bcdi_analysis_write (PNGs staged in its transaction) and the JSON
 * helpers it shares with compare. */
#ifndef BCDI_ANALYSIS_OUTPUT_H
#define BCDI_ANALYSIS_OUTPUT_H

#include "bcdi/analysis.h"
#include "core/output.h"
#include "io/json.h"
#include "num/plot.h"

#include <stdio.h>

/* The figures, in their order in summary.json's "figures". */
typedef enum {
    ANA_FIGURE_DENSITY = 0,
    ANA_FIGURE_DISPLACEMENT,
    ANA_FIGURE_STRAIN,
    ANA_FIGURE_COUNT
} ana_figure;

/* Each figure's colour limits over the orthonormal support (the valid strain voxels for strain;
 * num/plot.h's robust rule). */
bcdi_status ana_figure_limits(const bcdi_analysis_result *r, bcdi_colour_limits *limits);
/* One figure drawn into *img (created here; the caller frees it). */
bcdi_status ana_render_figure(const bcdi_analysis_result *r, ana_figure figure,
                              const bcdi_colour_limits *limits, bcdi_image *img);
bcdi_status ana_write_figures(bcdi_output *tx, const bcdi_analysis_result *r,
                              const bcdi_colour_limits *limits,
                              const char *const paths[ANA_FIGURE_COUNT]);
/* {field, kind, percentile, min, max, voxels, clipped_low, clipped_high}: summary.json's record
 * of a figure's colour limits; NULL when out of memory. */
json_t *bcdi_colour_limits_json(const bcdi_colour_limits *l, const char *field, const char *over);

/* {count, mean, std, p05, p95, min, max, range} as JSON (summary.json, comparison.json); NULL
 * when out of memory. */
json_t *bcdi_stats_json(const bcdi_stats *s);

#endif
