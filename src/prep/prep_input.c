/* SPDX-License-Identifier: BSD-3-Clause */
/* Inputs of `prepare`: HDF5/NeXus/CXI by hyperslab, TIFF folders/globs/multi-page files, .npy,
 * .mat (read whole). The axis order of the stored stack is handled in prep_axes.c. */
#include "prep/prep_input.h"

#include "bcdi/prepare.h"
#include "core/ckd.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "io/mat.h"
#include "io/nexus.h"
#include "io/tiff_io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CXI_DATA "entry_1/instrument_1/detector_1/data"
#define CXI_DATA_LINK "entry_1/data_1/data"

int prep_natural_compare(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            /* compare digit runs by value: skip leading zeros, then length, then digits */
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int natural_qsort(const void *x, const void *y)
{
    return prep_natural_compare(*(const char *const *)x, *(const char *const *)y);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n) return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[n - m + i]) != tolower((unsigned char)suffix[i])) return 0;
    return 1;
}

static int is_tiff_name(const char *s)
{
    return ends_with(s, ".tif") || ends_with(s, ".tiff");
}

static bcdi_status add_file(prep_input *in, size_t *capacity, const char *name)
{
    if (in->file_count == *capacity) {
        size_t cap = *capacity ? 2 * *capacity : 64;
        char **grown = realloc(in->files, cap * sizeof *grown);
        if (!grown)
            return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory listing files", in->path);
        in->files = grown;
        *capacity = cap;
    }
    if (!(in->files[in->file_count] = strdup(name)))
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory listing files", in->path);
    in->file_count++;
    return BCDI_OK;
}

static bcdi_status list_folder(prep_input *in)
{
    DIR *dir = opendir(in->path);
    if (!dir)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot list folder: %s", in->path, strerror(errno));
    size_t capacity = 0;
    bcdi_status st = BCDI_OK;
    struct dirent *e;
    while (st == BCDI_OK && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' || !is_tiff_name(e->d_name))
            continue; /* hidden files are our own temporaries, never frames */
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", in->path, e->d_name);
        st = add_file(in, &capacity, full);
    }
    closedir(dir);
    if (st == BCDI_OK && in->file_count == 0)
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': folder holds no .tif/.tiff frames", in->path);
    return st;
}

static bcdi_status list_glob(prep_input *in)
{
    glob_t g;
    int rc = glob(in->path, 0, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return bcdi_error(BCDI_ERR_IO, "'%s': no file matches this pattern", in->path);
    if (rc != 0) return bcdi_error(BCDI_ERR_IO, "'%s': cannot expand the pattern", in->path);
    size_t capacity = 0;
    bcdi_status st = BCDI_OK;
    for (size_t i = 0; i < g.gl_pathc && st == BCDI_OK; i++)
        st = add_file(in, &capacity, g.gl_pathv[i]);
    globfree(&g);
    return st;
}

static bcdi_status open_tiff_files(prep_input *in, int is_glob)
{
    bcdi_status st = is_glob ? list_glob(in) : list_folder(in);
    if (st != BCDI_OK) return st;
    qsort(in->files, in->file_count, sizeof *in->files, natural_qsort);
    size_t pages, rows, cols;
    if ((st = bcdi_tiff_info(in->files[0], &pages, &rows, &cols, &in->stored)) != BCDI_OK)
        return st;
    in->dims[0] = in->file_count;
    in->dims[1] = rows;
    in->dims[2] = cols;
    return BCDI_OK;
}

/* by_name: the kind came from the file name (input_format=auto), so the content may correct it */
static bcdi_status open_hdf5(prep_input *in, const char *data_path, int by_name)
{
    bcdi_status st = bcdi_h5_open(in->path, &in->h5);
    if (st != BCDI_OK) return st;
    const char *path = data_path && data_path[0] ? data_path : NULL;
    if (!path) {
        if (in->kind == PREP_INPUT_CXI && by_name && !bcdi_h5_exists(in->h5, CXI_DATA) &&
            !bcdi_h5_exists(in->h5, CXI_DATA_LINK) && bcdi_h5_exists(in->h5, BCDI_NEXUS_DATA_PATH))
            path = BCDI_NEXUS_DATA_PATH, in->kind = PREP_INPUT_HDF5; /* a NeXus stack named .cxi */
        else if (in->kind == PREP_INPUT_CXI)
            path = bcdi_h5_exists(in->h5, CXI_DATA) ? CXI_DATA : CXI_DATA_LINK;
        else if (!bcdi_h5_exists(in->h5, BCDI_NEXUS_DATA_PATH) && bcdi_h5_exists(in->h5, CXI_DATA))
            path = CXI_DATA, in->kind = PREP_INPUT_CXI; /* a CXI file under another name */
        else
            path = BCDI_NEXUS_DATA_PATH;
    }
    snprintf(in->data_path, sizeof in->data_path, "%s", path);
    int rank;
    size_t dims[8];
    if ((st = bcdi_h5_shape(in->h5, path, &rank, dims, &in->stored)) != BCDI_OK) return st;
    if (rank != 3 && rank != 2)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': '%s' has rank %d, expected 3 (frames x rows x "
                          "columns) or 2 (one frame)",
                          in->path, path, rank);
    if (in->stored == BCDI_DT_CF32)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': '%s' holds complex numbers, expected detector "
                          "counts",
                          in->path, path);
    in->data_rank = rank;
    in->dims[0] = rank == 3 ? dims[0] : 1;
    in->dims[1] = dims[rank - 2];
    in->dims[2] = dims[rank - 1];
    /* a filter whose plugin is missing would otherwise fail deep inside the first read */
    return bcdi_h5_check_filters(in->h5, path, NULL, 0);
}

