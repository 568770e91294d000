/* SPDX-License-Identifier: BSD-3-Clause */
/* One stage's configuration load, as the CLI does it (fuzz_stage.h). */
#include "fuzz_stage.h"

#include "bcdi/analysis.h"
#include "bcdi/compare.h"
#include "bcdi/config.h"
#include "bcdi/phasing_params.h"
#include "bcdi/prepare.h"
#include "bcdi/simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the CLI's subcommands: their sections are skipped by every other stage */
static const char *const all_sections[] = {"simulate", "prepare", "phase", "analyze",
                                           "compare",  "info",    "bench", NULL};

/* What a load left behind, looked at so the values are used (and a wrong pointer is caught). */
static void use_config(const bcdi_config *cfg)
{
    size_t count = bcdi_config_count(cfg);
    const char *const *keys = bcdi_config_keys(cfg);
    const char *const *values = bcdi_config_values(cfg);
    size_t total = 0;
    for (size_t i = 0; i < count; ++i)
        total += strlen(keys[i]) + strlen(values[i]) + strlen(bcdi_config_origin(cfg, keys[i]));
    size_t spec_count = 0;
    const bcdi_param_spec *specs = bcdi_config_specs(cfg, &spec_count);
    char accepts[256];
    for (size_t i = 0; i < spec_count; ++i)
        total += strlen(bcdi_param_describe(&specs[i], accepts, sizeof accepts));
    if (total == (size_t)-1) abort(); /* never: keeps the loop from being optimised away */
}

int fuzz_load_stage(unsigned stage, const char *ini_path, const char *const *assignments,
                    size_t assignment_count)
{
    const bcdi_param_table *table = NULL, *extra = NULL;
    switch ((stage - (unsigned)'0') % FUZZ_STAGE_COUNT) {
    case 0:
        table = bcdi_simulate_param_table();
        break;
    case 1:
        table = bcdi_prepare_param_table();
        break;
    case 2:
        table = bcdi_phase_param_table();
        break;
    case 3:
        table = bcdi_analysis_param_table();
        break;
    default:
        table = bcdi_compare_param_table();
        extra = bcdi_analysis_param_table();
        break;
    }
    size_t count = table->count + (extra ? extra->count : 0);
    bcdi_param_spec *specs = malloc(count * sizeof *specs);
    /* exact sizes: ASan sees a write past a stage struct */
    void *params = malloc(table->params_size);
    void *extra_params = extra ? malloc(extra->params_size) : NULL;
    bcdi_config *cfg = NULL;
    bcdi_status st = BCDI_ERR_NOMEM;
    if (!specs || !params || (extra && !extra_params)) goto done;
    memcpy(specs, table->specs, table->count * sizeof *specs);
    if (extra) memcpy(specs + table->count, extra->specs, extra->count * sizeof *specs);
    st = bcdi_config_create(table->section, specs, count, &cfg);
    if (st != BCDI_OK) goto done;
    bcdi_config_skip_sections(cfg, all_sections);
    static const char *also[2];
    if (extra) {
        also[0] = extra->section;
        bcdi_config_also_sections(cfg, also);
    }
    if (ini_path) st = bcdi_config_load_ini(cfg, ini_path);
    for (size_t k = 0; st == BCDI_OK && k < assignment_count; ++k)
        st = bcdi_config_override(cfg, assignments[k]);
    if (st == BCDI_OK) st = bcdi_config_bind(cfg, table, params);
    if (st == BCDI_OK && extra) st = bcdi_config_bind(cfg, extra, extra_params);
    /* a bound struct passes its own checks again (what a library caller's struct goes through) */
    if (st == BCDI_OK && bcdi_params_check(table, params, cfg) != BCDI_OK) abort();
    if (st == BCDI_OK && extra && bcdi_params_check(extra, extra_params, cfg) != BCDI_OK) abort();
    use_config(cfg);
done:
    /* for seed upkeep: BCDI_FUZZ_VERBOSE=1 ./fuzz_config_ini seed says what a seed got to */
    if (getenv("BCDI_FUZZ_VERBOSE"))
        fprintf(stderr, "%s: %s\n", table->section, st == BCDI_OK ? "loaded" : bcdi_last_error());
    bcdi_config_free(cfg);
    free(specs);
    free(params);
    free(extra_params);
    return (int)st;
}
