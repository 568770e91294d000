/* SPDX-License-Identifier: BSD-3-Clause */
/* The population between generations, over every rank of a team (engine_internal.h): each rank
 * holds its own individuals; what crosses ranks is small records (run id, metrics) for the
 * global ranking, alpha's object when a better one appears, and at the end the kept runs sent to
 * rank 0. Every rank sorts the same records the same way, so ranking, keep, culling and the
 * breeding streams (by global rank) are those of one process holding everything: the answer does
 * not depend on the number of ranks. */
#include "phasing/engine_internal.h"

#include "bcdi/breed.h"
#include "bcdi/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bcdi_population_block(long runs, int rank, int size, long *lo, long *hi)
{
    *lo = runs * rank / size;
    *hi = runs * (rank + 1) / size;
}

/* What the ranking needs of an individual (fixed size: gathered from every rank). */
typedef struct member {
    long run_id;
    int failed;
    int owner;
    bcdi_history_point final;
    double key; /* the ranking metric of `final` (no static state: two engines may rank at once) */
} member;

/* Failed last; then by the metric (NaN last); ties by run id. */
static int by_metric(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->failed != y->failed) return x->failed - y->failed;
    double mx = x->key, my = y->key;
    if (isnan(mx) != isnan(my)) return isnan(mx) ? 1 : -1;
    if (mx < my) return -1;
    if (mx > my) return 1;
    return (x->run_id > y->run_id) - (x->run_id < y->run_id);
}

static int team_rank(const engine *e)
{
    return e->team ? e->team->rank : 0;
}

static int team_size(const engine *e)
{
    return e->team ? e->team->size : 1;
}

/* Every rank's members, ranked (the same array on every rank). */
static bcdi_status gather_ranking(engine *e, member **ranked, size_t *count)
{
    int size = team_size(e);
    long mine = (long)e->local_count, most = mine;
    long *counts = malloc((size_t)size * sizeof *counts);
    if (!counts) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    bcdi_status st = BCDI_OK;
    if (e->team)
        st = e->team->allgather(e->team->ctx, &mine, sizeof mine, counts);
    else
        counts[0] = mine;
    for (int r = 0; st == BCDI_OK && r < size; ++r)
        if (counts[r] > most) most = counts[r];
    member *local = calloc((size_t)(most ? most : 1), sizeof *local);
    member *all = calloc((size_t)size * (size_t)(most ? most : 1), sizeof *all);
    if (st == BCDI_OK && (!local || !all)) st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (size_t i = 0; st == BCDI_OK && i < e->local_count; ++i) {
        const individual *ind = e->local[i];
        local[i].run_id = ind->run_id;
        local[i].failed = ind->failed || ind->state == IND_DROPPED;
        local[i].owner = team_rank(e);
        local[i].final = ind->final;
        local[i].key = bcdi_engine_metric(e->p->metric, &ind->final);
    }
    /* padded to the longest share; the padding is dropped below */
    size_t bytes = (size_t)(most ? most : 1) * sizeof *local;
    if (st == BCDI_OK && e->team)
        st = e->team->allgather(e->team->ctx, local, bytes, all);
    else if (st == BCDI_OK)
        memcpy(all, local, bytes);
    size_t total = 0;
    for (int r = 0; st == BCDI_OK && r < size; ++r)
        for (long i = 0; i < counts[r]; ++i)
            all[total++] = all[(size_t)r * (size_t)(most ? most : 1) + (size_t)i];
    free(local);
    free(counts);
    if (st != BCDI_OK) {
        free(all);
        return st;
    }
    qsort(all, total, sizeof *all, by_metric);
    *ranked = all;
    *count = total;
    return BCDI_OK;
}

static individual *local_by_id(const engine *e, long run_id)
{
    for (size_t i = 0; i < e->local_count; ++i)
        if (e->local[i]->run_id == run_id) return e->local[i];
    return NULL;
}

/* alpha <- the best individual when it beats the current alpha (its owner broadcasts it). */
static bcdi_status update_alpha(engine *e, const member *best)
{
    double m = bcdi_engine_metric(e->p->metric, &best->final);
    if (e->alpha && !(m < bcdi_engine_metric(e->p->metric, &e->alpha_final))) return BCDI_OK;
    if (!e->alpha) e->alpha = malloc(e->n * sizeof *e->alpha);
    if (!e->alpha) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    if (best->owner == team_rank(e)) {
        const individual *ind = local_by_id(e, best->run_id);
        memcpy(e->alpha, ind->object, e->n * sizeof *e->alpha);
    }
    if (e->team) {
        bcdi_status st =
            e->team->bcast(e->team->ctx, e->alpha, e->n * sizeof *e->alpha, best->owner);
        if (st != BCDI_OK) return st;
    }
    e->alpha_final = best->final;
    e->alpha_run_id = best->run_id;
    return BCDI_OK;
}

