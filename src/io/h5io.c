/* Thin HDF5 layer: atomic writers (temporary name + rename), type-converting readers, and a
 * describer for `braggcdi info`. HDF5's automatic error printing is off; failures become
 * bcdi_status values with messages that name the file and the dataset. */
#include "io/h5io.h"

#include <hdf5.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct bcdi_h5_writer {
    hid_t file;
    char *final_path;
    char *tmp_path;
};

struct bcdi_h5_reader {
    hid_t file;
    char *path;
};

/* The library must never print: silence HDF5 once per call path (cheap, idempotent). */
static void h5_quiet(void)
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
static const char *h5_error_text(void)
{
    static _Thread_local char buf[256];
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

static char *dup_str(const char *s)
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
static hid_t mem_type(bcdi_dtype t)
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

static hid_t file_type(bcdi_dtype t)
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

static int valid_dtype(bcdi_dtype t)
{
    return t >= BCDI_DT_U8 && t <= BCDI_DT_CF32;
}

static hid_t utf8_vlen_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Is this stored type a complex pair as h5py/PyNX write it (two float members r,i)? */
static int is_complex_compound(hid_t t)
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
static void type_text(hid_t t, char *buf, size_t cap)
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
        if (is_complex_compound(t))
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
static int stored_dtype(hid_t t, bcdi_dtype *out)
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
    if (is_complex_compound(t)) {
        *out = BCDI_DT_CF32;
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* temporary names                                                                            */

static atomic_uint temp_counter;

bcdi_status bcdi_io_temp_name(const char *final_path, char *out, size_t capacity)
{
    if (!final_path || !final_path[0] || !out)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "temporary name: empty output path");
    const char *slash = strrchr(final_path, '/');
    const char *base = slash ? slash + 1 : final_path;
    if (!base[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': output path names a folder, not a file",
                          final_path);
    int dirlen = slash ? (int)(slash - final_path + 1) : 0;
    unsigned n = atomic_fetch_add(&temp_counter, 1u);
    int len =
        snprintf(out, capacity, "%.*s.%s.tmp-%ld-%u", dirlen, final_path, base, (long)getpid(), n);
    if (len < 0 || (size_t)len >= capacity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': path too long", final_path);
    return BCDI_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* writing                                                                                    */

bcdi_status bcdi_h5_create(const char *final_path, bcdi_h5_writer **out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_create: out is NULL");
    *out = NULL;
    h5_quiet();
    char tmp[PATH_MAX];
    bcdi_status st = bcdi_io_temp_name(final_path, tmp, sizeof tmp);
    if (st != BCDI_OK) return st;
    /* a missing folder is the common mistake: say so instead of HDF5's generic failure */
    char dir[PATH_MAX];
    const char *slash = strrchr(final_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - final_path) : 1,
             slash ? (slash == final_path ? "/" : final_path) : ".");
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: folder '%s' does not exist", final_path,
                          dir);
    if (stat(final_path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write: it is a folder", final_path);
    bcdi_h5_writer *w = calloc(1, sizeof *w);
    if (!w) return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", final_path);
    w->final_path = dup_str(final_path);
    w->tmp_path = dup_str(tmp);
    if (!w->final_path || !w->tmp_path) {
        free(w->final_path);
        free(w->tmp_path);
        free(w);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", final_path);
    }
    /* STRONG close: H5Fclose really closes, so rename sees a complete file. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    w->file = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (w->file < 0) {
        int err = errno;
        const char *why = h5_error_text();
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot create temporary file '%s': %s (%s)", final_path,
                        tmp, why[0] ? why : "HDF5 error", strerror(err));
        free(w->final_path);
        free(w->tmp_path);
        free(w);
        return st;
    }
    *out = w;
    return BCDI_OK;
}

/* Link-creation property list that creates missing parent groups. */
static hid_t lcpl_parents(void)
{
    hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    H5Pset_char_encoding(l, H5T_CSET_UTF8);
    return l;
}

/* Does every component of `path` exist (links may dangle: checked by H5Oexists_by_name)? */
static int path_exists(hid_t file, const char *path)
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

static bcdi_status set_attr_string(hid_t obj, const char *name, const char *value, const char *file,
                                   const char *objpath)
{
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t t = utf8_vlen_type();
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write attribute '%s' on '%s': %s", file, name,
                          objpath, h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_group(bcdi_h5_writer *w, const char *path, const char *nx_class)
{
    if (!w || !path) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_group: NULL argument");
    hid_t g;
    if (path_exists(w->file, path)) {
        g = H5Gopen2(w->file, path, H5P_DEFAULT);
        if (g < 0)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' exists and is not a group",
                              w->final_path, path);
    } else {
        hid_t l = lcpl_parents();
        g = H5Gcreate2(w->file, path, l, H5P_DEFAULT, H5P_DEFAULT);
        H5Pclose(l);
        if (g < 0)
            return bcdi_error(BCDI_ERR_IO, "'%s': cannot create group '%s': %s", w->final_path,
                              path, h5_error_text());
    }
    bcdi_status st = BCDI_OK;
    if (nx_class) st = set_attr_string(g, "NX_class", nx_class, w->final_path, path);
    H5Gclose(g);
    return st;
}

/* Chunk shape for a whole-array write: one plane (last two axes) per chunk, shrunk to ~1 MiB. */
static void auto_chunk(int rank, const size_t *dims, size_t elsize, hsize_t *chunk)
{
    const size_t cap = (size_t)1 << 20;
    for (int i = 0; i < rank; i++)
        chunk[i] = (i >= rank - 2) ? (dims[i] ? dims[i] : 1) : 1;
    for (;;) {
        size_t bytes = elsize;
        for (int i = 0; i < rank; i++)
            bytes *= (size_t)chunk[i];
        if (bytes <= cap) break;
        int big = 0; /* halve the largest axis until the chunk fits */
        for (int i = 1; i < rank; i++)
            if (chunk[i] > chunk[big]) big = i;
        if (chunk[big] <= 1) break;
        chunk[big] = (chunk[big] + 1) / 2;
    }
}

static bcdi_status make_dataset(bcdi_h5_writer *w, const char *path, bcdi_dtype type, int rank,
                                const size_t *dims, const size_t *chunk_dims, int deflate_level,
                                int force_chunk, hid_t *out)
{
    if (!w || !path || rank < 0 || rank > 8 || (rank > 0 && !dims) || !valid_dtype(type))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': bad arguments for dataset '%s'",
                          w ? w->final_path : "?", path ? path : "?");
    if (deflate_level < 0 || deflate_level > 9)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': deflate level %d for '%s' is not 0..9",
                          w->final_path, deflate_level, path);
    if (path_exists(w->file, path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': dataset '%s' already written", w->final_path,
                          path);
    hsize_t hd[8], hc[8];
    size_t total = 1;
    for (int i = 0; i < rank; i++) {
        hd[i] = dims[i];
        total *= dims[i];
    }
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, hd, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rank > 0 && total > 0 && (deflate_level > 0 || force_chunk)) {
        if (chunk_dims) {
            for (int i = 0; i < rank; i++)
                hc[i] = chunk_dims[i] ? (chunk_dims[i] < dims[i] ? chunk_dims[i] : dims[i]) : 1;
        } else {
            auto_chunk(rank, dims, bcdi_dtype_size(type), hc);
        }
        H5Pset_chunk(dcpl, rank, hc);
        if (deflate_level > 0) {
            /* shuffle groups bytes of equal significance: counts compress much better */
            if (bcdi_dtype_size(type) > 1) H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, (unsigned)deflate_level);
        }
    }
    hid_t ft = file_type(type);
    hid_t l = lcpl_parents();
    hid_t d = H5Dcreate2(w->file, path, ft, space, l, dcpl, H5P_DEFAULT);
    H5Pclose(l);
    H5Tclose(ft);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (d < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot create dataset '%s': %s", w->final_path, path,
                          h5_error_text());
    *out = d;
    return BCDI_OK;
}

bcdi_status bcdi_h5_write(bcdi_h5_writer *w, const char *path, bcdi_dtype type, int rank,
                          const size_t *dims, const void *data, int deflate_level)
{
    hid_t d = -1;
    bcdi_status st = make_dataset(w, path, type, rank, dims, NULL, deflate_level, 0, &d);
    if (st != BCDI_OK) return st;
    size_t total = 1;
    for (int i = 0; i < rank; i++)
        total *= dims[i];
    herr_t e = 0;
    if (total > 0) {
        if (!data) {
            H5Dclose(d);
            return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': no data for '%s'", w->final_path, path);
        }
        hid_t mt = mem_type(type);
        e = H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Tclose(mt);
    }
    H5Dclose(d);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write dataset '%s': %s", w->final_path, path,
                          h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_write_double(bcdi_h5_writer *w, const char *path, double value,
                                 const char *units)
{
    bcdi_status st = bcdi_h5_write(w, path, BCDI_DT_F64, 0, NULL, &value, 0);
    if (st == BCDI_OK && units) st = bcdi_h5_attr_string(w, path, "units", units);
    return st;
}

bcdi_status bcdi_h5_write_int(bcdi_h5_writer *w, const char *path, long value)
{
    if (!w || !path) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_write_int: NULL argument");
    if (path_exists(w->file, path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': dataset '%s' already written", w->final_path,
                          path);
    /* stored as int64 whatever `long` is, so files agree between platforms */
    long long v = value;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t l = lcpl_parents();
    hid_t d = H5Dcreate2(w->file, path, H5T_STD_I64LE, s, l, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(l);
    H5Sclose(s);
    herr_t e = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    if (d >= 0) H5Dclose(d);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write '%s': %s", w->final_path, path,
                          h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_write_string(bcdi_h5_writer *w, const char *path, const char *value)
{
    if (!w || !path || !value)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_write_string: NULL argument");
    if (path_exists(w->file, path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': dataset '%s' already written", w->final_path,
                          path);
    hid_t t = utf8_vlen_type();
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t l = lcpl_parents();
    hid_t d = H5Dcreate2(w->file, path, t, s, l, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = d < 0 ? -1 : H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
    if (d >= 0) H5Dclose(d);
    H5Pclose(l);
    H5Sclose(s);
    H5Tclose(t);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write string '%s': %s", w->final_path, path,
                          h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_attr_string(bcdi_h5_writer *w, const char *object_path, const char *name,
                                const char *value)
{
    if (!w || !object_path || !name || !value)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_attr_string: NULL argument");
    if (!path_exists(w->file, object_path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': cannot set attribute '%s': '%s' not found",
                          w->final_path, name, object_path);
    hid_t o = H5Oopen(w->file, object_path, H5P_DEFAULT);
    if (o < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot open '%s': %s", w->final_path, object_path,
                          h5_error_text());
    bcdi_status st = set_attr_string(o, name, value, w->final_path, object_path);
    H5Oclose(o);
    return st;
}

bcdi_status bcdi_h5_attr_int(bcdi_h5_writer *w, const char *object_path, const char *name,
                             long value)
{
    if (!w || !object_path || !name)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_attr_int: NULL argument");
    hid_t o = path_exists(w->file, object_path) ? H5Oopen(w->file, object_path, H5P_DEFAULT) : -1;
    if (o < 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': cannot set attribute '%s': '%s' not found",
                          w->final_path, name, object_path);
    if (H5Aexists(o, name) > 0) H5Adelete(o, name);
    long long v = value;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_LLONG, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(s);
    H5Oclose(o);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write attribute '%s' on '%s'", w->final_path,
                          name, object_path);
    return BCDI_OK;
}

bcdi_status bcdi_h5_link_soft(bcdi_h5_writer *w, const char *link_path, const char *target_path)
{
    if (!w || !link_path || !target_path)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_link_soft: NULL argument");
    char target[1024];
    /* soft links are resolved from the root only when absolute */
    snprintf(target, sizeof target, "%s%s", target_path[0] == '/' ? "" : "/", target_path);
    hid_t l = lcpl_parents();
    herr_t e = H5Lcreate_soft(target, w->file, link_path, l, H5P_DEFAULT);
    H5Pclose(l);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot link '%s' -> '%s': %s", w->final_path,
                          link_path, target, h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_create_dataset(bcdi_h5_writer *w, const char *path, bcdi_dtype type, int rank,
                                   const size_t *dims, const size_t *chunk_dims, int deflate_level)
{
    if (rank < 1)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': piecewise dataset '%s' needs rank >= 1",
                          w ? w->final_path : "?", path ? path : "?");
    hid_t d = -1;
    bcdi_status st = make_dataset(w, path, type, rank, dims, chunk_dims, deflate_level, 1, &d);
    if (st == BCDI_OK) H5Dclose(d);
    return st;
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
        if (st[i] + ct[i] > dims[i]) {
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

bcdi_status bcdi_h5_write_slab(bcdi_h5_writer *w, const char *path, bcdi_dtype type,
                               const size_t *start, const size_t *count, const void *data)
{
    if (!w || !path || !start || !count || !data || !valid_dtype(type))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_write_slab: bad argument");
    hid_t d = path_exists(w->file, path) ? H5Dopen2(w->file, path, H5P_DEFAULT) : -1;
    if (d < 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': dataset '%s' was not created", w->final_path,
                          path);
    hid_t fs, ms;
    bcdi_status st = select_slab(d, w->final_path, path, start, count, &fs, &ms);
    if (st != BCDI_OK) {
        H5Dclose(d);
        return st;
    }
    hid_t mt = mem_type(type);
    herr_t e = H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, data);
    H5Tclose(mt);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write slab of '%s': %s", w->final_path, path,
                          h5_error_text());
    return BCDI_OK;
}

static void writer_free(bcdi_h5_writer *w)
{
    free(w->final_path);
    free(w->tmp_path);
    free(w);
}

bcdi_status bcdi_h5_commit(bcdi_h5_writer *w)
{
    if (!w) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_commit: NULL writer");
    bcdi_status st = BCDI_OK;
    if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(w->file) < 0) {
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot close temporary '%s': %s", w->final_path,
                        w->tmp_path, h5_error_text());
    } else if (rename(w->tmp_path, w->final_path) != 0) {
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot rename temporary '%s' to it: %s", w->final_path,
                        w->tmp_path, strerror(errno));
    }
    if (st != BCDI_OK) unlink(w->tmp_path);
    writer_free(w);
    return st;
}

void bcdi_h5_abort(bcdi_h5_writer *w)
{
    if (!w) return;
    H5Fclose(w->file);
    H5Eclear2(H5E_DEFAULT);
    unlink(w->tmp_path);
    writer_free(w);
}

const char *bcdi_h5_writer_temp_path(const bcdi_h5_writer *w)
{
    return w ? w->tmp_path : NULL;
}
const char *bcdi_h5_writer_path(const bcdi_h5_writer *w)
{
    return w ? w->final_path : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* reading                                                                                    */

bcdi_status bcdi_h5_open(const char *path, bcdi_h5_reader **out)
{
    if (!path || !out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_open: NULL argument");
    *out = NULL;
    h5_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return bcdi_error(BCDI_ERR_IO, "'%s': not a regular file", path);
    FILE *probe = fopen(path, "rb");
    if (!probe) return bcdi_error(BCDI_ERR_IO, "'%s': cannot open: %s", path, strerror(errno));
    fclose(probe);
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': not an HDF5 file (no HDF5 signature, %lld bytes)",
                          path, (long long)sb.st_size);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        const char *why = h5_error_text();
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': HDF5 signature found but the file cannot be opened "
                          "(truncated or damaged? %lld bytes): %s",
                          path, (long long)sb.st_size, why[0] ? why : "HDF5 error");
    }
    bcdi_h5_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = dup_str(path))) {
        free(r);
        H5Fclose(f);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    }
    r->file = f;
    *out = r;
    return BCDI_OK;
}

void bcdi_h5_close(bcdi_h5_reader *r)
{
    if (!r) return;
    H5Fclose(r->file);
    free(r->path);
    free(r);
}

const char *bcdi_h5_path(const bcdi_h5_reader *r)
{
    return r ? r->path : "";
}

int bcdi_h5_exists(bcdi_h5_reader *r, const char *path)
{
    return r && path && path_exists(r->file, path);
}

/* Error for a missing dataset, listing what the file holds (one line, comma-separated). */
static bcdi_status missing(bcdi_h5_reader *r, const char *path)
{
    char list[1400], joined[1500];
    if (bcdi_h5_list(r, list, sizeof list) != BCDI_OK) snprintf(list, sizeof list, "(cannot list)");
    size_t j = 0;
    for (const char *p = list; *p && j + 3 < sizeof joined; p++) {
        if (*p != '\n') {
            joined[j++] = *p;
        } else if (p[1]) { /* one line for the message: "a (..); b (..)" */
            joined[j++] = ';';
            joined[j++] = ' ';
        }
    }
    joined[j] = '\0';
    return bcdi_error(BCDI_ERR_FORMAT, "'%s': dataset '%s' not found; datasets present: %s",
                      r->path, path, j ? joined : "(none)");
}

static bcdi_status open_dataset(bcdi_h5_reader *r, const char *path, hid_t *out)
{
    if (!r || !path) return bcdi_error(BCDI_ERR_INVALID_ARG, "HDF5 read: NULL argument");
    h5_quiet();
    if (!path_exists(r->file, path)) return missing(r, path);
    hid_t o = H5Oopen(r->file, path, H5P_DEFAULT);
    if (o < 0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot open '%s': %s", r->path, path,
                          h5_error_text());
    if (H5Iget_type(o) != H5I_DATASET) {
        H5Oclose(o);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' is a group, expected a dataset", r->path,
                          path);
    }
    *out = o;
    return BCDI_OK;
}

bcdi_status bcdi_h5_shape(bcdi_h5_reader *r, const char *path, int *rank, size_t dims[8],
                          bcdi_dtype *stored)
{
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    hid_t s = H5Dget_space(d);
    int n = H5Sget_simple_extent_ndims(s);
    hsize_t hd[H5S_MAX_RANK];
    if (n > 8 || n < 0) {
        H5Sclose(s);
        H5Dclose(d);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has rank %d, at most 8 supported", r->path,
                          path, n);
    }
    H5Sget_simple_extent_dims(s, hd, NULL);
    H5Sclose(s);
    if (rank) *rank = n;
    if (dims)
        for (int i = 0; i < n; i++)
            dims[i] = (size_t)hd[i];
    if (stored) {
        hid_t t = H5Dget_type(d);
        if (stored_dtype(t, stored) != 0) {
            char tt[64];
            type_text(t, tt, sizeof tt);
            H5Tclose(t);
            H5Dclose(d);
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' holds %s, expected a numeric type",
                              r->path, path, tt);
        }
        H5Tclose(t);
    }
    H5Dclose(d);
    return BCDI_OK;
}

