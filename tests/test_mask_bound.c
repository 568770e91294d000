/* SPDX-License-Identifier: BSD-3-Clause */
/* Masked-voxel regularisation (mask_bound): the bounds from the measured neighbourhood, and what
 * phasing puts into a masked block of simulated data whose truth is known. */
#include "bcdi/phasing.h"
#include "bcdi/simulate.h"
#include "backend/backend.h"
#include "phasing/mask_bound.h"
#include "voxel_ops.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(mask_bound, bounds_from_the_measured_neighbourhood)
{
    /* 24^3 of 5 counts with one bright voxel, a masked 2x2x2 block at (4..5)^3 and a masked
     * slab along axis 0 (frames 8..23) */
    enum { N = 24 };
    const size_t shape[3] = {N, N, N};
    float *intensity = malloc(N * N * N * sizeof *intensity);
    float *amplitude = malloc(N * N * N * sizeof *amplitude);
    uint8_t *mask = calloc(N * N * N, 1);
    for (size_t i = 0; i < N * N * N; ++i) {
        intensity[i] = 5.0f;
        amplitude[i] = -1.0f; /* measured voxels must not be touched */
    }
    intensity[(2 * N + 7) * N + 4] = 40.0f;   /* 3 voxels from (5, 4, 4) along axes 0 and 1 */
    intensity[(6 * N + 12) * N + 12] = 20.0f; /* 2 frames before the slab */
    for (size_t i0 = 4; i0 < 6; ++i0)
        for (size_t i1 = 4; i1 < 6; ++i1)
            for (size_t i2 = 4; i2 < 6; ++i2)
                mask[(i0 * N + i1) * N + i2] = 1, intensity[(i0 * N + i1) * N + i2] = 1e6f;
    for (size_t i = 8 * N * N; i < N * N * N; ++i)
        mask[i] = 1;
    bcdi_mask_bound_summary sum;
    cr_assert_eq(bcdi_masked_voxel_bounds(intensity, mask, shape, 3, 2.0, amplitude, &sum),
                 BCDI_OK);
    cr_expect_eq(sum.masked, 8 + 16 * N * N);
    /* the block: its own (masked) values do not count; the bright voxel is within 3 of (4..5,
     * 4..5, 4..5) along every axis, so 2 x (40 + 1) */
    cr_expect_float_eq(amplitude[(4 * N + 4) * N + 4], sqrtf(82.0f), 1e-5);
    cr_expect_float_eq(amplitude[(5 * N + 5) * N + 5], sqrtf(82.0f), 1e-5);
    /* the slab: frames 8..10 have measured voxels within 3 frames (bound 2 x 6, or 2 x 21 within
     * 3 voxels of the bright one at (6, 12, 12)); deeper voxels widen the cube 3 voxels at a
     * time until it reaches measured ones: (11, 20, 20) at reach 6 (frames 5..7, rows and
     * columns 14..26: 2 x 6), (20, 12, 12) at reach 15 (frames 5..35, with the bright voxel) */
    cr_expect_float_eq(amplitude[(10 * N + 20) * N + 20], sqrtf(12.0f), 1e-5);
    cr_expect_float_eq(amplitude[(8 * N + 12) * N + 12], sqrtf(42.0f), 1e-5);
    cr_expect_float_eq(amplitude[(11 * N + 20) * N + 20], sqrtf(12.0f), 1e-5);
    cr_expect_float_eq(amplitude[(20 * N + 12) * N + 12], sqrtf(42.0f), 1e-5);
    cr_expect_eq(sum.bounded, sum.masked, "every masked voxel bounded");
    cr_expect_eq(sum.bounded_far, 13 * N * N, "frames 11..23 bounded from beyond 3 voxels");
    cr_expect_eq(amplitude[(1 * N + 1) * N + 1], -1.0f, "a measured voxel was written");
    /* bad parameters */
    cr_expect_neq(bcdi_masked_voxel_bounds(intensity, mask, shape, 0, 2.0, amplitude, &sum),
                  BCDI_OK);
    cr_expect_neq(bcdi_masked_voxel_bounds(intensity, mask, shape, 3, -1.0, amplitude, &sum),
                  BCDI_OK);
    free(intensity);
    free(amplitude);
    free(mask);
}

/* A simulated crystal, a masked block, and the photons the model puts there at the end, against
 * the truth the mask hid. */
typedef struct {
    double truth, model;
    float fourier_error, over_bound;
} block_outcome;

