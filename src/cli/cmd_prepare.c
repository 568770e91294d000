/* braggcdi prepare: raw frames -> phasing-ready prepared data (CXI) + diffraction summary. */
#include "cli.h"

#include "bcdi/error.h"
#include "bcdi/prepare.h"

#include <stdio.h>

int cmd_prepare(int argc, char **argv)
{
    size_t spec_count = 0;
    const bcdi_param_spec *specs = bcdi_prepare_param_specs(&spec_count);
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
        .specs = specs,
        .spec_count = spec_count,
    };
    cli_args args;
    int rc = cli_parse(&command, argc, argv, &args);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    /* outputs checked before any frame is read: the CXI and its summary JSON, neither an input
     * (the calibration images included) nor each other */
    static const char *const file_keys[] = {"mask_file", "dark_file", "flat_file"};
    for (size_t k = 0; k < sizeof file_keys / sizeof *file_keys; ++k)
        bcdi_output_add_input(bcdi_config_string(args.config, file_keys[k]));
    char json[4200];
    const char *json_key = bcdi_config_string(args.config, "summary_json");
    bcdi_status st = BCDI_OK;
    if (json_key && json_key[0])
        snprintf(json, sizeof json, "%s", json_key);
    else
        st = bcdi_prepare_json_path(args.output, json, sizeof json);
    if (st == BCDI_OK && bcdi_output_same(json, args.output))
        st = bcdi_error(BCDI_ERR_CONFIG, "summary_json='%s' is the output '%s' itself", json,
                        args.output);
    if (st != BCDI_OK) {
        cli_args_free(&args);
        return cli_fail("prepare", st);
    }
    if ((rc = cli_check_output("prepare", args.output, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK ||
        (rc = cli_check_output("prepare", json, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        return rc;
    }
    st = bcdi_config_set(args.config, "output", args.output, "command line (-o)");
    bcdi_prepared prepared;
    if (st == BCDI_OK) st = bcdi_prepare_run(args.input, args.output, args.config, &prepared);
    if (st == BCDI_OK) {
        if (!args.quiet) bcdi_diffraction_summary_print(stdout, &prepared);
        bcdi_prepared_free(&prepared);
    }
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("prepare", st);
}
