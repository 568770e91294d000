/* Shared command-line handling for every subcommand:
 *   braggcdi <command> [input] [config.ini] [key=value ...] [-o OUT] [--device D] [--quiet]
 * Precedence: declared defaults < config file < key=value (and --device) on the command line. */
#ifndef BCDI_CLI_H
#define BCDI_CLI_H

#include "bcdi/config.h"

#include <stddef.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;     /* one line */
    const char *usage;       /* "braggcdi simulate [config.ini] [key=value ...] -o stack.nxs" */
    const char *description; /* a paragraph printed by --help */
    int takes_input;         /* first positional is an input file */
    int needs_output;        /* -o is required */
    const bcdi_param_spec *specs;
    size_t spec_count;
} cli_command;

typedef struct cli_args {
    const char *input;
    const char *config_path;
    const char *output;
    int quiet;
    int help;
    bcdi_config *config; /* merged; owned */
} cli_args;

/* Parse argv (argv[0] = the subcommand name). Returns CLI_EXIT_OK and a merged config, or
 * prints the problem to stderr and returns CLI_EXIT_USAGE; with --help it prints help and sets
 * args->help (the caller returns 0). */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *args);
void cli_args_free(cli_args *args);
void cli_print_help(const cli_command *cmd);

/* Log sink writing to stderr ("braggcdi: ..."); quiet hides info lines. */
void cli_install_logger(int quiet);
/* Print "braggcdi <command>: <status>: <detail>" to stderr and return CLI_EXIT_FAILURE
 * (CLI_EXIT_USAGE for configuration/argument errors). */
int cli_fail(const char *command, int status);

/* Restart the executable once with OMP_WAIT_POLICY=passive unless the user set it or
 * GOMP_SPINCOUNT (omp_wait.c says why); returns only when it does not restart. */
void cli_prefer_passive_openmp_waits(char **argv);

/* Subcommands. */
int cmd_simulate(int argc, char **argv);
int cmd_phase(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_compare(int argc, char **argv);

#endif
