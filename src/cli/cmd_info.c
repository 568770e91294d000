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

static const bcdi_param_spec info_specs[] = {
    {"format", BCDI_PARAM_STRING, "auto", "auto|hdf5|tiff: how to read the input"},
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
    .specs = info_specs,
    .spec_count = sizeof info_specs / sizeof *info_specs,
};

static int is_tiff_name(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && !strcasecmp(path + n - 4, ".tif")) ||
           (n > 5 && !strcasecmp(path + n - 5, ".tiff"));
}

int cmd_info(int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(&info_command, argc, argv, &args);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    const char *format = bcdi_config_string(args.config, "format");
    int tiff = !strcmp(format, "tiff") || (!strcmp(format, "auto") && is_tiff_name(args.input));
    if (strcmp(format, "auto") && strcmp(format, "tiff") && strcmp(format, "hdf5")) {
        bcdi_error(BCDI_ERR_CONFIG, "key 'format' expects auto, hdf5 or tiff, found '%s'", format);
        cli_args_free(&args);
        return cli_fail("info", BCDI_ERR_CONFIG);
    }
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
