/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi phase prepared.cxi [config.ini] [key=value ...] -o result.cxi (the work is in
 * phase_job.c, shared with batch) */
#include "cli.h"
#include "stages.h"

#include "bcdi/error.h"
#include "bcdi/phasing_params.h"
#include "hpc/hpc.h"

static cli_command phase_command = {
    .name = "phase",
    .summary = "phase retrieval",
    .usage = "braggcdi phase prepared.cxi [config.ini] [key=value ...] -o result.cxi",
    .description =
        "Reconstructs the complex object from prepared data (CXI: entry_1/instrument_1/\n"
        "detector_1/data and mask) with ER/HIO/RAAR/DM from a recipe, shrink-wrap support\n"
        "updates, `runs` seeded starts batched on the backend, and optional guided seeding over\n"
        "`generations`. Writes the best run to the output; with keep > 1 also every kept run as\n"
        "<stem>-run<K>.cxi (K = rank, 1 = best). See docs/algorithms.md.",
    .takes_input = 1,
    .needs_output = 1,
};

int cmd_phase(int argc, char **argv)
{
    /* every key is read and checked here, before any data */
    phase_command.table = bcdi_phase_param_table();
    bcdi_phase_options options;
    cli_args args;
    int rc = cli_parse(&phase_command, argc, argv, &args, &options, NULL);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    /* under mpirun/srun: every rank phases its share of the runs, rank 0 writes */
    bcdi_hpc *world = cli_world();
    int rank = bcdi_hpc_rank(world);
    bcdi_hpc_bind_device(world, options.device, sizeof options.device);
    cli_phase_job job = {
        .input = args.input,
        .output = args.output,
        .options = &options,
        .config = args.config,
        .quiet = args.quiet,
        .label = "phase",
        .team = world,
    };
    /* the outputs checked before the data is read */
    bcdi_status st = rank == 0 ? cli_phase_check_outputs(&job) : BCDI_OK;
    st = bcdi_hpc_agree(world, st);
    if (st == BCDI_OK) st = cli_phase_run(&job);
    cli_args_free(&args);
    if (st == BCDI_OK) return CLI_EXIT_OK;
    /* every rank has the same error: rank 0 says it */
    return rank == 0 ? cli_fail("phase", st) : cli_exit_status(st);
}
