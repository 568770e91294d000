/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: TIFF files through src/io/tiff_io.c (libtiff) as prepare reads them: a
 * multi-page stack (pages, sizes, sample formats, strips and tiles) and a calibration image.
 * Input: the file. */
#include "fuzz_common.h"
#include "fuzz_frames.h"

#include "io/tiff_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, ".tif");
    if (!path) return 0;
    fuzz_read_stack(path, "tiff");
    fuzz_read_image(path, NULL);
    fuzz_prepare(path, "tiff");
    return 0;
}
