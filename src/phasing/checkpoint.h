/* SPDX-License-Identifier: BSD-3-Clause */
/* Checkpoints of a phase run and the engine's entry point that takes them (docs/hpc.md).
 *
 * A checkpoint is one file, `<output>.ckpt`, written through an output transaction (a
 * temporary renamed into place) every `interval_s` seconds of work and when SIGTERM or SIGUSR1
 * asks the run to stop. It holds the keys (as text and a hash), a hash of the input, the
 * generation being run and the global ranking that started it, alpha, the best metric of every
 * finished generation, and every individual: run id, generation, restart attempts and
 * shrink-wrap threshold, where it stands (pending, stopped after N iterations, finished,
 * dropped), its object and support, final metrics and history. The random numbers need no
 * state: run r's start draws from Philox stream r + attempt * 2^32, the free pixels from the
 * seed, pixel_switch breeding from stream (generation + 1) * 2^32 + rank; the seed is a key.
 * Byte order is the machine's (a checkpoint moves between machines of one architecture); a
 * trailing hash of the content catches a truncated or damaged file.
 *
 * Resuming restores that state exactly (objects bit for bit) and runs on: with the deterministic
 * CPU planner a resumed run ends with the same result as an uninterrupted one, on any number of
 * ranks (tests/test_checkpoint.c). */
#ifndef BCDI_PHASING_CHECKPOINT_H
#define BCDI_PHASING_CHECKPOINT_H

#include "bcdi/phasing.h"
#include "phasing/team.h"

#include <stdint.h>

typedef struct bcdi_checkpoint_opts {
    const char *path;      /* "<output>.ckpt"; NULL or "": no checkpoint */
    double interval_s;     /* seconds of work between checkpoints; 0: none, not even on a signal */
    int discard;           /* restart=true: an existing checkpoint is not read */
    uint64_t input_hash;   /* of the prepared data (and the support file) */
    uint64_t keys_hash;    /* of the keys that change the computation */
    const char *keys_text; /* "key = value" lines, compared to explain a refusal */
} bcdi_checkpoint_opts;

/* bcdi_phase with a team of ranks (NULL: alone), checkpoints (NULL: none) and the full progress
 * record (the leading run's current llk and Fourier error). Every rank of the
 * team calls it with the same parameters and data; rank 0 receives the result (the others an
 * empty one). *resumed (may be NULL) says a checkpoint was read. On a signal (SIGTERM, SIGUSR1)
 * it writes the checkpoint first and returns BCDI_ERR_INTERRUPTED saying where it is. */
bcdi_status bcdi_phase_run(bcdi_backend *backend, const bcdi_phasing_params *params,
                           const bcdi_phasing_data *data, const bcdi_phase_team *team,
                           const bcdi_checkpoint_opts *checkpoint, bcdi_phase_progress_fn progress,
                           void *user, bcdi_phasing_result *out, int *resumed);

#endif
