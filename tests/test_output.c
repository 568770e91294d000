/* SPDX-License-Identifier: BSD-3-Clause */
/* Output transactions (core/output.h) and interruption (core/interrupt.h), in the library:
 * exclusive temporaries that never follow a planted symlink, umask modes, all-or-nothing
 * commits of files and folders, targets that must not be replaced (devices, FIFOs, symlinks,
 * inputs), a full disk, and a commit after a signal. The same rules through the executable are
 * in test_output_cli.c. */
#include "core/interrupt.h"
#include "core/output.h"
#include "io/hdf5.h"
#include "io/npy.h"
#include "io/png.h"
#include "num/plot.h"
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
#include <unistd.h>

#define OK(call) cr_assert_eq((call), BCDI_OK, "%s", bcdi_last_error())

static char *dir;

static void setup(void)
{
    dir = tu_make_temp_dir("output");
    cr_assert_not_null(dir);
    bcdi_output_clear_inputs();
    bcdi_interrupt_request(0);
}

static void teardown(void)
{
    tu_remove_tree(dir);
    free(dir);
}

TestSuite(output, .init = setup, .fini = teardown);

static const char *in_dir(const char *name)
{
    return tu_join(dir, name);
}

static void write_text(const char *path, const char *text)
{
    cr_assert_eq(tu_write_text(path, text), 0, "cannot write %s", path);
}

static void put(bcdi_output *tx, const char *path, const char *text)
{
    FILE *f;
    OK(bcdi_output_fopen(tx, path, &f));
    fputs(text, f);
}

Test(output, files_appear_together_on_commit_and_temporaries_carry_the_mark)
{
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    put(tx, in_dir("a.txt"), "alpha\n");
    put(tx, in_dir("b.txt"), "beta\n");
    const char *tmp = bcdi_output_temp_path(tx, in_dir("a.txt"));
    cr_assert_not_null(tmp);
    cr_expect(strstr(tmp, "/.a.txt" BCDI_OUTPUT_TEMP_MARK) != NULL, "temporary '%s'", tmp);
    cr_expect(bcdi_output_is_temp_name(tmp));
    cr_expect_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 2);
    cr_expect(!tu_file_exists(in_dir("a.txt")) && !tu_file_exists(in_dir("b.txt")),
              "a final name exists before the commit");
    OK(bcdi_output_commit(tx));
    char *a = tu_read_text(in_dir("a.txt")), *b = tu_read_text(in_dir("b.txt"));
    cr_expect_str_eq(a, "alpha\n");
    cr_expect_str_eq(b, "beta\n");
    free(a);
    free(b);
    cr_expect_eq(tu_count_named(dir, ""), 2, "only the two outputs");
}

/* A creator told that the first three names are taken (as if a planted file held them). */
static char seen_names[8][1024];
static int seen_count;

static int create_after_three(const char *temp_path, void *user)
{
    (void)user;
    if (seen_count < 8) snprintf(seen_names[seen_count], sizeof seen_names[0], "%s", temp_path);
    if (++seen_count <= 3) return EEXIST;
    FILE *f = fopen(temp_path, "wx");
    if (!f) return errno;
    fclose(f);
    return 0;
}

Test(output, a_taken_temporary_name_is_never_reused_or_followed)
{
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    seen_count = 0;
    OK(bcdi_output_create(tx, in_dir("x.bin"), create_after_three, NULL));
    cr_expect_eq(seen_count, 4);
    for (int i = 0; i < 4; ++i) {
        cr_expect(strncmp(seen_names[i], dir, strlen(dir)) == 0, "'%s' outside the folder",
                  seen_names[i]);
        cr_expect(strstr(seen_names[i], "/.x.bin" BCDI_OUTPUT_TEMP_MARK) != NULL);
        for (int j = 0; j < i; ++j)
            cr_expect_str_neq(seen_names[i], seen_names[j], "a name was tried twice");
    }
    OK(bcdi_output_commit(tx));
    cr_expect(tu_file_exists(in_dir("x.bin")));
    cr_expect_eq(tu_count_named(dir, ""), 1);
}

