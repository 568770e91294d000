/* SPDX-License-Identifier: BSD-3-Clause */
/* braggcdi simulate: forward model, noise, detector effects, files and the true object. */
#include "bcdi/config.h"
#include "bcdi/simulate.h"
#include "io/hdf5.h"
#include "io/nexus.h"
#include "io/tiff_io.h"
#include "instrument/excalibur.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI /* strict C11 headers do not define it */
#define M_PI 3.14159265358979323846
#endif

static bcdi_simulate_params small_params(size_t n)
{
    bcdi_simulate_params p;
    bcdi_simulate_default(&p);
    p.shape[0] = p.shape[1] = p.shape[2] = n;
    return p;
}

/* object + noise-free intensity for p */
static void make_pattern(const bcdi_simulate_params *p, bcdi_geometry *g, bcdi_simulate_object *obj,
                         float **intensity)
{
    cr_assert_eq(bcdi_simulate_geometry(p, g), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_simulate_make_object(p, g, obj), BCDI_OK, "%s", bcdi_last_error());
    size_t n = p->shape[0] * p->shape[1] * p->shape[2];
    *intensity = malloc(n * sizeof **intensity);
    cr_assert_not_null(*intensity);
    cr_assert_eq(bcdi_simulate_intensity(NULL, p->shape, obj->object, *intensity), BCDI_OK, "%s",
                 bcdi_last_error());
}

static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

Test(simulate, parseval)
{
    bcdi_simulate_params p = small_params(32);
    p.dislocation_count = 1; /* a phase structure, not just a real object */
    p.dislocations[0] = (bcdi_sim_dislocation){{0, 0, 0}, {1, 0, 1}, {0, 0, 4.733}};
    bcdi_geometry g;
    bcdi_simulate_object obj;
    float *intensity;
    make_pattern(&p, &g, &obj, &intensity);
    size_t n = 32 * 32 * 32;
    double real_sum = 0.0, fourier_sum = 0.0;
    for (size_t v = 0; v < n; ++v) {
        real_sum += (double)obj.object[v].re * obj.object[v].re +
                    (double)obj.object[v].im * obj.object[v].im;
        fourier_sum += intensity[v];
    }
    double rel = fabs(fourier_sum - (double)n * real_sum) / ((double)n * real_sum);
    cr_expect_lt(rel, 1e-4, "Parseval relative error %.3g", rel);
    cr_log_info("Parseval relative error %.3g", rel);
    bcdi_simulate_object_free(&obj);
    free(intensity);
}

Test(simulate, unstrained_peak_at_centre)
{
    bcdi_simulate_params p = small_params(32);
    bcdi_geometry g;
    bcdi_simulate_object obj;
    float *intensity;
    make_pattern(&p, &g, &obj, &intensity);
    size_t peak = argmax(intensity, 32 * 32 * 32);
    cr_expect_eq(peak, (16 * 32 + 16) * 32 + 16, "peak at %zu,%zu,%zu", peak / 1024,
                 (peak / 32) % 32, peak % 32);
    bcdi_simulate_object_free(&obj);
    free(intensity);
}

/* u = ε (r·Ĝ) Ĝ gives ρ ∝ exp(−i|G|ε Ĝ·r): the peak moves to Δq = −|G| ε Ĝ (a stretched lattice
 * diffracts at smaller |Q|); in voxels k = M⁻¹ Δq with M the q_step matrix. */
