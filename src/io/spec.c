/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC file reader (io/spec.h for the format and the limits).
 *
 * One pass at open indexes file headers (motor names and mnemonics, other '#' lines) and #S
 * lines with their byte offsets; reading a scan seeks to its #S line and parses that block only,
 * so a file of thousands of scans costs one scan's memory. A scan owns a copy of its file
 * header, so it stays valid after bcdi_spec_close. (A little over 700 lines: most of it is one
 * error message per malformed field; what a parsed scan answers lives in spec_scan.c.) */
#include "io/spec.h"
#include "core/ckd.h"
#include "core/input_file.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/spec_internal.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static bcdi_status no_memory(const char *path)
{
    return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory while reading the SPEC file", path);
}

/* Grow *array (element size `size`) to hold at least `need` elements. */
static int grow(void **array, size_t *capacity, size_t need, size_t size)
{
    if (need <= *capacity) return 1;
    size_t cap = *capacity ? *capacity : 16, bytes;
    while (cap < need)
        cap *= 2;
    if (bcdi_ckd_mul(&bytes, cap, size)) return 0;
    void *p = realloc(*array, bytes);
    if (!p) return 0;
    *array = p;
    *capacity = cap;
    return 1;
}

/* A complete finite decimal number: nothing left over, no nan/inf, no overflow. */
int bcdi_spec_parse_finite(const char *token, double *value)
{
    char *end;
    errno = 0;
    double v = strtod(token, &end);
    if (end == token || *end || !isfinite(v)) return 0;
    *value = v;
    return 1;
}

int bcdi_spec_parse_long(const char *token, long *value)
{
    char *end;
    errno = 0;
    long v = strtol(token, &end, 10);
    if (end == token || *end || errno == ERANGE) return 0;
    *value = v;
    return 1;
}

/* Split `text` in place at blanks; at most `max` tokens (returns max + 1 when there are more). */
size_t bcdi_spec_split_blanks(char *text, char **tokens, size_t max)
{
    size_t n = 0;
    char *p = text;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p) return n;
        if (n == max) return max + 1;
        tokens[n++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p) *p++ = '\0';
    }
}

/* Split labels in place at runs of two or more blanks (SPEC's separator: labels may hold single
 * spaces). When `expected` is non-zero and the count differs, split at every blank instead (some
 * writers use single spaces) and keep whichever matches. */
static size_t split_labels(char *text, char **tokens, size_t max, size_t expected)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy) memcpy(copy, text, len + 1);
    size_t n = 0;
    char *p = text;
    while (*p && isspace((unsigned char)*p))
        p++;
    while (*p) {
        if (n == max) {
            n = max + 1;
            break;
        }
        tokens[n++] = p;
        for (;;) {
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (!*p) break;
            /* a single blank followed by a non-blank stays inside the label */
            if (p[1] && !isspace((unsigned char)p[1])) {
                p++;
                continue;
            }
            *p++ = '\0';
            while (*p && isspace((unsigned char)*p))
                p++;
            break;
        }
    }
    if (expected && n != expected && copy) {
        memcpy(text, copy, len + 1);
        n = bcdi_spec_split_blanks(text, tokens, max);
    }
    free(copy);
    return n;
}

static void free_strings(char **s, size_t n)
{
    if (!s) return;
    for (size_t i = 0; i < n; ++i)
        free(s[i]);
    free(s);
}

static void header_free(spec_header *h)
{
    for (size_t i = 0; i < h->line_count; ++i) {
        free(h->lines[i].key);
        free(h->lines[i].value);
    }
    free(h->lines);
    free_strings(h->names, h->name_count);
    free_strings(h->mnemonics, h->mnemonic_count);
    memset(h, 0, sizeof *h);
}

/* Append "#key value" to a line list (bounded). */
static bcdi_status add_line(spec_line **lines, size_t *count, const char *key, const char *value,
                            const char *path, size_t line_no)
{
    if (*count >= BCDI_SPEC_MAX_HEADER_LINES)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: more than %d header lines in one block",
                          path, line_no, BCDI_SPEC_MAX_HEADER_LINES);
    spec_line *p = realloc(*lines, (*count + 1) * sizeof *p);
    if (!p) return no_memory(path);
    *lines = p;
    p[*count].key = strdup(key);
    p[*count].value = strdup(value);
    if (!p[*count].key || !p[*count].value) {
        free(p[*count].key);
        free(p[*count].value);
        return no_memory(path);
    }
    ++*count;
    return BCDI_OK;
}

