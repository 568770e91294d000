/* SPDX-License-Identifier: BSD-3-Clause */
/* Checkpoints and resume of the phasing engine (phasing/checkpoint.h), through the library:
 * a run stopped by SIGTERM at several points (inside a generation's batches, at the change of
 * generation, at the last iteration, twice in a row) and resumed ends bit for bit with the
 * result of the run that was never stopped; periodic checkpoints change nothing; a checkpoint
 * of other keys or input is refused, a damaged one named; the result does not depend on how
 * the runs are batched. CPU backend, FFTW_ESTIMATE plans, the 32^3 prepared data of the test
 * support. */
#include "bcdi/phasing.h"
#include "core/interrupt.h"
#include "phasing/checkpoint.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;
static bcdi_phasing_data data;
static bcdi_backend *be;
static char ckpt_path[1024];

static void setup(void)
{
    dir = tu_make_temp_dir("ckpt");
    char prepared[1024];
    snprintf(prepared, sizeof prepared, "%s/prepared.cxi", dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/result.cxi.ckpt", dir);
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_phasing_data_read(prepared, &data), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_backend_open("cpu", &be), BCDI_OK, "%s", bcdi_last_error());
    bcdi_interrupt_request(0);
}

static void teardown(void)
{
    bcdi_backend_close(be);
    bcdi_phasing_data_free(&data);
    tu_remove_tree(dir);
    free(dir);
}

TestSuite(checkpoint, .init = setup, .fini = teardown, .timeout = 300);

/* Three generations of four runs (culled to three, then two), 50 iterations each. */
static void params_of(bcdi_phasing_params *p)
{
    bcdi_phasing_default(p);
    snprintf(p->recipe, sizeof p->recipe, "30*HIO + 10*RAAR + 10*ER");
    p->runs = 4;
    p->keep = 2;
    p->generations = 3;
    p->seed = 11;
}

static bcdi_checkpoint_opts options(double interval)
{
    bcdi_checkpoint_opts c = {ckpt_path, interval, 0, 0x1234, 0x5678, "runs=4\nseed=11\n"};
    return c;
}

/* Asks to stop (as SIGTERM would) once `at` iterations are done. */
typedef struct {
    long at;
    int asked;
} stopper;

static void stop_at(const bcdi_phase_progress *now, void *user)
{
    stopper *s = user;
    if (!s->asked && s->at > 0 && now->done >= s->at) {
        bcdi_interrupt_request(SIGTERM);
        s->asked = 1;
    }
}

static bcdi_status run(const bcdi_phasing_params *p, const bcdi_checkpoint_opts *c, long stop,
                       bcdi_phasing_result *out, int *resumed)
{
    stopper s = {stop, 0};
    bcdi_status st = bcdi_phase_run(be, p, &data, NULL, c, stop_at, &s, out, resumed);
    bcdi_interrupt_request(0);
    return st;
}

static void expect_same(const bcdi_phasing_result *a, const bcdi_phasing_result *b,
                        const char *what)
{
    cr_assert_eq(a->count, b->count, "%s: %zu runs kept, expected %zu", what, b->count, a->count);
    size_t n = a->shape[0] * a->shape[1] * a->shape[2];
    for (size_t k = 0; k < a->count; ++k) {
        const bcdi_run_result *x = &a->runs[k], *y = &b->runs[k];
        cr_expect_eq(x->run_id, y->run_id, "%s: kept run %zu", what, k);
        cr_expect_eq(x->generation, y->generation, "%s", what);
        cr_expect_eq(x->restarts, y->restarts, "%s", what);
        cr_expect(!memcmp(x->object, y->object, n * sizeof *x->object), "%s: kept run %zu differs",
                  what, k);
        cr_expect(!memcmp(x->support, y->support, n), "%s: support %zu differs", what, k);
        cr_expect_eq(x->history_count, y->history_count, "%s", what);
        cr_expect(!memcmp(x->psf_sigma, y->psf_sigma, sizeof x->psf_sigma),
                  "%s: PSF widths of run %zu differ", what, k);
        cr_expect_eq(!x->psf, !y->psf, "%s", what);
        if (x->history_count == y->history_count)
            cr_expect(!memcmp(x->history, y->history, x->history_count * sizeof *x->history),
                      "%s: history of run %zu differs", what, k);
    }
    for (long g = 0; g < a->generations_done; ++g)
        cr_expect_eq(a->metric_best_per_generation[g], b->metric_best_per_generation[g], "%s",
                     what);
}

