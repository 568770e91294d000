/* SPDX-License-Identifier: BSD-3-Clause */
/* FFT-friendly array sizes (num/fft_size.h). */
#include "num/fft_size.h"

size_t bcdi_fft_good_size(size_t n, size_t limit)
{
    if (n > limit) return 0;
    size_t m = n < 2 ? 2 : n + (n & 1);
    for (; m <= limit; m += 2) {
        size_t r = m;
        for (size_t p = 2; p <= 7; p++)
            while (r % p == 0)
                r /= p;
        if (r == 1) return m;
    }
    return 0;
}
