/* SPDX-License-Identifier: BSD-3-Clause */
/* CXI files: prepared data (detector-frame intensities + mask + geometry) and results
 * (complex object + support + configuration + metrics), in the layout PyNX users read. */
#include "io/cxi.h"

#include "core/ckd.h"
#include "num/constants.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEV_TO_J 1.602176634e-16 /* CXI stores the photon energy in joules */
#define GEO "entry_1/bcdi_geometry"
#define DET "entry_1/instrument_1/detector_1"

bcdi_status bcdi_cxi_create(const char *path, bcdi_h5_writer **out)
{
    return bcdi_cxi_create_in(NULL, path, out);
}

bcdi_status bcdi_cxi_create_in(bcdi_output *tx, const char *path, bcdi_h5_writer **out)
{
    bcdi_status st = bcdi_h5_create_in(tx, path, out);
    if (st != BCDI_OK) return st;
    if ((st = bcdi_h5_write_int(*out, "cxi_version", 150)) != BCDI_OK ||
        (st = bcdi_h5_group(*out, "entry_1", "NXentry")) != BCDI_OK) {
        bcdi_h5_abort(*out);
        *out = NULL;
    }
    return st;
}

static int shape_ok(const size_t s[3])
{
    return s && s[0] && s[1] && s[2];
}

bcdi_status bcdi_cxi_write_object(bcdi_h5_writer *w, const size_t shape[3], const bcdi_cf *object,
                                  const uint8_t *support, int deflate_level)
{
    if (!w || !shape_ok(shape) || !object)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI object: missing shape or data");
    bcdi_status st;
    if ((st = bcdi_h5_group(w, "entry_1/image_1", "NXdata")) != BCDI_OK ||
        (st = bcdi_h5_attr_string(w, "entry_1/image_1", "signal", "data")) != BCDI_OK ||
        (st = bcdi_h5_write(w, "entry_1/image_1/data", BCDI_DT_CF32, 3, shape, object,
                            deflate_level)) != BCDI_OK)
        return st;
    if (support && (st = bcdi_h5_write(w, "entry_1/image_1/mask", BCDI_DT_U8, 3, shape, support,
                                       deflate_level)) != BCDI_OK)
        return st;
    /* PyNX marks what image_1 holds; "object" tells its viewers this is real space */
    return bcdi_h5_write_string(w, "entry_1/image_1/data_type", "object");
}

