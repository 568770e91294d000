/* SPDX-License-Identifier: BSD-3-Clause */
/* The keys of `phase` bound to bcdi_phase_options (bcdi/phasing_params.h): the engine's
 * parameters with their ranges, the run's device and FFT planner, and the result's cropping and
 * compression; the rules between keys, all checked before any data is read. */
#include "bcdi/phasing_params.h"

#include "bcdi/breed.h"
#include "bcdi/recipe.h"
#include "phasing/psf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* as the engine: one recipe per generation at most, generations up to this */
#define MAX_GENERATIONS 64
/* shrink-wrap blurs are cut at 4 sigma and the shared blur reaches at most 64 voxels */
#define MAX_SHRINKWRAP_SIGMA 16
/* the recipe parser's guard on iteration counts */
#define MAX_ITERATIONS 1e8

static const char *const metric_names[] = {"llk", "fourier", "free_llk", "sharpness", NULL};
static const char *const support_names[] = {"autocorrelation", "box", "sphere", "file", NULL};
static const char *const reference_names[] = {"max", "rms", NULL};
static const char *const planner_names[] = {"estimate", "measure", NULL};
static const char *const psf_names[] = {"none", "gaussian", NULL};

bcdi_status bcdi_device_name_check(const char *device)
{
    if (!strcmp(device, "auto") || !strcmp(device, "cpu") || !strcmp(device, "cuda"))
        return BCDI_OK;
    if (!strncmp(device, "cuda:", 5)) {
        char *end = NULL;
        long ordinal = strtol(device + 5, &end, 10);
        if (end != device + 5 && *end == '\0' && ordinal >= 0 && ordinal <= 1024) return BCDI_OK;
    }
    return bcdi_error(BCDI_ERR_CONFIG, "'%s' is no device: expected auto, cpu, cuda or cuda:N",
                      device);
}

static bcdi_status check_device(const char *value, void *params)
{
    (void)params;
    return bcdi_device_name_check(value);
}

static bcdi_status check_breed(const char *value, void *params)
{
    (void)params;
    int rule;
    return bcdi_breed_rule_from_name(value, &rule);
}

