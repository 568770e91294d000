/* SPDX-License-Identifier: BSD-3-Clause */
/* .npy reader/writer (NumPy format 1.0-3.0): the header is a Python dict literal; we only look
 * for the three keys NumPy always writes ('descr', 'fortran_order', 'shape'). */
#include "io/npy.h"

#include "core/ckd.h"
#include "core/input_file.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *code; /* descr without the byte-order character */
    bcdi_npy_type type;
    size_t size;
} npy_types[] = {
    {"u1", BCDI_NPY_U1, 1}, {"u2", BCDI_NPY_U2, 2}, {"u4", BCDI_NPY_U4, 4}, {"u8", BCDI_NPY_U8, 8},
    {"i1", BCDI_NPY_I1, 1}, {"i2", BCDI_NPY_I2, 2}, {"i4", BCDI_NPY_I4, 4}, {"i8", BCDI_NPY_I8, 8},
    {"f4", BCDI_NPY_F4, 4}, {"f8", BCDI_NPY_F8, 8}, {"b1", BCDI_NPY_U1, 1},
};

/* Text after "'key':" (skipping blanks), or NULL. */
static const char *find_value(const char *header, const char *key)
{
    char pattern[32];
    snprintf(pattern, sizeof pattern, "'%s'", key);
    const char *p = strstr(header, pattern);
    if (!p) return NULL;
    p = strchr(p + strlen(pattern), ':');
    if (!p) return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

bcdi_status bcdi_npy_open(const char *path, bcdi_npy *npy)
{
    memset(npy, 0, sizeof *npy);
    if (!path) return bcdi_error(BCDI_ERR_INVALID_ARG, "npy: no path");
    snprintf(npy->path, sizeof npy->path, "%s", path);
    FILE *f;
    size_t file_size;
    bcdi_status opened = bcdi_input_open(path, ".npy file", 0, &f, &file_size);
    if (opened != BCDI_OK) return opened;
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, f);
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': not a .npy file (no \\x93NUMPY magic)", path);
    }
    unsigned major = pre[6];
    size_t header_len, header_start;
    if (major == 1) {
        header_len = (size_t)pre[8] | ((size_t)pre[9] << 8);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (got < 12) {
            fclose(f);
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': truncated .npy header", path);
        }
        header_len = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)pre[10] << 16) |
                     ((size_t)pre[11] << 24);
        header_start = 12;
    } else {
        fclose(f);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': .npy format version %u is not supported", path,
                          major);
    }
    if (header_len == 0 || header_len > 1u << 20) {
        fclose(f);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': implausible .npy header length %zu", path,
                          header_len);
    }
    char *header = malloc(header_len + 1);
    if (!header) {
        fclose(f);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    }
    if (fseek(f, (long)header_start, SEEK_SET) != 0 ||
        fread(header, 1, header_len, f) != header_len) {
        free(header);
        fclose(f);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': truncated .npy header", path);
    }
    header[header_len] = '\0';
    bcdi_status st = BCDI_OK;
    const char *descr = find_value(header, "descr");
    const char *order = find_value(header, "fortran_order");
    const char *shape = find_value(header, "shape");
    if (!descr || !order || !shape) {
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': .npy header lacks descr/fortran_order/shape: %s",
                        path, header);
        goto done;
    }
    if (strncmp(order, "False", 5) != 0) {
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': Fortran-ordered arrays are not supported (save "
                        "with numpy.ascontiguousarray)",
                        path);
        goto done;
    }
    /* descr: '<f4', '|u1', '>u2' ... */
    if (descr[0] != '\'' || strlen(descr) < 5) {
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot parse descr in %s", path, header);
        goto done;
    }
    char endian = descr[1];
    char code[3] = {descr[2], descr[3], '\0'};
    int found = 0;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (strcmp(code, npy_types[i].code) == 0 && descr[4] == '\'') {
            npy->type = npy_types[i].type;
            npy->element_size = npy_types[i].size;
            found = 1;
        }
    if (!found) {
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': dtype %.8s is not supported (expected integers "
                        "or float32/float64)",
                        path, descr);
        goto done;
    }
    int little = endian == '<' || (endian == '=' && host_little_endian()) || endian == '|';
    if (!little || !host_little_endian()) {
        if (npy->element_size > 1) {
            st = bcdi_error(BCDI_ERR_FORMAT, "'%s': big-endian arrays are not supported", path);
            goto done;
        }
    }
    /* shape: (a, b, c) */
    const char *p = shape;
    if (*p != '(') {
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot parse shape in %s", path, header);
        goto done;
    }
    p++;
    npy->rank = 0;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')') break;
        /* digits only: strtoull would take "-1" as 2^64 - 1 */
        if (!(*p >= '0' && *p <= '9')) {
            st = bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot parse shape in %s", path, header);
            goto done;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno == ERANGE || v > SIZE_MAX || npy->rank >= 8) {
            st = bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot parse shape in %s", path, header);
            goto done;
        }
        npy->dims[npy->rank++] = (size_t)v;
        p = end;
    }
    if (*p != ')') {
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot parse shape in %s", path, header);
        goto done;
    }
    npy->data_offset = (long long)(header_start + header_len);
    /* the file must hold every element the shape promises (checked sizes: a shape whose byte
     * count wraps must not pass as a small one) */
    size_t total, needed;
    if ((st = bcdi_ckd_volume(npy->dims, npy->rank, npy->element_size, NULL, &total, "'%s'",
                              path)) != BCDI_OK)
        goto done;
    if (bcdi_ckd_add(&needed, (size_t)npy->data_offset, total) || file_size < needed) {
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': truncated: the shape needs %zu data bytes, the file has %lld", path,
                        total, (long long)file_size - npy->data_offset);
        goto done;
    }