bcdi_status bcdi_cxi_write_prepared(bcdi_h5_writer *w, const size_t shape[3],
                                    const float *intensity, const uint8_t *mask,
                                    const bcdi_geometry *g, int deflate_level)
{
    if (!w || !shape_ok(shape) || !intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI prepared data: missing shape or data");
    bcdi_status st;
    if ((st = bcdi_h5_group(w, "entry_1/instrument_1", "NXinstrument")) != BCDI_OK ||
        (st = bcdi_h5_group(w, DET, "NXdetector")) != BCDI_OK ||
        (st = bcdi_h5_write(w, DET "/data", BCDI_DT_F32, 3, shape, intensity, deflate_level)) !=
            BCDI_OK)
        return st;
    if (mask &&
        (st = bcdi_h5_write(w, DET "/mask", BCDI_DT_U8, 3, shape, mask, deflate_level)) != BCDI_OK)
        return st;
    if ((st = bcdi_h5_group(w, "entry_1/data_1", "NXdata")) != BCDI_OK ||
        (st = bcdi_h5_attr_string(w, "entry_1/data_1", "signal", "data")) != BCDI_OK ||
        (st = bcdi_h5_link_soft(w, "entry_1/data_1/data", DET "/data")) != BCDI_OK)
        return st;
    if (!g) return BCDI_OK;
    double lambda = g->wavelength_m > 0 ? g->wavelength_m
                    : g->energy_kev > 0 ? bcdi_wavelength_m(g->energy_kev)
                                        : 0.0;
    if ((st = bcdi_h5_write_double(w, DET "/distance", g->distance_m, "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, DET "/x_pixel_size", g->pixel_size_m[1], "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, DET "/y_pixel_size", g->pixel_size_m[0], "m")) != BCDI_OK ||
        (st = bcdi_h5_group(w, "entry_1/instrument_1/source_1", "NXsource")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry_1/instrument_1/source_1/energy",
                                   g->energy_kev * KEV_TO_J, "J")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry_1/instrument_1/source_1/wavelength", lambda, "m")) !=
            BCDI_OK)
        return st;
    return bcdi_cxi_write_geometry(w, g);
}

static bcdi_status write_vec(bcdi_h5_writer *w, const char *name, int rank, const size_t *dims,
                             const double *v, const char *units)
{
    char path[128];
    snprintf(path, sizeof path, GEO "/%s", name);
    bcdi_status st = bcdi_h5_write(w, path, BCDI_DT_F64, rank, dims, v, 0);
    if (st == BCDI_OK && units) st = bcdi_h5_attr_string(w, path, "units", units);
    return st;
}

bcdi_status bcdi_cxi_write_geometry(bcdi_h5_writer *w, const bcdi_geometry *g)
{
    if (!w || !g) return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI geometry: NULL argument");
    bcdi_status st;
    size_t two = 2, three = 3, m33[2] = {3, 3};
    int32_t hkl[3] = {g->hkl[0], g->hkl[1], g->hkl[2]};
    uint32_t shape[3];
    for (int i = 0; i < 3; i++) {
        if (g->shape[i] > UINT32_MAX)
            return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI geometry: shape %zu too large",
                              g->shape[i]);
        shape[i] = (uint32_t)g->shape[i];
    }
    const char *angles = g->angles == BCDI_DETECTOR_DELTA_GAMMA ? "delta_gamma" : "two_theta";
    if ((st = bcdi_h5_group(w, GEO, "NXcollection")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/energy_kev", g->energy_kev, "keV")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/wavelength", g->wavelength_m, "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/distance", g->distance_m, "m")) != BCDI_OK ||
        (st = write_vec(w, "pixel_size", 1, &two, g->pixel_size_m, "m")) != BCDI_OK ||
        (st = bcdi_h5_write_string(w, GEO "/detector_angles", angles)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/two_theta", g->two_theta_deg, "deg")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/delta", g->delta_deg, "deg")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/gamma", g->gamma_deg, "deg")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/rocking_step", g->rocking_step_deg, "deg")) !=
            BCDI_OK ||
        (st = write_vec(w, "rocking_axis", 1, &three, g->rocking_axis, NULL)) != BCDI_OK ||
        (st = bcdi_h5_write_int(w, GEO "/row_sign", g->row_sign)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, GEO "/d_spacing", g->d_spacing_m, "m")) != BCDI_OK ||
        (st = bcdi_h5_write(w, GEO "/hkl", BCDI_DT_I32, 1, &three, hkl, 0)) != BCDI_OK ||
        (st = write_vec(w, "q_step", 2, m33, &g->q_step[0][0], "1/m")) != BCDI_OK ||
        (st = write_vec(w, "real_basis", 2, m33, &g->real_basis[0][0], "m")) != BCDI_OK ||
        (st = write_vec(w, "voxel_size", 1, &three, g->voxel_size_m, "m")) != BCDI_OK ||
        (st = write_vec(w, "q_bragg", 1, &three, g->q_bragg, "1/m")) != BCDI_OK ||
        (st = bcdi_h5_write(w, GEO "/shape", BCDI_DT_U32, 1, &three, shape, 0)) != BCDI_OK)
        return st;
    return BCDI_OK;
}

bcdi_status bcdi_cxi_write_config(bcdi_h5_writer *w, const char *group, const char *const *keys,
                                  const char *const *values, size_t count)
{
    if (!w || !group || (count && (!keys || !values)))
        return bcdi_error(BCDI_ERR_INVALID_ARG, "CXI configuration: NULL argument");
    bcdi_status st = bcdi_h5_group(w, group, "NXcollection");
    for (size_t i = 0; i < count && st == BCDI_OK; i++) {
        char path[512];
        int n = snprintf(path, sizeof path, "%s/%s", group, keys[i]);
        if (n < 0 || (size_t)n >= sizeof path)
            return bcdi_error(BCDI_ERR_INVALID_ARG, "configuration key '%s' too long", keys[i]);
        /* "section/key" must not create nested groups: one flat dataset per key */
        for (char *p = path + strlen(group) + 1; *p; p++)
            if (*p == '/') *p = '.';
        st = bcdi_h5_write_string(w, path, values[i] ? values[i] : "");
    }
    return st;
}

/* ---- reading ---- */

/* Shape of a rank-3 dataset, or a FORMAT error naming what was found. */
static bcdi_status shape3(bcdi_h5_reader *r, const char *path, size_t shape[3])
{
    int rank;
    size_t dims[8];
    bcdi_status st = bcdi_h5_shape(r, path, &rank, dims, NULL);
    if (st != BCDI_OK) return st;
    if (rank != 3)
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': '%s' has rank %d, expected 3 (frames, rows, "
                          "columns)",
                          bcdi_h5_path(r), path, rank);
    memcpy(shape, dims, 3 * sizeof *shape);
    return BCDI_OK;
}

