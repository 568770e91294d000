/* SPDX-License-Identifier: BSD-3-Clause */
/* hpc.h on MPI (Open MPI from Debian in CI; any MPI-3 library). */
#define _GNU_SOURCE /* nanosleep under -std=c11 needs POSIX; setenv */
#include "hpc/hpc_internal.h"

#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bcdi_hpc {
    MPI_Comm comm;
    int rank, size;
    int mpi;               /* MPI is initialised */
    int owns_comm;         /* comm is ours to free */
    int threads_ok;        /* MPI_THREAD_MULTIPLE granted */
    struct bcdi_hpc *node; /* ranks of comm on this node (NULL until asked) */
    MPI_Request round;     /* the open round of bcdi_hpc_round */
    int round_open, round_mine[2], round_all[2];
};

static bcdi_hpc the_process = {MPI_COMM_NULL,    0, 1,      0,     0, 1, NULL,
                               MPI_REQUEST_NULL, 0, {0, 0}, {0, 0}};
static int granted_multiple;

int bcdi_hpc_built_with_mpi(void)
{
    return 1;
}

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : -1;
}

/* Did a launcher start this process as one of several ranks? */
static int launched(void)
{
    long forced = env_long("BCDI_MPI");
    if (forced == 0 || forced == 1) return (int)forced;
    if (env_long("OMPI_COMM_WORLD_SIZE") >= 1) return 1; /* mpirun/mpiexec of Open MPI */
    if (env_long("PMI_SIZE") > 1) return 1;              /* MPICH's hydra, srun --mpi=pmi2 */
    if (env_long("SLURM_STEP_NUM_TASKS") > 1) return 1;  /* srun with several tasks */
    if (getenv("PMIX_RANK") && env_long("SLURM_STEP_NUM_TASKS") >= 1) return 1;
    return 0;
}

bcdi_status bcdi_hpc_start(int *argc, char ***argv, int threads, bcdi_hpc **world)
{
    *world = &the_process;
    if (!launched()) return BCDI_OK;
    int initialised = 0;
    MPI_Initialized(&initialised);
    int provided = MPI_THREAD_SINGLE;
    if (!initialised) {
        int want = threads ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED;
        if (MPI_Init_thread(argc, argv, want, &provided) != MPI_SUCCESS)
            return bcdi_error(BCDI_ERR_BACKEND,
                              "MPI: MPI_Init_thread failed although the environment names an MPI "
                              "launch (set BCDI_MPI=0 to run without MPI; under srun use "
                              "--mpi=pmix)");
    } else {
        MPI_Query_thread(&provided);
    }
    /* errors come back as codes: a failed call ends in an agreed error, not an abort deep in MPI */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    granted_multiple = provided >= MPI_THREAD_MULTIPLE;
    bcdi_hpc *w = calloc(1, sizeof *w);
    if (!w) return bcdi_error(BCDI_ERR_NOMEM, "MPI: out of memory");
    w->comm = MPI_COMM_WORLD;
    w->mpi = 1;
    w->threads_ok = granted_multiple;
    MPI_Comm_rank(w->comm, &w->rank);
    MPI_Comm_size(w->comm, &w->size);
    *world = w;
    return BCDI_OK;
}

void bcdi_hpc_finish(bcdi_hpc *world)
{
    if (!world || world == &the_process) return;
    bcdi_hpc_free(world->node);
    world->node = NULL;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
    free(world);
}

void bcdi_hpc_abort(bcdi_hpc *h, int code)
{
    if (h && h->mpi) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

int bcdi_hpc_rank(const bcdi_hpc *h)
{
    return h ? h->rank : 0;
}

int bcdi_hpc_size(const bcdi_hpc *h)
{
    return h ? h->size : 1;
}

int bcdi_hpc_is_mpi(const bcdi_hpc *h)
{
    return h && h->mpi;
}

int bcdi_hpc_threads_ok(const bcdi_hpc *h)
{
    return !h || !h->mpi || h->threads_ok;
}

static bcdi_status mpi_error(int code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    return bcdi_error(BCDI_ERR_BACKEND, "MPI: %s failed: %.*s", what, len, text);
}

bcdi_status bcdi_hpc_split(bcdi_hpc *h, int color, bcdi_hpc **group)
{
    if (!h || !h->mpi) {
        *group = h ? h : &the_process;
        return BCDI_OK;
    }
    bcdi_hpc *g = calloc(1, sizeof *g);
    if (!g) return bcdi_error(BCDI_ERR_NOMEM, "MPI: out of memory");
    int rc = MPI_Comm_split(h->comm, color, h->rank, &g->comm);
    if (rc != MPI_SUCCESS) {
        free(g);
        return mpi_error(rc, "MPI_Comm_split");
    }
    MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN);
    g->mpi = 1;
    g->owns_comm = 1;
    g->threads_ok = h->threads_ok;
    MPI_Comm_rank(g->comm, &g->rank);
    MPI_Comm_size(g->comm, &g->size);
    *group = g;
    return BCDI_OK;
}

