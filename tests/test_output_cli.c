/* SPDX-License-Identifier: BSD-3-Clause */
/* What braggcdi leaves on disk, through the executable (docs/security.md): device nodes and
 * inputs are never replaced, temporaries never follow symlinks planted at the names the
 * writers used to choose, a kept-run set appears whole or not at all, a signal stops a run with
 * 130/143 and nothing left behind, a full disk is an error and not a crash, JSON is valid UTF-8
 * and CSV cells cannot run as spreadsheet formulas. */
#include "bcdi/simulate.h"
#include "core/output.h"
#include "io/cxi_result.h"
#include "io/json.h"
#include "test_util.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
    dir = tu_make_temp_dir("output-cli");
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    tu_remove_tree(dir);
    free(dir);
}

TestSuite(output_cli, .init = setup, .fini = teardown, .timeout = 180);

static const char *in_dir(const char *name)
{
    return tu_join(dir, name);
}

/* Whole file (binary), for byte comparisons. */
static char *read_bytes(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n > 0 ? (size_t)n : 1);
    *size = b ? fread(b, 1, (size_t)n, f) : 0;
    fclose(f);
    return b;
}

/* The true object of a 32^3 simulated crystal written as a phasing result (with geometry). */
static void write_result(const char *path)
{
    bcdi_simulate_params sp;
    bcdi_simulate_default(&sp);
    sp.shape[0] = sp.shape[1] = sp.shape[2] = 32;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    cr_assert_eq(bcdi_simulate_geometry(&sp, &g), BCDI_OK);
    cr_assert_eq(bcdi_simulate_make_object(&sp, &g, &obj), BCDI_OK);
    bcdi_cxi_result r = {.shape = {32, 32, 32},
                         .object = obj.object,
                         .support = obj.support,
                         .data_shape = {32, 32, 32},
                         .geometry = &g,
                         .metric = "llk",
                         .backend = "cpu",
                         .device = "test",
                         .program = "test"};
    cr_assert_eq(bcdi_cxi_write_result(NULL, path, &r), BCDI_OK, "%s", bcdi_last_error());
    bcdi_simulate_object_free(&obj);
}

static pid_t start(const char *args, const char *log, void (*plant)(pid_t))
{
    pid_t pid = tu_start_braggcdi(args, log, plant);
    cr_assert_geq(pid, 0);
    return pid;
}

static int finish(pid_t pid)
{
    return tu_finish(pid);
}

static int is_char_device(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 && S_ISCHR(sb.st_mode);
}

Test(output_cli, dev_null_as_output_is_refused)
{
    if (geteuid() != 0) {
        cr_log_warn("skipped: not root (only root could replace /dev/null)");
        cr_skip_test("not root");
    }
    const char *prepared = in_dir("prepared.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    const char *commands[] = {"info %s -o /dev/null", "phase %s recipe=5*ER -o /dev/null",
                              "analyze %s -o /dev/null", "bench sizes=8 batches=1 -o /dev/null"};
    for (size_t k = 0; k < sizeof commands / sizeof *commands; ++k) {
        char args[2048], *out = NULL;
        snprintf(args, sizeof args, commands[k], prepared);
        int rc = tu_run_braggcdi(args, &out);
        cr_expect(rc >= 1 && rc <= 2, "'%s' exited %d: %s", args, rc, out);
        cr_expect(strstr(out, "/dev/null") && strstr(out, "character device"), "'%s': %s", args,
                  out);
        free(out);
        cr_expect(is_char_device("/dev/null"), "'%s' replaced /dev/null", args);
    }
    cr_expect_eq(tu_count_named("/dev", BCDI_OUTPUT_TEMP_MARK), 0, "a temporary left in /dev");
}

/* Run a command that must be refused because its output is an input; the input keeps its
 * bytes. */
