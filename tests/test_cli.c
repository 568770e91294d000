/* SPDX-License-Identifier: BSD-3-Clause */
/* The braggcdi executable: help/version, config precedence, clear errors with nothing written,
 * info and bench, and the embedded dataset regenerating from its recorded command. */
#include "io/hdf5.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(cli, help_and_version_everywhere)
{
    const char *commands[] = {"",         "simulate ", "prepare ", "phase ",
                              "analyze ", "compare ",  "info ",    "bench "};
    for (size_t i = 0; i < sizeof commands / sizeof *commands; ++i) {
        char args[64], *out = NULL;
        snprintf(args, sizeof args, "%s--help", commands[i]);
        cr_expect_eq(tu_run_braggcdi(args, &out), 0, "%s: %s", args, out);
        cr_expect(strstr(out, "usage") != NULL, "%s printed no usage: %s", args, out);
        free(out);
        snprintf(args, sizeof args, "%s--version", commands[i]);
        cr_expect_eq(tu_run_braggcdi(args, &out), 0);
        cr_expect(strstr(out, BCDI_VERSION) != NULL, "%s: %s", args, out);
        free(out);
    }
    char *out = NULL;
    cr_expect_eq(tu_run_braggcdi("frobnicate", &out), 2);
    cr_expect(strstr(out, "unknown command 'frobnicate'") != NULL, "%s", out);
    free(out);
}

static void expect_failure_writes_nothing(const char *dir, const char *args, const char *needle)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "simulate %s -o %s/s.nxs", args, dir);
    int rc = tu_run_braggcdi(cmd, &out);
    cr_expect_neq(rc, 0, "'%s' succeeded", args);
    cr_expect(strstr(out, needle) != NULL, "'%s': message lacks '%s': %s", args, needle, out);
    cr_expect_eq(tu_count_entries(dir), 0, "'%s' left files behind", args);
    free(out);
}

Test(cli, simulate_bad_input_clear_error_nothing_written)
{
    char *dir = tu_make_temp_dir("cli-bad");
    expect_failure_writes_nothing(dir, "shape=-4,8,8", "shape");
    expect_failure_writes_nothing(dir, "shape=0,8,8", "shape");
    expect_failure_writes_nothing(dir, "oversampling=0.5", "oversampling");
    expect_failure_writes_nothing(dir, "crystal=dodecahedron", "crystal");
    expect_failure_writes_nothing(dir, "photons=-1", "photons");
    expect_failure_writes_nothing(dir, "bits=13", "bits");
    expect_failure_writes_nothing(dir, "phtons=1e6", "unknown key 'phtons'");
    expect_failure_writes_nothing(dir, "seed=abc", "seed");
    expect_failure_writes_nothing(dir, "/nonexistent/config.ini", "/nonexistent/config.ini");
    char *out = NULL;
    cr_expect_eq(tu_run_braggcdi("simulate shape=8,8,8", &out), 2, "missing -o must fail");
    cr_expect(strstr(out, "-o") != NULL, "%s", out);
    free(out);
    /* an output folder that does not exist: clear error, nothing created */
    char args[1024];
    snprintf(args, sizeof args, "simulate shape=8,8,8 -o %s/missing/s.nxs", dir);
    cr_expect_neq(tu_run_braggcdi(args, &out), 0);
    cr_expect(strstr(out, "missing") != NULL, "%s", out);
    free(out);
    cr_expect_eq(tu_count_entries(dir), 0);
    tu_remove_tree(dir);
    free(dir);
}

Test(cli, config_file_then_command_line_precedence)
{
    char *dir = tu_make_temp_dir("cli-cfg");
    char ini[1024], args[4096], *out = NULL;
    snprintf(ini, sizeof ini, "%s/sim.ini", dir);
    FILE *f = fopen(ini, "w");
    fputs("[simulate]\nshape = 16,16,16\nseed = 5\nphotons = 1e5\n[phase]\nrecipe = 10*ER\n", f);
    fclose(f);
    snprintf(args, sizeof args, "simulate %s seed=7 -o %s/s.nxs", ini, dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    char path[1024];
    snprintf(path, sizeof path, "%s/s.nxs", dir);
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open(path, &r), BCDI_OK, "%s", bcdi_last_error());
    char value[64];
    cr_assert_eq(bcdi_h5_read_string(r, "entry1/simulation/seed", value, sizeof value), BCDI_OK,
                 "%s", bcdi_last_error());
    cr_expect_str_eq(value, "7", "command line must win over the file");
    cr_assert_eq(bcdi_h5_read_string(r, "entry1/simulation/photons", value, sizeof value), BCDI_OK);
    cr_expect_str_eq(value, "1e5", "file must win over the default");
    int rank;
    size_t dims[8];
    bcdi_dtype type;
    cr_expect_eq(bcdi_h5_shape(r, "entry1/instrument/excalibur/data", &rank, dims, &type), BCDI_OK);
    cr_expect_eq(dims[0], 16);
    bcdi_h5_close(r);
    tu_remove_tree(dir);
    free(dir);
}