Test(simulate, uniform_strain_shifts_peak)
{
    const double strain = 5e-4;
    bcdi_simulate_params p = small_params(48);
    p.strain = strain;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    float *intensity;
    make_pattern(&p, &g, &obj, &intensity);
    double q_len = sqrt(g.q_bragg[0] * g.q_bragg[0] + g.q_bragg[1] * g.q_bragg[1] +
                        g.q_bragg[2] * g.q_bragg[2]);
    double dq[3];
    for (int i = 0; i < 3; ++i)
        dq[i] = -(obj.g_norm * strain) * g.q_bragg[i] / q_len;
    /* solve M k = dq with Cramer's rule */
    double(*m)[3] = g.q_step;
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    double k[3];
    for (int a = 0; a < 3; ++a) {
        double mm[3][3];
        memcpy(mm, m, sizeof mm);
        for (int i = 0; i < 3; ++i)
            mm[i][a] = dq[i];
        k[a] = (mm[0][0] * (mm[1][1] * mm[2][2] - mm[1][2] * mm[2][1]) -
                mm[0][1] * (mm[1][0] * mm[2][2] - mm[1][2] * mm[2][0]) +
                mm[0][2] * (mm[1][0] * mm[2][1] - mm[1][1] * mm[2][0])) /
               det;
    }
    /* intensity-weighted centroid in a 7³ box around the maximum (sub-voxel peak position) */
    size_t peak = argmax(intensity, 48 * 48 * 48);
    long p0 = (long)(peak / (48 * 48)), p1 = (long)((peak / 48) % 48), p2 = (long)(peak % 48);
    double w = 0.0, c[3] = {0, 0, 0};
    for (long a = -3; a <= 3; ++a)
        for (long b = -3; b <= 3; ++b)
            for (long e = -3; e <= 3; ++e) {
                long i0 = p0 + a, i1 = p1 + b, i2 = p2 + e;
                if (i0 < 0 || i1 < 0 || i2 < 0 || i0 >= 48 || i1 >= 48 || i2 >= 48) continue;
                double v = intensity[(i0 * 48 + i1) * 48 + i2];
                w += v;
                c[0] += v * (double)(i0 - 24);
                c[1] += v * (double)(i1 - 24);
                c[2] += v * (double)(i2 - 24);
            }
    for (int a = 0; a < 3; ++a)
        c[a] /= w;
    /* measured: centroid (-0.689, 0, -6.225) for expected (-0.687, 0, -6.323) voxels at 48³,
     * ε = 5e-4: Q̂ lies mostly along the detector columns; rows are ⟂ Q */
    for (int a = 0; a < 3; ++a)
        cr_expect_lt(fabs(c[a] - k[a]), 0.25, "axis %d: centroid %.3f, expected %.3f", a, c[a],
                     k[a]);
    cr_expect_gt(fabs(k[2]), 3.0, "the test needs a shift of several voxels");
    cr_log_info("strain %g: centroid (%.3f, %.3f, %.3f), expected (%.3f, %.3f, %.3f)", strain, c[0],
                c[1], c[2], k[0], k[1], k[2]);
    /* physical sign: the peak moves towards smaller |Q| */
    double moved = 0.0;
    for (int i = 0; i < 3; ++i)
        moved += (m[i][0] * c[0] + m[i][1] * c[1] + m[i][2] * c[2]) * g.q_bragg[i];
    cr_expect_lt(moved, 0.0, "tensile strain must lower |Q|");
    bcdi_simulate_object_free(&obj);
    free(intensity);
}

static double wrap(double a)
{
    while (a > M_PI)
        a -= 2.0 * M_PI;
    while (a <= -M_PI)
        a += 2.0 * M_PI;
    return a;
}

/* Winding of arg ρ on a ring of radius `ring` voxels in the crystal plane ⟂ `dir` through the
 * origin, counter-clockwise about dir (nearest voxels on the sheared grid). */