done:
    free(header);
    if (st != BCDI_OK) {
        fclose(f);
        return st;
    }
    npy->file = f;
    return BCDI_OK;
}

void bcdi_npy_close(bcdi_npy *npy)
{
    if (npy && npy->file) {
        fclose(npy->file);
        npy->file = NULL;
    }
}

bcdi_dtype bcdi_npy_dtype(const bcdi_npy *npy)
{
    switch (npy->type) {
    case BCDI_NPY_U1:
        return BCDI_DT_U8;
    case BCDI_NPY_U2:
        return BCDI_DT_U16;
    case BCDI_NPY_U4:
        return BCDI_DT_U32;
    case BCDI_NPY_I1:
    case BCDI_NPY_I2:
    case BCDI_NPY_I4:
        return BCDI_DT_I32;
    case BCDI_NPY_F4:
        return BCDI_DT_F32;
    default:
        return BCDI_DT_F64;
    }
}

static float element_to_float(const unsigned char *p, bcdi_npy_type type)
{
    switch (type) {
    case BCDI_NPY_U1:
        return (float)*p;
    case BCDI_NPY_I1:
        return (float)*(const int8_t *)p;
    case BCDI_NPY_U2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return (float)v;
    }
    case BCDI_NPY_I2: {
        int16_t v;
        memcpy(&v, p, 2);
        return (float)v;
    }
    case BCDI_NPY_U4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return (float)v;
    }
    case BCDI_NPY_I4: {
        int32_t v;
        memcpy(&v, p, 4);
        return (float)v;
    }
    case BCDI_NPY_U8: {
        uint64_t v;
        memcpy(&v, p, 8);
        return (float)v;
    }
    case BCDI_NPY_I8: {
        int64_t v;
        memcpy(&v, p, 8);
        return (float)v;
    }
    case BCDI_NPY_F4: {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    case BCDI_NPY_F8: {
        double v;
        memcpy(&v, p, 8);
        return (float)v;
    }
    }
    return 0.0f;
}