#define OPT bcdi_phase_options
static const bcdi_param_spec phase_specs[] = {
    BCDI_KEY_STRING("recipe", OPT, phasing.recipe, "400*HIO + 200*RAAR + 200*ER",
                    "algorithm schedule, e.g. '100*HIO + 3*(180*HIO + 20*ER) + "
                    "50*RAAR(beta=0.8) + 100*ER'; one per generation separated by ';'"),
    BCDI_KEY_DOUBLE("beta", OPT, phasing.beta, "0.9", 0, 2, BCDI_PARAM_MIN_OPEN,
                    "default beta of HIO, RAAR and DM steps"),
    BCDI_KEY_INT("runs", OPT, phasing.runs, "1", 1, BCDI_PHASE_MAX_RUNS,
                 "independent random starts (the population with generations); at most 10000: "
                 "every run keeps its object in host memory"),
    BCDI_KEY_INT("keep", OPT, phasing.keep, "1", 1, BCDI_PHASE_MAX_RUNS,
                 "best runs written (ranked by metric; at most runs)"),
    BCDI_KEY_INT("batch", OPT, phasing.batch, "0", 0, BCDI_PHASE_MAX_RUNS,
                 "runs per backend batch (0 = all runs in one batch)"),
    BCDI_KEY_INT("generations", OPT, phasing.generations, "1", 1, MAX_GENERATIONS,
                 "guided seeding generations (1 = independent runs)"),
    BCDI_KEY_CHOICE("metric", OPT, phasing.metric, "llk", metric_names, NULL,
                    "ranking metric (free_llk needs free_fraction > 0)"),
    BCDI_KEY_INT("seed", OPT, phasing.seed, "1", 0, 9007199254740991.0,
                 "random seed (Philox key; up to 2^53 - 1)"),
    BCDI_KEY_STRING("device", OPT, device, "auto", "auto, cpu, cuda or cuda:N",
                    .parse = check_device),
    BCDI_KEY_BOOL("positivity", OPT, phasing.positivity, "false",
                  "force Re(rho) >= 0 inside the support"),
    BCDI_KEY_BOOL("real", OPT, phasing.real_only, "false",
                  "real-valued object: keep only Re(rho) inside the support"),
    BCDI_KEY_CHOICE("support", OPT, phasing.support_init, "autocorrelation", support_names, NULL,
                    "initial support (file: support_file=)"),
    BCDI_KEY_DOUBLE("support_threshold", OPT, phasing.support_autocorrelation_threshold, "0.1", 0,
                    1, BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN,
                    "autocorrelation support: fraction of its maximum"),
    BCDI_KEY_DOUBLE("support_size", OPT, phasing.support_size, "0.5", 0, 1, BCDI_PARAM_MIN_OPEN,
                    "box/sphere support: fraction of each axis"),
    BCDI_KEY_STRING("support_file", OPT, phasing.support_file, NULL,
                    "support=file: a CXI result whose entry_1/image_1/mask is the support"),
    BCDI_KEY_DOUBLE("shrinkwrap_sigma_start", OPT, phasing.shrinkwrap_sigma_start, "2.0", 0,
                    MAX_SHRINKWRAP_SIGMA, 0, "shrink-wrap blur at the start, voxels"),
    BCDI_KEY_DOUBLE("shrinkwrap_sigma_end", OPT, phasing.shrinkwrap_sigma_end, "1.0", 0,
                    MAX_SHRINKWRAP_SIGMA, 0,
                    "shrink-wrap blur at the end (geometric decay), voxels"),
    BCDI_KEY_DOUBLE("shrinkwrap_threshold", OPT, phasing.shrinkwrap_threshold, "0.2", 0, 1,
                    BCDI_PARAM_MIN_OPEN | BCDI_PARAM_MAX_OPEN,
                    "support = blurred |rho| > threshold x reference"),
    BCDI_KEY_CHOICE("shrinkwrap_reference", OPT, phasing.shrinkwrap_threshold_rms, "max",
                    reference_names, NULL,
                    "threshold reference: max (of blurred |rho|) or rms (of |rho|)"),
    BCDI_KEY_INT("shrinkwrap_period", OPT, phasing.shrinkwrap_period, "20", 0, MAX_ITERATIONS,
                 "iterations between support updates (0 = fixed support)"),
    BCDI_KEY_BOOL("shrinkwrap_only_shrink", OPT, phasing.shrinkwrap_only_shrink, "false",
                  "updates may only remove voxels"),
    BCDI_KEY_BOOL("shrinkwrap_in_er", OPT, phasing.shrinkwrap_in_er, "false",
                  "also update the support during ER steps (ER + shrink-wrap shrinks the support "
                  "step after step)"),
    BCDI_KEY_DOUBLE("support_min_fraction", OPT, phasing.support_min_fraction, "1e-4", 0, 1,
                    BCDI_PARAM_MAX_OPEN,
                    "restart a run whose support falls below this fraction of the box (< "
                    "support_max_fraction)"),
    BCDI_KEY_DOUBLE("support_max_fraction", OPT, phasing.support_max_fraction, "0.5", 0, 1,
                    BCDI_PARAM_MIN_OPEN, "restart a run whose support grows above this fraction"),
    BCDI_KEY_INT("support_max_restarts", OPT, phasing.support_max_restarts, "3", 0, 1000,
                 "restarts with an adjusted threshold before a run is dropped"),
    BCDI_KEY_INT("metric_interval", OPT, phasing.metric_interval, "10", 1, MAX_ITERATIONS,
                 "iterations between metric evaluations (history)"),
    BCDI_KEY_DOUBLE("free_fraction", OPT, phasing.free_fraction, "0", 0, 0.5, BCDI_PARAM_MAX_OPEN,
                    "fraction of measured pixels held out (3x3x3 islands) for free_llk"),
    BCDI_KEY_STRING("breed", OPT, phasing.breed_rule, "sqrt_ab",
                    "guided seeding rule: sqrt_ab, pixel_switch, b_pa, avg_ab, max_ab, 2ab_a_b",
                    .parse = check_breed),
    BCDI_KEY_DOUBLE("cull_fraction", OPT, phasing.cull_fraction, "0.25", 0, 1, BCDI_PARAM_MAX_OPEN,
                    "share of the population dropped after each generation"),
    BCDI_KEY_CHOICE("psf", OPT, phasing.psf_model, "none", psf_names, NULL,
                    "partial coherence: none (coherent model) or gaussian (the model intensity "
                    "is |Psi|^2 blurred by a Gaussian PSF refined by Richardson-Lucy)"),
    BCDI_KEY_DOUBLE("psf_sigma", OPT, phasing.psf_sigma, "2.0", BCDI_PSF_MIN_SIGMA,
                    BCDI_PSF_MAX_SIGMA, 0,
                    "psf=gaussian: starting PSF width (rms), detector voxels; start above the "
                    "expected blur: the refinement converges from above, and from below can "
                    "collapse to a delta"),
    BCDI_KEY_INT("psf_period", OPT, phasing.psf_period, "10", 1, MAX_ITERATIONS,
                 "psf=gaussian: iterations between Richardson-Lucy updates of the PSF"),
    BCDI_KEY_INT("psf_start", OPT, phasing.psf_start, "200", 0, MAX_ITERATIONS,
                 "psf=gaussian: recipe iteration (of every generation) from which the PSF model "
                 "is used and refined (the object should have roughly formed)"),
    BCDI_KEY_INT("psf_rl_iterations", OPT, phasing.psf_rl_iterations, "1", 1, 100,
                 "psf=gaussian: Richardson-Lucy steps per PSF update"),
    BCDI_KEY_BOOL("mask_bound", OPT, phasing.mask_bound, "false",
                  "hold the model's intensity in masked (unmeasured) voxels at most "
                  "mask_bound_factor x (the largest measured intensity within mask_bound_radius "
                  "+ 1 count); false: masked voxels are free, and the bound only measures how "
                  "often the model exceeds it (history: masked_over_bound)"),
    BCDI_KEY_INT("mask_bound_radius", OPT, phasing.mask_bound_radius, "3", 1, 64,
                 "mask_bound: half-side (voxels) of the cube of measured neighbours; a masked "
                 "voxel with none in its cube stays free"),
    BCDI_KEY_DOUBLE("mask_bound_factor", OPT, phasing.mask_bound_factor, "2.0", 1, 1000, 0,
                    "mask_bound: the bound as a multiple of the neighbours' maximum + 1"),
    BCDI_KEY_BOOL("crop", OPT, crop, "false",
                  "crop the written object to its support plus crop_margin"),
    BCDI_KEY_INT("crop_margin", OPT, crop_margin, "8", 0, 4096,
                 "voxels kept around the support when cropping"),
    BCDI_KEY_CHOICE("fft_planner", OPT, fft_measure, "measure", planner_names, NULL,
                    "CPU FFTW planner: measure (fast plans; bit-identical runs across processes "
                    "sharing fft_wisdom) or estimate (no planning time; up to 2.5x slower "
                    "transforms at 256^3)"),
    BCDI_KEY_STRING("fft_wisdom", OPT, fft_wisdom, "auto",
                    "FFTW wisdom file of measured plans: auto "
                    "($XDG_CACHE_HOME/braggcdi/fftw-wisdom-<host>-<cpu>), none, or a path"),
    BCDI_KEY_INT("deflate", OPT, deflate, "4", 0, 9, "gzip level of the written datasets"),
    BCDI_KEY_DOUBLE("checkpoint_interval", OPT, checkpoint_interval, "600", 0, 1e9, 0,
                    "seconds of work between checkpoints (<output>.ckpt, also written on SIGTERM "
                    "and SIGUSR1; rerunning the same command resumes from it); 0 = none"),
    BCDI_KEY_BOOL("restart", OPT, restart, "false",
                  "start afresh, ignoring a checkpoint of an earlier run"),
    BCDI_KEY_BOOL("combine", OPT, combine, "true",
                  "with keep >= 2: align the kept runs onto the best, average them, and write the "
                  "average as the answer (<output>), with modes, correlations and the PRTF "
                  "resolution; false: the best run is the answer"),
    BCDI_KEY_BOOL("report", OPT, report, "true",
                  "write <output stem>_report/: an offline HTML page with PNG panels "
                  "(convergence, ranking, slices of the answer, PRTF); false for batch use"),
    BCDI_KEY_MAX_MEMORY(OPT, max_memory),
};
#undef OPT

