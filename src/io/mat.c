/* SPDX-License-Identifier: BSD-3-Clause */
/* MATLAB .mat reader through libmatio (io/mat.h). */
#include "io/mat.h"
#include "core/ckd.h"
#include "core/input_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef BCDI_HAVE_MATIO
#include <matio.h>
#endif

void bcdi_mat_array_free(bcdi_mat_array *array)
{
    if (!array) return;
    free(array->data);
    memset(array, 0, sizeof *array);
}

#ifndef BCDI_HAVE_MATIO

int bcdi_mat_available(void)
{
    return 0;
}

bcdi_status bcdi_mat_read(const char *path, const char *variable, bcdi_mat_array *out)
{
    (void)variable;
    memset(out, 0, sizeof *out);
    return bcdi_error(BCDI_ERR_UNSUPPORTED,
                      "'%s': this braggcdi was built without matio, so MATLAB .mat files cannot "
                      "be read (install libmatio-dev, e.g. with tools/install-deps.sh, and "
                      "rebuild; or save the array as .npy, TIFF or HDF5)",
                      path ? path : "(null)");
}

#else

int bcdi_mat_available(void)
{
    return 1;
}

/* matio logs through a callback: keep its last message for our error detail instead of letting
 * it print (the library prints nothing unasked). */
static _Thread_local char matio_message[512];

static void matio_log(int level, char *message)
{
    (void)level;
    snprintf(matio_message, sizeof matio_message, "%s", message ? message : "");
}

static const char *matio_detail(void)
{
    return matio_message[0] ? matio_message : "no detail from matio";
}

static int is_numeric(const matvar_t *v)
{
    return v->class_type >= MAT_C_DOUBLE && v->class_type <= MAT_C_UINT64;
}

static const char *class_name(const matvar_t *v)
{
    static const char *const names[] = {
        "empty", "cell",  "struct", "object", "char",   "sparse", "double", "single",   "int8",
        "uint8", "int16", "uint16", "int32",  "uint32", "int64",  "uint64", "function", "opaque"};
    if (v->isLogical) return "logical";
    if ((int)v->class_type >= 0 && (size_t)v->class_type < sizeof names / sizeof names[0])
        return names[v->class_type];
    return "unknown";
}

/* "name (class d1x d2 x ...)" appended to a bounded list. */
static void describe(const matvar_t *v, char *list, size_t size)
{
    size_t used = strlen(list);
    if (used + 1 >= size) return;
    used +=
        (size_t)snprintf(list + used, size - used, "%s%s (%s%s ", used ? ", " : "",
                         v->name ? v->name : "?", v->isComplex ? "complex " : "", class_name(v));
    for (int d = 0; d < v->rank && used < size; ++d)
        used += (size_t)snprintf(list + used, size - used, "%s%zu", d ? "x" : "", v->dims[d]);
    if (used < size) snprintf(list + used, size - used, ")");
}

/* Elements of a variable, refusing overflow and what the file cannot hold. */
static bcdi_status check_size(const char *path, const matvar_t *v, int version, off_t file_size,
                              size_t *elements)
{
    if (v->rank < 2 || v->rank > 3)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': variable '%s' has %d dimensions, expected a 2-D or 3-D array",
                          path, v->name, v->rank);
    size_t count = 1;
    for (int d = 0; d < v->rank; ++d) {
        if (v->dims[d] == 0)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': variable '%s' is empty (dimension %d is 0)",
                              path, v->name, d + 1);
    }
    if (bcdi_ckd_volume(v->dims, v->rank, sizeof(double), &count, NULL, "'%s': variable '%s'", path,
                        v->name) != BCDI_OK)
        return BCDI_ERR_FORMAT;
    if (count > BCDI_MAT_MAX_ELEMENTS)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': variable '%s' has %zu elements, more than this reader's %zu", path,
                          v->name, count, (size_t)BCDI_MAT_MAX_ELEMENTS);
    /* every element takes at least one stored byte; deflate packs at most 1032 to a byte */
    int packed = version == 73 || v->compression == MAT_COMPRESSION_ZLIB;
    double capacity = (double)file_size * (packed ? 1032.0 : 1.0);
    if ((double)count > capacity)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': variable '%s' claims %zu elements, more than a %lld-byte %sfile "
                          "can hold (damaged header?)",
                          path, v->name, count, (long long)file_size, packed ? "compressed " : "");
    *elements = count;
    return BCDI_OK;
}

