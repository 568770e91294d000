/* SPDX-License-Identifier: BSD-3-Clause */
/* Inside the phasing engine: its state, shared by engine.c (batches through the backend),
 * population.c (ranking, alpha, culling, breeding across the ranks of a team) and checkpoint.c
 * (the state to a file and back). Not for use outside src/phasing. */
#ifndef BCDI_PHASING_ENGINE_INTERNAL_H
#define BCDI_PHASING_ENGINE_INTERNAL_H

#include "backend/backend.h"
#include "bcdi/phasing.h"
#include "bcdi/recipe.h"
#include "phasing/checkpoint.h"
#include "phasing/iteration.h"
#include "phasing/team.h"

#include <stdint.h>

#define BCDI_ENGINE_MAX_GENERATIONS 64

/* Where an individual stands in the current generation. */
typedef enum {
    IND_PENDING = 0, /* to start: from a random start, or from its object (a bred child) */
    IND_RUNNING,     /* stopped after `position` iterations by a checkpoint: object and support
                      * hold the iterate */
    IND_FINISHED,    /* ran the recipe (failed says whether its support left the bounds) */
    IND_DROPPED      /* failed after every restart */
} individual_state;

/* One individual of the population as this rank tracks it (host, internal ifftshifted layout). */
typedef struct individual {
    long run_id;
    long generation;
    int attempt;      /* restarts so far */
    double threshold; /* relative shrink-wrap threshold */
    int failed;       /* support left [min, max] */
    double failed_fraction;
    int state;       /* individual_state */
    int from_object; /* PENDING: start from `object` (a child) rather than a random start */
    long position;   /* RUNNING: iterations of the recipe done */
    bcdi_cf *object; /* host copy after a batch (or the child to start from) */
    uint8_t *support;
    bcdi_history_point final;
    bcdi_history_point *history;
    size_t history_count, history_capacity;
    double psf_sigma[3]; /* psf=gaussian: the run's PSF widths (0: not started, the key's) */
} individual;

/* One of the best runs seen in any generation (the hall, what phase returns): its ranking
 * metric at the end of its generation; the record is the same on every rank, the copy (the
 * individual as it ended that generation) is held by rank 0 alone. */
typedef struct hall_entry {
    long run_id;
    long generation;
    double key;       /* ranking metric of its final point */
    individual *copy; /* rank 0: owned; NULL on other ranks */
} hall_entry;

typedef struct engine {
    bcdi_backend *be;
    const bcdi_backend_ops *ops;
    const bcdi_phasing_params *p;
    size_t shape[3], n;
    bcdi_recipe recipes[BCDI_ENGINE_MAX_GENERATIONS];
    size_t recipe_count;
    int uses_dm;
    /* shared device data */
    float *amplitude;
    uint8_t *mask;
    size_t n_measured, n_free;
    size_t n_masked, n_bounded; /* unmeasured pixels; of them with a bound (mask_bound) */
    uint8_t *initial_support; /* host, internal layout */
    /* batch buffers */
    bcdi_phasing_workspace ws;
    size_t capacity;
    bcdi_cf *rho, *psi, *dm_b;
    uint8_t *support;
    bcdi_fft *plan;
    size_t plan_batch;
    /* partial coherence (psf.h): device arrays of the batch, host scratch of one run, the
     * batch's widths ([capacity][3]); NULL without psf */
    bcdi_cf *psf_model, *psf_hat, *psf_host_volume;
    float *psf_host_gaussian;
    double *psf_sigma;
    float psf_floor;
    /* host scratch */
    double *fourier_terms, *update_terms;
    float *maxima, *thresholds;
    uint64_t *counts;
    /* progress */
    bcdi_phase_progress_fn progress;
    void *user;
    long done, total;
    bcdi_phase_progress now; /* the leading run at the latest evaluation */
    /* the population: this rank's individuals, in the order of the global ranking */
    individual **local;
    size_t local_count;
    long generation; /* being run */
    /* the global order at the start of the generation: run ids, best first (all ranks) */
    long *order;
    size_t order_count;
    /* guided seeding */
    bcdi_cf *alpha; /* NULL until the first generation ends */
    bcdi_history_point alpha_final;
    long alpha_run_id;
    /* the best `keep` runs of every generation so far, best first (population.c) */
    hall_entry *hall;
    size_t hall_count;
    /* ranks and checkpoints */
    const bcdi_phase_team *team; /* NULL: this process alone */
    const bcdi_checkpoint_opts *checkpoint;
    double last_checkpoint; /* monotonic seconds */
    double started;         /* monotonic seconds at the start of this process's run */
    double elapsed_before;  /* seconds of the runs this one resumes */
    int team_failed;        /* another rank failed: stop, its error is agreed */
    bcdi_phasing_result *out;
} engine;

