#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

int tu_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) ++count;
    closedir(d);
    return count;
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
