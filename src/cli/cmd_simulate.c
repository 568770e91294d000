/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi simulate: a synthetic crystal with known truth -> NeXus rocking stack + CXI truth. */
#include "cli.h"

#include "backend/backend.h"
#include "bcdi/error.h"
#include "bcdi/simulate.h"

#include <stdlib.h>

int cmd_simulate(int argc, char **argv)
{
    const cli_command command = {
        .name = "simulate",
        .summary = "synthetic BCDI data",
        .usage = "braggcdi simulate [config.ini] [key=value ...] -o stack.nxs",
        .description =
            "Builds a complex crystal rho = s*exp(i*phi) (faceted polyhedron, ellipsoid or box;\n"
            "domains with small tilts; screw/edge dislocation lines; uniform strain), computes "
            "its\n"
            "rocking-curve intensities on the detector-conjugate grid of the beamline geometry,\n"
            "adds Poisson noise and Excalibur detector effects, and writes the stack as NeXus\n"
            "(Diamond I13-1 layout) plus the true object as CXI (<output stem>_truth.cxi unless\n"
            "truth= is given). Deterministic for a seed. See docs/simulate.md.",
        .takes_input = 0,
        .needs_output = 1,
        .table = bcdi_simulate_param_table(),
    };
    /* large (fixed facet and line arrays): on the heap */
    bcdi_simulate_params *params = malloc(sizeof *params);
    if (!params) return cli_fail("simulate", bcdi_error(BCDI_ERR_NOMEM, "out of memory"));
    cli_args args;
    int rc = cli_parse(&command, argc, argv, &args, params, NULL);
    if (rc != CLI_EXIT_OK || args.help) {
        free(params);
        return rc;
    }
    cli_install_logger(args.quiet);
    /* the outputs, checked before the crystal is built */
    if ((rc = cli_check_output("simulate", args.output, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK ||
        (rc = cli_check_output("simulate", params->truth[0] ? params->truth : NULL,
                               BCDI_OUTPUT_FILE)) != CLI_EXIT_OK ||
        (rc = cli_check_output("simulate", params->tiff_dir[0] ? params->tiff_dir : NULL,
                               BCDI_OUTPUT_FOLDER)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        free(params);
        return rc;
    }
    bcdi_status st =
        bcdi_simulate_run(params, NULL, bcdi_config_keys(args.config),
                          bcdi_config_values(args.config), bcdi_config_count(args.config));
    cli_args_free(&args);
    free(params);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("simulate", st);
}