static bcdi_status open_npy(prep_input *in)
{
    bcdi_status st = bcdi_npy_open(in->path, &in->npy);
    if (st != BCDI_OK) return st;
    if (in->npy.rank != 3 && in->npy.rank != 2)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': array has rank %d, expected 3 (frames x rows "
                          "x columns) or 2",
                          in->path, in->npy.rank);
    in->stored = bcdi_npy_dtype(&in->npy);
    in->dims[0] = in->npy.rank == 3 ? in->npy.dims[0] : 1;
    in->dims[1] = in->npy.dims[in->npy.rank - 2];
    in->dims[2] = in->npy.dims[in->npy.rank - 1];
    return BCDI_OK;
}

/* A MATLAB variable, read whole: stored dims are MATLAB's size(A) (io/mat.h). */
static bcdi_status open_mat(prep_input *in, const char *variable)
{
    bcdi_mat_array a;
    bcdi_status st = bcdi_mat_read(in->path, variable && variable[0] ? variable : NULL, &a);
    if (st != BCDI_OK) return st;
    in->whole = a.data;
    memcpy(in->dims, a.shape, sizeof in->dims);
    /* the class decides the saturation default, as the stored type of other inputs does */
    in->stored = !strcmp(a.type, "uint16")   ? BCDI_DT_U16
                 : !strcmp(a.type, "uint32") ? BCDI_DT_U32
                 : !strcmp(a.type, "uint8")  ? BCDI_DT_U8
                 : !strcmp(a.type, "int32")  ? BCDI_DT_I32
                 : !strcmp(a.type, "double") ? BCDI_DT_F64
                                             : BCDI_DT_F32;
    snprintf(in->data_path, sizeof in->data_path, "%s", a.name);
    return BCDI_OK;
}

int bcdi_prepare_dataset_frames(const char *input, char *frames, size_t capacity)
{
    struct stat sb;
    int len = input && frames ? snprintf(frames, capacity, "%s/frames", input) : -1;
    return len > 0 && (size_t)len < capacity && stat(frames, &sb) == 0 && S_ISDIR(sb.st_mode);
}