/* Can the stored type be read as `want`? (complex <-> real is refused, not guessed.) */
static bcdi_status check_convertible(bcdi_h5_reader *r, const char *path, hid_t d, bcdi_dtype want)
{
    hid_t t = H5Dget_type(d);
    bcdi_dtype st;
    int ok = stored_dtype(t, &st) == 0 && ((st == BCDI_DT_CF32) == (want == BCDI_DT_CF32));
    char tt[64];
    type_text(t, tt, sizeof tt);
    H5Tclose(t);
    if (!ok)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' holds %s, which cannot be read as %s",
                          r->path, path, tt, bcdi_dtype_name(want));
    return BCDI_OK;
}

bcdi_status bcdi_h5_read(bcdi_h5_reader *r, const char *path, bcdi_dtype want, void *out,
                         size_t capacity)
{
    if (!valid_dtype(want)) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read: bad type");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    st = check_convertible(r, path, d, want);
    if (st != BCDI_OK) {
        H5Dclose(d);
        return st;
    }
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    if (n < 0 || (size_t)n > capacity) {
        H5Dclose(d);
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "'%s': '%s' has %lld elements, the buffer holds %zu", r->path, path,
                          (long long)n, capacity);
    }
    herr_t e = 0;
    if (n > 0) {
        if (!out) {
            H5Dclose(d);
            return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': no buffer for '%s'", r->path, path);
        }
        hid_t mt = mem_type(want);
        e = H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
        H5Tclose(mt);
    }
    H5Dclose(d);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot read '%s' as %s: %s", r->path, path,
                          bcdi_dtype_name(want), h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_read_slab(bcdi_h5_reader *r, const char *path, bcdi_dtype want,
                              const size_t *start, const size_t *count, void *out)
{
    if (!valid_dtype(want) || !start || !count || !out)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_slab: bad argument");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    st = check_convertible(r, path, d, want);
    hid_t fs = -1, ms = -1;
    if (st == BCDI_OK) st = select_slab(d, r->path, path, start, count, &fs, &ms);
    if (st != BCDI_OK) {
        H5Dclose(d);
        return st;
    }
    hid_t mt = mem_type(want);
    herr_t e = H5Dread(d, mt, ms, fs, H5P_DEFAULT, out);
    H5Tclose(mt);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot read slab of '%s': %s", r->path, path,
                          h5_error_text());
    return BCDI_OK;
}