/* n elements of `size` bytes (checked sizes, core/ckd.h); NULL with the error set. */
static void *alloc_n(size_t n, size_t size, const char *path)
{
    size_t bytes;
    if (bcdi_ckd_volume(&n, 1, size, NULL, &bytes, "'%s'", path) != BCDI_OK) return NULL;
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (!p) bcdi_error(BCDI_ERR_NOMEM, "'%s': cannot allocate %zu bytes", path, bytes);
    return p;
}

/* uint8 mask of `shape`; a rank-2 (rows x columns) mask is repeated over every frame, as PyNX
 * writes detector masks. */
static bcdi_status read_mask(bcdi_h5_reader *r, const char *path, const size_t shape[3],
                             uint8_t *out)
{
    int rank;
    size_t dims[8];
    bcdi_status st = bcdi_h5_shape(r, path, &rank, dims, NULL);
    if (st != BCDI_OK) return st;
    size_t n = shape[0] * shape[1] * shape[2], plane = shape[1] * shape[2];
    if (rank == 3 && dims[0] == shape[0] && dims[1] == shape[1] && dims[2] == shape[2])
        return bcdi_h5_read(r, path, BCDI_DT_U8, out, n);
    if (rank == 2 && dims[0] == shape[1] && dims[1] == shape[2]) {
        if ((st = bcdi_h5_read(r, path, BCDI_DT_U8, out, plane)) != BCDI_OK) return st;
        for (size_t k = 1; k < shape[0]; k++)
            memcpy(out + k * plane, out, plane);
        return BCDI_OK;
    }
    return bcdi_error(BCDI_ERR_FORMAT,
                      "'%s': '%s' has rank %d (%zu x %zu...), expected %zu x %zu "
                      "x %zu or %zu x %zu",
                      bcdi_h5_path(r), path, rank, dims[0], rank > 1 ? dims[1] : 0, shape[0],
                      shape[1], shape[2], shape[1], shape[2]);
}

bcdi_status bcdi_cxi_read_object(const char *path, size_t shape[3], bcdi_cf **object,
                                 uint8_t **support)
{
    if (!shape || !object)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_cxi_read_object: NULL argument");
    *object = NULL;
    if (support) *support = NULL;
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    bcdi_cf *obj = NULL;
    uint8_t *sup = NULL;
    if ((st = shape3(r, "entry_1/image_1/data", shape)) != BCDI_OK) goto fail;
    size_t n = shape[0] * shape[1] * shape[2];
    if (!(obj = alloc_n(n, sizeof *obj, path))) {
        st = BCDI_ERR_NOMEM;
        goto fail;
    }
    if ((st = bcdi_h5_read(r, "entry_1/image_1/data", BCDI_DT_CF32, obj, n)) != BCDI_OK) goto fail;
    if (support) {
        if (!(sup = alloc_n(n, 1, path))) {
            st = BCDI_ERR_NOMEM;
            goto fail;
        }
        if ((st = read_mask(r, "entry_1/image_1/mask", shape, sup)) != BCDI_OK) goto fail;
        *support = sup;
    }
    *object = obj;
    bcdi_h5_close(r);
    return BCDI_OK;
fail:
    free(obj);
    free(sup);
    bcdi_h5_close(r);
    return st;
}

/* The intensities' dataset: ours, or the entry_1/data_1 link PyNX-style files may only have. */
static const char *prepared_dataset(bcdi_h5_reader *r)
{
    return bcdi_h5_exists(r, DET "/data") ? DET "/data" : "entry_1/data_1/data";
}

bcdi_status bcdi_cxi_prepared_shape(const char *path, size_t shape[3])
{
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    st = shape3(r, prepared_dataset(r), shape);
    bcdi_h5_close(r);
    return st;
}

bcdi_status bcdi_cxi_read_prepared(const char *path, size_t shape[3], float **intensity,
                                   uint8_t **mask)
{
    if (!shape || !intensity)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_cxi_read_prepared: NULL argument");
    *intensity = NULL;
    if (mask) *mask = NULL;
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    float *I = NULL;
    uint8_t *m = NULL;
    /* the detector path is ours; PyNX-style files may only have the entry_1/data_1 link */
    const char *dpath = prepared_dataset(r);
    if ((st = shape3(r, dpath, shape)) != BCDI_OK) goto fail;
    size_t n = shape[0] * shape[1] * shape[2];
    if (!(I = alloc_n(n, sizeof *I, path))) {
        st = BCDI_ERR_NOMEM;
        goto fail;
    }
    if ((st = bcdi_h5_read(r, dpath, BCDI_DT_F32, I, n)) != BCDI_OK) goto fail;
    if (mask) {
        if (!(m = alloc_n(n, 1, path))) {
            st = BCDI_ERR_NOMEM;
            goto fail;
        }
        if (bcdi_h5_exists(r, DET "/mask")) {
            if ((st = read_mask(r, DET "/mask", shape, m)) != BCDI_OK) goto fail;
        } else {
            memset(m, 0, n); /* no mask in the file: every voxel was measured */
        }
        *mask = m;
    }
    *intensity = I;
    bcdi_h5_close(r);
    return BCDI_OK;
fail:
    free(I);
    free(m);
    bcdi_h5_close(r);
    return st;
}

