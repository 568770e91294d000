/* SPDX-License-Identifier: BSD-3-Clause */
/* MPI checks (ctest mpi_checks, label mpi): braggcdi under `mpirun -n 2` against one process.
 *  1. phase: 1 rank and 2 ranks (one batch, and batch=1) give the same kept runs bit for bit
 *     (objects, supports, histories); so does a run stopped by SIGTERM under mpirun and
 *     resumed from its checkpoint on 2 ranks, and on 1.
 *  2. batch: three scans, one corrupt, on 2 ranks in two groups (the dispatcher hands scans to
 *     free ranks) and in one group (both ranks phase each scan): exit non-zero, the failure in
 *     status.json, compare over the other two, results the same as one process's.
 * Skips (exit 77) in a build without MPI or where mpirun is absent. Every rank runs one OpenMP
 * thread (the results do not depend on it, but the same count everywhere keeps FFTW's threaded
 * plans out of the comparison; docs/hpc.md). */
#include "hpc/hpc.h"
#include "io/cxi_result.h"
#include "io/hdf5.h"
#include "io/json.h"
#include "test_util.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static char *dir;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ++failures;                                                                            \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

static const char *in_dir(const char *name)
{
    return tu_join(dir, name);
}

/* "mpirun -n R ... braggcdi <args>" (R = 0: braggcdi alone), output into *out. */
static int run(int ranks, const char *args, char **out)
{
    char cmd[8192];
    if (ranks > 0)
        snprintf(cmd, sizeof cmd, "%s -n %d --allow-run-as-root --oversubscribe '%s' %s 2>&1",
                 BCDI_MPIEXEC, ranks, BRAGGCDI_EXE, args);
    else
        snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", BRAGGCDI_EXE, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 4096) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) break;
            buf = bigger;
        }
    }
    if (buf) buf[len] = '\0';
    int status = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Objects, supports and histories of two results, bit for bit. */
static void same_result(const char *a, const char *b)
{
    bcdi_cxi_phased x, y;
    if (bcdi_cxi_read_result(a, 1, &x) != BCDI_OK || bcdi_cxi_read_result(b, 1, &y) != BCDI_OK) {
        CHECK(0, "cannot read %s or %s: %s", a, b, bcdi_last_error());
        return;
    }
    size_t n = x.shape[0] * x.shape[1] * x.shape[2];
    CHECK(!memcmp(x.shape, y.shape, sizeof x.shape), "%s and %s: shapes differ", a, b);
    CHECK(!memcmp(x.object, y.object, n * sizeof *x.object), "%s and %s: objects differ", a, b);
    CHECK(!memcmp(x.support, y.support, n), "%s and %s: supports differ", a, b);
    bcdi_cxi_phased_free(&x);
    bcdi_cxi_phased_free(&y);
    /* the metric history: one row per evaluation */
    const char *history = "entry_1/image_1/process_1/results/history";
    bcdi_h5_reader *rx = NULL, *ry = NULL;
    int rank_x = 0, rank_y = 0;
    size_t dx[8] = {0}, dy[8] = {0};
    bcdi_dtype type;
    double *hx = NULL, *hy = NULL;
    int read = bcdi_h5_open(a, &rx) == BCDI_OK && bcdi_h5_open(b, &ry) == BCDI_OK &&
               bcdi_h5_shape(rx, history, &rank_x, dx, &type) == BCDI_OK &&
               bcdi_h5_shape(ry, history, &rank_y, dy, &type) == BCDI_OK && dx[0] == dy[0];
    size_t count = dx[0] * dx[1];
    if (read) {
        hx = malloc(count * sizeof *hx);
        hy = malloc(count * sizeof *hy);
        read = hx && hy && bcdi_h5_read(rx, history, BCDI_DT_F64, hx, count) == BCDI_OK &&
               bcdi_h5_read(ry, history, BCDI_DT_F64, hy, count) == BCDI_OK;
    }
    CHECK(read && !memcmp(hx, hy, count * sizeof *hx), "%s and %s: histories differ", a, b);
    free(hx);
    free(hy);
    bcdi_h5_close(rx);
    bcdi_h5_close(ry);
}