Test(checkpoint, a_stopped_and_resumed_run_ends_as_the_uninterrupted_one)
{
    bcdi_phasing_params p;
    params_of(&p);
    bcdi_checkpoint_opts c = options(1e9); /* on, but no periodic one in these few seconds */
    bcdi_phasing_result ref;
    int resumed = -1;
    cr_assert_eq(run(&p, &c, 0, &ref, &resumed), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(resumed, 0);
    cr_expect(!tu_file_exists(ckpt_path), "no stop, no checkpoint");
    /* inside generation 1; at its last iteration (the signal lands during the change of
     * generation and the checkpoint holds the bred children); inside generation 3 (two runs
     * culled), twice (a signal after the last iteration finds the work done) */
    const long stops[] = {20, 50, 130, 140};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; ++i) {
        bcdi_phasing_result out;
        bcdi_status st = run(&p, &c, stops[i], &out, &resumed);
        cr_assert_eq(st, BCDI_ERR_INTERRUPTED, "stop at %ld: %s", stops[i], bcdi_last_error());
        cr_expect(strstr(bcdi_last_error(), "checkpoint written to") != NULL, "%s",
                  bcdi_last_error());
        cr_assert(tu_file_exists(ckpt_path), "stop at %ld left no checkpoint", stops[i]);
        st = run(&p, &c, 0, &out, &resumed);
        cr_assert_eq(st, BCDI_OK, "resume after %ld: %s", stops[i], bcdi_last_error());
        cr_expect_eq(resumed, 1);
        char what[64];
        snprintf(what, sizeof what, "stopped at %ld", stops[i]);
        expect_same(&ref, &out, what);
        bcdi_phasing_result_free(&out);
        remove(ckpt_path); /* the CLI removes it once the result is written */
    }
    /* stopped twice, resumed twice */
    bcdi_phasing_result out;
    cr_assert_eq(run(&p, &c, 30, &out, &resumed), BCDI_ERR_INTERRUPTED);
    cr_assert_eq(run(&p, &c, 60, &out, &resumed), BCDI_ERR_INTERRUPTED, "%s", bcdi_last_error());
    cr_expect_eq(resumed, 1);
    cr_assert_eq(run(&p, &c, 0, &out, &resumed), BCDI_OK, "%s", bcdi_last_error());
    expect_same(&ref, &out, "stopped twice");
    bcdi_phasing_result_free(&out);
    remove(ckpt_path);
    /* frequent checkpoints change nothing (every 0.02 s: the whole run takes about 0.1 s with
     * the fused iteration on the 2-core CI machine) */
    bcdi_checkpoint_opts often = options(0.02);
    cr_assert_eq(run(&p, &often, 0, &out, &resumed), BCDI_OK, "%s", bcdi_last_error());
    cr_expect(tu_file_exists(ckpt_path), "periodic checkpoints were written");
    expect_same(&ref, &out, "periodic checkpoints");
    bcdi_phasing_result_free(&out);
    remove(ckpt_path);
    /* checkpoints off: a stop leaves nothing */
    bcdi_checkpoint_opts off = options(0);
    cr_assert_eq(run(&p, &off, 20, &out, &resumed), BCDI_ERR_INTERRUPTED);
    cr_expect(!tu_file_exists(ckpt_path));
    bcdi_phasing_result_free(&ref);
}

/* The best runs of earlier generations (the hall) travel through the checkpoint: the last
 * generation's recipe is deliberately poor, so every kept run comes from an earlier one, and a
 * run stopped inside the last generation resumes to the same kept runs. */