/* A simulated stack named .cxi holds the NeXus layout: prepare reads it as a stack (the name
 * picks the first guess, the content corrects it), while input_format=cxi still insists. */
Test(cli, prepare_reads_a_simulated_stack_named_cxi)
{
    char *dir = tu_make_temp_dir("cli-cxi-name");
    char args[2048];
    char *out = NULL;
    snprintf(args, sizeof args, "simulate shape=16,16,16 -q -o %s/s.cxi", dir);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(args, sizeof args, "prepare %s/s.cxi -q -o %s/p.cxi", dir, dir);
    cr_expect_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(args, sizeof args, "prepare %s/s.cxi input_format=cxi -q -o %s/p2.cxi", dir, dir);
    cr_expect_eq(tu_run_braggcdi(args, &out), 1, "%s", out);
    cr_expect(strstr(out, "entry_1") != NULL, "the CXI dataset it looked for is named: %s", out);
    free(out);
    tu_remove_tree(dir);
    free(dir);
}

Test(cli, info_describes_and_fails_cleanly)
{
    char *out = NULL;
    char args[2048];
    snprintf(args, sizeof args, "info %s/datasets/nmc811-003-sim/stack.nxs", BCDI_SOURCE_DIR);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "NeXus rocking stack (I13-1 layout): 96 frames of 128 x 128") != NULL,
              "%s", out);
    free(out);
    snprintf(args, sizeof args, "info %s/datasets/nmc811-003-sim/stack_truth.cxi", BCDI_SOURCE_DIR);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "CXI result") != NULL, "%s", out);
    free(out);
    cr_expect_eq(tu_run_braggcdi("info /nonexistent/file.nxs", &out), 1);
    cr_expect(strstr(out, "/nonexistent/file.nxs") != NULL, "%s", out);
    free(out);
    snprintf(args, sizeof args, "info %s/datasets/nmc811-003-sim/README.md", BCDI_SOURCE_DIR);
    cr_expect_eq(tu_run_braggcdi(args, &out), 1, "a text file is not HDF5");
    cr_expect(strstr(out, "README.md") != NULL, "%s", out);
    free(out);
}

Test(cli, bench_writes_json)
{
    char *dir = tu_make_temp_dir("cli-bench");
    char args[2048], *out = NULL, path[1024];
    snprintf(path, sizeof path, "%s/bench.json", dir);
    snprintf(args, sizeof args, "bench device=cpu sizes=8,12 batches=1,3 min_time_s=0 -o %s", path);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    int rows = 0;
    for (const char *p = text; (p = strstr(p, "\"ms_per_pair\"")); ++p)
        ++rows;
    cr_expect_eq(rows, 4, "2 sizes x 2 batches: %s", text);
    cr_expect_eq(tu_run_braggcdi("bench sizes=0 -o /tmp/x.json", &out), 2);
    free(out);
    tu_remove_tree(dir);
    free(dir);
}

