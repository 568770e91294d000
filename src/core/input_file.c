/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening input files safely (core/input_file.h). */
#include "core/input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bcdi_input_kind_name(unsigned mode)
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

bcdi_status bcdi_input_open_fd(const char *path, const char *what, size_t max_bytes, int *fd,
                               size_t *size)
{
    *fd = -1;
    if (!what) what = "input";
    if (!path || !path[0]) return bcdi_error(BCDI_ERR_INVALID_ARG, "%s: no file name", what);
    int d = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (d < 0)
        return bcdi_error(BCDI_ERR_IO, "%s '%s': cannot open: %s", what, path, strerror(errno));
    struct stat sb;
    if (fstat(d, &sb) != 0) {
        int err = errno;
        close(d);
        return bcdi_error(BCDI_ERR_IO, "%s '%s': cannot stat: %s", what, path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(d);
        return bcdi_error(BCDI_ERR_IO, "%s '%s' is %s, expected a regular file", what, path,
                          bcdi_input_kind_name((unsigned)sb.st_mode));
    }
    if (max_bytes > 0 && (unsigned long long)sb.st_size > (unsigned long long)max_bytes) {
        close(d);
        return bcdi_error(BCDI_ERR_IO, "%s '%s' is %lld bytes, more than the %zu a %s may have",
                          what, path, (long long)sb.st_size, max_bytes, what);
    }
    int flags = fcntl(d, F_GETFL);
    if (flags < 0 || fcntl(d, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int err = errno;
        close(d);
        return bcdi_error(BCDI_ERR_IO, "%s '%s': %s", what, path, strerror(err));
    }
    if (size) *size = (size_t)sb.st_size;
    *fd = d;
    return BCDI_OK;
}

bcdi_status bcdi_input_open(const char *path, const char *what, size_t max_bytes, FILE **out,
                            size_t *size)
{
    *out = NULL;
    int fd;
    bcdi_status st = bcdi_input_open_fd(path, what, max_bytes, &fd, size);
    if (st != BCDI_OK) return st;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int err = errno;
        close(fd);
        return bcdi_error(BCDI_ERR_IO, "%s '%s': %s", what ? what : "input", path, strerror(err));
    }
    *out = f;
    return BCDI_OK;
}

bcdi_status bcdi_input_check(const char *path, const char *what, size_t *size)
{
    int fd;
    bcdi_status st = bcdi_input_open_fd(path, what, 0, &fd, size);
    if (st == BCDI_OK) close(fd);
    return st;
}