void bcdi_hpc_free(bcdi_hpc *group)
{
    if (!group || group == &the_process || !group->owns_comm) return;
    bcdi_hpc_free(group->node);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&group->comm);
    free(group);
}

bcdi_hpc *bcdi_hpc_node_group(bcdi_hpc *h)
{
    if (!h || !h->mpi) return h;
    if (!h->node) {
        bcdi_hpc *g = calloc(1, sizeof *g);
        if (!g) return NULL;
        if (MPI_Comm_split_type(h->comm, MPI_COMM_TYPE_SHARED, h->rank, MPI_INFO_NULL, &g->comm) !=
            MPI_SUCCESS) {
            free(g);
            return NULL;
        }
        MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN);
        g->mpi = 1;
        g->owns_comm = 1;
        g->threads_ok = h->threads_ok;
        MPI_Comm_rank(g->comm, &g->rank);
        MPI_Comm_size(g->comm, &g->size);
        h->node = g;
    }
    return h->node;
}

int bcdi_hpc_node_rank(const bcdi_hpc *h)
{
    bcdi_hpc *node = bcdi_hpc_node_group((bcdi_hpc *)h);
    return node ? node->rank : 0;
}

int bcdi_hpc_node_size(const bcdi_hpc *h)
{
    bcdi_hpc *node = bcdi_hpc_node_group((bcdi_hpc *)h);
    return node ? node->size : 1;
}

/* ---- waiting without spinning ---- */

/* Open MPI's blocking calls poll at full speed: a rank that waits minutes for the others (the
 * end of a generation, a group leader preparing a scan) would take a core from them. So waits
 * test the request and sleep between tests, from 20 us up to 5 ms. */
static int wait_politely(MPI_Request *request)
{
    long sleep_ns = 20000;
    for (;;) {
        int done = 0;
        int rc = MPI_Test(request, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || done) return rc;
        struct timespec ts = {0, sleep_ns};
        nanosleep(&ts, NULL);
        if (sleep_ns < 5000000) sleep_ns *= 2;
    }
}

bcdi_status bcdi_hpc_barrier(bcdi_hpc *h)
{
    if (!h || !h->mpi) return BCDI_OK;
    MPI_Request request;
    int rc = MPI_Ibarrier(h->comm, &request);
    if (rc == MPI_SUCCESS) rc = wait_politely(&request);
    return rc == MPI_SUCCESS ? BCDI_OK : mpi_error(rc, "a barrier");
}

/* MPI counts are ints: large buffers go in pieces of 1 GiB. */
#define PIECE ((size_t)1 << 30)

bcdi_status bcdi_hpc_bcast(bcdi_hpc *h, void *data, size_t bytes, int root)
{
    if (!h || !h->mpi || h->size == 1) return BCDI_OK;
    for (size_t at = 0; at < bytes; at += PIECE) {
        size_t n = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Request request;
        int rc = MPI_Ibcast((char *)data + at, (int)n, MPI_BYTE, root, h->comm, &request);
        if (rc == MPI_SUCCESS) rc = wait_politely(&request);
        if (rc != MPI_SUCCESS) return mpi_error(rc, "a broadcast");
    }
    return BCDI_OK;
}

bcdi_status bcdi_hpc_allgather(bcdi_hpc *h, const void *mine, size_t bytes, void *all)
{
    if (!h || !h->mpi || h->size == 1) {
        if (bytes && all != mine) memmove(all, mine, bytes);
        return BCDI_OK;
    }
    if (bytes > INT_MAX)
        return bcdi_error(BCDI_ERR_INTERNAL, "MPI: allgather of %zu bytes per rank", bytes);
    MPI_Request request;
    int rc =
        MPI_Iallgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, h->comm, &request);
    if (rc == MPI_SUCCESS) rc = wait_politely(&request);
    return rc == MPI_SUCCESS ? BCDI_OK : mpi_error(rc, "an allgather");
}