static bcdi_status read_f64(bcdi_h5_reader *r, const char *name, double *out, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, GEO "/%s", name);
    if (n == 1) return bcdi_h5_read_double(r, path, out);
    int rank;
    size_t dims[8], total = 1;
    bcdi_status st = bcdi_h5_shape(r, path, &rank, dims, NULL);
    if (st != BCDI_OK) return st;
    for (int i = 0; i < rank; i++)
        total *= dims[i];
    if (total != n)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '%s' has %zu values, expected %zu",
                          bcdi_h5_path(r), path, total, n);
    return bcdi_h5_read(r, path, BCDI_DT_F64, out, n);
}

/* Every stored value usable: finite, and positive where physics needs it (a NaN energy would
 * otherwise become a NaN voxel size, or be taken for an absent value and replaced). Errors name
 * the file and the field. */
static bcdi_status check_stored_geometry(const char *path, const bcdi_geometry *t,
                                         const double hkl[3], const double shape[3],
                                         double row_sign)
{
    const struct {
        const char *name;
        const double *v;
        int n, positive;
    } fields[] = {
        {"energy_kev", &t->energy_kev, 1, 1},
        {"wavelength", &t->wavelength_m, 1, 1},
        {"distance", &t->distance_m, 1, 1},
        {"pixel_size", t->pixel_size_m, 2, 1},
        {"two_theta", &t->two_theta_deg, 1, 0},
        {"delta", &t->delta_deg, 1, 0},
        {"gamma", &t->gamma_deg, 1, 0},
        {"rocking_step", &t->rocking_step_deg, 1, 0},
        {"rocking_axis", t->rocking_axis, 3, 0},
        {"d_spacing", &t->d_spacing_m, 1, 0},
        {"hkl", hkl, 3, 0},
        {"q_step", &t->q_step[0][0], 9, 0},
        {"real_basis", &t->real_basis[0][0], 9, 0},
        {"voxel_size", t->voxel_size_m, 3, 1},
        {"q_bragg", t->q_bragg, 3, 0},
        {"shape", shape, 3, 1},
    };
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
        for (int i = 0; i < fields[f].n; i++) {
            double v = fields[f].v[i];
            if (!isfinite(v) || (fields[f].positive && !(v > 0.0)))
                return bcdi_error(BCDI_ERR_FORMAT,
                                  "'%s': '" GEO "/%s'%s is %g, expected a finite%s number", path,
                                  fields[f].name, fields[f].n > 1 ? " has an element that" : "", v,
                                  fields[f].positive ? ", positive" : "");
        }
    if (t->rocking_step_deg == 0.0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '" GEO "/rocking_step' is 0, expected a step",
                          path);
    if (row_sign != 1.0 && row_sign != -1.0)
        return bcdi_error(BCDI_ERR_FORMAT, "'%s': '" GEO "/row_sign' is %g, expected 1 or -1", path,
                          row_sign);
    for (int i = 0; i < 3; i++) {
        if (hkl[i] != floor(hkl[i]) || fabs(hkl[i]) > 1000)
            return bcdi_error(BCDI_ERR_FORMAT,
                              "'%s': '" GEO "/hkl' is %g %g %g, expected Miller indices", path,
                              hkl[0], hkl[1], hkl[2]);
        if (shape[i] != floor(shape[i]) || shape[i] > 4294967295.0)
            return bcdi_error(BCDI_ERR_FORMAT, "'%s': '" GEO "/shape' is %g %g %g, expected sizes",
                              path, shape[0], shape[1], shape[2]);
    }
    return BCDI_OK;
}

bcdi_status bcdi_cxi_read_geometry_if_present(const char *path, bcdi_geometry *g, int *present)
{
    *present = 0;
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    *present = bcdi_h5_exists(r, GEO);
    bcdi_h5_close(r);
    return *present ? bcdi_cxi_read_geometry(path, g) : BCDI_OK;
}