/* A v5 file is a 128-byte header and a chain of top-level elements, each a tag (type, byte
 * count) and its bytes (padded to 8 unless compressed). matio reads a variable cut short by a
 * truncated file without complaint, so walk the chain first: every element must end inside the
 * file. v7.3 files are HDF5, which checks its own end of file. */
static bcdi_status check_v5_chain(const char *path, off_t file_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return bcdi_error(BCDI_ERR_IO, "'%s': cannot open: %s", path, strerror(errno));
    unsigned char header[128];
    bcdi_status st = BCDI_OK;
    if (fread(header, 1, sizeof header, f) != sizeof header) goto done; /* matio will say */
    int swapped = header[126] == 'M' && header[127] == 'I';
    unsigned version = swapped ? (unsigned)header[124] << 8 | header[125]
                               : (unsigned)header[125] << 8 | header[124];
    if (version != 0x0100 || !(swapped || (header[126] == 'I' && header[127] == 'M')))
        goto done; /* not v5 */
    long long offset = 128;
    for (size_t index = 1; offset < (long long)file_size; ++index) {
        unsigned char tag[8];
        if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(tag, 1, 8, f) != 8) {
            st = bcdi_error(BCDI_ERR_FORMAT,
                            "'%s': truncated: %lld stray bytes after element %zu (a cut file?)",
                            path, (long long)file_size - offset, index - 1);
            goto done;
        }
        uint32_t type, bytes;
        if (swapped) {
            type = (uint32_t)tag[0] << 24 | (uint32_t)tag[1] << 16 | (uint32_t)tag[2] << 8 | tag[3];
            bytes =
                (uint32_t)tag[4] << 24 | (uint32_t)tag[5] << 16 | (uint32_t)tag[6] << 8 | tag[7];
        } else {
            type = (uint32_t)tag[3] << 24 | (uint32_t)tag[2] << 16 | (uint32_t)tag[1] << 8 | tag[0];
            bytes =
                (uint32_t)tag[7] << 24 | (uint32_t)tag[6] << 16 | (uint32_t)tag[5] << 8 | tag[4];
        }
        long long length = 8 + (long long)bytes;
        if (type >> 16)
            length = 8; /* a small data element: tag and data in 8 bytes */
        else if (type != 15)
            length = (length + 7) / 8 * 8;
        if (offset + length > (long long)file_size) {
            st = bcdi_error(BCDI_ERR_FORMAT,
                            "'%s': truncated: element %zu at byte %lld declares %u bytes, the file "
                            "ends %lld bytes later",
                            path, index, offset, bytes, (long long)file_size - offset - 8);
            goto done;
        }
        offset += length;
    }
done:
    fclose(f);
    return st;
}

/* The only 3-D real numeric (or logical) variable, or an error listing what the file holds. */
static bcdi_status find_only_3d(const char *path, mat_t *mat, char *name, size_t name_size)
{
    char listing[768] = "", candidates[256] = "";
    size_t found = 0;
    Mat_Rewind(mat);
    matvar_t *v;
    while ((v = Mat_VarReadNextInfo(mat)) != NULL) {
        describe(v, listing, sizeof listing);
        if (is_numeric(v) && !v->isComplex && v->rank == 3 && v->name) {
            if (found++ == 0) snprintf(name, name_size, "%s", v->name);
            size_t used = strlen(candidates);
            snprintf(candidates + used, sizeof candidates - used, "%s%s", used ? ", " : "",
                     v->name);
        }
        Mat_VarFree(v);
    }
    if (found == 1) return BCDI_OK;
    if (found == 0)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': no 3-D real numeric variable (the file holds: %s): name one", path,
                          listing[0] ? listing : "nothing matio can read");
    return bcdi_error(BCDI_ERR_FORMAT, "'%s': %zu 3-D numeric variables (%s): name the one to read",
                      path, found, candidates);
}

/* src (column-major, MATLAB) -> out (C order), element type T. */
#define TRANSPOSE(T)                                                                               \
    do {                                                                                           \
        const T *src = (const T *)v->data;                                                         \
        size_t at = 0;                                                                             \
        for (size_t k = 0; k < s[2]; ++k)                                                          \
            for (size_t j = 0; j < s[1]; ++j)                                                      \
                for (size_t i = 0; i < s[0]; ++i)                                                  \
                    out->data[(i * s[1] + j) * s[2] + k] = (float)src[at++];                       \
    } while (0)

