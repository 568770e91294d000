/* SPDX-License-Identifier: BSD-3-Clause */
/* Philox4x32-10 counter-based generator (Salmon et al., SC'11, "Parallel random numbers: as easy
 * as 1, 2, 3"). A (key, counter) pair maps to four 32-bit words with integer arithmetic only, so
 * the CPU and CUDA backends produce bit-identical uniforms for one seed, in any thread order. */
#ifndef BCDI_PHILOX_H
#define BCDI_PHILOX_H

#include "bcdi_hd.h"

typedef struct bcdi_u32x4 {
    uint32_t v[4];
} bcdi_u32x4;

static inline BCDI_HD uint32_t bcdi_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t product = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(product >> 32);
    return (uint32_t)product;
}

/* counter: 128 bits as (c0, c1, c2, c3); key: 64 bits (k0, k1). */
static inline BCDI_HD bcdi_u32x4 bcdi_philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2,
                                                    uint32_t c3, uint32_t k0, uint32_t k1)
{
    const uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
    const uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, hi1;
        uint32_t lo0 = bcdi_mulhilo32(m0, c0, &hi0);
        uint32_t lo1 = bcdi_mulhilo32(m1, c2, &hi1);
        uint32_t n0 = hi1 ^ c1 ^ k0;
        uint32_t n1 = lo1;
        uint32_t n2 = hi0 ^ c3 ^ k1;
        uint32_t n3 = lo0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += w0;
        k1 += w1;
    }
    bcdi_u32x4 out = {{c0, c1, c2, c3}};
    return out;
}

/* Uniform float in [0, 1) from the top 24 bits: exact in float, identical on every device. */
static inline BCDI_HD float bcdi_u32_to_unit(uint32_t x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

/* Uniform double in [0, 1) from two words (53 bits). */
static inline BCDI_HD double bcdi_u32x2_to_unit_double(uint32_t hi, uint32_t lo)
{
    uint64_t bits = ((uint64_t)hi << 21) ^ (uint64_t)(lo >> 11);
    return (double)(bits & ((1ULL << 53) - 1)) * (1.0 / 9007199254740992.0);
}

/* The four uniforms of element `index` in stream `stream` of a 64-bit seed. Streams keep
 * independent uses apart (one per run, one per purpose). */
static inline BCDI_HD bcdi_u32x4 bcdi_philox_at(uint64_t seed, uint64_t stream, uint64_t index)
{
    return bcdi_philox4x32_10((uint32_t)index, (uint32_t)(index >> 32), (uint32_t)stream,
                              (uint32_t)(stream >> 32), (uint32_t)seed, (uint32_t)(seed >> 32));
}

#endif
