/* Internal: figure writer used by bcdi_analysis_write (both PNGs staged in its transaction). */
#ifndef BCDI_ANALYSIS_OUTPUT_H
#define BCDI_ANALYSIS_OUTPUT_H

#include "bcdi/analysis.h"
#include "core/output.h"
#include "io/json.h"

#include <stdio.h>

bcdi_status ana_write_figures(bcdi_output *tx, const bcdi_analysis_result *r,
                              const char *density_path, const char *displacement_path);

/* {count, mean, std, p05, p95, min, max, range} as JSON (summary.json, comparison.json); NULL
 * when out of memory. */
json_t *bcdi_stats_json(const bcdi_stats *s);

#endif
