/* SPDX-License-Identifier: BSD-3-Clause */
/* cuFFT store callbacks of the fused CUDA iteration, compiled to LTO-IR (nvcc -dc -fatbin with
 * code=lto_XX) and linked into cuFFT's own kernels at plan time (cufftXtSetJITCallback). Not part
 * of the library's kernels: CMakeLists.txt builds this file alone into an embedded fatbin. The
 * per-voxel maths are the voxel_ops.h functions, as everywhere else.
 *
 * The forward transform (rho -> psi, out of place) stores P_M's Fourier-space value instead of
 * the plain transform; the inverse transform (psi, in place) stores nothing into psi but the
 * updated rho: rho[i] <- update(rho[i], p[i], support[i]). Offsets run over the whole batch. */
#include "cuda_callbacks.h"

#include <cufftXt.h>

/* CMakeLists.txt builds this file twice: C++ linkage (as NVIDIA's LTO samples) and, with
 * BCDI_CB_C_LINKAGE, C linkage; cuda_fused.c uses whichever cuFFT accepts. */
#ifdef BCDI_CB_C_LINKAGE
#define BCDI_CB_LINKAGE extern "C"
#else
#define BCDI_CB_LINKAGE
#endif

BCDI_CB_LINKAGE __device__ void bcdi_cb_store_modulus(void *data_out, unsigned long long offset,
                                                 cufftComplex element, void *caller_info,
                                                 void *shared)
{
    (void)shared;
    const bcdi_cuda_callback_info *info = (const bcdi_cuda_callback_info *)caller_info;
    unsigned long long voxel = offset % info->n;
    bcdi_cf value = bcdi_cf_make(element.x, element.y);
    ((bcdi_cf *)data_out)[offset] = bcdi_vox_modulus_project(value, info->amplitude[voxel],
                                                             info->mask[voxel], info->inv_n, NULL);
}

BCDI_CB_LINKAGE __device__ void bcdi_cb_store_update(void *data_out, unsigned long long offset,
                                                cufftComplex element, void *caller_info,
                                                void *shared)
{
    (void)data_out;
    (void)shared;
    const bcdi_cuda_callback_info *info = (const bcdi_cuda_callback_info *)caller_info;
    bcdi_cf p = bcdi_cf_make(element.x, element.y);
    info->rho[offset] =
        bcdi_vox_update(info->rho[offset], p, info->support[offset], &info->coeffs, NULL);
}