static void expect_input_kept(const char *args, const char *input, const char *needle)
{
    size_t n0 = 0, n1 = 0;
    char *before = read_bytes(input, &n0), *out = NULL;
    cr_assert_not_null(before);
    int rc = tu_run_braggcdi(args, &out);
    cr_expect(rc >= 1 && rc <= 2, "'%s' exited %d: %s", args, rc, out);
    cr_expect(strstr(out, needle) != NULL, "'%s': message lacks '%s': %s", args, needle, out);
    char *after = read_bytes(input, &n1);
    cr_expect(after && n0 == n1 && memcmp(before, after, n0) == 0, "'%s' changed its input", args);
    free(before);
    free(after);
    free(out);
}

Test(output_cli, an_output_equal_to_an_input_is_refused_and_the_input_kept)
{
    const char *prepared = in_dir("prepared.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    char args[4096];
    snprintf(args, sizeof args, "phase %s recipe=5*ER -o %s", prepared, prepared);
    expect_input_kept(args, prepared, "input of this run");
    snprintf(args, sizeof args, "phase %s recipe=5*ER -o %s/./prepared.cxi", prepared, dir);
    expect_input_kept(args, prepared, "input of this run");
    cr_assert_eq(link(prepared, in_dir("alias.cxi")), 0);
    snprintf(args, sizeof args, "phase %s recipe=5*ER -o %s", prepared, in_dir("alias.cxi"));
    expect_input_kept(args, prepared, "input of this run");
    snprintf(args, sizeof args, "info %s -o %s", prepared, prepared);
    expect_input_kept(args, prepared, "input of this run");
    snprintf(args, sizeof args, "prepare %s -o %s", prepared, prepared);
    expect_input_kept(args, prepared, "input of this run");
    /* prepare's summary JSON onto its own output, and onto its input */
    snprintf(args, sizeof args, "prepare %s summary_json=%s -o %s", prepared, in_dir("p.cxi"),
             in_dir("p.cxi"));
    expect_input_kept(args, prepared, "summary_json");
    snprintf(args, sizeof args, "prepare %s summary_json=%s -o %s", prepared, prepared,
             in_dir("p.cxi"));
    expect_input_kept(args, prepared, "input of this run");
    /* phase's support_file= is an input too */
    snprintf(args, sizeof args, "phase %s recipe=5*ER support=file support_file=%s -o %s", prepared,
             in_dir("alias.cxi"), in_dir("alias.cxi"));
    expect_input_kept(args, prepared, "input of this run");
    cr_expect_eq(tu_count_named(dir, ""), 2, "only the input and its hard link");
}

/* A dataset folder (frames/ beside its .spec and calibration images): prepare may read any file
 * there, so none of them may be its output. */
Test(output_cli, the_files_of_a_dataset_folder_are_inputs)
{
    const char *dataset = in_dir("dataset");
    cr_assert_eq(mkdir(dataset, 0777), 0);
    cr_assert_eq(mkdir(tu_join(dataset, "frames"), 0777), 0);
    cr_assert_eq(tu_write_text(tu_join(dataset, "whitefield.tif"), "white field"), 0);
    cr_assert_eq(tu_write_text(tu_join(dataset, "scan.spec"), "#F scan.spec"), 0);
    char args[4096], white[2048], spec[2048];
    snprintf(white, sizeof white, "%s", tu_join(dataset, "whitefield.tif"));
    snprintf(spec, sizeof spec, "%s", tu_join(dataset, "scan.spec"));
    snprintf(args, sizeof args, "prepare %s -o %s", dataset, white);
    expect_input_kept(args, white, "input of this run");
    snprintf(args, sizeof args, "prepare %s summary_json=%s -o %s", dataset, spec,
             tu_join(dir, "p.cxi"));
    expect_input_kept(args, spec, "input of this run");
}

/* The names info, bench, prepare's summary and analyze's staging used before: pid-based. */
static void plant_old_names(pid_t pid)
{
    const char *victim = in_dir("victim.txt");
    const char *names[] = {"report.txt", "bench.json", "p_summary.json", "p.cxi"};
    char link[1400];
    for (size_t k = 0; k < sizeof names / sizeof *names; ++k)
        for (int n = 0; n < 4; ++n) {
            snprintf(link, sizeof link, "%s/.%s.tmp-%ld-%d", dir, names[k], (long)pid, n);
            cr_assert_eq(symlink(victim, link), 0, "%s", strerror(errno));
        }
    const char *staged[] = {"summary.json", "analysis.vti", "density.png", "density.tif"};
    for (size_t k = 0; k < sizeof staged / sizeof *staged; ++k) {
        snprintf(link, sizeof link, "%s/an/.%s.stage-%ld", dir, staged[k], (long)pid);
        cr_assert_eq(symlink(victim, link), 0, "%s", strerror(errno));
    }
}

Test(output_cli, symlinks_planted_at_predictable_temporary_names_are_not_followed)
{
    const char *victim = in_dir("victim.txt");
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    cr_assert_eq(mkdir(in_dir("an"), 0777), 0); /* a shared, existing output folder */
    const char *prepared = in_dir("prepared.cxi"), *result = in_dir("result.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    write_result(result);
    char args[4096];
    const char *log = in_dir("log.txt");
    snprintf(args, sizeof args, "info %s -o %s", prepared, in_dir("report.txt"));
    cr_expect_eq(finish(start(args, log, plant_old_names)), 0);
    snprintf(args, sizeof args, "bench sizes=8 batches=1 min_time_s=0 -o %s", in_dir("bench.json"));
    cr_expect_eq(finish(start(args, log, plant_old_names)), 0);
    snprintf(args, sizeof args, "analyze %s -o %s", result, in_dir("an"));
    cr_expect_eq(finish(start(args, log, plant_old_names)), 0);
    char *text = tu_read_text(victim);
    cr_expect_str_eq(text, "precious\n", "a planted symlink was written through");
    free(text);
    cr_expect(tu_file_exists(in_dir("report.txt")) && tu_file_exists(in_dir("bench.json")) &&
              tu_file_exists(in_dir("an/summary.json")));
    cr_expect_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 0);
    cr_expect_eq(tu_count_named(in_dir("an"), BCDI_OUTPUT_TEMP_MARK), 0);
}

Test(output_cli, kept_runs_appear_all_together_or_not_at_all)
{
    const char *prepared = in_dir("prepared.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    /* the third kept run's name is taken by a folder: refused before phasing, nothing written */
    cr_assert_eq(mkdir(in_dir("r-run3.cxi"), 0777), 0);
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "phase %s recipe=10*ER runs=3 keep=3 -o %s", prepared,
             in_dir("r.cxi"));
    int rc = tu_run_braggcdi(args, &out);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(strstr(out, "r-run3.cxi") && strstr(out, "folder"), "%s", out);
    cr_expect(!strstr(out, "phasing 32x32x32"), "phasing started before the check: %s", out);
    free(out);
    cr_expect_eq(tu_count_named(dir, ""), 2, "only the input and the blocking folder");
    rmdir(in_dir("r-run3.cxi"));
    /* half-way through writing: room for two of the four files (~72 KB each), not all */
    char *mnt = tu_make_temp_dir("keep-full");
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=200k") != 0) {
        cr_log_warn("skipped the full-disk half: cannot mount a tmpfs (%s)", strerror(errno));
        rmdir(mnt);
        free(mnt);
        return;
    }
    snprintf(args, sizeof args, "phase %s recipe=10*ER runs=3 keep=3 -o %s/r.cxi", prepared, mnt);
    rc = tu_run_braggcdi(args, &out);
    cr_expect(rc >= 1 && rc <= 127, "exit %d (a crash is negative): %s", rc, out);
    cr_expect(strstr(out, "No space left on device") != NULL, "%s", out);
    free(out);
    cr_expect_eq(tu_count_named(mnt, ""), 0, "a partial set of runs was left");
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    free(mnt);
}