/* ---- line reader ---------------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    const char *path;
    char *buf; /* BCDI_SPEC_MAX_LINE + 1 */
    size_t len, line_no;
    long long offset;   /* of the current line */
    int in_mca;         /* the previous line was an MCA line ending in '\' */
    bcdi_status status; /* of a failed next_line */
} line_reader;

/* Next line into r->buf (NUL-terminated, CR and LF stripped). Returns 1, 0 at end of file, or -1
 * with the error set. MCA lines (@A..., and their continuations) are skipped whatever their
 * length. */
static int next_line(line_reader *r)
{
    for (;;) {
        r->offset = ftello(r->f);
        size_t len = 0;
        int c, too_long = 0, nul = 0, any = 0, last = 0; /* last: final non-CR byte */
        while ((c = getc(r->f)) != EOF) {
            any = 1;
            if (c == '\n') break;
            if (c == '\0') nul = 1;
            if (c != '\r') last = c;
            if (len < BCDI_SPEC_MAX_LINE)
                r->buf[len++] = (char)c;
            else
                too_long = 1;
        }
        if (ferror(r->f)) {
            r->status = bcdi_error(BCDI_ERR_IO, "'%s': read error after line %zu: %s", r->path,
                                   r->line_no, strerror(errno));
            return -1;
        }
        if (!any) return 0;
        r->line_no++;
        while (len && r->buf[len - 1] == '\r')
            len--;
        r->buf[len] = '\0';
        int mca = r->in_mca || r->buf[0] == '@';
        if (mca) {
            r->in_mca = last == '\\';
            continue;
        }
        if (nul) {
            r->status = bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: NUL byte (not a text file?)",
                                   r->path, r->line_no);
            return -1;
        }
        if (too_long) {
            r->status = bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: longer than %d bytes", r->path,
                                   r->line_no, BCDI_SPEC_MAX_LINE);
            return -1;
        }
        r->len = len;
        return 1;
    }
}

/* "#KEY rest": key into key (bounded), returns rest (blanks skipped). */
static const char *split_key(const char *line, char *key, size_t key_size)
{
    const char *p = line + 1;
    size_t n = 0;
    while (*p && !isspace((unsigned char)*p)) {
        if (n + 1 < key_size) key[n++] = *p;
        p++;
    }
    key[n] = '\0';
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/* #O<i> / #o<i> index from the key ("O12" -> 12), -1 when not of that form. */
static long o_index(const char *key, char letter)
{
    if (key[0] != letter || !isdigit((unsigned char)key[1])) return -1;
    long v;
    if (!bcdi_spec_parse_long(key + 1, &v) || v < 0 || v >= SPEC_MAX_O_LINES) return -1;
    return v;
}

/* #O<i> (names) or #o<i> (mnemonics) into the header. */
static bcdi_status header_add_motors(spec_header *h, long index, int mnemonics, char *rest,
                                     const char *path, size_t line_no)
{
    size_t seen = mnemonics ? h->o_lines_mnemonic : h->o_lines;
    if ((size_t)index != seen)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #%c%ld out of order (expected #%c%zu)",
                          path, line_no, mnemonics ? 'o' : 'O', index, mnemonics ? 'o' : 'O', seen);
    char *tokens[BCDI_SPEC_MAX_NAMES + 1];
    size_t n;
    if (mnemonics)
        n = bcdi_spec_split_blanks(rest, tokens, BCDI_SPEC_MAX_NAMES);
    else
        n = split_labels(rest, tokens, BCDI_SPEC_MAX_NAMES, 0);
    size_t have = mnemonics ? h->mnemonic_count : h->name_count;
    if (n > BCDI_SPEC_MAX_NAMES || have + n > BCDI_SPEC_MAX_NAMES)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: more than %d motors", path, line_no,
                          BCDI_SPEC_MAX_NAMES);
    if (mnemonics && n != h->o_counts[index])
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s' line %zu: #o%ld holds %zu mnemonics, #O%ld holds %zu names", path,
                          line_no, index, n, index, h->o_counts[index]);
    char ***list = mnemonics ? &h->mnemonics : &h->names;
    char **grown = realloc(*list, (have + n + 1) * sizeof **list);
    if (!grown) return no_memory(path);
    *list = grown;
    for (size_t i = 0; i < n; ++i) {
        if (strlen(tokens[i]) >= 64)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s' line %zu: motor name '%.20s...' longer than "
                              "63 characters",
                              path, line_no, tokens[i]);
        if (!(grown[have + i] = strdup(tokens[i]))) return no_memory(path);
        if (mnemonics)
            h->mnemonic_count++;
        else
            h->name_count++;
    }
    if (mnemonics) {
        h->o_lines_mnemonic++;
    } else {
        h->o_counts[index] = n;
        h->o_lines++;
    }
    return BCDI_OK;
}

