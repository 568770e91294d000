/* braggcdi info FILE: what is in an HDF5 (NeXus, CXI) or TIFF file. */
#include "cli.h"

#include "bcdi/error.h"
#include "io/h5io.h"
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
    FILE *out = stdout;
    char tmp_path[4096] = "";
    if (args.output) {
        bcdi_status name_st = bcdi_io_temp_name(args.output, tmp_path, sizeof tmp_path);
        out = name_st == BCDI_OK ? fopen(tmp_path, "w") : NULL;
        if (!out) {
            bcdi_error(BCDI_ERR_IO, "cannot write '%s'", tmp_path);
            cli_args_free(&args);
            return cli_fail("info", BCDI_ERR_IO);
        }
    }
    bcdi_status st;
    if (tiff) {
        size_t pages = 0, rows = 0, cols = 0;
        bcdi_dtype type = BCDI_DT_F32;
        st = bcdi_tiff_info(args.input, &pages, &rows, &cols, &type);
        if (st == BCDI_OK)
            fprintf(out, "%s: TIFF, %zu page(s) of %zu rows x %zu columns, %s\n", args.input, pages,
                    rows, cols, bcdi_dtype_name(type));
    } else {
        st = bcdi_h5_describe(args.input, out);
    }
    if (args.output) {
        if (fclose(out) != 0 && st == BCDI_OK)
            st = bcdi_error(BCDI_ERR_IO, "cannot write '%s'", tmp_path);
        if (st == BCDI_OK && rename(tmp_path, args.output) != 0)
            st = bcdi_error(BCDI_ERR_IO, "cannot rename '%s' to '%s'", tmp_path, args.output);
        if (st != BCDI_OK) remove(tmp_path);
    }
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("info", st);
}