/* Read a scalar or 1-element string dataset/attribute value into out (fixed or variable). */
static int read_string_any(hid_t obj, int is_attr, char *out, size_t capacity)
{
    hid_t t = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    if (t < 0 || H5Tget_class(t) != H5T_STRING) {
        if (t >= 0) H5Tclose(t);
        return -1;
    }
    hid_t s = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hssize_t n = H5Sget_simple_extent_npoints(s);
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

bcdi_status bcdi_h5_read_string(bcdi_h5_reader *r, const char *path, char *out, size_t capacity)
{
    if (!out || capacity == 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_string: no buffer");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    int rc = read_string_any(d, 0, out, capacity);
    if (rc != 0) {
        hid_t t = H5Dget_type(d);
        char tt[64];
        type_text(t, tt, sizeof tt);
        H5Tclose(t);
        H5Dclose(d);
        if (rc > 0)
            return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': string '%s' is longer than %zu bytes",
                              r->path, path, capacity - 1);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' holds %s, expected a scalar string", r->path,
                          path, tt);
    }
    H5Dclose(d);
    return BCDI_OK;
}

bcdi_status bcdi_h5_read_double(bcdi_h5_reader *r, const char *path, double *out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_double: no output");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    hid_t t = H5Dget_type(d);
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    H5T_class_t c = H5Tget_class(t);
    char tt[64];
    type_text(t, tt, sizeof tt);
    H5Tclose(t);
    if (n != 1) {
        H5Dclose(d);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has %lld values, expected one number",
                          r->path, path, (long long)n);
    }
    if (c == H5T_STRING) { /* some writers store numbers as text: accept them */
        char buf[128], *end;
        int rc = read_string_any(d, 0, buf, sizeof buf);
        H5Dclose(d);
        double v = rc == 0 ? strtod(buf, &end) : 0.0;
        if (rc != 0 || end == buf)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' holds text '%s', expected a number",
                              r->path, path, rc == 0 ? buf : "?");
        *out = v;
        return BCDI_OK;
    }
    if (c != H5T_INTEGER && c != H5T_FLOAT) {
        H5Dclose(d);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' holds %s, expected a number", r->path, path,
                          tt);
    }
    herr_t e = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(d);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot read '%s': %s", r->path, path,
                          h5_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_read_attr_string(bcdi_h5_reader *r, const char *object_path, const char *name,
                                     char *out, size_t capacity)
{
    if (!r || !object_path || !name || !out || capacity == 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_attr_string: bad argument");
    h5_quiet();
    if (!path_exists(r->file, object_path))
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' not found (looking for attribute '%s')",
                          r->path, object_path, name);
    hid_t o = H5Oopen(r->file, object_path, H5P_DEFAULT);
    if (o < 0 || H5Aexists(o, name) <= 0) {
        if (o >= 0) H5Oclose(o);
        H5Eclear2(H5E_DEFAULT);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has no attribute '%s'", r->path, object_path,
                          name);
    }
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    int rc = a < 0 ? -1 : read_string_any(a, 1, out, capacity);
    if (a >= 0) H5Aclose(a);
    H5Oclose(o);
    if (rc != 0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': attribute '%s' of '%s' is not a short string",
                          r->path, name, object_path);
    return BCDI_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* listing and describing                                                                     */