static const char *origin_of(const bcdi_config *cfg, const char *key)
{
    return cfg ? bcdi_config_origin(cfg, key) : "parameters";
}

/* Rules between keys; every recipe parsed now, so a malformed one is refused before any data
 * is read (the engine parses them again). */
static bcdi_status phase_rules(const void *params, const bcdi_config *cfg)
{
    const bcdi_phasing_params *p = &((const bcdi_phase_options *)params)->phasing;
    if (p->keep > p->runs)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "%s: key 'keep' is %ld, expected at most runs (%ld)",
                          origin_of(cfg, "keep"), p->keep, p->runs);
    if (!(p->support_min_fraction < p->support_max_fraction))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "%s: key 'support_min_fraction' is %g, expected below "
                          "support_max_fraction (%g)",
                          origin_of(cfg, "support_min_fraction"), p->support_min_fraction,
                          p->support_max_fraction);
    if (p->metric == BCDI_METRIC_FREE_LLK && !(p->free_fraction > 0))
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "%s: key 'metric' is free_llk, which needs free_fraction > 0",
                          origin_of(cfg, "metric"));
    if (p->support_init == BCDI_SUPPORT_FILE && !p->support_file[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "%s: key 'support' is file, which needs support_file=<result.cxi>",
                          origin_of(cfg, "support"));
    long recipes = 0;
    for (const char *piece = p->recipe; piece; ++recipes) {
        const char *end = strchr(piece, ';');
        char one[sizeof p->recipe];
        snprintf(one, sizeof one, "%.*s", (int)(end ? (size_t)(end - piece) : strlen(piece)),
                 piece);
        bcdi_recipe parsed;
        bcdi_status st = bcdi_recipe_parse(one, p->beta, &parsed);
        if (st != BCDI_OK)
            return bcdi_error_prefix(st, "%s: key 'recipe': ", origin_of(cfg, "recipe"));
        long iterations = parsed.total_iterations;
        bcdi_recipe_free(&parsed);
        if (p->psf_model != BCDI_PSF_NONE && p->psf_start >= iterations)
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "%s: key 'psf_start' is %ld, but the recipe has %ld iterations: "
                              "the PSF would never be used (expected below that, or psf=none)",
                              origin_of(cfg, "psf_start"), p->psf_start, iterations);
        piece = end ? end + 1 : NULL;
    }
    if (recipes > 1 && recipes != p->generations)
        return bcdi_error(
            BCDI_ERR_INVALID_ARG,
            "%s: key 'recipe' holds %ld recipes separated by ';' but generations=%ld: "
            "give one recipe for all generations or one per generation",
            origin_of(cfg, "recipe"), recipes, p->generations);
    return BCDI_OK;
}

