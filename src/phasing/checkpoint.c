/* SPDX-License-Identifier: BSD-3-Clause */
/* Checkpoints of a phase run (checkpoint.h): the engine's state to one file and back.
 *
 * Layout (native byte order, no padding: every field written on its own):
 *   "BCDICKP1", u32 version
 *   u64 input hash, u64 keys hash, u64 keys text length, keys text
 *   u64 shape[3], i64 runs, generations
 *   i64 generation being run, iterations done, iterations planned (progress)
 *   i64 generations done, f64 seconds of work so far, f64 best metric per generation [64]
 *   u64 n, then n i64 run ids: the global ranking that started the generation
 *   u8 alpha present; then i64 its run id, its metrics, its object
 *   u64 hall records (the best runs of the generations done); each: i64 run id, i64
 *       generation, f64 ranking metric, u64 size, the packed copy (rank 0 holds them all)
 *   u64 individuals; each: u64 size, then the packed individual (bcdi_individual_pack)
 *   u64 FNV-1a hash of every byte before it
 * Rank 0 writes it: its own individuals, then each other rank's as they arrive (one at a time:
 * rank 0 never holds another rank's population). On resume rank 0 reads it and sends each
 * individual to the rank that owns its place in the ranking now (a block split, whatever the
 * number of ranks that wrote it). */
#include "phasing/engine_internal.h"

#include "bcdi/log.h"
#include "core/hash.h"
#include "core/output.h"
#include "core/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAGIC "BCDICKP1"
#define VERSION                                                                                    \
    4u /* 2: the hall of the best runs of every generation; 3: the PSF widths of                   \
        * psf=gaussian in every individual; 4: masked-voxel figures in every history point */

/* ---- individuals as bytes ---- */

/* the fields of a history point, one after the other */
#define HISTORY_BYTES (8 + 8 * 4)

static unsigned char *put(unsigned char *at, const void *value, size_t size)
{
    memcpy(at, value, size);
    return at + size;
}

static const unsigned char *get(const unsigned char *at, void *value, size_t size)
{
    memcpy(value, at, size);
    return at + size;
}

static unsigned char *put_history(unsigned char *at, const bcdi_history_point *h)
{
    int64_t iteration = h->iteration;
    float v[8] = {h->fourier_error,    h->llk,
                  h->free_llk,         h->sharpness,
                  h->support_fraction, h->outside_fraction,
                  h->masked_photons,   h->masked_over_bound};
    at = put(at, &iteration, 8);
    return put(at, v, sizeof v);
}

static const unsigned char *get_history(const unsigned char *at, bcdi_history_point *h)
{
    int64_t iteration;
    float v[8];
    at = get(at, &iteration, 8);
    at = get(at, v, sizeof v);
    h->iteration = (long)iteration;
    h->fourier_error = v[0], h->llk = v[1], h->free_llk = v[2], h->sharpness = v[3];
    h->support_fraction = v[4], h->outside_fraction = v[5];
    h->masked_photons = v[6], h->masked_over_bound = v[7];
    return at;
}

/* fixed part: run id, generation, position (i64); attempt, failed, state, from object (i32);
 * threshold, failed fraction, PSF widths [3] (f64); final; history count (u64); object and
 * support flags */
#define FIXED_BYTES (3 * 8 + 4 * 4 + 5 * 8 + HISTORY_BYTES + 8 + 2)

size_t bcdi_individual_packed_size(const engine *e, const individual *ind)
{
    return FIXED_BYTES + ind->history_count * HISTORY_BYTES +
           (ind->object ? e->n * sizeof(bcdi_cf) : 0) + (ind->support ? e->n : 0);
}

void bcdi_individual_pack(const engine *e, const individual *ind, unsigned char *buf)
{
    int64_t longs[3] = {ind->run_id, ind->generation, ind->position};
    int32_t ints[4] = {ind->attempt, ind->failed, ind->state, ind->from_object};
    double reals[5] = {ind->threshold, ind->failed_fraction, ind->psf_sigma[0], ind->psf_sigma[1],
                       ind->psf_sigma[2]};
    uint64_t history = ind->history_count;
    unsigned char flags[2] = {ind->object != NULL, ind->support != NULL};
    unsigned char *at = put(buf, longs, sizeof longs);
    at = put(at, ints, sizeof ints);
    at = put(at, reals, sizeof reals);
    at = put_history(at, &ind->final);
    at = put(at, &history, sizeof history);
    at = put(at, flags, sizeof flags);
    for (size_t i = 0; i < ind->history_count; ++i)
        at = put_history(at, &ind->history[i]);
    if (ind->object) at = put(at, ind->object, e->n * sizeof(bcdi_cf));
    if (ind->support) put(at, ind->support, e->n);
}

