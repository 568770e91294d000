/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC reader: the real APS 34-ID-C log beside the gold scan (skipped visibly where
 * ../shared/datasets is absent), and small SPEC texts written here, valid and hostile. */
#include "io/spec.h"
#include "test_data.h"
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *gold_spec(void)
{
    return tu_shared_dataset("au111-aps34idc-scan54/scan54.spec");
}

static char *temp_dir;

static void setup_dir(void)
{
    temp_dir = tu_make_temp_dir("spec");
}

static void remove_dir(void)
{
    tu_remove_tree(temp_dir);
    free(temp_dir);
}

/* Write `text` (len bytes; strlen when len = 0) to <temp>/name and return the path (static). */
static const char *write_spec(const char *name, const char *text, size_t len)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fwrite(text, 1, len ? len : strlen(text), f);
    fclose(f);
    return path;
}

/* Open and read scan `number`; returns the status and leaves the error detail. */
static bcdi_status open_and_read(const char *path, long number, bcdi_spec_scan **scan)
{
    bcdi_spec_file *file;
    *scan = NULL;
    bcdi_status st = bcdi_spec_open(path, &file);
    if (st != BCDI_OK) return st;
    st = bcdi_spec_read_scan(file, number, scan);
    bcdi_spec_close(file); /* a scan outlives its file */
    return st;
}

Test(spec, real_34idc_scan54)
{
    const char *path = gold_spec();
    if (!path) cr_skip_test("../shared/datasets absent: real SPEC file test skipped");
    bcdi_spec_file *file;
    cr_assert_eq(bcdi_spec_open(path, &file), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_scan_count(file), 1);
    long number;
    const char *command;
    cr_assert_eq(bcdi_spec_scan_entry(file, 0, &number, &command), BCDI_OK);
    cr_expect_eq(number, 54);
    cr_expect_str_eq(command, "ascan th -0.279996 0.720004 200 0.25");
    bcdi_spec_scan *scan;
    cr_expect_eq(bcdi_spec_read_scan(file, 55, &scan), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "no scan 55"), "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_read_scan(file, 54, &scan), BCDI_OK, "%s", bcdi_last_error());
    bcdi_spec_close(file);

    /* motors: names (#O) and mnemonics (#o) both find the #P positions */
    double v;
    cr_expect_eq(bcdi_spec_motor_count(scan), 49);
    cr_assert_eq(bcdi_spec_motor(scan, "Delta", &v), BCDI_OK);
    cr_expect_eq(v, 32.174);
    cr_assert(bcdi_spec_find_motor(scan, "gam", &v));
    cr_expect_eq(v, 12.6346);
    cr_assert(bcdi_spec_find_motor(scan, "Energy", &v));
    cr_expect_eq(v, 9.0);
    cr_assert(bcdi_spec_find_motor(scan, "camdist", &v));
    cr_expect_eq(v, 500.0);
    cr_assert(bcdi_spec_find_motor(scan, "z-sample", &v));
    cr_expect_eq(v, 10.214);
    cr_assert(bcdi_spec_find_motor(scan, "ctipz", &v)); /* the last one, alone on #O6 */
    cr_expect_eq(v, -6.34731);
    cr_expect_not(bcdi_spec_find_motor(scan, "nonesuch", &v));
    cr_expect_eq(bcdi_spec_motor(scan, "nonesuch", &v), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "scan 54") && strstr(bcdi_last_error(), "nonesuch"), "%s",
              bcdi_last_error());

    bcdi_spec_motion m;
    cr_assert_eq(bcdi_spec_scan_motion(scan, &m), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_str_eq(m.kind, "ascan");
    cr_expect_str_eq(m.mnemonic, "th");
    cr_expect_str_eq(m.name, "Theta");
    cr_expect_eq(m.relative, 0);
    cr_expect_eq(m.start, -0.279996);
    cr_expect_eq(m.stop, 0.720004);
    cr_expect_eq(m.intervals, 200);
    cr_expect_eq(m.points, 201);
    cr_expect_lt(fabs(m.step - 0.005), 1e-15);
    cr_expect_eq(m.count_time, 0.25);

    /* columns: 201 rows; a label with a space; the README's brightest frame */
    cr_expect_eq(bcdi_spec_column_count(scan), 25);
    cr_expect_eq(bcdi_spec_point_count(scan), 201);
    const double *theta, *immax, *pm;
    size_t count;
    cr_assert_eq(bcdi_spec_column(scan, "Theta", &theta, &count), BCDI_OK);
    cr_assert_eq(count, 201);
    cr_expect_eq(theta[0], -0.2799992);
    cr_expect_eq(theta[200], 0.7200076);
    cr_expect_lt(fabs((theta[200] - theta[0]) / 200 - 0.005), 1e-6);
    cr_assert_eq(bcdi_spec_column(scan, "pm detector", &pm, &count), BCDI_OK);
    cr_expect_eq(pm[0], 3.0);
    cr_assert_eq(bcdi_spec_column(scan, "ImageMax", &immax, &count), BCDI_OK);
    size_t brightest = 0;
    for (size_t i = 1; i < count; ++i)
        if (immax[i] > immax[brightest]) brightest = i;
    cr_expect_eq(brightest, 99);
    cr_expect_eq(immax[99], 165297.0);
    cr_expect_eq(bcdi_spec_column(scan, "nope", &pm, &count), BCDI_ERR_FORMAT);

    /* other header lines */
    cr_expect_str_eq(bcdi_spec_header(scan, "UIMDET"), "34idcTIM2:");
    cr_expect_str_eq(bcdi_spec_header(scan, "UIMR5"), "0 256 0 256 1");
    cr_expect_str_eq(bcdi_spec_header(scan, "T"), "0.25  (Seconds)");
    cr_expect(strstr(bcdi_spec_header(scan, "F"), "Staff20-1a.spec"));
    cr_expect_null(bcdi_spec_header(scan, "XYZ"));
    const double *g;
    cr_assert(bcdi_spec_geometry_values(scan, 4, &g, &count));
    cr_expect_eq(count, 28);
    cr_expect_eq(g[3], 1.54); /* SPEC's own wavelength: not the beam's (9 keV = 1.3776 Å) */
    cr_assert(bcdi_spec_geometry_values(scan, 1, &g, &count));
    cr_expect_eq(g[6], 4.079990459);
    double hkl[3];
    cr_assert(bcdi_spec_q(scan, hkl));
    cr_expect_eq(hkl[2], 0.520262);
    cr_expect(strstr(bcdi_spec_scan_where(scan), "scan 54"));
    bcdi_spec_scan_free(scan);
}

