/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared command-line handling for every subcommand:
 *   braggcdi <command> [input] [config.ini] [key=value ...] [-o OUT] [--device D] [--quiet]
 * Precedence: declared defaults < config file < key=value (and --device) on the command line. */
#ifndef BCDI_CLI_H
#define BCDI_CLI_H

#include "bcdi/config.h"
#include "core/output.h"

#include <stddef.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;     /* one line */
    const char *usage;       /* "braggcdi simulate [config.ini] [key=value ...] -o stack.nxs" */
    const char *description; /* a paragraph printed by --help */
    int takes_input;         /* first positional is an input file */
    int needs_output;        /* -o is required */
    /* the keys: the stage's bound table, and optionally a second one (compare also takes
     * analyze's keys); cli_parse fills the matching parameter structs */
    const bcdi_param_table *table;
    const bcdi_param_table *extra_table;
} cli_command;

typedef struct cli_args {
    const char *input;
    const char *config_path;
    const char *output;
    int quiet;
    int help;
    bcdi_config *config;    /* merged; owned (provenance: every key with its value) */
    bcdi_param_spec *specs; /* both tables' keys, when there are two; owned */
} cli_args;

/* Parse argv (argv[0] = the subcommand name), then load and check every key into `params`
 * (cmd->table's struct) and `extra_params` (cmd->extra_table's, or NULL) before anything is
 * read. Returns CLI_EXIT_OK with the merged config, or prints the problem to stderr and returns
 * CLI_EXIT_USAGE; with --help it prints help and sets args->help (the caller returns 0). */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *args, void *params,
              void *extra_params);
/* The configuration part of cli_parse, for a command that walks its own argv (compare):
 * defaults < args->config_path < the assignments, device and -o given; sections of the other
 * subcommands skipped; both tables bound. Prints the problem and returns an exit code. */
int cli_configure(const cli_command *cmd, cli_args *args, const char *const *assignments,
                  size_t assignment_count, void *params, void *extra_params);
void cli_args_free(cli_args *args);
void cli_print_help(const cli_command *cmd);
/* The subcommands' names (main.c's table), the INI sections each of them skips when they are
 * not its own; NULL-terminated, static. */
const char *const *cli_section_names(void);

/* Log sink writing to stderr ("braggcdi: ..."); quiet hides info lines. */
void cli_install_logger(int quiet);
/* Print "braggcdi <command>: <status>: <detail>" to stderr and return CLI_EXIT_FAILURE
 * (CLI_EXIT_USAGE for configuration/argument errors; for an interrupted run, what was stopped
 * and 130 after SIGINT, 143 after SIGTERM or SIGUSR1). */
int cli_fail(const char *command, int status);
/* The exit status cli_fail returns for `status`, without printing (ranks other than 0). */
int cli_exit_status(int status);

/* Check an output before any work (core/output.h: its folder exists and is writable, an
 * existing target is of the right kind, it is not an input of the run). The input and config
 * file given to cli_parse are recorded as inputs there; commands record the other files they
 * read (bcdi_output_add_input) before calling this. CLI_EXIT_OK, or the failure reported
 * (NULL path: CLI_EXIT_OK). */
int cli_check_output(const char *command, const char *path, bcdi_output_kind kind);

/* Record as inputs (bcdi_output_add_input) every file `prepare` reads from `input` with
 * `params`: the input, the calibration images and .spec the keys name, and where the input is
 * a dataset folder every file in it (the .spec and calibration images prepare may take from
 * there). cmd_prepare.c. */
struct bcdi_prepare_params;
void cli_prepare_add_inputs(const char *input, const struct bcdi_prepare_params *params);

/* Restart the executable once with OMP_WAIT_POLICY=passive unless the user set it or
 * GOMP_SPINCOUNT (omp_wait.c says why); returns only when it does not restart. */
void cli_prefer_passive_openmp_waits(char **argv);

/* The ranks this process runs with (src/hpc/hpc.h): started by main before the subcommand; a
 * world of one without an MPI launch. */
struct bcdi_hpc *cli_world(void);

/* Subcommands. */
int cmd_simulate(int argc, char **argv);
int cmd_phase(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_batch(int argc, char **argv);

#endif
