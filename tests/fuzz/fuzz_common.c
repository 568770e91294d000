/* SPDX-License-Identifier: BSD-3-Clause */
/* Input files on tmpfs for the fuzz targets (fuzz_common.h). */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_FILES = 4 };
static char folder[400];
static char file_paths[MAX_FILES][512];
static int file_count;
static char *text_copy;

static void remove_files(void)
{
    for (int i = 0; i < file_count; ++i)
        unlink(file_paths[i]);
    if (folder[0]) rmdir(folder);
}

/* A private folder (mkdtemp): readers look beside their input (prepare takes the one .spec in
 * the input's folder), so a shared /dev/shm holding another process's files must not change
 * what an input does. Made in $BCDI_FUZZ_INPUT_DIR when set (tools/fuzz.sh's per-run folder,
 * which it removes even after a timeout or crash ends this process without atexit). */
static const char *private_folder(void)
{
    if (folder[0]) return folder;
    const char *dir = getenv("BCDI_FUZZ_INPUT_DIR");
    if (!dir || !dir[0]) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!dir || !dir[0]) dir = "/tmp";
    snprintf(folder, sizeof folder, "%s/bcdi-fuzz-XXXXXX", dir);
    if (!mkdtemp(folder)) {
        /* every input would be skipped and the run would look clean */
        fprintf(stderr, "fuzz: cannot make a folder for the inputs from '%s': %s\n", folder,
                strerror(errno));
        abort();
    }
    atexit(remove_files);
    return folder;
}

static const char *path_for(const char *suffix)
{
    for (int i = 0; i < file_count; ++i) {
        size_t n = strlen(file_paths[i]), m = strlen(suffix);
        if (n >= m && strcmp(file_paths[i] + n - m, suffix) == 0) return file_paths[i];
    }
    const char *dir = private_folder();
    if (!dir || file_count == MAX_FILES) return NULL;
    snprintf(file_paths[file_count], sizeof file_paths[0], "%s/input-%d%s", dir, file_count,
             suffix);
    return file_paths[file_count++];
}

const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix)
{
    const char *path = path_for(suffix);
    if (!path) return NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return NULL;
        }
        done += (size_t)n;
    }
    close(fd);
    return path;
}

const char *fuzz_text(const uint8_t *data, size_t size)
{
    free(text_copy);
    text_copy = malloc(size + 1);
    if (!text_copy) return NULL;
    memcpy(text_copy, data, size);
    text_copy[size] = '\0';
    return text_copy;
}
