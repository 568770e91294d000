/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU-only build: the CUDA entry points exist and say that CUDA was not built in. */
#include "backend/backend.h"

int bcdi_cuda_built(void)
{
    return 0;
}
int bcdi_cuda_device_count(void)
{
    return 0;
}

bcdi_status bcdi_backend_cuda_open(int ordinal, bcdi_backend **out)
{
    (void)ordinal;
    *out = NULL;
    return bcdi_error(
        BCDI_ERR_UNSUPPORTED,
        "this braggcdi was built without CUDA (nvcc was not found at configure time)");
}
