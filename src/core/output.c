/* SPDX-License-Identifier: BSD-3-Clause */
/* Output transactions (rules in output.h and docs/security.md). */
/* realpath(), O_NOFOLLOW, O_CLOEXEC, O_DIRECTORY and fchmod are POSIX 2008 / XSI */
#define _XOPEN_SOURCE 700
#include "core/output.h"

#include "core/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define NAME_KEEP 200 /* characters of the final name kept in a temporary's name (NAME_MAX 255) */
#define CREATE_TRIES 64

/* ------------------------------------------------------------------------------------------ */
/* paths                                                                                      */

/* "dir/name" -> dir ("." when there is no slash, "/" for "/name") and name. */
static void split_path(const char *path, char *dir, size_t dir_cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dir_cap, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dir_cap, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dir_cap, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
}

/* Copy of path without trailing slashes ("out/" -> "out"; "/" stays). */
static char *strip_slashes(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        --n;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, path, n);
        s[n] = '\0';
    }
    return s;
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "folder";
    if (S_ISLNK(m)) return "symbolic link";
    if (S_ISCHR(m)) return "character device";
    if (S_ISBLK(m)) return "block device";
    if (S_ISFIFO(m)) return "FIFO";
    if (S_ISSOCK(m)) return "socket";
    return "special file";
}

int bcdi_output_is_temp_name(const char *name)
{
    return name && strstr(name, BCDI_OUTPUT_TEMP_MARK) != NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* inputs of the run                                                                          */

typedef struct {
    dev_t dev;
    ino_t ino;
    char *path;
} input_id;

static input_id *inputs;
static size_t input_count, input_cap;

void bcdi_output_add_input(const char *path)
{
    struct stat sb;
    if (!path || !path[0] || stat(path, &sb) != 0) return;
    for (size_t i = 0; i < input_count; ++i)
        if (inputs[i].dev == sb.st_dev && inputs[i].ino == sb.st_ino) return;
    if (input_count == input_cap) {
        size_t cap = input_cap ? 2 * input_cap : 8;
        input_id *grown = realloc(inputs, cap * sizeof *grown);
        if (!grown) return;
        inputs = grown;
        input_cap = cap;
    }
    size_t n = strlen(path) + 1;
    char *copy = malloc(n);
    if (!copy) return;
    memcpy(copy, path, n);
    inputs[input_count++] = (input_id){sb.st_dev, sb.st_ino, copy};
}

void bcdi_output_clear_inputs(void)
{
    for (size_t i = 0; i < input_count; ++i)
        free(inputs[i].path);
    free(inputs);
    inputs = NULL;
    input_count = input_cap = 0;
}

static const char *input_at(dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < input_count; ++i)
        if (inputs[i].dev == dev && inputs[i].ino == ino) return inputs[i].path;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* checks                                                                                     */

static bcdi_status check_folder_writable(const char *path, const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT)
            return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: folder '%s' does not exist", path,
                              dir);
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: folder '%s': %s", path, dir,
                          strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: '%s' is a %s, not a folder", path, dir,
                          kind_of(sb.st_mode));
    if (access(dir, W_OK | X_OK) != 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: folder '%s' is not writable: %s", path,
                          dir, strerror(errno));
    return BCDI_OK;
}

/* The target itself: absent, or of the right kind and not an input. */
static bcdi_status check_existing(const char *path, bcdi_output_kind kind)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return BCDI_OK;
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: %s", path, strerror(errno));
    }
    if (S_ISLNK(sb.st_mode))
        return bcdi_error(BCDI_ERR_IO,
                          "'%s' is a symbolic link: refusing to write through it (name the %s it "
                          "points to)",
                          path, kind == BCDI_OUTPUT_FOLDER ? "folder" : "file");
    if (kind == BCDI_OUTPUT_FILE && !S_ISREG(sb.st_mode))
        return bcdi_error(BCDI_ERR_IO, "'%s' is a %s, not a regular file: refusing to replace it",
                          path, kind_of(sb.st_mode));
    if (kind == BCDI_OUTPUT_FOLDER && !S_ISDIR(sb.st_mode))
        return bcdi_error(BCDI_ERR_IO,
                          "'%s' is a %s, not a folder: the output is a folder of files", path,
                          kind_of(sb.st_mode));
    const char *input = input_at(sb.st_dev, sb.st_ino);
    if (input)
        return bcdi_error(BCDI_ERR_IO,
                          "'%s' is an input of this run ('%s'): refusing to write over it", path,
                          input);
    return BCDI_OK;
}

