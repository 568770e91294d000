/* SPDX-License-Identifier: BSD-3-Clause */
/* TIFF stacks with libtiff: areaDetector per-frame files and multi-page stacks for Fiji.
 * libtiff's default handlers print to stderr; the library must not print, so warnings (e.g.
 * about areaDetector's private tags 65000-65003) are dropped and error text is captured into
 * the bcdi_error message instead. */
#include "io/tiff_io.h"

#include "core/ckd.h"
#include "core/input_file.h"

#include <tiffio.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Thread_local char tiff_msg[512];

static void capture_error(const char *module, const char *fmt, va_list ap)
{
    /* keep the first error: later ones are usually consequences of it */
    if (tiff_msg[0]) return;
    int n = module ? snprintf(tiff_msg, sizeof tiff_msg, "%s: ", module) : 0;
    if (n < 0 || (size_t)n >= sizeof tiff_msg) n = 0;
    vsnprintf(tiff_msg + n, sizeof tiff_msg - (size_t)n, fmt, ap);
}

static void tiff_quiet(void)
{
    TIFFSetWarningHandler(NULL);
    TIFFSetWarningHandlerExt(NULL);
    TIFFSetErrorHandlerExt(NULL);
    TIFFSetErrorHandler(capture_error);
    tiff_msg[0] = '\0';
}

static const char *tiff_why(void)
{
    return tiff_msg[0] ? tiff_msg : "libtiff error";
}

/* Open for reading with the quiet handlers; errors name the file. Only a regular file is opened
 * (a FIFO named like a frame would block libtiff's open forever); *file_size (may be NULL)
 * receives its size. */
static bcdi_status open_read(const char *path, TIFF **out, size_t *file_size)
{
    tiff_quiet();
    int fd;
    size_t size;
    bcdi_status st = bcdi_input_open_fd(path, "TIFF", 0, &fd, &size);
    if (st != BCDI_OK) return st;
    TIFF *t = TIFFFdOpen(fd, path, "r");
    if (!t) {
        close(fd);
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': not a readable TIFF (%zu bytes): %s", path, size,
                          tiff_why());
    }
    if (file_size) *file_size = size;
    *out = t;
    return BCDI_OK;
}

typedef struct {
    uint32_t width, height;
    uint16_t bits, format, spp, planar;
} page_info;

static bcdi_status get_info(TIFF *t, const char *path, size_t page, page_info *pi, bcdi_dtype *type)
{
    uint16_t bits = 0, format = SAMPLEFORMAT_UINT, spp = 1, planar = PLANARCONFIG_CONTIG;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &pi->width) ||
        !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &pi->height))
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': page %zu has no image size", path, page);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    pi->bits = bits;
    pi->format = format;
    pi->spp = spp;
    pi->planar = planar;
    if (spp != 1)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': page %zu has %u samples per pixel, expected "
                          "1 (grey detector image)",
                          path, page, (unsigned)spp);
    bcdi_dtype d;
    if (format == SAMPLEFORMAT_UINT && bits == 8)
        d = BCDI_DT_U8;
    else if (format == SAMPLEFORMAT_UINT && bits == 16)
        d = BCDI_DT_U16;
    else if (format == SAMPLEFORMAT_UINT && bits == 32)
        d = BCDI_DT_U32;
    else if (format == SAMPLEFORMAT_INT && (bits == 16 || bits == 32))
        d = BCDI_DT_I32;
    else if (format == SAMPLEFORMAT_IEEEFP && bits == 32)
        d = BCDI_DT_F32;
    else if (format == SAMPLEFORMAT_IEEEFP && bits == 64)
        d = BCDI_DT_F64;
    else
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': page %zu has %u-bit samples of format %u, "
                          "expected uint8/16/32, int16/32 or float32/64",
                          path, page, (unsigned)bits, (unsigned)format);
    /* a page is decoded whole: its size must be one that exists (checked sizes) */
    size_t plane[2] = {pi->height, pi->width};
    bcdi_status st =
        bcdi_ckd_volume(plane, 2, sizeof(double), NULL, NULL, "'%s': page %zu", path, page);
    if (st != BCDI_OK) return st;
    if (type) *type = d;
    return BCDI_OK;
}

/* Every strip or tile of the current page lies inside the file (a stack cut short loses its
 * last pages' data, or their directories: both are refused, never read as fewer frames). */
