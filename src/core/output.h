/* SPDX-License-Identifier: BSD-3-Clause */
/* Output transactions: the one way braggcdi puts a file or a folder on disk (docs/security.md).
 *
 *   - Each output is written to a temporary created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, or
 *     mkdir for a folder) in the target's own folder, under an unpredictable name that carries an
 *     unmistakable mark: "<folder>/.<name>.braggcdi-tmp-XXXXXX". A symlink planted at any name
 *     is never followed; the mode is the umask's (0666 & ~umask for files, 0777 & ~umask for
 *     folders), as for a plain create.
 *   - On commit every file is flushed and fsync'd, then all are renamed onto their final names,
 *     then the folders holding them are fsync'd. A transaction with several outputs (phase
 *     keep > 1, analyze and compare folders, prepare's CXI + summary JSON) appears all together
 *     or not at all: nothing is renamed before everything is written, and a failure removes
 *     every temporary (and undoes renames already made).
 *   - An existing target that is not a regular file (a device such as /dev/null, a FIFO, a
 *     symlink, a folder; for folder outputs: anything but a real folder) is refused, and so is
 *     an output that resolves to an input of the run (same device and inode).
 *   - A transaction committed after a signal asked to stop (core/interrupt.h) is aborted and
 *     returns BCDI_ERR_INTERRUPTED.
 * Single-file writers take a `bcdi_output *tx`: NULL makes them run (and commit) their own. */
#ifndef BCDI_CORE_OUTPUT_H
#define BCDI_CORE_OUTPUT_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdio.h>

/* Every temporary's name contains this; readers that list folders skip such names. */
#define BCDI_OUTPUT_TEMP_MARK ".braggcdi-tmp-"

typedef enum { BCDI_OUTPUT_FILE = 0, BCDI_OUTPUT_FOLDER = 1 } bcdi_output_kind;

/* ---- checks (the CLI runs them right after parsing its arguments, before any work) ---- */

/* Record an input of this run (process-wide; files or folders; paths that do not exist are
 * ignored). Outputs that resolve to a recorded input are refused. NULL or "" is a no-op. */
void bcdi_output_add_input(const char *path);
/* Forget every recorded input (tests, and programs that run several jobs). */
void bcdi_output_clear_inputs(void);
/* The output's folder exists, is a folder and is writable; an existing target is a regular file
 * (a real folder for BCDI_OUTPUT_FOLDER); it is not an input of the run. Errors name the path
 * and say what was found. */
bcdi_status bcdi_output_check(const char *path, bcdi_output_kind kind);
/* 1 when two output names denote the same file (same inode, or the same resolved folder and
 * name for paths that do not exist yet). */
int bcdi_output_same(const char *a, const char *b);
/* 1 when a file name carries BCDI_OUTPUT_TEMP_MARK (a temporary of an interrupted run). */
int bcdi_output_is_temp_name(const char *name);

/* ---- transactions ---- */

typedef struct bcdi_output bcdi_output;

bcdi_status bcdi_output_begin(bcdi_output **tx);
/* Declare a folder output. A missing folder is made as a temporary folder and renamed into place
 * on commit (the folder appears complete); in an existing folder each file is staged on its
 * own. Files staged later under `dir/` belong to it. */
bcdi_status bcdi_output_folder(bcdi_output *tx, const char *dir);
/* Stage a file and open its temporary for writing. The transaction owns the stream: write to
 * it, never fclose it; commit flushes, checks and closes it (a full disk is reported there),
 * abort closes and removes it. */
bcdi_status bcdi_output_fopen(bcdi_output *tx, const char *final_path, FILE **stream);
/* Stage a file and return a descriptor open for writing on its temporary; the caller closes it
 * (e.g. libtiff's TIFFClose) before commit. */
bcdi_status bcdi_output_open(bcdi_output *tx, const char *final_path, int *fd);
/* Stage a file created by a library that opens files by name (HDF5): `create` is called with
 * a fresh temporary name and must create it exclusively; it returns 0 when created, EEXIST when
 * the name was taken (another name is tried), anything else on failure (with bcdi_error set).
 * The caller closes its handle before commit. */
typedef int (*bcdi_output_create_fn)(const char *temp_path, void *user);
bcdi_status bcdi_output_create(bcdi_output *tx, const char *final_path,
                               bcdi_output_create_fn create, void *user);
/* Temporary name of a staged file (NULL if not staged): for messages and tests. */
const char *bcdi_output_temp_path(const bcdi_output *tx, const char *final_path);
/* Mark a transaction that records a run being stopped (a phase checkpoint, a batch's status):
 * its commit goes ahead after a signal asked to stop, where any other is aborted. */
void bcdi_output_despite_interrupt(bcdi_output *tx);
/* Write out and rename everything (see above); frees tx in every case. */
bcdi_status bcdi_output_commit(bcdi_output *tx);
/* Remove every temporary; frees tx. NULL is a no-op. */
void bcdi_output_abort(bcdi_output *tx);
/* For single-file writers given an optional tx: stage path in tx, or, when tx is NULL, in a new
 * transaction returned in *own (NULL otherwise) that the writer ends with bcdi_output_finish.
 * On failure nothing is staged and *own is NULL. */
bcdi_status bcdi_output_stream(bcdi_output *tx, bcdi_output **own, const char *path, FILE **stream);
/* For writers that ran their own transaction (own != NULL): commit it when status is BCDI_OK,
 * else abort it; returns the resulting status. With own == NULL returns status unchanged. */
bcdi_status bcdi_output_finish(bcdi_output *own, bcdi_status status);

#endif
