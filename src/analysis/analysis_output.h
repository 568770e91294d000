/* Internal: figure writer used by bcdi_analysis_write. */
#ifndef BCDI_ANALYSIS_OUTPUT_H
#define BCDI_ANALYSIS_OUTPUT_H

#include "bcdi/analysis.h"

bcdi_status ana_write_figures(const bcdi_analysis_result *r, const char *density_path,
                              const char *displacement_path);

#endif
