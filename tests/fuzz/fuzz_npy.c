/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: .npy files (src/io/npy.c) as prepare reads them: the stack (header, shape,
 * regions of frames) and a calibration image. Input: the file. */
#include "fuzz_common.h"
#include "fuzz_frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, ".npy");
    if (!path) return 0;
    fuzz_read_stack(path, "npy");
    fuzz_read_image(path, NULL);
    fuzz_prepare(path, "npy");
    return 0;
}
