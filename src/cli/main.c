/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi: one subcommand per pipeline stage (docs/architecture.md). */
#include "cli.h"

#include "core/interrupt.h"
#include "hpc/hpc.h"
#include "io/hdf5.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int ranks; /* runs on several MPI ranks (the others write one output from one process) */
} subcommand;

static const subcommand subcommands[] = {
    {"simulate", cmd_simulate,
     "synthetic crystal -> rocking-curve stack (NeXus) + true object (CXI)", 0},
    {"prepare", cmd_prepare, "raw frames (NeXus/HDF5, TIFF, .npy, CXI) -> phasing-ready CXI", 0},
    {"phase", cmd_phase,
     "phase retrieval: ER/HIO/RAAR/DM, shrink-wrap, batched runs, guided seeding", 1},
    {"analyze", cmd_analyze, "phased object -> density, displacement, strain, dislocations, maps",
     0},
    {"compare", cmd_compare,
     "states of one crystal (e.g. voltages) -> CSV/JSON, figures, HTML report", 0},
    {"batch", cmd_batch,
     "a series of scans from one manifest: prepare, phase, analyze each, compare them", 1},
    {"info", cmd_info, "describe an HDF5/NeXus/CXI file", 0},
    {"bench", cmd_bench, "time batched FFT pairs on each backend, write JSON", 0},
};

#define SUBCOMMAND_COUNT (sizeof subcommands / sizeof *subcommands)

const char *const *cli_section_names(void)
{
    static const char *names[SUBCOMMAND_COUNT + 1];
    for (size_t i = 0; i < SUBCOMMAND_COUNT; ++i)
        names[i] = subcommands[i].name;
    return names;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "braggcdi %s: Bragg coherent diffraction imaging reconstruction\n\n"
            "usage: braggcdi <command> [input] [config.ini] [key=value ...] -o OUTPUT\n\n"
            "commands:\n",
            BCDI_VERSION);
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; ++i)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\n'braggcdi <command> --help' lists a command's keys and defaults.\n");
}

static bcdi_hpc *world;

bcdi_hpc *cli_world(void)
{
    return world;
}

/* MPI around the subcommand: started when a launcher made several ranks (hpc.h); a command that
 * writes its output from one process refuses to run on several. */
static int run_subcommand(const subcommand *cmd, int argc, char **argv)
{
    /* batch's rank 0 answers the other ranks from a second thread */
    bcdi_status st = bcdi_hpc_start(&argc, &argv, !strcmp(cmd->name, "batch"), &world);
    if (st != BCDI_OK) {
        fprintf(stderr, "braggcdi %s: error: %s\n", cmd->name, bcdi_last_error());
        return CLI_EXIT_FAILURE;
    }
    int rc;
    if (!cmd->ranks && bcdi_hpc_size(world) > 1) {
        if (bcdi_hpc_rank(world) == 0)
            fprintf(stderr,
                    "braggcdi %s: error: runs as one process (%d ranks were started); only phase "
                    "and batch use several\n",
                    cmd->name, bcdi_hpc_size(world));
        rc = CLI_EXIT_USAGE;
    } else {
        /* ranks sharing a node's CPUs take a share each (hpc.h); a GPU each is bound later */
        if (bcdi_hpc_size(world) > 1) bcdi_hpc_share_cpus(world);
        rc = cmd->run(argc - 1, argv + 1);
    }
    bcdi_hpc_finish(world);
    return rc;
}

int main(int argc, char **argv)
{
    cli_prefer_passive_openmp_waits(argv);
    bcdi_h5_process_init(); /* before any HDF5 use: no exit handler to crash after a full disk */
    bcdi_interrupt_install();
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("braggcdi %s\n", BCDI_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; ++i)
        if (!strcmp(argv[1], subcommands[i].name))
            return run_subcommand(&subcommands[i], argc, argv);
    fprintf(stderr, "braggcdi: error: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return CLI_EXIT_USAGE;
}
