/* SPDX-License-Identifier: BSD-3-Clause */
/* status.json of a batch (batch.h): the records of every scan's steps and of compare, written
 * atomically as the batch goes, and read back by a rerun to decide what to skip. */
/* realpath() is an X/Open extension */
#define _XOPEN_SOURCE 700
#include "hpc/batch.h"

#include "core/hash.h"
#include "core/output.h"
#include "io/json.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const state_names[] = {"pending", "running", "done", "failed", "interrupted"};

const char *bcdi_batch_state_name(bcdi_batch_state state)
{
    return (unsigned)state < 5 ? state_names[state] : "?";
}

static int state_from_name(const char *name)
{
    for (int k = 0; k < 5; ++k)
        if (name && !strcmp(name, state_names[k])) return k;
    return -1;
}

void bcdi_batch_now(char text[32])
{
    time_t t = time(NULL);
    struct tm utc;
    gmtime_r(&t, &utc);
    strftime(text, 32, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

bcdi_status bcdi_batch_status_init(bcdi_batch_status *s, const bcdi_batch_manifest *m,
                                   const char *output_dir)
{
    memset(s, 0, sizeof *s);
    /* absolute where they resolve: the status is read from anywhere */
    char resolved[PATH_MAX];
    snprintf(s->manifest, sizeof s->manifest, "%s",
             realpath(m->path, resolved) ? resolved : m->path);
    snprintf(s->output, sizeof s->output, "%s",
             realpath(output_dir, resolved) ? resolved : output_dir);
    bcdi_batch_now(s->started);
    snprintf(s->updated, sizeof s->updated, "%s", s->started);
    size_t n = m->scan_count;
    s->scan_count = n;
    s->labels = calloc(n, sizeof *s->labels);
    s->inputs = calloc(n, sizeof *s->inputs);
    s->voltages = calloc(n, sizeof *s->voltages);
    s->steps = calloc(n, sizeof *s->steps);
    s->compared = calloc(n, sizeof *s->compared);
    if (!s->labels || !s->inputs || !s->voltages || !s->steps || !s->compared) {
        bcdi_batch_status_free(s);
        return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory for the status");
    }
    for (size_t k = 0; k < n; ++k) {
        snprintf(s->labels[k], sizeof s->labels[k], "%s", m->scans[k].label);
        const char *input = m->scans[k].input;
        s->inputs[k] = strdup(realpath(input, resolved) ? resolved : input);
        s->voltages[k] = m->scans[k].voltage;
        if (!s->inputs[k]) {
            bcdi_batch_status_free(s);
            return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory for the status");
        }
    }
    return BCDI_OK;
}

void bcdi_batch_status_free(bcdi_batch_status *s)
{
    for (size_t k = 0; s->inputs && k < s->scan_count; ++k)
        free(s->inputs[k]);
    free(s->labels);
    free(s->inputs);
    free(s->voltages);
    free(s->steps);
    free(s->compared);
    memset(s, 0, sizeof *s);
}

static json_t *hash_value(uint64_t h)
{
    if (!h) return json_null();
    char text[17];
    bcdi_hash_format(h, text);
    return json_string(text);
}

static uint64_t hash_from(json_t *value)
{
    const char *text = json_is_string(value) ? json_string_value(value) : NULL;
    if (!text || strlen(text) != 16) return 0;
    char *end = NULL;
    uint64_t h = strtoull(text, &end, 16);
    return end && *end == '\0' ? h : 0;
}

static json_t *maybe_text(const char *text)
{
    return text[0] ? bcdi_json_text(text) : json_null();
}

static json_t *record_json(const bcdi_batch_record *r, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    bcdi_json_put(o, "state", json_string(bcdi_batch_state_name(r->state)), ok);
    bcdi_json_put(o, "skipped", json_boolean(r->skipped), ok);
    bcdi_json_put(o, "error", maybe_text(r->error), ok);
    bcdi_json_put(o, "start", maybe_text(r->start), ok);
    bcdi_json_put(o, "end", maybe_text(r->end), ok);
    bcdi_json_put(o, "host", maybe_text(r->host), ok);
    bcdi_json_put(o, "rank", r->host[0] ? json_integer(r->rank) : json_null(), ok);
    bcdi_json_put(o, "keys_hash", hash_value(r->keys_hash), ok);
    bcdi_json_put(o, "input_hash", hash_value(r->input_hash), ok);
    bcdi_json_put(o, "output_hash", hash_value(r->output_hash), ok);
    return o;
}

static void copy_text(char *dst, size_t cap, json_t *value)
{
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    snprintf(dst, cap, "%s", text);
}

static int record_from(json_t *o, bcdi_batch_record *r)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(o)) return 0;
    int state = state_from_name(json_string_value(json_object_get(o, "state")));
    if (state < 0) return 0;
    r->state = (bcdi_batch_state)state;
    r->skipped = json_is_true(json_object_get(o, "skipped"));
    copy_text(r->error, sizeof r->error, json_object_get(o, "error"));
    copy_text(r->start, sizeof r->start, json_object_get(o, "start"));
    copy_text(r->end, sizeof r->end, json_object_get(o, "end"));
    copy_text(r->host, sizeof r->host, json_object_get(o, "host"));
    json_t *rank = json_object_get(o, "rank");
    r->rank = json_is_integer(rank) ? (int)json_integer_value(rank) : 0;
    r->keys_hash = hash_from(json_object_get(o, "keys_hash"));
    r->input_hash = hash_from(json_object_get(o, "input_hash"));
    r->output_hash = hash_from(json_object_get(o, "output_hash"));
    return 1;
}