static const bcdi_param_table phase_table = {
    "phase",     phase_specs, sizeof phase_specs / sizeof *phase_specs, sizeof(bcdi_phase_options),
    phase_rules,
};

const bcdi_param_table *bcdi_phase_param_table(void)
{
    return &phase_table;
}

double bcdi_phase_memory_estimate(const bcdi_phase_options *options, const size_t shape[3],
                                  int backend_on_host)
{
    const bcdi_phasing_params *p = &options->phasing;
    double n = (double)shape[0] * (double)shape[1] * (double)shape[2];
    double runs = (double)p->runs, keep = (double)p->keep;
    double batch = p->batch > 0 && p->batch < p->runs ? (double)p->batch : runs;
    int dm = 0; /* a DM step anywhere in the recipes needs its extra array */
    for (const char *c = p->recipe; *c && !dm; ++c)
        dm = (c[0] == 'D' || c[0] == 'd') && (c[1] == 'M' || c[1] == 'm');
    double data = 5.0 + (p->support_file[0] ? 1.0 : 0.0);
    /* psf=gaussian: the engine's host scratch of one run (12 B/voxel), each kept run's PSF
     * (4), and on the backend every run of the batch its blurred model and PSF spectrum
     * (2 complex arrays, 16 B/voxel/run) */
    int psf = p->psf_model != BCDI_PSF_NONE;
    /* the initial support (the upload's 10 B/voxel of copies, and with masked voxels the 8 of
     * their bounds' scratch, are gone before the batch, whose arrays outweigh them) */
    double engine = 1.0 + (psf ? 12.0 : 0.0);
    /* every run, the best of the generations (guided seeding), the copies of the best runs
     * seen (the hall), the kept results (with psf=gaussian each result also holds its PSF) */
    double population = 9.0 * runs + (p->generations > 1 ? 8.0 : 0.0) + (psf ? 22.0 : 18.0) * keep;
    double backend = 0.0;
    if (backend_on_host)
        backend = 5.0 + batch * (17.0 + (dm ? 8.0 : 0.0) + (psf ? 16.0 : 0.0) +
                                 (options->fft_measure ? 16.0 : 8.0));
    /* the history every run keeps (one point per metric_interval iterations of every
     * generation's recipe), and one written as 9 doubles a row */
    double iterations = 0.0;
    long recipes = 0;
    for (const char *piece = p->recipe; piece; ++recipes) {
        const char *end = strchr(piece, ';');
        char one[sizeof p->recipe];
        snprintf(one, sizeof one, "%.*s", (int)(end ? (size_t)(end - piece) : strlen(piece)),
                 piece);
        bcdi_recipe parsed;
        if (bcdi_recipe_parse(one, p->beta, &parsed) == BCDI_OK) {
            iterations += (double)parsed.total_iterations;
            bcdi_recipe_free(&parsed);
        }
        piece = end ? end + 1 : NULL;
    }
    bcdi_clear_error();
    if (recipes == 1) iterations *= (double)p->generations;
    double rows = iterations / (double)(p->metric_interval > 0 ? p->metric_interval : 1) + 2.0;
    double history = rows * ((runs + keep) * (double)sizeof(bcdi_history_point) + 72.0);
    /* the kept runs combined: their aligned copies, the average, the PRTF's transform */
    double kept = keep < 64.0 ? keep : 64.0; /* BCDI_COMBINE_MAX_RUNS */
    double combine = options->combine && keep >= 2 ? 8.0 * kept + 24.0 : 0.0;
    return 64.0 * 1048576.0 + history +
           n * (data + engine + population + backend + combine + 9.0 /* writing */);
}

void bcdi_phase_options_default(bcdi_phase_options *options)
{
    (void)bcdi_params_defaults(&phase_table, options); /* a constant table, known good */
}

void bcdi_phasing_default(bcdi_phasing_params *p)
{
    bcdi_phase_options options;
    bcdi_phase_options_default(&options);
    *p = options.phasing;
}
