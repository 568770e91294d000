/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi info FILE: what is in an HDF5 (NeXus, CXI) or TIFF file. */
#include "cli.h"

#include "bcdi/error.h"
#include "io/describe.h"
#include "core/output.h"
#include "io/hdf5.h"
#include "io/tiff_io.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum { INFO_AUTO = 0, INFO_HDF5, INFO_TIFF } info_format;
typedef struct {
    info_format format;
} info_params;

static const char *const format_names[] = {"auto", "hdf5", "tiff", NULL};

static const bcdi_param_spec info_specs[] = {
    BCDI_KEY_CHOICE("format", info_params, format, "auto", format_names, NULL,
                    "how to read the input (auto: TIFF for .tif/.tiff names, else HDF5)"),
};

static const bcdi_param_table info_table = {
    "info", info_specs, sizeof info_specs / sizeof *info_specs, sizeof(info_params), NULL,
};

static const cli_command info_command = {
    .name = "info",
    .summary = "describe a file",
    .usage = "braggcdi info FILE [key=value ...] [-o report.txt]",
    .description =
        "Lists the groups and datasets of an HDF5 file (shape, type, units, small values)\n"
        "and recognises braggcdi's layouts: NeXus I13-1 rocking stacks, CXI prepared data\n"
        "and CXI results. For a TIFF, prints the page count, size and pixel type.",
    .takes_input = 1,
    .needs_output = 0,
    .table = &info_table,
};

static int is_tiff_name(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && !strcasecmp(path + n - 4, ".tif")) ||
           (n > 5 && !strcasecmp(path + n - 5, ".tiff"));
}

int cmd_info(int argc, char **argv)
{
    info_params params;
    cli_args args;
    int rc = cli_parse(&info_command, argc, argv, &args, &params, NULL);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    int tiff =
        params.format == INFO_TIFF || (params.format == INFO_AUTO && is_tiff_name(args.input));
    if ((rc = cli_check_output("info", args.output, BCDI_OUTPUT_FILE)) != CLI_EXIT_OK) {
        cli_args_free(&args);
        return rc;
    }
    FILE *out = stdout;
    bcdi_output *tx = NULL;
    bcdi_status st = BCDI_OK;
    if (args.output && (st = bcdi_output_begin(&tx)) == BCDI_OK)
        st = bcdi_output_fopen(tx, args.output, &out);
    if (st == BCDI_OK && tiff) {
        size_t pages = 0, rows = 0, cols = 0;
        bcdi_dtype type = BCDI_DT_F32;
        st = bcdi_tiff_info(args.input, &pages, &rows, &cols, &type);
        if (st == BCDI_OK)
            fprintf(out, "%s: TIFF, %zu page(s) of %zu rows x %zu columns, %s\n", args.input, pages,
                    rows, cols, bcdi_dtype_name(type));
    } else if (st == BCDI_OK) {
        st = bcdi_io_describe_hdf5(args.input, out);
    }
    st = bcdi_output_finish(tx, st);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("info", st);
}
