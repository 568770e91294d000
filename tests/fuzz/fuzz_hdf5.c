/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: HDF5 files (NeXus, CXI) as they are: the input is the file, opened by every
 * reader (fuzz_hdf5_read.h). libhdf5 is not instrumented, so mutations get little coverage
 * guidance inside it: fuzz_hdf5_layout builds valid files with fuzzed shapes, types and values,
 * which is where braggcdi's own header handling is. */
#include "fuzz_common.h"
#include "fuzz_hdf5_read.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_hdf5_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, ".h5");
    if (!path) return 0;
    fuzz_hdf5_read_all(path);
    return 0;
}
