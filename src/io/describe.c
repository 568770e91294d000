/* SPDX-License-Identifier: BSD-3-Clause */
#include "io/describe.h"

#include "io/cxi.h"
#include "io/hdf5.h"
#include "io/nexus.h"

bcdi_status bcdi_io_describe_hdf5(const char *path, FILE *out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "describe: no output stream");
    bcdi_h5_reader *r;
    bcdi_status st = bcdi_h5_open(path, &r);
    if (st != BCDI_OK) return st;
    st = bcdi_h5_describe(r, out);
    if (st == BCDI_OK) {
        bcdi_nexus_describe(r, out);
        bcdi_cxi_describe(r, out);
    }
    bcdi_h5_close(r);
    return st;
}