/* Two file headers (motors reconfigured), a repeated scan number, a relative scan, MCA lines,
 * comments inside the data, single-space labels matched through #N. */
static const char *valid_text = "#F synthetic.spec\n"
                                "#E 1580609738\n"
                                "#D Sat Feb 01 20:15:38 2020\n"
                                "#O0 Two Theta  Theta  Chi\n"
                                "#o0 tth th chi\n"
                                "\n"
                                "#S 1  ascan  th 1 2  4 0.5\n"
                                "#D Sat Feb 01 20:16:00 2020\n"
                                "#P0 20 10.5 90\n"
                                "#Q 0 0 1\n"
                                "#UFOO some user text\n"
                                "#N 3\n"
                                "#L Theta  Epoch  Detector counts\n"
                                "1 10 100\n"
                                "1.25 11 150\n"
                                "@A 1 2 3 4 \\\n"
                                " 5 6 7\n"
                                "#C a comment between points\n"
                                "1.5 12 300\n"
                                "1.75 13 150\n"
                                "2 14 100\n"
                                "\n"
                                "#E 1580700000\n"
                                "#O0 Theta  Energy\n"
                                "\n"
                                "#S 2  dscan  Theta -0.5 0.5  10 1\n"
                                "#P0 3 9.5\n"
                                "#N 2\n"
                                "#L Theta Monitor\n"
                                "2.5 1000\n"
                                "\n"
                                "#S 1  timescan 1\n"
                                "#P0 3 9.5\n";