bcdi_status bcdi_npy_read_region(bcdi_npy *npy, size_t f, size_t r0, size_t nr, size_t c0,
                                 size_t nc, float *out)
{
    if (!npy || !npy->file || !out) return bcdi_error(BCDI_ERR_INVALID_ARG, "npy: file not open");
    if (npy->rank < 2 || npy->rank > 3)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': rank %d, expected 2 or 3", npy->path,
                          npy->rank);
    size_t frames = npy->rank == 3 ? npy->dims[0] : 1;
    size_t rows = npy->dims[npy->rank - 2], cols = npy->dims[npy->rank - 1];
    if (f >= frames || r0 > rows || nr > rows - r0 || c0 > cols || nc > cols - c0)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "'%s': region frame %zu rows %zu..%zu columns "
                          "%zu..%zu outside the array",
                          npy->path, f, r0, r0 + nr, c0, c0 + nc);
    unsigned char *line = malloc(nc * npy->element_size + 1);
    if (!line) return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", npy->path);
    bcdi_status st = BCDI_OK;
    for (size_t r = 0; r < nr && st == BCDI_OK; r++) {
        long long element =
            ((long long)f * (long long)rows + (long long)(r0 + r)) * (long long)cols +
            (long long)c0;
        long long offset = npy->data_offset + element * (long long)npy->element_size;
        if (fseeko(npy->file, (off_t)offset, SEEK_SET) != 0 ||
            fread(line, npy->element_size, nc, npy->file) != nc) {
            st = bcdi_error(BCDI_ERR_IO, "'%s': cannot read frame %zu row %zu", npy->path, f,
                            r0 + r);
            break;
        }
        for (size_t c = 0; c < nc; c++)
            out[r * nc + c] = element_to_float(line + c * npy->element_size, npy->type);
    }
    free(line);
    return st;
}

bcdi_status bcdi_npy_write(bcdi_output *tx, const char *path, bcdi_dtype type, int rank,
                           const size_t *dims, const void *data)
{
    const char *descr;
    switch (type) {
    case BCDI_DT_F32:
        descr = "<f4";
        break;
    case BCDI_DT_U16:
        descr = "<u2";
        break;
    case BCDI_DT_U32:
        descr = "<u4";
        break;
    case BCDI_DT_I32:
        descr = "<i4";
        break;
    case BCDI_DT_F64:
        descr = "<f8";
        break;
    default:
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "'%s': .npy writing supports float32/64, "
                          "uint16/32 and int32, not %s",
                          path, bcdi_dtype_name(type));
    }
    if (!host_little_endian())
        return bcdi_error(BCDI_ERR_UNSUPPORTED, "'%s': .npy writing needs a little-endian host",
                          path);
    char header[256], shape[160] = "";
    size_t total = 1, used = 0;
    for (int i = 0; i < rank; i++) {
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%zu,%s", dims[i],
                                 (i + 1 < rank) ? " " : "");
        total *= dims[i];
    }
    if (rank > 1) shape[used - 1] = '\0'; /* "(3,)" for rank 1, "(3, 4)" otherwise */
    int n = snprintf(header, sizeof header,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
    /* pad with spaces so that the data starts on a 64-byte boundary, then '\n' */
    size_t len = (size_t)n + 1, pad = (64 - (10 + len) % 64) % 64;
    bcdi_output *own;
    FILE *f;
    bcdi_status st = bcdi_output_stream(tx, &own, path, &f);
    if (st != BCDI_OK) return st;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    size_t hl = (size_t)n + pad + 1;
    pre[8] = (unsigned char)(hl & 0xff);
    pre[9] = (unsigned char)(hl >> 8);
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; i < pad && ok; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(data, bcdi_dtype_size(type), total, f) == total;
    if (!ok) st = bcdi_error(BCDI_ERR_IO, "'%s': cannot write: %s", path, strerror(errno));
    return bcdi_output_finish(own, st);
}