bcdi_status bcdi_output_check(const char *path, bcdi_output_kind kind)
{
    if (!path || !path[0]) return bcdi_error(BCDI_ERR_INVALID_ARG, "output: empty path");
    char *clean = strip_slashes(path);
    if (!clean) return bcdi_error(BCDI_ERR_NOMEM, "output '%s'", path);
    char dir[PATH_MAX];
    const char *base;
    split_path(clean, dir, sizeof dir, &base);
    bcdi_status st = BCDI_OK;
    if (kind == BCDI_OUTPUT_FILE &&
        (path[strlen(path) - 1] == '/' || !strcmp(base, ".") || !strcmp(base, "..") || !base[0]))
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': output path names a folder, not a file", path);
    if (st == BCDI_OK) st = check_folder_writable(path, dir);
    if (st == BCDI_OK) st = check_existing(clean, kind);
    free(clean);
    return st;
}

/* Folder resolved + name, for paths that may not exist yet. */
static int resolved_name(const char *path, char *out, size_t cap)
{
    char *clean = strip_slashes(path);
    if (!clean) return -1;
    char dir[PATH_MAX], real[PATH_MAX];
    const char *base;
    split_path(clean, dir, sizeof dir, &base);
    int ok = realpath(dir, real) != NULL;
    if (ok) snprintf(out, cap, "%s/%s", real, base);
    free(clean);
    return ok ? 0 : -1;
}

int bcdi_output_same(const char *a, const char *b)
{
    if (!a || !b) return 0;
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb) return 0;
    char ra[PATH_MAX + 256], rb[PATH_MAX + 256];
    if (resolved_name(a, ra, sizeof ra) != 0 || resolved_name(b, rb, sizeof rb) != 0)
        return strcmp(a, b) == 0;
    return strcmp(ra, rb) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* temporaries                                                                                */

static void random_suffix(char out[7])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static unsigned long counter;
    unsigned char bytes[6];
    if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != (ssize_t)sizeof bytes) {
        /* no entropy yet (early boot): still unique per process, and O_EXCL keeps it safe */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^ (uint64_t)(++counter);
        for (int i = 0; i < 6; ++i, x = x * 6364136223846793005ull + 1442695040888963407ull)
            bytes[i] = (unsigned char)(x >> 33);
    }
    for (int i = 0; i < 6; ++i)
        out[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
    out[6] = '\0';
}

/* "<dir>/.<name>.braggcdi-tmp-XXXXXX" next to path (fresh random part each call). */
static int temp_name(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    char suffix[7];
    random_suffix(suffix);
    int n = snprintf(out, cap, "%.*s.%.*s%s%s", dirlen, path, NAME_KEEP, base,
                     BCDI_OUTPUT_TEMP_MARK, suffix);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The umask without changing it: from /proc where there is one (changing it, even briefly,
 * would race with other threads creating files). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        unsigned mask;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &mask) == 1) {
                fclose(f);
                return (mode_t)mask;
            }
        fclose(f);
    }
    mode_t m = umask(022);
    umask(m);
    return m;
}

/* ------------------------------------------------------------------------------------------ */
/* transactions                                                                               */

typedef struct entry {
    char *final_path;
    char *temp_path;
    int is_folder; /* a folder made by this transaction (renamed into place on commit) */
    long folder;   /* index of the new folder holding this file, -1 otherwise */
    FILE *stream;  /* owned stream (bcdi_output_fopen), NULL otherwise */
    int done;      /* renamed onto its final name */
} entry;

struct bcdi_output {
    entry *entries;
    size_t count, cap;
    int despite_interrupt; /* records a stop: committed even after a signal */
};

bcdi_status bcdi_output_begin(bcdi_output **tx)
{
    if (!tx) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_output_begin: NULL argument");
    *tx = calloc(1, sizeof **tx);
    return *tx ? BCDI_OK : bcdi_error(BCDI_ERR_NOMEM, "output transaction");
}

