/* SPDX-License-Identifier: BSD-3-Clause */
/* What the cuFFT store callbacks of the fused CUDA iteration read (kernels/lto/fft_callbacks.cu,
 * src/backend/cuda/cuda_fused.c): one struct in device memory, passed as the callbacks' caller
 * info and rewritten before each fused iteration. Plain C, shared by nvcc and the C compiler. */
#ifndef BCDI_CUDA_CALLBACKS_H
#define BCDI_CUDA_CALLBACKS_H

#include "voxel_ops.h"

typedef struct bcdi_cuda_callback_info {
    const float *amplitude; /* shared by the batch: [n] */
    const uint8_t *mask;    /* [n] */
    bcdi_cf *rho;           /* [batch][n]: the inverse transform's callback updates it */
    const uint8_t *support; /* [batch][n] */
    unsigned long long n;   /* voxels per run */
    float inv_n;
    bcdi_update_coeffs coeffs;
} bcdi_cuda_callback_info;

/* Symbol names of the two store callbacks in the LTO fatbin. */
#define BCDI_CB_STORE_MODULUS "bcdi_cb_store_modulus"
#define BCDI_CB_STORE_UPDATE "bcdi_cb_store_update"

#endif