bcdi_status bcdi_individual_unpack(const engine *e, const unsigned char *buf, size_t size,
                                   individual *ind)
{
    if (size < FIXED_BYTES) return bcdi_error(BCDI_ERR_FORMAT, "a packed run is too short");
    int64_t longs[3];
    int32_t ints[4];
    double reals[5];
    uint64_t history;
    unsigned char flags[2];
    const unsigned char *at = get(buf, longs, sizeof longs);
    at = get(at, ints, sizeof ints);
    at = get(at, reals, sizeof reals);
    at = get_history(at, &ind->final);
    at = get(at, &history, sizeof history);
    at = get(at, flags, sizeof flags);
    size_t expected = FIXED_BYTES + history * HISTORY_BYTES +
                      (flags[0] ? e->n * sizeof(bcdi_cf) : 0) + (flags[1] ? e->n : 0);
    if (history > size || expected != size || ints[2] < IND_PENDING || ints[2] > IND_DROPPED)
        return bcdi_error(BCDI_ERR_FORMAT, "a packed run holds %zu bytes, expected %zu", size,
                          expected);
    ind->run_id = (long)longs[0];
    ind->generation = (long)longs[1];
    ind->position = (long)longs[2];
    ind->attempt = ints[0];
    ind->failed = ints[1];
    ind->state = ints[2];
    ind->from_object = ints[3];
    ind->threshold = reals[0];
    ind->failed_fraction = reals[1];
    memcpy(ind->psf_sigma, reals + 2, sizeof ind->psf_sigma);
    ind->history = history ? malloc(history * sizeof *ind->history) : NULL;
    ind->object = flags[0] ? malloc(e->n * sizeof(bcdi_cf)) : NULL;
    ind->support = flags[1] ? malloc(e->n) : NULL;
    if ((history && !ind->history) || (flags[0] && !ind->object) || (flags[1] && !ind->support)) {
        bcdi_engine_free_individual(ind);
        return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory reading a run");
    }
    ind->history_count = ind->history_capacity = history;
    for (size_t i = 0; i < history; ++i)
        at = get_history(at, &ind->history[i]);
    if (flags[0]) at = get(at, ind->object, e->n * sizeof(bcdi_cf));
    if (flags[1]) get(at, ind->support, e->n);
    return BCDI_OK;
}

/* ---- the file: writes and reads that hash what passes ---- */

typedef struct {
    FILE *f;
    uint64_t hash;
    int failed;
    uint64_t bytes;
} stream;

static void out(stream *s, const void *data, size_t size)
{
    if (s->failed || !size) return;
    s->hash = bcdi_hash_bytes(s->hash, data, size);
    s->bytes += size;
    if (fwrite(data, 1, size, s->f) != size) s->failed = 1;
}

static int in(stream *s, void *data, size_t size)
{
    if (s->failed) return 0;
    if (size && fread(data, 1, size, s->f) != size) {
        s->failed = 1;
        return 0;
    }
    s->hash = bcdi_hash_bytes(s->hash, data, size);
    return 1;
}

static int team_rank(const engine *e)
{
    return e->team ? e->team->rank : 0;
}

static int team_size(const engine *e)
{
    return e->team ? e->team->size : 1;
}

static void write_individual(engine *e, stream *s, const individual *ind);

