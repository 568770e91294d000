/* SPDX-License-Identifier: BSD-3-Clause */
/* HDF5 layer, describing: the list of datasets (for error messages) and the annotated tree of
 * a whole file (for `braggcdi info`). Layout-specific summaries live with their format owners
 * (io/nexus, io/cxi). */
#include "io/hdf5_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        h5i_shape_text(o, sh, sizeof sh);
        hid_t t = H5Dget_type(o);
        h5i_type_text(t, tt, sizeof tt);
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
    h5i_quiet();
    if (H5Lvisit(r->file, H5_INDEX_NAME, H5_ITER_INC, list_cb, &c) < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot list datasets: %s", r->path, h5i_error_text());
    return BCDI_OK;
}

/* --- describe --- */

static void attr_line(hid_t o, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (H5Aexists(o, name) <= 0) return;
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    if (a >= 0) {
        if (h5i_read_string(a, 1, buf, cap) < 0) buf[0] = '\0';
        H5Aclose(a);
    }
}

/* Small values inline: scalars and up to 9 numbers, or a short string. */
static void value_text(hid_t d, char *buf, size_t cap)
{
    buf[0] = '\0';
    hid_t t = H5Dget_type(d);
    hid_t s = H5Dget_space(d);
    hssize_t n = h5i_npoints(s);
    int rank = H5Sget_simple_extent_ndims(s);
    H5Sclose(s);
    H5T_class_t c = H5Tget_class(t);
    if (c == H5T_STRING && n == 1) {
        char v[200];
        if (h5i_read_string(d, 0, v, sizeof v) >= 0) {
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
        h5i_shape_text(o, sh, sizeof sh);
        hid_t t = H5Dget_type(o);
        h5i_type_text(t, tt, sizeof tt);
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

bcdi_status bcdi_h5_describe(bcdi_h5_reader *r, FILE *out)
{
    if (!r || !out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_h5_describe: NULL argument");
    h5i_quiet();
    fprintf(out, "%s (HDF5)\n  /\n", r->path);
    if (H5Lvisit(r->file, H5_INDEX_NAME, H5_ITER_INC, describe_cb, out) < 0)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot walk the file: %s", r->path, h5i_error_text());
    return BCDI_OK;
}
