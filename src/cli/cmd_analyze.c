/* braggcdi analyze: a phased object (CXI result) -> density, displacement, strain, dislocation
 * lines, domains, lab-frame maps (VTK, TIFF, PNG) and summary.json. */
#include "cli.h"

#include "bcdi/analysis.h"
#include "bcdi/error.h"
#include "bcdi/log.h"
#include "io/cxi.h"
#include "io/h5io.h"

#include <stdlib.h>

/* The result's geometry if it has one (*has = 0 when the file holds no bcdi_geometry group). */
static bcdi_status read_geometry(const char *path, bcdi_geometry *g, int *has, int *has_mask)
{
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    *has = bcdi_h5_exists(r, "entry_1/bcdi_geometry");
    *has_mask = bcdi_h5_exists(r, "entry_1/image_1/mask");
    int has_object = bcdi_h5_exists(r, "entry_1/image_1/data");
    bcdi_h5_close(r);
    if (!has_object)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': no entry_1/image_1/data: not a phasing result (CXI object)", path);
    if (!*has) return BCDI_OK;
    return bcdi_cxi_read_geometry(path, g);
}

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
    bcdi_geometry geometry;
    bcdi_analysis_frame frame;
    bcdi_analysis_result result = {0};
    bcdi_cf *object = NULL;
    uint8_t *support = NULL;
    size_t shape[3];
    int has_geometry = 0, has_mask = 0;
    bcdi_status st = read_geometry(args.input, &geometry, &has_geometry, &has_mask);
    if (st == BCDI_OK)
        st = bcdi_cxi_read_object(args.input, shape, &object, has_mask ? &support : NULL);
    if (st == BCDI_OK && has_geometry && params.voxel_size_nm > 0.0)
        bcdi_log(BCDI_LOG_NOTICE, "'%s' has a geometry: voxel_size= is not used", args.input);
    if (st == BCDI_OK) {
        st = bcdi_analysis_frame_make(has_geometry ? &geometry : NULL, shape, &params, &frame);
        if (st != BCDI_OK) st = bcdi_error_prefix(st, "'%s': ", args.input);
    }
    if (st == BCDI_OK) {
        st = bcdi_analysis_run(&params, &frame, shape, object, support, &result);
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
    free(object);
    free(support);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("analyze", st);
}