bcdi_status prep_input_open(const char *input, const char *format, const char *data_path,
                            prep_input *in)
{
    memset(in, 0, sizeof *in);
    if (!input || !input[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "prepare: no input file given");
    snprintf(in->path, sizeof in->path, "%s", input);
    const char *fmt = format && format[0] ? format : "auto";
    int is_glob = strpbrk(input, "*?[") != NULL;
    struct stat sb;
    int exists = stat(input, &sb) == 0;
    int is_dir = exists && S_ISDIR(sb.st_mode);
    if (!exists && !is_glob)
        return bcdi_error(BCDI_ERR_IO, "'%s': cannot open: %s", input, strerror(errno));
    /* a dataset folder (frames/ beside its .spec and calibration images): the frames */
    char frames[sizeof in->path];
    if (is_dir && bcdi_prepare_dataset_frames(input, frames, sizeof frames)) {
        memcpy(in->path, frames, strlen(frames) + 1);
        input = in->path;
    }
    bcdi_status st;
    if (!strcmp(fmt, "auto")) {
        if (is_dir || (is_glob && !exists))
            in->kind = PREP_INPUT_TIFF_FILES;
        else if (is_tiff_name(input))
            in->kind = PREP_INPUT_TIFF_PAGES;
        else if (ends_with(input, ".npy"))
            in->kind = PREP_INPUT_NPY;
        else if (ends_with(input, ".cxi"))
            in->kind = PREP_INPUT_CXI;
        else if (ends_with(input, ".mat"))
            in->kind = PREP_INPUT_MAT;
        else
            in->kind = PREP_INPUT_HDF5;
    } else if (!strcmp(fmt, "nexus") || !strcmp(fmt, "hdf5")) {
        in->kind = PREP_INPUT_HDF5;
    } else if (!strcmp(fmt, "cxi")) {
        in->kind = PREP_INPUT_CXI;
    } else if (!strcmp(fmt, "tiff")) {
        in->kind = (is_dir || is_glob) ? PREP_INPUT_TIFF_FILES : PREP_INPUT_TIFF_PAGES;
    } else if (!strcmp(fmt, "npy")) {
        in->kind = PREP_INPUT_NPY;
    } else if (!strcmp(fmt, "mat")) {
        in->kind = PREP_INPUT_MAT;
    } else {
        return bcdi_error(BCDI_ERR_CONFIG,
                          "key 'input_format' is '%s', expected auto, nexus, "
                          "hdf5, cxi, tiff, npy or mat",
                          fmt);
    }
    switch (in->kind) {
    case PREP_INPUT_HDF5:
    case PREP_INPUT_CXI:
        st = open_hdf5(in, data_path, !strcmp(fmt, "auto"));
        break;
    case PREP_INPUT_TIFF_FILES:
        st = open_tiff_files(in, is_glob && !is_dir);
        break;
    case PREP_INPUT_TIFF_PAGES: {
        size_t pages;
        st = bcdi_tiff_info(input, &pages, &in->dims[1], &in->dims[2], &in->stored);
        in->dims[0] = pages;
        break;
    }
    case PREP_INPUT_NPY:
        st = open_npy(in);
        break;
    case PREP_INPUT_MAT:
        st = open_mat(in, data_path);
        break;
    default:
        st = bcdi_error(BCDI_ERR_INTERNAL, "prepare: unknown input kind");
        break;
    }
    if (st == BCDI_OK && (!in->dims[0] || !in->dims[1] || !in->dims[2]))
        st = bcdi_error(BCDI_ERR_FORMAT, "'%s': empty stack (%zu x %zu x %zu)", input, in->dims[0],
                        in->dims[1], in->dims[2]);
    /* frames are read one at a time, but offsets into the stack span all of it: the whole
     * declared stack must be a size that exists */
    if (st == BCDI_OK)
        st = bcdi_ckd_volume(in->dims, 3, sizeof(float), NULL, NULL, "'%s'%s%s%s", input,
                             in->h5 ? ": dataset '" : "", in->h5 ? in->data_path : "",
                             in->h5 ? "'" : "");
    memcpy(in->stored_dims, in->dims, sizeof in->dims);
    for (int a = 0; a < 3; a++)
        in->axis_of[a] = a;
    if (st != BCDI_OK) prep_input_close(in);
    return st;
}

void prep_input_close(prep_input *in)
{
    if (!in) return;
    bcdi_h5_close(in->h5);
    in->h5 = NULL;
    for (size_t i = 0; i < in->file_count; i++)
        free(in->files[i]);
    free(in->files);
    in->files = NULL;
    in->file_count = 0;
    free(in->page_cache);
    in->page_cache = NULL;
    free(in->whole);
    in->whole = NULL;
    bcdi_npy_close(&in->npy);
}

bcdi_status prep_input_read_stored(prep_input *in, size_t f, size_t r0, size_t nr, size_t c0,
                                   size_t nc, float *out)
{
    const size_t *dims = in->stored_dims;
    if (f >= dims[0] || r0 + nr > dims[1] || c0 + nc > dims[2])
        return bcdi_error(BCDI_ERR_INTERNAL,
                          "'%s': region frame %zu rows %zu+%zu columns "
                          "%zu+%zu outside the stack",
                          in->path, f, r0, nr, c0, nc);
    if (in->kind == PREP_INPUT_MAT) {
        for (size_t r = 0; r < nr; r++)
            memcpy(out + r * nc, in->whole + (f * dims[1] + r0 + r) * dims[2] + c0,
                   nc * sizeof(float));
        return BCDI_OK;
    }
    if (in->kind == PREP_INPUT_HDF5 || in->kind == PREP_INPUT_CXI) {
        size_t start[3] = {f, r0, c0}, count[3] = {1, nr, nc};
        const size_t *s = in->data_rank == 3 ? start : start + 1;
        const size_t *c = in->data_rank == 3 ? count : count + 1;
        return bcdi_h5_read_slab(in->h5, in->data_path, BCDI_DT_F32, s, c, out);
    }
    if (in->kind == PREP_INPUT_NPY) return bcdi_npy_read_region(&in->npy, f, r0, nr, c0, nc, out);
    /* TIFF: libtiff decodes whole strips, so decode the page once and cut regions from it */
    size_t plane = dims[1] * dims[2]; /* checked with the stack at open */
    if (!in->page_cache && !(in->page_cache = malloc(plane * sizeof(float))))
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot allocate one frame", in->path);
    if (!in->cache_valid || in->cached_page != f) {
        in->cache_valid = 0;
        const char *file = in->kind == PREP_INPUT_TIFF_FILES ? in->files[f] : in->path;
        size_t page = in->kind == PREP_INPUT_TIFF_FILES ? 0 : f;
        bcdi_status st;
        if (in->kind == PREP_INPUT_TIFF_FILES) {
            /* each frame file must match the first: size and stored type (mixed bit depths
             * would take their saturation level from the first frame); a multi-page file's
             * pages were all checked when it was opened */
            size_t rows, cols;
            bcdi_dtype stored;
            if ((st = bcdi_tiff_info(file, NULL, &rows, &cols, &stored)) != BCDI_OK) return st;
            if (rows != dims[1] || cols != dims[2] || stored != in->stored)
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': frame is %zu x %zu %s, the first frame ('%s') was %zu x "
                                  "%zu %s: the frames of a stack must share their size and type",
                                  file, rows, cols, bcdi_dtype_name(stored), in->files[0], dims[1],
                                  dims[2], bcdi_dtype_name(in->stored));
        }
        if ((st = bcdi_tiff_read_page(file, page, in->page_cache, plane)) != BCDI_OK) return st;
        in->cached_page = f;
        in->cache_valid = 1;
    }
    for (size_t r = 0; r < nr; r++)
        memcpy(out + r * nc, in->page_cache + (r0 + r) * dims[2] + c0, nc * sizeof(float));
    return BCDI_OK;
}

