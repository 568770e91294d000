/* realpath() is an X/Open extension */
#define _XOPEN_SOURCE 700
/* braggcdi phase prepared.cxi [config.ini] [key=value ...] -o result.cxi */
#include "cli.h"
#include "progress.h"

#include "backend/backend.h"
#include "bcdi/error.h"
#include "bcdi/log.h"
#include "bcdi/phasing.h"
#include "bcdi/recipe.h"
#include "core/output.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/hdf5.h"
#include "num/volume.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bcdi_param_spec phase_specs[] = {
    {"recipe", BCDI_PARAM_STRING, "400*HIO + 200*RAAR + 200*ER",
     "algorithm schedule, e.g. '100*HIO + 3*(180*HIO + 20*ER) + 50*RAAR(beta=0.8) + 100*ER'; "
     "one per generation separated by ';'"},
    {"beta", BCDI_PARAM_DOUBLE, "0.9", "default beta of HIO, RAAR and DM steps"},
    {"runs", BCDI_PARAM_INT, "1", "independent random starts (the population with generations)"},
    {"keep", BCDI_PARAM_INT, "1", "best runs written (ranked by metric)"},
    {"batch", BCDI_PARAM_INT, "0", "runs per backend batch (0 = all runs in one batch)"},
    {"generations", BCDI_PARAM_INT, "1", "guided seeding generations (1 = independent runs)"},
    {"metric", BCDI_PARAM_STRING, "llk", "ranking metric: llk, fourier, free_llk or sharpness"},
    {"seed", BCDI_PARAM_INT, "1", "random seed (Philox key)"},
    {"device", BCDI_PARAM_STRING, "auto", "auto, cpu, cuda or cuda:N"},
    {"positivity", BCDI_PARAM_BOOL, "false", "force Re(rho) >= 0 inside the support"},
    {"real", BCDI_PARAM_BOOL, "false", "real-valued object: keep only Re(rho) inside the support"},
    {"support", BCDI_PARAM_STRING, "autocorrelation",
     "initial support: autocorrelation, box, sphere or file"},
    {"support_threshold", BCDI_PARAM_DOUBLE, "0.1",
     "autocorrelation support: fraction of its maximum"},
    {"support_size", BCDI_PARAM_DOUBLE, "0.5", "box/sphere support: fraction of each axis"},
    {"support_file", BCDI_PARAM_STRING, NULL,
     "support=file: a CXI result whose entry_1/image_1/mask is the support"},
    {"shrinkwrap_sigma_start", BCDI_PARAM_DOUBLE, "2.0", "shrink-wrap blur at the start, voxels"},
    {"shrinkwrap_sigma_end", BCDI_PARAM_DOUBLE, "1.0",
     "shrink-wrap blur at the end (geometric decay), voxels"},
    {"shrinkwrap_threshold", BCDI_PARAM_DOUBLE, "0.2",
     "support = blurred |rho| > threshold x reference"},
    {"shrinkwrap_reference", BCDI_PARAM_STRING, "max",
     "threshold reference: max (of blurred |rho|) or rms (of |rho|)"},
    {"shrinkwrap_period", BCDI_PARAM_INT, "20",
     "iterations between support updates (0 = fixed support)"},
    {"shrinkwrap_only_shrink", BCDI_PARAM_BOOL, "false", "updates may only remove voxels"},
    {"shrinkwrap_in_er", BCDI_PARAM_BOOL, "false",
     "also update the support during ER steps (ER + shrink-wrap shrinks the support step after "
     "step)"},
    {"support_min_fraction", BCDI_PARAM_DOUBLE, "1e-4",
     "restart a run whose support falls below this fraction of the box"},
    {"support_max_fraction", BCDI_PARAM_DOUBLE, "0.5",
     "restart a run whose support grows above this fraction"},
    {"support_max_restarts", BCDI_PARAM_INT, "3",
     "restarts with an adjusted threshold before a run is dropped"},
    {"metric_interval", BCDI_PARAM_INT, "10", "iterations between metric evaluations (history)"},
    {"free_fraction", BCDI_PARAM_DOUBLE, "0",
     "fraction of measured pixels held out (3x3x3 islands) for free_llk"},
    {"breed", BCDI_PARAM_STRING, "sqrt_ab",
     "guided seeding rule: sqrt_ab, pixel_switch, b_pa, avg_ab, max_ab, 2ab_a_b"},
    {"cull_fraction", BCDI_PARAM_DOUBLE, "0.25",
     "share of the population dropped after each generation"},
    {"crop", BCDI_PARAM_BOOL, "false", "crop the written object to its support plus crop_margin"},
    {"crop_margin", BCDI_PARAM_INT, "8", "voxels kept around the support when cropping"},
    {"fft_planner", BCDI_PARAM_STRING, "estimate",
     "CPU FFTW planner: estimate (bit-identical runs) or measure (faster at 256^3)"},
    {"deflate", BCDI_PARAM_INT, "4", "gzip level of the written datasets (0-9)"},
};

