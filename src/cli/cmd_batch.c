/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi batch series.ini [STAGE.KEY=value ...] -o OUTDIR: prepare -> phase -> analyze for
 * every scan of a manifest, then compare across them (hpc/batch.h, docs/hpc.md).
 *
 * Every configuration is built and checked before any scan runs. The steps run in this process
 * (batch_steps.c), scan after scan; one failing scan is recorded and the others go on. Under
 * MPI the ranks form groups of ranks_per_scan; each group's leader asks rank 0 for the next
 * scan (rank 0 answers from a thread and is the only writer of status.json), the group phases
 * it together, and rank 0 compares at the end. */
#include "batch_run.h"
#include "cli.h"

#include "bcdi/log.h"
#include "core/interrupt.h"
#include "core/output.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const usage =
    "braggcdi batch series.ini [STAGE.KEY=value ...] [--device D] -o OUTDIR";

static void print_help(void)
{
    printf(
        "usage: %s\n\n"
        "Runs prepare -> phase -> analyze for every scan of a manifest, then compare across\n"
        "the scans that succeeded (in manifest order). The manifest is an INI file:\n\n"
        "  [prepare]            keys of 'braggcdi prepare' for every scan\n"
        "  [phase]              keys of 'braggcdi phase'\n"
        "  [analyze]            keys of 'braggcdi analyze'\n"
        "  [compare]            keys of 'braggcdi compare' (reference = a scan's label or\n"
        "                       1-based position)\n"
        "  [batch]              the keys below\n"
        "  [scan LABEL]         one per scan: input = PATH (relative to the manifest),\n"
        "                       optional voltage = 2.7, and overrides prepare.KEY = value,\n"
        "                       phase.KEY = value, analyze.KEY = value\n\n"
        "STAGE.KEY=value on the command line applies to every scan and wins. Writes\n"
        "OUTDIR/LABEL/{prepared.cxi,prepared_summary.json,result.cxi,analysis/},\n"
        "OUTDIR/comparison/ and OUTDIR/status.json (per scan and step: state, error, times,\n"
        "host, rank, hashes). A failed scan does not stop the others; the exit status is 1 when\n"
        "any scan or compare failed. Rerunning the same command skips the steps whose inputs,\n"
        "keys and outputs are unchanged, and resumes an interrupted phase from its checkpoint.\n"
        "Under mpirun/srun, groups of ranks_per_scan ranks take the scans one after another.\n"
        "See docs/hpc.md.\n\n"
        "options:\n"
        "  -o, --output DIR    output folder (required)\n"
        "  --device D          phase.device=D for every scan\n"
        "  -q, --quiet         only warnings and errors\n"
        "  -h, --help          this help\n\n"
        "keys of [batch]:\n",
        usage);
    const bcdi_param_table *t = bcdi_batch_param_table();
    char accepts[256];
    for (size_t i = 0; i < t->count; ++i)
        printf("  %s = %s   %s\n      %s\n", t->specs[i].key, t->specs[i].default_value,
               bcdi_param_describe(&t->specs[i], accepts, sizeof accepts), t->specs[i].help);
}

/* ---- log lines: "braggcdi batch [s1 phase]: ..." ---- */

static char log_scope[160];
static int log_quiet, log_rank = -1;

void batch_log_scope(const char *label, const char *step)
{
    if (!label)
        log_scope[0] = '\0';
    else
        snprintf(log_scope, sizeof log_scope, "[%s%s%s] ", label, step ? " " : "",
                 step ? step : "");
}

static void batch_sink(bcdi_log_level level, const char *message, void *user)
{
    (void)user;
    if (level == BCDI_LOG_DEBUG || (level == BCDI_LOG_INFO && log_quiet)) return;
    char rank[24] = "";
    if (log_rank >= 0) snprintf(rank, sizeof rank, "rank %d ", log_rank);
    fprintf(stderr, "braggcdi batch %s%s%s%s\n", rank, log_scope,
            level == BCDI_LOG_WARN ? "warning: " : "", message);
}

/* ---- status.json: rank 0 writes it; other leaders send it their records ---- */

static void write_status(batch_ctx *ctx)
{
    bcdi_status st = bcdi_batch_status_write(&ctx->status, ctx->status_path);
    if (st != BCDI_OK)
        fprintf(stderr, "braggcdi batch: warning: cannot write %s: %s\n", ctx->status_path,
                bcdi_last_error());
}