/* ---- open: index the file ------------------------------------------------------------------- */

void bcdi_spec_close(bcdi_spec_file *file)
{
    if (!file) return;
    if (file->f) fclose(file->f);
    for (size_t i = 0; i < file->header_count; ++i)
        header_free(&file->headers[i]);
    free(file->headers);
    for (size_t i = 0; i < file->scan_count; ++i)
        free(file->scans[i].command);
    free(file->scans);
    free(file->path);
    free(file);
}

static bcdi_status new_header(bcdi_spec_file *file)
{
    spec_header *h = realloc(file->headers, (file->header_count + 1) * sizeof *h);
    if (!h) return no_memory(file->path);
    file->headers = h;
    memset(&h[file->header_count++], 0, sizeof *h);
    return BCDI_OK;
}

/* "#S <number> <command>": number and command (blanks collapsed, bounded). */
static bcdi_status parse_s_line(const char *rest, const char *path, size_t line_no, long *number,
                                char **command)
{
    char numtext[32];
    size_t n = 0;
    while (rest[n] && !isspace((unsigned char)rest[n]) && n < sizeof numtext - 1) {
        numtext[n] = rest[n];
        n++;
    }
    numtext[n] = '\0';
    if (!bcdi_spec_parse_long(numtext, number) || *number < 0)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s' line %zu: #S field 1 ('%s'): expected a scan number (integer >= 0)",
                          path, line_no, numtext);
    const char *p = rest + n;
    if (strlen(p) > SPEC_MAX_COMMAND)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: scan command longer than %d bytes", path,
                          line_no, SPEC_MAX_COMMAND);
    char *cmd = malloc(strlen(p) + 1), *q = cmd;
    if (!cmd) return no_memory(path);
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p) break;
        if (q != cmd) *q++ = ' ';
        while (*p && !isspace((unsigned char)*p))
            *q++ = *p++;
    }
    *q = '\0';
    *command = cmd;
    return BCDI_OK;
}

