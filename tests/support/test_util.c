/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_util.h"

#include "bcdi/simulate.h"
#include "io/cxi.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void tu_fill_uniform(float *x, size_t count, uint64_t seed, float lo, float hi)
{
    for (size_t i = 0; i < count; ++i)
        x[i] = lo + (hi - lo) * bcdi_u32_to_unit(bcdi_philox_at(seed, 977, i).v[0]);
}

void tu_fill_complex(bcdi_cf *x, size_t count, uint64_t seed)
{
    for (size_t i = 0; i < count; ++i) {
        bcdi_u32x4 r = bcdi_philox_at(seed, 991, i);
        x[i].re = 2.0f * bcdi_u32_to_unit(r.v[0]) - 1.0f;
        x[i].im = 2.0f * bcdi_u32_to_unit(r.v[1]) - 1.0f;
    }
}

double tu_rel_max_err_cf(const bcdi_cf *a, const bcdi_cf *b, size_t count)
{
    double err = 0.0, ref = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double d = hypot((double)a[i].re - b[i].re, (double)a[i].im - b[i].im);
        double m = hypot(b[i].re, b[i].im);
        if (d > err) err = d;
        if (m > ref) ref = m;
    }
    return ref > 0 ? err / ref : err;
}

double tu_rel_max_err_f(const float *a, const float *b, size_t count)
{
    double err = 0.0, ref = 0.0;
    for (size_t i = 0; i < count; ++i) {
        double d = fabs((double)a[i] - b[i]);
        if (d > err) err = d;
        if (fabs(b[i]) > ref) ref = fabs(b[i]);
    }
    return ref > 0 ? err / ref : err;
}

char *tu_make_temp_dir(const char *tag)
{
    char templ[256];
    snprintf(templ, sizeof templ, "/tmp/bcdi-test-%s-XXXXXX", tag);
    char *dir = mkdtemp(templ);
    if (!dir) return NULL;
    char *copy = malloc(strlen(dir) + 1);
    if (copy) strcpy(copy, dir);
    return copy;
}

void tu_remove_tree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

int tu_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int tu_count_named(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part)) ++count;
    closedir(d);
    return count;
}

int tu_count_entries(const char *dir)
{
    return tu_count_named(dir, "");
}

int tu_run_braggcdi(const char *args, char **output)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", BRAGGCDI_EXE, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 1024) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) break;
            buf = bigger;
        }
    }
    if (buf) buf[len] = '\0';
    int status = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *tu_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (!text) {
        fclose(f);
        return NULL;
    }
    size_t got = fread(text, 1, (size_t)size, f);
    text[got] = '\0';
    fclose(f);
    return text;
}

int tu_write_prepared(const char *path, int poison)
{
    bcdi_simulate_params sp;
    bcdi_simulate_default(&sp);
    sp.shape[0] = sp.shape[1] = sp.shape[2] = 32;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    if (bcdi_simulate_geometry(&sp, &g) != BCDI_OK) return -1;
    if (bcdi_simulate_make_object(&sp, &g, &obj) != BCDI_OK) return -1;
    size_t n = 32 * 32 * 32;
    float *I = malloc(n * sizeof *I);
    uint8_t *mask = calloc(n, 1);
    int rc = I && mask ? 0 : -1;
    if (rc == 0) bcdi_simulate_intensity(NULL, obj.shape, obj.object, I);
    double total = 0;
    for (size_t i = 0; rc == 0 && i < n; ++i)
        total += I[i];
    for (size_t i = 0; rc == 0 && i < n; ++i) {
        I[i] = (float)bcdi_simulate_poisson(3, 1, i, I[i] * 1e8 / total);
        if (i % 32 == 21) mask[i] = 1, I[i] = 0; /* a masked column plane */
    }
    if (rc == 0 && poison == 1) I[1234] = NAN;
    if (rc == 0 && poison == 2) memset(I, 0, n * sizeof *I);
    bcdi_h5_writer *w = NULL;
    if (rc == 0 && bcdi_cxi_create(path, &w) != BCDI_OK) rc = -1;
    if (rc == 0 && bcdi_cxi_write_prepared(w, obj.shape, I, mask, &g, 0) != BCDI_OK) {
        bcdi_h5_abort(w);
        rc = -1;
    } else if (rc == 0 && bcdi_h5_commit(w) != BCDI_OK) {
        rc = -1;
    }
    free(I);
    free(mask);
    bcdi_simulate_object_free(&obj);
    return rc;
}

int tu_start_braggcdi(const char *args, const char *log, void (*plant)(int pid))
{
    int gate[2];
    if (pipe(gate) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(gate[1]);
        char c;
        if (read(gate[0], &c, 1) != 1) _exit(126);
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "exec '%s' %s > '%s' 2>&1", BRAGGCDI_EXE, args, log);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(gate[0]);
    if (plant) plant(pid);
    if (write(gate[1], "x", 1) != 1) pid = -1;
    close(gate[1]);
    return pid;
}

int tu_finish(int pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid) return -1000;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int tu_wait_for_text(const char *path, const char *text, double timeout_s)
{
    for (double waited = 0; waited < timeout_s; waited += 0.02) {
        char *content = tu_read_text(path);
        int found = content && strstr(content, text);
        free(content);
        if (found) return 1;
        struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL);
    }
    return 0;
}

int tu_render_in_chromium(const char *dir, char **dom, long *screenshot_bytes)
{
    *dom = NULL;
    *screenshot_bytes = 0;
    if (system("command -v chromium >/dev/null 2>&1") != 0) return 0;
    char cmd[36000], dom_path[8400], shot[8400];
    snprintf(dom_path, sizeof dom_path, "%s/.dom.html", dir);
    snprintf(shot, sizeof shot, "%s/.shot.png", dir);
    /* --no-sandbox: CI runs as root; no network is needed or allowed for the page */
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run "
             "--dump-dom 'file://%s/index.html' > '%s' 2>/dev/null && "
             "timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run "
             "--window-size=1200,1600 --screenshot='%s' 'file://%s/index.html' >/dev/null 2>&1",
             dir, dom_path, shot, dir);
    int rc = system(cmd);
    *dom = tu_read_text(dom_path);
    FILE *f = fopen(shot, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        *screenshot_bytes = ftell(f);
        fclose(f);
    }
    remove(dom_path);
    remove(shot);
    return rc == 0 && *dom && f ? 1 : -1;
}

int tu_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

const char *tu_join(const char *folder, const char *name)
{
    static char buf[16][1200];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", folder, name);
    return buf[k];
}
