/* SPDX-License-Identifier: BSD-3-Clause */
/* Entry points for programs that use the installed library: they join layers that may not call
 * each other (io reads the file the phasing engine takes), so they live above both
 * (docs/architecture.md). */
#include "bcdi/geometry.h"
#include "bcdi/phasing.h"
#include "bcdi/version.h"
#include "io/cxi.h"

#include <stdlib.h>
#include <string.h>

const char *bcdi_version(void)
{
    return BCDI_VERSION_STRING;
}

void bcdi_phasing_default_opts(bcdi_phasing_params *p)
{
    bcdi_phasing_default(p);
}

bcdi_status bcdi_phasing_data_read(const char *path, bcdi_phasing_data *data)
{
    if (!path || !data)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_phasing_data_read: NULL argument");
    memset(data, 0, sizeof *data);
    size_t shape[3];
    float *intensity = NULL;
    uint8_t *mask = NULL;
    bcdi_status st = bcdi_cxi_read_prepared(path, shape, &intensity, &mask);
    if (st != BCDI_OK) return st;
    memcpy(data->shape, shape, sizeof shape);
    data->intensity = intensity;
    data->mask = mask;
    return BCDI_OK;
}

void bcdi_phasing_data_free(bcdi_phasing_data *data)
{
    if (!data) return;
    /* the struct's pointers are const for the engine; these two were allocated by _read */
    free((void *)data->intensity);
    free((void *)data->mask);
    memset(data, 0, sizeof *data);
}

bcdi_status bcdi_geometry_read(const char *path, bcdi_geometry *g)
{
    if (!path || !g) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_geometry_read: NULL argument");
    return bcdi_cxi_read_geometry(path, g);
}
