/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi compare: states of one crystal (result .cxi files or analysed folders, each with an
 * optional =label) -> comparison.csv/.json, slices.png, trends.png and index.html.
 *
 * The arguments are walked here rather than by cli_parse because there are several inputs, each
 * of which may carry "=label" (labels may hold spaces and units: "r1.cxi=2.7 V"). An argument
 * "key=value" whose key is a known key is a setting; "summary=PATH" belongs to the state just
 * before it; an existing *.ini file is the config file; anything else names a state. The keys
 * then load like every other command's (cli_configure: defaults < config file < key=value). */
#include "cli.h"

#include "bcdi/analysis.h"
#include "bcdi/compare.h"
#include "bcdi/error.h"
#include "bcdi/log.h"
#include "core/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_key(const bcdi_param_table *table, const char *key, size_t len)
{
    for (size_t i = 0; i < table->count; ++i)
        if (strlen(table->specs[i].key) == len && strncmp(table->specs[i].key, key, len) == 0)
            return 1;
    return 0;
}

/* A config file: an existing regular file named *.ini (states are .cxi files or folders). */
static int is_config_file(const char *arg)
{
    size_t n = strlen(arg);
    struct stat st;
    return n > 4 && !strcmp(arg + n - 4, ".ini") && stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

typedef struct state_arg {
    char *path;
    const char *label;
    const char *summary;
} state_arg;

int cmd_compare(int argc, char **argv)
{
    const bcdi_param_table *compare_table = bcdi_compare_param_table();
    const bcdi_param_table *analysis_table = bcdi_analysis_param_table();
    state_arg *states = calloc((size_t)argc + 1, sizeof *states);
    const char **settings = calloc((size_t)argc + 1, sizeof *settings);
    if (!states || !settings) {
        free(states), free(settings);
        fprintf(stderr, "braggcdi compare: error: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    const cli_command command = {
        .name = "compare",
        .summary = "compare states of one crystal",
        .usage = "braggcdi compare STATE[=label] [summary=PATH] STATE[=label] ... [config.ini] "
                 "[key=value ...] -o report/",
        .description =
            "Compares states of one crystal (e.g. at several battery voltages). A STATE is a\n"
            "phasing result (.cxi) or a folder written by 'braggcdi analyze' (its result is\n"
            "analysed again with the folder's parameters); '=label' names it (spaces and units\n"
            "are fine: \"r1.cxi=2.7 V\"). Results are analysed with the analyze keys below.\n"
            "Every state is aligned to the reference (twin by density correlation, sub-voxel DFT\n"
            "registration of the density, common phase offset); per state: volume, domains,\n"
            "displacement/strain statistics, dislocations (matched: unchanged, moved, appeared,\n"
            "vanished), difference maps on the common support, and the lattice from prepare's\n"
            "diffraction summary (summary=PATH after a state, else found next to the result).\n"
            "Writes comparison.csv, comparison.json, slices.png, trends.png and index.html into\n"
            "the output folder, all or nothing. A config file (*.ini) gives keys like for every\n"
            "command: keys outside any section, in [compare] and (below [compare]) in [analyze]\n"
            "apply; key=value on the command line wins. See docs/compare.md.",
        .takes_input = 0,
        .needs_output = 1,
        .table = compare_table,
        .extra_table = analysis_table,
    };
    cli_args args;
    memset(&args, 0, sizeof args);
    int rc = CLI_EXIT_OK;
    size_t n_states = 0, n_settings = 0;
    for (int i = 1; i < argc && rc == CLI_EXIT_OK; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_print_help(&command);
            free(states), free(settings);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--version")) {
            printf("braggcdi %s\n", BCDI_VERSION);
            free(states), free(settings);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            args.quiet = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "braggcdi compare: error: %s needs a folder\n", a);
                rc = CLI_EXIT_USAGE;
            } else {
                args.output = argv[++i];
            }
        } else if (!strncmp(a, "--output=", 9)) {
            args.output = a + 9;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "braggcdi compare: error: unknown option '%s' (see --help)\n", a);
            rc = CLI_EXIT_USAGE;
        } else if (!strncmp(a, "summary=", 8)) {
            if (!n_states) {
                fprintf(stderr,
                        "braggcdi compare: error: '%s' must follow the state it belongs "
                        "to\n",
                        a);
                rc = CLI_EXIT_USAGE;
            } else {
                states[n_states - 1].summary = a + 8;
            }
        } else if (is_config_file(a)) {
            if (args.config_path) {
                fprintf(stderr,
                        "braggcdi compare: error: '%s': config file already given as '%s'\n", a,
                        args.config_path);
                rc = CLI_EXIT_USAGE;
            }
            args.config_path = a;
        } else {
            const char *eq = strchr(a, '=');
            if (eq && access(a, F_OK) != 0 &&
                (is_key(compare_table, a, (size_t)(eq - a)) ||
                 is_key(analysis_table, a, (size_t)(eq - a)))) {
                settings[n_settings++] = a;
                continue;
            }
            state_arg *s = &states[n_states++];
            if (eq && access(a, F_OK) != 0) { /* "path=label" */
                s->path = malloc((size_t)(eq - a) + 1);
                if (s->path) {
                    memcpy(s->path, a, (size_t)(eq - a));
                    s->path[eq - a] = '\0';
                }
                s->label = eq + 1;
            } else {
                s->path = malloc(strlen(a) + 1);
                if (s->path) strcpy(s->path, a);
            }
            if (!s->path)
                rc = CLI_EXIT_FAILURE;
            else if (eq && access(s->path, F_OK) != 0 && !strchr(s->path, '/') &&
                     !strchr(s->path, '.')) {
                fprintf(stderr,
                        "braggcdi compare: error: '%s': no key '%s' and no file or folder "
                        "of that name (see --help)\n",
                        a, s->path);
                rc = CLI_EXIT_USAGE;
            }
        }
    }
    if (rc == CLI_EXIT_OK && !args.output) {
        fprintf(stderr, "braggcdi compare: error: missing -o/--output\nusage: %s\n", command.usage);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK && n_states < 2) {
        fprintf(stderr, "braggcdi compare: error: give at least two states (got %zu)\nusage: %s\n",
                n_states, command.usage);
        rc = CLI_EXIT_USAGE;
    }
    /* every key read and checked before any state is opened */
    bcdi_analysis_params ap;
    bcdi_compare_params cp;
    if (rc == CLI_EXIT_OK) rc = cli_configure(&command, &args, settings, n_settings, &cp, &ap);
    if (rc == CLI_EXIT_OK) cli_install_logger(args.quiet);
    bcdi_status st = BCDI_OK;
    size_t reference = 0;
    const char *ref = cp.reference;
    if (rc == CLI_EXIT_OK && ref[0]) {
        int found = 0;
        for (size_t k = 0; k < n_states && !found; ++k)
            if ((states[k].label && !strcmp(states[k].label, ref)) || !strcmp(states[k].path, ref))
                reference = k, found = 1;
        char *end = NULL;
        long index = strtol(ref, &end, 10);
        if (!found && end != ref && *end == '\0' && index >= 1 && (size_t)index <= n_states)
            reference = (size_t)index - 1, found = 1;
        if (!found)
            st = bcdi_error(BCDI_ERR_CONFIG,
                            "%s: key 'reference' is '%s', expected a state's label, position "
                            "(1..%zu) or path",
                            bcdi_config_origin(args.config, "reference"), ref, n_states);
    }
    const char *output = args.output;
    /* the states, summaries and config file are inputs: the report folder is none of them */
    for (size_t k = 0; k < n_states; ++k) {
        bcdi_output_add_input(states[k].path);
        bcdi_output_add_input(states[k].summary);
    }
    if (args.config_path) bcdi_output_add_input(args.config_path);
    if (rc == CLI_EXIT_OK && st == BCDI_OK)
        rc = cli_check_output("compare", output, BCDI_OUTPUT_FOLDER);
    bcdi_comparison comparison;
    memset(&comparison, 0, sizeof comparison);
    if (rc == CLI_EXIT_OK && st == BCDI_OK) {
        bcdi_compare_input *inputs = calloc(n_states, sizeof *inputs);
        if (!inputs) st = bcdi_error(BCDI_ERR_NOMEM, "out of memory");
        for (size_t k = 0; inputs && k < n_states; ++k)
            inputs[k] = (bcdi_compare_input){states[k].path, states[k].label, states[k].summary};
        if (st == BCDI_OK)
            st = bcdi_compare_run(&cp, &ap, inputs, n_states, reference, &comparison);
        if (st == BCDI_OK) st = bcdi_compare_write(&comparison, &cp, output);
        if (st == BCDI_OK) {
            for (size_t k = 0; k < comparison.state_count; ++k) {
                const bcdi_compare_state *s = &comparison.states[k];
                bcdi_log(BCDI_LOG_INFO,
                         "compare: '%s'%s: volume %.4f um3, %zu domain(s), %zu dislocation(s) "
                         "(%zu appeared, %zu vanished, %zu moved), density correlation %.4f%s",
                         s->label, k == comparison.reference ? " (reference)" : "",
                         s->analysis.total_volume_nm3 * 1e-9, s->analysis.domain_count,
                         s->analysis.line_count, s->lines_appeared, s->lines_vanished,
                         s->lines_moved, s->density_correlation,
                         s->alignment.twinned ? ", twin flipped" : "");
            }
            size_t len = strlen(output);
            bcdi_log(BCDI_LOG_INFO,
                     "compare: wrote %s%s (comparison.csv, comparison.json, "
                     "slices.png, trends.png, index.html)",
                     output, len && output[len - 1] == '/' ? "" : "/");
        }
        free(inputs);
    }
    bcdi_comparison_free(&comparison);
    cli_args_free(&args);
    for (size_t k = 0; k < n_states; ++k)
        free(states[k].path);
    free(states), free(settings);
    if (rc != CLI_EXIT_OK) return rc;
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("compare", st);
}