/* The status and message every rank agrees on: each contributes its status; the lowest failing
 * rank then broadcasts its message. */
bcdi_status bcdi_hpc_agree(bcdi_hpc *h, bcdi_status local)
{
    if (!h || !h->mpi || h->size == 1) return local;
    int *all = malloc((size_t)h->size * sizeof *all);
    if (!all) bcdi_hpc_abort(h, 1); /* cannot agree: end every rank rather than hang */
    int mine = (int)local;
    bcdi_status st = bcdi_hpc_allgather(h, &mine, sizeof mine, all);
    if (st != BCDI_OK) {
        free(all);
        return st;
    }
    int first = -1;
    for (int r = 0; r < h->size && first < 0; ++r)
        if (all[r] != BCDI_OK) first = r;
    bcdi_status agreed = first < 0 ? BCDI_OK : (bcdi_status)all[first];
    free(all);
    if (first < 0) return BCDI_OK;
    char message[2048];
    snprintf(message, sizeof message, "%s", bcdi_last_error());
    st = bcdi_hpc_bcast(h, message, sizeof message, first);
    if (st != BCDI_OK) return st;
    message[sizeof message - 1] = '\0';
    /* rank 0's own words, else said to come from the rank that failed (once) */
    if (first == 0 || !strncmp(message, "rank ", 5)) return bcdi_error(agreed, "%s", message);
    return bcdi_error(agreed, "rank %d of %d: %s", first, h->size, message);
}

bcdi_status bcdi_hpc_send(bcdi_hpc *h, int dest, int tag, const void *data, size_t bytes)
{
    if (!h || !h->mpi)
        return bcdi_error(BCDI_ERR_INTERNAL, "hpc: a message to rank %d without MPI", dest);
    size_t at = 0;
    do {
        size_t n = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Request request;
        int rc = MPI_Isend((const char *)data + at, (int)n, MPI_BYTE, dest, tag, h->comm, &request);
        if (rc == MPI_SUCCESS) rc = wait_politely(&request);
        if (rc != MPI_SUCCESS) return mpi_error(rc, "a send");
        at += n;
    } while (at < bytes);
    return BCDI_OK;
}

bcdi_status bcdi_hpc_recv(bcdi_hpc *h, int source, int tag, void *data, size_t bytes)
{
    if (!h || !h->mpi)
        return bcdi_error(BCDI_ERR_INTERNAL, "hpc: a message from rank %d without MPI", source);
    size_t at = 0;
    do {
        size_t n = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Request request;
        int rc = MPI_Irecv((char *)data + at, (int)n, MPI_BYTE, source, tag, h->comm, &request);
        if (rc == MPI_SUCCESS) rc = wait_politely(&request);
        if (rc != MPI_SUCCESS) return mpi_error(rc, "a receive");
        at += n;
    } while (at < bytes);
    return BCDI_OK;
}

int bcdi_hpc_round(bcdi_hpc *h, const int mine[2], int result[2])
{
    if (!h || !h->mpi || h->size == 1) {
        result[0] = mine[0], result[1] = mine[1];
        return 1;
    }
    if (!h->round_open) {
        h->round_mine[0] = mine[0], h->round_mine[1] = mine[1];
        if (MPI_Iallreduce(h->round_mine, h->round_all, 2, MPI_INT, MPI_MAX, h->comm, &h->round) !=
            MPI_SUCCESS)
            bcdi_hpc_abort(h, 1); /* a rank that cannot take part would leave the others waiting */
        h->round_open = 1;
    }
    int done = 0;
    if (MPI_Test(&h->round, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) bcdi_hpc_abort(h, 1);
    if (!done) return 0;
    h->round_open = 0;
    result[0] = h->round_all[0], result[1] = h->round_all[1];
    return 1;
}

int bcdi_hpc_poll(bcdi_hpc *h, int *source, int *tag, size_t *bytes)
{
    if (!h || !h->mpi) return 0;
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, h->comm, &flag, &status) != MPI_SUCCESS || !flag)
        return 0;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    *source = status.MPI_SOURCE;
    *tag = status.MPI_TAG;
    *bytes = (size_t)count;
    return 1;
}
