/* SPDX-License-Identifier: BSD-3-Clause */
/* Backend selection: "auto" | "cpu" | "cuda" | "cuda:N". */
#include "backend/backend.h"

#include "bcdi/log.h"

#include <stdlib.h>
#include <string.h>

bcdi_status bcdi_backend_open(const char *device, bcdi_backend **out)
{
    *out = NULL;
    if (!device || !*device || strcmp(device, "auto") == 0) {
        int count = bcdi_cuda_device_count();
        if (count > 0) {
            bcdi_status st = bcdi_backend_cuda_open(0, out);
            if (st == BCDI_OK) return st;
            bcdi_log(BCDI_LOG_NOTICE, "CUDA device 0 did not open (%s); using the CPU",
                     bcdi_last_error());
        } else {
            bcdi_log(BCDI_LOG_NOTICE, "no CUDA device %s; using the CPU backend",
                     bcdi_cuda_built() ? "answers" : "(built without CUDA)");
        }
        return bcdi_backend_cpu_open(out);
    }
    if (strcmp(device, "cpu") == 0) return bcdi_backend_cpu_open(out);
    if (strncmp(device, "cuda", 4) == 0) {
        int ordinal = 0;
        if (device[4] == ':') {
            char *end = NULL;
            long v = strtol(device + 5, &end, 10);
            if (!end || *end || end == device + 5 || v < 0 || v > 1024)
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "device '%s': expected cuda:N with N a device number", device);
            ordinal = (int)v;
        } else if (device[4] != '\0') {
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "device '%s': expected auto, cpu, cuda or cuda:N", device);
        }
        if (!bcdi_cuda_built())
            return bcdi_error(BCDI_ERR_UNSUPPORTED,
                              "device '%s': this braggcdi was built without CUDA", device);
        int count = bcdi_cuda_device_count();
        if (ordinal >= count)
            return bcdi_error(BCDI_ERR_NO_DEVICE,
                              "device '%s': %d CUDA device(s) answer on this machine", device,
                              count);
        return bcdi_backend_cuda_open(ordinal, out);
    }
    return bcdi_error(BCDI_ERR_INVALID_ARG, "device '%s': expected auto, cpu, cuda or cuda:N",
                      device);
}

void bcdi_backend_close(bcdi_backend *be)
{
    if (be) be->ops->close(be);
}