static const cli_command phase_command = {
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
    .specs = phase_specs,
    .spec_count = sizeof phase_specs / sizeof *phase_specs,
};

static bcdi_status params_from_config(const bcdi_config *cfg, bcdi_phasing_params *p,
                                      int *fft_measure)
{
    bcdi_phasing_default(p);
    bcdi_status st;
    const char *text;
    long v;
    int b;
    snprintf(p->recipe, sizeof p->recipe, "%s", bcdi_config_string(cfg, "recipe"));
    if ((st = bcdi_config_double(cfg, "beta", &p->beta))) return st;
    /* check every ';'-separated recipe now, before any data is read (the engine parses again) */
    for (const char *piece = p->recipe; piece;) {
        const char *end = strchr(piece, ';');
        char one[sizeof p->recipe];
        snprintf(one, sizeof one, "%.*s", (int)(end ? (size_t)(end - piece) : strlen(piece)),
                 piece);
        bcdi_recipe parsed;
        if ((st = bcdi_recipe_parse(one, p->beta, &parsed))) return st;
        bcdi_recipe_free(&parsed);
        piece = end ? end + 1 : NULL;
    }
    if ((st = bcdi_config_int(cfg, "runs", &p->runs))) return st;
    if ((st = bcdi_config_int(cfg, "keep", &p->keep))) return st;
    if ((st = bcdi_config_int(cfg, "batch", &p->batch))) return st;
    if ((st = bcdi_config_int(cfg, "generations", &p->generations))) return st;
    if ((st = bcdi_metric_from_name(bcdi_config_string(cfg, "metric"), &p->metric))) return st;
    if ((st = bcdi_config_int(cfg, "seed", &v))) return st;
    if (v < 0) return bcdi_error(BCDI_ERR_CONFIG, "seed=%ld: expected >= 0", v);
    p->seed = (uint64_t)v;
    if ((st = bcdi_config_bool(cfg, "positivity", &p->positivity))) return st;
    if ((st = bcdi_config_bool(cfg, "real", &p->real_only))) return st;
    text = bcdi_config_string(cfg, "support");
    if (!strcmp(text, "autocorrelation"))
        p->support_init = BCDI_SUPPORT_AUTOCORRELATION;
    else if (!strcmp(text, "box"))
        p->support_init = BCDI_SUPPORT_BOX;
    else if (!strcmp(text, "sphere"))
        p->support_init = BCDI_SUPPORT_SPHERE;
    else if (!strcmp(text, "file"))
        p->support_init = BCDI_SUPPORT_FILE;
    else
        return bcdi_error(BCDI_ERR_CONFIG,
                          "support='%s': expected autocorrelation, box, sphere or file", text);
    if ((st = bcdi_config_double(cfg, "support_threshold", &p->support_autocorrelation_threshold)))
        return st;
    if ((st = bcdi_config_double(cfg, "support_size", &p->support_size))) return st;
    if (!(p->support_autocorrelation_threshold > 0 && p->support_autocorrelation_threshold < 1))
        return bcdi_error(BCDI_ERR_CONFIG, "support_threshold=%g: expected in (0, 1)",
                          p->support_autocorrelation_threshold);
    if (!(p->support_size > 0 && p->support_size <= 1))
        return bcdi_error(BCDI_ERR_CONFIG, "support_size=%g: expected in (0, 1]", p->support_size);
    if (bcdi_config_string(cfg, "support_file"))
        snprintf(p->support_file, sizeof p->support_file, "%s",
                 bcdi_config_string(cfg, "support_file"));
    if ((st = bcdi_config_double(cfg, "shrinkwrap_sigma_start", &p->shrinkwrap_sigma_start)))
        return st;
    if ((st = bcdi_config_double(cfg, "shrinkwrap_sigma_end", &p->shrinkwrap_sigma_end))) return st;
    if ((st = bcdi_config_double(cfg, "shrinkwrap_threshold", &p->shrinkwrap_threshold))) return st;
    text = bcdi_config_string(cfg, "shrinkwrap_reference");
    if (strcmp(text, "max") && strcmp(text, "rms"))
        return bcdi_error(BCDI_ERR_CONFIG, "shrinkwrap_reference='%s': expected max or rms", text);
    p->shrinkwrap_threshold_rms = !strcmp(text, "rms");
    if ((st = bcdi_config_int(cfg, "shrinkwrap_period", &p->shrinkwrap_period))) return st;
    if (p->shrinkwrap_period < 0)
        return bcdi_error(BCDI_ERR_CONFIG, "shrinkwrap_period=%ld: expected >= 0",
                          p->shrinkwrap_period);
    if ((st = bcdi_config_bool(cfg, "shrinkwrap_only_shrink", &p->shrinkwrap_only_shrink)))
        return st;
    if ((st = bcdi_config_bool(cfg, "shrinkwrap_in_er", &p->shrinkwrap_in_er))) return st;
    if ((st = bcdi_config_double(cfg, "support_min_fraction", &p->support_min_fraction))) return st;
    if ((st = bcdi_config_double(cfg, "support_max_fraction", &p->support_max_fraction))) return st;
    if ((st = bcdi_config_int(cfg, "support_max_restarts", &p->support_max_restarts))) return st;
    if ((st = bcdi_config_int(cfg, "metric_interval", &p->metric_interval))) return st;
    if (p->metric_interval < 1)
        return bcdi_error(BCDI_ERR_CONFIG, "metric_interval=%ld: expected >= 1",
                          p->metric_interval);
    if ((st = bcdi_config_double(cfg, "free_fraction", &p->free_fraction))) return st;
    snprintf(p->breed_rule, sizeof p->breed_rule, "%s", bcdi_config_string(cfg, "breed"));
    if ((st = bcdi_config_double(cfg, "cull_fraction", &p->cull_fraction))) return st;
    text = bcdi_config_string(cfg, "fft_planner");
    if (strcmp(text, "estimate") && strcmp(text, "measure"))
        return bcdi_error(BCDI_ERR_CONFIG, "fft_planner='%s': expected estimate or measure", text);
    *fft_measure = !strcmp(text, "measure");
    (void)b;
    return BCDI_OK;
}

