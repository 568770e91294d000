/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the tests: deterministic host random data, error norms, temporary folders,
 * running the braggcdi executable. */
#ifndef BCDI_TEST_UTIL_H
#define BCDI_TEST_UTIL_H

#include "voxel_ops.h"

#include <stddef.h>
#include <stdint.h>

/* Host uniforms in [lo, hi) from Philox (independent of the backends under test). */
void tu_fill_uniform(float *x, size_t count, uint64_t seed, float lo, float hi);
void tu_fill_complex(bcdi_cf *x, size_t count, uint64_t seed);

/* max |a-b| / max |b| over complex arrays. */
double tu_rel_max_err_cf(const bcdi_cf *a, const bcdi_cf *b, size_t count);
double tu_rel_max_err_f(const float *a, const float *b, size_t count);

/* mkdtemp under /tmp; returns a static-lifetime string the caller frees. */
char *tu_make_temp_dir(const char *tag);
void tu_remove_tree(const char *path);
int tu_file_exists(const char *path);
/* Whole file as a NUL-terminated string (malloc'd), NULL if it cannot be read. */
char *tu_read_text(const char *path);
/* Write `text` as the whole file; 0, or -1 when it cannot be written. */
int tu_write_text(const char *path, const char *text);
/* "<folder>/<name>" in one of 16 rotating static buffers (valid for the next 15 calls). */
const char *tu_join(const char *folder, const char *name);
/* Count entries of a folder (excluding . and ..). */
int tu_count_entries(const char *dir);
/* Count the entries whose name contains `part` (-1 when the folder cannot be read). */
int tu_count_named(const char *dir, const char *part);

/* Run "braggcdi <args>" through /bin/sh; stdout+stderr into *output (malloc'd).
 * Returns the exit status (or -1). */
int tu_run_braggcdi(const char *args, char **output);
/* Render dir/index.html in headless chromium, offline (the reports of compare and phase): 1 with
 * *dom the rendered DOM (free it) and *screenshot_bytes the size of a 1200x1600 screenshot; 0
 * when chromium is not installed; -1 when it failed. Its files go in dir and are removed. */
int tu_render_in_chromium(const char *dir, char **dom, long *screenshot_bytes);

/* Start "braggcdi <args>" in the background (stdout and stderr to log) and return its pid (-1
 * on failure); with `plant`, plant(pid) runs before braggcdi starts (the shell execs, keeping
 * the pid). */
int tu_start_braggcdi(const char *args, const char *log, void (*plant)(int pid));
/* Exit status of a started run; -signal when it was killed by one. */
int tu_finish(int pid);
/* 1 once the file holds `text` (polled every 20 ms), 0 after timeout_s seconds. */
int tu_wait_for_text(const char *path, const char *text, double timeout_s);

/* A 32^3 prepared CXI file (simulator intensities, Poisson counts of 1e8 photons, a masked
 * column plane, geometry); poison 1 puts a NaN in it, 2 makes it all zero. 0 on success (else
 * bcdi_last_error() says why). */
int tu_write_prepared(const char *path, int poison);

#endif
