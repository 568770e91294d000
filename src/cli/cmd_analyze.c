/* braggcdi analyze: a phased object (CXI result) -> density, displacement, strain, dislocation
 * lines, domains, lab-frame maps (VTK, TIFF, PNG) and summary.json. */
#include "cli.h"

#include "bcdi/analysis.h"
#include "bcdi/error.h"
#include "bcdi/log.h"
#include "core/memory.h"
#include "io/cxi_result.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_analyze(int argc, char **argv)
{
    const cli_command command = {
        .name = "analyze",
        .summary = "post-process a phased object",
        .usage = "braggcdi analyze result.cxi [config.ini] [key=value ...] -o outdir/",
        .description =
            "Reads a phasing result (CXI: entry_1/image_1/data, its support and\n"
            "entry_1/bcdi_geometry), finds the support and its box, removes the phase ramp and\n"
            "offset (keeping their values), and computes the Bragg density, the displacement\n"
            "u = -phi/|G| (Angstrom), the strain along G from the complex field, dislocation "
            "lines\n"
            "(phase vortices) and domains. Writes analysis.vti (orthonormal grid),\n"
            "analysis_sheared.vts, dislocations.vtp, density.tif, displacement.tif, density.png,\n"
            "displacement.png and summary.json into the output folder, all or nothing.\n"
            "Without geometry in the file give voxel_size= (nm) and d_spacing= (Angstrom).\n"
            "See docs/analysis.md.",
        .takes_input = 1,
        .needs_output = 1,
        .table = bcdi_analysis_param_table(),
    };
    bcdi_analysis_params params;
    cli_args args;
    int rc = cli_parse(&command, argc, argv, &args, &params, NULL);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    bcdi_analysis_frame frame;
    bcdi_analysis_result result = {0};
    bcdi_cxi_phased in = {0};
    if ((rc = cli_check_output("analyze", args.output, BCDI_OUTPUT_FOLDER)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        return rc;
    }
    /* the memory the analysis needs, from the object's shape, before the object is read */
    size_t declared[3];
    bcdi_status st = bcdi_cxi_result_shape(args.input, declared);
    if (st == BCDI_OK) {
        char how[160];
        snprintf(how, sizeof how, "an object of %zu x %zu x %zu voxels%s", declared[0], declared[1],
                 declared[2], params.orthogonalise ? " and its orthonormal grid" : "");
        st = bcdi_memory_check(bcdi_analysis_memory_estimate(&params, declared), params.max_memory,
                               "analyze", how, "raise max_memory= if the machine has more");
    }
    if (st == BCDI_OK) st = bcdi_cxi_read_result(args.input, 1, &in);
    const size_t *shape = in.shape;
    if (st == BCDI_OK && in.has_geometry && params.voxel_size_nm > 0.0)
        bcdi_log(BCDI_LOG_NOTICE, "'%s' has a geometry: voxel_size= is not used", args.input);
    if (st == BCDI_OK) {
        /* the basis of the grid the object was phased on, also when it was written cropped */
        st = bcdi_analysis_frame_make(in.has_geometry ? &in.geometry : NULL, in.data_shape, &params,
                                      &frame);
        if (st != BCDI_OK) st = bcdi_error_prefix(st, "'%s': ", args.input);
    }
    if (st == BCDI_OK) {
        st = bcdi_analysis_run(&params, &frame, shape, in.object, in.support, &result);
        if (st != BCDI_OK) st = bcdi_error_prefix(st, "'%s': ", args.input);
    }
    if (st == BCDI_OK)
        st = bcdi_analysis_write(&result, &params, args.input, args.output,
                                 bcdi_config_keys(args.config), bcdi_config_values(args.config),
                                 bcdi_config_count(args.config));
    if (st == BCDI_OK)
        bcdi_log(BCDI_LOG_INFO, "analyze: wrote %s/ (%s; the list is in summary.json)", args.output,
                 result.has_ortho ? "analysis.vti, analysis_sheared.vts, dislocations.vtp, "
                                    "density.tif, displacement.tif, density.png, displacement.png"
                                  : "analysis_sheared.vts, dislocations.vtp");
    bcdi_analysis_result_free(&result);
    bcdi_cxi_phased_free(&in);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("analyze", st);
}
