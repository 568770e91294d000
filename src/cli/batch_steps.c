/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi batch`: one scan's steps and the comparison (batch_run.h). Each step is skipped when
 * its record in the earlier status.json is done with the same keys and input and its output
 * still hashes as recorded (hpc/batch.h); else it runs in this process through the same
 * functions as its subcommand (stages.h), and its record says how it ended. */
#include "batch_run.h"
#include "cli.h"
#include "stages.h"

#include "bcdi/log.h"
#include "core/hash.h"
#include "core/interrupt.h"
#include "core/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int exists(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0;
}

static void record_start(batch_ctx *ctx, bcdi_batch_record *r, uint64_t keys, uint64_t input)
{
    memset(r, 0, sizeof *r);
    r->state = BCDI_BATCH_RUNNING;
    bcdi_batch_now(r->start);
    snprintf(r->host, sizeof r->host, "%s", ctx->host);
    r->rank = bcdi_hpc_rank(ctx->world);
    r->keys_hash = keys;
    r->input_hash = input;
}

static void record_end(bcdi_batch_record *r, bcdi_status st, uint64_t output_hash)
{
    bcdi_batch_now(r->end);
    if (st == BCDI_OK) {
        r->state = BCDI_BATCH_DONE;
        r->output_hash = output_hash;
        r->error[0] = '\0';
        return;
    }
    r->state = st == BCDI_ERR_INTERRUPTED ? BCDI_BATCH_INTERRUPTED : BCDI_BATCH_FAILED;
    const char *detail = bcdi_last_error();
    snprintf(r->error, sizeof r->error, "%s%s%s", bcdi_strerror(st), detail[0] ? ": " : "", detail);
}

/* The earlier record when it may stand for this run's: copied as skipped. */
static int skip_if_current(batch_ctx *ctx, size_t k, bcdi_batch_stage step, uint64_t keys,
                           uint64_t input, uint64_t output_now)
{
    const bcdi_batch_record *before =
        ctx->previous_ready
            ? bcdi_batch_status_find(&ctx->previous, ctx->manifest.scans[k].label, step)
            : NULL;
    if (!bcdi_batch_is_current(before, keys, input, output_now)) return 0;
    bcdi_batch_record *r =
        step == BCDI_BATCH_COMPARE ? &ctx->status.compare : &ctx->mine.steps[k][step];
    *r = *before;
    r->skipped = 1;
    bcdi_log(BCDI_LOG_INFO, "%s: done by an earlier run, inputs and keys unchanged: skipped",
             bcdi_batch_stage_name(step));
    batch_publish(ctx, k, step);
    return 1;
}

/* A folder of the layout (OUTDIR/LABEL), made through an output transaction when missing. */
static bcdi_status ensure_folder(const char *dir)
{
    struct stat s;
    if (stat(dir, &s) == 0)
        return S_ISDIR(s.st_mode) ? BCDI_OK
                                  : bcdi_error(BCDI_ERR_IO, "'%s' exists and is not a folder", dir);
    bcdi_output *tx = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    if (st == BCDI_OK) st = bcdi_output_folder(tx, dir);
    return st == BCDI_OK ? bcdi_output_commit(tx) : (bcdi_output_abort(tx), st);
}

static uint64_t hash_or_zero(const char *path)
{
    uint64_t h = 0;
    if (!exists(path) || bcdi_hash_file(path, &h) != BCDI_OK) {
        bcdi_clear_error();
        return 0;
    }
    return h;
}

/* ---- prepare ---- */

static bcdi_status prepare_inputs_hash(const batch_scan *s, const char *input, uint64_t *hash)
{
    uint64_t h = BCDI_HASH_INIT, one = 0;
    bcdi_status st = bcdi_hash_identity(input, &one);
    h = bcdi_hash_bytes(h, &one, sizeof one);
    /* a dataset folder's identity covers the .spec and calibration images beside its frames
     * (one level deep); the frames are one level further */
    char frames[4096];
    if (st == BCDI_OK && bcdi_prepare_dataset_frames(input, frames, sizeof frames)) {
        st = bcdi_hash_identity(frames, &one);
        h = bcdi_hash_bytes(h, &one, sizeof one);
    }
    const char *named[4] = {s->prepare->mask_file, s->prepare->dark_file, s->prepare->flat_file,
                            s->prepare->spec_file};
    const char *keys[4] = {"mask_file", "dark_file", "flat_file", "spec"};
    for (int c = 0; st == BCDI_OK && c < 4; ++c) {
        if (!named[c][0] || !strcmp(named[c], "none")) continue;
        if ((st = bcdi_hash_identity(named[c], &one)) != BCDI_OK)
            st = bcdi_error_prefix(st, "prepare key '%s': ", keys[c]);
        h = bcdi_hash_bytes(h, &one, sizeof one);
    }
    *hash = h;
    return st;
}

static bcdi_status step_prepare(batch_ctx *ctx, size_t k)
{
    batch_scan *s = &ctx->scans[k];
    const char *input = ctx->manifest.scans[k].input;
    bcdi_batch_record *r = &ctx->mine.steps[k][BCDI_BATCH_PREPARE];
    uint64_t keys = bcdi_batch_keys_hash("prepare", s->prepare_cfg), input_hash = 0;
    bcdi_status st = prepare_inputs_hash(s, input, &input_hash);
    if (st == BCDI_OK) {
        uint64_t now = exists(s->summary) ? hash_or_zero(s->prepared) : 0;
        if (skip_if_current(ctx, k, BCDI_BATCH_PREPARE, keys, input_hash, now)) return BCDI_OK;
    }
    record_start(ctx, r, keys, input_hash);
    batch_publish(ctx, k, BCDI_BATCH_PREPARE);
    uint64_t output_hash = 0;
    if (st == BCDI_OK) st = ensure_folder(s->dir);
    if (st == BCDI_OK) {
        bcdi_output_clear_inputs();
        cli_prepare_add_inputs(input, s->prepare);
        st = bcdi_output_check(s->prepared, BCDI_OUTPUT_FILE);
        if (st == BCDI_OK) st = bcdi_output_check(s->summary, BCDI_OUTPUT_FILE);
    }
    if (st == BCDI_OK) st = bcdi_prepare_run(input, s->prepare, s->prepare_cfg, NULL);
    if (st == BCDI_OK) st = bcdi_hash_file(s->prepared, &output_hash);
    record_end(r, st, output_hash);
    batch_publish(ctx, k, BCDI_BATCH_PREPARE);
    return st;
}

/* ---- phase ---- */

/* result.cxi and the kept runs' files. */
static uint64_t phase_outputs_hash(const batch_scan *s)
{
    uint64_t h = hash_or_zero(s->result);
    if (!h) return 0;
    long kept = s->phase.phasing.keep > 1 ? s->phase.phasing.keep : 0;
    for (long run = 0; run < kept; ++run) {
        char path[4400];
        cli_phase_run_path(s->result, (size_t)run, path, sizeof path);
        uint64_t one = hash_or_zero(path);
        if (!one) return 0;
        h = bcdi_hash_bytes(h, &one, sizeof one);
    }
    return h;
}

/* Leader: 1 when phase must run (its record then says running), 0 when it is current. */
static int phase_needed(batch_ctx *ctx, size_t k)
{
    batch_scan *s = &ctx->scans[k];
    uint64_t keys = bcdi_batch_keys_hash("phase", s->phase_cfg);
    uint64_t input = ctx->mine.steps[k][BCDI_BATCH_PREPARE].output_hash;
    if (skip_if_current(ctx, k, BCDI_BATCH_PHASE, keys, input, phase_outputs_hash(s))) return 0;
    record_start(ctx, &ctx->mine.steps[k][BCDI_BATCH_PHASE], keys, input);
    batch_publish(ctx, k, BCDI_BATCH_PHASE);
    return 1;
}

/* Every rank of the group; the leader records. */
static bcdi_status step_phase(batch_ctx *ctx, size_t k)
{
    batch_scan *s = &ctx->scans[k];
    int leader = bcdi_hpc_rank(ctx->group) == 0;
    char label[128];
    snprintf(label, sizeof label, "%s phase", ctx->manifest.scans[k].label);
    cli_phase_job job = {
        .input = s->prepared,
        .output = s->result,
        .options = &s->phase,
        .config = s->phase_cfg,
        .quiet = ctx->quiet || !leader,
        .label = label,
        .team = ctx->group,
    };
    bcdi_output_clear_inputs();
    bcdi_output_add_input(s->prepared);
    bcdi_status st = leader ? cli_phase_check_outputs(&job) : BCDI_OK;
    st = bcdi_hpc_agree(ctx->group, st);
    if (st == BCDI_OK) st = cli_phase_run(&job);
    if (leader) {
        bcdi_batch_record *r = &ctx->mine.steps[k][BCDI_BATCH_PHASE];
        uint64_t output_hash = 0;
        if (st == BCDI_OK) st = bcdi_hash_file(s->result, &output_hash);
        if (st == BCDI_OK) output_hash = phase_outputs_hash(s);
        record_end(r, st, output_hash);
        batch_publish(ctx, k, BCDI_BATCH_PHASE);
    }
    return st;
}

/* ---- analyze ---- */

static bcdi_status step_analyze(batch_ctx *ctx, size_t k)
{
    batch_scan *s = &ctx->scans[k];
    bcdi_batch_record *r = &ctx->mine.steps[k][BCDI_BATCH_ANALYZE];
    uint64_t keys = bcdi_batch_keys_hash("analyze", s->analyze_cfg);
    uint64_t input = ctx->mine.steps[k][BCDI_BATCH_PHASE].output_hash, now = 0;
    if (exists(s->analysis) && bcdi_hash_folder(s->analysis, &now) != BCDI_OK) {
        bcdi_clear_error();
        now = 0;
    }
    if (skip_if_current(ctx, k, BCDI_BATCH_ANALYZE, keys, input, now)) return BCDI_OK;
    record_start(ctx, r, keys, input);
    batch_publish(ctx, k, BCDI_BATCH_ANALYZE);
    bcdi_output_clear_inputs();
    bcdi_output_add_input(s->result);
    bcdi_status st = bcdi_output_check(s->analysis, BCDI_OUTPUT_FOLDER);
    if (st == BCDI_OK) st = cli_analyze_run(s->result, s->analysis, &s->analyze, s->analyze_cfg);
    uint64_t output_hash = 0;
    if (st == BCDI_OK) st = bcdi_hash_folder(s->analysis, &output_hash);
    record_end(r, st, output_hash);
    batch_publish(ctx, k, BCDI_BATCH_ANALYZE);
    return st;
}

bcdi_status batch_run_scan(batch_ctx *ctx, size_t k)
{
    int leader = bcdi_hpc_rank(ctx->group) == 0;
    const char *label = ctx->manifest.scans[k].label;
    bcdi_status st = BCDI_OK;
    /* the leader prepares and tells the group whether phase runs: 1 run, 0 current, -1 stop */
    int plan = -1;
    if (leader) {
        batch_log_scope(label, "prepare");
        st = bcdi_interrupt_check("before scan '%s'", label);
        if (st == BCDI_OK) st = step_prepare(ctx, k);
        if (st == BCDI_OK) st = bcdi_interrupt_check("after scan '%s' was prepared", label);
        batch_log_scope(label, "phase");
        if (st == BCDI_OK) plan = phase_needed(ctx, k);
    }
    bcdi_status sent = bcdi_hpc_bcast(ctx->group, &plan, sizeof plan, 0);
    if (sent != BCDI_OK) return sent;
    if (plan == 1) {
        batch_log_scope(label, "phase");
        st = step_phase(ctx, k);
    }
    if (leader && st == BCDI_OK && plan >= 0) {
        batch_log_scope(label, "analyze");
        st = bcdi_interrupt_check("after scan '%s' was phased", label);
        if (st == BCDI_OK) st = step_analyze(ctx, k);
    }
    batch_log_scope(NULL, NULL);
    return st;
}

/* ---- compare ---- */

static void compare_label(const batch_ctx *ctx, size_t k, char *out, size_t cap)
{
    const bcdi_batch_scan *scan = &ctx->manifest.scans[k];
    if (scan->voltage == scan->voltage) /* given */
        snprintf(out, cap, "%s (%g V)", scan->label, scan->voltage);
    else
        snprintf(out, cap, "%s", scan->label);
}

/* (rank 0, after every scan's records reached ctx->status) */
bcdi_status batch_run_compare(batch_ctx *ctx)
{
    size_t n = ctx->manifest.scan_count;
    bcdi_batch_record *r = &ctx->status.compare;
    batch_log_scope("compare", NULL);
    size_t *chosen = calloc(n, sizeof *chosen);
    bcdi_compare_input *inputs = calloc(n, sizeof *inputs);
    char(*labels)[160] = calloc(n, sizeof *labels);
    if (!chosen || !inputs || !labels) {
        free(chosen), free(inputs), free(labels);
        return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory for compare");
    }
    size_t count = 0, reference = 0;
    uint64_t input_hash = BCDI_HASH_INIT;
    for (size_t k = 0; k < n; ++k) {
        if (ctx->status.steps[k][BCDI_BATCH_ANALYZE].state != BCDI_BATCH_DONE) continue;
        if ((long)k == ctx->reference) reference = count;
        compare_label(ctx, k, labels[count], sizeof labels[count]);
        inputs[count] =
            (bcdi_compare_input){ctx->scans[k].analysis, labels[count], ctx->scans[k].summary};
        snprintf(ctx->status.compared[count], sizeof ctx->status.compared[count], "%s",
                 ctx->manifest.scans[k].label);
        input_hash = bcdi_hash_text(input_hash, labels[count]);
        uint64_t parts[2] = {ctx->status.steps[k][BCDI_BATCH_PREPARE].output_hash,
                             ctx->status.steps[k][BCDI_BATCH_ANALYZE].output_hash};
        input_hash = bcdi_hash_bytes(input_hash, parts, sizeof parts);
        chosen[count++] = k;
    }
    ctx->status.compared_count = count;
    bcdi_status st = BCDI_OK;
    if (n < 2) {
        /* one scan: nothing to compare, and nothing failed */
        memset(r, 0, sizeof *r);
        snprintf(r->error, sizeof r->error, "one scan in the manifest: nothing to compare");
        batch_publish(ctx, 0, BCDI_BATCH_COMPARE);
        free(chosen), free(inputs), free(labels);
        batch_log_scope(NULL, NULL);
        return BCDI_OK;
    }
    if (ctx->reference >= 0 &&
        ctx->status.steps[ctx->reference][BCDI_BATCH_ANALYZE].state != BCDI_BATCH_DONE && count)
        bcdi_log(BCDI_LOG_WARN,
                 "the reference scan '%s' did not reach analyze: '%s' is the "
                 "reference instead",
                 ctx->manifest.scans[ctx->reference].label, ctx->status.compared[0]);
    snprintf(ctx->status.compare_reference, sizeof ctx->status.compare_reference, "%s",
             count ? ctx->status.compared[reference] : "");
    uint64_t keys = bcdi_batch_keys_hash("compare", ctx->compare_cfg);
    input_hash = bcdi_hash_bytes(input_hash, &reference, sizeof reference);
    uint64_t now = 0;
    if (exists(ctx->comparison) && bcdi_hash_folder(ctx->comparison, &now) != BCDI_OK) {
        bcdi_clear_error();
        now = 0;
    }
    if (count >= 2 && skip_if_current(ctx, 0, BCDI_BATCH_COMPARE, keys, input_hash, now)) {
        free(chosen), free(inputs), free(labels);
        batch_log_scope(NULL, NULL);
        return BCDI_OK;
    }
    record_start(ctx, r, keys, input_hash);
    batch_publish(ctx, 0, BCDI_BATCH_COMPARE);
    if (count < 2)
        st = bcdi_error(BCDI_ERR_DATA,
                        "compare needs at least two scans that reached analyze; %zu of %zu did",
                        count, n);
    bcdi_comparison comparison;
    memset(&comparison, 0, sizeof comparison);
    if (st == BCDI_OK) {
        bcdi_output_clear_inputs();
        for (size_t i = 0; i < count; ++i) {
            bcdi_output_add_input(inputs[i].path);
            bcdi_output_add_input(inputs[i].summary_path);
        }
        st = bcdi_output_check(ctx->comparison, BCDI_OUTPUT_FOLDER);
    }
    if (st == BCDI_OK)
        st = bcdi_compare_run(&ctx->compare, &ctx->compare_analysis, inputs, count, reference,
                              &comparison);
    if (st == BCDI_OK) st = bcdi_compare_write(&comparison, &ctx->compare, ctx->comparison);
    bcdi_comparison_free(&comparison);
    uint64_t output_hash = 0;
    if (st == BCDI_OK) st = bcdi_hash_folder(ctx->comparison, &output_hash);
    if (st == BCDI_OK)
        bcdi_log(BCDI_LOG_INFO, "compared %zu scans (reference '%s'): %s/", count,
                 ctx->status.compare_reference, ctx->comparison);
    record_end(r, st, output_hash);
    batch_publish(ctx, 0, BCDI_BATCH_COMPARE);
    free(chosen), free(inputs), free(labels);
    batch_log_scope(NULL, NULL);
    return st;
}