/* ---- the hall: the best runs of every generation so far ---- */

int bcdi_hall_compare(const hall_entry *a, const hall_entry *b)
{
    if (isnan(a->key) != isnan(b->key)) return isnan(a->key) ? 1 : -1;
    if (a->key < b->key) return -1;
    if (a->key > b->key) return 1;
    if (a->generation != b->generation) return a->generation < b->generation ? -1 : 1;
    return (a->run_id > b->run_id) - (a->run_id < b->run_id);
}

void bcdi_hall_free(engine *e)
{
    for (size_t i = 0; i < e->hall_count; ++i)
        if (e->hall[i].copy) {
            bcdi_engine_free_individual(e->hall[i].copy);
            free(e->hall[i].copy);
        }
    free(e->hall);
    e->hall = NULL;
    e->hall_count = 0;
}

/* A candidate for the hall: a record already in it, or one of this generation's best. */
typedef struct candidate {
    hall_entry entry;
    int owner; /* this generation's: the rank holding the individual; -1 for a record */
} candidate;

static int by_hall_order(const void *a, const void *b)
{
    return bcdi_hall_compare(&((const candidate *)a)->entry, &((const candidate *)b)->entry);
}

/* A deep copy of an individual, through its packed bytes (the form it crosses ranks in). */
static bcdi_status copy_individual(const engine *e, const individual *ind, individual **out)
{
    size_t size = bcdi_individual_packed_size(e, ind);
    unsigned char *buf = malloc(size);
    individual *copy = calloc(1, sizeof *copy);
    bcdi_status st = buf && copy ? BCDI_OK : bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    if (st == BCDI_OK) {
        bcdi_individual_pack(e, ind, buf);
        st = bcdi_individual_unpack(e, buf, size, copy);
    }
    free(buf);
    if (st != BCDI_OK) {
        free(copy);
        copy = NULL;
    }
    *out = copy;
    return st;
}

/* Rank 0 receives the packed individual `owner` sends (bcdi_population_next's order). */
static bcdi_status receive_individual(engine *e, int owner, individual **out)
{
    uint64_t size = 0;
    bcdi_status st = e->team->recv(e->team->ctx, owner, &size, sizeof size);
    unsigned char *buf = st == BCDI_OK ? malloc(size ? size : 1) : NULL;
    individual *ind = calloc(1, sizeof *ind);
    if (st == BCDI_OK && (!buf || !ind)) st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    if (st == BCDI_OK) st = e->team->recv(e->team->ctx, owner, buf, size);
    if (st == BCDI_OK) st = bcdi_individual_unpack(e, buf, size, ind);
    free(buf);
    if (st != BCDI_OK) {
        free(ind);
        ind = NULL;
    }
    *out = ind;
    return st;
}

static bcdi_status send_individual(engine *e, const individual *ind)
{
    uint64_t size = bcdi_individual_packed_size(e, ind);
    unsigned char *buf = malloc(size);
    if (!buf) return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    bcdi_individual_pack(e, ind, buf);
    bcdi_status st = e->team->send(e->team->ctx, 0, &size, sizeof size);
    if (st == BCDI_OK) st = e->team->send(e->team->ctx, 0, buf, size);
    free(buf);
    return st;
}

/* The hall <- the best `keep` of (the hall, this generation's `ok` successful runs): every
 * rank merges the same records the same way; the copies of this generation's entrants go to
 * rank 0 from their owners, in hall order (messages between two ranks keep their order), and
 * rank 0 frees the copies of the records pushed out. The individuals themselves stay as they
 * are (breeding comes after). */
static bcdi_status update_hall(engine *e, const member *ranked, size_t ok)
{
    size_t keep = (size_t)e->p->keep, fresh = ok < keep ? ok : keep;
    size_t total = e->hall_count + fresh;
    int me = team_rank(e);
    if (!e->hall) e->hall = calloc(keep, sizeof *e->hall);
    candidate *all = calloc(total ? total : 1, sizeof *all);
    if (!e->hall || !all) {
        free(all);
        return bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    }
    for (size_t i = 0; i < e->hall_count; ++i) {
        all[i].entry = e->hall[i];
        all[i].owner = -1;
    }
    for (size_t i = 0; i < fresh; ++i) {
        candidate *c = &all[e->hall_count + i];
        c->entry.run_id = ranked[i].run_id;
        c->entry.generation = e->generation;
        c->entry.key = ranked[i].key;
        c->entry.copy = NULL;
        c->owner = ranked[i].owner;
    }
    qsort(all, total, sizeof *all, by_hall_order);
    size_t chosen = total < keep ? total : keep;
    bcdi_status st = BCDI_OK;
    for (size_t i = 0; st == BCDI_OK && i < chosen; ++i) {
        candidate *c = &all[i];
        if (c->owner < 0) continue;
        if (c->owner == me && me == 0)
            st = copy_individual(e, local_by_id(e, c->entry.run_id), &c->entry.copy);
        else if (c->owner == me)
            st = send_individual(e, local_by_id(e, c->entry.run_id));
        else if (me == 0)
            st = receive_individual(e, c->owner, &c->entry.copy);
    }
    /* the records pushed out (rank 0 holds their copies) */
    for (size_t i = chosen; i < total; ++i)
        if (all[i].owner < 0 && all[i].entry.copy) {
            bcdi_engine_free_individual(all[i].entry.copy);
            free(all[i].entry.copy);
        }
    for (size_t i = 0; i < chosen; ++i)
        e->hall[i] = all[i].entry;
    e->hall_count = chosen;
    free(all);
    return st;
}