static void write_header(engine *e, stream *s)
{
    const bcdi_checkpoint_opts *c = e->checkpoint;
    const bcdi_phasing_params *p = e->p;
    uint32_t version = VERSION;
    out(s, MAGIC, 8);
    out(s, &version, sizeof version);
    uint64_t hashes[2] = {c->input_hash, c->keys_hash};
    out(s, hashes, sizeof hashes);
    const char *text = c->keys_text ? c->keys_text : "";
    uint64_t len = strlen(text);
    out(s, &len, sizeof len);
    out(s, text, len);
    uint64_t shape[3] = {e->shape[0], e->shape[1], e->shape[2]};
    out(s, shape, sizeof shape);
    int64_t counts[6] = {p->runs, p->generations, e->generation,
                         e->done, e->total,       e->out->generations_done};
    out(s, counts, sizeof counts);
    double elapsed = e->elapsed_before + bcdi_clock_s() - e->started;
    out(s, &elapsed, sizeof elapsed);
    out(s, e->out->metric_best_per_generation, sizeof e->out->metric_best_per_generation);
    uint64_t order = e->order_count;
    out(s, &order, sizeof order);
    for (size_t i = 0; i < e->order_count; ++i) {
        int64_t id = e->order[i];
        out(s, &id, sizeof id);
    }
    unsigned char have_alpha = e->alpha != NULL;
    out(s, &have_alpha, 1);
    if (have_alpha) {
        int64_t id = e->alpha_run_id;
        unsigned char h[HISTORY_BYTES];
        put_history(h, &e->alpha_final);
        out(s, &id, sizeof id);
        out(s, h, sizeof h);
        out(s, e->alpha, e->n * sizeof *e->alpha);
    }
    uint64_t hall = e->hall_count;
    out(s, &hall, sizeof hall);
    for (size_t i = 0; i < e->hall_count; ++i) {
        int64_t ids[2] = {e->hall[i].run_id, e->hall[i].generation};
        out(s, ids, sizeof ids);
        out(s, &e->hall[i].key, sizeof e->hall[i].key);
        write_individual(e, s, e->hall[i].copy);
    }
    uint64_t individuals = e->order_count;
    out(s, &individuals, sizeof individuals);
}

static bcdi_status send_individual(engine *e, int dest, const individual *ind)
{
    uint64_t size = bcdi_individual_packed_size(e, ind);
    unsigned char *buf = malloc(size);
    if (!buf) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory for a checkpoint");
    bcdi_individual_pack(e, ind, buf);
    bcdi_status st = e->team->send(e->team->ctx, dest, &size, sizeof size);
    if (st == BCDI_OK) st = e->team->send(e->team->ctx, dest, buf, size);
    free(buf);
    return st;
}

static void write_individual(engine *e, stream *s, const individual *ind)
{
    uint64_t size = bcdi_individual_packed_size(e, ind);
    unsigned char *buf = malloc(size);
    if (!buf) {
        s->failed = 1;
        return;
    }
    bcdi_individual_pack(e, ind, buf);
    out(s, &size, sizeof size);
    out(s, buf, size);
    free(buf);
}

/* Rank 0: the file, with every rank's individuals as they arrive. */
static bcdi_status write_file(engine *e)
{
    const char *path = e->checkpoint->path;
    double started = bcdi_clock_s();
    bcdi_output *tx = NULL;
    FILE *f = NULL;
    bcdi_status st = bcdi_output_begin(&tx);
    bcdi_output_despite_interrupt(tx); /* it records the stop */
    if (st == BCDI_OK) st = bcdi_output_fopen(tx, path, &f);
    stream s = {f, BCDI_HASH_INIT, 0, 0};
    if (st == BCDI_OK) {
        write_header(e, &s);
        for (size_t i = 0; i < e->local_count; ++i)
            write_individual(e, &s, e->local[i]);
    }
    /* the other ranks' individuals: a count, then each (every rank sends, even after a
     * failure here, so that none waits) */
    for (int r = 1; r < team_size(e); ++r) {
        uint64_t count = 0;
        bcdi_status got = e->team->recv(e->team->ctx, r, &count, sizeof count);
        for (uint64_t i = 0; got == BCDI_OK && i < count; ++i) {
            uint64_t size = 0;
            got = e->team->recv(e->team->ctx, r, &size, sizeof size);
            unsigned char *buf = got == BCDI_OK ? malloc(size ? size : 1) : NULL;
            if (got == BCDI_OK && !buf)
                got = bcdi_error(BCDI_ERR_NOMEM, "checkpoint: out of memory");
            if (got == BCDI_OK) got = e->team->recv(e->team->ctx, r, buf, size);
            if (got == BCDI_OK) {
                out(&s, &size, sizeof size);
                out(&s, buf, size);
            }
            free(buf);
        }
        if (st == BCDI_OK) st = got;
    }
    uint64_t hash = s.hash;
    if (st == BCDI_OK) out(&s, &hash, sizeof hash);
    if (st == BCDI_OK && s.failed)
        st = bcdi_error(BCDI_ERR_IO, "checkpoint '%s': cannot write it: %s", path, strerror(errno));
    if (st == BCDI_OK) {
        st = bcdi_output_commit(tx);
        if (st == BCDI_OK)
            bcdi_log(BCDI_LOG_INFO, "checkpoint: %s (%.1f MB in %.2f s, generation %ld)", path,
                     (double)s.bytes / 1e6, bcdi_clock_s() - started, e->generation + 1);
    } else {
        bcdi_output_abort(tx);
    }
    return st;
}

