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
    /* failed runs sort last and are dropped; at the end every run stays until the kept ones
     * are chosen */
    size_t survivors = ok;
    if (!last) {
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

bcdi_status bcdi_population_gather_kept(engine *e, size_t keep, individual ***kept_out,
                                        int **received_out, size_t *count_out)
{
    *kept_out = NULL;
    *received_out = NULL;
    *count_out = 0;
    member *ranked = NULL;
    size_t count = 0;
    bcdi_status st = gather_ranking(e, &ranked, &count);
    if (st != BCDI_OK) return st;
    size_t ok = 0;
    for (size_t i = 0; i < count; ++i)
        ok += !ranked[i].failed;
    if (keep > ok) keep = ok;
    int me = team_rank(e);
    individual **kept = calloc(keep ? keep : 1, sizeof *kept);
    int *received = calloc(keep ? keep : 1, sizeof *received);
    if (!kept || !received) st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
    /* run k goes from its owner to rank 0, in ranking order (messages between two ranks keep
     * their order) */
    for (size_t k = 0; st == BCDI_OK && k < keep; ++k) {
        int owner = ranked[k].owner;
        if (owner == me && me == 0) {
            kept[k] = local_by_id(e, ranked[k].run_id);
        } else if (owner == me) {
            individual *ind = local_by_id(e, ranked[k].run_id);
            uint64_t size = bcdi_individual_packed_size(e, ind);
            unsigned char *buf = malloc(size);
            if (!buf) {
                st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
                break;
            }
            bcdi_individual_pack(e, ind, buf);
            st = e->team->send(e->team->ctx, 0, &size, sizeof size);
            if (st == BCDI_OK) st = e->team->send(e->team->ctx, 0, buf, size);
            free(buf);
        } else if (me == 0) {
            uint64_t size = 0;
            st = e->team->recv(e->team->ctx, owner, &size, sizeof size);
            unsigned char *buf = st == BCDI_OK ? malloc(size ? size : 1) : NULL;
            individual *ind = calloc(1, sizeof *ind);
            if (st == BCDI_OK && (!buf || !ind))
                st = bcdi_error(BCDI_ERR_NOMEM, "phase: out of memory");
            if (st == BCDI_OK) st = e->team->recv(e->team->ctx, owner, buf, size);
            if (st == BCDI_OK) st = bcdi_individual_unpack(e, buf, size, ind);
            free(buf);
            if (st == BCDI_OK) {
                kept[k] = ind;
                received[k] = 1;
            } else {
                free(ind);
            }
        }
    }
    free(ranked);
    if (st != BCDI_OK || me != 0) {
        for (size_t k = 0; k < keep; ++k)
            if (received[k]) {
                bcdi_engine_free_individual(kept[k]);
                free(kept[k]);
            }
        free(kept);
        free(received);
        return st;
    }
    *kept_out = kept;
    *received_out = received;
    *count_out = keep;
    return BCDI_OK;
}
