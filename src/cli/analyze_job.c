/* SPDX-License-Identifier: BSD-3-Clause */
/* What `analyze` does once its keys are bound (stages.h); shared by `analyze` and `batch`. */
#include "stages.h"

#include "bcdi/log.h"
#include "core/memory.h"
#include "io/cxi_result.h"

#include <stdio.h>

bcdi_status cli_analyze_run(const char *input, const char *output,
                            const bcdi_analysis_params *params, const bcdi_config *config)
{
    bcdi_analysis_frame frame;
    bcdi_analysis_result result = {0};
    bcdi_cxi_phased in = {0};
    /* the memory the analysis needs, from the object's shape, before the object is read */
    size_t declared[3];
    bcdi_status st = bcdi_cxi_result_shape(input, declared);
    if (st == BCDI_OK) {
        char how[160];
        snprintf(how, sizeof how, "an object of %zu x %zu x %zu voxels%s", declared[0], declared[1],
                 declared[2], params->orthogonalise ? " and its orthonormal grid" : "");
        st = bcdi_memory_check(bcdi_analysis_memory_estimate(params, declared), params->max_memory,
                               "analyze", how, "raise max_memory= if the machine has more");
    }
    if (st == BCDI_OK) st = bcdi_cxi_read_result(input, 1, &in);
    const size_t *shape = in.shape;
    if (st == BCDI_OK && in.has_geometry && params->voxel_size_nm > 0.0)
        bcdi_log(BCDI_LOG_NOTICE, "'%s' has a geometry: voxel_size= is not used", input);
    if (st == BCDI_OK) {
        /* the basis of the grid the object was phased on, also when it was written cropped */
        st = bcdi_analysis_frame_make(in.has_geometry ? &in.geometry : NULL, in.data_shape, params,
                                      &frame);
        if (st != BCDI_OK) st = bcdi_error_prefix(st, "'%s': ", input);
    }
    if (st == BCDI_OK) {
        st = bcdi_analysis_run(params, &frame, shape, in.object, in.support, &result);
        if (st != BCDI_OK) st = bcdi_error_prefix(st, "'%s': ", input);
    }
    if (st == BCDI_OK)
        st = bcdi_analysis_write(&result, params, input, output, bcdi_config_keys(config),
                                 bcdi_config_values(config), bcdi_config_count(config));
    if (st == BCDI_OK)
        bcdi_log(BCDI_LOG_INFO, "analyze: wrote %s/ (%s; the list is in summary.json)", output,
                 result.has_ortho ? "analysis.vti, analysis_sheared.vts, dislocations.vtp, "
                                    "density.tif, displacement.tif, density.png, displacement.png, "
                                    "strain.png"
                                  : "analysis_sheared.vts, dislocations.vtp");
    bcdi_analysis_result_free(&result);
    bcdi_cxi_phased_free(&in);
    return st;
}