static bcdi_status check_page_data(TIFF *t, const char *path, size_t page, size_t file_size)
{
    uint32_t n = TIFFIsTiled(t) ? TIFFNumberOfTiles(t) : TIFFNumberOfStrips(t);
    for (uint32_t k = 0; k < n; k++) {
        int ok = 0;
        uint64_t offset = TIFFGetStrileOffsetWithErr(t, k, &ok), end;
        if (!ok) break; /* libtiff's own error, reported below */
        uint64_t count = TIFFGetStrileByteCountWithErr(t, k, &ok);
        if (!ok) break;
        if (__builtin_add_overflow(offset, count, &end) || end > file_size)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s': page %zu: its data runs to byte %llu, the file has %zu bytes "
                              "(truncated?)",
                              path, page, (unsigned long long)offset + count, file_size);
    }
    if (tiff_msg[0])
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': page %zu: %s (truncated or damaged?)", path, page,
                          tiff_msg);
    return BCDI_OK;
}

static const char *page_text(const page_info *pi, char *buf, size_t capacity)
{
    const char *format = pi->format == SAMPLEFORMAT_IEEEFP ? "float"
                         : pi->format == SAMPLEFORMAT_INT  ? "int"
                                                           : "uint";
    snprintf(buf, capacity, "%u x %u, %s%u", (unsigned)pi->height, (unsigned)pi->width, format,
             (unsigned)pi->bits);
    return buf;
}

/* Every page of an open TIFF: the same size, bit depth and sample format as the first (a
 * smaller page would be read at the first page's width, mixed depths would take their
 * saturation from the first), its data inside the file, the directory chain unbroken to its
 * end, and the page count a page-number tag declares reached. */
static bcdi_status scan_pages(TIFF *t, const char *path, size_t file_size, page_info *first,
                              bcdi_dtype *type, size_t *pages)
{
    bcdi_status st = get_info(t, path, 0, first, type);
    if (st == BCDI_OK) st = check_page_data(t, path, 0, file_size);
    uint16_t number = 0, declared = 0;
    if (st == BCDI_OK && !TIFFGetField(t, TIFFTAG_PAGENUMBER, &number, &declared)) declared = 0;
    size_t count = 1;
    while (st == BCDI_OK && TIFFReadDirectory(t)) {
        page_info pi;
        bcdi_dtype d;
        if ((st = get_info(t, path, count, &pi, &d)) != BCDI_OK) break;
        if (pi.width != first->width || pi.height != first->height || pi.bits != first->bits ||
            pi.format != first->format) {
            char a[64], b[64];
            st =
                bcdi_error(BCDI_ERR_FORMAT,
                           "'%s': page %zu is %s, page 0 is %s: the pages of a stack must share "
                           "their size, bit depth and sample format",
                           path, count, page_text(&pi, a, sizeof a), page_text(first, b, sizeof b));
            break;
        }
        st = check_page_data(t, path, count, file_size);
        count++;
    }
    if (st == BCDI_OK && tiff_msg[0]) /* the chain of directories ends in a broken link */
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': the directory after page %zu cannot be read (truncated or "
                        "damaged?): %s",
                        path, count - 1, tiff_msg);
    if (st == BCDI_OK && declared > count)
        st = bcdi_error(BCDI_ERR_FORMAT,
                        "'%s': page 0 says the stack has %u pages, the file holds %zu "
                        "(truncated?)",
                        path, (unsigned)declared, count);
    if (st == BCDI_OK) *pages = count;
    return st;
}

bcdi_status bcdi_tiff_info(const char *path, size_t *pages, size_t *rows, size_t *columns,
                           bcdi_dtype *stored)
{
    TIFF *t;
    size_t file_size, count = 0;
    bcdi_status st = open_read(path, &t, &file_size);
    if (st != BCDI_OK) return st;
    page_info pi;
    bcdi_dtype d;
    st = scan_pages(t, path, file_size, &pi, &d, &count);
    if (st == BCDI_OK) {
        if (rows) *rows = pi.height;
        if (columns) *columns = pi.width;
        if (pages) *pages = count;
        if (stored) *stored = d;
    }
    TIFFClose(t);
    return st;
}

/* Convert n samples of one page row/tile row to float. */
static void to_float(const void *src, const page_info *pi, size_t n, float *dst)
{
    if (pi->format == SAMPLEFORMAT_IEEEFP) {
        if (pi->bits == 32)
            memcpy(dst, src, n * sizeof(float));
        else
            for (size_t i = 0; i < n; i++)
                dst[i] = (float)((const double *)src)[i];
    } else if (pi->format == SAMPLEFORMAT_INT) {
        if (pi->bits == 16)
            for (size_t i = 0; i < n; i++)
                dst[i] = (float)((const int16_t *)src)[i];
        else
            for (size_t i = 0; i < n; i++)
                dst[i] = (float)((const int32_t *)src)[i];
    } else {
        if (pi->bits == 8)
            for (size_t i = 0; i < n; i++)
                dst[i] = (float)((const uint8_t *)src)[i];
        else if (pi->bits == 16)
            for (size_t i = 0; i < n; i++)
                dst[i] = (float)((const uint16_t *)src)[i];
        else
            for (size_t i = 0; i < n; i++)
                dst[i] = (float)((const uint32_t *)src)[i];
    }
}

