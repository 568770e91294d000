/* SPDX-License-Identifier: BSD-3-Clause */
/* HDF5 layer, types: bcdi_dtype <-> HDF5 types (complex64 as h5py's compound {r, i}), the
 * quiet error handling every HDF5 call goes through, and path checks shared by reading and
 * writing. */
#include "io/hdf5_internal.h"

#include "core/ckd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library must never print: silence HDF5 once per call path (cheap, idempotent). */
void h5i_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t first_error_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    char *buf = data;
    if (buf[0] == '\0' && e->desc && e->desc[0]) snprintf(buf, 256, "%s", e->desc);
    return 0;
}

/* Innermost message of HDF5's error stack (e.g. "truncated file: eof = ..."), or "". */
const char *h5i_error_text(void)
{
    static _Thread_local char buf[256];
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

const char *h5i_write_error_text(void)
{
    const char *text = h5i_error_text();
    /* sec2 driver: "... errno = 28, error message = 'No space left on device', buf = ..." */
    const char *at = strstr(text, "error message = '");
    if (!at) return text;
    static _Thread_local char reason[128];
    at += strlen("error message = '");
    const char *end = strchr(at, '\'');
    snprintf(reason, sizeof reason, "%.*s", end ? (int)(end - at) : (int)strlen(at), at);
    return reason;
}

void bcdi_h5_process_init(void)
{
    /* HDF5 1.10 crashes (SIGSEGV in H5F__close_cb) in its exit handler when a file's close
     * failed, e.g. on a full disk: that file stays half-closed and the handler closes it again.
     * Without the handler nothing is lost: every file this program opens is closed explicitly. */
    H5dont_atexit();
    h5i_quiet();
}

char *h5i_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

size_t bcdi_dtype_size(bcdi_dtype type)
{
    switch (type) {
    case BCDI_DT_U8:
        return 1;
    case BCDI_DT_U16:
        return 2;
    case BCDI_DT_U32:
        return 4;
    case BCDI_DT_I32:
        return 4;
    case BCDI_DT_F32:
        return 4;
    case BCDI_DT_F64:
        return 8;
    case BCDI_DT_CF32:
        return 8;
    }
    return 0;
}

const char *bcdi_dtype_name(bcdi_dtype type)
{
    switch (type) {
    case BCDI_DT_U8:
        return "uint8";
    case BCDI_DT_U16:
        return "uint16";
    case BCDI_DT_U32:
        return "uint32";
    case BCDI_DT_I32:
        return "int32";
    case BCDI_DT_F32:
        return "float32";
    case BCDI_DT_F64:
        return "float64";
    case BCDI_DT_CF32:
        return "complex64";
    }
    return "unknown";
}

/* Compound {r, i} as h5py writes complex64; `file` picks little-endian on disk. */
static hid_t complex_type(int file)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, 8);
    if (t < 0) return t;
    hid_t f = file ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT;
    H5Tinsert(t, "r", 0, f);
    H5Tinsert(t, "i", 4, f);
    return t;
}

/* Returned types must be closed with H5Tclose (copies, so closing is always valid). */
hid_t h5i_mem_type(bcdi_dtype t)
{
    switch (t) {
    case BCDI_DT_U8:
        return H5Tcopy(H5T_NATIVE_UINT8);
    case BCDI_DT_U16:
        return H5Tcopy(H5T_NATIVE_UINT16);
    case BCDI_DT_U32:
        return H5Tcopy(H5T_NATIVE_UINT32);
    case BCDI_DT_I32:
        return H5Tcopy(H5T_NATIVE_INT32);
    case BCDI_DT_F32:
        return H5Tcopy(H5T_NATIVE_FLOAT);
    case BCDI_DT_F64:
        return H5Tcopy(H5T_NATIVE_DOUBLE);
    case BCDI_DT_CF32:
        return complex_type(0);
    }
    return -1;
}