/* The embedded dataset is what its README's command makes (frames and truth identical). */
Test(cli, embedded_dataset_regenerates_from_its_command, .timeout = 120)
{
    char *dir = tu_make_temp_dir("cli-embedded");
    char args[4096], *out = NULL, fresh[1024], kept[1024];
    snprintf(fresh, sizeof fresh, "%s/stack.nxs", dir);
    snprintf(args, sizeof args, "simulate %s/datasets/nmc811-003-sim/simulate.ini -o %s",
             BCDI_SOURCE_DIR, fresh);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    free(out);
    snprintf(kept, sizeof kept, "%s/datasets/nmc811-003-sim/stack.nxs", BCDI_SOURCE_DIR);
    size_t n = 96 * 128 * 128;
    uint32_t *a = malloc(n * 4), *b = malloc(n * 4);
    bcdi_h5_reader *ra, *rb;
    cr_assert_eq(bcdi_h5_open(fresh, &ra), BCDI_OK);
    cr_assert_eq(bcdi_h5_open(kept, &rb), BCDI_OK);
    cr_assert_eq(bcdi_h5_read(ra, "entry1/instrument/excalibur/data", BCDI_DT_U32, a, n), BCDI_OK);
    cr_assert_eq(bcdi_h5_read(rb, "entry1/instrument/excalibur/data", BCDI_DT_U32, b, n), BCDI_OK,
                 "%s", bcdi_last_error());
    cr_expect_eq(memcmp(a, b, n * 4), 0, "regenerated frames differ from datasets/");
    double total = 0;
    for (size_t i = 0; i < n; ++i)
        total += b[i];
    /* 3e8 expected photons less the gap/dead pixels: measured 2.9e8 */
    cr_expect(total > 2.5e8 && total < 3.1e8, "total counts %g", total);
    bcdi_h5_close(ra);
    bcdi_h5_close(rb);
    free(a);
    free(b);
    tu_remove_tree(dir);
    free(dir);
}

