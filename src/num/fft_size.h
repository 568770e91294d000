/* SPDX-License-Identifier: BSD-3-Clause */
/* FFT-friendly array sizes: the grids prepare boxes data into and compare resamples states onto
 * share one rule, so both live here (num is below prep and compare). */
#ifndef BCDI_NUM_FFT_SIZE_H
#define BCDI_NUM_FFT_SIZE_H

#include <stddef.h>

/* The smallest even m >= n (and >= 2) whose prime factors are all 2, 3, 5 or 7 (fast for FFTW
 * and cuFFT); 0 when that would be beyond `limit` (a size from a key or a header may be huge:
 * the search stops there instead of spinning). */
size_t bcdi_fft_good_size(size_t n, size_t limit);

#endif