bcdi_status prep_cut_image(const char *path, float *full, size_t file_rows, size_t file_cols,
                           size_t rows, size_t cols, const long origin[2], float **out)
{
    *out = NULL;
    if (file_rows == rows && file_cols == cols) {
        *out = full;
        return BCDI_OK;
    }
    long r0 = origin ? origin[0] : 0, c0 = origin ? origin[1] : 0;
    if (r0 < 0 || c0 < 0 || (size_t)r0 + rows > file_rows || (size_t)c0 + cols > file_cols) {
        free(full);
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': image is %zu x %zu; the frames (%zu x %zu at "
                          "row %ld, column %ld of the detector, key 'frame_origin') do not fit in "
                          "it",
                          path, file_rows, file_cols, rows, cols, r0, c0);
    }
    float *cut = malloc(rows * cols * sizeof *cut);
    if (!cut) {
        free(full);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory", path);
    }
    for (size_t r = 0; r < rows; r++)
        memcpy(cut + r * cols, full + ((size_t)r0 + r) * file_cols + (size_t)c0,
               cols * sizeof *cut);
    free(full);
    *out = cut;
    return BCDI_OK;
}

/* An image of `bytes` (and its cut, at most as large) fits in memory. */
static bcdi_status image_fits(const char *path, size_t rows, size_t cols, size_t bytes,
                              size_t max_memory)
{
    char how[80];
    snprintf(how, sizeof how, "%zu x %zu pixels", rows, cols);
    bcdi_status st = bcdi_memory_check(2.0 * (double)bytes, max_memory, "the image", how,
                                       "is it the calibration image meant?");
    return st == BCDI_OK ? st : bcdi_error_prefix(st, "'%s': ", path);
}