typedef struct {
    char *buf;
    size_t cap, len;
    int full;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void sb_add(strbuf *b, const char *fmt, ...)
{
    if (b->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->full = 1;
        /* mark the cut so a reader knows the list goes on */
        if (b->cap >= 5) memcpy(b->buf + b->cap - 5, "...\n", 5);
        return;
    }
    b->len += (size_t)n;
}

static void shape_text(hid_t d, char *buf, size_t cap)
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

typedef struct {
    strbuf *out;
} list_ctx;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    list_ctx *c = data;
    if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT) return 0;
    if (H5Oexists_by_name(g, name, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    if (H5Iget_type(o) == H5I_DATASET) {
        char sh[128], tt[64];
        shape_text(o, sh, sizeof sh);
        hid_t t = H5Dget_type(o);
        type_text(t, tt, sizeof tt);
        H5Tclose(t);
        sb_add(c->out, "%s (%s, %s%s)\n", name, sh, tt,
               info->type == H5L_TYPE_SOFT ? ", link" : "");
    }
    H5Oclose(o);
    return 0;
}

bcdi_status bcdi_h5_list(bcdi_h5_reader *r, char *out, size_t capacity)
{
    if (!r || !out || capacity == 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_list: bad argument");
    out[0] = '\0';
    strbuf b = {out, capacity, 0, 0};
    list_ctx c = {&b};
    h5_quiet();
    if (H5Lvisit(r->file, H5_INDEX_NAME, H5_ITER_INC, list_cb, &c) < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot list datasets: %s", r->path, h5_error_text());
    return BCDI_OK;
}

/* --- describe --- */

static void attr_line(hid_t o, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (H5Aexists(o, name) <= 0) return;
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    if (a >= 0) {
        if (read_string_any(a, 1, buf, cap) < 0) buf[0] = '\0';
        H5Aclose(a);
    }
}

/* Small values inline: scalars and up to 9 numbers, or a short string. */
static void value_text(hid_t d, char *buf, size_t cap)
{
    buf[0] = '\0';
    hid_t t = H5Dget_type(d);
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    int rank = H5Sget_simple_extent_ndims(s);
    H5Sclose(s);
    H5T_class_t c = H5Tget_class(t);
    if (c == H5T_STRING && n == 1) {
        char v[200];
        if (read_string_any(d, 0, v, sizeof v) >= 0) {
            for (char *p = v; *p; p++)
                if (*p == '\n') *p = ' ';
            snprintf(buf, cap, " = \"%s%s\"", v, strlen(v) >= sizeof v - 1 ? "..." : "");
        }
    } else if ((c == H5T_INTEGER || c == H5T_FLOAT) && n >= 1 && n <= 9) {
        double v[9];
        if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
            size_t len = (size_t)snprintf(buf, cap, " = %s", rank > 0 ? "[" : "");
            for (hssize_t i = 0; i < n && len < cap; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%s%.8g", i ? ", " : "", v[i]);
            if (rank > 0 && len < cap) snprintf(buf + len, cap - len, "]");
        }
    }
    H5Tclose(t);
    H5Eclear2(H5E_DEFAULT);
}

static herr_t describe_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    FILE *out = data;
    int depth = 0;
    const char *leaf = name;
    for (const char *p = name; *p; p++)
        if (*p == '/') {
            depth++;
            leaf = p + 1;
        }
    fprintf(out, "%*s%s", 2 * depth + 2, "", leaf);
    if (info->type == H5L_TYPE_SOFT) {
        char target[512] = "";
        H5Lget_val(g, name, target, sizeof target, H5P_DEFAULT);
        target[sizeof target - 1] = '\0';
        fprintf(out, " -> %s", target);
    } else if (info->type != H5L_TYPE_HARD) {
        fprintf(out, " (external link)\n");
        return 0;
    }
    if (H5Oexists_by_name(g, name, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        fprintf(out, " (dangling)\n");
        return 0;
    }
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        fprintf(out, " (cannot open)\n");
        return 0;
    }
    char nx[64], units[64];
    attr_line(o, "NX_class", nx, sizeof nx);
    attr_line(o, "units", units, sizeof units);
    if (H5Iget_type(o) == H5I_GROUP) {
        fprintf(out, "/%s%s\n", nx[0] ? "  " : "", nx);
    } else if (H5Iget_type(o) == H5I_DATASET) {
        char sh[128], tt[64], val[400];
        shape_text(o, sh, sizeof sh);
        hid_t t = H5Dget_type(o);
        type_text(t, tt, sizeof tt);
        H5Tclose(t);
        value_text(o, val, sizeof val);
        fprintf(out, "  [%s, %s]%s%s%s%s%s\n", sh, tt, val, units[0] ? " " : "", units,
                nx[0] ? "  " : "", nx);
    } else {
        fprintf(out, "\n");
    }
    H5Oclose(o);
    return 0;
}

static int rd(bcdi_h5_reader *r, const char *path, double *v)
{
    return path_exists(r->file, path) && bcdi_h5_read_double(r, path, v) == BCDI_OK;
}

static void describe_nexus(bcdi_h5_reader *r, FILE *out)
{
    int rank;
    size_t dims[8];
    bcdi_dtype t;
    if (bcdi_h5_shape(r, "entry1/instrument/excalibur/data", &rank, dims, &t) != BCDI_OK ||
        rank != 3)
        return;
    fprintf(out, "NeXus rocking stack (I13-1 layout): %zu frames of %zu x %zu, %s", dims[0],
            dims[1], dims[2], bcdi_dtype_name(t));
    const char *motor = "entry1/instrument/t1_theta/t1_theta";
    int mr;
    size_t md[8];
    if (bcdi_h5_shape(r, motor, &mr, md, NULL) == BCDI_OK && mr == 1 && md[0] > 0) {
        size_t s0 = 0, s1 = md[0] - 1, c = 1;
        double a, b;
        if (bcdi_h5_read_slab(r, motor, BCDI_DT_F64, &s0, &c, &a) == BCDI_OK &&
            bcdi_h5_read_slab(r, motor, BCDI_DT_F64, &s1, &c, &b) == BCDI_OK)
            fprintf(out, ", rocking t1_theta from %.6g to %.6g deg", a, b);
    }
    double v;
    if (rd(r, "entry1/instrument/monochromator/energy", &v)) fprintf(out, ", %.6g keV", v);
    if (rd(r, "entry1/instrument/excalibur/distance", &v)) fprintf(out, ", %.6g m", v);
    if (rd(r, "entry1/instrument/excalibur/x_pixel_size", &v))
        fprintf(out, ", pixel %.6g um", v * 1e6);
    if (rd(r, "entry1/instrument/excalibur/polar_angle", &v)) fprintf(out, ", 2theta %.6g deg", v);
    fprintf(out, "\n");
    bcdi_clear_error();
}

static size_t count_nonzero_u8(bcdi_h5_reader *r, const char *path, size_t *total)
{
    int rank;
    size_t dims[8], n = 1, nz = 0;
    *total = 0;
    if (bcdi_h5_shape(r, path, &rank, dims, NULL) != BCDI_OK) return 0;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    uint8_t *m = malloc(n ? n : 1);
    if (m && bcdi_h5_read(r, path, BCDI_DT_U8, m, n) == BCDI_OK) {
        for (size_t i = 0; i < n; i++)
            nz += m[i] != 0;
        *total = n;
    }
    free(m);
    return nz;
}

static void describe_cxi(bcdi_h5_reader *r, FILE *out)
{
    int rank;
    size_t dims[8], total;
    bcdi_dtype t;
    double v;
    const char *det = "entry_1/instrument_1/detector_1/";
    char p[256];
    snprintf(p, sizeof p, "%sdata", det);
    if (bcdi_h5_shape(r, p, &rank, dims, &t) == BCDI_OK) {
        fprintf(out, "CXI prepared data: ");
        for (int i = 0; i < rank; i++)
            fprintf(out, "%s%zu", i ? " x " : "", dims[i]);
        fprintf(out, " %s", bcdi_dtype_name(t));
        snprintf(p, sizeof p, "%smask", det);
        size_t nz = count_nonzero_u8(r, p, &total);
        if (total) fprintf(out, ", mask %zu of %zu not measured", nz, total);
        if (rd(r, "entry_1/bcdi_geometry/energy_kev", &v))
            fprintf(out, ", %.6g keV", v);
        else if (rd(r, "entry_1/instrument_1/source_1/energy", &v))
            fprintf(out, ", %.6g keV", v / 1.602176634e-16);
        snprintf(p, sizeof p, "%sdistance", det);
        if (rd(r, p, &v)) fprintf(out, ", %.6g m", v);
        snprintf(p, sizeof p, "%sx_pixel_size", det);
        if (rd(r, p, &v)) fprintf(out, ", pixel %.6g um", v * 1e6);
        if (rd(r, "entry_1/bcdi_geometry/rocking_step", &v))
            fprintf(out, ", rocking step %.6g deg", v);
        fprintf(out, "\n");
    }
    if (bcdi_h5_shape(r, "entry_1/image_1/data", &rank, dims, &t) == BCDI_OK) {
        fprintf(out, "CXI result: object ");
        for (int i = 0; i < rank; i++)
            fprintf(out, "%s%zu", i ? " x " : "", dims[i]);
        fprintf(out, " %s", bcdi_dtype_name(t));
        size_t nz = count_nonzero_u8(r, "entry_1/image_1/mask", &total);
        if (total)
            fprintf(out, ", support voxels %zu (%.3g%%)", nz, 100.0 * (double)nz / (double)total);
        fprintf(out, "\n");
    }
    bcdi_clear_error();
}

bcdi_status bcdi_h5_describe(const char *path, FILE *out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_describe: no output stream");
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    fprintf(out, "%s (HDF5)\n  /\n", path);
    if (H5Lvisit(r->file, H5_INDEX_NAME, H5_ITER_INC, describe_cb, out) < 0) {
        st = bcdi_error(BCDI_ERR_IO, "'%s': cannot walk the file: %s", path, h5_error_text());
        bcdi_h5_close(r);
        return st;
    }
    describe_nexus(r, out);
    describe_cxi(r, out);
    bcdi_h5_close(r);
    return BCDI_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* filters                                                                                    */

const char *bcdi_h5_filter_name(int filter_id)
{
    switch (filter_id) {
    case 1:
        return "deflate";
    case 2:
        return "shuffle";
    case 3:
        return "fletcher32";
    case 4:
        return "szip";
    case 5:
        return "nbit";
    case 6:
        return "scaleoffset";
    case 307:
        return "bzip2";
    case 32001:
        return "blosc";
    case 32004:
        return "LZ4";
    case 32008:
        return "bitshuffle";
    case 32015:
        return "zstd";
    case 32026:
        return "blosc2";
    default:
        return "unknown";
    }
}

bcdi_status bcdi_h5_check_filters(bcdi_h5_reader *r, const char *path, char *filters,
                                  size_t capacity)
{
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    if (filters && capacity) filters[0] = '\0';
    hid_t dcpl = H5Dget_create_plist(d);
    int n = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
    size_t used = 0;
    for (int i = 0; i < n && st == BCDI_OK; i++) {
        unsigned flags = 0, config = 0;
        size_t nvalues = 8;
        unsigned values[8];
        char stored_name[128] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvalues, values,
                                         sizeof stored_name, stored_name, &config);
        const char *name = bcdi_h5_filter_name((int)id);
        if (strcmp(name, "unknown") == 0 && stored_name[0]) name = stored_name;
        if (filters && capacity > used) {
            int k = snprintf(filters + used, capacity - used, "%s%s", used ? ", " : "", name);
            if (k > 0) used += (size_t)k;
            if (used >= capacity) used = capacity - 1;
        }
        /* H5Zfilter_avail also tries to load a plugin for ids it does not know yet */
        htri_t avail = H5Zfilter_avail(id);
        H5Eclear2(H5E_DEFAULT);
        if (avail <= 0) {
            const char *plugin_path = getenv("HDF5_PLUGIN_PATH");
            st = bcdi_error(BCDI_ERR_FORMAT,
                            "'%s': dataset '%s' is compressed with HDF5 filter %d (%s), which "
                            "cannot be loaded here: install its plugin (Debian: "
                            "hdf5-filter-plugin, hdf5-filter-plugin-blosc-serial) or point "
                            "HDF5_PLUGIN_PATH at it (now %s%s%s)",
                            r->path, path, (int)id, name, plugin_path ? "'" : "",
                            plugin_path ? plugin_path : "unset: the default plugin folder",
                            plugin_path ? "'" : "");
        }
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Dclose(d);
    return st;
}