Test(output, symlinks_planted_at_the_old_predictable_names_are_not_followed)
{
    /* the names the writers used before: "<dir>/.<name>.tmp-<pid>-<n>" (HDF5, PNG, npy, info,
     * bench, prepare's summary) and "<dir>/.<name>.stage-<pid>" (analyze, compare) */
    const char *victim = in_dir("victim.txt");
    write_text(victim, "precious\n");
    const char *names[] = {"r.cxi", "f.png", "a.npy"};
    char link[1200];
    for (int k = 0; k < 3; ++k) {
        for (int n = 0; n < 8; ++n) {
            snprintf(link, sizeof link, "%s/.%s.tmp-%ld-%d", dir, names[k], (long)getpid(), n);
            cr_assert_eq(symlink(victim, link), 0);
        }
        snprintf(link, sizeof link, "%s/.%s.stage-%ld", dir, names[k], (long)getpid());
        cr_assert_eq(symlink(victim, link), 0);
    }
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(in_dir("r.cxi"), &w));
    OK(bcdi_h5_write_int(w, "x", 5));
    OK(bcdi_h5_commit(w));
    bcdi_image img;
    const uint8_t white[3] = {255, 255, 255};
    OK(bcdi_image_create(&img, 8, 8, white));
    OK(bcdi_png_write(NULL, in_dir("f.png"), img.width, img.height, img.rgb));
    bcdi_image_free(&img);
    float v[4] = {1, 2, 3, 4};
    size_t dims[1] = {4};
    OK(bcdi_npy_write(NULL, in_dir("a.npy"), BCDI_DT_F32, 1, dims, v));
    char *text = tu_read_text(victim);
    cr_expect_str_eq(text, "precious\n", "the symlinks' target was written through");
    free(text);
    struct stat sb;
    cr_assert_eq(lstat(link, &sb), 0);
    cr_expect(S_ISLNK(sb.st_mode), "a planted link was replaced");
    cr_expect_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 0, "a temporary was left");
}

Test(output, modes_follow_the_umask)
{
    const mode_t masks[] = {022, 077, 002};
    for (int k = 0; k < 3; ++k) {
        mode_t old = umask(masks[k]);
        char name[64], folder[64];
        snprintf(name, sizeof name, "m%d.txt", k);
        snprintf(folder, sizeof folder, "d%d", k);
        bcdi_output *tx;
        OK(bcdi_output_begin(&tx));
        put(tx, in_dir(name), "x");
        OK(bcdi_output_folder(tx, in_dir(folder)));
        char inner[1200];
        snprintf(inner, sizeof inner, "%s/in.txt", in_dir(folder));
        put(tx, inner, "y");
        OK(bcdi_output_commit(tx));
        umask(old);
        struct stat sb;
        cr_assert_eq(stat(in_dir(name), &sb), 0);
        cr_expect_eq(sb.st_mode & 0777, 0666 & ~masks[k], "file mode %o under umask %03o",
                     sb.st_mode & 0777, masks[k]);
        cr_assert_eq(stat(inner, &sb), 0);
        cr_expect_eq(sb.st_mode & 0777, 0666 & ~masks[k]);
        cr_assert_eq(stat(in_dir(folder), &sb), 0);
        cr_expect_eq(sb.st_mode & 0777, 0777 & ~masks[k], "folder mode %o under umask %03o",
                     sb.st_mode & 0777, masks[k]);
    }
}

Test(output, a_new_folder_appears_whole_or_not_at_all)
{
    const char *out = in_dir("report");
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/one.txt", out);
    snprintf(b, sizeof b, "%s/two.txt", out);
    /* aborted half-way: nothing, not even the folder */
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    OK(bcdi_output_folder(tx, out));
    put(tx, a, "1");
    cr_expect(!tu_file_exists(out), "the folder exists before the commit");
    cr_expect_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 1, "one temporary folder");
    bcdi_output_abort(tx);
    cr_expect_eq(tu_count_named(dir, ""), 0, "abort left something");
    /* committed: both files at once (the folder named with a trailing slash, as `-o out/`) */
    char slashed[1100], b2[1200];
    snprintf(slashed, sizeof slashed, "%s/", out);
    snprintf(b2, sizeof b2, "%s/two.txt", slashed); /* "out//two.txt" */
    OK(bcdi_output_begin(&tx));
    OK(bcdi_output_folder(tx, slashed));
    put(tx, a, "1");
    put(tx, b2, "2");
    OK(bcdi_output_commit(tx));
    cr_expect_eq(tu_count_named(out, ""), 2);
    cr_expect_eq(tu_count_named(dir, ""), 1, "the folder only");
    /* into the existing folder: the other files stay, the new ones replace theirs */
    write_text(a, "old");
    OK(bcdi_output_begin(&tx));
    OK(bcdi_output_folder(tx, out));
    put(tx, a, "new");
    cr_expect_eq(tu_count_named(out, BCDI_OUTPUT_TEMP_MARK), 1, "staged inside the folder");
    OK(bcdi_output_commit(tx));
    char *text = tu_read_text(a);
    cr_expect_str_eq(text, "new");
    free(text);
    cr_expect_eq(tu_count_named(out, ""), 2);
}

