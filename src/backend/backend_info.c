/* SPDX-License-Identifier: BSD-3-Clause */
/* The public face of a backend (bcdi/backend.h): options at open time and read-only queries, so
 * library users never see struct bcdi_backend or its ops table. */
#include "backend/backend.h"

void bcdi_backend_default_opts(bcdi_backend_opts *opts)
{
    if (opts) opts->fft_measure = 0;
}

bcdi_status bcdi_backend_open_opts(const char *device, const bcdi_backend_opts *opts,
                                   bcdi_backend **out)
{
    if (!out) return bcdi_error(BCDI_ERR_INVALID_ARG, "bcdi_backend_open_opts: out is NULL");
    *out = NULL;
    bcdi_backend_opts defaults;
    bcdi_backend_default_opts(&defaults);
    if (!opts) opts = &defaults;
    if (opts->fft_measure != 0 && opts->fft_measure != 1)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "bcdi_backend_opts.fft_measure is %d: expected 0 (estimate) or 1 "
                          "(measure)",
                          opts->fft_measure);
    bcdi_status st = bcdi_backend_open(device, out);
    if (st == BCDI_OK) (*out)->fft_measure = opts->fft_measure;
    return st;
}

bcdi_backend_kind bcdi_backend_get_kind(const bcdi_backend *backend)
{
    return backend->kind;
}

const char *bcdi_backend_kind_name(bcdi_backend_kind kind)
{
    return kind == BCDI_BACKEND_CUDA ? "cuda" : "cpu";
}

const char *bcdi_backend_device_name(const bcdi_backend *backend)
{
    return backend->device_name;
}

int bcdi_backend_device_index(const bcdi_backend *backend)
{
    return backend->device_index;
}

int bcdi_backend_threads(const bcdi_backend *backend)
{
    return backend->threads;
}