/* A long phase without checkpoints stopped by `signal_number` after about a second: its exit
 * status; nothing left. */
static int stop_phase(int signal_number)
{
    const char *prepared = in_dir("prepared.cxi");
    if (!tu_file_exists(prepared))
        cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    char args[4096];
    snprintf(args, sizeof args,
             "phase %s recipe=1000000*HIO runs=2 keep=2 checkpoint_interval=0 -o %s", prepared,
             in_dir("r.cxi"));
    pid_t pid = start(args, in_dir("log.txt"), NULL);
    struct timespec second = {1, 0};
    nanosleep(&second, NULL);
    cr_assert_eq(kill(pid, signal_number), 0);
    int rc = finish(pid);
    char *log = tu_read_text(in_dir("log.txt"));
    cr_expect(log && strstr(log, "interrupted by") && strstr(log, "no output written"), "%s",
              log ? log : "(no log)");
    free(log);
    remove(in_dir("log.txt"));
    cr_expect_eq(tu_count_named(dir, ""), 1, "only the input may remain");
    return rc;
}

Test(output_cli, a_signal_stops_phase_with_nothing_left)
{
    cr_expect_eq(stop_phase(SIGTERM), 143);
    cr_expect_eq(stop_phase(SIGINT), 130);
    cr_expect_eq(stop_phase(SIGUSR1), 143);
}