char *bcdi_batch_record_dump(const bcdi_batch_record *r)
{
    int ok = 1;
    json_t *o = record_json(r, &ok);
    char *text = ok && o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

bcdi_status bcdi_batch_record_load(const char *text, bcdi_batch_record *r)
{
    json_t *o = json_loads(text, 0, NULL);
    int ok = o && record_from(o, r);
    json_decref(o);
    return ok ? BCDI_OK
              : bcdi_error(BCDI_ERR_FORMAT, "batch: a record sent between ranks is "
                                            "not valid");
}

bcdi_batch_state bcdi_batch_scan_state(const bcdi_batch_status *s, size_t k)
{
    int done = 0, running = 0;
    for (int step = 0; step < BCDI_BATCH_SCAN_STEPS; ++step) {
        bcdi_batch_state st = s->steps[k][step].state;
        if (st == BCDI_BATCH_FAILED || st == BCDI_BATCH_INTERRUPTED) return st;
        done += st == BCDI_BATCH_DONE;
        running += st == BCDI_BATCH_RUNNING;
    }
    if (done == BCDI_BATCH_SCAN_STEPS) return BCDI_BATCH_DONE;
    return running ? BCDI_BATCH_RUNNING : BCDI_BATCH_PENDING;
}

bcdi_status bcdi_batch_status_write(bcdi_batch_status *s, const char *path)
{
    bcdi_batch_now(s->updated);
    int ok = 1;
    json_t *root = json_object();
    if (!root) return bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory for '%s'", path);
    size_t failed = 0, done = 0;
    for (size_t k = 0; k < s->scan_count; ++k) {
        bcdi_batch_state st = bcdi_batch_scan_state(s, k);
        failed += st == BCDI_BATCH_FAILED;
        done += st == BCDI_BATCH_DONE;
    }
    bcdi_json_put(root, "program", json_string("braggcdi " BCDI_VERSION), &ok);
    bcdi_json_put(root, "manifest", bcdi_json_text(s->manifest), &ok);
    bcdi_json_put(root, "output", bcdi_json_text(s->output), &ok);
    bcdi_json_put(root, "started", json_string(s->started), &ok);
    bcdi_json_put(root, "updated", json_string(s->updated), &ok);
    bcdi_json_put(root, "scans_done", json_integer((json_int_t)done), &ok);
    bcdi_json_put(root, "scans_failed", json_integer((json_int_t)failed), &ok);
    json_t *scans = json_array();
    for (size_t k = 0; ok && scans && k < s->scan_count; ++k) {
        json_t *scan = json_object(), *steps = json_object();
        if (!scan || !steps) {
            ok = 0;
            json_decref(scan), json_decref(steps);
            break;
        }
        bcdi_json_put(scan, "label", bcdi_json_text(s->labels[k]), &ok);
        bcdi_json_put(scan, "input", bcdi_json_text(s->inputs[k]), &ok);
        bcdi_json_put(scan, "voltage",
                      isnan(s->voltages[k]) ? json_null() : bcdi_json_real(s->voltages[k]), &ok);
        bcdi_json_put(scan, "state",
                      json_string(bcdi_batch_state_name(bcdi_batch_scan_state(s, k))), &ok);
        for (int step = 0; step < BCDI_BATCH_SCAN_STEPS; ++step)
            bcdi_json_put(steps, bcdi_batch_stage_name((bcdi_batch_stage)step),
                          record_json(&s->steps[k][step], &ok), &ok);
        bcdi_json_put(scan, "steps", steps, &ok);
        bcdi_json_push(scans, scan, &ok);
    }
    bcdi_json_put(root, "scans", scans, &ok);
    json_t *compare = record_json(&s->compare, &ok), *compared = json_array();
    for (size_t k = 0; ok && compared && k < s->compared_count; ++k)
        bcdi_json_push(compared, bcdi_json_text(s->compared[k]), &ok);
    if (compare) {
        bcdi_json_put(compare, "scans", compared, &ok);
        bcdi_json_put(compare, "reference", maybe_text(s->compare_reference), &ok);
    } else {
        json_decref(compared);
    }
    bcdi_json_put(root, "compare", compare, &ok);
    bcdi_status st = BCDI_OK;
    if (!ok)
        st = bcdi_error(BCDI_ERR_NOMEM, "batch: out of memory building '%s'", path);
    else {
        bcdi_output *tx = NULL;
        st = bcdi_output_begin(&tx);
        bcdi_output_despite_interrupt(tx);
        if (st == BCDI_OK) st = bcdi_json_write(tx, path, root);
        st = st == BCDI_OK ? bcdi_output_commit(tx) : (bcdi_output_abort(tx), st);
    }
    json_decref(root);
    return st;
}

void bcdi_batch_status_path(const char *output_dir, const char *label, char *out, size_t cap)
{
    if (label)
        snprintf(out, cap, "%s/status.%s.json", output_dir, label);
    else
        snprintf(out, cap, "%s/status.json", output_dir);
}

/* The records of one status file into `into` for the scans it holds (all, or only `label`). */
static bcdi_status merge_file(const char *path, const char *label, bcdi_batch_status *into)
{
    json_t *root = NULL;
    bcdi_status st = bcdi_json_read(path, &root);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "the earlier batch status: ");
    json_t *scans = json_object_get(root, "scans");
    if (!json_is_array(scans)) {
        json_decref(root);
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s' is not a batch status (no 'scans' list): remove it or choose "
                          "another output folder",
                          path);
    }
    for (size_t i = 0; i < json_array_size(scans); ++i) {
        json_t *scan = json_array_get(scans, i);
        const char *name = json_string_value(json_object_get(scan, "label"));
        if (!name || (label && strcmp(name, label) != 0)) continue;
        for (size_t k = 0; k < into->scan_count; ++k) {
            if (strcmp(into->labels[k], name) != 0) continue;
            json_t *steps = json_object_get(scan, "steps");
            for (int step = 0; step < BCDI_BATCH_SCAN_STEPS; ++step)
                record_from(json_object_get(steps, bcdi_batch_stage_name((bcdi_batch_stage)step)),
                            &into->steps[k][step]);
        }
    }
    if (!label) record_from(json_object_get(root, "compare"), &into->compare);
    json_decref(root);
    return BCDI_OK;
}

