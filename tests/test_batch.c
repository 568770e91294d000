/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi batch` end to end (one process): three scans of which one input is corrupt; the
 * failure recorded in status.json while the other two finish and are compared; reruns that
 * skip what is current and redo what a changed key touches; manifest errors named by file,
 * line, section and key before anything is written. Inputs are 32^3 prepared CXI files of the
 * simulator's crystal (prepare reads CXI), so a scan takes about a second. */
#include "core/hash.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/json.h"
#include "io/tiff_io.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

static char *dir;

static void setup(void)
{
    dir = tu_make_temp_dir("batch");
}

static void teardown(void)
{
    tu_remove_tree(dir);
    free(dir);
}

TestSuite(batch, .init = setup, .fini = teardown, .timeout = 240);

static const char *in_dir(const char *name)
{
    return tu_join(dir, name);
}

static void write_text(const char *path, const char *text)
{
    cr_assert_eq(tu_write_text(path, text), 0, "cannot write %s", path);
}

/* Two good scans (a, c) and one corrupt (b: the first 4000 bytes of a good file); `scan_c`:
 * more lines of scan c's section. */
static void write_series(const char *scan_c)
{
    cr_assert_eq(tu_write_prepared(in_dir("a.cxi"), 0), 0, "%s", bcdi_last_error());
    cr_assert_eq(tu_write_prepared(in_dir("c.cxi"), 0), 0, "%s", bcdi_last_error());
    char *good = NULL;
    FILE *f = fopen(in_dir("a.cxi"), "rb");
    cr_assert(f);
    good = malloc(4000);
    cr_assert_eq(fread(good, 1, 4000, f), 4000);
    fclose(f);
    f = fopen(in_dir("b.cxi"), "wb");
    fwrite(good, 1, 4000, f);
    fclose(f);
    free(good);
    char manifest[2048];
    snprintf(manifest, sizeof manifest,
             "# a series of three states\n"
             "[phase]\n"
             "recipe = 40*HIO + 20*ER\n"
             "device = cpu\n"
             "fft_planner = estimate\n"
             "[analyze]\n"
             "orthogonalise = false\n"
             "[compare]\n"
             "reference = a\n"
             "\n"
             "[scan a]\n"
             "input = a.cxi\n"
             "voltage = 3.0\n"
             "[scan b]\n"
             "input = b.cxi\n"
             "voltage = 3.6\n"
             "[scan c]\n"
             "input = c.cxi\n"
             "voltage = 4.2\n"
             "phase.seed = 5\n"
             "%s",
             scan_c);
    write_text(in_dir("series.ini"), manifest);
}

static int run_batch_into(const char *outdir, const char *extra, char **out)
{
    char args[4096];
    snprintf(args, sizeof args, "batch %s -o %s %s", in_dir("series.ini"), in_dir(outdir),
             extra ? extra : "");
    return tu_run_braggcdi(args, out);
}

static int run_batch(const char *extra, char **out)
{
    return run_batch_into("out", extra, out);
}

static json_t *read_status(void)
{
    json_t *root = NULL;
    cr_assert_eq(bcdi_json_read(in_dir("out/status.json"), &root), BCDI_OK, "%s",
                 bcdi_last_error());
    return root;
}

static const char *step_text(json_t *root, int scan, const char *step, const char *field)
{
    json_t *s = json_array_get(json_object_get(root, "scans"), (size_t)scan);
    json_t *v = json_object_get(json_object_get(json_object_get(s, "steps"), step), field);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int step_skipped(json_t *root, int scan, const char *step)
{
    json_t *s = json_array_get(json_object_get(root, "scans"), (size_t)scan);
    return json_is_true(
        json_object_get(json_object_get(json_object_get(s, "steps"), step), "skipped"));
}

static uint64_t hash_of(const char *path)
{
    uint64_t h = 0;
    cr_assert_eq(bcdi_hash_file(path, &h), BCDI_OK, "%s", bcdi_last_error());
    return h;
}

Test(batch, a_corrupt_scan_fails_alone_the_others_are_compared_and_reruns_resume)
{
    write_series("");
    char *out = NULL;
    int rc = run_batch(NULL, &out);
    cr_expect_eq(rc, 1, "a failed scan makes the exit status 1: %s", out);
    cr_expect(strstr(out, "scan 'b' failed at prepare") != NULL, "%s", out);
    free(out);
    /* the layout */
    const char *expected[] = {"out/a/prepared.cxi",
                              "out/a/prepared_summary.json",
                              "out/a/result.cxi",
                              "out/a/analysis/summary.json",
                              "out/c/result.cxi",
                              "out/c/analysis/summary.json",
                              "out/comparison/comparison.json",
                              "out/status.json"};
    for (size_t i = 0; i < sizeof expected / sizeof *expected; ++i)
        cr_expect(tu_file_exists(in_dir(expected[i])), "%s missing", expected[i]);
    cr_expect(!tu_file_exists(in_dir("out/b/result.cxi")), "the corrupt scan has no result");
    cr_expect_eq(tu_count_named(in_dir("out"), ".braggcdi-tmp-"), 0, "no temporaries left");
    /* status.json: per scan and step */
    json_t *st = read_status();
    cr_expect_str_eq(step_text(st, 0, "analyze", "state"), "done");
    cr_expect_str_eq(step_text(st, 1, "prepare", "state"), "failed");
    const char *error = step_text(st, 1, "prepare", "error");
    cr_expect(error && strstr(error, "b.cxi"), "the error names the input: %s",
              error ? error : "(none)");
    cr_expect_str_eq(step_text(st, 1, "phase", "state"), "pending");
    cr_expect_str_eq(step_text(st, 2, "analyze", "state"), "done");
    cr_expect(step_text(st, 0, "phase", "host") && step_text(st, 0, "phase", "start") &&
                  step_text(st, 0, "phase", "end"),
              "host and times recorded");
    json_t *compare = json_object_get(st, "compare");
    cr_expect_str_eq(json_string_value(json_object_get(compare, "state")), "done");
    json_t *compared = json_object_get(compare, "scans");
    cr_expect_eq(json_array_size(compared), 2, "compare over the two scans that succeeded");
    cr_expect_str_eq(json_string_value(json_array_get(compared, 0)), "a");
    cr_expect_str_eq(json_string_value(json_array_get(compared, 1)), "c");
    cr_expect_eq(json_integer_value(json_object_get(st, "scans_failed")), 1);
    json_decref(st);
    /* the comparison holds both, labelled with their voltages */
    char *report = tu_read_text(in_dir("out/comparison/comparison.json"));
    cr_assert(report);
    cr_expect(strstr(report, "a (3 V)") && strstr(report, "c (4.2 V)"), "labels in the report");
    free(report);

    /* the same command again: everything current is skipped, nothing rewritten */
    uint64_t result_a = hash_of(in_dir("out/a/result.cxi"));
    rc = run_batch(NULL, &out);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(strstr(out, "resuming") != NULL, "%s", out);
    free(out);
    st = read_status();
    for (int scan = 0; scan < 3; scan += 2)
        for (int step = 0; step < 3; ++step) {
            const char *name = step == 0 ? "prepare" : step == 1 ? "phase" : "analyze";
            cr_expect(step_skipped(st, scan, name), "scan %d %s not skipped", scan, name);
        }
    cr_expect_str_eq(step_text(st, 1, "prepare", "state"), "failed", "the bad scan is tried again");
    json_decref(st);
    cr_expect_eq(hash_of(in_dir("out/a/result.cxi")), result_a);

    /* a changed phase key redoes phase and what follows, not prepare */
    rc = run_batch("phase.runs=2", &out);
    cr_expect_eq(rc, 1, "%s", out);
    free(out);
    st = read_status();
    cr_expect(step_skipped(st, 0, "prepare"));
    cr_expect(!step_skipped(st, 0, "phase"), "phase.runs changed: phase runs again");
    cr_expect(!step_skipped(st, 0, "analyze"), "a new result: analyze runs again");
    cr_expect_str_eq(step_text(st, 0, "analyze", "state"), "done");
    json_decref(st);

    /* an output removed by hand is made again */
    cr_assert_eq(remove(in_dir("out/c/result.cxi")), 0);
    rc = run_batch("phase.runs=2", &out);
    free(out);
    st = read_status();
    cr_expect(step_skipped(st, 0, "phase"), "scan a is current");
    cr_expect(!step_skipped(st, 2, "phase"), "scan c lost its result: phase runs again");
    cr_expect(tu_file_exists(in_dir("out/c/result.cxi")));
    json_decref(st);
}

/* A white field of `value` everywhere, one rows x cols page. */
static void write_white_field(const char *path, const size_t shape[3], float value)
{
    size_t dims[3] = {1, shape[1], shape[2]};
    float *white = malloc(shape[1] * shape[2] * sizeof *white);
    for (size_t i = 0; i < shape[1] * shape[2]; ++i)
        white[i] = value;
    cr_assert_eq(bcdi_tiff_write_multipage(NULL, path, BCDI_DT_F32, dims, white), BCDI_OK, "%s",
                 bcdi_last_error());
    free(white);
}

static int prepare_skipped_on_rerun(void)
{
    char *out = NULL;
    int rc = run_batch(NULL, &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    json_t *st = read_status();
    int skipped = step_skipped(st, 0, "prepare");
    json_decref(st);
    return skipped;
}

/* A dataset folder (frames/ beside the white field prepare takes from there) as a scan's input:
 * the rerun skips prepare while nothing changed and prepares again when the white field or a
 * frame changed in place. */
Test(batch, a_dataset_folder_input_is_prepared_again_when_its_files_change)
{
    char source[2048], dataset[2048]; /* tu_join's buffer is reused */
    snprintf(source, sizeof source, "%s", in_dir("source.cxi"));
    snprintf(dataset, sizeof dataset, "%s", in_dir("dataset"));
    cr_assert_eq(tu_write_prepared(source, 0), 0, "%s", bcdi_last_error());
    size_t shape[3];
    float *intensity = NULL;
    uint8_t *mask = NULL;
    cr_assert_eq(bcdi_cxi_read_prepared(source, shape, &intensity, &mask), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_assert_eq(mkdir(dataset, 0777), 0);
    cr_assert_eq(bcdi_tiff_write_frames(NULL, tu_join(dataset, "frames"), "scan", BCDI_DT_F32,
                                        shape, intensity),
                 BCDI_OK, "%s", bcdi_last_error());
    free(intensity);
    free(mask);
    char white[2048];
    snprintf(white, sizeof white, "%s", tu_join(dataset, "whitefield.tif"));
    write_white_field(white, shape, 1.0f);
    char manifest[4096];
    snprintf(manifest, sizeof manifest,
             "[phase]\nrecipe = 40*HIO + 20*ER\ndevice = cpu\nfft_planner = estimate\n"
             "[analyze]\northogonalise = false\n[scan a]\ninput = %s\n",
             dataset);
    write_text(in_dir("series.ini"), manifest);
    cr_expect(!prepare_skipped_on_rerun(), "the first run prepares");
    char *summary = tu_read_text(in_dir("out/a/prepared_summary.json"));
    cr_assert(summary);
    cr_expect(strstr(summary, "whitefield.tif") != NULL,
              "the white field beside the frames is used");
    free(summary);
    cr_expect(prepare_skipped_on_rerun(), "nothing changed: prepare is skipped");
    write_white_field(white, shape, 2.0f);
    cr_expect(!prepare_skipped_on_rerun(), "a new white field: prepare runs again");
    cr_expect(prepare_skipped_on_rerun());
    /* a frame rewritten in place (same size, a later modification time) */
    char frame[2048];
    snprintf(frame, sizeof frame, "%s", tu_join(dataset, "frames/scan_00003.tif"));
    struct timespec later[2] = {{.tv_sec = time(NULL) + 60}, {.tv_sec = time(NULL) + 60}};
    cr_assert_eq(utimensat(AT_FDCWD, frame, later, 0), 0, "%s", frame);
    cr_expect(!prepare_skipped_on_rerun(), "a changed frame: prepare runs again");
    /* keys naming files: relative to the manifest, `none` is no file, a missing one is named
     * with its key */
    snprintf(manifest, sizeof manifest,
             "[prepare]\nmask_file = none\nspec = missing.spec\n[phase]\nrecipe = 40*HIO + 20*ER\n"
             "device = cpu\n[analyze]\northogonalise = false\n[scan a]\ninput = %s\n",
             dataset);
    write_text(in_dir("series.ini"), manifest);
    char *out = NULL;
    cr_expect_eq(run_batch(NULL, &out), 1, "%s", out);
    free(out);
    json_t *st = read_status();
    const char *error = step_text(st, 0, "prepare", "error");
    cr_expect(error && strstr(error, "prepare key 'spec'") &&
                  strstr(error, in_dir("missing.spec")) && !strstr(error, "'none'"),
              "the error: %s", error ? error : "(none)");
    json_decref(st);
}

/* A manifest with `body` is refused with exit 2 and a message holding every `needles`; nothing
 * is written. */
static void expect_refused(const char *body, const char *const *needles)
{
    write_text(in_dir("bad.ini"), body);
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "batch %s -o %s", in_dir("bad.ini"), in_dir("never"));
    int rc = tu_run_braggcdi(args, &out);
    cr_expect_eq(rc, 2, "%s", out);
    for (size_t i = 0; needles[i]; ++i)
        cr_expect(strstr(out, needles[i]) != NULL, "'%s' not in: %s", needles[i], out);
    free(out);
    cr_expect(!tu_file_exists(in_dir("never")), "nothing written for a refused manifest");
}

Test(batch, manifest_errors_name_the_file_line_section_and_key)
{
    cr_assert_eq(tu_write_prepared(in_dir("a.cxi"), 0), 0);
    expect_refused("[phase]\nruns = 2\nrunz = 3\n[scan a]\ninput = a.cxi\n",
                   (const char *[]){"bad.ini:3 [phase]", "unknown key 'runz'", NULL});
    expect_refused("[scan a]\ninput = a.cxi\nphase.keep = 0\n",
                   (const char *[]){"bad.ini:3 [scan a]", "'keep'", NULL});
    expect_refused("[scan a]\ninput = a.cxi\nfoo = 1\n",
                   (const char *[]){"bad.ini:3", "unknown key 'foo'", NULL});
    expect_refused("[scan a]\ninput = a.cxi\n[scan b]\ninput = a.cxi\n[scan a]\nvoltage = 1\n",
                   (const char *[]){"bad.ini:6", "'a' used twice", NULL});
    expect_refused("[scan a/b]\ninput = a.cxi\n", (const char *[]){"'a/b'", "'/'", NULL});
    expect_refused("[scan a]\nvoltage = 2\n", (const char *[]){"scan 'a' has no 'input", NULL});
    expect_refused("[prepare]\noutput = x.cxi\n[scan a]\ninput = a.cxi\n",
                   (const char *[]){"bad.ini:2 [prepare]", "set by batch", NULL});
    expect_refused("[scan a]\ninput = a.cxi\ncompare.upsample = 2\n",
                   (const char *[]){"put its keys in [compare]", NULL});
    expect_refused("[compare]\nreference = z\n[scan a]\ninput = a.cxi\n",
                   (const char *[]){"'reference' is 'z'", NULL});
    expect_refused("[phases]\nruns = 2\n[scan a]\ninput = a.cxi\n",
                   (const char *[]){"unknown section [phases]", NULL});
}

Test(batch, a_job_array_of_one_scan_per_task_then_the_whole_batch_compares)
{
    write_series("");
    char *out = NULL, extra[64];
    for (int task = 1; task <= 3; ++task) {
        snprintf(extra, sizeof extra, "batch.scan=%d", task);
        int rc = run_batch(extra, &out);
        cr_expect_eq(rc, task == 2 ? 1 : 0, "task %d: %s", task, out);
        free(out);
    }
    cr_expect(tu_file_exists(in_dir("out/status.a.json")), "task 1 records in status.a.json");
    cr_expect(tu_file_exists(in_dir("out/status.c.json")));
    cr_expect(!tu_file_exists(in_dir("out/status.json")), "no task writes the batch's status");
    cr_expect(!tu_file_exists(in_dir("out/comparison")), "no task compares");
    int rc = run_batch(NULL, &out);
    cr_expect_eq(rc, 1, "%s", out);
    free(out);
    json_t *st = read_status();
    for (int step = 0; step < 3; ++step) {
        const char *name = step == 0 ? "prepare" : step == 1 ? "phase" : "analyze";
        cr_expect(step_skipped(st, 0, name) && step_skipped(st, 2, name),
                  "%s done by the array's tasks", name);
    }
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(st, "compare"), "state")),
                     "done");
    json_decref(st);
}

/* The objects and supports of two results, bit for bit. */
static void expect_same_result(const char *a, const char *b)
{
    bcdi_cxi_phased x, y;
    cr_assert_eq(bcdi_cxi_read_result(a, 1, &x), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_cxi_read_result(b, 1, &y), BCDI_OK, "%s", bcdi_last_error());
    size_t n = x.shape[0] * x.shape[1] * x.shape[2];
    cr_assert(!memcmp(x.shape, y.shape, sizeof x.shape));
    cr_expect(!memcmp(x.object, y.object, n * sizeof *x.object), "%s and %s differ", a, b);
    cr_expect(!memcmp(x.support, y.support, n), "supports of %s and %s differ", a, b);
    bcdi_cxi_phased_free(&x);
    bcdi_cxi_phased_free(&y);
}

Test(batch, a_batch_stopped_during_phase_resumes_there_and_ends_as_an_uninterrupted_one)
{
    /* scan c phases long enough to be stopped half-way */
    write_series("phase.recipe = 1500*HIO + 20*ER\n");
    char *out = NULL;
    cr_assert_eq(run_batch_into("ref", NULL, &out), 1, "%s", out);
    free(out);
    char args[4096];
    snprintf(args, sizeof args, "batch %s -o %s", in_dir("series.ini"), in_dir("out"));
    int pid = tu_start_braggcdi(args, in_dir("log.txt"), NULL);
    cr_assert_geq(pid, 0);
    cr_assert(tu_wait_for_text(in_dir("log.txt"), "c phase:", 120), "scan c never phased");
    kill(pid, SIGTERM);
    int rc = tu_finish(pid);
    char *log = tu_read_text(in_dir("log.txt"));
    cr_expect_eq(rc, 143, "%s", log);
    free(log);
    json_t *st = read_status();
    cr_expect_str_eq(step_text(st, 0, "analyze", "state"), "done");
    cr_expect_str_eq(step_text(st, 2, "phase", "state"), "interrupted");
    const char *error = step_text(st, 2, "phase", "error");
    cr_expect(error && strstr(error, "result.cxi.ckpt"), "where the checkpoint is: %s",
              error ? error : "(none)");
    json_decref(st);
    cr_expect(tu_file_exists(in_dir("out/c/result.cxi.ckpt")));
    cr_expect(!tu_file_exists(in_dir("out/comparison")), "no compare after a stop");
    /* the same command: a skipped, c resumes its phase from the checkpoint */
    rc = run_batch(NULL, &out);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(strstr(out, "resuming from checkpoint") != NULL, "%s", out);
    free(out);
    st = read_status();
    cr_expect(step_skipped(st, 0, "phase"));
    cr_expect(step_skipped(st, 2, "prepare"), "c's prepare was done before the stop");
    cr_expect_str_eq(step_text(st, 2, "analyze", "state"), "done");
    json_decref(st);
    cr_expect(!tu_file_exists(in_dir("out/c/result.cxi.ckpt")), "removed with the result");
    expect_same_result(in_dir("ref/c/result.cxi"), in_dir("out/c/result.cxi"));
    expect_same_result(in_dir("ref/a/result.cxi"), in_dir("out/a/result.cxi"));
}