bcdi_status bcdi_population_next(engine *e, int last, size_t *succeeded)
{
    const bcdi_phasing_params *p = e->p;
    long g = e->generation;
    member *ranked = NULL;
    size_t count = 0;
    bcdi_status st = gather_ranking(e, &ranked, &count);
    if (st != BCDI_OK) return st;
    size_t ok = 0;
    for (size_t i = 0; i < count; ++i)
        ok += !ranked[i].failed;
    *succeeded = ok;
    if (!ok) {
        free(ranked);
        return BCDI_OK;
    }
    bcdi_phasing_result *out = e->out;
    out->metric_best_per_generation[g] = bcdi_engine_metric(p->metric, &ranked[0].final);
    out->generations_done = g + 1;
    bcdi_log(BCDI_LOG_INFO, "generation %ld: best %s %.5g (run %ld), %zu runs", g + 1,
             bcdi_metric_name(p->metric), out->metric_best_per_generation[g], ranked[0].run_id, ok);
    /* before breeding changes them: the best of this generation may join the hall */
    st = update_hall(e, ranked, ok);
    if (st == BCDI_OK && last && e->hall_count && e->hall[0].generation != g)
        bcdi_log(BCDI_LOG_INFO,
                 "best of all generations: run %ld of generation %ld (%s %.5g); the last "
                 "generation's best is %.5g",
                 e->hall[0].run_id, e->hall[0].generation + 1, bcdi_metric_name(p->metric),
                 e->hall[0].key, out->metric_best_per_generation[g]);
    /* failed runs sort last and are dropped; after the last generation nothing is bred and the
     * population is freed (the hall holds copies of the runs phase returns) */
    size_t survivors = last ? 0 : ok;
    if (st == BCDI_OK && !last) {
        st = update_alpha(e, &ranked[0]);
        survivors = (size_t)ceil((double)ok * (1.0 - p->cull_fraction));
        if (survivors < (size_t)p->keep) survivors = (size_t)p->keep;
        if (survivors > ok) survivors = ok;
    }
    int rule = 0;
    if (st == BCDI_OK) st = bcdi_breed_rule_from_name(p->breed_rule, &rule);
    /* this rank's survivors in ranking order, bred with alpha; the others freed */
    individual **kept = malloc((e->local_count ? e->local_count : 1) * sizeof *kept);
    size_t kept_count = 0;
    if (st == BCDI_OK && !kept) st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    for (size_t i = 0; st == BCDI_OK && i < survivors; ++i) {
        if (ranked[i].owner != team_rank(e)) continue;
        individual *ind = local_by_id(e, ranked[i].run_id);
        if (!last) {
            /* stream per (generation, global rank) for pixel_switch */
            st = bcdi_breed_population(e->shape, e->alpha, ind->object, 1, rule, 10, p->seed,
                                       ((uint64_t)(g + 1) << 32) + (uint64_t)i, NULL);
            ind->generation = g + 1;
            ind->state = IND_PENDING;
            ind->from_object = 1;
            ind->position = 0;
        }
        kept[kept_count++] = ind;
    }
    if (st == BCDI_OK) {
        for (size_t i = 0; i < e->local_count; ++i) {
            int stays = 0;
            for (size_t k = 0; k < kept_count && !stays; ++k)
                stays = kept[k] == e->local[i];
            if (!stays) {
                bcdi_engine_free_individual(e->local[i]);
                free(e->local[i]);
            }
        }
        memcpy(e->local, kept, kept_count * sizeof *kept);
        e->local_count = kept_count;
        e->order_count = survivors;
        for (size_t i = 0; i < survivors; ++i)
            e->order[i] = ranked[i].run_id;
    }
    free(kept);
    free(ranked);
    return st;
}
