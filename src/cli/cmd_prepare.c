/* braggcdi prepare: raw frames -> phasing-ready prepared data (CXI) + diffraction summary. */
#include "cli.h"

#include "bcdi/error.h"
#include "bcdi/prepare.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_prepare(int argc, char **argv)
{
    const cli_command command = {
        .name = "prepare",
        .summary = "raw frames -> phasing-ready prepared data (CXI)",
        .usage = "braggcdi prepare <input> [config.ini] [key=value ...] -o prepared.cxi",
        .description =
            "Reads a rocking-curve stack (NeXus/HDF5 incl. LZ4/bitshuffle/blosc through HDF5's\n"
            "plugins, a folder/glob of TIFF frames, a multi-page TIFF, .npy or CXI) one region of\n"
            "one frame at a time; masks gaps, bad, saturated and invalid pixels and user boxes;\n"
            "subtracts the dark, divides by the white field, normalises by a monitor; finds the\n"
            "Bragg peak, crops an FFT-friendly box centred on it, bins, computes the geometry and\n"
            "a diffraction summary (printed, stored, and written as <output stem>_summary.json).\n"
            "See docs/prepare.md.",
        .takes_input = 1,
        .needs_output = 1,
        .table = bcdi_prepare_param_table(),
    };
    /* every key read and checked before the input is opened */
    bcdi_prepare_params *params = malloc(sizeof *params);
    if (!params) return cli_fail("prepare", bcdi_error(BCDI_ERR_NOMEM, "out of memory"));
    cli_args args;
    int rc = cli_parse(&command, argc, argv, &args, params, NULL);
    if (rc != CLI_EXIT_OK || args.help) {
        free(params);
        return rc;
    }
    cli_install_logger(args.quiet);
    bcdi_prepared prepared;
    bcdi_status st = bcdi_prepare_run(args.input, params, args.config, &prepared);
    if (st == BCDI_OK) {
        if (!args.quiet) bcdi_diffraction_summary_print(stdout, &prepared);
        bcdi_prepared_free(&prepared);
    }
    cli_args_free(&args);
    free(params);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("prepare", st);
}
