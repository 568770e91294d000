/* SPDX-License-Identifier: BSD-3-Clause */
/* What the machine offers and the one memory check (core/memory.h). */
#include "core/memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cgroup limits at or above this are "no limit" (v1 writes 2^63 - 4096) */
#define NO_LIMIT 1.152921504606846976e18

const char *bcdi_memory_text(double bytes, char *buf, size_t capacity)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    double v = bytes;
    while (fabs(v) >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (!isfinite(bytes))
        snprintf(buf, capacity, "unlimited");
    else if (u == 0)
        snprintf(buf, capacity, "%.0f B", v);
    else
        snprintf(buf, capacity, "%.*f %s", v < 10.0 ? 1 : 0, v, units[u]);
    return buf;
}

/* MemAvailable (bytes) from a meminfo file, or -1. */
static double mem_available(const char *meminfo)
{
    FILE *f = fopen(meminfo, "r");
    if (!f) return -1.0;
    char line[256];
    double bytes = -1.0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "MemAvailable:", 13)) {
            char *end;
            double kib = strtod(line + 13, &end);
            if (end != line + 13 && kib >= 0.0) bytes = kib * 1024.0;
            break;
        }
    fclose(f);
    return bytes;
}

/* A number of bytes in a cgroup file ("max" or a huge one: no limit, -1). */
static double read_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1.0;
    char text[64] = "";
    char *got = fgets(text, sizeof text, f);
    fclose(f);
    if (!got) return -1.0;
    char *end;
    double v = strtod(text, &end);
    if (end == text || v <= 0.0 || v >= NO_LIMIT) return -1.0;
    return v;
}

/* The lowest limit in `file` of the cgroup at dir + path and of its ancestors up to dir. */
static void lowest_limit(const char *dir, const char *path, const char *file, double *best,
                         char *where, size_t capacity)
{
    char rel[1024];
    snprintf(rel, sizeof rel, "%s", strcmp(path, "/") ? path : "");
    for (;;) {
        char full[2300];
        snprintf(full, sizeof full, "%s%s/%s", dir, rel, file);
        double v = read_limit(full);
        if (v > 0.0 && (*best < 0.0 || v < *best)) {
            *best = v;
            snprintf(where, capacity, "%s", full);
        }
        char *slash = strrchr(rel, '/');
        if (!rel[0] || !slash) break;
        *slash = '\0'; /* the parent: "/a/b" -> "/a" -> "" (dir itself) */
    }
}

void bcdi_memory_offered_from(const char *meminfo, const char *self_cgroup, const char *cgroup_root,
                              bcdi_memory_offer *out)
{
    if (!meminfo) meminfo = "/proc/meminfo";
    if (!self_cgroup) self_cgroup = "/proc/self/cgroup";
    if (!cgroup_root) cgroup_root = "/sys/fs/cgroup";
    out->bytes = HUGE_VAL;
    snprintf(out->source, sizeof out->source, "(no MemAvailable or cgroup limit readable)");
    double available = mem_available(meminfo);
    if (available >= 0.0) {
        out->bytes = available;
        snprintf(out->source, sizeof out->source, "this machine has available (MemAvailable)");
    }
    FILE *f = fopen(self_cgroup, "r");
    if (!f) return;
    char line[1200];
    double limit = -1.0;
    char where[2300] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2) continue;
        const char *path = c2 + 1;
        *c2 = '\0';
        *c1 = '\0'; /* line: the hierarchy number */
        const char *controllers = c1 + 1;
        char dir[1200];
        if (!strcmp(line, "0") && controllers[0] == '\0') { /* v2: unified (also hybrid) */
            snprintf(dir, sizeof dir, "%s", cgroup_root);
            lowest_limit(dir, path, "memory.max", &limit, where, sizeof where);
            snprintf(dir, sizeof dir, "%s/unified", cgroup_root);
            lowest_limit(dir, path, "memory.max", &limit, where, sizeof where);
        } else {
            char list[256];
            snprintf(list, sizeof list, ",%s,", controllers);
            if (!strstr(list, ",memory,")) continue;
            snprintf(dir, sizeof dir, "%s/memory", cgroup_root);
            lowest_limit(dir, path, "memory.limit_in_bytes", &limit, where, sizeof where);
        }
    }
    fclose(f);
    if (limit > 0.0 && limit < out->bytes) {
        out->bytes = limit;
        snprintf(out->source, sizeof out->source, "this process's cgroup allows (%.200s)", where);
    }
}

void bcdi_memory_offered(bcdi_memory_offer *out)
{
    bcdi_memory_offered_from(NULL, NULL, NULL, out);
}

bcdi_status bcdi_memory_check(double need, size_t max_memory, const char *what, const char *how,
                              const char *advice)
{
    bcdi_memory_offer offer;
    if (max_memory > 0) {
        offer.bytes = (double)max_memory;
        snprintf(offer.source, sizeof offer.source, "key 'max_memory' allows");
    } else {
        bcdi_memory_offered(&offer);
    }
    if (!(need > offer.bytes)) return BCDI_OK;
    char need_text[32], limit_text[32];
    return bcdi_error(BCDI_ERR_NOMEM, "%s needs about %s%s%s%s, more than the %s %s%s%s",
                      what ? what : "this run", bcdi_memory_text(need, need_text, sizeof need_text),
                      how ? " (" : "", how ? how : "", how ? ")" : "",
                      bcdi_memory_text(offer.bytes, limit_text, sizeof limit_text), offer.source,
                      advice ? "; " : "", advice ? advice : "");
}
