/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi batch`: a series of scans from one manifest (docs/hpc.md).
 *
 * The manifest is an INI file: [prepare], [phase], [analyze] and [compare] sections hold the
 * keys of those subcommands (the same tables, the same checks), [batch] the batch's own keys,
 * and one [scan LABEL] section per state with `input = PATH` (relative to the manifest),
 * optional `voltage = 2.7`, and per-scan overrides `prepare.KEY = value`, `phase.KEY = value`,
 * `analyze.KEY = value`. Paths in the keys that name files (prepare's mask_file, dark_file,
 * flat_file, spec, phase's support_file; not `none`) are also relative to the manifest. Keys are
 * checked against their stage's table when the configurations are built (bcdi_batch_stage_config),
 * before any scan runs; errors name the file, line, section and key.
 *
 * Layout of OUTDIR: LABEL/prepared.cxi (+ LABEL/prepared_summary.json), LABEL/result.cxi,
 * LABEL/analysis/, comparison/ and status.json. status.json records, per scan and step, the
 * state, error, start and end times, host and rank, and three hashes (core/hash.h): of the
 * step's keys, of its input, and of its output. A rerun skips a step whose record is `done`, whose
 * keys and input hash the same, and whose output still hashes as recorded; anything else runs
 * it again, and the steps after it see a new input hash. This module holds the manifest, the
 * records and the decisions; src/cli/cmd_batch.c runs the steps. */
#ifndef BCDI_HPC_BATCH_H
#define BCDI_HPC_BATCH_H

#include "bcdi/config.h"
#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    BCDI_BATCH_PREPARE = 0,
    BCDI_BATCH_PHASE,
    BCDI_BATCH_ANALYZE,
    BCDI_BATCH_COMPARE,
    BCDI_BATCH_STAGES
} bcdi_batch_stage;

/* Per-scan steps: prepare, phase, analyze (compare runs once, across the scans). */
#define BCDI_BATCH_SCAN_STEPS 3

const char *bcdi_batch_stage_name(bcdi_batch_stage stage);

/* One `key = value` of the manifest (or of the command line) with where it came from. */
typedef struct bcdi_batch_setting {
    bcdi_batch_stage stage;
    char *key, *value;
    char *origin; /* "series.ini:12 [phase]", "command line" */
} bcdi_batch_setting;

typedef struct bcdi_batch_scan {
    char label[64];
    char *input;    /* as resolved against the manifest's folder */
    double voltage; /* NaN when not given */
    bcdi_batch_setting *overrides;
    size_t override_count;
    int line; /* of its [scan LABEL] header */
} bcdi_batch_scan;

/* The batch's own keys ([batch] section, batch.KEY=value on the command line). */
typedef struct bcdi_batch_params {
    long ranks_per_scan; /* under MPI: ranks sharing one scan's runs; 0 = all ranks */
    char scan[64];       /* "" = every scan; a label or a 1-based position: that scan alone,
                          * recorded in OUTDIR/status.LABEL.json, no compare (job arrays) */
} bcdi_batch_params;
const bcdi_param_table *bcdi_batch_param_table(void);

typedef struct bcdi_batch_manifest {
    char *path;                   /* as given */
    char *folder;                 /* its folder, for relative paths */
    bcdi_batch_setting *settings; /* of the stage sections, in file order */
    size_t setting_count;
    bcdi_batch_setting *batch_settings; /* of [batch] */
    size_t batch_setting_count;
    bcdi_batch_scan *scans; /* in manifest order */
    size_t scan_count;
    bcdi_batch_setting *command_line; /* STAGE.KEY=value given to batch: applied last */
    size_t command_line_count;
} bcdi_batch_manifest;

/* Read and check the manifest's structure: sections, labels (letters, digits, '.', '_', '-',
 * '+', at most 63, unique, not `comparison`), one `input` per scan, voltages, the form of
 * per-scan overrides. Keys themselves are checked by bcdi_batch_stage_config. */
bcdi_status bcdi_batch_manifest_read(const char *path, bcdi_batch_manifest *out);
void bcdi_batch_manifest_free(bcdi_batch_manifest *m);

/* "STAGE.KEY=value" from the command line into m (applied after the manifest, to every scan).
 * BCDI_ERR_CONFIG when it has no known stage or no '='. */
bcdi_status bcdi_batch_add_override(bcdi_batch_manifest *m, const char *assignment);

/* The configuration of `stage` for scan `scan` (SIZE_MAX: the stage's sections only, for
 * compare) over `specs` (the stage's table; compare: its keys then analyze's, whose [analyze]
 * values apply below [compare]'s): the table's defaults < the [stage] section < the scan's
 * overrides < the command line. Keys that batch sets itself (prepare's output and summary_json)
 * are refused. The caller sets those, then binds (bcdi_config_bind) and frees *cfg. */
bcdi_status bcdi_batch_stage_config(const bcdi_batch_manifest *m, size_t scan,
                                    bcdi_batch_stage stage, const bcdi_param_spec *specs,
                                    size_t spec_count, bcdi_config **cfg);
/* [batch] keys < batch.KEY on the command line. */
bcdi_status bcdi_batch_params_load(const bcdi_batch_manifest *m, bcdi_batch_params *params);

/* The hash of a merged configuration: every key with its value, in table order, except the
 * keys that do not change what a step computes (phase's checkpoint_interval and restart). */
uint64_t bcdi_batch_keys_hash(const char *stage, const bcdi_config *cfg);

/* ---- records (status.json) ---- */

typedef enum {
    BCDI_BATCH_PENDING = 0,
    BCDI_BATCH_RUNNING,
    BCDI_BATCH_DONE,
    BCDI_BATCH_FAILED,
    BCDI_BATCH_INTERRUPTED /* stopped by a signal; a rerun resumes it (phase: its checkpoint) */
} bcdi_batch_state;

const char *bcdi_batch_state_name(bcdi_batch_state state);

typedef struct bcdi_batch_record {
    bcdi_batch_state state;
    int skipped;             /* done by an earlier run: inputs, keys and outputs unchanged */
    char error[2048];        /* "" unless failed or interrupted */
    char start[32], end[32]; /* UTC, ISO 8601; "" until known */
    char host[128];
    int rank;
    uint64_t keys_hash, input_hash, output_hash; /* 0 = not known */
} bcdi_batch_record;

typedef struct bcdi_batch_status {
    char manifest[4096], output[4096];
    char started[32], updated[32];
    size_t scan_count;
    char (*labels)[64];
    char **inputs;
    double *voltages;
    bcdi_batch_record (*steps)[BCDI_BATCH_SCAN_STEPS]; /* per scan */
    bcdi_batch_record compare;
    char (*compared)[64]; /* labels of the scans compared, in manifest order */
    size_t compared_count;
    char compare_reference[64];
} bcdi_batch_status;

/* Every scan pending, labels and inputs from the manifest. */
bcdi_status bcdi_batch_status_init(bcdi_batch_status *s, const bcdi_batch_manifest *m,
                                   const char *output_dir);
void bcdi_batch_status_free(bcdi_batch_status *s);
/* Write status.json atomically (even after a signal asked to stop: it records the stop). */
bcdi_status bcdi_batch_status_write(bcdi_batch_status *s, const char *path);
/* The records of earlier runs into `previous` (laid out like bcdi_batch_status_init's): those of
 * OUTDIR/status.json, and for each scan those of OUTDIR/status.LABEL.json (a job array's task)
 * when that file is newer. *found is 0 when neither exists. A file that cannot be read as a
 * status is an error naming it. */
bcdi_status bcdi_batch_status_read_previous(const bcdi_batch_manifest *m, const char *output_dir,
                                            bcdi_batch_status *previous, int *found);
/* OUTDIR/status.json, or OUTDIR/status.LABEL.json for one scan of a job array (label NULL: the
 * whole batch's). */
void bcdi_batch_status_path(const char *output_dir, const char *label, char *out, size_t cap);
/* The record of scan `label`'s `step` in s (compare: step BCDI_BATCH_COMPARE, label ignored),
 * or NULL. */
const bcdi_batch_record *bcdi_batch_status_find(const bcdi_batch_status *s, const char *label,
                                                bcdi_batch_stage step);
/* 1 when a step may be skipped: `previous` is done with these keys and input hashes and the
 * output hashes now as it did then. */
int bcdi_batch_is_current(const bcdi_batch_record *previous, uint64_t keys_hash,
                          uint64_t input_hash, uint64_t output_hash_now);
/* The overall state of scan k: failed or interrupted if a step is, done if every step is,
 * running if one is, else pending. */
bcdi_batch_state bcdi_batch_scan_state(const bcdi_batch_status *s, size_t k);
/* "2026-12-03T10:15:00Z" (UTC, now). */
void bcdi_batch_now(char text[32]);

/* One record as JSON text and back (malloc'd; for ranks that send their records to the rank
 * that writes status.json). */
char *bcdi_batch_record_dump(const bcdi_batch_record *r);
bcdi_status bcdi_batch_record_load(const char *text, bcdi_batch_record *r);

#endif
