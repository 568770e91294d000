/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi prepare: raw frames -> phasing-ready prepared data (CXI) + diffraction summary. */
#include "cli.h"

#include "bcdi/error.h"
#include "bcdi/prepare.h"
#include "core/output.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void cli_prepare_add_inputs(const char *input, const bcdi_prepare_params *params)
{
    bcdi_output_add_input(input);
    const char *named[] = {params->mask_file, params->dark_file, params->flat_file,
                           params->spec_file};
    for (size_t k = 0; k < sizeof named / sizeof *named; ++k)
        if (named[k][0] && strcmp(named[k], "none")) bcdi_output_add_input(named[k]);
    /* a dataset folder: prepare may read any file beside its frames/ (the .spec, the dark and
     * white-field images it finds there), so none of them may be an output */
    char frames[PATH_MAX];
    if (!input || !bcdi_prepare_dataset_frames(input, frames, sizeof frames)) return;
    DIR *dir = opendir(input);
    if (!dir) return;
    for (struct dirent *e; (e = readdir(dir));) {
        char path[PATH_MAX];
        struct stat st;
        int len = snprintf(path, sizeof path, "%s/%s", input, e->d_name);
        if (len > 0 && (size_t)len < sizeof path && !stat(path, &st) && S_ISREG(st.st_mode))
            bcdi_output_add_input(path);
    }
    closedir(dir);
}

int cmd_prepare(int argc, char **argv)
{
    const cli_command command = {
        .name = "prepare",
        .summary = "raw frames -> phasing-ready prepared data (CXI)",
        .usage = "braggcdi prepare <input> [config.ini] [key=value ...] -o prepared.cxi",
        .description =
            "Reads a rocking-curve stack (NeXus/HDF5 incl. LZ4/bitshuffle/blosc through HDF5's\n"
            "plugins, a folder/glob of TIFF frames, a multi-page TIFF, .npy, .mat or CXI) one\n"
            "region of one frame at a time (axes= says which stored axis is the rocking one);\n"
            "takes the geometry from a beamline preset and the scan's SPEC metadata (a .spec\n"
            "beside the frames is found; typed keys win); masks gaps, bad, saturated and invalid\n"
            "pixels and user boxes;\n"
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
    /* outputs checked before any frame is read: the CXI and its summary JSON, neither an input
     * (the calibration images included) nor each other */
    cli_prepare_add_inputs(args.input, params);
    char json[4200];
    bcdi_status st = BCDI_OK;
    if (params->summary_json[0])
        snprintf(json, sizeof json, "%s", params->summary_json);
    else
        st = bcdi_prepare_json_path(args.output, json, sizeof json);
    if (st == BCDI_OK && bcdi_output_same(json, args.output))
        st = bcdi_error(BCDI_ERR_CONFIG, "summary_json='%s' is the output '%s' itself", json,
                        args.output);
    if (st != BCDI_OK) {
        cli_args_free(&args);
        free(params);
        return cli_fail("prepare", st);
    }
    if ((rc = cli_check_output("prepare", args.output, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK ||
        (rc = cli_check_output("prepare", json, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        free(params);
        return rc;
    }
    bcdi_prepared prepared;
    st = bcdi_prepare_run(args.input, params, args.config, &prepared);
    if (st == BCDI_OK) {
        if (!args.quiet) bcdi_diffraction_summary_print(stdout, &prepared);
        bcdi_prepared_free(&prepared);
    }
    cli_args_free(&args);
    free(params);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("prepare", st);
}
