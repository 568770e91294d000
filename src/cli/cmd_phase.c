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
#include "io/cxi.h"
#include "io/h5io.h"
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
    {"fft_planner", BCDI_PARAM_STRING, "measure",
     "CPU FFTW planner: measure (fast plans; bit-identical runs across processes sharing "
     "fft_wisdom) or estimate (no planning time; up to 2.5x slower transforms at 256^3)"},
    {"fft_wisdom", BCDI_PARAM_STRING, "auto",
     "FFTW wisdom file of measured plans: auto "
     "($XDG_CACHE_HOME/braggcdi/fftw-wisdom-<host>-<cpu>), "
     "none, or a path"},
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
    int crop;
    long crop_margin, deflate;
} result_context;

static bcdi_status write_result(const result_context *c, size_t rank, const char *path)
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
    if (!object || !support) {
        free(object), free(support);
        return bcdi_error(BCDI_ERR_NOMEM, "out of memory writing '%s'", path);
    }
    for (size_t i0 = 0; i0 < out_shape[0]; ++i0)
        for (size_t i1 = 0; i1 < out_shape[1]; ++i1) {
            size_t src = ((i0 + lo[0]) * shape[1] + (i1 + lo[1])) * shape[2] + lo[2];
            size_t dst = (i0 * out_shape[1] + i1) * out_shape[2];
            memcpy(object + dst, run->object + src, out_shape[2] * sizeof *object);
            memcpy(support + dst, run->support + src, out_shape[2]);
        }
    bcdi_h5_writer *w = NULL;
    bcdi_status st = bcdi_cxi_create(path, &w);
    if (st == BCDI_OK) st = bcdi_cxi_write_object(w, out_shape, object, support, (int)c->deflate);
    if (st == BCDI_OK)
        st = bcdi_h5_write(w, "entry_1/instrument_1/detector_1/mask", BCDI_DT_U8, 3, shape,
                           c->data_mask, (int)c->deflate);
    if (st == BCDI_OK && c->geometry) st = bcdi_cxi_write_geometry(w, c->geometry);
    const bcdi_config *cfg = c->args->config;
    if (st == BCDI_OK)
        st = bcdi_cxi_write_config(w, "entry_1/image_1/process_1/configuration",
                                   bcdi_config_keys(cfg), bcdi_config_values(cfg),
                                   bcdi_config_count(cfg));
    /* the prepared input, as an absolute path: compare finds its diffraction summary from it */
    char input_abs[4096];
    const char *input = realpath(c->args->input, input_abs) ? input_abs : c->args->input;
    if (st == BCDI_OK)
        st = bcdi_h5_write_string(w, "entry_1/image_1/process_1/configuration/input", input);
    const char *res = "entry_1/image_1/process_1/results";
    char key[256];
#define PUT_DOUBLE(name, value)                                                                    \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s/%s", res, name);                                             \
        if (st == BCDI_OK) st = bcdi_h5_write_double(w, key, value, NULL);                         \
    } while (0)
#define PUT_INT(name, value)                                                                       \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s/%s", res, name);                                             \
        if (st == BCDI_OK) st = bcdi_h5_write_int(w, key, value);                                  \
    } while (0)
