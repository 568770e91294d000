/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: a config file (INI) through the loader of one stage's key table.
 * Input: byte 0 picks the stage (fuzz_stage.h: '0' simulate ... '4' compare), the rest is the
 * file's text. */
#include "fuzz_common.h"
#include "fuzz_stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *path = fuzz_write_file(data + 1, size - 1, ".ini");
    if (!path) return 0;
    (void)fuzz_load_stage(data[0], path, NULL, 0);
    return 0;
}
