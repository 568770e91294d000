/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: command-line key=value assignments through one stage's key table.
 * Input: byte 0 picks the stage (fuzz_stage.h: '0' simulate ... '4' compare), then one assignment
 * per line. */
#include "fuzz_common.h"
#include "fuzz_stage.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_ASSIGNMENTS = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *text = fuzz_text(data + 1, size - 1);
    if (!text) return 0;
    char *lines = strdup(text); /* split in place */
    if (!lines) return 0;
    const char *assignments[MAX_ASSIGNMENTS];
    size_t count = 0;
    for (char *line = lines; line && count < MAX_ASSIGNMENTS;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        assignments[count++] = line;
        line = next;
    }
    (void)fuzz_load_stage(data[0], NULL, assignments, count);
    free(lines);
    return 0;
}