static void same_runs(const char *stem_a, const char *stem_b, int keep)
{
    char a[1300], b[1300];
    snprintf(a, sizeof a, "%s.cxi", in_dir(stem_a));
    snprintf(b, sizeof b, "%s.cxi", in_dir(stem_b));
    same_result(a, b);
    for (int k = 1; k <= keep; ++k) {
        snprintf(a, sizeof a, "%s-run%d.cxi", in_dir(stem_a), k);
        snprintf(b, sizeof b, "%s-run%d.cxi", in_dir(stem_b), k);
        same_result(a, b);
    }
}

static void phase_checks(void)
{
    char args[4096], *out = NULL;
    const char *keys = "recipe='60*HIO + 20*RAAR + 20*ER' runs=5 keep=3 generations=3 seed=3 "
                       "--device cpu fft_planner=estimate -q";
    snprintf(args, sizeof args, "phase %s %s -o %s", in_dir("prepared.cxi"), keys,
             in_dir("r1.cxi"));
    int rc = run(0, args, &out);
    CHECK(rc == 0, "phase alone: exit %d: %s", rc, out);
    free(out);
    snprintf(args, sizeof args, "phase %s %s -o %s", in_dir("prepared.cxi"), keys,
             in_dir("r2.cxi"));
    rc = run(2, args, &out);
    CHECK(rc == 0, "phase on 2 ranks: exit %d: %s", rc, out);
    free(out);
    same_runs("r1", "r2", 3);
    snprintf(args, sizeof args, "phase %s %s batch=1 -o %s", in_dir("prepared.cxi"), keys,
             in_dir("r2b.cxi"));
    rc = run(2, args, &out);
    CHECK(rc == 0, "phase on 2 ranks, batch=1: exit %d: %s", rc, out);
    free(out);
    same_runs("r1", "r2b", 3);
    printf("phase: 1 rank and 2 ranks give the same kept runs (%s)\n",
           failures ? "FAILED" : "bit for bit");

    /* stopped under mpirun (SIGTERM to mpirun, which passes it to the ranks), resumed */
    const char *long_keys = "recipe='4000*HIO + 2000*RAAR + 2000*ER' runs=4 keep=2 generations=2 "
                            "seed=3 --device cpu fft_planner=estimate";
    snprintf(args, sizeof args, "phase %s %s -q -o %s", in_dir("prepared.cxi"), long_keys,
             in_dir("ref.cxi"));
    rc = run(0, args, &out);
    CHECK(rc == 0, "reference: exit %d: %s", rc, out);
    free(out);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "exec %s -n 2 --allow-run-as-root --oversubscribe '%s' phase %s %s -o %s > %s 2>&1",
             BCDI_MPIEXEC, BRAGGCDI_EXE, in_dir("prepared.cxi"), long_keys, in_dir("s.cxi"),
             in_dir("log.txt"));
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int progressed = tu_wait_for_text(in_dir("log.txt"), "10%", 300);
    CHECK(progressed, "no progress under mpirun");
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    char *log = tu_read_text(in_dir("log.txt"));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0, "a stopped run exits non-zero: %s", log);
    CHECK(log && strstr(log, "checkpoint written to"), "stopped without a checkpoint: %s", log);
    free(log);
    CHECK(tu_file_exists(in_dir("s.cxi.ckpt")), "no checkpoint");
    /* the checkpoint of 2 ranks resumed by 1 rank, and by 2 */
    char copy[4096];
    snprintf(copy, sizeof copy, "cp '%s' '%s'", in_dir("s.cxi.ckpt"), in_dir("s1.cxi.ckpt"));
    CHECK(system(copy) == 0, "copy");
    snprintf(args, sizeof args, "phase %s %s -o %s", in_dir("prepared.cxi"), long_keys,
             in_dir("s.cxi"));
    rc = run(2, args, &out);
    CHECK(rc == 0 && strstr(out, "resuming from checkpoint"), "resume on 2 ranks: exit %d: %s", rc,
          out);
    free(out);
    snprintf(args, sizeof args, "phase %s %s -o %s", in_dir("prepared.cxi"), long_keys,
             in_dir("s1.cxi"));
    rc = run(0, args, &out);
    CHECK(rc == 0 && strstr(out, "resuming from checkpoint"), "resume alone: exit %d: %s", rc, out);
    free(out);
    same_runs("ref", "s", 2);
    same_runs("ref", "s1", 2);
    CHECK(!tu_file_exists(in_dir("s.cxi.ckpt")), "checkpoint not removed");
    printf("phase: stopped on 2 ranks, resumed on 2 and on 1: %s\n",
           failures ? "FAILED" : "the uninterrupted result");
}