#define PUT_STRING(name, value)                                                                    \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s/%s", res, name);                                             \
        if (st == BCDI_OK) st = bcdi_h5_write_string(w, key, value);                               \
    } while (0)
    PUT_DOUBLE("fourier_error", run->final.fourier_error);
    PUT_DOUBLE("llk", run->final.llk);
    PUT_DOUBLE("free_llk", run->final.free_llk);
    PUT_DOUBLE("sharpness", run->final.sharpness);
    PUT_DOUBLE("support_fraction", run->final.support_fraction);
    PUT_DOUBLE("outside_fraction", run->final.outside_fraction);
    PUT_STRING("metric", bcdi_metric_name(c->params->metric));
    PUT_INT("rank", (long)rank + 1);
    PUT_INT("run_id", run->run_id);
    PUT_INT("generation", run->generation + 1);
    PUT_INT("restarts", run->restarts);
    PUT_DOUBLE("shrinkwrap_threshold", run->shrinkwrap_threshold);
    PUT_INT("iterations", c->result->total_iterations);
    PUT_INT("seed", (long)c->params->seed);
    PUT_STRING("backend", c->be->kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu");
    PUT_STRING("device", c->be->device_name);
    PUT_DOUBLE("elapsed_s", c->result->elapsed_s);
    PUT_STRING("program", "braggcdi " BCDI_VERSION);
    long origin[3] = {(long)lo[0], (long)lo[1], (long)lo[2]};
    size_t three = 3;
    double origin_d[3] = {(double)origin[0], (double)origin[1], (double)origin[2]};
    snprintf(key, sizeof key, "%s/crop_origin", res);
    if (st == BCDI_OK) st = bcdi_h5_write(w, key, BCDI_DT_F64, 1, &three, origin_d, 0);
    /* history: one row per evaluation */
    size_t rows = run->history_count, dims[2] = {rows, 7};
    double *table = malloc((rows ? rows : 1) * 7 * sizeof *table);
    if (!table && st == BCDI_OK) st = bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    for (size_t r = 0; table && r < rows; ++r) {
        const bcdi_history_point *h = &run->history[r];
        double row[7] = {(double)h->iteration, h->fourier_error, h->llk,
                         h->free_llk,          h->sharpness,     h->support_fraction,
                         h->outside_fraction};
        memcpy(table + 7 * r, row, sizeof row);
    }
    snprintf(key, sizeof key, "%s/history", res);
    if (st == BCDI_OK && rows) st = bcdi_h5_write(w, key, BCDI_DT_F64, 2, dims, table, 0);
    if (st == BCDI_OK && rows)
        st = bcdi_h5_attr_string(w, key, "columns",
                                 "iteration,fourier_error,llk,free_llk,sharpness,support_fraction,"
                                 "outside_fraction");
    free(table);
    free(object);
    free(support);
    if (st != BCDI_OK) {
        bcdi_h5_abort(w);
        return bcdi_error_prefix(st, "writing '%s': ", path);
    }
    return bcdi_h5_commit(w);
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
            size_t sshape[3];
            bcdi_cf *object = NULL;
            st = bcdi_cxi_read_object(params.support_file, sshape, &object, &support_file);
            free(object);
            if (st == BCDI_OK && memcmp(sshape, shape, sizeof shape) != 0)
                st = bcdi_error(BCDI_ERR_FORMAT,
                                "support_file '%s' is %zux%zux%zu but the data is %zux%zux%zu",
                                params.support_file, sshape[0], sshape[1], sshape[2], shape[0],
                                shape[1], shape[2]);
        }
    }
    if (st == BCDI_OK) st = bcdi_backend_open(bcdi_config_string(args.config, "device"), &be);
    if (st == BCDI_OK) {
        be->fft_measure = fft_measure;
        /* estimated plans ignore wisdom: they stay the same whatever the file holds */
        if (fft_measure)
            st = bcdi_backend_set_fft_wisdom(be, bcdi_config_string(args.config, "fft_wisdom"));
        else if (be->kind == BCDI_BACKEND_CPU)
            bcdi_log(BCDI_LOG_NOTICE,
                     "FFTW planner 'estimate': no planning time, but transforms up to 2.5x slower "
                     "than measured plans at 256^3 (docs/performance.md)");
    }
    if (st == BCDI_OK) {
        bcdi_log(BCDI_LOG_INFO, "phasing %zux%zux%zu, %ld run(s) x %ld generation(s) on %s",
                 shape[0], shape[1], shape[2], params.runs, params.generations, be->device_name);
        bcdi_phasing_data data = {{shape[0], shape[1], shape[2]}, intensity, mask, support_file};
        cli_progress progress;
        cli_progress_init(&progress, "phase", bcdi_metric_name(params.metric), args.quiet);
        st = bcdi_phase(be, &params, &data, cli_progress_update, &progress, &result);
        cli_progress_finish(&progress);
    }
    if (st == BCDI_OK) {
        result_context ctx = {&args, &params,     &result,
                              be,    mask,        have_geometry ? &geometry : NULL,
                              crop,  crop_margin, deflate};
        char path[4200];
        size_t written = 0;
        /* every kept run, then the best under the requested name */
        for (size_t k = 0; st == BCDI_OK && result.count > 1 && k < result.count; ++k) {
            run_path(args.output, k, path, sizeof path);
            st = write_result(&ctx, k, path);
            if (st == BCDI_OK) written = k + 1;
        }
        if (st == BCDI_OK) st = write_result(&ctx, 0, args.output);
        /* a failed phase leaves no output: remove the kept runs already written */
        for (size_t k = 0; st != BCDI_OK && k < written; ++k) {
            run_path(args.output, k, path, sizeof path);
            remove(path);
        }
        if (st == BCDI_OK)
            bcdi_log(BCDI_LOG_INFO,
                     "best run %ld: Fourier error %.4g, llk %.4g, support %.2f%% of the box; "
                     "%.1f s; wrote %s%s",
                     result.runs[0].run_id, result.runs[0].final.fourier_error,
                     result.runs[0].final.llk, 100.0 * result.runs[0].final.support_fraction,
                     result.elapsed_s, args.output,
                     result.count > 1 ? " and the kept runs as <stem>-run<K>.cxi" : "");
    }
    bcdi_phasing_result_free(&result);
    bcdi_backend_close(be);
    free(intensity);
    free(mask);
    free(support_file);
    cli_args_free(&args);
    return st == BCDI_OK ? CLI_EXIT_OK : cli_fail("phase", st);
}