static int modified(const char *path, struct timespec *when)
{
    struct stat s;
    if (stat(path, &s) != 0) return 0;
    *when = s.st_mtim;
    return 1;
}

static int newer(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

bcdi_status bcdi_batch_status_read_previous(const bcdi_batch_manifest *m, const char *output_dir,
                                            bcdi_batch_status *previous, int *found)
{
    *found = 0;
    bcdi_status st = bcdi_batch_status_init(previous, m, output_dir);
    if (st != BCDI_OK) return st;
    char path[4400];
    struct timespec whole_time = {0, 0}, one_time;
    bcdi_batch_status_path(output_dir, NULL, path, sizeof path);
    int whole = modified(path, &whole_time);
    if (whole) st = merge_file(path, NULL, previous);
    *found = whole;
    for (size_t k = 0; st == BCDI_OK && k < m->scan_count; ++k) {
        bcdi_batch_status_path(output_dir, m->scans[k].label, path, sizeof path);
        if (!modified(path, &one_time) || (whole && !newer(one_time, whole_time))) continue;
        st = merge_file(path, m->scans[k].label, previous);
        *found = 1;
    }
    if (st != BCDI_OK) {
        bcdi_batch_status_free(previous);
        *found = 0;
    }
    return st;
}

const bcdi_batch_record *bcdi_batch_status_find(const bcdi_batch_status *s, const char *label,
                                                bcdi_batch_stage step)
{
    if (step == BCDI_BATCH_COMPARE) return &s->compare;
    for (size_t k = 0; k < s->scan_count; ++k)
        if (!strcmp(s->labels[k], label)) return &s->steps[k][step];
    return NULL;
}

int bcdi_batch_is_current(const bcdi_batch_record *previous, uint64_t keys_hash,
                          uint64_t input_hash, uint64_t output_hash_now)
{
    return previous && previous->state == BCDI_BATCH_DONE && previous->keys_hash == keys_hash &&
           previous->input_hash == input_hash && previous->output_hash != 0 &&
           previous->output_hash == output_hash_now;
}