static const char *text_at(json_t *root, const char *path)
{
    return bcdi_json_string_at(root, path);
}

static void batch_checks(void)
{
    /* a.cxi and c.cxi good, b.cxi the first 4000 bytes of a good file */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s' && head -c 4000 '%s' > '%s'",
             in_dir("prepared.cxi"), in_dir("a.cxi"), in_dir("prepared.cxi"), in_dir("c.cxi"),
             in_dir("prepared.cxi"), in_dir("b.cxi"));
    CHECK(system(cmd) == 0, "inputs");
    FILE *f = fopen(in_dir("series.ini"), "w");
    fprintf(f, "[phase]\nrecipe = 40*HIO + 20*ER\nruns = 2\ndevice = cpu\nfft_planner = estimate\n"
               "[analyze]\northogonalise = false\n"
               "[scan a]\ninput = a.cxi\nvoltage = 3.0\n"
               "[scan b]\ninput = b.cxi\n"
               "[scan c]\ninput = c.cxi\nvoltage = 4.2\nphase.seed = 5\n");
    fclose(f);
    const char *variants[3] = {"alone", "groups", "together"};
    for (int v = 0; v < 3; ++v) {
        char args[4096], *out = NULL, outdir[64];
        snprintf(outdir, sizeof outdir, "batch-%s", variants[v]);
        snprintf(args, sizeof args, "batch %s %s -q -o %s", in_dir("series.ini"),
                 v == 2 ? "batch.ranks_per_scan=0" : "", in_dir(outdir));
        int rc = run(v == 0 ? 0 : 2, args, &out);
        CHECK(rc != 0, "batch %s: a failed scan gives a non-zero exit: %s", variants[v], out);
        free(out);
        char path[1400];
        snprintf(path, sizeof path, "%s/status.json", in_dir(outdir));
        json_t *st = NULL;
        if (bcdi_json_read(path, &st) != BCDI_OK) {
            CHECK(0, "batch %s: %s", variants[v], bcdi_last_error());
            continue;
        }
        json_t *scans = json_object_get(st, "scans");
        const char *states[3] = {"done", "failed", "done"};
        for (size_t k = 0; k < 3; ++k) {
            const char *s = json_string_value(json_object_get(json_array_get(scans, k), "state"));
            CHECK(s && !strcmp(s, states[k]), "batch %s: scan %zu is %s", variants[v], k,
                  s ? s : "?");
        }
        const char *error = bcdi_json_string_at(json_array_get(scans, 1), "steps/prepare/error");
        CHECK(error && strstr(error, "b.cxi"), "batch %s: the failure names b.cxi", variants[v]);
        CHECK(text_at(st, "compare/state") && !strcmp(text_at(st, "compare/state"), "done"),
              "batch %s: compare", variants[v]);
        CHECK(json_array_size(bcdi_json_at(st, "compare/scans")) == 2,
              "batch %s: compare over two scans", variants[v]);
        json_decref(st);
        if (v > 0) {
            char a[1400], b[1400];
            for (int s = 0; s < 2; ++s) {
                const char *label = s ? "c" : "a";
                snprintf(a, sizeof a, "%s/%s/result.cxi", in_dir("batch-alone"), label);
                snprintf(b, sizeof b, "%s/%s/result.cxi", in_dir(outdir), label);
                same_result(a, b);
            }
        }
    }
    printf("batch: one scan failed, two compared, on 1 rank, 2 groups and 1 group of 2: %s\n",
           failures ? "FAILED" : "as expected");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!bcdi_hpc_built_with_mpi()) {
        printf("skipped: built without MPI\n");
        return 77;
    }
    if (system("command -v " BCDI_MPIEXEC " > /dev/null 2>&1") != 0) {
        printf("skipped: %s not found\n", BCDI_MPIEXEC);
        return 77;
    }
    setenv("OMP_NUM_THREADS", "1", 1);
    dir = tu_make_temp_dir("mpi");
    if (tu_write_prepared(in_dir("prepared.cxi"), 0) != 0) {
        printf("FAIL: test data: %s\n", bcdi_last_error());
        return 1;
    }
    phase_checks();
    batch_checks();
    tu_remove_tree(dir);
    free(dir);
    printf("%s\n", failures ? "mpi_checks: FAILED" : "mpi_checks: all passed");
    return failures ? 1 : 0;
}
