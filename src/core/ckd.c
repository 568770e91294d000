/* SPDX-License-Identifier: BSD-3-Clause */
/* Checked sizes (core/ckd.h). */
#include "core/ckd.h"

#include <stdarg.h>
#include <stdio.h>

const char *bcdi_ckd_shape_text(const size_t *shape, int rank, char *buf, size_t capacity)
{
    size_t used = 0;
    if (capacity) buf[0] = '\0';
    for (int i = 0; i < rank && used < capacity; i++) {
        int n = snprintf(buf + used, capacity - used, "%s%zu", i ? " x " : "", shape[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (rank == 0 && capacity) snprintf(buf, capacity, "(scalar)");
    return buf;
}

bcdi_status bcdi_ckd_volume(const size_t *shape, int rank, size_t elem_size, size_t *count,
                            size_t *bytes, const char *where_fmt, ...)
{
    size_t n = 1, b = 0;
    int overflow = rank < 0;
    for (int i = 0; i < rank && !overflow; i++)
        overflow = bcdi_ckd_mul(&n, n, shape[i]);
    if (!overflow) overflow = bcdi_ckd_mul(&b, n, elem_size) || b > BCDI_CKD_MAX_BYTES;
    if (count) *count = overflow ? 0 : n;
    if (bytes) *bytes = overflow ? 0 : b;
    if (!overflow) return BCDI_OK;
    char where[1024] = "", dims[400];
    if (where_fmt) {
        va_list ap;
        va_start(ap, where_fmt);
        vsnprintf(where, sizeof where, where_fmt, ap);
        va_end(ap);
    }
    return bcdi_error(BCDI_ERR_FORMAT,
                      "%s: shape %s of %zu-byte values needs more than %zu bytes: not a size any "
                      "memory or file holds (damaged or crafted header?)",
                      where, bcdi_ckd_shape_text(shape, rank < 0 ? 0 : rank, dims, sizeof dims),
                      elem_size, (size_t)BCDI_CKD_MAX_BYTES);
}