bcdi_status bcdi_checkpoint_save(engine *e)
{
    bcdi_status st = BCDI_OK;
    if (team_rank(e) == 0) {
        st = write_file(e);
    } else {
        uint64_t count = e->local_count;
        st = e->team->send(e->team->ctx, 0, &count, sizeof count);
        for (size_t i = 0; st == BCDI_OK && i < e->local_count; ++i)
            st = send_individual(e, 0, e->local[i]);
    }
    return e->team ? e->team->agree(e->team->ctx, st) : st;
}

/* ---- resume ---- */

/* "key = value" lines that differ between the checkpoint's keys and these, for the message. */
static void differing_keys(const char *then, const char *now, char *outbuf, size_t cap)
{
    size_t used = 0;
    outbuf[0] = '\0';
    const char *line = now;
    int shown = 0;
    while (line && *line && shown < 4) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)len, line);
        /* the same line in the checkpoint's text? */
        const char *found = strstr(then, one);
        int whole = found && (found == then || found[-1] == '\n') &&
                    (found[len] == '\n' || found[len] == '\0');
        if (!whole && used + len + 4 < cap) {
            used += (size_t)snprintf(outbuf + used, cap - used, "%s%s", shown ? ", " : "", one);
            ++shown;
        }
        line = end ? end + 1 : NULL;
    }
}

/* Rank 0: the hall's records and copies. */
static bcdi_status read_hall(engine *e, stream *s, const char *path)
{
    uint64_t count = 0;
    if (!in(s, &count, sizeof count) || count > (uint64_t)e->p->keep)
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (best runs)", path);
    e->hall = calloc((size_t)e->p->keep, sizeof *e->hall);
    if (!e->hall) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (uint64_t i = 0; i < count; ++i) {
        int64_t ids[2];
        uint64_t size = 0;
        hall_entry *h = &e->hall[i];
        if (!in(s, ids, sizeof ids) || !in(s, &h->key, sizeof h->key) ||
            !in(s, &size, sizeof size) || size > ((uint64_t)1 << 40))
            return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (best run %llu)", path,
                              (unsigned long long)i);
        unsigned char *buf = malloc(size ? size : 1);
        h->copy = calloc(1, sizeof *h->copy);
        bcdi_status st =
            buf && h->copy ? BCDI_OK : bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
        if (st == BCDI_OK && !in(s, buf, size))
            st = bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (best run %llu)", path,
                            (unsigned long long)i);
        if (st == BCDI_OK) st = bcdi_individual_unpack(e, buf, size, h->copy);
        free(buf);
        if (st != BCDI_OK) {
            free(h->copy);
            h->copy = NULL;
            return st;
        }
        h->run_id = (long)ids[0];
        h->generation = (long)ids[1];
        e->hall_count = (size_t)i + 1;
    }
    return BCDI_OK;
}