static double winding(const bcdi_simulate_params *p, const double dir_in[3], double ring)
{
    bcdi_geometry g;
    bcdi_simulate_object obj;
    cr_assert_eq(bcdi_simulate_geometry(p, &g), BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_simulate_make_object(p, &g, &obj), BCDI_OK, "%s", bcdi_last_error());
    double d[3] = {dir_in[0], dir_in[1], dir_in[2]};
    double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (int a = 0; a < 3; ++a)
        d[a] /= len;
    double e1[3] = {1, 0, 0};
    if (fabs(d[0]) > 0.9) e1[0] = 0, e1[1] = 1;
    double along = e1[0] * d[0] + e1[1] * d[1] + e1[2] * d[2];
    for (int a = 0; a < 3; ++a)
        e1[a] -= along * d[a];
    len = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
    for (int a = 0; a < 3; ++a)
        e1[a] /= len;
    double e2[3] = {d[1] * e1[2] - d[2] * e1[1], d[2] * e1[0] - d[0] * e1[2],
                    d[0] * e1[1] - d[1] * e1[0]};
    /* crystal -> lab -> index: i = T⁻¹ Cᵀ rc + N/2 */
    double voxel = cbrt(g.voxel_size_m[0] * g.voxel_size_m[1] * g.voxel_size_m[2]);
    double t[3][3], inv[3][3];
    memcpy(t, g.real_basis, sizeof t);
    double det = t[0][0] * (t[1][1] * t[2][2] - t[1][2] * t[2][1]) -
                 t[0][1] * (t[1][0] * t[2][2] - t[1][2] * t[2][0]) +
                 t[0][2] * (t[1][0] * t[2][1] - t[1][1] * t[2][0]);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
            inv[i][j] = (t[i1][j1] * t[i2][j2] - t[i1][j2] * t[i2][j1]) / det;
        }
    const int points = 96;
    double total = 0.0, previous = 0.0, first = 0.0;
    for (int s = 0; s <= points; ++s) {
        double angle = 2.0 * M_PI * s / points;
        double rc[3], lab[3], idx[3];
        for (int a = 0; a < 3; ++a)
            rc[a] = ring * voxel * (cos(angle) * e1[a] + sin(angle) * e2[a]);
        for (int a = 0; a < 3; ++a)
            lab[a] = obj.crystal_axes[0][a] * rc[0] + obj.crystal_axes[1][a] * rc[1] +
                     obj.crystal_axes[2][a] * rc[2];
        for (int a = 0; a < 3; ++a)
            idx[a] = inv[a][0] * lab[0] + inv[a][1] * lab[1] + inv[a][2] * lab[2] +
                     (double)(p->shape[a] / 2);
        size_t v = ((size_t)lround(idx[0]) * p->shape[1] + (size_t)lround(idx[1])) * p->shape[2] +
                   (size_t)lround(idx[2]);
        cr_assert_gt(obj.amplitude[v], 0.5f, "ring point outside the crystal");
        double phase = atan2(obj.object[v].im, obj.object[v].re);
        if (s == 0)
            first = phase;
        else
            total += wrap(phase - previous);
        previous = phase;
    }
    (void)first;
    cr_log_info("winding %.9f rad (ring %.1f voxels)", total, ring);
    bcdi_simulate_object_free(&obj);
    return total;
}

Test(simulate, screw_dislocation_winding)
{
    bcdi_simulate_params p = small_params(48);
    p.dislocation_count = 1;
    double along_g[3] = {0, 0, 1};
    /* b = (0,0,d): G·b = 2π, so ∮∇φ·dl = −G·b = −2π */
    p.dislocations[0] = (bcdi_sim_dislocation){{0, 0, 0}, {0, 0, 1}, {0, 0, 4.733}};
    double w = winding(&p, along_g, 4.0);
    cr_expect_lt(fabs(w + 2.0 * M_PI), 1e-6, "winding %.6f for b = +d", w);
    p.dislocations[0].burgers_angstrom[2] = -4.733;
    w = winding(&p, along_g, 4.0);
    cr_expect_lt(fabs(w - 2.0 * M_PI), 1e-6, "winding %.6f for b = -d", w);
    /* an edge line with b ⟂ G is invisible as a vortex (G·b = 0) */
    double along_y[3] = {0, 1, 0};
    p.dislocations[0] = (bcdi_sim_dislocation){{0, 0, 0}, {0, 1, 0}, {4.733, 0, 0}};
    w = winding(&p, along_y, 4.0);
    cr_expect_lt(fabs(w), 1e-6, "winding %.6f for b ⟂ G", w);
    /* a mixed line along x with b = (d, 0, d): the G·b = 2π part winds */
    double along_x[3] = {1, 0, 0};
    p.dislocations[0] = (bcdi_sim_dislocation){{0, 0, 0}, {1, 0, 0}, {4.733, 0, 4.733}};
    w = winding(&p, along_x, 4.0);
    cr_expect_lt(fabs(w + 2.0 * M_PI), 1e-6, "winding %.6f for an edge line with b·G = 2π", w);
}