static bcdi_status read_tiles(TIFF *t, const char *path, size_t page, const page_info *pi,
                              float *out)
{
    uint32_t tw = 0, th = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    tmsize_t tsize = TIFFTileSize(t);
    if (tw == 0 || th == 0 || tsize <= 0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': page %zu has bad tiles", path, page);
    unsigned char *buf = malloc((size_t)tsize);
    float *row = malloc(tw * sizeof *row);
    bcdi_status st = BCDI_OK;
    if (!buf || !row) st = bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot allocate a tile", path);
    size_t bps = pi->bits / 8;
    for (uint32_t y = 0; y < pi->height && st == BCDI_OK; y += th)
        for (uint32_t x = 0; x < pi->width && st == BCDI_OK; x += tw) {
            if (TIFFReadTile(t, buf, x, y, 0, 0) < 0) {
                st = bcdi_error(BCDI_ERR_FORMAT,
                                "'%s': page %zu: cannot read tile at row %u, "
                                "column %u: %s",
                                path, page, y, x, tiff_why());
                break;
            }
            for (uint32_t j = 0; j < th && y + j < pi->height; j++) {
                uint32_t w = pi->width - x < tw ? pi->width - x : tw;
                to_float(buf + (size_t)j * tw * bps, pi, w, row);
                memcpy(out + (size_t)(y + j) * pi->width + x, row, w * sizeof *row);
            }
        }
    free(buf);
    free(row);
    return st;
}

bcdi_status bcdi_tiff_read_page(const char *path, size_t page, float *out, size_t capacity)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': no output buffer", path ? path : "?");
    TIFF *t;
    size_t file_size;
    bcdi_status st = open_read(path, &t, &file_size);
    if (st != BCDI_OK) return st;
    if (page > 0 && (page > UINT16_MAX || !TIFFSetDirectory(t, (tdir_t)page))) {
        size_t n = TIFFNumberOfDirectories(t);
        TIFFClose(t);
        return bcdi_error(BCDI_ERR_INVALID_ARG, "'%s': page %zu asked for, the file has %zu", path,
                          page, n);
    }
    page_info pi;
    if ((st = get_info(t, path, page, &pi, NULL)) != BCDI_OK) {
        TIFFClose(t);
        return st;
    }
    size_t n = (size_t)pi.width * pi.height; /* checked by get_info */
    if (n != capacity) { /* a smaller page would leave the rest of the frame stale */
        TIFFClose(t);
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': page %zu has %u x %u = %zu pixels, expected %zu (the pages of a "
                          "stack must share their size)",
                          path, page, pi.height, pi.width, n, capacity);
    }
    if ((st = check_page_data(t, path, page, file_size)) != BCDI_OK) {
        TIFFClose(t);
        return st;
    }
    if (TIFFIsTiled(t)) {
        st = read_tiles(t, path, page, &pi, out);
    } else {
        tmsize_t ls = TIFFScanlineSize(t);
        void *line = ls > 0 ? malloc((size_t)ls) : NULL;
        if (!line) st = bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot allocate a scanline", path);
        for (uint32_t y = 0; y < pi.height && st == BCDI_OK; y++) {
            if (TIFFReadScanline(t, line, y, 0) < 0) {
                st = bcdi_error(BCDI_ERR_FORMAT,
                                "'%s': page %zu: cannot read row %u of %u "
                                "(truncated or corrupt?): %s",
                                path, page, y, pi.height, tiff_why());
                break;
            }
            to_float(line, &pi, pi.width, out + (size_t)y * pi.width);
        }
        free(line);
    }
    TIFFClose(t);
    return st;
}

/* ---- writing ---- */