Test(spec, synthetic_valid, .init = setup_dir, .fini = remove_dir)
{
    const char *path = write_spec("valid.spec", valid_text, 0);
    bcdi_spec_file *file;
    cr_assert_eq(bcdi_spec_open(path, &file), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_scan_count(file), 3);
    bcdi_spec_scan *s1, *s2, *s3;
    cr_assert_eq(bcdi_spec_read_scan(file, 1, &s1), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_read_scan(file, 2, &s2), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_spec_read_scan_at(file, 2, &s3), BCDI_OK, "%s", bcdi_last_error());
    bcdi_spec_close(file);

    /* scan 1: first header (a motor name with a space), MCA skipped, comment kept aside */
    double v;
    cr_assert(bcdi_spec_find_motor(s1, "Two Theta", &v));
    cr_expect_eq(v, 20.0);
    cr_assert(bcdi_spec_find_motor(s1, "tth", &v));
    cr_expect_eq(v, 20.0);
    cr_expect_not(bcdi_spec_find_motor(s1, "Energy", &v));
    cr_expect_eq(bcdi_spec_point_count(s1), 5);
    const double *col;
    size_t n;
    cr_assert_eq(bcdi_spec_column(s1, "detector COUNTS", &col, &n), BCDI_OK);
    cr_expect_eq(col[2], 300.0);
    cr_expect_str_eq(bcdi_spec_header(s1, "C"), "a comment between points");
    cr_expect_str_eq(bcdi_spec_header(s1, "UFOO"), "some user text");
    cr_expect_str_eq(bcdi_spec_header(s1, "D"), "Sat Feb 01 20:16:00 2020"); /* scan's own */
    bcdi_spec_motion m;
    cr_assert_eq(bcdi_spec_scan_motion(s1, &m), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(m.step, 0.25);
    cr_expect_eq(m.points, 5);
    cr_expect_str_eq(m.name, "Theta");

    /* scan 2: second header (no mnemonics), relative scan, single-space labels */
    cr_expect_eq(bcdi_spec_motor_count(s2), 2);
    cr_assert(bcdi_spec_find_motor(s2, "energy", &v)); /* case-insensitive name */
    cr_expect_eq(v, 9.5);
    cr_assert_eq(bcdi_spec_scan_motion(s2, &m), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(m.relative, 1);
    cr_expect_eq(m.absolute_known, 1);
    cr_expect_eq(m.start_abs, 2.5);
    cr_expect_eq(m.stop_abs, 3.5);
    cr_expect_eq(m.step, 0.1);
    cr_assert_eq(bcdi_spec_column(s2, "Monitor", &col, &n), BCDI_OK);
    cr_expect_eq(n, 1);
    cr_expect_eq(col[0], 1000.0);

    /* the repeated number 1, read by index: a timescan moves no motor */
    cr_expect_eq(bcdi_spec_scan_number(s3), 1);
    cr_expect_eq(bcdi_spec_point_count(s3), 0);
    cr_expect_eq(bcdi_spec_scan_motion(s3, &m), BCDI_ERR_UNSUPPORTED);
    cr_expect(strstr(bcdi_last_error(), "timescan"), "%s", bcdi_last_error());
    bcdi_spec_scan_free(s1);
    bcdi_spec_scan_free(s2);
    bcdi_spec_scan_free(s3);
}

typedef struct {
    const char *name;
    const char *text;
    int at_open; /* the error comes from bcdi_spec_open (else from reading scan 1) */
    bcdi_status status;
    const char *expect[3]; /* substrings of the error detail */
} hostile_case;

#define HEAD "#F x\n#O0 Theta  Chi\n#o0 th chi\n\n"

static const hostile_case hostile[] = {
    {"nan_position",
     HEAD "#S 1 ascan th 0 1 2 1\n#P0 1 nan\n#L Theta  I\n0 1\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 6", "#P0 field 2", "'Chi'"}},
    {"nan_data",
     HEAD "#S 1 ascan th 0 1 2 1\n#P0 1 2\n#L Theta  I\n0 1\n0.5 NaN\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 9", "field 2", "column 'I'"}},
    {"huge_number",
     HEAD "#S 1 ascan th 0 1 2 1\n#P0 1 2\n#L Theta  I\n0 1e999\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 8", "1e999", "finite"}},
    {"garbage_number",
     HEAD "#S 1 ascan th 0 1 2 1\n#P0 1 2\n#L Theta  I\n0 12abc\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 8", "12abc", NULL}},
    {"truncated_row",
     HEAD "#S 1 ascan th 0 1 2 1\n#P0 1 2\n#L Theta  I  J\n0 1 2\n0.5 1",
     0,
     BCDI_ERR_FORMAT,
     {"line 9", "2 values", "3 columns"}},
    {"row_before_labels",
     HEAD "#S 1 ascan th 0 1 2 1\n0 1\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 6", "before the #L", NULL}},
    {"position_count",
     HEAD "#S 1 ascan th 0 1 2 1\n#P0 1 2 3\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 6", "3 positions", "2 motors"}},
    {"n_mismatch",
     HEAD "#S 1 ascan th 0 1 2 1\n#N 3\n#L Theta  I\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 7", "#N says 3", NULL}},
    {"bad_g",
     HEAD "#S 1 ascan th 0 1 2 1\n#G0 1 2 inf\n",
     0,
     BCDI_ERR_FORMAT,
     {"line 6", "#G0 field 3", NULL}},
    {"mnemonic_count",
     "#F x\n#O0 Theta  Chi\n#o0 th\n#S 1 ascan th 0 1 2 1\n",
     1,
     BCDI_ERR_FORMAT,
     {"line 3", "1 mnemonics", "2 names"}},
    {"o_out_of_order",
     "#F x\n#O1 Theta  Chi\n#S 1 ascan th 0 1 2 1\n",
     1,
     BCDI_ERR_FORMAT,
     {"line 2", "out of order", NULL}},
    {"scan_number",
     HEAD "#S abc ascan th 0 1 2 1\n",
     1,
     BCDI_ERR_FORMAT,
     {"line 5", "#S field 1", "'abc'"}},
    {"no_scan", "#F x\n#O0 Theta\n", 1, BCDI_ERR_FORMAT, {"no scan", NULL, NULL}},
};

