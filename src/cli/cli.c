#include "cli.h"

#include "bcdi/error.h"
#include "bcdi/log.h"
#include "core/interrupt.h"
#include "core/output.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int log_quiet;

static void stderr_sink(bcdi_log_level level, const char *message, void *user)
{
    (void)user;
    if (level == BCDI_LOG_DEBUG) return;
    if (level == BCDI_LOG_INFO && log_quiet) return;
    const char *tag = level == BCDI_LOG_WARN ? "warning: " : "";
    fprintf(stderr, "braggcdi: %s%s\n", tag, message);
}

void cli_install_logger(int quiet)
{
    log_quiet = quiet;
    bcdi_set_log_sink(stderr_sink, NULL);
}

int cli_fail(const char *command, int status)
{
    const char *detail = bcdi_last_error();
    if (status == BCDI_ERR_INTERRUPTED) {
        /* the detail says what was stopped; every transaction was aborted on the way out */
        fprintf(stderr, "braggcdi %s: %s; no output written, temporaries removed\n", command,
                detail[0] ? detail : "interrupted");
        int signal_number = bcdi_interrupted();
        return bcdi_interrupt_exit_status(signal_number ? signal_number : SIGTERM);
    }
    fprintf(stderr, "braggcdi %s: error: %s%s%s\n", command, bcdi_strerror((bcdi_status)status),
            detail[0] ? ": " : "", detail);
    if (status == BCDI_ERR_CONFIG || status == BCDI_ERR_INVALID_ARG) return CLI_EXIT_USAGE;
    return CLI_EXIT_FAILURE;
}

static const char *type_name(bcdi_param_type t)
{
    switch (t) {
    case BCDI_PARAM_STRING:
        return "text";
    case BCDI_PARAM_INT:
        return "integer";
    case BCDI_PARAM_DOUBLE:
        return "number";
    case BCDI_PARAM_BOOL:
        return "bool";
    case BCDI_PARAM_LIST:
        return "list";
    }
    return "?";
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
    if (!cmd->spec_count) return;
    printf("keys (config file or key=value; the command line wins):\n");
    for (size_t i = 0; i < cmd->spec_count; ++i) {
        const bcdi_param_spec *s = &cmd->specs[i];
        printf("  %-20s %-8s default %-14s %s\n", s->key, type_name(s->type),
               s->default_value ? s->default_value : "(none)", s->help ? s->help : "");
    }
}

static int has_key(const cli_command *cmd, const char *key)
{
    for (size_t i = 0; i < cmd->spec_count; ++i)
        if (strcmp(cmd->specs[i].key, key) == 0) return 1;
    return 0;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *args)
{
    memset(args, 0, sizeof *args);
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
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
    bcdi_status st = bcdi_config_create(cmd->name, cmd->specs, cmd->spec_count, &args->config);
    if (st == BCDI_OK && args->config_path)
        st = bcdi_config_load_ini(args->config, args->config_path);
    for (size_t k = 0; st == BCDI_OK && k < n_over; ++k)
        st = bcdi_config_override(args->config, overrides[k]);
    if (st == BCDI_OK && device_override) st = bcdi_config_override(args->config, device_override);
    if (st != BCDI_OK) rc = cli_fail(cmd->name, st);
done:
    free(overrides);
    free(device_override);
    if (rc != CLI_EXIT_OK || args->help) {
        bcdi_config_free(args->config);
        args->config = NULL;
    }
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
}
