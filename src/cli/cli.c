/* SPDX-License-Identifier: BSD-3-Clause */
#include "cli.h"

#include "bcdi/error.h"
#include "bcdi/log.h"
#include "core/interrupt.h"
#include "core/output.h"
#include "hpc/hpc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_quiet, log_rank = -1;

static void stderr_sink(bcdi_log_level level, const char *message, void *user)
{
    (void)user;
    if (level == BCDI_LOG_DEBUG) return;
    if (level == BCDI_LOG_INFO && log_quiet) return;
    /* under MPI the other ranks say only their warnings, each with its rank */
    if (log_rank > 0 && level != BCDI_LOG_WARN) return;
    const char *tag = level == BCDI_LOG_WARN ? "warning: " : "";
    if (log_rank > 0)
        fprintf(stderr, "braggcdi: rank %d: %s%s\n", log_rank, tag, message);
    else
        fprintf(stderr, "braggcdi: %s%s\n", tag, message);
}

void cli_install_logger(int quiet)
{
    log_quiet = quiet;
    bcdi_hpc *world = cli_world();
    log_rank = bcdi_hpc_size(world) > 1 ? bcdi_hpc_rank(world) : -1;
    bcdi_set_log_sink(stderr_sink, NULL);
}

int cli_exit_status(int status)
{
    if (status == BCDI_OK) return CLI_EXIT_OK;
    if (status == BCDI_ERR_INTERRUPTED) {
        int signal_number = bcdi_interrupted();
        return bcdi_interrupt_exit_status(signal_number ? signal_number : SIGTERM);
    }
    if (status == BCDI_ERR_CONFIG || status == BCDI_ERR_INVALID_ARG) return CLI_EXIT_USAGE;
    return CLI_EXIT_FAILURE;
}

int cli_fail(const char *command, int status)
{
    const char *detail = bcdi_last_error();
    if (status == BCDI_ERR_INTERRUPTED) {
        /* the detail says what was stopped; every transaction was aborted on the way out */
        fprintf(stderr, "braggcdi %s: %s; no output written, temporaries removed\n", command,
                detail[0] ? detail : "interrupted");
        return cli_exit_status(status);
    }
    fprintf(stderr, "braggcdi %s: error: %s%s%s\n", command, bcdi_strerror((bcdi_status)status),
            detail[0] ? ": " : "", detail);
    return cli_exit_status(status);
}

static void print_keys(const bcdi_param_table *table)
{
    char accepts[512];
    for (size_t i = 0; i < table->count; ++i) {
        const bcdi_param_spec *s = &table->specs[i];
        char head[160];
        snprintf(head, sizeof head, "%s = %s", s->key,
                 s->default_value ? (s->default_value[0] ? s->default_value : "\"\"") : "(none)");
        /* a long default (the simulator's facets) gets its own line */
        if (strlen(head) > 30)
            printf("  %s\n  %-30s %s\n", head, "", bcdi_param_describe(s, accepts, sizeof accepts));
        else
            printf("  %-30s %s\n", head, bcdi_param_describe(s, accepts, sizeof accepts));
        if (s->help) printf("      %s\n", s->help);
    }
}

void cli_print_help(const cli_command *cmd)
{
    printf("usage: %s\n\n%s\n\n", cmd->usage, cmd->description);
    printf("options:\n"
           "  -o, --output PATH   %s\n"
           "  --device D          auto|cpu|cuda|cuda:N (same as device=D)\n"
           "  -q, --quiet         only warnings and errors\n"
           "  -h, --help          this help\n"
           "  --version           print the version\n\n",
           cmd->needs_output ? "output (required)" : "output (optional)");
    if (!cmd->table || !cmd->table->count) return;
    printf("keys (config file or key=value; the command line wins), each as\n"
           "  key = default              what it accepts\n\n");
    print_keys(cmd->table);
    if (cmd->extra_table) print_keys(cmd->extra_table);
}

static int has_key(const cli_command *cmd, const char *key)
{
    const bcdi_param_table *tables[2] = {cmd->table, cmd->extra_table};
    for (int t = 0; t < 2; ++t)
        for (size_t i = 0; tables[t] && i < tables[t]->count; ++i)
            if (strcmp(tables[t]->specs[i].key, key) == 0) return 1;
    return 0;
}

/* The folder an output goes into must exist: say so before any input is read. */
static int check_output_folder(const cli_command *cmd, const char *output)
{
    char folder[4096];
    size_t len = strlen(output);
    while (len > 1 && output[len - 1] == '/') /* "outdir/" names the folder outdir */
        --len;
    if (len >= sizeof folder) return CLI_EXIT_OK; /* the writer reports such a path */
    memcpy(folder, output, len);
    folder[len] = '\0';
    char *slash = strrchr(folder, '/');
    if (!slash) return CLI_EXIT_OK; /* the working directory */
    if (slash == folder)
        slash[1] = '\0';
    else
        *slash = '\0';
    struct stat st;
    if (stat(folder, &st) == 0 && S_ISDIR(st.st_mode)) return CLI_EXIT_OK;
    fprintf(stderr, "braggcdi %s: error: cannot create the output folder or file '%s': '%s' %s\n",
            cmd->name, output, folder,
            stat(folder, &st) == 0 ? "is not a folder" : "does not exist");
    return CLI_EXIT_USAGE;
}

