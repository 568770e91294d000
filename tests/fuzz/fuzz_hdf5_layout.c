/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: HDF5 files built from the input, with the paths braggcdi's readers look for
 * (NeXus stack, CXI prepared data and result, geometry, summary) holding datasets of fuzzed
 * rank, shape (up to 2^63), element type, values, units and links, then read by every reader
 * (fuzz_hdf5_read.h). libhdf5 itself is not the target: the files are valid, their contents are
 * not, which is what braggcdi's own header handling must survive.
 *
 * Input: a sequence of objects, each
 *   byte path     index into known_paths (mod its size)
 *   byte kind     low 2 bits: 0 dataset, 1 soft link (to the next byte's path), 2 group,
 *                 3 dataset with a units attribute (next byte picks it); bit 2: chunked + deflate
 *   byte type     element type (mod element_types)
 *   byte rank     0..4
 *   rank bytes    each dimension: < 200 -> value mod 9, else a large value (large_dims)
 *   values        when the dataset is small (<= 4096 elements): the next min(its bytes, 64)
 *                 bytes, repeated to fill it (else unwritten: reads return the fill value)
 *   byte units    for kind 3 only */
#include "fuzz_common.h"
#include "fuzz_hdf5_read.h"

#include <hdf5.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_paths[] = {
    "entry1/instrument/excalibur/data",
    "entry1/instrument/excalibur/pixel_mask",
    "entry1/instrument/excalibur/distance",
    "entry1/instrument/excalibur/x_pixel_size",
    "entry1/instrument/excalibur/y_pixel_size",
    "entry1/instrument/excalibur/polar_angle",
    "entry1/instrument/t1_theta/t1_theta",
    "entry1/instrument/monochromator/energy",
    "entry1/instrument/monochromator/wavelength",
    "entry1/sample/reflection/d_spacing",
    "entry1/sample/reflection/hkl",
    "entry1/data/data",
    "entry1/data/t1_theta",
    "entry1/excalibur_config_normal/data",
    "entry_1/instrument_1/detector_1/data",
    "entry_1/instrument_1/detector_1/mask",
    "entry_1/data_1/data",
    "entry_1/instrument_1/detector_1/distance",
    "entry_1/instrument_1/detector_1/x_pixel_size",
    "entry_1/instrument_1/detector_1/y_pixel_size",
    "entry_1/instrument_1/source_1/energy",
    "entry_1/instrument_1/source_1/wavelength",
    "entry_1/bcdi_geometry/energy_kev",
    "entry_1/bcdi_geometry/wavelength",
    "entry_1/bcdi_geometry/distance",
    "entry_1/bcdi_geometry/pixel_size",
    "entry_1/bcdi_geometry/detector_angles",
    "entry_1/bcdi_geometry/two_theta",
    "entry_1/bcdi_geometry/delta",
    "entry_1/bcdi_geometry/gamma",
    "entry_1/bcdi_geometry/rocking_step",
    "entry_1/bcdi_geometry/rocking_axis",
    "entry_1/bcdi_geometry/row_sign",
    "entry_1/bcdi_geometry/d_spacing",
    "entry_1/bcdi_geometry/hkl",
    "entry_1/bcdi_geometry/q_step",
    "entry_1/bcdi_geometry/real_basis",
    "entry_1/bcdi_geometry/voxel_size",
    "entry_1/bcdi_geometry/q_bragg",
    "entry_1/bcdi_geometry/shape",
    "entry_1/image_1/data",
    "entry_1/image_1/mask",
    "entry_1/image_1/process_1/configuration/input",
    "entry_1/image_1/process_1/results/crop_origin",
    "entry_1/bcdi_summary/two_theta",
    "entry_1/bcdi_summary/com_rocking_angle",
    "entry_1/bcdi_summary/integrated_intensity",
    "entry_1/bcdi_summary/centre_of_mass",
    "entry_1/bcdi_summary/peak_pixel",
    "entry_1/bcdi_summary/masked_voxels",
    "entry_1/bcdi_summary/box_shape",
    "entry_1/bcdi_summary/bin",
    "entry_1/bcdi_summary/input_shape",
    "entry1/instrument/excalibur",
    "entry_1/bcdi_geometry",
    "entry_1",
};
enum { PATH_COUNT = sizeof known_paths / sizeof *known_paths, MAX_OBJECTS = 24, VALUE_BYTES = 64 };

static const char *const units[] = {"m",   "mm",  "um", "nm", "deg",
                                    "rad", "keV", "eV", "",   "furlong"};

static const hsize_t large_dims[] = {
    1u << 16,   (1u << 16) + 1, 1ull << 31, (1ull << 32) - 1, 1ull << 32, (1ull << 32) + 1,
    1ull << 40, 1ull << 61,     1ull << 62, (1ull << 63) - 1, 3ull << 61, 1000000,
};

