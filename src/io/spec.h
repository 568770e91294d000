/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC data files (certif.com SPEC, written at APS 34-ID-C and many other beamlines): a text log
 * of scans. The reader indexes the file once (file headers and #S lines) and parses one scan on
 * request.
 *
 * What a SPEC file holds (the lines this reader understands):
 *   file header  #F file name, #E epoch, #D date, #C comment, #O<i> motor names (two spaces
 *                apart: names may hold single spaces), #o<i> motor mnemonics, #J/#j counters;
 *                a later header (after a restart) replaces the motor names for the scans below
 *   scan         #S <number> <command>, #D date, #T/#M count time or monitor, #G<i> geometry
 *                values of SPEC's diffractometer (#G4 of fourc/sixc/psic begins with H K L and
 *                SPEC's own wavelength), #Q H K L, #P<i> motor positions at the scan's start
 *                (same order as #O<i>), #U... user lines (areaDetector, etc.), #N column count,
 *                #L column labels (two spaces apart), then one data row per point
 *   skipped      @A MCA spectra (and their '\' continuation lines), #@ MCA headers
 * A scan ends at a blank line, the next #S, or a new file header.
 *
 * Hostile input is refused with BCDI_ERR_FORMAT naming the file, line and field: a line longer
 * than BCDI_SPEC_MAX_LINE (MCA lines excepted, they are skipped), a NUL byte, a number that is
 * not a complete finite decimal (nan, inf, 1e999, "12abc"), a row whose value count differs
 * from #L, #P/#o lines whose counts differ from #O, and counts beyond the limits below. */
#ifndef BCDI_IO_SPEC_H
#define BCDI_IO_SPEC_H

#include "bcdi/error.h"

#include <stddef.h>

#define BCDI_SPEC_MAX_LINE 65536        /* bytes of one line, newline excluded */
#define BCDI_SPEC_MAX_SCANS 1000000     /* #S lines in one file */
#define BCDI_SPEC_MAX_NAMES 4096        /* motors of one header, columns of one scan */
#define BCDI_SPEC_MAX_HEADER_LINES 4096 /* '#' lines of one file header or one scan header */
#define BCDI_SPEC_MAX_G_LINES 32        /* #G0 .. #G31 */
#define BCDI_SPEC_MAX_POINTS 10000000   /* data rows of one scan */
#define BCDI_SPEC_MAX_VALUES (1u << 27) /* data values of one scan (1 GiB of doubles) */

typedef struct bcdi_spec_file bcdi_spec_file;
typedef struct bcdi_spec_scan bcdi_spec_scan;

/* Index `path`: every file header and #S line. BCDI_ERR_IO if it cannot be read,
 * BCDI_ERR_FORMAT (file and line named) if a header or #S line is malformed or no scan exists. */
bcdi_status bcdi_spec_open(const char *path, bcdi_spec_file **out);
void bcdi_spec_close(bcdi_spec_file *file);
const char *bcdi_spec_path(const bcdi_spec_file *file);

/* Scans in file order; a number may repeat (SPEC restarted): bcdi_spec_read_scan takes the
 * first, bcdi_spec_read_scan_at any. `command` (may be NULL) points into the index. */
size_t bcdi_spec_scan_count(const bcdi_spec_file *file);
bcdi_status bcdi_spec_scan_entry(const bcdi_spec_file *file, size_t index, long *number,
                                 const char **command);
/* Parse scan `number` (its first occurrence): BCDI_ERR_FORMAT "no scan N" when absent. */
bcdi_status bcdi_spec_read_scan(bcdi_spec_file *file, long number, bcdi_spec_scan **out);
bcdi_status bcdi_spec_read_scan_at(bcdi_spec_file *file, size_t index, bcdi_spec_scan **out);
void bcdi_spec_scan_free(bcdi_spec_scan *scan);

long bcdi_spec_scan_number(const bcdi_spec_scan *scan);
/* The command after the scan number, blanks collapsed ("ascan th -0.279996 0.720004 200 0.25"). */
const char *bcdi_spec_scan_command(const bcdi_spec_scan *scan);
/* "'<path>' scan <N> (line <L>)": for messages. */
const char *bcdi_spec_scan_where(const bcdi_spec_scan *scan);

/* Motors of the scan's file header with their #P positions. Lookup takes a name (#O) or a
 * mnemonic (#o), exact first, then a case-insensitive name. find returns 1 when found (0, and
 * nothing set, when absent); bcdi_spec_motor returns BCDI_ERR_FORMAT naming the scan instead. */
size_t bcdi_spec_motor_count(const bcdi_spec_scan *scan);
bcdi_status bcdi_spec_motor_at(const bcdi_spec_scan *scan, size_t index, const char **name,
                               const char **mnemonic, double *position);
int bcdi_spec_find_motor(const bcdi_spec_scan *scan, const char *name, double *position);
bcdi_status bcdi_spec_motor(const bcdi_spec_scan *scan, const char *name, double *position);

/* The motor a scan command moves (its first motor for a2scan/a3scan/mesh). */
typedef struct bcdi_spec_motion {
    char kind[16];              /* ascan, dscan, lup, a2scan, d2scan, a3scan, d3scan, mesh, dmesh */
    char mnemonic[64];          /* as written in the command */
    char name[64];              /* its #O name ("" when the header has no such motor) */
    int relative;               /* dscan, lup, d2scan, d3scan, dmesh: start/stop relative to the
                                 * #P position, which is where the scan started */
    double start, stop;         /* as written in the command */
    double start_abs, stop_abs; /* absolute; equal to start/stop unless relative */
    int absolute_known;         /* 0: relative scan of a motor with no #P position */
    long intervals;             /* of this motor (points - 1 for a one-motor scan) */
    size_t points;              /* points the command asks for (all motors of a mesh) */
    double step;                /* (stop - start) / intervals, signed */
    double count_time;          /* last number of the command (s, or monitor counts if < 0) */
} bcdi_spec_motion;

/* BCDI_ERR_UNSUPPORTED for commands that move no motor or that this reader does not know
 * (timescan, loopscan, hklscan, th2th, ...), naming the command; BCDI_ERR_FORMAT for a known
 * command with missing or non-numeric arguments. */
bcdi_status bcdi_spec_scan_motion(const bcdi_spec_scan *scan, bcdi_spec_motion *out);

/* Data columns (#L order) and rows. column() matches the label exactly, then case-insensitively;
 * values points into the scan (count = points read). */
size_t bcdi_spec_column_count(const bcdi_spec_scan *scan);
size_t bcdi_spec_point_count(const bcdi_spec_scan *scan);
const char *bcdi_spec_column_label(const bcdi_spec_scan *scan, size_t index);
bcdi_status bcdi_spec_column(const bcdi_spec_scan *scan, const char *label, const double **values,
                             size_t *count);

/* #G<index> values; returns 1 when present (values point into the scan), else 0. */
int bcdi_spec_geometry_values(const bcdi_spec_scan *scan, int index, const double **values,
                              size_t *count);
/* #Q H K L; 1 when present. */
int bcdi_spec_q(const bcdi_spec_scan *scan, double hkl[3]);
/* Text after "#<key>" (leading blanks skipped) of the first '#' line of the scan whose key is
 * exactly `key` ("UIMR5", "UIMDET", "T", "C"), else of its file header ("F", "E", "D", "C");
 * NULL when neither has it. */
const char *bcdi_spec_header(const bcdi_spec_scan *scan, const char *key);

#endif