/* Rank 0: the header checked against this run. */
static bcdi_status read_header(engine *e, stream *s, const char *path, unsigned char *have_alpha)
{
    const bcdi_checkpoint_opts *c = e->checkpoint;
    char magic[8];
    uint32_t version = 0;
    uint64_t hashes[2], len = 0;
    if (!in(s, magic, 8) || memcmp(magic, MAGIC, 8) != 0 || !in(s, &version, sizeof version) ||
        version != VERSION)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s' is not a braggcdi checkpoint of this version: remove it, or run "
                          "with restart=true",
                          path);
    if (!in(s, hashes, sizeof hashes) || !in(s, &len, sizeof len) || len > (1u << 24))
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (header)", path);
    char *then = malloc(len + 1);
    if (!then || !in(s, then, len)) {
        free(then);
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (keys)", path);
    }
    then[len] = '\0';
    bcdi_status st = BCDI_OK;
    if (hashes[1] != c->keys_hash) {
        char diff[1024];
        differing_keys(then, c->keys_text ? c->keys_text : "", diff, sizeof diff);
        st = bcdi_error(BCDI_ERR_CONFIG,
                        "checkpoint '%s' was written with other keys (now: %s): run with the "
                        "keys it was written with to resume, or with restart=true to discard it",
                        path, diff[0] ? diff : "a key differs");
    } else if (hashes[0] != c->input_hash) {
        st = bcdi_error(BCDI_ERR_CONFIG,
                        "checkpoint '%s' was written for another input (its content changed "
                        "since): run with restart=true to discard it",
                        path);
    }
    free(then);
    if (st != BCDI_OK) return st;
    uint64_t shape[3];
    int64_t counts[6];
    uint64_t order = 0;
    if (!in(s, shape, sizeof shape) || !in(s, counts, sizeof counts) ||
        !in(s, &e->elapsed_before, sizeof e->elapsed_before) ||
        !in(s, e->out->metric_best_per_generation, sizeof e->out->metric_best_per_generation) ||
        !in(s, &order, sizeof order))
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (state)", path);
    if (shape[0] != e->shape[0] || shape[1] != e->shape[1] || shape[2] != e->shape[2] ||
        counts[0] != e->p->runs || counts[2] < 0 || counts[2] >= e->p->generations ||
        order > (uint64_t)e->p->runs)
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' does not match this run", path);
    e->generation = (long)counts[2];
    e->done = (long)counts[3];
    e->total = (long)counts[4];
    e->out->generations_done = (long)counts[5];
    e->order_count = (size_t)order;
    e->order = malloc((order ? order : 1) * sizeof *e->order);
    if (!e->order) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (size_t i = 0; i < order; ++i) {
        int64_t id;
        if (!in(s, &id, sizeof id))
            return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (order)", path);
        e->order[i] = (long)id;
    }
    if (!in(s, have_alpha, 1))
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (alpha)", path);
    if (*have_alpha) {
        int64_t id;
        unsigned char h[HISTORY_BYTES];
        e->alpha = malloc(e->n * sizeof *e->alpha);
        if (!e->alpha) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
        if (!in(s, &id, sizeof id) || !in(s, h, sizeof h) ||
            !in(s, e->alpha, e->n * sizeof *e->alpha))
            return bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (alpha)", path);
        e->alpha_run_id = (long)id;
        get_history(h, &e->alpha_final);
    }
    return read_hall(e, s, path);
}

/* The hall's records from rank 0 to every rank (the copies stay on rank 0). */
static bcdi_status share_hall(engine *e)
{
    uint64_t count = e->hall_count;
    bcdi_status st = e->team->bcast(e->team->ctx, &count, sizeof count, 0);
    if (st != BCDI_OK) return st;
    if (count > (uint64_t)e->p->keep)
        return bcdi_error(BCDI_ERR_FORMAT, "checkpoint: %llu best runs, keep=%ld",
                          (unsigned long long)count, e->p->keep);
    if (!e->hall) e->hall = calloc((size_t)e->p->keep, sizeof *e->hall);
    if (!e->hall) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (size_t i = 0; st == BCDI_OK && i < count; ++i) {
        struct {
            int64_t run_id, generation;
            double key;
        } record = {e->hall[i].run_id, e->hall[i].generation, e->hall[i].key};
        st = e->team->bcast(e->team->ctx, &record, sizeof record, 0);
        e->hall[i].run_id = (long)record.run_id;
        e->hall[i].generation = (long)record.generation;
        e->hall[i].key = record.key;
    }
    e->hall_count = (size_t)count;
    return st;
}

/* Where run `id` stands in the order, for its owner now. */
static long place_of(const engine *e, long id)
{
    for (size_t i = 0; i < e->order_count; ++i)
        if (e->order[i] == id) return (long)i;
    return -1;
}