void batch_publish(batch_ctx *ctx, size_t k, bcdi_batch_stage step)
{
    if (step == BCDI_BATCH_COMPARE) { /* rank 0, alone by then */
        write_status(ctx);
        return;
    }
    bcdi_batch_record *r = &ctx->mine.steps[k][step];
    if (ctx->groups == 1) {
        if (bcdi_hpc_rank(ctx->world) != 0) return;
        pthread_mutex_lock(&ctx->lock);
        ctx->status.steps[k][step] = *r;
        write_status(ctx);
        pthread_mutex_unlock(&ctx->lock);
        return;
    }
    /* "k step {record}" to the dispatcher; it arrives before this leader's next request */
    char *json = bcdi_batch_record_dump(r);
    size_t len = json ? strlen(json) + 64 : 0;
    char *message = json ? malloc(len) : NULL;
    if (message) {
        snprintf(message, len, "%zu %d %s", k, (int)step, json);
        if (bcdi_hpc_send(ctx->ask, 0, BATCH_TAG_RECORD, message, strlen(message) + 1) != BCDI_OK)
            fprintf(stderr, "braggcdi batch: warning: a record did not reach rank 0: %s\n",
                    bcdi_last_error());
    }
    free(message);
    free(json);
}

/* Rank 0's dispatcher: the next scan to whichever leader asks, records into status.json. */
static void *dispatch(void *arg)
{
    batch_ctx *ctx = arg;
    size_t next = ctx->only >= 0 ? (size_t)ctx->only : 0;
    size_t n = ctx->only >= 0 ? (size_t)ctx->only + 1 : ctx->manifest.scan_count;
    int active = ctx->groups;
    while (active > 0) {
        int source, tag;
        size_t bytes;
        if (!bcdi_hpc_poll(ctx->ask, &source, &tag, &bytes)) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
            continue;
        }
        char *message = malloc(bytes + 1);
        if (!message || bcdi_hpc_recv(ctx->ask, source, tag, message, bytes) != BCDI_OK) {
            fprintf(stderr, "braggcdi batch: error: rank 0 lost a message from rank %d: %s\n",
                    source, bcdi_last_error());
            bcdi_hpc_abort(ctx->world, CLI_EXIT_FAILURE);
        }
        message[bytes] = '\0';
        if (tag == BATCH_TAG_ASK) {
            /* after a signal no scan is started */
            long give = next < n && !bcdi_interrupted() ? (long)next++ : -1;
            if (give < 0) --active;
            if (bcdi_hpc_send(ctx->reply, source, BATCH_TAG_GIVE, &give, sizeof give) != BCDI_OK)
                bcdi_hpc_abort(ctx->world, CLI_EXIT_FAILURE);
        } else if (tag == BATCH_TAG_QUIT) {
            --active;
        } else if (tag == BATCH_TAG_RECORD) {
            size_t k;
            int step, used = 0;
            bcdi_batch_record r;
            if (sscanf(message, "%zu %d %n", &k, &step, &used) == 2 &&
                k < ctx->manifest.scan_count && step >= 0 && step < BCDI_BATCH_SCAN_STEPS &&
                bcdi_batch_record_load(message + used, &r) == BCDI_OK) {
                pthread_mutex_lock(&ctx->lock);
                ctx->status.steps[k][step] = r;
                write_status(ctx);
                pthread_mutex_unlock(&ctx->lock);
            }
        }
        free(message);
    }
    return NULL;
}

/* A group leader's next scan: from rank 0's dispatcher, or the next in order alone. */
static long next_scan(batch_ctx *ctx, long *cursor)
{
    if (ctx->groups == 1) {
        if (ctx->only >= 0) *cursor = *cursor ? ctx->only + 1 : ctx->only;
        size_t end = ctx->only >= 0 ? (size_t)ctx->only + 1 : ctx->manifest.scan_count;
        if (bcdi_interrupted() || (size_t)*cursor >= end) return -1;
        return (*cursor)++;
    }
    long give = -1;
    char nothing = 0;
    if (bcdi_hpc_send(ctx->ask, 0, BATCH_TAG_ASK, &nothing, 1) != BCDI_OK ||
        bcdi_hpc_recv(ctx->reply, 0, BATCH_TAG_GIVE, &give, sizeof give) != BCDI_OK) {
        fprintf(stderr, "braggcdi batch: error: rank %d cannot reach rank 0: %s\n",
                bcdi_hpc_rank(ctx->world), bcdi_last_error());
        bcdi_hpc_abort(ctx->world, CLI_EXIT_FAILURE);
    }
    return give;
}

