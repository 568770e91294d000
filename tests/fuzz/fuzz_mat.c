/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: MATLAB .mat files (src/io/mat.c, libmatio): the only 3-D variable, then a
 * named one. Input: the file.
 *
 * Version 7.3 files are HDF5 files, which matio hands to libhdf5: on damaged HDF5 metadata
 * libhdf5 itself crashes and leaks (fuzz_hdf5 shows it), so this target skips inputs whose
 * header says 7.3 and fuzzes the v5 reader, where matio and braggcdi's checks are. The v7.3
 * path is covered by tests/test_mat.c on valid files. */
#include "fuzz_common.h"

#include "io/mat.h"

/* The 128-byte MAT header ends with the version (0x0100 for v5, 0x0200 for 7.3) and the
 * endian indicator "IM" (little-endian) or "MI". */
static int is_v73(const uint8_t *data, size_t size)
{
    if (size < 128) return 0;
    unsigned version = data[126] == 'I' ? data[124] | data[125] << 8 : data[125] | data[124] << 8;
    return version == 0x0200;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (is_v73(data, size)) return 0;
    const char *path = fuzz_write_file(data, size, ".mat");
    if (!path) return 0;
    bcdi_mat_array array;
    if (bcdi_mat_read(path, NULL, &array) == BCDI_OK) bcdi_mat_array_free(&array);
    if (bcdi_mat_read(path, "data", &array) == BCDI_OK) bcdi_mat_array_free(&array);
    return 0;
}