double bcdi_engine_metric(bcdi_metric metric, const bcdi_history_point *h);
bcdi_status bcdi_engine_push_history(individual *ind, const bcdi_history_point *h);
void bcdi_engine_free_individual(individual *ind);

/* ---- engine_sync.c ---- */

/* After an iteration of the batch in `slots` (`position` iterations of the recipe done): a
 * round of the team, and the checkpoint or stop it asks for. */
bcdi_status bcdi_engine_sync_point(engine *e, individual **slots, size_t batch, long position);
/* Rounds until every rank's work for the generation is over (`failed`: this rank's ended in an
 * error, which the others are told). */
bcdi_status bcdi_engine_wait_for_team(engine *e, int failed);

/* ---- population.c ---- */

/* This rank's share of the first generation: run ids lo..hi-1 of a block split of `runs`. */
void bcdi_population_block(long runs, int rank, int size, long *lo, long *hi);
/* After a generation: every rank's individuals ranked together (failed last); the number that
 * succeeded; the hall updated with this generation's best (copies sent to rank 0); alpha
 * updated (broadcast by its owner when a better one appeared) unless `last`; then the
 * survivors bred with alpha (streams by global rank) and the rest freed. On every rank
 * e->order holds the ranking. */
bcdi_status bcdi_population_next(engine *e, int last, size_t *succeeded);
/* Order of the hall: by key (NaN last), then earlier generation, then run id. */
int bcdi_hall_compare(const hall_entry *a, const hall_entry *b);
void bcdi_hall_free(engine *e);

/* ---- engine_psf.c (partial coherence; nothing happens with psf=none) ---- */

/* The psf keys against the parsed recipes, and the model's floor from the data. */
bcdi_status bcdi_engine_psf_prepare(engine *e, const bcdi_phasing_data *data);
/* (Re)allocate the batch's PSF arrays (device) and the host scratch; bind them into e->ws. */
bcdi_status bcdi_engine_psf_alloc(engine *e, size_t batch);
void bcdi_engine_psf_bind(engine *e);
/* Every run's PSF on the device at the start of a batch (fresh: the key's width). */
bcdi_status bcdi_engine_psf_begin(engine *e, individual **slots, size_t batch, int fresh);
/* Around iteration t of the recipe: whether the PSF model is active; the update when due. */
void bcdi_engine_psf_before(engine *e, long t);
bcdi_status bcdi_engine_psf_after(engine *e, individual **slots, size_t batch, long t);
/* A finished run's PSF, centred like the data (NULL with psf=none; the caller frees), logged. */
bcdi_status bcdi_engine_psf_result(const engine *e, const individual *ind, float **psf);
void bcdi_engine_psf_free(engine *e);

/* ---- checkpoint.c ---- */

/* Write the state of every rank's population (collective; rank 0 writes the file). */
bcdi_status bcdi_checkpoint_save(engine *e);
/* Read a checkpoint written for these keys and input into e (collective; rank 0 reads and
 * hands each individual to its new owner): 1 in *resumed, or 0 when there is none (or
 * discard). Refused with BCDI_ERR_CONFIG when its keys or input differ. */
bcdi_status bcdi_checkpoint_load(engine *e, int *resumed);

/* One individual as bytes (checkpoints, and kept runs sent to rank 0). */
size_t bcdi_individual_packed_size(const engine *e, const individual *ind);
void bcdi_individual_pack(const engine *e, const individual *ind, unsigned char *buf);
/* Fills a zeroed individual; BCDI_ERR_FORMAT when the bytes do not hold one. */
bcdi_status bcdi_individual_unpack(const engine *e, const unsigned char *buf, size_t size,
                                   individual *ind);

#endif