Test(spec, hostile_texts, .init = setup_dir, .fini = remove_dir)
{
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; ++i) {
        const hostile_case *c = &hostile[i];
        const char *path = write_spec("hostile.spec", c->text, 0);
        bcdi_spec_file *file = NULL;
        bcdi_status st = bcdi_spec_open(path, &file);
        if (!c->at_open) {
            cr_assert_eq(st, BCDI_OK, "%s: open failed: %s", c->name, bcdi_last_error());
            bcdi_spec_scan *scan = NULL;
            st = bcdi_spec_read_scan(file, 1, &scan);
            cr_expect_null(scan, "%s", c->name);
            bcdi_spec_close(file);
        } else {
            cr_expect_null(file, "%s", c->name);
        }
        cr_expect_eq(st, c->status, "%s: status %d (%s)", c->name, st, bcdi_last_error());
        const char *detail = bcdi_last_error();
        cr_expect(strstr(detail, "hostile.spec"), "%s: file not named: %s", c->name, detail);
        for (int k = 0; k < 3; ++k)
            if (c->expect[k])
                cr_expect(strstr(detail, c->expect[k]), "%s: '%s' not in: %s", c->name,
                          c->expect[k], detail);
    }
}

Test(spec, long_lines_nul_and_missing_file, .init = setup_dir, .fini = remove_dir)
{
    bcdi_spec_scan *scan;
    /* a line over the limit is refused, naming its number */
    size_t big = BCDI_SPEC_MAX_LINE + 10;
    char *text = malloc(big + 200);
    int head = snprintf(text, 200, HEAD "#S 1 ascan th 0 1 2 1\n#C ");
    memset(text + head, 'x', big);
    strcpy(text + head + big, "\n");
    const char *path = write_spec("long.spec", text, 0);
    cr_expect_eq(open_and_read(path, 1, &scan), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "line 6") && strstr(bcdi_last_error(), "longer than"), "%s",
              bcdi_last_error());
    /* ... but an MCA line of any length is skipped */
    head = snprintf(text, 200, HEAD "#S 1 ascan th 0 1 2 1\n#L Theta  I\n@A ");
    memset(text + head, '7', big);
    strcpy(text + head + big, "\n0 5\n");
    path = write_spec("mca.spec", text, 0);
    cr_assert_eq(open_and_read(path, 1, &scan), BCDI_OK, "%s", bcdi_last_error());
    cr_expect_eq(bcdi_spec_point_count(scan), 1);
    bcdi_spec_scan_free(scan);
    free(text);
    /* a NUL byte */
    static const char nul_text[] = HEAD "#S 1 ascan th 0 1 2 1\n#L Theta  I\n0 \0 5\n";
    path = write_spec("nul.spec", nul_text, sizeof nul_text - 1);
    cr_expect_eq(open_and_read(path, 1, &scan), BCDI_ERR_FORMAT);
    cr_expect(strstr(bcdi_last_error(), "line 7") && strstr(bcdi_last_error(), "NUL"), "%s",
              bcdi_last_error());
    /* a file that does not exist */
    bcdi_spec_file *file;
    cr_expect_eq(bcdi_spec_open("/nonexistent/x.spec", &file), BCDI_ERR_IO);
    cr_expect(strstr(bcdi_last_error(), "/nonexistent/x.spec"));
}