typedef struct {
    const uint8_t *data;
    size_t size, pos;
} cursor;

static unsigned next_byte(cursor *c)
{
    return c->pos < c->size ? c->data[c->pos++] : 0;
}

/* element types; index 8 is the complex compound, 9 and 10 strings */
enum { TYPE_COUNT = 11 };

static hid_t make_type(unsigned which)
{
    switch (which % TYPE_COUNT) {
    case 0:
        return H5Tcopy(H5T_NATIVE_UINT8);
    case 1:
        return H5Tcopy(H5T_NATIVE_UINT16);
    case 2:
        return H5Tcopy(H5T_NATIVE_UINT32);
    case 3:
        return H5Tcopy(H5T_NATIVE_INT32);
    case 4:
        return H5Tcopy(H5T_NATIVE_INT64);
    case 5:
        return H5Tcopy(H5T_NATIVE_UINT64);
    case 6:
        return H5Tcopy(H5T_NATIVE_FLOAT);
    case 7:
        return H5Tcopy(H5T_NATIVE_DOUBLE);
    case 8: {
        hid_t t = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
        H5Tinsert(t, "r", 0, H5T_NATIVE_FLOAT);
        H5Tinsert(t, "i", sizeof(float), H5T_NATIVE_FLOAT);
        return t;
    }
    case 9: {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 12);
        return t;
    }
    default: {
        hid_t t = H5Tcopy(H5T_NATIVE_INT16);
        return t;
    }
    }
}

static void add_units(hid_t object, cursor *c)
{
    unsigned pick = next_byte(c);
    const char *text = units[pick % (sizeof units / sizeof *units)];
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(text) + 1);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(object, "units", type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        H5Awrite(attr, type, text);
        H5Aclose(attr);
    }
    H5Sclose(space);
    H5Tclose(type);
}

static void add_dataset(hid_t file, hid_t lcpl, const char *path, unsigned kind, cursor *c)
{
    hid_t type = make_type(next_byte(c));
    int rank = (int)(next_byte(c) % 5);
    hsize_t dims[4] = {0}, chunk[4];
    hsize_t total = 1;
    int overflow = 0;
    for (int i = 0; i < rank; ++i) {
        unsigned b = next_byte(c);
        dims[i] =
            b < 200 ? b % 9 : large_dims[(b - 200) % (sizeof large_dims / sizeof *large_dims)];
        chunk[i] = dims[i] < 16 ? (dims[i] ? dims[i] : 1) : 16;
        if (__builtin_mul_overflow(total, dims[i], &total)) overflow = 1;
    }
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int small = !overflow && total <= 4096;
    if (rank && (!small || (kind & 4))) {
        H5Pset_chunk(dcpl, rank, chunk);
        if (kind & 4) H5Pset_deflate(dcpl, 1);
    }
    hid_t d = space >= 0 ? H5Dcreate2(file, path, type, space, lcpl, dcpl, H5P_DEFAULT) : -1;
    if (d >= 0) {
        size_t bytes = small ? (size_t)total * H5Tget_size(type) : 0;
        if (bytes) {
            unsigned char *values = calloc(1, bytes);
            if (values) {
                size_t n = bytes < VALUE_BYTES ? bytes : VALUE_BYTES;
                if (n > c->size - c->pos) n = c->size - c->pos;
                for (size_t i = 0; n && i < bytes; ++i)
                    values[i] = c->data[c->pos + i % n];
                c->pos += n;
                H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
                free(values);
            }
        }
        if ((kind & 3) == 3) add_units(d, c);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    H5Tclose(type);
}

static void build_file(const char *path, cursor *c)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) return;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    for (int n = 0; n < MAX_OBJECTS && c->pos < c->size; ++n) {
        const char *target = known_paths[next_byte(c) % PATH_COUNT];
        unsigned kind = next_byte(c);
        if (H5Lexists(file, target, H5P_DEFAULT) > 0) continue; /* parents exist: checked */
        switch (kind & 3) {
        case 1:
            H5Lcreate_soft(known_paths[next_byte(c) % PATH_COUNT], file, target, lcpl, H5P_DEFAULT);
            break;
        case 2: {
            hid_t g = H5Gcreate2(file, target, lcpl, H5P_DEFAULT, H5P_DEFAULT);
            if (g >= 0) H5Gclose(g);
            break;
        }
        default:
            add_dataset(file, lcpl, target, kind, c);
            break;
        }
    }
    H5Pclose(lcpl);
    H5Fclose(file);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_hdf5_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file((const uint8_t *)"", 0, ".h5");
    if (!path) return 0;
    cursor c = {data, size, 0};
    H5E_BEGIN_TRY
    {
        build_file(path, &c);
    }
    H5E_END_TRY;
    fuzz_hdf5_read_all(path);
    return 0;
}
