/* SPDX-License-Identifier: BSD-3-Clause */
/* Value types shared by the public headers. */
#ifndef BCDI_TYPES_H
#define BCDI_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

/* Complex float: two packed floats, layout-compatible with fftwf_complex, cufftComplex and
 * std::complex<float> (so an array of either may be passed through a cast). */
typedef struct bcdi_cf {
    float re, im;
} bcdi_cf;

#ifdef __cplusplus
}
#endif
#endif