bcdi_status bcdi_spec_open(const char *path, bcdi_spec_file **out)
{
    *out = NULL;
    if (!path) return bcdi_error(BCDI_ERR_INVALID_ARG, "SPEC: no path");
    bcdi_spec_file *file = calloc(1, sizeof *file);
    line_reader r = {0};
    if (!file || !(file->path = strdup(path)) || !(r.buf = malloc(BCDI_SPEC_MAX_LINE + 1))) {
        free(r.buf);
        bcdi_spec_close(file);
        return no_memory(path);
    }
    bcdi_status opened = bcdi_input_open(path, "SPEC file", 0, &file->f, NULL);
    if (opened != BCDI_OK) {
        bcdi_status st = opened;
        free(r.buf);
        bcdi_spec_close(file);
        return st;
    }
    r.f = file->f;
    r.path = file->path;
    bcdi_status st = new_header(file);
    int in_scan = 0, header_used = 0; /* a scan already refers to the current header */
    int got;
    while (st == BCDI_OK && (got = next_line(&r)) == 1) {
        if (r.len == 0) {
            in_scan = 0;
            continue;
        }
        if (r.buf[0] != '#') continue; /* data rows: read with their scan */
        char key[64];
        char *rest = (char *)split_key(r.buf, key, sizeof key);
        long oi = o_index(key, 'O'), oli = o_index(key, 'o');
        int file_key = !strcmp(key, "F") || !strcmp(key, "E") || oi >= 0 || oli >= 0;
        if (!strcmp(key, "S")) {
            if (file->scan_count >= BCDI_SPEC_MAX_SCANS) {
                st = bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: more than %d scans", path,
                                r.line_no, BCDI_SPEC_MAX_SCANS);
                break;
            }
            if (!grow((void **)&file->scans, &file->scan_capacity, file->scan_count + 1,
                      sizeof *file->scans)) {
                st = no_memory(path);
                break;
            }
            spec_entry *e = &file->scans[file->scan_count];
            memset(e, 0, sizeof *e);
            if ((st = parse_s_line(rest, path, r.line_no, &e->number, &e->command)) != BCDI_OK)
                break;
            e->line = r.line_no;
            e->offset = r.offset;
            e->header = file->header_count - 1;
            file->scan_count++;
            in_scan = 1;
            header_used = 1;
            continue;
        }
        if (in_scan && !file_key) continue; /* scan header lines: read with their scan */
        in_scan = 0;
        spec_header *h = &file->headers[file->header_count - 1];
        /* a new file header after scans (SPEC restarted, motors reconfigured); other lines
         * between scans (comments) do not change the header earlier scans refer to */
        int starts_block = !strcmp(key, "F") || !strcmp(key, "E") || (oi == 0 && h->o_lines);
        if (starts_block && (header_used || h->o_lines)) {
            if ((st = new_header(file)) != BCDI_OK) break;
            h = &file->headers[file->header_count - 1];
            header_used = 0;
        } else if (header_used) {
            continue;
        }
        if (oi >= 0)
            st = header_add_motors(h, oi, 0, rest, path, r.line_no);
        else if (oli >= 0)
            st = header_add_motors(h, oli, 1, rest, path, r.line_no);
        else
            st = add_line(&h->lines, &h->line_count, key, rest, path, r.line_no);
    }
    if (st == BCDI_OK && got < 0) st = r.status; /* detail set by next_line */
    free(r.buf);
    if (st == BCDI_OK && file->scan_count == 0)
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': no scan (#S line) in %zu lines: not a SPEC file?",
                        path, r.line_no);
    for (size_t i = 0; st == BCDI_OK && i < file->header_count; ++i) {
        spec_header *h = &file->headers[i];
        if (h->mnemonic_count && h->mnemonic_count != h->name_count)
            st = bcdi_error(BCDI_ERR_FORMAT,
                            "'%s': a file header has %zu motor names (#O) but %zu mnemonics (#o)",
                            path, h->name_count, h->mnemonic_count);
    }
    if (st != BCDI_OK) {
        bcdi_spec_close(file);
        return st;
    }
    *out = file;
    return BCDI_OK;
}

const char *bcdi_spec_path(const bcdi_spec_file *file)
{
    return file ? file->path : "";
}

size_t bcdi_spec_scan_count(const bcdi_spec_file *file)
{
    return file ? file->scan_count : 0;
}

bcdi_status bcdi_spec_scan_entry(const bcdi_spec_file *file, size_t index, long *number,
                                 const char **command)
{
    if (!file || index >= file->scan_count)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "SPEC: scan index %zu out of range (%zu scans)",
                          index, file ? file->scan_count : 0);
    if (number) *number = file->scans[index].number;
    if (command) *command = file->scans[index].command;
    return BCDI_OK;
}

/* ---- reading one scan ----------------------------------------------------------------------- */

void bcdi_spec_scan_free(bcdi_spec_scan *s)
{
    if (!s) return;
    header_free(&s->header);
    free(s->command);
    free(s->positions);
    free(s->position_known);
    for (size_t i = 0; i < s->line_count; ++i) {
        free(s->lines[i].key);
        free(s->lines[i].value);
    }
    free(s->lines);
    for (int i = 0; i < BCDI_SPEC_MAX_G_LINES; ++i)
        free(s->g[i]);
    free_strings(s->labels, s->column_count);
    free(s->data);
    free(s);
}

