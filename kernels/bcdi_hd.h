/* Portability macros shared by C (CPU backend) and CUDA (kernels/NAME.cu) translation units. */
#ifndef BCDI_HD_H
#define BCDI_HD_H

#ifdef __CUDACC__
#define BCDI_HD __host__ __device__
#else
#define BCDI_HD
#endif

#include <stdint.h>

/* Complex float, layout-compatible with fftwf_complex and cufftComplex (two packed floats). */
typedef struct bcdi_cf {
    float re, im;
} bcdi_cf;

#endif