typedef struct {
    const cli_args *args;
    const bcdi_phasing_params *params;
    const bcdi_phasing_result *result;
    const bcdi_backend *be;
    const uint8_t *data_mask;
    const bcdi_geometry *geometry; /* NULL if the input had none */
    bcdi_h5_reader *prepared;      /* the input, open: its diffraction summary is copied */
    int crop;
    long crop_margin, deflate;
} result_context;

/* Stage run `rank` as `path` in tx: the object (cropped to its support plus the margin when
 * asked) and everything io/cxi records in a result. */
static bcdi_status write_result(bcdi_output *tx, const result_context *c, size_t rank,
                                const char *path)
{
    const bcdi_run_result *run = &c->result->runs[rank];
    const size_t *shape = c->result->shape;
    size_t lo[3] = {0, 0, 0}, out_shape[3] = {shape[0], shape[1], shape[2]};
    size_t first[3], last[3];
    /* an empty support keeps the whole array */
    if (c->crop && bcdi_mask_bounds(run->support, shape, first, last))
        bcdi_box_with_margin(first, last, (size_t)c->crop_margin, shape, lo, out_shape);
    size_t n_out = out_shape[0] * out_shape[1] * out_shape[2];
    bcdi_cf *object = malloc(n_out * sizeof *object);
    uint8_t *support = malloc(n_out);
    double *history = malloc((run->history_count ? run->history_count : 1) * 7 * sizeof *history);
    bcdi_status st = BCDI_OK;
    if (!object || !support || !history)
        st = bcdi_error(BCDI_ERR_NOMEM, "out of memory writing '%s'", path);
    for (size_t i0 = 0; st == BCDI_OK && i0 < out_shape[0]; ++i0)
        for (size_t i1 = 0; i1 < out_shape[1]; ++i1) {
            size_t src = ((i0 + lo[0]) * shape[1] + (i1 + lo[1])) * shape[2] + lo[2];
            size_t dst = (i0 * out_shape[1] + i1) * out_shape[2];
            memcpy(object + dst, run->object + src, out_shape[2] * sizeof *object);
            memcpy(support + dst, run->support + src, out_shape[2]);
        }
    /* history: one row per evaluation */
    for (size_t r = 0; st == BCDI_OK && r < run->history_count; ++r) {
        const bcdi_history_point *h = &run->history[r];
        double row[7] = {(double)h->iteration, h->fourier_error, h->llk,
                         h->free_llk,          h->sharpness,     h->support_fraction,
                         h->outside_fraction};
        memcpy(history + 7 * r, row, sizeof row);
    }
    /* the prepared input, as an absolute path */
    char input_abs[4096];
    const char *input = realpath(c->args->input, input_abs) ? input_abs : c->args->input;
    const bcdi_config *cfg = c->args->config;
    bcdi_cxi_result out = {
        .shape = {out_shape[0], out_shape[1], out_shape[2]},
        .object = object,
        .support = support,
        .crop_origin = {lo[0], lo[1], lo[2]},
        .data_shape = {shape[0], shape[1], shape[2]},
        .data_mask = c->data_mask,
        .geometry = c->geometry,
        .config_keys = bcdi_config_keys(cfg),
        .config_values = bcdi_config_values(cfg),
        .config_count = bcdi_config_count(cfg),
        .input = input,
        .summary_source = c->prepared,
        .fourier_error = run->final.fourier_error,
        .llk = run->final.llk,
        .free_llk = run->final.free_llk,
        .sharpness = run->final.sharpness,
        .support_fraction = run->final.support_fraction,
        .outside_fraction = run->final.outside_fraction,
        .shrinkwrap_threshold = run->shrinkwrap_threshold,
        .elapsed_s = c->result->elapsed_s,
        .metric = bcdi_metric_name(c->params->metric),
        .backend = c->be->kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu",
        .device = c->be->device_name,
        .program = "braggcdi " BCDI_VERSION,
        .rank = (long)rank + 1,
        .run_id = run->run_id,
        .generation = run->generation + 1,
        .restarts = run->restarts,
        .iterations = c->result->total_iterations,
        .seed = (long)c->params->seed,
        .history = history,
        .history_rows = run->history_count,
        .deflate_level = (int)c->deflate,
    };
    if (st == BCDI_OK) st = bcdi_cxi_write_result(tx, path, &out);
    free(object);
    free(support);
    free(history);
    return st;
}