static bcdi_status convert(const char *path, const matvar_t *v, size_t elements,
                           bcdi_mat_array *out)
{
    const size_t *s = out->shape;
    size_t need;
    size_t element_size = Mat_SizeOf(v->data_type);
    if (!v->data || !element_size || bcdi_ckd_mul(&need, elements, element_size) ||
        (v->nbytes && v->nbytes < need))
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': variable '%s': matio returned no or short data",
                          path, out->name);
    if (!(out->data = malloc(elements * sizeof *out->data)))
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory for %zu values of '%s'", path,
                          elements, out->name);
    switch (v->data_type) {
    case MAT_T_DOUBLE:
        TRANSPOSE(double);
        break;
    case MAT_T_SINGLE:
        TRANSPOSE(float);
        break;
    case MAT_T_INT8:
        TRANSPOSE(int8_t);
        break;
    case MAT_T_UINT8:
        TRANSPOSE(uint8_t);
        break;
    case MAT_T_INT16:
        TRANSPOSE(int16_t);
        break;
    case MAT_T_UINT16:
        TRANSPOSE(uint16_t);
        break;
    case MAT_T_INT32:
        TRANSPOSE(int32_t);
        break;
    case MAT_T_UINT32:
        TRANSPOSE(uint32_t);
        break;
    case MAT_T_INT64:
        TRANSPOSE(int64_t);
        break;
    case MAT_T_UINT64:
        TRANSPOSE(uint64_t);
        break;
    default:
        free(out->data);
        out->data = NULL;
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': variable '%s': unexpected element type %d", path,
                          out->name, (int)v->data_type);
    }
    return BCDI_OK;
}

bcdi_status bcdi_mat_read(const char *path, const char *variable, bcdi_mat_array *out)
{
    memset(out, 0, sizeof *out);
    if (!path) return bcdi_error(BCDI_ERR_INVALID_ARG, "mat: no path");
    size_t file_size;
    bcdi_status regular = bcdi_input_check(path, ".mat file", &file_size);
    if (regular != BCDI_OK) return regular;
    bcdi_status chain = check_v5_chain(path, (off_t)file_size);
    if (chain != BCDI_OK) return chain;
    Mat_LogInitFunc("braggcdi", matio_log);
    matio_message[0] = '\0';
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': not a MATLAB .mat file matio can read (v4, v5, v7.3): %s", path,
                          matio_detail());
    int version = Mat_GetVersion(mat) == MAT_FT_MAT73  ? 73
                  : Mat_GetVersion(mat) == MAT_FT_MAT5 ? 5
                                                       : 4;
    char name[64];
    bcdi_status st = BCDI_OK;
    matvar_t *info = NULL, *v = NULL;
    if (variable) {
        if (strlen(variable) >= sizeof name) {
            st = bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': variable name '%.40s...' too long", path,
                            variable);
            goto done;
        }
        snprintf(name, sizeof name, "%s", variable);
    } else if ((st = find_only_3d(path, mat, name, sizeof name)) != BCDI_OK) {
        goto done;
    }
    if (!(info = Mat_VarReadInfo(mat, name))) {
        char listing[768] = "";
        Mat_Rewind(mat);
        matvar_t *each;
        while ((each = Mat_VarReadNextInfo(mat)) != NULL) {
            describe(each, listing, sizeof listing);
            Mat_VarFree(each);
        }
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': no variable '%s' (the file holds: %s)", path, name,
                        listing[0] ? listing : "nothing matio can read");
        goto done;
    }
    if (!is_numeric(info) || info->isComplex) {
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': variable '%s' is %s%s, expected a real numeric or logical array",
                        path, name, info->isComplex ? "complex " : "", class_name(info));
        goto done;
    }
    size_t elements = 0;
    if ((st = check_size(path, info, version, (off_t)file_size, &elements)) != BCDI_OK) goto done;
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->type, sizeof out->type, "%s", class_name(info));
    out->rank = info->rank;
    out->version = version;
    out->shape[0] = info->dims[0];
    out->shape[1] = info->dims[1];
    out->shape[2] = info->rank == 3 ? info->dims[2] : 1;
    matio_message[0] = '\0';
    if (!(v = Mat_VarRead(mat, name))) {
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': cannot read the data of variable '%s': %s", path,
                        name, matio_detail());
        goto done;
    }
    for (int d = 0; d < v->rank && d < 3; ++d)
        if (v->rank != info->rank || v->dims[d] != info->dims[d]) {
            st = bcdi_error(BCDI_ERR_FORMAT, "'%s': variable '%s' changed shape between reads",
                            path, name);
            goto done;
        }
    st = convert(path, v, elements, out);
done:
    if (v) Mat_VarFree(v);
    if (info) Mat_VarFree(info);
    Mat_Close(mat);
    if (st != BCDI_OK) bcdi_mat_array_free(out);
    return st;
}

#endif