static bcdi_status copy_header(const spec_header *src, spec_header *dst, const char *path)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->o_counts, src->o_counts, sizeof dst->o_counts);
    dst->o_lines = src->o_lines;
    dst->o_lines_mnemonic = src->o_lines_mnemonic;
    bcdi_status st = BCDI_OK;
    for (size_t i = 0; i < src->line_count && st == BCDI_OK; ++i)
        st = add_line(&dst->lines, &dst->line_count, src->lines[i].key, src->lines[i].value, path,
                      0);
    if (st != BCDI_OK) return st;
    dst->names = calloc(src->name_count + 1, sizeof *dst->names);
    dst->mnemonics = calloc(src->mnemonic_count + 1, sizeof *dst->mnemonics);
    if (!dst->names || !dst->mnemonics) return no_memory(path);
    for (; dst->name_count < src->name_count; dst->name_count++)
        if (!(dst->names[dst->name_count] = strdup(src->names[dst->name_count])))
            return no_memory(path);
    for (; dst->mnemonic_count < src->mnemonic_count; dst->mnemonic_count++)
        if (!(dst->mnemonics[dst->mnemonic_count] = strdup(src->mnemonics[dst->mnemonic_count])))
            return no_memory(path);
    return BCDI_OK;
}

/* #P<i>: positions of the motors named by #O<i>. */
static bcdi_status parse_positions(bcdi_spec_scan *s, long index, char *rest, const char *path,
                                   size_t line_no)
{
    const spec_header *h = &s->header;
    if ((size_t)index >= h->o_lines)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #P%ld but the file header has no #O%ld",
                          path, line_no, index, index);
    char *tokens[BCDI_SPEC_MAX_NAMES + 1];
    size_t n = bcdi_spec_split_blanks(rest, tokens, BCDI_SPEC_MAX_NAMES);
    if (n != h->o_counts[index])
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s' line %zu: #P%ld holds %zu positions, #O%ld names %zu motors", path,
                          line_no, index, n, index, h->o_counts[index]);
    size_t first = 0;
    for (long i = 0; i < index; ++i)
        first += h->o_counts[i];
    for (size_t i = 0; i < n; ++i) {
        double v;
        if (!bcdi_spec_parse_finite(tokens[i], &v))
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s' line %zu: #P%ld field %zu (motor '%s') is '%.40s', expected "
                              "a finite number",
                              path, line_no, index, i + 1, h->names[first + i], tokens[i]);
        s->positions[first + i] = v;
        s->position_known[first + i] = 1;
    }
    return BCDI_OK;
}

/* #G<i>: a list of finite numbers. */
static bcdi_status parse_g(bcdi_spec_scan *s, const char *key, char *rest, const char *path,
                           size_t line_no)
{
    long index;
    if (!bcdi_spec_parse_long(key + 1, &index) || index < 0 || index >= BCDI_SPEC_MAX_G_LINES)
        return add_line(&s->lines, &s->line_count, key, rest, path, line_no);
    if (s->g[index])
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #G%ld given twice in one scan", path,
                          line_no, index);
    char *tokens[1025];
    size_t n = bcdi_spec_split_blanks(rest, tokens, 1024);
    if (n > 1024)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #G%ld holds more than 1024 values", path,
                          line_no, index);
    s->g[index] = malloc((n ? n : 1) * sizeof(double));
    if (!s->g[index]) return no_memory(path);
    for (size_t i = 0; i < n; ++i)
        if (!bcdi_spec_parse_finite(tokens[i], &s->g[index][i]))
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s' line %zu: #G%ld field %zu is '%.40s', expected a finite number",
                              path, line_no, index, i + 1, tokens[i]);
    s->g_count[index] = n;
    return BCDI_OK;
}

typedef struct {
    double *rows; /* row-major while reading */
    size_t count, capacity;
    long expected_columns; /* #N, -1 when absent */
} row_buffer;