static block_outcome phase_with_block(int bound, const size_t lo[3], const size_t size[3])
{
    bcdi_simulate_params sp;
    bcdi_simulate_default(&sp);
    enum { N = 48 };
    sp.shape[0] = sp.shape[1] = sp.shape[2] = N;
    sp.oversampling = 3;
    bcdi_geometry g;
    cr_assert_eq(bcdi_simulate_geometry(&sp, &g), BCDI_OK);
    bcdi_simulate_object obj;
    cr_assert_eq(bcdi_simulate_make_object(&sp, &g, &obj), BCDI_OK, "%s", bcdi_last_error());
    const size_t n = (size_t)N * N * N;
    float *expected = malloc(n * sizeof *expected), *counts = malloc(n * sizeof *counts);
    uint8_t *mask = calloc(n, 1);
    cr_assert_eq(bcdi_simulate_intensity(NULL, obj.shape, obj.object, expected), BCDI_OK);
    double total = 0;
    for (size_t i = 0; i < n; ++i)
        total += expected[i];
    const double photons = 1e7;
    for (size_t i = 0; i < n; ++i) {
        expected[i] = (float)(expected[i] * photons / total);
        counts[i] = (float)bcdi_simulate_poisson(11, 1, i, expected[i]);
    }
    block_outcome out = {0};
    for (size_t i0 = lo[0]; i0 < lo[0] + size[0]; ++i0)
        for (size_t i1 = lo[1]; i1 < lo[1] + size[1]; ++i1)
            for (size_t i2 = lo[2]; i2 < lo[2] + size[2]; ++i2) {
                size_t i = (i0 * N + i1) * N + i2;
                mask[i] = 1;
                out.truth += expected[i];
            }
    bcdi_phasing_params p;
    bcdi_phasing_default(&p);
    p.mask_bound = bound;
    bcdi_backend *be;
    cr_assert_eq(bcdi_backend_cpu_open(&be), BCDI_OK);
    bcdi_phasing_data d = {{N, N, N}, counts, mask, NULL};
    bcdi_phasing_result r;
    cr_assert_eq(bcdi_phase(be, &p, &d, NULL, NULL, &r), BCDI_OK, "%s", bcdi_last_error());
    bcdi_backend_close(be);
    out.model = r.runs[0].final.masked_photons;
    out.over_bound = r.runs[0].final.masked_over_bound;
    out.fourier_error = r.runs[0].final.fourier_error;
    bcdi_phasing_result_free(&r);
    bcdi_simulate_object_free(&obj);
    free(expected);
    free(counts);
    free(mask);
    return out;
}

Test(mask_bound, a_masked_block_free_and_bounded, .timeout = 120)
{
    /* 48^3 default crystal, 1e7 photons, defaults (one run). Measured (free / bounded, times
     * the truth the mask hid): a 4^3 block on the first fringes beside the peak 1.000 / 1.000;
     * an 8^3 block across the steep streak beside the peak 1.001 / 0.574 (the bound from the
     * faces is too low for the voxels nearer the peak: why mask_bound is off by default); 12
     * masked frames at one end of the rocking axis (as masked padding was) 156 / 5.3, the free
     * model over its bound in 48% of the voxels there against 6.6% for the 8^3 block. */
    const size_t lo[3][3] = {{22, 22, 28}, {20, 20, 34}, {0, 0, 0}};
    const size_t size[3][3] = {{4, 4, 4}, {8, 8, 8}, {12, 48, 48}};
    block_outcome free_block[3], bounded[3];
    for (int k = 0; k < 3; ++k) {
        free_block[k] = phase_with_block(0, lo[k], size[k]);
        bounded[k] = phase_with_block(1, lo[k], size[k]);
        cr_log_info("block %d: truth %.0f photons; free %.0f (%.3fx, Fourier error %.4f, %.1f%% "
                    "over the bound); bounded %.0f (%.3fx, %.4f, %.1f%% over)",
                    k, free_block[k].truth, free_block[k].model,
                    free_block[k].model / free_block[k].truth, free_block[k].fourier_error,
                    100 * free_block[k].over_bound, bounded[k].model,
                    bounded[k].model / bounded[k].truth, bounded[k].fourier_error,
                    100 * bounded[k].over_bound);
    }
    /* blocks inside the pattern: the free model recovers what the mask hid */
    for (int k = 0; k < 2; ++k)
        cr_expect(fabs(free_block[k].model / free_block[k].truth - 1) < 0.05,
                  "block %d: free model %.0f against truth %.0f", k, free_block[k].model,
                  free_block[k].truth);
    cr_expect(fabs(bounded[0].model / bounded[0].truth - 1) < 0.05, "block 0 bounded: %.0f",
              bounded[0].model);
    cr_expect_lt(bounded[1].model, free_block[1].model, "block 1: the bound holds it lower");
    /* masked frames at the edge: the free model runs away and the diagnostic shows it; the
     * bound holds it within a few times the truth */
    cr_expect_gt(free_block[2].model, 20 * free_block[2].truth, "slab free: %.0f",
                 free_block[2].model);
    cr_expect_gt(free_block[2].over_bound, 0.2, "slab free: %.3f over", free_block[2].over_bound);
    cr_expect_lt(free_block[1].over_bound, 0.2, "block free: %.3f over", free_block[1].over_bound);
    cr_expect_lt(bounded[2].model, 10 * bounded[2].truth, "slab bounded: %.0f", bounded[2].model);
    cr_expect_lt(bounded[2].over_bound, 0.05, "slab bounded: %.3f over", bounded[2].over_bound);
}