/* With checkpoints (the default), SIGTERM and SIGUSR1 leave r.cxi.ckpt and say so, SIGINT
 * leaves nothing; the same command again resumes and removes it when the result is written. */
Test(output_cli, a_signal_leaves_a_checkpoint_that_the_same_command_resumes)
{
    const char *prepared = in_dir("prepared.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    char args[4096];
    snprintf(args, sizeof args, "phase %s recipe=4000*HIO runs=2 --device cpu -o %s", prepared,
             in_dir("r.cxi"));
    const int signals[] = {SIGTERM, SIGUSR1, SIGINT};
    for (int i = 0; i < 3; ++i) {
        remove(in_dir("log.txt")); /* the progress looked for is this run's */
        pid_t pid = start(args, in_dir("log.txt"), NULL);
        cr_assert(tu_wait_for_text(in_dir("log.txt"), "10%", 120), "no progress");
        cr_assert_eq(kill(pid, signals[i]), 0);
        int rc = finish(pid);
        char *log = tu_read_text(in_dir("log.txt"));
        cr_expect_eq(rc, signals[i] == SIGINT ? 130 : 143, "%s", log);
        if (signals[i] == SIGINT) {
            cr_expect(!tu_file_exists(in_dir("r.cxi.ckpt")), "SIGINT writes no checkpoint");
        } else {
            cr_expect(strstr(log, "checkpoint written to") && strstr(log, "r.cxi.ckpt"), "%s", log);
            cr_expect(tu_file_exists(in_dir("r.cxi.ckpt")));
            remove(in_dir("r.cxi.ckpt"));
        }
        free(log);
        cr_expect_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 0, "no temporaries left");
    }
    /* stopped, then the same command to the end: resumed, checkpoint removed */
    remove(in_dir("log.txt"));
    pid_t pid = start(args, in_dir("log.txt"), NULL);
    cr_assert(tu_wait_for_text(in_dir("log.txt"), "20%", 120));
    kill(pid, SIGTERM);
    cr_expect_eq(finish(pid), 143);
    char *out = NULL;
    int rc = tu_run_braggcdi(args, &out);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "resuming from checkpoint") && strstr(out, "removed the checkpoint"),
              "%s", out);
    free(out);
    cr_expect(tu_file_exists(in_dir("r.cxi")));
    cr_expect(!tu_file_exists(in_dir("r.cxi.ckpt")));
}