hid_t h5i_file_type(bcdi_dtype t)
{
    switch (t) {
    case BCDI_DT_U8:
        return H5Tcopy(H5T_STD_U8LE);
    case BCDI_DT_U16:
        return H5Tcopy(H5T_STD_U16LE);
    case BCDI_DT_U32:
        return H5Tcopy(H5T_STD_U32LE);
    case BCDI_DT_I32:
        return H5Tcopy(H5T_STD_I32LE);
    case BCDI_DT_F32:
        return H5Tcopy(H5T_IEEE_F32LE);
    case BCDI_DT_F64:
        return H5Tcopy(H5T_IEEE_F64LE);
    case BCDI_DT_CF32:
        return complex_type(1);
    }
    return -1;
}

int h5i_valid_dtype(bcdi_dtype t)
{
    return t >= BCDI_DT_U8 && t <= BCDI_DT_CF32;
}

hid_t h5i_utf8_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Is this stored type a complex pair as h5py/PyNX write it (two float members r,i)? */
int h5i_is_complex(hid_t t)
{
    if (H5Tget_class(t) != H5T_COMPOUND || H5Tget_nmembers(t) != 2) return 0;
    int ok = 1;
    for (unsigned m = 0; m < 2 && ok; m++) {
        char *name = H5Tget_member_name(t, m);
        ok =
            name && strcmp(name, m == 0 ? "r" : "i") == 0 && H5Tget_member_class(t, m) == H5T_FLOAT;
        if (name) H5free_memory(name);
    }
    return ok;
}

/* Human name of a stored type ("uint16", "float64", "complex64", "string", ...). */
void h5i_type_text(hid_t t, char *buf, size_t cap)
{
    H5T_class_t c = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    switch (c) {
    case H5T_INTEGER:
        snprintf(buf, cap, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", size * 8);
        return;
    case H5T_FLOAT:
        snprintf(buf, cap, "float%zu", size * 8);
        return;
    case H5T_STRING:
        snprintf(buf, cap, "%s", H5Tis_variable_str(t) > 0 ? "string" : "fixed string");
        return;
    case H5T_COMPOUND:
        if (h5i_is_complex(t))
            snprintf(buf, cap, "complex%zu", size * 8);
        else
            snprintf(buf, cap, "compound(%d members)", H5Tget_nmembers(t));
        return;
    case H5T_ENUM:
        snprintf(buf, cap, "enum");
        return;
    default:
        snprintf(buf, cap, "other(class %d)", (int)c);
        return;
    }
}

/* Nearest bcdi_dtype of a stored type; -1 when there is none (strings, odd compounds). */
int h5i_stored_dtype(hid_t t, bcdi_dtype *out)
{
    H5T_class_t c = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    if (c == H5T_INTEGER || c == H5T_ENUM) {
        int sgn = H5Tget_sign(t) != H5T_SGN_NONE;
        if (!sgn && size == 1)
            *out = BCDI_DT_U8;
        else if (!sgn && size == 2)
            *out = BCDI_DT_U16;
        else if (!sgn && size == 4)
            *out = BCDI_DT_U32;
        else if (size <= 4)
            *out = BCDI_DT_I32;
        else
            *out = BCDI_DT_F64; /* 64-bit integers: float64 holds them up to 2^53 */
        return 0;
    }
    if (c == H5T_FLOAT) {
        *out = size <= 4 ? BCDI_DT_F32 : BCDI_DT_F64;
        return 0;
    }
    if (h5i_is_complex(t)) {
        *out = BCDI_DT_CF32;
        return 0;
    }
    return -1;
}

/* Does every component of `path` exist (links may dangle: checked by H5Oexists_by_name)? */
int h5i_path_exists(hid_t file, const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (buf[0] != '\0' && strcmp(buf, "/") != 0) {
                if (H5Lexists(file, buf, H5P_DEFAULT) <= 0 ||
                    H5Oexists_by_name(file, buf, H5P_DEFAULT) <= 0) {
                    H5Eclear2(H5E_DEFAULT);
                    return 0;
                }
            }
            buf[i] = c;
        }
    }
    return 1;
}