Test(simulate, poisson_moments)
{
    const double lambdas[] = {0.5, 5.0, 50.0, 5000.0};
    const size_t draws = 400000;
    for (int t = 0; t < 4; ++t) {
        double lambda = lambdas[t], sum = 0.0, sum2 = 0.0;
        int integer = 1;
        for (size_t i = 0; i < draws; ++i) {
            double k = bcdi_simulate_poisson(7, BCDI_SIM_STREAM_POISSON, i, lambda);
            integer &= k == floor(k) && k >= 0.0;
            sum += k;
            sum2 += k * k;
        }
        double mean = sum / draws, var = sum2 / draws - mean * mean;
        double mean_se = sqrt(lambda / draws);
        double var_se = sqrt((lambda + 2.0 * lambda * lambda) / draws);
        cr_expect(integer, "λ = %g: non-integer or negative draw", lambda);
        cr_expect_lt(fabs(mean - lambda), 4.0 * mean_se, "λ = %g: mean %.5f (SE %.3g)", lambda,
                     mean, mean_se);
        cr_expect_lt(fabs(var - lambda), 4.0 * var_se, "λ = %g: variance %.5f (SE %.3g)", lambda,
                     var, var_se);
        cr_log_info("lambda %g: mean %.5f (%+.2f SE) variance %.5f (%+.2f SE)", lambda, mean,
                    (mean - lambda) / mean_se, var, (var - lambda) / var_se);
    }
}

Test(simulate, saturation_and_dtype)
{
    bcdi_simulate_params p = small_params(16);
    p.photons = 1e9;
    p.bits = 12;
    p.gaps = BCDI_SIM_GAPS_NONE;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    float *intensity;
    make_pattern(&p, &g, &obj, &intensity);
    bcdi_simulate_frames frames;
    cr_assert_eq(bcdi_simulate_frames_make(&p, &g, intensity, &frames), BCDI_OK, "%s",
                 bcdi_last_error());
    const uint16_t *data = frames.data;
    size_t n = 16 * 16 * 16, at_ceiling = 0;
    uint16_t highest = 0;
    for (size_t v = 0; v < n; ++v) {
        if (data[v] > highest) highest = data[v];
        at_ceiling += data[v] == 4095;
    }
    cr_expect_eq(highest, 4095);
    cr_expect_gt(frames.saturated, 0);
    cr_expect_eq(at_ceiling, frames.saturated);
    bcdi_simulate_frames_free(&frames);
    /* bits = 0 with float32 keeps the expected counts exactly (noise none) */
    p.bits = 0;
    p.dtype = BCDI_SIM_FLOAT32;
    p.noise = BCDI_SIM_NOISE_NONE;
    cr_assert_eq(bcdi_simulate_frames_make(&p, &g, intensity, &frames), BCDI_OK);
    double total = 0.0;
    for (size_t v = 0; v < n; ++v)
        total += ((const float *)frames.data)[v];
    cr_expect_lt(fabs(total - 1e9) / 1e9, 1e-5, "total %.6g", total);
    cr_expect_eq(frames.saturated, 0);
    bcdi_simulate_frames_free(&frames);
    bcdi_simulate_object_free(&obj);
    free(intensity);
}

