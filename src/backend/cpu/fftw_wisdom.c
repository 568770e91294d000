/* SPDX-License-Identifier: BSD-3-Clause */
/* FFTW wisdom kept between processes, so measured plans are paid for once per machine and every
 * later process runs the same algorithms (bit-identical results for one seed across processes
 * that share the file). FFTW's planner and its wisdom are process-wide and not thread-safe: the
 * backend plans from one thread, and so does everything here. */
#include "backend/cpu/cpu_private.h"

#include "bcdi/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char loaded_path[sizeof((bcdi_backend *)0)->fft_wisdom]; /* read once per process */
static uint64_t written_hash; /* FNV-1a of the wisdom as last read or written */

static uint64_t fnv1a(const char *text, uint64_t hash)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; ++c) {
        hash ^= *c;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

static uint64_t wisdom_hash(void)
{
    char *text = fftwf_export_wisdom_to_string();
    uint64_t hash = text ? fnv1a(text, 0xcbf29ce484222325ull) : 0;
    free(text);
    return hash;
}

/* mkdir that accepts an existing folder; new folders are private (XDG base directory rule). */
static bcdi_status ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
        struct stat info;
        if (stat(dir, &info) == 0 && S_ISDIR(info.st_mode)) return BCDI_OK;
    }
    return bcdi_error(BCDI_ERR_IO, "FFTW wisdom: cannot create the folder '%s': %s", dir,
                      strerror(errno ? errno : ENOTDIR));
}

/* The CPU model and feature flags as /proc/cpuinfo states them (first processor). */
static uint64_t cpu_signature(void)
{
    uint64_t hash = fnv1a(fftwf_version, 0xcbf29ce484222325ull);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return hash;
    char line[8192];
    int model = 0, flags = 0;
    while ((!model || !flags) && fgets(line, sizeof line, f)) {
        if (!model && !strncmp(line, "model name", 10)) {
            hash = fnv1a(line, hash);
            model = 1;
        } else if (!flags && (!strncmp(line, "flags", 5) || !strncmp(line, "Features", 8))) {
            hash = fnv1a(line, hash);
            flags = 1;
        }
    }
    fclose(f);
    return hash;
}

bcdi_status bcdi_fftw_wisdom_default_path(char *out, size_t capacity)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[900];
    if (xdg && xdg[0] == '/')
        snprintf(base, sizeof base, "%s", xdg);
    else if (home && home[0] == '/')
        snprintf(base, sizeof base, "%s/.cache", home);
    else
        return bcdi_error(BCDI_ERR_CONFIG, "FFTW wisdom: neither XDG_CACHE_HOME nor HOME names a "
                                           "folder: give fft_wisdom=<file> or fft_wisdom=none");
    bcdi_status st = ensure_dir(base);
    char dir[1000];
    snprintf(dir, sizeof dir, "%s/braggcdi", base);
    if (st == BCDI_OK) st = ensure_dir(dir);
    if (st != BCDI_OK) return st;
    char host[256] = "host";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; ++c) /* a file name, whatever the host is called */
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '.'))
            *c = '_';
    int len = snprintf(out, capacity, "%s/fftw-wisdom-%s-%016llx", dir, host,
                       (unsigned long long)cpu_signature());
    if (len < 0 || (size_t)len >= capacity)
        return bcdi_error(BCDI_ERR_CONFIG, "FFTW wisdom: the cache path under '%s' is too long",
                          dir);
    return BCDI_OK;
}

bcdi_status bcdi_backend_set_fft_wisdom(bcdi_backend *be, const char *choice)
{
    be->fft_wisdom[0] = '\0';
    if (!choice || !*choice || !strcmp(choice, "none")) return BCDI_OK;
    if (!strcmp(choice, "auto"))
        return bcdi_fftw_wisdom_default_path(be->fft_wisdom, sizeof be->fft_wisdom);
    if (strlen(choice) >= sizeof be->fft_wisdom)
        return bcdi_error(BCDI_ERR_CONFIG, "fft_wisdom: the path is longer than %zu characters",
                          sizeof be->fft_wisdom - 1);
    snprintf(be->fft_wisdom, sizeof be->fft_wisdom, "%s", choice);
    return BCDI_OK;
}

/* Merge the file's wisdom into the process's; 1 if read, 0 if absent, -1 if unreadable. */
static int import_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) { /* not a FIFO or a device */
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = fftwf_import_wisdom_from_file(f);
    fclose(f);
    return ok ? 1 : -1;
}

void cpu_wisdom_before_planning(const bcdi_backend *be)
{
    const char *path = be->fft_wisdom;
    if (!path[0] || !strcmp(path, loaded_path)) return;
    int got = import_file(path);
    if (got > 0)
        bcdi_log(BCDI_LOG_INFO, "FFTW wisdom: plans read from '%s'", path);
    else if (got == 0)
        bcdi_log(BCDI_LOG_INFO,
                 "FFTW wisdom: '%s' does not exist yet: measuring plans (the first run on this "
                 "machine takes longer) and saving them there",
                 path);
    else
        bcdi_log(BCDI_LOG_NOTICE,
                 "FFTW wisdom: '%s' is not readable FFTW wisdom: measuring plans anew and "
                 "replacing it",
                 path);
    snprintf(loaded_path, sizeof loaded_path, "%s", path);
    written_hash = wisdom_hash();
}

/* Write `text` to `path` through a private temporary (mkstemp: O_CREAT | O_EXCL, mode 0600, so
 * it never follows or reuses an existing name) renamed over the target: readers see the old
 * file or the new one, never a part. */
static bcdi_status write_atomically(const char *path, const char *text)
{
    char tmp[sizeof((bcdi_backend *)0)->fft_wisdom + 16];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return bcdi_error(BCDI_ERR_IO, "FFTW wisdom: cannot create a temporary next to '%s': %s",
                          path, strerror(errno));
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int ok = done == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return bcdi_error(BCDI_ERR_IO, "FFTW wisdom: cannot write '%s': %s", path, strerror(err));
    }
    return BCDI_OK;
}

bcdi_status cpu_wisdom_after_planning(const bcdi_backend *be)
{
    const char *path = be->fft_wisdom;
    if (!path[0]) return BCDI_OK;
    if (strcmp(path, loaded_path)) cpu_wisdom_before_planning(be);
    if (wisdom_hash() == written_hash) return BCDI_OK; /* nothing new */
    /* another process may have added plans since we read the file: keep them too */
    (void)import_file(path);
    char *text = fftwf_export_wisdom_to_string();
    if (!text) return BCDI_OK;
    bcdi_status st = write_atomically(path, text);
    written_hash = fnv1a(text, 0xcbf29ce484222325ull);
    free(text);
    if (st != BCDI_OK) {
        /* a cache that cannot be written costs time on the next run, not this result */
        bcdi_log(BCDI_LOG_WARN, "%s (plans will be measured again next time)", bcdi_last_error());
        bcdi_clear_error();
        return BCDI_OK;
    }
    bcdi_log(BCDI_LOG_INFO, "FFTW wisdom: measured plans saved to '%s'", path);
    return BCDI_OK;
}