/* ---- configurations, all checked before any scan runs ---- */

static bcdi_status bind_stage(batch_ctx *ctx, size_t k, bcdi_batch_stage stage,
                              const bcdi_param_table *table, void *params, bcdi_config **cfg)
{
    bcdi_status st =
        bcdi_batch_stage_config(&ctx->manifest, k, stage, table->specs, table->count, cfg);
    if (st == BCDI_OK && stage == BCDI_BATCH_PREPARE)
        st = bcdi_config_set(*cfg, "output", ctx->scans[k].prepared, "batch (OUTDIR/LABEL)");
    if (st == BCDI_OK && stage == BCDI_BATCH_PREPARE)
        st = bcdi_config_set(*cfg, "summary_json", ctx->scans[k].summary, "batch (OUTDIR/LABEL)");
    if (st == BCDI_OK) st = bcdi_config_bind(*cfg, table, params);
    return st;
}

static bcdi_status build_configs(batch_ctx *ctx)
{
    size_t n = ctx->manifest.scan_count;
    ctx->scans = calloc(n, sizeof *ctx->scans);
    if (!ctx->scans) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
    bcdi_status st = BCDI_OK;
    for (size_t k = 0; st == BCDI_OK && k < n; ++k) {
        batch_scan *s = &ctx->scans[k];
        const char *label = ctx->manifest.scans[k].label;
        snprintf(s->dir, sizeof s->dir, "%s/%s", ctx->outdir, label);
        snprintf(s->prepared, sizeof s->prepared, "%s/prepared.cxi", s->dir);
        snprintf(s->summary, sizeof s->summary, "%s/prepared_summary.json", s->dir);
        snprintf(s->result, sizeof s->result, "%s/result.cxi", s->dir);
        snprintf(s->analysis, sizeof s->analysis, "%s/analysis", s->dir);
        s->prepare = malloc(sizeof *s->prepare);
        if (!s->prepare) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
        st = bind_stage(ctx, k, BCDI_BATCH_PREPARE, bcdi_prepare_param_table(), s->prepare,
                        &s->prepare_cfg);
        if (st == BCDI_OK)
            st = bind_stage(ctx, k, BCDI_BATCH_PHASE, bcdi_phase_param_table(), &s->phase,
                            &s->phase_cfg);
        if (st == BCDI_OK)
            st = bind_stage(ctx, k, BCDI_BATCH_ANALYZE, bcdi_analysis_param_table(), &s->analyze,
                            &s->analyze_cfg);
        if (st == BCDI_OK)
            bcdi_hpc_bind_device(ctx->world, s->phase.device, sizeof s->phase.device);
    }
    if (st != BCDI_OK) return st;
    /* compare: its keys then analyze's, as `braggcdi compare` takes them */
    const bcdi_param_table *ct = bcdi_compare_param_table(), *at = bcdi_analysis_param_table();
    ctx->compare_specs = malloc((ct->count + at->count) * sizeof *ctx->compare_specs);
    if (!ctx->compare_specs) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory");
    memcpy(ctx->compare_specs, ct->specs, ct->count * sizeof *ct->specs);
    memcpy(ctx->compare_specs + ct->count, at->specs, at->count * sizeof *at->specs);
    st = bcdi_batch_stage_config(&ctx->manifest, SIZE_MAX, BCDI_BATCH_COMPARE, ctx->compare_specs,
                                 ct->count + at->count, &ctx->compare_cfg);
    if (st == BCDI_OK) st = bcdi_config_bind(ctx->compare_cfg, ct, &ctx->compare);
    if (st == BCDI_OK) st = bcdi_config_bind(ctx->compare_cfg, at, &ctx->compare_analysis);
    /* the reference: a label or a 1-based position in the manifest */
    ctx->reference = -1;
    const char *ref = ctx->compare.reference;
    if (st == BCDI_OK && ref[0]) {
        for (size_t k = 0; k < n && ctx->reference < 0; ++k)
            if (!strcmp(ctx->manifest.scans[k].label, ref)) ctx->reference = (long)k;
        char *end = NULL;
        long index = strtol(ref, &end, 10);
        if (ctx->reference < 0 && end != ref && *end == '\0' && index >= 1 && (size_t)index <= n)
            ctx->reference = index - 1;
        if (ctx->reference < 0)
            st = bcdi_error(BCDI_ERR_CONFIG,
                            "%s: key 'reference' is '%s', expected a scan's label or its "
                            "position (1..%zu)",
                            bcdi_config_origin(ctx->compare_cfg, "reference"), ref, n);
    }
    /* batch.scan: a label or a 1-based position */
    ctx->only = -1;
    const char *only = ctx->params.scan;
    if (st == BCDI_OK && only[0]) {
        for (size_t k = 0; k < n && ctx->only < 0; ++k)
            if (!strcmp(ctx->manifest.scans[k].label, only)) ctx->only = (long)k;
        char *end = NULL;
        long index = strtol(only, &end, 10);
        if (ctx->only < 0 && end != only && *end == '\0' && index >= 1 && (size_t)index <= n)
            ctx->only = index - 1;
        if (ctx->only < 0)
            st = bcdi_error(BCDI_ERR_CONFIG,
                            "key 'scan' is '%s', expected a scan's label or its position (1..%zu)",
                            only, n);
    }
    return st;
}

