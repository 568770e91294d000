/* SPDX-License-Identifier: BSD-3-Clause */
/* VTK XML writers (see vtk.h). */
#include "io/vtk.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char BASE64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_write(FILE *f, const unsigned char *bytes, size_t count)
{
    char out[4];
    for (size_t i = 0; i < count; i += 3) {
        uint32_t chunk = (uint32_t)bytes[i] << 16;
        size_t left = count - i;
        if (left > 1) chunk |= (uint32_t)bytes[i + 1] << 8;
        if (left > 2) chunk |= bytes[i + 2];
        out[0] = BASE64[(chunk >> 18) & 63];
        out[1] = BASE64[(chunk >> 12) & 63];
        out[2] = left > 1 ? BASE64[(chunk >> 6) & 63] : '=';
        out[3] = left > 2 ? BASE64[chunk & 63] : '=';
        fwrite(out, 1, 4, f);
    }
}

static const char *vtk_type(bcdi_dtype t)
{
    switch (t) {
    case BCDI_DT_U8:
        return "UInt8";
    case BCDI_DT_I32:
        return "Int32";
    case BCDI_DT_U32:
        return "UInt32";
    case BCDI_DT_F32:
        return "Float32";
    case BCDI_DT_F64:
        return "Float64";
    default:
        return NULL;
    }
}

/* One <DataArray> with its payload: base64(UInt64 byte count) then base64(bytes). */
static void write_array(FILE *f, const char *name, bcdi_dtype type, int components,
                        const void *data, size_t tuples)
{
    uint64_t bytes = (uint64_t)tuples * (uint64_t)components * bcdi_dtype_size(type);
    fprintf(f,
            "        <DataArray type=\"%s\" Name=\"%s\" NumberOfComponents=\"%d\" "
            "format=\"binary\">\n          ",
            vtk_type(type), name, components);
    base64_write(f, (const unsigned char *)&bytes, sizeof bytes);
    base64_write(f, (const unsigned char *)data, (size_t)bytes);
    fprintf(f, "\n        </DataArray>\n");
}

static bcdi_status check_arrays(const char *path, const bcdi_vtk_array *arrays, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if (!vtk_type(arrays[i].type) || (arrays[i].components != 1 && arrays[i].components != 3) ||
            !arrays[i].data || !arrays[i].name)
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "'%s': VTK array %zu ('%s') has an unsupported "
                              "type or component count",
                              path, i, arrays[i].name ? arrays[i].name : "?");
    }
    return BCDI_OK;
}

static void header(FILE *f, const char *kind)
{
    fprintf(f,
            "<?xml version=\"1.0\"?>\n<VTKFile type=\"%s\" version=\"1.0\" "
            "byte_order=\"LittleEndian\" header_type=\"UInt64\">\n",
            kind);
}

static void point_data(FILE *f, const bcdi_vtk_array *arrays, size_t count, size_t points)
{
    fprintf(f, "      <PointData%s%s%s>\n", count ? " Scalars=\"" : "", count ? arrays[0].name : "",
            count ? "\"" : "");
    for (size_t i = 0; i < count; ++i)
        write_array(f, arrays[i].name, arrays[i].type, arrays[i].components, arrays[i].data,
                    points);
    fprintf(f, "      </PointData>\n");
}

/* A grid file (ImageData or StructuredGrid) up to and with its piece's point data: the checks,
 * the staged stream, the header, <kind WholeExtent=... extra>, <Piece Extent=...>. */
static bcdi_status grid_begin(bcdi_output *tx, const char *path, const char *kind,
                              const size_t dims[3], const char *extra, const bcdi_vtk_array *arrays,
                              size_t count, bcdi_output **own, FILE **f)
{
    bcdi_status st = check_arrays(path, arrays, count);
    if (st != BCDI_OK) return st;
    if ((st = bcdi_output_stream(tx, own, path, f)) != BCDI_OK) return st;
    header(*f, kind);
    fprintf(*f, "  <%s WholeExtent=\"0 %zu 0 %zu 0 %zu\"%s>\n", kind, dims[0] - 1, dims[1] - 1,
            dims[2] - 1, extra);
    fprintf(*f, "    <Piece Extent=\"0 %zu 0 %zu 0 %zu\">\n", dims[0] - 1, dims[1] - 1,
            dims[2] - 1);
    point_data(*f, arrays, count, dims[0] * dims[1] * dims[2]);
    return BCDI_OK;
}

