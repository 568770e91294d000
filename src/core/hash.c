/* SPDX-License-Identifier: BSD-3-Clause */
/* realpath() is an X/Open extension */
#define _XOPEN_SOURCE 700
#include "core/hash.h"

#include "bcdi/config.h"
#include "core/output.h"

#include <dirent.h>
#include <glob.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FNV_PRIME 0x100000001b3ull

uint64_t bcdi_hash_bytes(uint64_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t bcdi_hash_text(uint64_t h, const char *text)
{
    return bcdi_hash_bytes(h, text ? text : "", strlen(text ? text : "") + 1);
}

void bcdi_hash_format(uint64_t hash, char text[17])
{
    snprintf(text, 17, "%016" PRIx64, hash);
}

bcdi_status bcdi_hash_file(const char *path, uint64_t *hash)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot open to hash it: %s", path, strerror(errno));
    unsigned char *block = malloc(1 << 20);
    if (!block) {
        fclose(f);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory hashing it", path);
    }
    uint64_t h = BCDI_HASH_INIT;
    size_t got;
    while ((got = fread(block, 1, 1 << 20, f)) > 0)
        h = bcdi_hash_bytes(h, block, got);
    int failed = ferror(f);
    free(block);
    fclose(f);
    if (failed) return bcdi_error(BCDI_ERR_IO, "'%s': read error while hashing it", path);
    *hash = h;
    return BCDI_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted entry names of a folder (no ".", "..", temporaries); caller frees each and the list.
 */
static bcdi_status list_folder(const char *path, char ***names, size_t *count)
{
    DIR *d = opendir(path);
    if (!d)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot list the folder: %s", path, strerror(errno));
    char **list = NULL;
    size_t n = 0, cap = 0;
    bcdi_status st = BCDI_OK;
    struct dirent *e;
    while (st == BCDI_OK && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            bcdi_output_is_temp_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **grown = realloc(list, cap * sizeof *grown);
            if (!grown) {
                st = bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory listing it", path);
                break;
            }
            list = grown;
        }
        list[n] = strdup(e->d_name);
        if (!list[n])
            st = bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory listing it", path);
        else
            ++n;
    }
    closedir(d);
    if (st != BCDI_OK) {
        for (size_t i = 0; i < n; ++i)
            free(list[i]);
        free(list);
        return st;
    }
    if (n) qsort(list, n, sizeof *list, by_name);
    *names = list;
    *count = n;
    return BCDI_OK;
}

static uint64_t hash_stat(uint64_t h, const struct stat *s)
{
    int64_t fields[4] = {(int64_t)s->st_size, (int64_t)s->st_mtim.tv_sec,
                         (int64_t)s->st_mtim.tv_nsec, (int64_t)s->st_ino};
    return bcdi_hash_bytes(h, fields, sizeof fields);
}

/* Over a folder's entries, one level deep: `content` hashes each regular file's bytes, else its
 * identity. */
static bcdi_status hash_entries(const char *path, int content, uint64_t *hash)
{
    char **names = NULL;
    size_t count = 0;
    bcdi_status st = list_folder(path, &names, &count);
    if (st != BCDI_OK) return st;
    uint64_t h = *hash;
    for (size_t i = 0; i < count; ++i) {
        char full[PATH_MAX + 256];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        struct stat s;
        if (st == BCDI_OK && stat(full, &s) != 0)
            st = bcdi_error(BCDI_ERR_IO, "'%s': %s", full, strerror(errno));
        if (st == BCDI_OK) {
            h = bcdi_hash_text(h, names[i]);
            if (content && S_ISREG(s.st_mode)) {
                uint64_t file_hash;
                st = bcdi_hash_file(full, &file_hash);
                h = bcdi_hash_bytes(h, &file_hash, sizeof file_hash);
            } else if (!content) {
                h = hash_stat(h, &s);
            }
        }
        free(names[i]);
    }
    free(names);
    *hash = h;
    return st;
}

/* A pattern's matches (prepare reads TIFF frames given as a pattern), in name order. */
static bcdi_status hash_pattern(const char *pattern, uint64_t *hash)
{
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    if (rc != 0) {
        if (rc != GLOB_NOMATCH) globfree(&g);
        return bcdi_error(BCDI_ERR_IO, "'%s': no file matches", pattern);
    }
    uint64_t h = bcdi_hash_text(BCDI_HASH_INIT, pattern);
    bcdi_status st = BCDI_OK;
    for (size_t i = 0; st == BCDI_OK && i < g.gl_pathc; ++i) {
        uint64_t one;
        st = bcdi_hash_identity(g.gl_pathv[i], &one);
        h = bcdi_hash_bytes(h, &one, sizeof one);
    }
    globfree(&g);
    if (st == BCDI_OK) *hash = h;
    return st;
}

bcdi_status bcdi_hash_identity(const char *path, uint64_t *hash)
{
    struct stat s;
    char resolved[PATH_MAX];
    if (stat(path, &s) != 0 && strpbrk(path, "*?[")) return hash_pattern(path, hash);
    if (stat(path, &s) != 0 || !realpath(path, resolved))
        return bcdi_error(BCDI_ERR_IO, "'%s': %s", path, strerror(errno));
    uint64_t h = bcdi_hash_text(BCDI_HASH_INIT, resolved);
    h = hash_stat(h, &s);
    bcdi_status st = S_ISDIR(s.st_mode) ? hash_entries(path, 0, &h) : BCDI_OK;
    if (st == BCDI_OK) *hash = h;
    return st;
}

bcdi_status bcdi_hash_folder(const char *path, uint64_t *hash)
{
    uint64_t h = BCDI_HASH_INIT;
    bcdi_status st = hash_entries(path, 1, &h);
    if (st == BCDI_OK) *hash = h;
    return st;
}

uint64_t bcdi_hash_config(const char *salt, const bcdi_config *cfg, const char *const *ignored)
{
    uint64_t h = bcdi_hash_text(BCDI_HASH_INIT, salt);
    size_t n = bcdi_config_count(cfg);
    const char *const *keys = bcdi_config_keys(cfg);
    const char *const *values = bcdi_config_values(cfg);
    for (size_t i = 0; i < n; ++i) {
        int skip = 0;
        for (size_t k = 0; ignored && ignored[k]; ++k)
            skip |= !strcmp(keys[i], ignored[k]);
        if (skip) continue;
        h = bcdi_hash_text(h, keys[i]);
        h = bcdi_hash_text(h, values[i]);
    }
    return h;
}