static void run_path(const char *output, size_t rank, char *out, size_t cap)
{
    const char *dot = strrchr(output, '.'), *slash = strrchr(output, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - output) : strlen(output);
    snprintf(out, cap, "%.*s-run%zu%s", (int)stem, output, rank + 1,
             dot && (!slash || dot > slash) ? dot : ".cxi");
}

int cmd_phase(int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(&phase_command, argc, argv, &args);
    if (rc != CLI_EXIT_OK || args.help) return rc;
    cli_install_logger(args.quiet);
    bcdi_phasing_params params;
    int fft_measure = 0, crop = 0;
    long crop_margin = 8, deflate = 4;
    bcdi_status st = params_from_config(args.config, &params, &fft_measure);
    if (st == BCDI_OK) st = bcdi_config_bool(args.config, "crop", &crop);
    if (st == BCDI_OK) st = bcdi_config_int(args.config, "crop_margin", &crop_margin);
    if (st == BCDI_OK) st = bcdi_config_int(args.config, "deflate", &deflate);
    if (st == BCDI_OK && (crop_margin < 0 || deflate < 0 || deflate > 9))
        st = bcdi_error(BCDI_ERR_CONFIG, "crop_margin must be >= 0 and deflate in 0..9");
    /* the outputs checked before the data is read: the best run and the kept ones (the first
     * thousand here; any other is checked again when staged) */
    if (st == BCDI_OK) bcdi_output_add_input(params.support_file);
    long kept = params.keep > 1 && params.keep <= params.runs ? params.keep : 0;
    for (long k = 0; st == BCDI_OK && rc == CLI_EXIT_OK && k <= kept && k <= 1000; ++k) {
        char run_name[4200];
        if (k > 0) run_path(args.output, (size_t)k - 1, run_name, sizeof run_name);
        rc = cli_check_output("phase", k > 0 ? run_name : args.output, BCDI_OUTPUT_FILE);
    }
    if (rc != CLI_EXIT_OK) {
        cli_args_free(&args);
        return rc;
    }
    size_t shape[3] = {0, 0, 0};
    float *intensity = NULL;
    uint8_t *mask = NULL, *support_file = NULL;
    bcdi_geometry geometry;
    int have_geometry = 0;
    bcdi_backend *be = NULL;
    bcdi_phasing_result result = {0};
    if (st == BCDI_OK) st = bcdi_cxi_read_prepared(args.input, shape, &intensity, &mask);
    if (st == BCDI_OK) {
        have_geometry = bcdi_cxi_read_geometry(args.input, &geometry) == BCDI_OK;
        if (!have_geometry)
            bcdi_log(BCDI_LOG_NOTICE, "'%s' holds no geometry: the result will have none",
                     args.input);
        bcdi_clear_error();
    }
    if (st == BCDI_OK && params.support_init == BCDI_SUPPORT_FILE) {
        if (!params.support_file[0]) {
            st = bcdi_error(BCDI_ERR_CONFIG, "support=file needs support_file=<result.cxi>");
        } else {
            bcdi_cxi_phased earlier;
            st = bcdi_cxi_read_result(params.support_file, 1, &earlier);
            if (st == BCDI_OK && !earlier.support)
                st = bcdi_error(BCDI_ERR_FORMAT,
                                "support_file '%s' has no support (entry_1/image_1/mask)",
                                params.support_file);
            else if (st == BCDI_OK && memcmp(earlier.shape, shape, sizeof shape) != 0)
                st = bcdi_error(BCDI_ERR_FORMAT,
                                "support_file '%s' is %zux%zux%zu but the data is %zux%zux%zu",
                                params.support_file, earlier.shape[0], earlier.shape[1],
                                earlier.shape[2], shape[0], shape[1], shape[2]);
            if (st == BCDI_OK) {
                support_file = earlier.support; /* kept; the object is not needed */
                earlier.support = NULL;
            }
            bcdi_cxi_phased_free(&earlier);
        }
    }
    if (st == BCDI_OK) st = bcdi_backend_open(bcdi_config_string(args.config, "device"), &be);
    if (st == BCDI_OK) {
        be->fft_measure = fft_measure;
        bcdi_log(BCDI_LOG_INFO, "phasing %zux%zux%zu, %ld run(s) x %ld generation(s) on %s",
                 shape[0], shape[1], shape[2], params.runs, params.generations, be->device_name);
        bcdi_phasing_data data = {{shape[0], shape[1], shape[2]}, intensity, mask, support_file};
        cli_progress progress;
        cli_progress_init(&progress, "phase", bcdi_metric_name(params.metric), args.quiet);
        st = bcdi_phase(be, &params, &data, cli_progress_update, &progress, &result);
        cli_progress_finish(&progress);
    }
    bcdi_h5_reader *prepared = NULL;
    if (st == BCDI_OK && (st = bcdi_h5_open(args.input, &prepared)) == BCDI_OK &&
        !bcdi_cxi_has_summary(prepared))
        bcdi_log(BCDI_LOG_NOTICE,
                 "'%s' holds no diffraction summary (%s): the result will carry none, and "
                 "compare will need summary= for its lattice",
                 args.input, BCDI_CXI_SUMMARY_GROUP);
    if (st == BCDI_OK) {
        result_context ctx = {
            &args,    &params, &result,     be,     mask, have_geometry ? &geometry : NULL,
            prepared, crop,    crop_margin, deflate};
        char path[4200];
        /* every kept run and the best under the requested name, all together or none */
        bcdi_output *tx = NULL;
        st = bcdi_output_begin(&tx);
        for (size_t k = 0; st == BCDI_OK && result.count > 1 && k < result.count; ++k) {
            run_path(args.output, k, path, sizeof path);
            st = write_result(tx, &ctx, k, path);
        }
        if (st == BCDI_OK) st = write_result(tx, &ctx, 0, args.output);
        if (st == BCDI_OK)
            st = bcdi_output_commit(tx);
        else
            bcdi_output_abort(tx);
        if (st == BCDI_OK)
            bcdi_log(BCDI_LOG_INFO,
                     "best run %ld: Fourier error %.4g, llk %.4g, support %.2f%% of the box; "
                     "%.1f s; wrote %s%s",
                     result.runs[0].run_id, result.runs[0].final.fourier_error,
                     result.runs[0].final.llk, 100.0 * result.runs[0].final.support_fraction,
                     result.elapsed_s, args.output,
                     result.count > 1 ? " and the kept runs as <stem>-run<K>.cxi" : "");
    }
    bcdi_h5_close(prepared);
    bcdi_phasing_result_free(&result);
    bcdi_backend_close(be);
    free(intensity);
    free(mask);
    free(support_file);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("phase", st);
}