bcdi_status bcdi_cxi_read_geometry(const char *path, bcdi_geometry *g)
{
    if (!g) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_cxi_read_geometry: NULL argument");
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    if (!bcdi_h5_exists(r, GEO)) {
        bcdi_h5_close(r);
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': no '%s' group (not written by braggcdi "
                          "prepare?)",
                          path, GEO);
    }
    bcdi_geometry t;
    memset(&t, 0, sizeof t);
    char angles[64];
    double row_sign = 0, hkl[3], shape[3];
    if ((st = read_f64(r, "energy_kev", &t.energy_kev, 1)) != BCDI_OK ||
        (st = read_f64(r, "wavelength", &t.wavelength_m, 1)) != BCDI_OK ||
        (st = read_f64(r, "distance", &t.distance_m, 1)) != BCDI_OK ||
        (st = read_f64(r, "pixel_size", t.pixel_size_m, 2)) != BCDI_OK ||
        (st = bcdi_h5_read_string(r, GEO "/detector_angles", angles, sizeof angles)) != BCDI_OK ||
        (st = read_f64(r, "two_theta", &t.two_theta_deg, 1)) != BCDI_OK ||
        (st = read_f64(r, "delta", &t.delta_deg, 1)) != BCDI_OK ||
        (st = read_f64(r, "gamma", &t.gamma_deg, 1)) != BCDI_OK ||
        (st = read_f64(r, "rocking_step", &t.rocking_step_deg, 1)) != BCDI_OK ||
        (st = read_f64(r, "rocking_axis", t.rocking_axis, 3)) != BCDI_OK ||
        (st = read_f64(r, "row_sign", &row_sign, 1)) != BCDI_OK ||
        (st = read_f64(r, "d_spacing", &t.d_spacing_m, 1)) != BCDI_OK ||
        (st = read_f64(r, "hkl", hkl, 3)) != BCDI_OK ||
        (st = read_f64(r, "q_step", &t.q_step[0][0], 9)) != BCDI_OK ||
        (st = read_f64(r, "real_basis", &t.real_basis[0][0], 9)) != BCDI_OK ||
        (st = read_f64(r, "voxel_size", t.voxel_size_m, 3)) != BCDI_OK ||
        (st = read_f64(r, "q_bragg", t.q_bragg, 3)) != BCDI_OK ||
        (st = read_f64(r, "shape", shape, 3)) != BCDI_OK) {
        bcdi_h5_close(r);
        /* a partial group is refused, never taken for "no geometry" */
        return bcdi_error_prefix(st, "'%s': incomplete geometry group '" GEO "': ", path);
    }
    bcdi_h5_close(r);
    /* a group with every field but unusable values is no better than a partial one */
    if ((st = check_stored_geometry(path, &t, hkl, shape, row_sign)) != BCDI_OK) return st;
    if (strcmp(angles, "two_theta") == 0)
        t.angles = BCDI_DETECTOR_TWO_THETA;
    else if (strcmp(angles, "delta_gamma") == 0)
        t.angles = BCDI_DETECTOR_DELTA_GAMMA;
    else
        return bcdi_error(BCDI_ERR_FORMAT,
                          "'%s': '" GEO "/detector_angles' is '%s', expected "
                          "'two_theta' or 'delta_gamma'",
                          path, angles);
    t.row_sign = (int)row_sign;
    for (int i = 0; i < 3; i++) {
        t.hkl[i] = (int)hkl[i];
        t.shape[i] = (size_t)shape[i];
    }
    *g = t;
    return BCDI_OK;
}

/* ---- describing (for `braggcdi info`) ---- */

static int read_if_present(bcdi_h5_reader *r, const char *path, double *v)
{
    return bcdi_h5_exists(r, path) && bcdi_h5_read_double(r, path, v) == BCDI_OK;
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

void bcdi_cxi_describe(bcdi_h5_reader *r, FILE *out)
{
    int rank;
    size_t dims[8], total;
    bcdi_dtype t;
    double v;
    const char *det = DET "/";
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
        if (read_if_present(r, "entry_1/bcdi_geometry/energy_kev", &v))
            fprintf(out, ", %.6g keV", v);
        else if (read_if_present(r, "entry_1/instrument_1/source_1/energy", &v))
            fprintf(out, ", %.6g keV", v / KEV_TO_J);
        snprintf(p, sizeof p, "%sdistance", det);
        if (read_if_present(r, p, &v)) fprintf(out, ", %.6g m", v);
        snprintf(p, sizeof p, "%sx_pixel_size", det);
        if (read_if_present(r, p, &v)) fprintf(out, ", pixel %.6g um", v * 1e6);
        if (read_if_present(r, "entry_1/bcdi_geometry/rocking_step", &v))
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
