/* SPDX-License-Identifier: BSD-3-Clause */
/* Checked sizes: the one rule for every size or count that comes from a file header or a key
 * (docs/security.md). Such numbers are never multiplied or added bare: a crafted header declaring
 * shape (1, 2^62, 64) would wrap to a small byte count, a small buffer would be allocated and
 * the file's bytes written past it. Through these helpers an impossible size is refused, naming
 * the file, dataset or key it came from.
 *
 * The arithmetic helpers follow C23's <stdckdint.h>: they store the result and return nonzero
 * when the exact result does not fit. bcdi_ckd_volume() also refuses any byte count above
 * BCDI_CKD_MAX_BYTES, so every checked size fits a signed file offset (off_t, hsize_t) and
 * ptrdiff_t as well. */
#ifndef BCDI_CORE_CKD_H
#define BCDI_CORE_CKD_H

#include "bcdi/error.h"

#include <stddef.h>
#include <stdint.h>

/* No array braggcdi handles comes near it; it keeps byte counts, offsets and their sums
 * representable as off_t and ptrdiff_t. */
#define BCDI_CKD_MAX_BYTES ((size_t)PTRDIFF_MAX)

/* *result = a * b; nonzero when it does not fit in a size_t. */
static inline int bcdi_ckd_mul(size_t *result, size_t a, size_t b)
{
    return __builtin_mul_overflow(a, b, result);
}

/* *result = a + b; nonzero when it does not fit in a size_t. */
static inline int bcdi_ckd_add(size_t *result, size_t a, size_t b)
{
    return __builtin_add_overflow(a, b, result);
}

/* The same for signed counts (iterations, runs): nonzero when the result does not fit a long. */
static inline int bcdi_ckd_mul_long(long *result, long a, long b)
{
    return __builtin_mul_overflow(a, b, result);
}

static inline int bcdi_ckd_add_long(long *result, long a, long b)
{
    return __builtin_add_overflow(a, b, result);
}

/* The element count and byte count of an array of `rank` axes (rank 0: one element) of
 * elem_size-byte values. count and bytes may be NULL. When the product does not fit, or the
 * bytes exceed BCDI_CKD_MAX_BYTES, returns BCDI_ERR_FORMAT with a detail that starts with the
 * caller's description of where the shape came from (printf-style, e.g. "'%s': dataset '%s'"),
 * then the shape; *count and *bytes are then 0. */
bcdi_status bcdi_ckd_volume(const size_t *shape, int rank, size_t elem_size, size_t *count,
                            size_t *bytes, const char *where_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* "1 x 4611686018427387904 x 64" into buf (for messages); returns buf. */
const char *bcdi_ckd_shape_text(const size_t *shape, int rank, char *buf, size_t capacity);

#endif
