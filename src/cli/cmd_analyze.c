/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi analyze: a phased object (CXI result) -> density, displacement, strain, dislocation
 * lines, domains, lab-frame maps (VTK, TIFF, PNG) and summary.json. */
#include "cli.h"
#include "stages.h"

#include "bcdi/analysis.h"
#include "bcdi/error.h"

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
            "displacement.png, strain.png and summary.json into the output folder, all or "
            "nothing.\n"
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
    if ((rc = cli_check_output("analyze", args.output, BCDI_OUTPUT_FOLDER)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        return rc;
    }
    bcdi_status st = cli_analyze_run(args.input, args.output, &params, args.config);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("analyze", st);
}