bcdi_status prep_load_image(const char *path, const char *dataset, size_t *rows, size_t *cols,
                            const long origin[2], size_t max_memory, float **out)
{
    *out = NULL;
    size_t file_rows = 0, file_cols = 0;
    float *full = NULL;
    bcdi_status st;
    size_t image[2], pixels = 0, bytes = 0;
    if (is_tiff_name(path)) {
        if ((st = bcdi_tiff_info(path, NULL, &file_rows, &file_cols, NULL)) != BCDI_OK) return st;
        image[0] = file_rows, image[1] = file_cols;
        if ((st = bcdi_ckd_volume(image, 2, sizeof *full, &pixels, &bytes, "'%s'", path)) !=
                BCDI_OK ||
            (st = image_fits(path, file_rows, file_cols, bytes, max_memory)) != BCDI_OK)
            return st;
        if (!(full = malloc(bytes)))
            return bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory for %zu bytes", path, bytes);
        st = bcdi_tiff_read_page(path, 0, full, pixels);
    } else if (ends_with(path, ".npy")) {
        bcdi_npy npy;
        if ((st = bcdi_npy_open(path, &npy)) != BCDI_OK) return st;
        if (npy.rank != 2 && !(npy.rank == 3 && npy.dims[0] == 1)) {
            bcdi_npy_close(&npy);
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': rank %d, expected a 2-D image", path,
                              npy.rank);
        }
        file_rows = npy.dims[npy.rank - 2];
        file_cols = npy.dims[npy.rank - 1];
        image[0] = file_rows, image[1] = file_cols;
        st = bcdi_ckd_volume(image, 2, sizeof *full, NULL, &bytes, "'%s'", path);
        if (st == BCDI_OK) st = image_fits(path, file_rows, file_cols, bytes, max_memory);
        if (st == BCDI_OK && !(full = malloc(bytes)))
            st = bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory for %zu bytes", path, bytes);
        else if (st == BCDI_OK)
            st = bcdi_npy_read_region(&npy, 0, 0, file_rows, 0, file_cols, full);
        bcdi_npy_close(&npy);
    } else {
        bcdi_h5_reader *r;
        if ((st = bcdi_h5_open(path, &r)) != BCDI_OK) return st;
        int rank;
        size_t dims[8];
        st = bcdi_h5_check_filters(r, dataset, NULL, 0);
        if (st == BCDI_OK) st = bcdi_h5_shape(r, dataset, &rank, dims, NULL);
        if (st == BCDI_OK && rank != 2 && !(rank == 3 && dims[0] == 1))
            st = bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has rank %d, expected a 2-D image", path,
                            dataset, rank);
        if (st == BCDI_OK) {
            file_rows = dims[rank - 2];
            file_cols = dims[rank - 1];
            image[0] = file_rows, image[1] = file_cols;
            st = bcdi_ckd_volume(image, 2, sizeof *full, &pixels, &bytes, "'%s': dataset '%s'",
                                 path, dataset);
            if (st == BCDI_OK) st = image_fits(path, file_rows, file_cols, bytes, max_memory);
            if (st == BCDI_OK && !(full = malloc(bytes)))
                st = bcdi_error(BCDI_ERR_NOMEM, "'%s': out of memory for %zu bytes", path, bytes);
            else if (st == BCDI_OK)
                st = bcdi_h5_read(r, dataset, BCDI_DT_F32, full, pixels);
        }
        bcdi_h5_close(r);
    }
    if (st != BCDI_OK) {
        free(full);
        return st;
    }
    if (*rows == 0 || *cols == 0) {
        *rows = file_rows;
        *cols = file_cols;
        *out = full;
        return BCDI_OK;
    }
    return prep_cut_image(path, full, file_rows, file_cols, *rows, *cols, origin, out);
}