static void free_ctx(batch_ctx *ctx)
{
    for (size_t k = 0; ctx->scans && k < ctx->manifest.scan_count; ++k) {
        free(ctx->scans[k].prepare);
        bcdi_config_free(ctx->scans[k].prepare_cfg);
        bcdi_config_free(ctx->scans[k].phase_cfg);
        bcdi_config_free(ctx->scans[k].analyze_cfg);
    }
    free(ctx->scans);
    bcdi_config_free(ctx->compare_cfg);
    free(ctx->compare_specs);
    bcdi_batch_status_free(&ctx->status);
    bcdi_batch_status_free(&ctx->mine);
    if (ctx->previous_ready) bcdi_batch_status_free(&ctx->previous);
    bcdi_batch_manifest_free(&ctx->manifest);
}

/* ---- arguments ---- */

static int parse_args(batch_ctx *ctx, int argc, char **argv, const char **manifest,
                      const char ***overrides, size_t *override_count)
{
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help();
            return -1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            ctx->quiet = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "braggcdi batch: error: %s needs a folder\n", a);
                return CLI_EXIT_USAGE;
            }
            ctx->outdir = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            ctx->outdir = a + 9;
        } else if (!strcmp(a, "--device") || !strncmp(a, "--device=", 9)) {
            const char *value = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value || !*value) {
                fprintf(stderr, "braggcdi batch: error: --device needs a value\n");
                return CLI_EXIT_USAGE;
            }
            static char device[80];
            snprintf(device, sizeof device, "phase.device=%s", value);
            (*overrides)[(*override_count)++] = device;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "braggcdi batch: error: unknown option '%s' (see --help)\n", a);
            return CLI_EXIT_USAGE;
        } else if (strchr(a, '=')) {
            (*overrides)[(*override_count)++] = a;
        } else if (!*manifest) {
            *manifest = a;
        } else {
            fprintf(stderr,
                    "braggcdi batch: error: unexpected argument '%s' (the manifest is "
                    "'%s'; overrides are STAGE.KEY=value)\n",
                    a, *manifest);
            return CLI_EXIT_USAGE;
        }
    }
    if (!*manifest || !ctx->outdir) {
        fprintf(stderr, "braggcdi batch: error: missing %s\nusage: %s\n",
                *manifest ? "-o/--output" : "the manifest", usage);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The output folder: made when missing (its parent must exist), refused when it is a file.
 * A plain mkdir, not a transaction: it only holds the scans' outputs (each written through its
 * own), and the tasks of a job array may all make it at once. */
static bcdi_status prepare_outdir(const char *outdir)
{
    bcdi_status st = bcdi_output_check(outdir, BCDI_OUTPUT_FOLDER);
    if (st != BCDI_OK) return st;
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
        return bcdi_error(BCDI_ERR_IO, "cannot make the output folder '%s': %s", outdir,
                          strerror(errno));
    return bcdi_output_check(outdir, BCDI_OUTPUT_FOLDER);
}