static int owner_of(const engine *e, long place)
{
    int size = team_size(e);
    for (int r = 0; r < size; ++r) {
        long lo, hi;
        bcdi_population_block((long)e->order_count, r, size, &lo, &hi);
        if (place >= lo && place < hi) return r;
    }
    return 0;
}

/* this rank's individuals in ranking order */
static void sort_local(engine *e)
{
    for (size_t i = 1; i < e->local_count; ++i)
        for (size_t j = i;
             j > 0 && place_of(e, e->local[j - 1]->run_id) > place_of(e, e->local[j]->run_id);
             --j) {
            individual *t = e->local[j];
            e->local[j] = e->local[j - 1];
            e->local[j - 1] = t;
        }
}

/* A size no run has: tells a rank waiting for its runs that rank 0 could not read them. */
#define NO_MORE UINT64_MAX

/* Rank 0: every individual to its owner (itself included); on a failure, the ranks still
 * waiting are told, so that none waits for ever. */
static bcdi_status read_individuals(engine *e, stream *s, const char *path)
{
    uint64_t count = 0;
    bcdi_status st = BCDI_OK;
    int size = team_size(e);
    long *left = calloc((size_t)size, sizeof *left); /* runs each rank still waits for */
    if (!left) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (int r = 0; r < size; ++r) {
        long lo, hi;
        bcdi_population_block((long)e->order_count, r, size, &lo, &hi);
        left[r] = hi - lo;
    }
    if (!in(s, &count, sizeof count) || count != e->order_count)
        st = bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (population)", path);
    for (uint64_t i = 0; st == BCDI_OK && i < count; ++i) {
        uint64_t size = 0;
        unsigned char *buf = NULL;
        if (!in(s, &size, sizeof size) || size > ((uint64_t)1 << 40) ||
            !(buf = malloc(size ? size : 1)) || !in(s, buf, size)) {
            free(buf);
            st = bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' is damaged (run %llu)", path,
                            (unsigned long long)i);
            break;
        }
        int64_t id;
        memcpy(&id, buf, sizeof id);
        long place = place_of(e, (long)id);
        int owner = place < 0 ? -1 : owner_of(e, place);
        if (owner < 0) {
            st = bcdi_error(BCDI_ERR_FORMAT, "checkpoint '%s' holds run %lld outside its order",
                            path, (long long)id);
        } else if (owner == 0) {
            individual *ind = calloc(1, sizeof *ind);
            st = ind ? bcdi_individual_unpack(e, buf, size, ind)
                     : bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
            if (st == BCDI_OK)
                e->local[e->local_count++] = ind;
            else
                free(ind);
        } else {
            st = e->team->send(e->team->ctx, owner, &size, sizeof size);
            if (st == BCDI_OK) st = e->team->send(e->team->ctx, owner, buf, size);
            if (st == BCDI_OK) --left[owner];
        }
        free(buf);
    }
    for (int r = 1; r < size; ++r)
        if (left[r] > 0) {
            uint64_t stop = NO_MORE;
            e->team->send(e->team->ctx, r, &stop, sizeof stop);
        }
    free(left);
    uint64_t expected = s->hash, stored = 0;
    if (st == BCDI_OK && (!in(s, &stored, sizeof stored) || stored != expected))
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "checkpoint '%s' is damaged (its content does not hash as written): "
                        "remove it or run with restart=true",
                        path);
    return st;
}