Test(checkpoint, the_best_runs_of_earlier_generations_survive_a_resume)
{
    bcdi_phasing_params p;
    params_of(&p);
    snprintf(p.recipe, sizeof p.recipe, "%s",
             "30*HIO + 10*RAAR + 10*ER;30*HIO + 10*RAAR + 10*ER;20*HIO(beta=1.5)");
    bcdi_checkpoint_opts c = options(1e9);
    bcdi_phasing_result ref, out;
    int resumed = -1;
    cr_assert_eq(run(&p, &c, 0, &ref, &resumed), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(ref.count, 2);
    for (size_t k = 0; k < ref.count; ++k)
        cr_expect_lt(ref.runs[k].generation, 2, "kept run %zu is from the poor last generation", k);
    /* progress counts iterations per run: 50 + 50 before the last generation (20), called every 10:
     * stop at 110 */
    cr_assert_eq(run(&p, &c, 110, &out, &resumed), BCDI_ERR_INTERRUPTED, "%s", bcdi_last_error());
    cr_assert_eq(run(&p, &c, 0, &out, &resumed), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(resumed, 1);
    expect_same(&ref, &out, "stopped in the last generation");
    bcdi_phasing_result_free(&out);
    bcdi_phasing_result_free(&ref);
    remove(ckpt_path);
}

/* psf=gaussian: the PSF widths travel in the checkpoint (stops right after a PSF update, at the
 * change of generation, inside generation 3) */
Test(checkpoint, a_resumed_run_keeps_its_partial_coherence_psf)
{
    bcdi_phasing_params p;
    params_of(&p);
    p.psf_model = BCDI_PSF_GAUSSIAN;
    p.psf_start = 15;
    p.psf_period = 5;
    bcdi_checkpoint_opts c = options(1e9);
    bcdi_phasing_result ref;
    int resumed = -1;
    cr_assert_eq(run(&p, &c, 0, &ref, &resumed), BCDI_OK, "%s", bcdi_last_error());
    cr_assert(ref.runs[0].psf != NULL, "the PSF is returned");
    cr_expect_neq(ref.runs[0].psf_sigma[0], p.psf_sigma, "the PSF was refined");
    const long stops[] = {20, 50, 130};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; ++i) {
        bcdi_phasing_result out;
        cr_assert_eq(run(&p, &c, stops[i], &out, &resumed), BCDI_ERR_INTERRUPTED, "%s",
                     bcdi_last_error());
        cr_assert_eq(run(&p, &c, 0, &out, &resumed), BCDI_OK, "%s", bcdi_last_error());
        cr_expect_eq(resumed, 1);
        char what[64];
        snprintf(what, sizeof what, "psf, stopped at %ld", stops[i]);
        expect_same(&ref, &out, what);
        bcdi_phasing_result_free(&out);
        remove(ckpt_path);
    }
    bcdi_phasing_result_free(&ref);
}

Test(checkpoint, other_keys_or_input_are_refused_and_a_damaged_file_named)
{
    bcdi_phasing_params p;
    params_of(&p);
    bcdi_checkpoint_opts c = options(1e9);
    bcdi_phasing_result out;
    int resumed;
    cr_assert_eq(run(&p, &c, 20, &out, &resumed), BCDI_ERR_INTERRUPTED);
    bcdi_checkpoint_opts keys = c;
    keys.keys_hash ^= 1;
    keys.keys_text = "runs=4\nseed=12\n";
    cr_expect_eq(run(&p, &keys, 0, &out, &resumed), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "seed=12") && strstr(bcdi_last_error(), "restart=true"),
              "the message names the key that differs: %s", bcdi_last_error());
    bcdi_checkpoint_opts input = c;
    input.input_hash ^= 1;
    cr_expect_eq(run(&p, &input, 0, &out, &resumed), BCDI_ERR_CONFIG);
    cr_expect(strstr(bcdi_last_error(), "another input") != NULL, "%s", bcdi_last_error());
    /* restart=true: the checkpoint is not read */
    bcdi_checkpoint_opts discard = keys;
    discard.discard = 1;
    cr_assert_eq(run(&p, &discard, 0, &out, &resumed), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(resumed, 0);
    bcdi_phasing_result_free(&out);
    /* cut short: named as damaged, not resumed from half a population */
    cr_assert_eq(run(&p, &c, 20, &out, &resumed), BCDI_ERR_INTERRUPTED);
    FILE *f = fopen(ckpt_path, "rb+");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(ckpt_path, size - 100), 0);
    cr_expect_eq(run(&p, &c, 0, &out, &resumed), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "damaged") != NULL, "%s", bcdi_last_error());
}

Test(checkpoint, results_do_not_depend_on_how_runs_are_batched)
{
    bcdi_phasing_params p;
    params_of(&p);
    p.runs = 5;
    p.keep = 5;
    p.generations = 1;
    bcdi_phasing_result all, one, three;
    cr_assert_eq(bcdi_phase(be, &p, &data, NULL, NULL, &all), BCDI_OK, "%s", bcdi_last_error());
    p.batch = 1;
    cr_assert_eq(bcdi_phase(be, &p, &data, NULL, NULL, &one), BCDI_OK);
    p.batch = 3;
    cr_assert_eq(bcdi_phase(be, &p, &data, NULL, NULL, &three), BCDI_OK);
    expect_same(&all, &one, "batch=1 against one batch of 5");
    expect_same(&all, &three, "batch=3 against one batch of 5");
    bcdi_phasing_result_free(&all);
    bcdi_phasing_result_free(&one);
    bcdi_phasing_result_free(&three);
}
