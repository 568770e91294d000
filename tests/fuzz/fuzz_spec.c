/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target: SPEC log files (src/io/spec.h): the index, every scan (at most a few), its
 * motors, motion, columns, #G/#Q values and header lines. Input: the file. */
#include "fuzz_common.h"

#include "io/spec.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_SCANS = 8 };

static void use_scan(const bcdi_spec_scan *scan)
{
    size_t total = strlen(bcdi_spec_scan_command(scan)) + strlen(bcdi_spec_scan_where(scan));
    (void)bcdi_spec_scan_number(scan);
    for (size_t i = 0; i < bcdi_spec_motor_count(scan); ++i) {
        const char *name = NULL, *mnemonic = NULL;
        double position;
        if (bcdi_spec_motor_at(scan, i, &name, &mnemonic, &position) == BCDI_OK) {
            total += strlen(name) + (mnemonic ? strlen(mnemonic) : 0);
            (void)bcdi_spec_find_motor(scan, name, &position);
            if (mnemonic) (void)bcdi_spec_motor(scan, mnemonic, &position);
        }
    }
    bcdi_spec_motion motion;
    if (bcdi_spec_scan_motion(scan, &motion) == BCDI_OK)
        total += strlen(motion.kind) + strlen(motion.mnemonic) + strlen(motion.name);
    size_t points = bcdi_spec_point_count(scan);
    for (size_t c = 0; c < bcdi_spec_column_count(scan); ++c) {
        const char *label = bcdi_spec_column_label(scan, c);
        const double *values;
        size_t count;
        if (label && bcdi_spec_column(scan, label, &values, &count) == BCDI_OK) {
            if (count != points) abort(); /* every column has one value per point */
            double sum = 0;
            for (size_t k = 0; k < count; ++k)
                sum += values[k];
            total += sum > 0;
        }
    }
    for (int g = 0; g < BCDI_SPEC_MAX_G_LINES + 1; ++g) {
        const double *values;
        size_t count;
        if (bcdi_spec_geometry_values(scan, g, &values, &count) && count) total += values[0] > 0;
    }
    double hkl[3];
    if (bcdi_spec_q(scan, hkl)) total += hkl[0] > 0;
    static const char *const keys[] = {"T", "M", "D", "C", "F", "E", "UIMR5", "N", "L", "G0"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; ++k) {
        const char *h = bcdi_spec_header(scan, keys[k]);
        if (h) total += strlen(h);
    }
    if (total == (size_t)-1) abort(); /* never: the values are used */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, ".spec");
    if (!path) return 0;
    bcdi_spec_file *file = NULL;
    if (bcdi_spec_open(path, &file) != BCDI_OK) return 0;
    (void)bcdi_spec_path(file);
    size_t scans = bcdi_spec_scan_count(file);
    for (size_t i = 0; i < scans && i < MAX_SCANS; ++i) {
        long number;
        const char *command = NULL;
        if (bcdi_spec_scan_entry(file, i, &number, &command) != BCDI_OK) continue;
        bcdi_spec_scan *scan = NULL;
        if (bcdi_spec_read_scan_at(file, i, &scan) == BCDI_OK) {
            use_scan(scan);
            bcdi_spec_scan_free(scan);
        }
        if (bcdi_spec_read_scan(file, number, &scan) == BCDI_OK) bcdi_spec_scan_free(scan);
    }
    bcdi_spec_close(file);
    return 0;
}