bcdi_status bcdi_checkpoint_load(engine *e, int *resumed)
{
    *resumed = 0;
    const bcdi_checkpoint_opts *c = e->checkpoint;
    if (!c || !c->path || !c->path[0] || c->discard) return BCDI_OK;
    int rank = team_rank(e);
    /* does one exist? (rank 0 looks; everyone follows) */
    int exists = 0;
    if (rank == 0) {
        struct stat info;
        exists = stat(c->path, &info) == 0;
    }
    if (e->team) {
        bcdi_status st = e->team->bcast(e->team->ctx, &exists, sizeof exists, 0);
        if (st != BCDI_OK) return st;
    }
    if (!exists) return BCDI_OK;
    FILE *f = NULL;
    stream s = {NULL, BCDI_HASH_INIT, 0, 0};
    unsigned char have_alpha = 0;
    bcdi_status st = BCDI_OK;
    if (rank == 0) {
        f = fopen(c->path, "rb");
        s.f = f;
        st = f ? read_header(e, &s, c->path, &have_alpha)
               : bcdi_error(BCDI_ERR_IO, "checkpoint '%s': cannot open it: %s", c->path,
                            strerror(errno));
    }
    if (e->team) st = e->team->agree(e->team->ctx, st);
    /* the header's state to every rank */
    if (st == BCDI_OK && e->team) {
        int64_t state[6] = {e->generation,           e->done,   e->total, e->out->generations_done,
                            (int64_t)e->order_count, have_alpha};
        st = e->team->bcast(e->team->ctx, state, sizeof state, 0);
        if (st == BCDI_OK && rank != 0) {
            e->generation = (long)state[0];
            e->done = (long)state[1];
            e->total = (long)state[2];
            e->out->generations_done = (long)state[3];
            e->order_count = (size_t)state[4];
            have_alpha = (unsigned char)state[5];
            e->order = malloc((e->order_count ? e->order_count : 1) * sizeof *e->order);
            if (have_alpha) e->alpha = malloc(e->n * sizeof *e->alpha);
            if (!e->order || (have_alpha && !e->alpha))
                st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
        }
        st = e->team->agree(e->team->ctx, st);
        if (st == BCDI_OK)
            st = e->team->bcast(e->team->ctx, e->order, e->order_count * sizeof *e->order, 0);
        if (st == BCDI_OK)
            st = e->team->bcast(e->team->ctx, e->out->metric_best_per_generation,
                                sizeof e->out->metric_best_per_generation, 0);
        if (st == BCDI_OK && have_alpha) {
            st = e->team->bcast(e->team->ctx, e->alpha, e->n * sizeof *e->alpha, 0);
            if (st == BCDI_OK)
                st = e->team->bcast(e->team->ctx, &e->alpha_run_id, sizeof e->alpha_run_id, 0);
            if (st == BCDI_OK)
                st = e->team->bcast(e->team->ctx, &e->alpha_final, sizeof e->alpha_final, 0);
        }
        if (st == BCDI_OK) st = share_hall(e);
    }
    /* the individuals: rank 0 reads, each owner receives its block of the order */
    long lo = 0, hi = (long)e->order_count;
    if (st == BCDI_OK) {
        bcdi_population_block((long)e->order_count, rank, team_size(e), &lo, &hi);
        e->local = calloc((size_t)(hi > lo ? hi - lo : 1), sizeof *e->local);
        if (!e->local) st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    }
    if (e->team) st = e->team->agree(e->team->ctx, st);
    if (st == BCDI_OK && rank == 0) {
        st = read_individuals(e, &s, c->path);
    } else if (st == BCDI_OK) {
        for (long i = lo; st == BCDI_OK && i < hi; ++i) {
            uint64_t size = 0;
            st = e->team->recv(e->team->ctx, 0, &size, sizeof size);
            if (st == BCDI_OK && size == NO_MORE) {
                st = bcdi_error(BCDI_ERR_FORMAT, "rank 0 could not read the checkpoint");
                break;
            }
            unsigned char *buf = st == BCDI_OK ? malloc(size ? size : 1) : NULL;
            individual *ind = calloc(1, sizeof *ind);
            if (st == BCDI_OK && (!buf || !ind))
                st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
            if (st == BCDI_OK) st = e->team->recv(e->team->ctx, 0, buf, size);
            if (st == BCDI_OK) st = bcdi_individual_unpack(e, buf, size, ind);
            if (st == BCDI_OK)
                e->local[e->local_count++] = ind;
            else
                free(ind);
            free(buf);
        }
    }
    if (f) fclose(f);
    if (e->team) st = e->team->agree(e->team->ctx, st);
    if (st != BCDI_OK) return st;
    sort_local(e);
    *resumed = 1;
    bcdi_log(BCDI_LOG_INFO, "resuming from checkpoint %s: generation %ld of %ld, %zu runs", c->path,
             e->generation + 1, e->p->generations, e->order_count);
    return BCDI_OK;
}