/* Groups of ranks_per_scan ranks; more than one needs rank 0's dispatcher thread. */
static bcdi_status make_groups(batch_ctx *ctx)
{
    int size = bcdi_hpc_size(ctx->world), rank = bcdi_hpc_rank(ctx->world);
    long per = ctx->params.ranks_per_scan;
    int groups = per <= 0 || per >= size ? 1 : (int)(size / per);
    if (groups > 1 && !bcdi_hpc_threads_ok(ctx->world)) {
        if (rank == 0)
            bcdi_log(BCDI_LOG_WARN,
                     "MPI gave no MPI_THREAD_MULTIPLE: the %d ranks work on one "
                     "scan at a time",
                     size);
        groups = 1;
    }
    if ((size_t)groups > ctx->manifest.scan_count) groups = (int)ctx->manifest.scan_count;
    ctx->groups = groups;
    int color = groups == 1 ? 0 : (int)(rank / per < groups ? rank / per : groups - 1);
    bcdi_status st = groups == 1 ? BCDI_OK : bcdi_hpc_split(ctx->world, color, &ctx->group);
    if (groups == 1) ctx->group = ctx->world;
    if (st == BCDI_OK && groups > 1) st = bcdi_hpc_split(ctx->world, 0, &ctx->ask);
    if (st == BCDI_OK && groups > 1) st = bcdi_hpc_split(ctx->world, 0, &ctx->reply);
    return st;
}

