/* braggcdi: one subcommand per pipeline stage (docs/architecture.md). */
#include "cli.h"

#include "core/interrupt.h"
#include "io/hdf5.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"simulate", cmd_simulate,
     "synthetic crystal -> rocking-curve stack (NeXus) + true object (CXI)"},
    {"prepare", cmd_prepare, "raw frames (NeXus/HDF5, TIFF, .npy, CXI) -> phasing-ready CXI"},
    {"phase", cmd_phase,
     "phase retrieval: ER/HIO/RAAR/DM, shrink-wrap, batched runs, guided seeding"},
    {"analyze", cmd_analyze, "phased object -> density, displacement, strain, dislocations, maps"},
    {"compare", cmd_compare,
     "states of one crystal (e.g. voltages) -> CSV/JSON, figures, HTML report"},
    {"info", cmd_info, "describe an HDF5/NeXus/CXI file"},
    {"bench", cmd_bench, "time batched FFT pairs on each backend, write JSON"},
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
        if (!strcmp(argv[1], subcommands[i].name)) return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "braggcdi: error: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return CLI_EXIT_USAGE;
}