Test(simulate, determinism)
{
    bcdi_simulate_params p = small_params(16);
    p.dead_pixels = 5;
    p.domains = 3;
    p.domain_gap = 1.0;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    float *intensity;
    make_pattern(&p, &g, &obj, &intensity);
    bcdi_simulate_frames a, b, c;
    cr_assert_eq(bcdi_simulate_frames_make(&p, &g, intensity, &a), BCDI_OK);
    cr_assert_eq(bcdi_simulate_frames_make(&p, &g, intensity, &b), BCDI_OK);
    size_t bytes = a.dims[0] * a.dims[1] * a.dims[2] * 2;
    cr_expect_eq(memcmp(a.data, b.data, bytes), 0, "same seed, different frames");
    cr_expect_eq(memcmp(a.pixel_mask, b.pixel_mask, a.dims[1] * a.dims[2] * 4), 0);
    p.seed = 2;
    cr_assert_eq(bcdi_simulate_frames_make(&p, &g, intensity, &c), BCDI_OK);
    cr_expect_neq(memcmp(a.data, c.data, bytes), 0, "another seed gave the same frames");
    /* the object (domains) is deterministic too */
    bcdi_simulate_object again;
    p.seed = 1;
    cr_assert_eq(bcdi_simulate_make_object(&p, &g, &again), BCDI_OK);
    cr_expect_eq(memcmp(obj.object, again.object, 16 * 16 * 16 * sizeof(bcdi_cf)), 0);
    bcdi_simulate_object_free(&again);
    bcdi_simulate_frames_free(&a);
    bcdi_simulate_frames_free(&b);
    bcdi_simulate_frames_free(&c);
    bcdi_simulate_object_free(&obj);
    free(intensity);
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ROI rows 480..543 hold the module gap from 515, columns 230..293 the chip gap 256..258. */
Test(simulate, written_stack_gaps_and_paths)
{
    bcdi_simulate_params p = small_params(64);
    p.shape[0] = 8;
    p.roi_centered = 0;
    p.roi_origin[0] = 480;
    p.roi_origin[1] = 230;
    p.dead_pixels = 10;
    snprintf(p.output, sizeof p.output, "sim_gaps.nxs");
    remove("sim_gaps.nxs");
    remove("sim_gaps_truth.cxi");
    cr_assert_eq(bcdi_simulate_run(&p, NULL, NULL, NULL, 0), BCDI_OK, "%s", bcdi_last_error());
    cr_assert(file_exists("sim_gaps_truth.cxi"));
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open("sim_gaps.nxs", &r), BCDI_OK, "%s", bcdi_last_error());
    int rank;
    size_t dims[8];
    bcdi_dtype stored;
    cr_assert_eq(bcdi_h5_shape(r, BCDI_NEXUS_DATA_PATH, &rank, dims, &stored), BCDI_OK);
    cr_expect_eq(rank, 3);
    cr_expect(dims[0] == 8 && dims[1] == 64 && dims[2] == 64);
    cr_expect_eq(stored, BCDI_DT_U16);
    cr_assert_eq(bcdi_h5_shape(r, BCDI_NEXUS_MOTOR_PATH, &rank, dims, &stored), BCDI_OK);
    cr_expect(rank == 1 && dims[0] == 8);
    uint32_t *mask = malloc(64 * 64 * sizeof *mask);
    uint16_t *frames = malloc(8 * 64 * 64 * sizeof *frames);
    cr_assert_eq(bcdi_h5_read(r, BCDI_NEXUS_MASK_PATH, BCDI_DT_U32, mask, 64 * 64), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_assert_eq(bcdi_h5_read(r, BCDI_NEXUS_DATA_PATH, BCDI_DT_U16, frames, 8 * 64 * 64), BCDI_OK);
    double angles[8];
    cr_assert_eq(bcdi_h5_read(r, BCDI_NEXUS_MOTOR_PATH, BCDI_DT_F64, angles, 8), BCDI_OK);
    cr_expect_lt(fabs(angles[4] - 6.838), 0.001, "θ_B frame angle %.4f", angles[4]);
    cr_expect_lt(fabs(angles[5] - angles[4] - 0.005), 1e-9);
    bcdi_h5_close(r);
    bcdi_excalibur det;
    bcdi_excalibur_default(&det);
    size_t gaps = 0, dead = 0;
    for (long row = 0; row < 64; ++row)
        for (long col = 0; col < 64; ++col) {
            uint32_t m = mask[row * 64 + col];
            int gap = bcdi_excalibur_is_gap(&det, 480 + row, 230 + col);
            cr_expect_eq((m & BCDI_PIXEL_GAP) != 0, gap, "pixel %ld,%ld", row, col);
            gaps += gap;
            dead += (m & BCDI_PIXEL_DEAD) != 0;
            if (m)
                for (int f = 0; f < 8; ++f)
                    cr_expect_eq(frames[(f * 64 + row) * 64 + col], 0);
        }
    /* 29 gap rows (515..543) and 3 gap columns: 29·64 + 3·64 − 29·3 */
    cr_expect_eq(gaps, 29 * 64 + 3 * 64 - 29 * 3);
    cr_expect_eq(dead, 10);
    /* the truth: object, support, displacement on the data's grid */
    cr_assert_eq(bcdi_h5_open("sim_gaps_truth.cxi", &r), BCDI_OK, "%s", bcdi_last_error());
    const char *paths[] = {"entry_1/image_1/data", "entry_1/image_1/mask",
                           "entry_1/image_1/truth/displacement", "entry_1/image_1/truth/amplitude"};
    for (int i = 0; i < 4; ++i) {
        cr_assert_eq(bcdi_h5_shape(r, paths[i], &rank, dims, &stored), BCDI_OK, "%s", paths[i]);
        cr_expect(rank == 3 && dims[0] == 8 && dims[1] == 64 && dims[2] == 64, "%s", paths[i]);
    }
    cr_expect(bcdi_h5_exists(r, "entry_1/bcdi_geometry"));
    cr_expect(bcdi_h5_exists(r, "entry_1/image_1/process_1/configuration/seed"));
    bcdi_h5_close(r);
    free(mask);
    free(frames);
    remove("sim_gaps.nxs");
    remove("sim_gaps_truth.cxi");
}

Test(simulate, raw_gaps_remove_lines)
{
    bcdi_simulate_params p = small_params(64);
    p.shape[0] = 4;
    p.roi_centered = 0;
    p.roi_origin[0] = 480;
    p.roi_origin[1] = 230;
    p.gaps = BCDI_SIM_GAPS_RAW;
    bcdi_geometry g;
    bcdi_simulate_object obj;
    float *intensity;
    make_pattern(&p, &g, &obj, &intensity);
    bcdi_simulate_frames frames;
    cr_assert_eq(bcdi_simulate_frames_make(&p, &g, intensity, &frames), BCDI_OK, "%s",
                 bcdi_last_error());
    cr_expect_eq(frames.dims[1], 64 - 29);
    cr_expect_eq(frames.dims[2], 64 - 3);
    for (size_t i = 0; i < frames.dims[1] * frames.dims[2]; ++i)
        cr_expect_eq(frames.pixel_mask[i], 0u);
    bcdi_simulate_frames_free(&frames);
    bcdi_simulate_object_free(&obj);
    free(intensity);
}

Test(simulate, bad_parameters_write_nothing)
{
    bcdi_simulate_params good = small_params(16);
    snprintf(good.output, sizeof good.output, "sim_bad.nxs");
    remove("sim_bad.nxs");
    remove("sim_bad_truth.cxi");
    bcdi_simulate_params p;
#define EXPECT_BAD(field_change)                                                                   \
    do {                                                                                           \
        p = good;                                                                                  \
        field_change;                                                                              \
        cr_expect_eq(bcdi_simulate_validate(&p), BCDI_ERR_INVALID_ARG, #field_change);             \
        cr_expect_eq(bcdi_simulate_run(&p, NULL, NULL, NULL, 0), BCDI_ERR_INVALID_ARG,             \
                     #field_change);                                                               \
        cr_expect_neq(bcdi_last_error()[0], '\0');                                                 \
    } while (0)
    EXPECT_BAD(p.shape[1] = 0);
    EXPECT_BAD(p.oversampling = 0.5);
    EXPECT_BAD(p.photons = -1.0);
    EXPECT_BAD(p.bits = 7);
    EXPECT_BAD(p.dtype = (bcdi_sim_dtype)9);
    EXPECT_BAD(p.crystal = (bcdi_sim_crystal)5);
    EXPECT_BAD(p.deflate = 12);
    EXPECT_BAD(p.energy_kev = -1.0);
    EXPECT_BAD(p.d_spacing_angstrom = 0.1); /* below λ/2 */
    EXPECT_BAD((p.bits = 24, p.dtype = BCDI_SIM_UINT16));
    EXPECT_BAD(p.facet_count = 2);
    EXPECT_BAD((p.roi_centered = 0, p.roi_origin[0] = 1790)); /* leaves the detector */
    cr_expect_not(file_exists("sim_bad.nxs"));
    cr_expect_not(file_exists("sim_bad_truth.cxi"));
}

Test(simulate, config_keys)
{
    size_t count = 0;
    const bcdi_param_spec *specs = bcdi_simulate_param_specs(&count);
    cr_assert_gt(count, 20);
    bcdi_config *cfg;
    cr_assert_eq(bcdi_config_create("simulate", specs, count, &cfg), BCDI_OK, "%s",
                 bcdi_last_error());
    bcdi_simulate_params p;
    cr_assert_eq(bcdi_simulate_params_from_config(cfg, &p), BCDI_OK, "%s", bcdi_last_error());
    bcdi_simulate_params defaults;
    bcdi_simulate_default(&defaults);
    cr_expect_eq(p.shape[0], 64);
    cr_expect_eq(p.facet_count, 8);
    cr_expect_eq(p.bits, 12);
    cr_expect_eq(p.facets[3].distance, defaults.facets[3].distance);
    cr_assert_eq(bcdi_config_override(cfg, "shape=8,16,24"), BCDI_OK);
    cr_assert_eq(bcdi_config_override(cfg, "dislocations=p=0,0,10 d=0,0,1 b=0,0,4.733; "
                                           "p=1,2,3 d=1,0,0 b=2.5,0,0"),
                 BCDI_OK, "%s", bcdi_last_error());
    cr_assert_eq(bcdi_config_override(cfg, "crystal=ellipsoid"), BCDI_OK);
    cr_assert_eq(bcdi_config_override(cfg, "roi_origin=100,200"), BCDI_OK);
    cr_assert_eq(bcdi_simulate_params_from_config(cfg, &p), BCDI_OK, "%s", bcdi_last_error());
    cr_expect(p.shape[0] == 8 && p.shape[1] == 16 && p.shape[2] == 24);
    cr_expect_eq(p.dislocation_count, 2);
    cr_expect_eq(p.dislocations[0].position_nm[2], 10.0);
    cr_expect_eq(p.dislocations[1].burgers_angstrom[0], 2.5);
    cr_expect_eq(p.crystal, BCDI_SIM_ELLIPSOID);
    cr_expect(!p.roi_centered && p.roi_origin[0] == 100 && p.roi_origin[1] == 200);
    const char *bad[] = {"crystal=sphere",
                         "bits=7",
                         "dtype=int8",
                         "photons=-3",
                         "dislocations=p=0,0 d=0,0,1 b=1,0,0",
                         "oversampling=0.9"};
    for (int i = 0; i < 6; ++i) {
        bcdi_config *c2;
        cr_assert_eq(bcdi_config_create("simulate", specs, count, &c2), BCDI_OK);
        cr_assert_eq(bcdi_config_override(c2, bad[i]), BCDI_OK, "%s", bad[i]);
        cr_expect_eq(bcdi_simulate_params_from_config(c2, &p), BCDI_ERR_CONFIG, "%s: %s", bad[i],
                     bcdi_last_error());
        /* the message names where the value came from and the key */
        char key[32];
        snprintf(key, sizeof key, "key '%.*s'", (int)(strchr(bad[i], '=') - bad[i]), bad[i]);
        cr_expect(strstr(bcdi_last_error(), "command line") && strstr(bcdi_last_error(), key),
                  "%s: %s", bad[i], bcdi_last_error());
        bcdi_config_free(c2);
    }
    bcdi_config_free(cfg);
}

Test(simulate, tiff_frames)
{
    bcdi_simulate_params p = small_params(16);
    p.shape[0] = 3;
    p.gaps = BCDI_SIM_GAPS_NONE;
    snprintf(p.output, sizeof p.output, "sim_tiff.nxs");
    snprintf(p.tiff_dir, sizeof p.tiff_dir, "sim_tiff_frames");
    cr_assert_eq(bcdi_simulate_run(&p, NULL, NULL, NULL, 0), BCDI_OK, "%s", bcdi_last_error());
    size_t pages, rows, cols;
    bcdi_dtype stored;
    cr_assert_eq(bcdi_tiff_info("sim_tiff_frames/frame_00002.tif", &pages, &rows, &cols, &stored),
                 BCDI_OK, "%s", bcdi_last_error());
    cr_expect(pages == 1 && rows == 16 && cols == 16);
    cr_expect_eq(stored, BCDI_DT_U16);
    /* the TIFF frame holds the same counts as the NeXus frame */
    float page[256];
    uint16_t stack[3 * 256];
    cr_assert_eq(bcdi_tiff_read_page("sim_tiff_frames/frame_00002.tif", 0, page, 256), BCDI_OK);
    bcdi_h5_reader *r;
    cr_assert_eq(bcdi_h5_open("sim_tiff.nxs", &r), BCDI_OK);
    cr_assert_eq(bcdi_h5_read(r, BCDI_NEXUS_DATA_PATH, BCDI_DT_U16, stack, 3 * 256), BCDI_OK);
    bcdi_h5_close(r);
    for (int i = 0; i < 256; ++i)
        cr_expect_eq(page[i], (float)stack[2 * 256 + i], "pixel %d", i);
    for (int f = 0; f < 3; ++f) {
        char name[64];
        snprintf(name, sizeof name, "sim_tiff_frames/frame_%05d.tif", f);
        remove(name);
    }
    remove("sim_tiff_frames");
    remove("sim_tiff.nxs");
    remove("sim_tiff_truth.cxi");
}