int cli_configure(const cli_command *cmd, cli_args *args, const char *const *assignments,
                  size_t assignment_count, void *params, void *extra_params)
{
    const bcdi_param_spec *specs = cmd->table->specs;
    size_t count = cmd->table->count;
    if (cmd->extra_table) { /* one config over both tables' keys */
        count += cmd->extra_table->count;
        args->specs = malloc(count * sizeof *args->specs);
        if (!args->specs) {
            fprintf(stderr, "braggcdi %s: error: out of memory\n", cmd->name);
            return CLI_EXIT_FAILURE;
        }
        memcpy(args->specs, cmd->table->specs, cmd->table->count * sizeof *args->specs);
        memcpy(args->specs + cmd->table->count, cmd->extra_table->specs,
               cmd->extra_table->count * sizeof *args->specs);
        specs = args->specs;
    }
    if (args->output) {
        int rc = check_output_folder(cmd, args->output);
        if (rc != CLI_EXIT_OK) return rc;
    }
    bcdi_status st = bcdi_config_create(cmd->name, specs, count, &args->config);
    if (st == BCDI_OK) {
        bcdi_config_skip_sections(args->config, cli_section_names());
        if (cmd->extra_table && strcmp(cmd->extra_table->section, cmd->name) != 0) {
            /* compare takes analyze's keys: an [analyze] section applies below [compare] */
            static const char *also[2];
            also[0] = cmd->extra_table->section;
            bcdi_config_also_sections(args->config, also);
        }
    }
    if (st == BCDI_OK && args->config_path)
        st = bcdi_config_load_ini(args->config, args->config_path);
    for (size_t k = 0; st == BCDI_OK && k < assignment_count; ++k)
        st = bcdi_config_override(args->config, assignments[k]);
    if (st == BCDI_OK && args->output && has_key(cmd, "output"))
        st = bcdi_config_set(args->config, "output", args->output, "command line (-o)");
    if (st == BCDI_OK) st = bcdi_config_bind(args->config, cmd->table, params);
    if (st == BCDI_OK && cmd->extra_table)
        st = bcdi_config_bind(args->config, cmd->extra_table, extra_params);
    if (st != BCDI_OK) {
        bcdi_config_free(args->config);
        args->config = NULL;
        return cli_fail(cmd->name, st);
    }
    return CLI_EXIT_OK;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *args, void *params,
              void *extra_params)
{
    memset(args, 0, sizeof *args);
    const char **overrides = calloc((size_t)argc + 2, sizeof *overrides);
    char *device_override = NULL;
    size_t n_over = 0;
    int rc = CLI_EXIT_OK;
    if (!overrides) return CLI_EXIT_FAILURE;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_print_help(cmd);
            args->help = 1;
            goto done;
        } else if (!strcmp(a, "--version")) {
            printf("braggcdi %s\n", BCDI_VERSION);
            args->help = 1;
            goto done;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            args->quiet = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "braggcdi %s: error: %s needs a path\n", cmd->name, a);
                rc = CLI_EXIT_USAGE;
                goto done;
            }
            args->output = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            args->output = a + 9;
        } else if (!strcmp(a, "--device") || !strncmp(a, "--device=", 9)) {
            const char *value = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value || !*value) {
                fprintf(stderr,
                        "braggcdi %s: error: --device needs a value (auto|cpu|cuda|cuda:N)\n",
                        cmd->name);
                rc = CLI_EXIT_USAGE;
                goto done;
            }
            if (!has_key(cmd, "device")) {
                fprintf(stderr, "braggcdi %s: error: this command does not use a device\n",
                        cmd->name);
                rc = CLI_EXIT_USAGE;
                goto done;
            }
            free(device_override);
            device_override = malloc(strlen(value) + 8);
            if (!device_override) {
                rc = CLI_EXIT_FAILURE;
                goto done;
            }
            sprintf(device_override, "device=%s", value);
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "braggcdi %s: error: unknown option '%s' (see --help)\n", cmd->name, a);
            rc = CLI_EXIT_USAGE;
            goto done;
        } else if (strchr(a, '=') && !(cmd->takes_input && !args->input && access(a, F_OK) == 0)) {
            overrides[n_over++] = a;
        } else if (cmd->takes_input && !args->input) {
            args->input = a;
        } else if (!args->config_path) {
            args->config_path = a;
        } else {
            fprintf(stderr,
                    "braggcdi %s: error: unexpected argument '%s' (config file already given as "
                    "'%s'; overrides are key=value)\n",
                    cmd->name, a, args->config_path);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    if (cmd->takes_input && !args->input) {
        fprintf(stderr, "braggcdi %s: error: missing input file\nusage: %s\n", cmd->name,
                cmd->usage);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    /* what this run reads: no output may resolve to it (core/output.h) */
    bcdi_output_add_input(args->input);
    bcdi_output_add_input(args->config_path);
    if (cmd->needs_output && !args->output) {
        fprintf(stderr, "braggcdi %s: error: missing -o/--output\nusage: %s\n", cmd->name,
                cmd->usage);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    /* --device comes last: it wins over device= like the command line over the file */
    if (device_override) overrides[n_over++] = device_override;
    rc = cli_configure(cmd, args, overrides, n_over, params, extra_params);
done:
    free(overrides);
    free(device_override);
    if (rc != CLI_EXIT_OK || args->help) cli_args_free(args);
    return rc;
}

int cli_check_output(const char *command, const char *path, bcdi_output_kind kind)
{
    if (!path) return CLI_EXIT_OK;
    bcdi_status st = bcdi_output_check(path, kind);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail(command, st);
}

void cli_args_free(cli_args *args)
{
    bcdi_config_free(args->config);
    args->config = NULL;
    free(args->specs);
    args->specs = NULL;
}