Test(spec, scan_commands, .init = setup_dir, .fini = remove_dir)
{
    static const struct {
        const char *command;
        bcdi_status status;
        size_t points;
        double step;
    } cases[] = {
        {"a2scan th 0 1 chi 5 6 10 1", BCDI_OK, 11, 0.1},
        {"mesh th 0 1 4 chi 0 2 2 1", BCDI_OK, 15, 0.25},
        {"lup th -1 1 4 0.5", BCDI_OK, 5, 0.5},
        {"ascan th 0 1 0 1", BCDI_ERR_FORMAT, 0, 0},    /* zero intervals */
        {"ascan th 0 1 -3 1", BCDI_ERR_FORMAT, 0, 0},   /* negative intervals */
        {"ascan th 0 nan 10 1", BCDI_ERR_FORMAT, 0, 0}, /* non-finite */
        {"ascan th 0 1 10", BCDI_ERR_FORMAT, 0, 0},     /* missing count time */
        {"a2scan th 0 1 chi x 6 10 1", BCDI_ERR_FORMAT, 0, 0},
        {"hklscan 1 1 0 0 0 1 10 1", BCDI_ERR_UNSUPPORTED, 0, 0},
        {"mesh th 0 1 99999 chi 0 1 99999 1", BCDI_ERR_FORMAT, 0, 0}, /* 10^10 points */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char text[512];
        snprintf(text, sizeof text, HEAD "#S 1 %s\n#P0 0.5 5\n", cases[i].command);
        bcdi_spec_scan *scan;
        cr_assert_eq(open_and_read(write_spec("cmd.spec", text, 0), 1, &scan), BCDI_OK, "%s",
                     bcdi_last_error());
        bcdi_spec_motion m;
        bcdi_status st = bcdi_spec_scan_motion(scan, &m);
        cr_expect_eq(st, cases[i].status, "'%s': %s", cases[i].command, bcdi_last_error());
        if (st == BCDI_OK) {
            cr_expect_eq(m.points, cases[i].points, "'%s': %zu points", cases[i].command, m.points);
            cr_expect_lt(fabs(m.step - cases[i].step), 1e-12, "'%s'", cases[i].command);
        } else {
            cr_expect(strstr(bcdi_last_error(), "scan 1"), "%s", bcdi_last_error());
        }
        bcdi_spec_scan_free(scan);
    }
    /* lup is relative to the #P position */
    bcdi_spec_scan *scan;
    cr_assert_eq(
        open_and_read(write_spec("lup.spec", HEAD "#S 1 lup th -1 1 4 0.5\n#P0 0.5 5\n", 0), 1,
                      &scan),
        BCDI_OK);
    bcdi_spec_motion m;
    cr_assert_eq(bcdi_spec_scan_motion(scan, &m), BCDI_OK);
    cr_expect_eq(m.start_abs, -0.5);
    cr_expect_eq(m.stop_abs, 1.5);
    bcdi_spec_scan_free(scan);
}
