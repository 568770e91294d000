/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by the SPEC reader's two files: spec.c (indexing, parsing one scan) and
 * spec_scan.c (what a parsed scan answers: motors, columns, the scan command). */
#ifndef BCDI_IO_SPEC_INTERNAL_H
#define BCDI_IO_SPEC_INTERNAL_H

#include "io/spec.h"

#include <stdio.h>

#define SPEC_MAX_O_LINES 1024 /* #O0 .. #O1023 */
#define SPEC_MAX_COMMAND 4096 /* bytes of a scan command */

typedef struct {
    char *key, *value; /* "#UIMR5 0 256 0 256" -> "UIMR5", "0 256 0 256" */
} spec_line;

typedef struct {
    spec_line *lines;
    size_t line_count;
    char **names, **mnemonics;
    size_t name_count, mnemonic_count;
    size_t o_counts[SPEC_MAX_O_LINES]; /* names per #O<i> line */
    size_t o_lines, o_lines_mnemonic;  /* #O / #o lines seen */
} spec_header;

typedef struct {
    long number;
    char *command;
    size_t line;
    long long offset;
    size_t header;
} spec_entry;

struct bcdi_spec_file {
    char *path;
    FILE *f;
    spec_header *headers;
    size_t header_count;
    spec_entry *scans;
    size_t scan_count, scan_capacity;
};

struct bcdi_spec_scan {
    spec_header header; /* a copy of the scan's file header */
    long number;
    char *command;
    char where[512];
    double *positions;
    unsigned char *position_known;
    spec_line *lines;
    size_t line_count;
    double *g[BCDI_SPEC_MAX_G_LINES];
    size_t g_count[BCDI_SPEC_MAX_G_LINES];
    int has_q;
    double q[3];
    char **labels;
    size_t column_count, points;
    double *data; /* column-major: data[c * points + p] */
};

/* A complete finite decimal number: nothing left over, no nan/inf, no overflow. */
int bcdi_spec_parse_finite(const char *token, double *value);
/* A complete decimal integer that fits a long. */
int bcdi_spec_parse_long(const char *token, long *value);
/* Split `text` in place at blanks; at most `max` tokens (returns max + 1 when there are more). */
size_t bcdi_spec_split_blanks(char *text, char **tokens, size_t max);
/* Index of a motor by #O name or #o mnemonic (exact, then case-insensitive name), -1 if absent. */
long bcdi_spec_motor_index(const spec_header *h, const char *name);

#endif