static bcdi_status parse_data_row(bcdi_spec_scan *s, row_buffer *rb, char *line, const char *path,
                                  size_t line_no)
{
    if (!s->labels)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: data row before the #L column labels",
                          path, line_no);
    char *tokens[BCDI_SPEC_MAX_NAMES + 1];
    size_t n = bcdi_spec_split_blanks(line, tokens, BCDI_SPEC_MAX_NAMES);
    if (n != s->column_count)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s' line %zu: data row of %zu values, #L names %zu columns (truncated "
                          "or damaged line?)",
                          path, line_no, n > BCDI_SPEC_MAX_NAMES ? n - 1 : n, s->column_count);
    size_t need;
    if (rb->count >= BCDI_SPEC_MAX_POINTS || bcdi_ckd_mul(&need, rb->count + 1, s->column_count) ||
        need > BCDI_SPEC_MAX_VALUES)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: scan %ld exceeds %d points or %u values",
                          path, line_no, s->number, BCDI_SPEC_MAX_POINTS, BCDI_SPEC_MAX_VALUES);
    if (!grow((void **)&rb->rows, &rb->capacity, need, sizeof(double))) return no_memory(path);
    double *row = rb->rows + rb->count * s->column_count;
    for (size_t i = 0; i < n; ++i)
        if (!bcdi_spec_parse_finite(tokens[i], &row[i]))
            return bcdi_error(
                BCDI_ERR_FORMAT,
                "'%s' line %zu: field %zu (column '%s') is '%.40s', expected a finite "
                "number",
                path, line_no, i + 1, s->labels[i], tokens[i]);
    rb->count++;
    return BCDI_OK;
}

static bcdi_status parse_labels(bcdi_spec_scan *s, const row_buffer *rb, char *rest,
                                const char *path, size_t line_no)
{
    if (s->labels)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: a second #L line in scan %ld", path,
                          line_no, s->number);
    char *tokens[BCDI_SPEC_MAX_NAMES + 1];
    size_t expected = rb->expected_columns > 0 ? (size_t)rb->expected_columns : 0;
    size_t n = split_labels(rest, tokens, BCDI_SPEC_MAX_NAMES, expected);
    if (n == 0 || n > BCDI_SPEC_MAX_NAMES)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #L names %s columns", path, line_no,
                          n ? "too many" : "no");
    if (expected && n != expected)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #L names %zu columns, #N says %zu", path,
                          line_no, n, expected);
    s->labels = calloc(n, sizeof *s->labels);
    if (!s->labels) return no_memory(path);
    for (size_t i = 0; i < n; ++i) {
        if (!(s->labels[i] = strdup(tokens[i]))) return no_memory(path);
        s->column_count = i + 1;
    }
    return BCDI_OK;
}

/* One '#' line of a scan block. */
static bcdi_status parse_scan_hash_line(bcdi_spec_scan *s, row_buffer *rb, char *line,
                                        const char *path, size_t line_no)
{
    char key[64];
    char *rest = (char *)split_key(line, key, sizeof key);
    if (key[0] == 'P' && isdigit((unsigned char)key[1])) {
        long index;
        if (!bcdi_spec_parse_long(key + 1, &index) || index < 0 || index >= SPEC_MAX_O_LINES)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: bad motor line key '#%s'", path,
                              line_no, key);
        return parse_positions(s, index, rest, path, line_no);
    }
    if (key[0] == 'G' && isdigit((unsigned char)key[1]))
        return parse_g(s, key, rest, path, line_no);
    if (!strcmp(key, "Q")) {
        char *tokens[4];
        size_t n = bcdi_spec_split_blanks(rest, tokens, 3);
        if (n == 0) return BCDI_OK; /* "#Q" alone: no diffractometer */
        if (n != 3)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s' line %zu: #Q holds %zu values, expected H K L",
                              path, line_no, n > 3 ? n - 1 : n);
        for (int i = 0; i < 3; ++i)
            if (!bcdi_spec_parse_finite(tokens[i], &s->q[i]))
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s' line %zu: #Q field %d is '%.40s', expected a finite number",
                                  path, line_no, i + 1, tokens[i]);
        s->has_q = 1;
        return BCDI_OK;
    }
    if (!strcmp(key, "N")) {
        char *tokens[2];
        long v;
        if (bcdi_spec_split_blanks(rest, tokens, 1) != 1 || !bcdi_spec_parse_long(tokens[0], &v) ||
            v <= 0 || v > BCDI_SPEC_MAX_NAMES)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s' line %zu: #N is '%.40s', expected a column count 1..%d", path,
                              line_no, rest, BCDI_SPEC_MAX_NAMES);
        rb->expected_columns = v;
        return BCDI_OK;
    }
    if (!strcmp(key, "L")) return parse_labels(s, rb, rest, path, line_no);
    return add_line(&s->lines, &s->line_count, key, rest, path, line_no);
}