static bcdi_status write_pages(TIFF *t, const char *path, bcdi_dtype type, const size_t dims[3],
                               const void *data, int multipage)
{
    uint16_t bits, format;
    switch (type) {
    case BCDI_DT_U8:
        bits = 8;
        format = SAMPLEFORMAT_UINT;
        break;
    case BCDI_DT_U16:
        bits = 16;
        format = SAMPLEFORMAT_UINT;
        break;
    case BCDI_DT_U32:
        bits = 32;
        format = SAMPLEFORMAT_UINT;
        break;
    case BCDI_DT_I32:
        bits = 32;
        format = SAMPLEFORMAT_INT;
        break;
    case BCDI_DT_F32:
        bits = 32;
        format = SAMPLEFORMAT_IEEEFP;
        break;
    default:
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "'%s': TIFF pixels must be uint8/16/32, int32 "
                          "or float32, not %s",
                          path, bcdi_dtype_name(type));
    }
    size_t row_bytes = dims[2] * bits / 8, frame = row_bytes * dims[1];
    for (size_t k = 0; k < dims[0]; k++) {
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)dims[2]);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)dims[1]);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
        TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
        if (multipage) { /* lets Fiji open it as a stack */
            TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
            TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)k, (uint16_t)dims[0]);
        }
        const unsigned char *src = (const unsigned char *)data + k * frame;
        for (size_t y = 0; y < dims[1]; y++)
            if (TIFFWriteScanline(t, (void *)(src + y * row_bytes), (uint32_t)y, 0) < 0)
                return bcdi_error(BCDI_ERR_IO, "'%s': cannot write row %zu of page %zu: %s", path,
                                  y, k, tiff_why());
        if (!TIFFWriteDirectory(t))
            return bcdi_error(BCDI_ERR_IO, "'%s': cannot write page %zu: %s", path, k, tiff_why());
    }
    return BCDI_OK;
}

/* Write dims[0] pages to the temporary of `path` staged in tx. */
static bcdi_status write_staged(bcdi_output *tx, const char *path, bcdi_dtype type,
                                const size_t dims[3], const void *data, int multipage)
{
    if (!path || !dims || !data || !dims[1] || !dims[2] || !dims[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "TIFF '%s': missing data or empty shape",
                          path ? path : "(null)");
    if (dims[1] > UINT32_MAX || dims[2] > UINT32_MAX || (multipage && dims[0] > UINT16_MAX))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "TIFF '%s': shape %zu x %zu x %zu too large", path,
                          dims[0], dims[1], dims[2]);
    int fd = -1;
    bcdi_status st = bcdi_output_open(tx, path, &fd);
    if (st != BCDI_OK) return st;
    tiff_quiet();
    double bytes = (double)dims[0] * (double)dims[1] * (double)dims[2] * bcdi_dtype_size(type);
    /* classic TIFF offsets are 32-bit: switch to BigTIFF well before 4 GiB */
    errno = 0; /* libtiff's messages do not carry the system's reason (a full disk): errno does */
    TIFF *t = TIFFFdOpen(fd, path, bytes > 3.5e9 ? "w8" : "w");
    if (!t) {
        int err = errno;
        close(fd);
        return bcdi_error(BCDI_ERR_IO, "'%s': libtiff cannot write its temporary: %s%s%s%s", path,
                          tiff_why(), err ? " (" : "", err ? strerror(err) : "", err ? ")" : "");
    }
    st = write_pages(t, path, type, dims, data, multipage);
    int err = errno;
    TIFFClose(t); /* closes fd; a failed final write shows in tiff_msg */
    if (!err) err = errno;
    if (st == BCDI_OK && tiff_msg[0])
        st = bcdi_error(BCDI_ERR_IO, "'%s': libtiff reported: %s", path, tiff_msg);
    if (st != BCDI_OK && err) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", bcdi_last_error());
        st = bcdi_error(st, "%s (%s)", detail, strerror(err));
    }
    return st;
}

bcdi_status bcdi_tiff_write_multipage(bcdi_output *tx, const char *path, bcdi_dtype type,
                                      const size_t dims[3], const void *data)
{
    bcdi_output *own = NULL;
    bcdi_status st = tx ? BCDI_OK : bcdi_output_begin(&own);
    if (st == BCDI_OK) st = write_staged(tx ? tx : own, path, type, dims, data, 1);
    return bcdi_output_finish(own, st);
}

bcdi_status bcdi_tiff_write_frames(bcdi_output *tx, const char *dir, const char *prefix,
                                   bcdi_dtype type, const size_t dims[3], const void *data)
{
    if (!dir || !prefix || !dims || !data)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "TIFF frames: NULL argument");
    bcdi_output *own = NULL;
    bcdi_status st = tx ? BCDI_OK : bcdi_output_begin(&own);
    if (st == BCDI_OK) st = bcdi_output_folder(tx ? tx : own, dir);
    size_t frame = dims[1] * dims[2] * bcdi_dtype_size(type);
    for (size_t k = 0; st == BCDI_OK && k < dims[0]; k++) {
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s_%05zu.tif", dir, prefix, k);
        if (n < 0 || (size_t)n >= sizeof path)
            st = bcdi_error(BCDI_ERR_INVALID_ARG, "'%s/%s': path too long", dir, prefix);
        size_t one[3] = {1, dims[1], dims[2]};
        if (st == BCDI_OK)
            st = write_staged(tx ? tx : own, path, type, one, (const char *)data + k * frame, 0);
    }
    return bcdi_output_finish(own, st);
}