static entry *add_entry(bcdi_output *tx)
{
    if (tx->count == tx->cap) {
        size_t cap = tx->cap ? 2 * tx->cap : 8;
        entry *grown = realloc(tx->entries, cap * sizeof *grown);
        if (!grown) return NULL;
        tx->entries = grown;
        tx->cap = cap;
    }
    entry *e = &tx->entries[tx->count++];
    memset(e, 0, sizeof *e);
    e->folder = -1;
    return e;
}

static void drop_last(bcdi_output *tx)
{
    entry *e = &tx->entries[--tx->count];
    free(e->final_path);
    free(e->temp_path);
}

/* The declared new folder that path's file belongs to, or -1 ("out/x" and "out//x" are in
 * "out", declared as "out" or "out/"). */
static long folder_of(const bcdi_output *tx, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return -1;
    size_t dirlen = (size_t)(slash - path);
    while (dirlen > 1 && path[dirlen - 1] == '/')
        --dirlen;
    for (size_t i = 0; i < tx->count; ++i) {
        const entry *e = &tx->entries[i];
        if (e->is_folder && strlen(e->final_path) == dirlen &&
            !strncmp(e->final_path, path, dirlen))
            return (long)i;
    }
    return -1;
}

bcdi_status bcdi_output_folder(bcdi_output *tx, const char *dir)
{
    if (!tx || !dir || !dir[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "output folder: empty name");
    bcdi_status st = bcdi_output_check(dir, BCDI_OUTPUT_FOLDER);
    if (st != BCDI_OK) return st;
    char *clean = strip_slashes(dir);
    if (!clean) return bcdi_error(BCDI_ERR_NOMEM, "output folder '%s'", dir);
    struct stat sb;
    if (lstat(clean, &sb) == 0) { /* exists: its files are staged one by one inside it */
        free(clean);
        return BCDI_OK;
    }
    entry *e = add_entry(tx);
    if (!e) {
        free(clean);
        return bcdi_error(BCDI_ERR_NOMEM, "output folder '%s'", dir);
    }
    e->final_path = clean;
    e->is_folder = 1;
    char tmp[PATH_MAX];
    for (int tries = 0; tries < CREATE_TRIES; ++tries) {
        if (temp_name(clean, tmp, sizeof tmp) != 0) {
            drop_last(tx);
            return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': path too long", dir);
        }
        /* private until commit: the files are staged inside it */
        if (mkdir(tmp, 0700) == 0) {
            e->temp_path = strdup(tmp);
            if (!e->temp_path) {
                rmdir(tmp);
                drop_last(tx);
                return bcdi_error(BCDI_ERR_NOMEM, "output folder '%s'", dir);
            }
            return BCDI_OK;
        }
        if (errno != EEXIST) {
            int err = errno;
            drop_last(tx);
            return bcdi_error(BCDI_ERR_IO, "'%s': cannot create the temporary folder '%s': %s", dir,
                              tmp, strerror(err));
        }
    }
    drop_last(tx);
    return bcdi_error(BCDI_ERR_IO, "'%s': no free temporary name after %d tries", dir,
                      CREATE_TRIES);
}

typedef struct {
    int fd;
} open_ctx;

static int create_exclusive(const char *temp_path, void *user)
{
    open_ctx *c = user;
    c->fd = open(temp_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (c->fd >= 0) return 0;
    if (errno == EEXIST) return EEXIST;
    int err = errno;
    bcdi_error(BCDI_ERR_IO, "cannot create '%s': %s", temp_path, strerror(err));
    return err ? err : -1;
}

bcdi_status bcdi_output_create(bcdi_output *tx, const char *final_path,
                               bcdi_output_create_fn create, void *user)
{
    if (!tx || !final_path || !final_path[0] || !create)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "output: empty path");
    for (size_t i = 0; i < tx->count; ++i)
        if (!tx->entries[i].is_folder && bcdi_output_same(tx->entries[i].final_path, final_path))
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "'%s' would be written twice in one run (also as '%s')", final_path,
                              tx->entries[i].final_path);
    long folder = folder_of(tx, final_path);
    bcdi_status st = BCDI_OK;
    if (folder < 0) {
        st = bcdi_output_check(final_path, BCDI_OUTPUT_FILE);
    } else if (final_path[strlen(final_path) - 1] == '/') {
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': output path names a folder", final_path);
    }
    if (st != BCDI_OK) return st;
    entry *e = add_entry(tx);
    if (!e || !(e->final_path = strdup(final_path))) {
        if (e) drop_last(tx);
        return bcdi_error(BCDI_ERR_NOMEM, "output '%s'", final_path);
    }
    e->folder = folder;
    char tmp[PATH_MAX];
    for (int tries = 0; tries < CREATE_TRIES; ++tries) {
        int n;
        if (folder >= 0) { /* inside our private new folder: the final name itself */
            const char *base = strrchr(final_path, '/') + 1;
            n = snprintf(tmp, sizeof tmp, "%s/%s", tx->entries[folder].temp_path, base);
            n = n > 0 && (size_t)n < sizeof tmp ? 0 : -1;
        } else {
            n = temp_name(final_path, tmp, sizeof tmp);
        }
        if (n != 0) {
            drop_last(tx);
            return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': path too long", final_path);
        }
        int rc = create(tmp, user);
        if (rc == 0) {
            e = &tx->entries[tx->count - 1];
            if (!(e->temp_path = strdup(tmp))) {
                unlink(tmp);
                drop_last(tx);
                return bcdi_error(BCDI_ERR_NOMEM, "output '%s'", final_path);
            }
            return BCDI_OK;
        }
        if (rc != EEXIST || folder >= 0) {
            drop_last(tx);
            if (rc == EEXIST)
                return bcdi_error(BCDI_ERR_IO,
                                  "'%s': '%s' appeared in the private temporary folder", final_path,
                                  tmp);
            return bcdi_error_prefix(BCDI_ERR_IO, "'%s': ", final_path);
        }
    }
    drop_last(tx);
    return bcdi_error(BCDI_ERR_IO, "'%s': no free temporary name after %d tries", final_path,
                      CREATE_TRIES);
}

