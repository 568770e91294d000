/* SPDX-License-Identifier: BSD-3-Clause */
/* HDF5 layer, reading: open with errors that name the file, shapes, type-converting whole and
 * hyperslab reads, strings and attributes, and the check that a dataset's filters can be
 * loaded here. */
#include "io/hdf5_internal.h"

#include "core/ckd.h"
#include "core/input_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* reading                                                                                    */

bcdi_status bcdi_h5_open(const char *path, bcdi_h5_reader **out)
{
    if (!path || !out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_open: NULL argument");
    *out = NULL;
    h5i_quiet();
    /* a regular file, readable (a FIFO or a device is refused without blocking) */
    size_t file_size = 0;
    bcdi_status checked = bcdi_input_check(path, "HDF5 file", &file_size);
    if (checked != BCDI_OK) return checked;
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': not an HDF5 file (no HDF5 signature, %lld bytes)",
                          path, (long long)file_size);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        const char *why = h5i_error_text();
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': HDF5 signature found but the file cannot be opened "
                          "(truncated or damaged? %lld bytes): %s",
                          path, (long long)file_size, why[0] ? why : "HDF5 error");
    }
    bcdi_h5_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = h5i_dup(path))) {
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
    return r && path && h5i_path_exists(r->file, path);
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
    h5i_quiet();
    if (!h5i_path_exists(r->file, path)) return missing(r, path);
    hid_t o = H5Oopen(r->file, path, H5P_DEFAULT);
    if (o < 0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot open '%s': %s", r->path, path,
                          h5i_error_text());
    if (H5Iget_type(o) != H5I_DATASET) {
        H5Oclose(o);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' is a group, expected a dataset", r->path,
                          path);
    }
    *out = o;
    return BCDI_OK;
}

/* The dataset's extent, every axis and the element count checked (core/ckd.h): a crafted file
 * declaring (2, 2^61, 64) must not pass as a small count. Sized for 8-byte values, the widest
 * any reader converts into (double, complex float). */
static bcdi_status dataset_extent(bcdi_h5_reader *r, const char *path, hid_t d, int *rank,
                                  size_t dims[8], size_t *count)
{
    hid_t s = H5Dget_space(d);
    int n = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    hsize_t hd[H5S_MAX_RANK];
    if (n > 8 || n < 0) {
        if (s >= 0) H5Sclose(s);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has rank %d, at most 8 supported", r->path,
                          path, n);
    }
    H5Sget_simple_extent_dims(s, hd, NULL);
    H5Sclose(s);
    for (int i = 0; i < n; i++) {
        if (hd[i] > SIZE_MAX)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': dataset '%s': axis %d has %llu elements",
                              r->path, path, i, (unsigned long long)hd[i]);
        dims[i] = (size_t)hd[i];
    }
    *rank = n;
    return bcdi_ckd_volume(dims, n, 8, count, NULL, "'%s': dataset '%s'", r->path, path);
}

bcdi_status bcdi_h5_shape(bcdi_h5_reader *r, const char *path, int *rank, size_t dims[8],
                          bcdi_dtype *stored)
{
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    int n;
    size_t extent[8];
    if ((st = dataset_extent(r, path, d, &n, extent, NULL)) != BCDI_OK) {
        H5Dclose(d);
        return st;
    }
    if (rank) *rank = n;
    if (dims)
        for (int i = 0; i < n; i++)
            dims[i] = extent[i];
    if (stored) {
        hid_t t = H5Dget_type(d);
        if (h5i_stored_dtype(t, stored) != 0) {
            char tt[64];
            h5i_type_text(t, tt, sizeof tt);
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
    int ok = h5i_stored_dtype(t, &st) == 0 && ((st == BCDI_DT_CF32) == (want == BCDI_DT_CF32));
    char tt[64];
    h5i_type_text(t, tt, sizeof tt);
    H5Tclose(t);
    if (!ok)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' holds %s, which cannot be read as %s",
                          r->path, path, tt, bcdi_dtype_name(want));
    return BCDI_OK;
}

bcdi_status bcdi_h5_read(bcdi_h5_reader *r, const char *path, bcdi_dtype want, void *out,
                         size_t capacity)
{
    if (!h5i_valid_dtype(want)) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read: bad type");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    st = check_convertible(r, path, d, want);
    if (st != BCDI_OK) {
        H5Dclose(d);
        return st;
    }
    int rank;
    size_t dims[8], n;
    if ((st = dataset_extent(r, path, d, &rank, dims, &n)) != BCDI_OK) {
        H5Dclose(d);
        return st;
    }
    if (n > capacity) {
        H5Dclose(d);
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': '%s' has %zu elements, the buffer holds %zu",
                          r->path, path, n, capacity);
    }
    if (n > 0 && !out)
        st = bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': no buffer for '%s'", r->path, path);
    else if (n > 0)
        st = h5i_transfer(d, r->path, path, want, NULL, NULL, out, 0);
    H5Dclose(d);
    return st;
}

bcdi_status bcdi_h5_read_slab(bcdi_h5_reader *r, const char *path, bcdi_dtype want,
                              const size_t *start, const size_t *count, void *out)
{
    if (!h5i_valid_dtype(want) || !start || !count || !out)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_slab: bad argument");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    st = check_convertible(r, path, d, want);
    if (st == BCDI_OK) st = h5i_transfer(d, r->path, path, want, start, count, out, 0);
    H5Dclose(d);
    return st;
}

bcdi_status bcdi_h5_read_string(bcdi_h5_reader *r, const char *path, char *out, size_t capacity)
{
    if (!out || capacity == 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_string: no buffer");
    hid_t d = -1;
    bcdi_status st = open_dataset(r, path, &d);
    if (st != BCDI_OK) return st;
    int rc = h5i_read_string(d, 0, out, capacity);
    if (rc != 0) {
        hid_t t = H5Dget_type(d);
        char tt[64];
        h5i_type_text(t, tt, sizeof tt);
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
    hssize_t n = h5i_npoints(s);
    H5Sclose(s);
    H5T_class_t c = H5Tget_class(t);
    char tt[64];
    h5i_type_text(t, tt, sizeof tt);
    H5Tclose(t);
    if (n != 1) {
        H5Dclose(d);
        if (n < 0)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s': '%s' declares more values than any file holds, expected "
                              "one number",
                              r->path, path);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has %lld values, expected one number",
                          r->path, path, (long long)n);
    }
    if (c == H5T_STRING) { /* some writers store numbers as text: accept them */
        char buf[128], *end;
        int rc = h5i_read_string(d, 0, buf, sizeof buf);
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
                          h5i_error_text());
    return BCDI_OK;
}

bcdi_status bcdi_h5_read_attr_string(bcdi_h5_reader *r, const char *object_path, const char *name,
                                     char *out, size_t capacity)
{
    if (!r || !object_path || !name || !out || capacity == 0)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_read_attr_string: bad argument");
    h5i_quiet();
    if (!h5i_path_exists(r->file, object_path))
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
    int rc = a < 0 ? -1 : h5i_read_string(a, 1, out, capacity);
    if (a >= 0) H5Aclose(a);
    H5Oclose(o);
    if (rc != 0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': attribute '%s' of '%s' is not a short string",
                          r->path, name, object_path);
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
