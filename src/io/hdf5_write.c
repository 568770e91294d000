/* SPDX-License-Identifier: BSD-3-Clause */
/* HDF5 layer, writing: files created under a temporary name and renamed on commit, groups,
 * whole and piecewise datasets, attributes and links. */
#include "io/hdf5_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* files                                                                                      */

typedef struct {
    hid_t file;
} create_ctx;

/* bcdi_output_create callback: HDF5 opens by name, with O_CREAT|O_EXCL under H5F_ACC_EXCL, so a
 * name taken meanwhile (even by a dangling symlink) fails instead of being followed. */
static int create_file(const char *temp_path, void *user)
{
    create_ctx *c = user;
    /* STRONG close: H5Fclose really closes, so rename sees a complete file. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    c->file = H5Fcreate(temp_path, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    int err = errno;
    H5Pclose(fapl);
    if (c->file >= 0) return 0;
    struct stat sb;
    const char *why = h5i_error_text();
    if (lstat(temp_path, &sb) == 0) return EEXIST;
    bcdi_error(BCDI_ERR_IO, "cannot create temporary file '%s': %s (%s)", temp_path,
               why[0] ? why : "HDF5 error", strerror(err));
    return err ? err : -1;
}

bcdi_status bcdi_h5_create_in(bcdi_output *tx, const char *final_path, bcdi_h5_writer **out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_create: out is NULL");
    *out = NULL;
    h5i_quiet();
    bcdi_h5_writer *w = calloc(1, sizeof *w);
    if (!w) return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", final_path);
    w->file = -1;
    bcdi_status st = BCDI_OK;
    if (!tx) st = bcdi_output_begin(&w->own);
    create_ctx c = {-1};
    if (st == BCDI_OK) st = bcdi_output_create(tx ? tx : w->own, final_path, create_file, &c);
    if (st == BCDI_OK) {
        w->file = c.file;
        w->final_path = h5i_dup(final_path);
        w->tmp_path = h5i_dup(bcdi_output_temp_path(tx ? tx : w->own, final_path));
        if (!w->final_path || !w->tmp_path)
            st = bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", final_path);
    }
    if (st != BCDI_OK) {
        if (w->file >= 0) H5Fclose(w->file);
        bcdi_output_abort(w->own);
        free(w->final_path);
        free(w->tmp_path);
        free(w);
        return st;
    }
    *out = w;
    return BCDI_OK;
}

bcdi_status bcdi_h5_create(const char *final_path, bcdi_h5_writer **out)
{
    return bcdi_h5_create_in(NULL, final_path, out);
}

/* Link-creation property list that creates missing parent groups. */
static hid_t lcpl_parents(void)
{
    hid_t l = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(l, 1);
    H5Pset_char_encoding(l, H5T_CSET_UTF8);
    return l;
}

static bcdi_status set_attr_string(hid_t obj, const char *name, const char *value, const char *file,
                                   const char *objpath)
{
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t t = h5i_utf8_type();
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot write attribute '%s' on '%s': %s", file, name,
                          objpath, h5i_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_group(bcdi_h5_writer *w, const char *path, const char *nx_class)
{
    if (!w || !path) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_group: NULL argument");
    hid_t g;
    if (h5i_path_exists(w->file, path)) {
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
                              path, h5i_error_text());
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
    if (!w || !path || rank < 0 || rank > 8 || (rank > 0 && !dims) || !h5i_valid_dtype(type))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': bad arguments for dataset '%s'",
                          w ? w->final_path : "?", path ? path : "?");
    if (deflate_level < 0 || deflate_level > 9)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': deflate level %d for '%s' is not 0..9",
                          w->final_path, deflate_level, path);
    if (h5i_path_exists(w->file, path))
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
    hid_t ft = h5i_file_type(type);
    hid_t l = lcpl_parents();
    hid_t d = H5Dcreate2(w->file, path, ft, space, l, dcpl, H5P_DEFAULT);
    H5Pclose(l);
    H5Tclose(ft);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (d < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot create dataset '%s': %s", w->final_path, path,
                          h5i_error_text());
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
    if (total > 0 && !data)
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': no data for '%s'", w->final_path, path);
    else if (total > 0)
        st = h5i_transfer(d, w->final_path, path, type, NULL, NULL, (void *)data, 1);
    H5Dclose(d);
    return st;
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
    if (h5i_path_exists(w->file, path))
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
                          h5i_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_write_string(bcdi_h5_writer *w, const char *path, const char *value)
{
    if (!w || !path || !value)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_write_string: NULL argument");
    if (h5i_path_exists(w->file, path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': dataset '%s' already written", w->final_path,
                          path);
    hid_t t = h5i_utf8_type();
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
                          h5i_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_attr_string(bcdi_h5_writer *w, const char *object_path, const char *name,
                                const char *value)
{
    if (!w || !object_path || !name || !value)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_attr_string: NULL argument");
    if (!h5i_path_exists(w->file, object_path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': cannot set attribute '%s': '%s' not found",
                          w->final_path, name, object_path);
    hid_t o = H5Oopen(w->file, object_path, H5P_DEFAULT);
    if (o < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot open '%s': %s", w->final_path, object_path,
                          h5i_error_text());
    bcdi_status st = set_attr_string(o, name, value, w->final_path, object_path);
    H5Oclose(o);
    return st;
}

bcdi_status bcdi_h5_attr_int(bcdi_h5_writer *w, const char *object_path, const char *name,
                             long value)
{
    if (!w || !object_path || !name)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_attr_int: NULL argument");
    hid_t o =
        h5i_path_exists(w->file, object_path) ? H5Oopen(w->file, object_path, H5P_DEFAULT) : -1;
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
                          link_path, target, h5i_error_text());
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

bcdi_status bcdi_h5_write_slab(bcdi_h5_writer *w, const char *path, bcdi_dtype type,
                               const size_t *start, const size_t *count, const void *data)
{
    if (!w || !path || !start || !count || !data || !h5i_valid_dtype(type))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_write_slab: bad argument");
    hid_t d = h5i_path_exists(w->file, path) ? H5Dopen2(w->file, path, H5P_DEFAULT) : -1;
    if (d < 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': dataset '%s' was not created", w->final_path,
                          path);
    bcdi_status st = h5i_transfer(d, w->final_path, path, type, start, count, (void *)data, 1);
    H5Dclose(d);
    return st;
}

bcdi_status bcdi_h5_copy(bcdi_h5_writer *w, bcdi_h5_reader *from, const char *path)
{
    if (!w || !from || !path)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_copy: NULL argument");
    h5i_quiet();
    if (!h5i_path_exists(from->file, path))
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' not found (to copy into '%s')", from->path,
                          path, w->final_path);
    if (h5i_path_exists(w->file, path))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': '%s' already written", w->final_path, path);
    hid_t l = lcpl_parents();
    herr_t e = H5Ocopy(from->file, path, w->file, path, H5P_DEFAULT, l);
    H5Pclose(l);
    if (e < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot copy '%s' from '%s': %s", w->final_path, path,
                          from->path, h5i_write_error_text());
    return BCDI_OK;
}

static void writer_free(bcdi_h5_writer *w)
{
    free(w->final_path);
    free(w->tmp_path);
    free(w);
}

/* Close the file exactly once, whatever happens: HDF5 (1.10) must never be asked to close a
 * file twice, and a failed close is not retried (see bcdi_h5_process_init). */
static bcdi_status close_file(bcdi_h5_writer *w)
{
    if (w->file < 0) return BCDI_OK;
    /* every object of the file is closed by now (each call closes what it opened); a flush
     * failure (disk full) must still be followed by the one H5Fclose */
    herr_t flushed = H5Fflush(w->file, H5F_SCOPE_GLOBAL);
    const char *why = flushed < 0 ? h5i_write_error_text() : "";
    char reason[256];
    snprintf(reason, sizeof reason, "%s", why);
    herr_t closed = H5Fclose(w->file);
    w->file = -1;
    if (flushed >= 0 && closed < 0) snprintf(reason, sizeof reason, "%s", h5i_write_error_text());
    if (flushed < 0 || closed < 0)
        return bcdi_error(BCDI_ERR_IO, "writing '%s' failed: %s", w->final_path,
                          reason[0] ? reason : "HDF5 could not close the file");
    return BCDI_OK;
}

bcdi_status bcdi_h5_commit(bcdi_h5_writer *w)
{
    if (!w) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_commit: NULL writer");
    bcdi_status st = close_file(w);
    st = bcdi_output_finish(w->own, st);
    writer_free(w);
    return st;
}

void bcdi_h5_abort(bcdi_h5_writer *w)
{
    if (!w) return;
    if (w->file >= 0) {
        H5Fclose(w->file);
        w->file = -1;
    }
    H5Eclear2(H5E_DEFAULT);
    bcdi_output_abort(w->own);
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