bcdi_status bcdi_output_open(bcdi_output *tx, const char *final_path, int *fd)
{
    if (!fd) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_output_open: NULL argument");
    open_ctx c = {-1};
    bcdi_status st = bcdi_output_create(tx, final_path, create_exclusive, &c);
    *fd = c.fd;
    return st;
}

bcdi_status bcdi_output_fopen(bcdi_output *tx, const char *final_path, FILE **stream)
{
    if (!stream) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_output_fopen: NULL argument");
    *stream = NULL;
    int fd = -1;
    bcdi_status st = bcdi_output_open(tx, final_path, &fd);
    if (st != BCDI_OK) return st;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot open a stream on its temporary",
                          final_path);
    }
    tx->entries[tx->count - 1].stream = f;
    *stream = f;
    return BCDI_OK;
}

bcdi_status bcdi_output_stream(bcdi_output *tx, bcdi_output **own, const char *path, FILE **stream)
{
    if (!own || !stream) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_output_stream: NULL");
    *own = NULL;
    *stream = NULL;
    bcdi_status st = tx ? BCDI_OK : bcdi_output_begin(own);
    if (st == BCDI_OK) st = bcdi_output_fopen(tx ? tx : *own, path, stream);
    if (st != BCDI_OK) {
        bcdi_output_abort(*own);
        *own = NULL;
    }
    return st;
}

const char *bcdi_output_temp_path(const bcdi_output *tx, const char *final_path)
{
    for (size_t i = 0; tx && final_path && i < tx->count; ++i)
        if (!strcmp(tx->entries[i].final_path, final_path)) return tx->entries[i].temp_path;
    return NULL;
}

static void free_tx(bcdi_output *tx)
{
    for (size_t i = 0; i < tx->count; ++i) {
        free(tx->entries[i].final_path);
        free(tx->entries[i].temp_path);
    }
    free(tx->entries);
    free(tx);
}

void bcdi_output_abort(bcdi_output *tx)
{
    if (!tx) return;
    int saved = errno;
    for (size_t i = 0; i < tx->count; ++i) {
        entry *e = &tx->entries[i];
        if (e->stream) fclose(e->stream);
        e->stream = NULL;
        if (!e->is_folder && e->temp_path) unlink(e->temp_path);
    }
    for (size_t i = 0; i < tx->count; ++i)
        if (tx->entries[i].is_folder && tx->entries[i].temp_path) rmdir(tx->entries[i].temp_path);
    free_tx(tx);
    errno = saved;
}