bcdi_status bcdi_spec_read_scan_at(bcdi_spec_file *file, size_t index, bcdi_spec_scan **out)
{
    *out = NULL;
    if (!file || index >= file->scan_count)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "SPEC: scan index %zu out of range", index);
    const spec_entry *e = &file->scans[index];
    const char *path = file->path;
    bcdi_spec_scan *s = calloc(1, sizeof *s);
    if (!s) return no_memory(path);
    s->number = e->number;
    snprintf(s->where, sizeof s->where, "'%.400s' scan %ld (line %zu)", path, e->number, e->line);
    bcdi_status st = copy_header(&file->headers[e->header], &s->header, path);
    size_t motors = s->header.name_count;
    if (st == BCDI_OK) {
        s->command = strdup(e->command);
        s->positions = calloc(motors + 1, sizeof *s->positions);
        s->position_known = calloc(motors + 1, 1);
        if (!s->command || !s->positions || !s->position_known) st = no_memory(path);
    }
    line_reader r = {.f = file->f, .path = path, .line_no = e->line - 1};
    row_buffer rb = {.expected_columns = -1};
    if (st == BCDI_OK && !(r.buf = malloc(BCDI_SPEC_MAX_LINE + 1))) st = no_memory(path);
    if (st == BCDI_OK && fseeko(file->f, (off_t)e->offset, SEEK_SET) != 0)
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot seek to scan %ld: %s", path, e->number,
                        strerror(errno));
    int got = 0, first = 1;
    while (st == BCDI_OK && (got = next_line(&r)) == 1) {
        if (first) { /* the #S line itself */
            first = 0;
            continue;
        }
        if (r.len == 0) break;
        if (r.buf[0] == '#') {
            char key[64];
            split_key(r.buf, key, sizeof key);
            if (!strcmp(key, "S") || !strcmp(key, "F") || !strcmp(key, "E") ||
                o_index(key, 'O') >= 0 || o_index(key, 'o') >= 0)
                break; /* the next scan or a new file header */
            st = parse_scan_hash_line(s, &rb, r.buf, path, r.line_no);
        } else {
            st = parse_data_row(s, &rb, r.buf, path, r.line_no);
        }
    }
    if (st == BCDI_OK && got < 0) st = r.status;
    free(r.buf);
    if (st == BCDI_OK && rb.count) {
        size_t values = rb.count * s->column_count; /* bounded when read */
        s->data = malloc(values * sizeof *s->data);
        if (!s->data) {
            st = no_memory(path);
        } else {
            for (size_t p = 0; p < rb.count; ++p)
                for (size_t c = 0; c < s->column_count; ++c)
                    s->data[c * rb.count + p] = rb.rows[p * s->column_count + c];
            s->points = rb.count;
        }
    }
    free(rb.rows);
    if (st != BCDI_OK) {
        bcdi_spec_scan_free(s);
        return st;
    }
    *out = s;
    return BCDI_OK;
}

bcdi_status bcdi_spec_read_scan(bcdi_spec_file *file, long number, bcdi_spec_scan **out)
{
    *out = NULL;
    if (!file) return bcdi_error(BCDI_ERR_INVALID_ARG, "SPEC: no file");
    for (size_t i = 0; i < file->scan_count; ++i)
        if (file->scans[i].number == number) return bcdi_spec_read_scan_at(file, i, out);
    long lo = file->scans[0].number, hi = lo;
    for (size_t i = 1; i < file->scan_count; ++i) {
        if (file->scans[i].number < lo) lo = file->scans[i].number;
        if (file->scans[i].number > hi) hi = file->scans[i].number;
    }
    return bcdi_error(BCDI_ERR_FORMAT, "'%s': no scan %ld (%zu scans, numbers %ld to %ld)",
                      file->path, number, file->scan_count, lo, hi);
}
