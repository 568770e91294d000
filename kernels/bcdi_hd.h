/* SPDX-License-Identifier: BSD-3-Clause */
/* Portability macros shared by C (CPU backend) and CUDA (kernels/NAME.cu) translation units. */
#ifndef BCDI_HD_H
#define BCDI_HD_H

#ifdef __CUDACC__
#define BCDI_HD __host__ __device__
#else
#define BCDI_HD
#endif

#include "bcdi/types.h" /* bcdi_cf, the public complex type */

#include <stdint.h>

#endif