/* Flush, check and fsync a staged file; closes its stream. */
static bcdi_status sync_file(entry *e)
{
    int err = 0;
    if (e->stream) {
        FILE *f = e->stream;
        e->stream = NULL;
        if (fflush(f) != 0) err = errno;
        if (!err && ferror(f)) err = EIO;
        if (!err && fsync(fileno(f)) != 0 && errno != EINVAL) err = errno;
        if (fclose(f) != 0 && !err) err = errno;
    } else {
        int fd = open(e->temp_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            err = errno;
        else {
            if (fsync(fd) != 0 && errno != EINVAL) err = errno;
            close(fd);
        }
    }
    if (err)
        return bcdi_error(BCDI_ERR_IO, "writing '%s' failed: %s", e->final_path, strerror(err));
    return BCDI_OK;
}

static void sync_folder(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd); /* best effort: some file systems cannot sync folders */
    close(fd);
}

static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    sync_folder(dir);
}

/* Undo the renames already made (the new files go; what they replaced is gone already). */
static void undo_renames(bcdi_output *tx)
{
    for (size_t i = 0; i < tx->count; ++i) {
        entry *e = &tx->entries[i];
        if (!e->done) continue;
        if (!e->is_folder) {
            unlink(e->final_path);
        } else {
            for (size_t j = 0; j < tx->count; ++j)
                if (tx->entries[j].folder == (long)i) {
                    char p[PATH_MAX];
                    const char *base = strrchr(tx->entries[j].final_path, '/') + 1;
                    snprintf(p, sizeof p, "%s/%s", e->final_path, base);
                    unlink(p);
                }
            rmdir(e->final_path);
        }
        e->done = 0;
    }
}

void bcdi_output_despite_interrupt(bcdi_output *tx)
{
    if (tx) tx->despite_interrupt = 1;
}

bcdi_status bcdi_output_commit(bcdi_output *tx)
{
    if (!tx) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_output_commit: NULL transaction");
    bcdi_status st = tx->despite_interrupt
                         ? BCDI_OK
                         : bcdi_interrupt_check("before the outputs were put in place: none "
                                                "written");
    for (size_t i = 0; st == BCDI_OK && i < tx->count; ++i)
        if (!tx->entries[i].is_folder) st = sync_file(&tx->entries[i]);
    mode_t folder_mode = 0777 & ~current_umask();
    for (size_t i = 0; st == BCDI_OK && i < tx->count; ++i) {
        entry *e = &tx->entries[i];
        if (!e->is_folder) continue;
        if (chmod(e->temp_path, folder_mode) != 0)
            st = bcdi_error(BCDI_ERR_IO, "'%s': cannot set the folder's mode: %s", e->final_path,
                            strerror(errno));
        else
            sync_folder(e->temp_path);
    }
    /* the targets again, just before replacing them: nothing became a device or a link since */
    for (size_t i = 0; st == BCDI_OK && i < tx->count; ++i) {
        entry *e = &tx->entries[i];
        if (e->folder < 0)
            st =
                check_existing(e->final_path, e->is_folder ? BCDI_OUTPUT_FOLDER : BCDI_OUTPUT_FILE);
    }
    /* files first, then the new folders (whose files move with them) */
    for (int pass = 0; pass < 2 && st == BCDI_OK; ++pass)
        for (size_t i = 0; st == BCDI_OK && i < tx->count; ++i) {
            entry *e = &tx->entries[i];
            if (e->folder >= 0 || e->is_folder != pass) continue;
            if (rename(e->temp_path, e->final_path) != 0)
                st = bcdi_error(BCDI_ERR_IO, "'%s': cannot rename its temporary '%s' to it: %s",
                                e->final_path, e->temp_path, strerror(errno));
            else
                e->done = 1;
        }
    if (st != BCDI_OK) {
        undo_renames(tx);
        bcdi_output_abort(tx);
        return st;
    }
    for (size_t i = 0; i < tx->count; ++i)
        if (tx->entries[i].folder < 0) sync_parent(tx->entries[i].final_path);
    free_tx(tx);
    return BCDI_OK;
}

bcdi_status bcdi_output_finish(bcdi_output *own, bcdi_status status)
{
    if (!own) return status;
    if (status == BCDI_OK) return bcdi_output_commit(own);
    bcdi_output_abort(own);
    return status;
}