/* --help prints every key from its stage's table: default, range or choices, help. */
Test(cli, help_lists_ranges_and_choices)
{
    static const struct {
        const char *command, *needles[3];
    } cases[] = {
        {"phase",
         {"runs = 1", "an integer in 1..10000", "one of llk, fourier, free_llk, sharpness"}},
        {"prepare", {"peak_smoothing = 1", "a number in [0, 10]", "one of mask, error"}},
        {"simulate", {"deflate = 4", "an integer in 0..9", "one of 0, 1, 6, 12, 24"}},
        {"analyze",
         {"support_threshold = 0.3", "a number in (0, 1), or auto", "one of lab, crystal"}},
        {"compare", {"upsample = 20", "an integer in 1..1000", "min_domain_voxels = 27"}},
        {"info", {"format = auto", "one of auto, hdf5, tiff", "how to read"}},
        {"bench",
         {"sizes = 64,128,256", "1 to 16 integers, each in 2..4096", "one of fft, phasing"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        char args[64], *out = NULL;
        snprintf(args, sizeof args, "%s --help", cases[i].command);
        cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
        for (int k = 0; k < 3; ++k)
            cr_expect(strstr(out, cases[i].needles[k]) != NULL, "%s: '%s' missing", args,
                      cases[i].needles[k]);
        free(out);
    }
}

/* Every key is checked before any input is opened: with a missing input and a bad key, the
 * error is about the key; a config file's bad value names file:line. */
Test(cli, keys_checked_before_any_input_is_read)
{
    char *dir = tu_make_temp_dir("cli-early");
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"phase /nonexistent/p.cxi runs=0", "command line: key 'runs' is '0'"},
        {"phase /nonexistent/p.cxi runs=2 keep=5", "key 'keep' is 5, expected at most runs (2)"},
        {"phase /nonexistent/p.cxi device=gpu", "key 'device'"},
        {"phase /nonexistent/p.cxi runs=1000000000", "expected an integer in 1..10000"},
        {"phase /nonexistent/p.cxi recipe=10*HIX", "key 'recipe'"},
        {"prepare /nonexistent/s.nxs peak_smoothing=1e308", "key 'peak_smoothing' is '1e308'"},
        {"prepare /nonexistent/s.nxs peak_smoothing=-1", "key 'peak_smoothing' is '-1'"},
        {"prepare /nonexistent/s.nxs hot_factor=-1", "key 'hot_factor' is '-1'"},
        {"prepare /nonexistent/s.nxs oversampling_threshold=-0.5",
         "key 'oversampling_threshold' is '-0.5'"},
        {"prepare /nonexistent/s.nxs hkl=0,0,0", "key 'hkl' is '0,0,0'"},
        {"prepare /nonexistent/s.nxs deflate=12", "key 'deflate' is '12'"},
        {"analyze /nonexistent/r.cxi vortex_threshold=1", "key 'vortex_threshold' is '1'"},
        {"info /nonexistent/f.h5 format=xml", "key 'format' is 'xml'"},
        {"compare /nonexistent/a.cxi=A /nonexistent/b.cxi=B upsample=0", "key 'upsample' is '0'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        char args[1024], *out = NULL;
        snprintf(args, sizeof args, "%s -o %s/out", cases[i].args, dir);
        cr_expect_eq(tu_run_braggcdi(args, &out), 2, "%s: %s", args, out);
        cr_expect(strstr(out, cases[i].needle) != NULL, "%s: '%s' not in: %s", args,
                  cases[i].needle, out);
        cr_expect(strstr(out, "nonexistent") == NULL, "%s: the input was opened: %s", args, out);
        free(out);
    }
    /* from a config file: file:line */
    char ini[1024], args[4096], *out = NULL;
    snprintf(ini, sizeof ini, "%s/p.ini", dir);
    FILE *f = fopen(ini, "w");
    fputs("[phase]\nruns = 4\n\nkeep = 0\n", f);
    fclose(f);
    snprintf(args, sizeof args, "phase /nonexistent/p.cxi %s -o %s/out", ini, dir);
    cr_expect_eq(tu_run_braggcdi(args, &out), 2);
    char where[1200];
    snprintf(where, sizeof where, "%s:4: key 'keep' is '0', expected an integer in 1..10000", ini);
    cr_expect(strstr(out, where) != NULL, "%s", out);
    free(out);
    /* a missing output folder is said before the input is read */
    snprintf(args, sizeof args, "phase /nonexistent/p.cxi -o %s/no/r.cxi", dir);
    cr_expect_eq(tu_run_braggcdi(args, &out), 2);
    cr_expect(strstr(out, "does not exist") && !strstr(out, "nonexistent/p.cxi"), "%s", out);
    free(out);
    cr_expect_eq(tu_count_entries(dir), 1, "only the config file");
    tu_remove_tree(dir);
    free(dir);
}

/* compare reads a config file like every other command: keys outside a section and in
 * [compare], [analyze]'s keys below them, other stages' sections skipped; the command line
 * wins; its own grammar (states with =label) keeps working. */
Test(cli, compare_reads_a_config_file, .timeout = 120)
{
    char *dir = tu_make_temp_dir("cli-compare-ini");
    char args[4096], *out = NULL;
    const char *sims[2] = {"", "strain=0.001"};
    for (int k = 0; k < 2; ++k) {
        snprintf(args, sizeof args,
                 "simulate shape=32,32,32 oversampling=2.5 photons=1e7 %s -q -o %s/%c.nxs", sims[k],
                 dir, 'a' + k);
        cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
        free(out);
    }
    char ini[1024];
    snprintf(ini, sizeof ini, "%s/c.ini", dir);
    FILE *f = fopen(ini, "w");
    fputs("[analyze]\nmin_domain_voxels = 1000000\nfrobnicate = 3\n", f);
    fclose(f);
    snprintf(args, sizeof args,
             "compare %s/a_truth.cxi=A %s/b_truth.cxi=B %s move_distance_nm=45 -o %s/report", dir,
             dir, ini, dir);
    int rc = tu_run_braggcdi(args, &out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "c.ini:3") && strstr(out, "unknown key 'frobnicate'"), "%s", out);
    free(out);
    f = fopen(ini, "w");
    fputs("[analyze]\nmin_domain_voxels = 1000000\n[compare]\nreference = B\n"
          "match_distance_nm = 123\nmove_distance_nm = 10\n[phase]\nruns = 4\n",
          f);
    fclose(f);
    cr_assert_eq(tu_run_braggcdi(args, &out), 0, "%s", out);
    cr_expect(strstr(out, "'A': volume") && strstr(out, "0 domain(s)"),
              "[analyze]'s min_domain_voxels counts the crystal as a fragment: %s", out);
    free(out);
    char path[1200];
    snprintf(path, sizeof path, "%s/report/comparison.json", dir);
    char *json = tu_read_text(path);
    cr_assert(json);
    cr_expect(strstr(json, "\"reference\": \"B\"") != NULL, "%s", json);
    cr_expect(strstr(json, "\"line_match_distance_nm\": 123") != NULL, "%s", json);
    cr_expect(strstr(json, "\"line_move_distance_nm\": 45") != NULL, "the command line wins: %s",
              json);
    free(json);
    tu_remove_tree(dir);
    free(dir);
}