Test(output, a_failure_half_way_through_a_multi_file_output_leaves_nothing)
{
    /* a third output whose target is a folder: refused when staged, after two were written */
    cr_assert_eq(mkdir(in_dir("c.txt"), 0755), 0);
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    put(tx, in_dir("a.txt"), "alpha");
    put(tx, in_dir("b.txt"), "beta");
    FILE *f = NULL;
    cr_expect_eq(bcdi_output_fopen(tx, in_dir("c.txt"), &f), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "c.txt") && strstr(bcdi_last_error(), "folder"), "%s",
              bcdi_last_error());
    bcdi_output_abort(tx);
    cr_expect_eq(tu_count_named(dir, ""), 1, "only the planted folder may remain");
    /* a target turned into a folder after staging: the commit fails, nothing is renamed */
    OK(bcdi_output_begin(&tx));
    put(tx, in_dir("a.txt"), "alpha");
    put(tx, in_dir("d.txt"), "delta");
    cr_assert_eq(mkdir(in_dir("d.txt"), 0755), 0);
    cr_expect_eq(bcdi_output_commit(tx), BCDI_ERR_IO);
    cr_expect(!tu_file_exists(in_dir("a.txt")), "a.txt appeared without d.txt");
    cr_expect_eq(tu_count_named(dir, BCDI_OUTPUT_TEMP_MARK), 0, "a temporary was left");
}

Test(output, targets_that_are_not_regular_files_are_refused)
{
    const char *fifo = in_dir("pipe.cxi");
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    cr_expect_eq(bcdi_output_check(fifo, BCDI_OUTPUT_FILE), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "FIFO") != NULL, "%s", bcdi_last_error());
    const char *victim = in_dir("victim.txt"), *link = in_dir("link.cxi");
    write_text(victim, "keep");
    cr_assert_eq(symlink(victim, link), 0);
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    FILE *f;
    cr_expect_eq(bcdi_output_fopen(tx, link, &f), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "symbolic link") != NULL, "%s", bcdi_last_error());
    bcdi_output_abort(tx);
    char *text = tu_read_text(victim);
    cr_expect_str_eq(text, "keep");
    free(text);
    /* a folder output that is a file, and a file output that names a folder */
    cr_expect_eq(bcdi_output_check(victim, BCDI_OUTPUT_FOLDER), BCDI_ERR_IO);
    cr_expect_neq(bcdi_output_check(dir, BCDI_OUTPUT_FILE), BCDI_OK);
    /* a missing folder, said so */
    cr_expect_eq(bcdi_output_check(in_dir("no/such/x.cxi"), BCDI_OUTPUT_FILE), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "does not exist") != NULL, "%s", bcdi_last_error());
}

Test(output, dev_null_is_refused_and_stays_a_device)
{
    if (geteuid() != 0) {
        cr_log_warn("skipped: not root (only root could replace /dev/null)");
        cr_skip_test("not root");
    }
    cr_expect_eq(bcdi_output_check("/dev/null", BCDI_OUTPUT_FILE), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "character device") != NULL, "%s", bcdi_last_error());
    bcdi_h5_writer *w = NULL;
    cr_expect_eq(bcdi_h5_create("/dev/null", &w), BCDI_ERR_IO);
    cr_expect_null(w);
    struct stat sb;
    cr_assert_eq(lstat("/dev/null", &sb), 0);
    cr_expect(S_ISCHR(sb.st_mode), "/dev/null is no longer a device");
    cr_expect_eq(tu_count_named("/dev", BCDI_OUTPUT_TEMP_MARK), 0);
}