Test(output_cli, a_full_disk_ends_with_an_error_not_a_crash)
{
    char *mnt = tu_make_temp_dir("full");
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
        cr_log_warn("skipped: cannot mount a tmpfs here (%s)", strerror(errno));
        rmdir(mnt);
        free(mnt);
        cr_skip_test("no tmpfs");
    }
    const char *prepared = in_dir("prepared.cxi"), *result = in_dir("result.cxi");
    cr_assert_eq(tu_write_prepared(prepared, 0), 0, "%s", bcdi_last_error());
    write_result(result);
    char args[8][2048];
    snprintf(args[0], sizeof args[0], "simulate shape=32,32,32 -o %s/s.nxs", mnt);
    snprintf(args[1], sizeof args[1], "prepare %s -o %s/p.cxi", prepared, mnt);
    snprintf(args[2], sizeof args[2], "phase %s recipe=10*ER -o %s/r.cxi", prepared, mnt);
    snprintf(args[3], sizeof args[3], "analyze %s -o %s/an", result, mnt);
    for (int k = 0; k < 4; ++k) {
        char *out = NULL;
        int rc = tu_run_braggcdi(args[k], &out);
        cr_expect(rc >= 1 && rc <= 127, "'%s': exit %d (a crash is negative): %s", args[k], rc,
                  out);
        cr_expect(strstr(out, "No space left on device") != NULL, "'%s': %s", args[k], out);
        free(out);
        cr_expect_eq(tu_count_named(mnt, ""), 0, "'%s' left something on the full disk", args[k]);
    }
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    free(mnt);
}

Test(output_cli, json_is_valid_utf8_and_csv_cells_cannot_run_formulas)
{
    /* a result whose file name is not UTF-8, labels that a spreadsheet would run */
    const char *a = in_dir("a.cxi"), *b = in_dir("b\xff\xfe.cxi");
    write_result(a);
    write_result(b);
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "analyze '%s' -o %s", b, in_dir("an_b"));
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "invalid UTF-8") != NULL, "the log does not say so: %s", out);
    free(out);
    json_t *root = NULL;
    cr_assert_eq(bcdi_json_read(in_dir("an_b/summary.json"), &root), BCDI_OK, "%s",
                 bcdi_last_error());
    const char *input = bcdi_json_string_at(root, "input");
    cr_expect(input && strstr(input, "b\xef\xbf\xbd\xef\xbf\xbd.cxi"), "input '%s'",
              input ? input : "(none)");
    json_decref(root);
    snprintf(args, sizeof args, "analyze %s -o %s", a, in_dir("an"));
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(args, sizeof args, "compare '%s==1+2' '%s=-2.5' '%s=@SUM(A1) \xc3\xa9\xff' -o %s", a,
             b, in_dir("an"), in_dir("report"));
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    cr_assert_eq(bcdi_json_read(in_dir("report/comparison.json"), &root), BCDI_OK, "%s",
                 bcdi_last_error());
    json_t *states = bcdi_json_at(root, "states");
    cr_assert_eq(json_array_size(states), 3);
    const char *label = bcdi_json_string_at(json_array_get(states, 2), "label");
    cr_expect(label && !strcmp(label, "@SUM(A1) \xc3\xa9\xef\xbf\xbd"), "label '%s'",
              label ? label : "(none)");
    json_decref(root);
    char *csv = tu_read_text(in_dir("report/comparison.csv"));
    cr_assert_not_null(csv);
    cr_expect(strstr(csv, "\n'=1+2,") != NULL, "a formula label not neutralised: %s", csv);
    cr_expect(strstr(csv, "\n-2.5,") != NULL, "a number label was changed: %s", csv);
    cr_expect(strstr(csv, "\n'@SUM(A1)") != NULL, "an @ label not neutralised: %s", csv);
    for (const char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n'))
        cr_expect(!strchr("=+@", line[1]), "a row starts with a formula: %.40s", line + 1);
    free(csv);
}