bcdi_status bcdi_vtk_write_image(bcdi_output *tx, const char *path, const size_t dims[3],
                                 const double origin[3], const double spacing[3],
                                 const bcdi_vtk_array *arrays, size_t count)
{
    char extra[256];
    snprintf(extra, sizeof extra, " Origin=\"%.9g %.9g %.9g\" Spacing=\"%.9g %.9g %.9g\"",
             origin[0], origin[1], origin[2], spacing[0], spacing[1], spacing[2]);
    bcdi_output *own;
    FILE *f;
    bcdi_status st = grid_begin(tx, path, "ImageData", dims, extra, arrays, count, &own, &f);
    if (st != BCDI_OK) return st;
    fprintf(f, "      <CellData>\n      </CellData>\n    </Piece>\n  </ImageData>\n</VTKFile>\n");
    return bcdi_output_finish(own, BCDI_OK); /* write errors: reported by the commit */
}

bcdi_status bcdi_vtk_write_structured(bcdi_output *tx, const char *path, const size_t dims[3],
                                      const float *points_xyz, const bcdi_vtk_array *arrays,
                                      size_t count)
{
    bcdi_output *own;
    FILE *f;
    bcdi_status st = grid_begin(tx, path, "StructuredGrid", dims, "", arrays, count, &own, &f);
    if (st != BCDI_OK) return st;
    fprintf(f, "      <CellData>\n      </CellData>\n      <Points>\n");
    write_array(f, "Points", BCDI_DT_F32, 3, points_xyz, dims[0] * dims[1] * dims[2]);
    fprintf(f, "      </Points>\n    </Piece>\n  </StructuredGrid>\n</VTKFile>\n");
    return bcdi_output_finish(own, BCDI_OK); /* write errors: reported by the commit */
}

bcdi_status bcdi_vtk_write_polylines(bcdi_output *tx, const char *path, size_t line_count,
                                     const size_t *point_counts, const double *points_xyz,
                                     const bcdi_vtk_array *cell_arrays, size_t count)
{
    bcdi_status st = check_arrays(path, cell_arrays, count);
    if (st != BCDI_OK) return st;
    size_t total = 0;
    for (size_t k = 0; k < line_count; ++k)
        total += point_counts[k];
    int64_t *connectivity = malloc((total ? total : 1) * sizeof *connectivity);
    int64_t *offsets = malloc((line_count ? line_count : 1) * sizeof *offsets);
    if (!connectivity || !offsets) {
        free(connectivity);
        free(offsets);
        return bcdi_error(BCDI_ERR_NOMEM, "'%s': %zu polyline points", path, total);
    }
    for (size_t i = 0; i < total; ++i)
        connectivity[i] = (int64_t)i;
    size_t end = 0;
    for (size_t k = 0; k < line_count; ++k)
        offsets[k] = (int64_t)(end += point_counts[k]);
    bcdi_output *own;
    FILE *f;
    if ((st = bcdi_output_stream(tx, &own, path, &f)) != BCDI_OK) {
        free(connectivity);
        free(offsets);
        return st;
    }
    header(f, "PolyData");
    fprintf(f,
            "  <PolyData>\n    <Piece NumberOfPoints=\"%zu\" NumberOfVerts=\"0\" "
            "NumberOfLines=\"%zu\" NumberOfStrips=\"0\" NumberOfPolys=\"0\">\n",
            total, line_count);
    fprintf(f, "      <PointData>\n      </PointData>\n      <CellData>\n");
    for (size_t i = 0; i < count; ++i)
        write_array(f, cell_arrays[i].name, cell_arrays[i].type, cell_arrays[i].components,
                    cell_arrays[i].data, line_count);
    fprintf(f, "      </CellData>\n      <Points>\n");
    write_array(f, "Points", BCDI_DT_F64, 3,
                points_xyz ? (const void *)points_xyz : (const void *)"", total);
    fprintf(f, "      </Points>\n      <Lines>\n");
    /* Int64 connectivity/offsets: VTK accepts any integer type here */
    uint64_t bytes = (uint64_t)total * sizeof(int64_t);
    fprintf(
        f,
        "        <DataArray type=\"Int64\" Name=\"connectivity\" format=\"binary\">\n          ");
    base64_write(f, (const unsigned char *)&bytes, sizeof bytes);
    base64_write(f, (const unsigned char *)connectivity, (size_t)bytes);
    bytes = (uint64_t)line_count * sizeof(int64_t);
    fprintf(f, "\n        </DataArray>\n        <DataArray type=\"Int64\" Name=\"offsets\" "
               "format=\"binary\">\n          ");
    base64_write(f, (const unsigned char *)&bytes, sizeof bytes);
    base64_write(f, (const unsigned char *)offsets, (size_t)bytes);
    fprintf(f, "\n        </DataArray>\n      </Lines>\n    </Piece>\n  </PolyData>\n</VTKFile>\n");
    free(connectivity);
    free(offsets);
    return bcdi_output_finish(own, BCDI_OK); /* write errors: reported by the commit */
}