Test(output, an_output_that_is_an_input_is_refused)
{
    const char *input = in_dir("data.cxi"), *hard = in_dir("alias.cxi");
    write_text(input, "input bytes");
    cr_assert_eq(link(input, hard), 0);
    bcdi_output_add_input(input);
    cr_expect_eq(bcdi_output_check(input, BCDI_OUTPUT_FILE), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "input of this run") != NULL, "%s", bcdi_last_error());
    cr_expect_eq(bcdi_output_check(hard, BCDI_OUTPUT_FILE), BCDI_ERR_IO, "a hard link to it");
    char dotted[1200];
    snprintf(dotted, sizeof dotted, "%s/./data.cxi", dir);
    cr_expect_eq(bcdi_output_check(dotted, BCDI_OUTPUT_FILE), BCDI_ERR_IO, "another spelling");
    bcdi_h5_writer *w = NULL;
    cr_expect_eq(bcdi_h5_create(input, &w), BCDI_ERR_IO);
    char *text = tu_read_text(input);
    cr_expect_str_eq(text, "input bytes");
    free(text);
    /* two outputs with one name: refused in one transaction, recognised before they exist */
    cr_expect(bcdi_output_same(in_dir("new.json"), dotted) == 0);
    char other[1200];
    snprintf(other, sizeof other, "%s/./new.json", dir);
    cr_expect(bcdi_output_same(in_dir("new.json"), other));
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    put(tx, in_dir("new.json"), "{}");
    FILE *f;
    cr_expect_eq(bcdi_output_fopen(tx, other, &f), BCDI_ERR_INVALID_ARG);
    bcdi_output_abort(tx);
    bcdi_output_clear_inputs();
    OK(bcdi_output_check(input, BCDI_OUTPUT_FILE));
}

Test(output, a_commit_after_a_signal_writes_nothing)
{
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    put(tx, in_dir("a.txt"), "alpha");
    bcdi_interrupt_request(SIGTERM);
    cr_expect_eq(bcdi_interrupt_check("in a test"), BCDI_ERR_INTERRUPTED);
    cr_expect(strstr(bcdi_last_error(), "SIGTERM in a test") != NULL, "%s", bcdi_last_error());
    cr_expect_eq(bcdi_output_commit(tx), BCDI_ERR_INTERRUPTED);
    cr_expect_eq(tu_count_named(dir, ""), 0);
    cr_expect_eq(bcdi_interrupt_exit_status(SIGTERM), 143);
    cr_expect_eq(bcdi_interrupt_exit_status(SIGUSR1), 143);
    cr_expect_eq(bcdi_interrupt_exit_status(SIGINT), 130);
    bcdi_interrupt_request(0);
    /* the handler: a real signal only sets the flag */
    bcdi_interrupt_install();
    raise(SIGUSR1);
    cr_expect_eq(bcdi_interrupted(), SIGUSR1);
    bcdi_interrupt_request(0);
}

/* A 64 KiB tmpfs (root only); NULL when it cannot be mounted here. */
static char *mount_small_tmpfs(void)
{
    char *mnt = tu_make_temp_dir("full");
    if (mnt && mount("tmpfs", mnt, "tmpfs", 0, "size=64k") == 0) return mnt;
    if (mnt) rmdir(mnt);
    free(mnt);
    return NULL;
}

Test(output, a_full_disk_is_an_error_and_leaves_nothing)
{
    bcdi_h5_process_init(); /* as braggcdi's main does, before any HDF5 call */
    char *mnt = mount_small_tmpfs();
    if (!mnt) {
        cr_log_warn("skipped: cannot mount a tmpfs here (%s)", strerror(errno));
        cr_skip_test("no tmpfs");
    }
    char path[1200];
    /* a stream: the commit reports it */
    snprintf(path, sizeof path, "%s/big.bin", mnt);
    bcdi_output *tx;
    OK(bcdi_output_begin(&tx));
    FILE *f;
    OK(bcdi_output_fopen(tx, path, &f));
    static char block[4096];
    for (int k = 0; k < 64; ++k)
        fwrite(block, 1, sizeof block, f);
    cr_expect_eq(bcdi_output_commit(tx), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "No space left on device") != NULL, "%s",
              bcdi_last_error());
    cr_expect_eq(tu_count_named(mnt, ""), 0, "something was left on the full disk");
    /* HDF5: the metadata flush at close fails; one close, no crash, nothing left */
    snprintf(path, sizeof path, "%s/r.h5", mnt);
    bcdi_h5_writer *w;
    OK(bcdi_h5_create(path, &w));
    size_t n = 1000;
    float *data = calloc(n, sizeof *data);
    bcdi_status st = BCDI_OK;
    for (int k = 0; k < 40 && st == BCDI_OK; ++k) {
        char name[32];
        snprintf(name, sizeof name, "g%d/x", k);
        st = bcdi_h5_write(w, name, BCDI_DT_F32, 1, &n, data, 0);
    }
    if (st == BCDI_OK)
        st = bcdi_h5_commit(w);
    else
        bcdi_h5_abort(w);
    free(data);
    cr_expect_eq(st, BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "r.h5") != NULL, "%s", bcdi_last_error());
    cr_expect_eq(tu_count_named(mnt, ""), 0, "something was left on the full disk");
    umount2(mnt, MNT_DETACH); /* HDF5 keeps the failed file open until exit */
    rmdir(mnt);
    free(mnt);
}