/* Select start/count in the dataset's space after checking the bounds. */
static bcdi_status select_slab(hid_t d, const char *file, const char *path, const size_t *start,
                               const size_t *count, hid_t *fspace, hid_t *mspace)
{
    hid_t fs = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(fs);
    hsize_t dims[8], st[8], ct[8];
    if (rank < 1 || rank > 8) {
        H5Sclose(fs);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has rank %d, slabs need 1..8", file, path,
                          rank);
    }
    H5Sget_simple_extent_dims(fs, dims, NULL);
    for (int i = 0; i < rank; i++) {
        st[i] = start[i];
        ct[i] = count[i];
        if (st[i] > dims[i] || ct[i] > dims[i] - st[i]) {
            H5Sclose(fs);
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "'%s': slab of '%s' on axis %d is %zu..%zu, the dataset has %llu",
                              file, path, i, start[i], start[i] + count[i],
                              (unsigned long long)dims[i]);
        }
    }
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL);
    *fspace = fs;
    *mspace = H5Screate_simple(rank, ct, NULL);
    return BCDI_OK;
}

bcdi_status h5i_transfer(hid_t d, const char *file, const char *path, bcdi_dtype type,
                         const size_t *start, const size_t *count, void *buffer, int write)
{
    hid_t fs = H5S_ALL, ms = H5S_ALL;
    bcdi_status st = start ? select_slab(d, file, path, start, count, &fs, &ms) : BCDI_OK;
    if (st != BCDI_OK) return st;
    hid_t mt = h5i_mem_type(type);
    herr_t e = write ? H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, buffer)
                     : H5Dread(d, mt, ms, fs, H5P_DEFAULT, buffer);
    H5Tclose(mt);
    if (start) {
        H5Sclose(ms);
        H5Sclose(fs);
    }
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot %s %s'%s' as %s: %s", file,
                          write ? "write" : "read", start ? "a slab of " : "", path,
                          bcdi_dtype_name(type), write ? h5i_write_error_text() : h5i_error_text());
    return BCDI_OK;
}

hssize_t h5i_npoints(hid_t space)
{
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK];
    if (rank < 0 || rank > H5S_MAX_RANK || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        return -1;
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        if (dims[i] > SIZE_MAX || bcdi_ckd_mul(&n, n, (size_t)dims[i]) || n > BCDI_CKD_MAX_BYTES)
            return -1;
    return (hssize_t)n;
}

/* Read a scalar or 1-element string dataset/attribute value into out (fixed or variable). */
int h5i_read_string(hid_t obj, int is_attr, char *out, size_t capacity)
{
    hid_t t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    if (t < 0 || H5Tget_class(t) != H5T_STRING) {
        if (t >= 0) H5Tclose(t);
        return -1;
    }
    hid_t s = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hssize_t n = h5i_npoints(s);
    H5Sclose(s);
    int rc = -1;
    if (n == 1 && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        char *v = NULL;
        herr_t e =
            is_attr ? H5Aread(obj, mt, &v) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
        if (e >= 0) {
            snprintf(out, capacity, "%s", v ? v : "");
            rc = v && strlen(v) >= capacity ? 1 : 0;
            H5free_memory(v);
        }
        H5Tclose(mt);
    } else if (n == 1) {
        size_t size = H5Tget_size(t);
        char *buf = calloc(size + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, size + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        H5Tset_cset(mt, H5Tget_cset(t));
        herr_t e = !buf      ? -1
                   : is_attr ? H5Aread(obj, mt, buf)
                             : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        if (e >= 0) {
            snprintf(out, capacity, "%s", buf);
            rc = strlen(buf) >= capacity ? 1 : 0;
        }
        free(buf);
        H5Tclose(mt);
    }
    H5Tclose(t);
    return rc;
}

void h5i_shape_text(hid_t d, char *buf, size_t cap)
{
    hid_t s = H5Dget_space(d);
    int n = H5Sget_simple_extent_ndims(s);
    hsize_t dims[H5S_MAX_RANK];
    if (n <= 0) {
        snprintf(buf, cap, "scalar");
    } else {
        H5Sget_simple_extent_dims(s, dims, NULL);
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < n && len < cap; i++)
            len += (size_t)snprintf(buf + len, cap - len, "%s%llu", i ? " x " : "",
                                    (unsigned long long)dims[i]);
    }
    H5Sclose(s);
}