int cmd_batch(int argc, char **argv)
{
    batch_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    pthread_mutex_init(&ctx.lock, NULL);
    ctx.world = cli_world();
    int rank = bcdi_hpc_rank(ctx.world), size = bcdi_hpc_size(ctx.world);
    const char *manifest_path = NULL;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    size_t override_count = 0;
    if (!overrides) return CLI_EXIT_FAILURE;
    int rc = parse_args(&ctx, argc, argv, &manifest_path, &overrides, &override_count);
    if (rc != CLI_EXIT_OK) {
        free(overrides);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    log_quiet = ctx.quiet || rank != 0;
    log_rank = size > 1 ? rank : -1;
    bcdi_set_log_sink(batch_sink, NULL);
    /* every key of every scan checked before anything runs */
    bcdi_status st = bcdi_batch_manifest_read(manifest_path, &ctx.manifest);
    for (size_t i = 0; st == BCDI_OK && i < override_count; ++i)
        st = bcdi_batch_add_override(&ctx.manifest, overrides[i]);
    free(overrides);
    if (st == BCDI_OK) st = bcdi_batch_params_load(&ctx.manifest, &ctx.params);
    if (st == BCDI_OK) st = build_configs(&ctx);
    bcdi_batch_status_path(
        ctx.outdir, st == BCDI_OK && ctx.only >= 0 ? ctx.manifest.scans[ctx.only].label : NULL,
        ctx.status_path, sizeof ctx.status_path);
    snprintf(ctx.comparison, sizeof ctx.comparison, "%s/comparison", ctx.outdir);
    if (gethostname(ctx.host, sizeof ctx.host) != 0) snprintf(ctx.host, sizeof ctx.host, "?");
    ctx.host[sizeof ctx.host - 1] = '\0';
    /* rank 0 makes the folder; every rank reads the earlier status before rank 0 rewrites it */
    if (st == BCDI_OK && rank == 0) st = prepare_outdir(ctx.outdir);
    st = bcdi_hpc_agree(ctx.world, st);
    if (st == BCDI_OK)
        st = bcdi_batch_status_read_previous(&ctx.manifest, ctx.outdir, &ctx.previous,
                                             &ctx.have_previous);
    ctx.previous_ready = st == BCDI_OK;
    if (st == BCDI_OK) st = bcdi_batch_status_init(&ctx.status, &ctx.manifest, ctx.outdir);
    if (st == BCDI_OK) st = bcdi_batch_status_init(&ctx.mine, &ctx.manifest, ctx.outdir);
    st = bcdi_hpc_agree(ctx.world, st);
    if (st == BCDI_OK) st = make_groups(&ctx);
    st = bcdi_hpc_agree(ctx.world, st);
    /* every group leader says what its scans do */
    if (st == BCDI_OK) log_quiet = ctx.quiet || bcdi_hpc_rank(ctx.group) != 0;
    if (st != BCDI_OK) {
        rc = rank == 0 ? cli_fail("batch", st)
                       : (st == BCDI_ERR_CONFIG || st == BCDI_ERR_INVALID_ARG ? CLI_EXIT_USAGE
                                                                              : CLI_EXIT_FAILURE);
        free_ctx(&ctx);
        return rc;
    }
    if (rank == 0) {
        bcdi_log(BCDI_LOG_INFO, "%zu scan(s) from %s into %s/%s", ctx.manifest.scan_count,
                 manifest_path, ctx.outdir,
                 ctx.have_previous ? " (resuming: unchanged steps are skipped)" : "");
        if (size > 1)
            bcdi_log(BCDI_LOG_INFO, "%d ranks in %d group(s) of about %d", size, ctx.groups,
                     size / ctx.groups);
        write_status(&ctx);
    }
    pthread_t dispatcher;
    int dispatching =
        ctx.groups > 1 && rank == 0 && pthread_create(&dispatcher, NULL, dispatch, &ctx) == 0;
    if (ctx.groups > 1 && rank == 0 && !dispatching) {
        fprintf(stderr, "braggcdi batch: error: cannot start rank 0's dispatcher thread\n");
        bcdi_hpc_abort(ctx.world, CLI_EXIT_FAILURE);
    }
    /* the scans: the leader asks, the group follows */
    int leader = bcdi_hpc_rank(ctx.group) == 0;
    long cursor = 0;
    bcdi_status stopped = BCDI_OK;
    for (;;) {
        /* after a signal the leader takes no further scan (and tells the dispatcher once) */
        long k = leader && stopped == BCDI_OK ? next_scan(&ctx, &cursor) : -1;
        if (bcdi_hpc_bcast(ctx.group, &k, sizeof k, 0) != BCDI_OK) bcdi_hpc_abort(ctx.world, 1);
        if (k < 0) break;
        bcdi_status scan_status = batch_run_scan(&ctx, (size_t)k);
        if (scan_status == BCDI_ERR_INTERRUPTED && leader) {
            stopped = scan_status;
            char nothing = 0;
            if (ctx.groups > 1) bcdi_hpc_send(ctx.ask, 0, BATCH_TAG_QUIT, &nothing, 1);
        }
    }
    if (dispatching) pthread_join(dispatcher, NULL);
    /* every scan has its final record at rank 0 */
    if (bcdi_hpc_barrier(ctx.world) != BCDI_OK) bcdi_hpc_abort(ctx.world, CLI_EXIT_FAILURE);
    int failed = 0;
    if (rank == 0) {
        if (!bcdi_interrupted() && ctx.only < 0) batch_run_compare(&ctx);
        size_t done = 0, bad = 0, first = ctx.only >= 0 ? (size_t)ctx.only : 0;
        size_t end = ctx.only >= 0 ? first + 1 : ctx.manifest.scan_count;
        for (size_t k = first; k < end; ++k) {
            bcdi_batch_state s = bcdi_batch_scan_state(&ctx.status, k);
            done += s == BCDI_BATCH_DONE;
            bad += s == BCDI_BATCH_FAILED;
        }
        failed = bad > 0 || ctx.status.compare.state == BCDI_BATCH_FAILED;
        batch_log_scope(NULL, NULL);
        if (bad)
            for (size_t k = 0; k < ctx.manifest.scan_count; ++k)
                if (bcdi_batch_scan_state(&ctx.status, k) == BCDI_BATCH_FAILED)
                    for (int step = 0; step < BCDI_BATCH_SCAN_STEPS; ++step)
                        if (ctx.status.steps[k][step].state == BCDI_BATCH_FAILED)
                            fprintf(stderr, "braggcdi batch: scan '%s' failed at %s: %s\n",
                                    ctx.manifest.scans[k].label,
                                    bcdi_batch_stage_name((bcdi_batch_stage)step),
                                    ctx.status.steps[k][step].error);
        if (ctx.status.compare.state == BCDI_BATCH_FAILED)
            fprintf(stderr, "braggcdi batch: compare failed: %s\n", ctx.status.compare.error);
        write_status(&ctx);
        if (!ctx.quiet)
            fprintf(stderr, "braggcdi batch: %zu of %zu scan(s) done, %zu failed%s; %s\n", done,
                    end - first, bad,
                    bcdi_interrupted() ? ", stopped by a signal (rerun to resume)" : "",
                    ctx.status_path);
    }
    int signal_number = bcdi_interrupted();
    if (stopped != BCDI_OK || signal_number)
        rc = bcdi_interrupt_exit_status(signal_number ? signal_number : SIGTERM);
    else
        rc = failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
    /* every rank ends with rank 0's verdict */
    if (bcdi_hpc_bcast(ctx.world, &rc, sizeof rc, 0) != BCDI_OK) rc = CLI_EXIT_FAILURE;
    if (ctx.groups > 1) {
        bcdi_hpc_free(ctx.group);
        bcdi_hpc_free(ctx.ask);
        bcdi_hpc_free(ctx.reply);
    }
    free_ctx(&ctx);
    pthread_mutex_destroy(&ctx.lock);
    return rc;
}
