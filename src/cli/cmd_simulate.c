/* braggcdi simulate: a synthetic crystal with known truth -> NeXus rocking stack + CXI truth. */
#include "cli.h"

#include "backend/backend.h"
#include "bcdi/error.h"
#include "bcdi/simulate.h"

int cmd_simulate(int argc, char **argv)
{
    size_t spec_count = 0;
    const bcdi_param_spec *specs = bcdi_simulate_param_specs(&spec_count);
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
        .specs = specs,
        .spec_count = spec_count,
    };
    cli_args args;
    int rc = cli_parse(&command, argc, argv, &args);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    bcdi_status st = bcdi_config_set(args.config, "output", args.output, "command line (-o)");
    bcdi_simulate_params params;
    if (st == BCDI_OK) st = bcdi_simulate_params_from_config(args.config, &params);
    /* the outputs, checked before the crystal is built */
    if (st == BCDI_OK &&
        ((rc = cli_check_output("simulate", args.output, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK ||
         (rc = cli_check_output("simulate", params.truth[0] ? params.truth : NULL,
                                BCDI_OUTPUT_FILE)) != CLI_EXIT_OK ||
         (rc = cli_check_output("simulate", params.tiff_dir[0] ? params.tiff_dir : NULL,
                                BCDI_OUTPUT_FOLDER)) != CLI_EXIT_OK)) {
        cli_args_free(&args);
        return rc;
    }
    if (st == BCDI_OK)
        st = bcdi_simulate_run(&params, NULL, bcdi_config_keys(args.config),
                               bcdi_config_values(args.config), bcdi_config_count(args.config));
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("simulate", st);
}
