/* SPDX-License-Identifier: BSD-3-Clause */
/* Every HDF5 reader on one file (fuzz_hdf5_read.h). */
#include "fuzz_hdf5_read.h"

#include "fuzz_frames.h"

#include "bcdi/compare.h"
#include "bcdi/geometry.h"
#include "bcdi/phasing.h"
#include "io/cxi.h"
#include "io/cxi_result.h"
#include "io/describe.h"
#include "io/hdf5.h"
#include "io/nexus.h"

#include <stdio.h>
#include <stdlib.h>

static FILE *sink;

void fuzz_hdf5_init(void)
{
    bcdi_h5_process_init();
    sink = fopen("/dev/null", "w");
}

void fuzz_hdf5_read_all(const char *path)
{
    fuzz_read_stack(path, "nexus");
    fuzz_read_stack(path, "cxi");
    fuzz_read_image(path, BCDI_NEXUS_MASK_PATH);
    fuzz_prepare(path, "nexus");
    fuzz_prepare(path, "cxi");

    bcdi_h5_reader *r = NULL;
    if (bcdi_h5_open(path, &r) == BCDI_OK) {
        bcdi_geometry g;
        bcdi_geometry_default_i13(&g);
        (void)bcdi_nexus_read_geometry(r, &g);
        if (sink) {
            bcdi_nexus_describe(r, sink);
            bcdi_cxi_describe(r, sink);
        }
        bcdi_cxi_summary summary;
        if (bcdi_cxi_has_summary(r)) (void)bcdi_cxi_read_summary(r, &summary);
        char list[4096];
        (void)bcdi_h5_list(r, list, sizeof list);
        bcdi_h5_close(r);
    }
    if (sink) (void)bcdi_io_describe_hdf5(path, sink);

    bcdi_phasing_data data;
    if (bcdi_phasing_data_read(path, &data) == BCDI_OK) bcdi_phasing_data_free(&data);
    bcdi_cxi_phased phased;
    if (bcdi_cxi_read_result(path, 1, &phased) == BCDI_OK) bcdi_cxi_phased_free(&phased);
    bcdi_geometry g;
    (void)bcdi_geometry_read(path, &g);
    bcdi_compare_peak peak;
    (void)bcdi_compare_read_peak(path, &peak);
}
