/* SPDX-License-Identifier: BSD-3-Clause */
/* The small shared numerics of src/num/ against hand-computed cases. */
#include "num/blur.h"
#include "num/constants.h"
#include "num/label.h"
#include "num/plot.h"
#include "num/volume.h"
#include "num/mat3.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

/* ---- constants ---- */

Test(num, constants_values)
{
    cr_expect_eq(BCDI_PI, acos(-1.0));
    cr_expect_eq(BCDI_TWO_PI, 2.0 * acos(-1.0));
    cr_expect_eq(180.0 * BCDI_DEG_TO_RAD, BCDI_PI);
    cr_expect_eq(BCDI_PI * BCDI_RAD_TO_DEG, 180.0);
    /* hc = 6.62607015e-34 J s × 299792458 m/s / 1.602176634e-16 J/keV, in Å (all exact in SI):
     * the constant is within 2e-6 of it (see num/constants.h for why not closer) */
    double hc = 6.62607015e-34 * 299792458.0 / 1.602176634e-16 * 1e10;
    cr_expect_lt(fabs(BCDI_HC_KEV_ANGSTROM - hc) / hc, 2e-6, "hc %.17g vs %.17g",
                 BCDI_HC_KEV_ANGSTROM, hc);
    /* 11 keV (the I13-1 set-up): λ = 12.3984 / 11 = 1.127127 Å */
    cr_expect_lt(fabs(bcdi_wavelength_m(11.0) - 1.1271272727e-10), 1e-19);
}

/* ---- 3×3 ---- */

Test(num, mat3_inverse_of_a_known_matrix)
{
    /* det = 4·13 − 7·7 + 2·3 = 9; inverse = adj / 9 (cofactors by hand) */
    const double m[3][3] = {{4, 7, 2}, {3, 6, 1}, {2, 5, 3}};
    const double expected[3][3] = {{13, -11, -5}, {-7, 8, 2}, {3, -6, 3}};
    cr_expect_eq(bcdi_mat3_det(m), 9.0);
    double inv[3][3];
    cr_assert_eq(bcdi_mat3_inverse(m, inv), 1);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(inv[i][j] - expected[i][j] / 9.0), 1e-15, "inv[%d][%d] = %g", i, j,
                         inv[i][j]);
    /* m · m⁻¹ = 1 through apply */
    for (int j = 0; j < 3; ++j) {
        double col[3] = {inv[0][j], inv[1][j], inv[2][j]}, out[3];
        bcdi_mat3_apply(m, col, out);
        for (int i = 0; i < 3; ++i)
            cr_expect_lt(fabs(out[i] - (i == j)), 1e-14); /* sums of terms up to ~10 */
    }
    /* mᵀ · (1, 0, 0) is the first row of m */
    double e0[3] = {1, 0, 0}, row[3];
    bcdi_mat3_apply_transpose(m, e0, row);
    cr_expect(row[0] == 4 && row[1] == 7 && row[2] == 2);
}

Test(num, mat3_singular_and_small_scale)
{
    const double rank2[3][3] = {{1, 2, 3}, {2, 4, 6}, {0, 1, 1}};
    double inv[3][3];
    memset(inv, 0x55, sizeof inv);
    cr_expect_eq(bcdi_mat3_inverse(rank2, inv), 0);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_eq(inv[i][j], 0.0, "a singular matrix leaves zeros");
    /* a real-space basis in metres: tiny determinant (1e-24), far from singular */
    const double basis[3][3] = {{2e-8, 0, 0}, {0, 5e-9, 0}, {1e-9, 0, 1e-8}};
    cr_assert_eq(bcdi_mat3_inverse(basis, inv), 1);
    cr_expect_lt(fabs(inv[0][0] - 5e7) / 5e7, 1e-15);
    cr_expect_lt(fabs(inv[1][1] - 2e8) / 2e8, 1e-15);
    cr_expect_lt(fabs(inv[2][0] - (-5e6)) / 5e6, 1e-15, "%g", inv[2][0]); /* −m20/(m00 m22) */
    const double nan_m[3][3] = {{NAN, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    cr_expect_eq(bcdi_mat3_inverse(nan_m, inv), 0);
}

Test(num, vectors_and_frame)
{
    const double x[3] = {1, 0, 0}, y[3] = {0, 1, 0};
    double z[3];
    bcdi_cross3(x, y, z);
    cr_expect(z[0] == 0 && z[1] == 0 && z[2] == 1);
    const double v[3] = {3, 4, 12};
    cr_expect_eq(bcdi_norm3(v), 13.0);
    cr_expect_eq(bcdi_dot3(v, v), 169.0);
    double w[3] = {0, 0, 0};
    cr_expect_eq(bcdi_normalise3(w), 0);
    double u[3] = {0, 3, 4};
    cr_expect_eq(bcdi_normalise3(u), 1);
    cr_expect_lt(fabs(u[1] - 0.6) + fabs(u[2] - 0.8), 1e-16);

    /* z = ẑ, hint (0, 1, 1): y = ŷ, x = y × z = x̂ */
    const double zhat[3] = {0, 0, 1}, hint[3] = {0, 1, 1}, parallel[3] = {0, 0, 2};
    double axes[3][3];
    bcdi_orthonormal_frame(zhat, hint, axes);
    const double expected[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(axes[i][j] - expected[i][j]), 1e-15);
    /* a hint ∥ z falls back to x̂: y = x̂, x = x̂ × ẑ = −ŷ */
    bcdi_orthonormal_frame(zhat, parallel, axes);
    const double fallback[3][3] = {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            cr_expect_lt(fabs(axes[i][j] - fallback[i][j]), 1e-15);
}

/* ---- Gaussian blur ---- */

/* σ² = 1/(2 ln 2): the weights exp(−k²/2σ²) are 2^(−k²) = 1, 1/2, 1/16, 1/512 for |k| = 0..3
 * (radius ceil(3σ) = 3), summing to T = 1090/512. */
static const double SIGMA_HALVING = 0.8493218002880191; /* 1/sqrt(2 ln 2) */

static void expect_line(const float *got, const double *numerators, double denominator,
                        const char *what)
{
    for (int i = 0; i < 4; ++i)
        cr_expect_lt(fabs(got[i] - numerators[i] / denominator), 1e-7,
                     "%s[%d] = %.8f, expected %.8f", what, i, got[i], numerators[i] / denominator);
}

Test(num, blur_edge_modes_on_an_impulse)
{
    const size_t shape[3] = {1, 1, 4};
    const double sigma[3] = {0.0, 0.0, SIGMA_HALVING};
    /* impulse at index 0; out[i] = Σ_k w_k x[i + k] / T, in units of 1/1090 (= 1/(512 T)) */
    const double zero[4] = {512, 256, 32, 1};       /* only k = −i reaches the impulse */
    const double clamp[4] = {801, 289, 33, 1};      /* every k <= −i reads the edge voxel */
    const double periodic[4] = {512, 257, 64, 257}; /* k ≡ −i (mod 4): 0; −1, 3; ±2; −3, 1 */
    const bcdi_edge_mode modes[3] = {BCDI_EDGE_ZERO, BCDI_EDGE_CLAMP, BCDI_EDGE_PERIODIC};
    const double *expected[3] = {zero, clamp, periodic};
    const char *names[3] = {"zero", "clamp", "periodic"};
    for (int m = 0; m < 3; ++m) {
        float x[4] = {1, 0, 0, 0};
        cr_assert_eq(bcdi_blur3(x, shape, sigma, modes[m]), BCDI_OK);
        expect_line(x, expected[m], 1090.0, names[m]);
    }
}

Test(num, blur_is_separable_over_the_three_axes)
{
    /* periodic, n = 2 per axis: p = (1 + 2/16, 2·1/2 + 2/512) / T = (576, 514) / 1090; the
     * blurred impulse at the origin is p_i p_j p_k */
    const size_t shape[3] = {2, 2, 2};
    const double sigma[3] = {SIGMA_HALVING, SIGMA_HALVING, SIGMA_HALVING};
    const double p[2] = {576.0 / 1090.0, 514.0 / 1090.0};
    float x[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(bcdi_blur3(x, shape, sigma, BCDI_EDGE_PERIODIC), BCDI_OK);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
            for (int k = 0; k < 2; ++k)
                cr_expect_lt(fabs(x[(i * 2 + j) * 2 + k] - p[i] * p[j] * p[k]), 1e-7);
}

Test(num, blur_skips_zero_sigma_and_rejects_bad_sigma)
{
    const size_t shape[3] = {1, 2, 3};
    float x[6] = {1, 2, 3, 4, 5, 6}, copy[6];
    memcpy(copy, x, sizeof x);
    const double none[3] = {0.0, 0.0, -1.0};
    cr_expect_eq(bcdi_blur3(x, shape, none, BCDI_EDGE_CLAMP), BCDI_OK);
    cr_expect_eq(memcmp(x, copy, sizeof x), 0, "sigma <= 0 leaves the data alone");
    /* clamp along the rows only (axis 1, n = 2): each column's mean is kept, a constant too */
    const double rows[3] = {0.0, SIGMA_HALVING, 0.0};
    cr_expect_eq(bcdi_blur3(x, shape, rows, BCDI_EDGE_CLAMP), BCDI_OK);
    for (int c = 0; c < 3; ++c)
        cr_expect_lt(fabs(x[c] + x[3 + c] - (copy[c] + copy[3 + c])), 1e-6);
    const double bad[3] = {NAN, 0.0, 0.0}, huge[3] = {0.0, INFINITY, 0.0};
    cr_expect_eq(bcdi_blur3(x, shape, bad, BCDI_EDGE_CLAMP), BCDI_ERR_INVALID_ARG);
    cr_expect_eq(bcdi_blur3(x, shape, huge, BCDI_EDGE_ZERO), BCDI_ERR_INVALID_ARG);
}

/* ---- neighbourhoods and labelling ---- */

Test(num, neighbours_in_order_and_clipped)
{
    const size_t box[3] = {2, 3, 4}, cube[3] = {3, 3, 3};
    size_t nb[6];
    cr_assert_eq(bcdi_neighbours6(box, 0, nb), 3);
    cr_expect(nb[0] == 12 && nb[1] == 4 && nb[2] == 1, "%zu %zu %zu", nb[0], nb[1], nb[2]);
    cr_assert_eq(bcdi_neighbours6(cube, 13, nb), 6); /* the centre: −/+ axis 0, 1, 2 */
    const size_t expected[6] = {4, 22, 10, 16, 12, 14};
    for (int k = 0; k < 6; ++k)
        cr_expect_eq(nb[k], expected[k]);
}

Test(num, components_growth_depth_and_erosion)
{
    const size_t plane[3] = {1, 3, 3};
    const uint8_t mask[9] = {1, 1, 0, 0, 0, 0, 0, 1, 1};
    int32_t labels[9] = {0};
    size_t queue[27];
    cr_expect_eq(bcdi_label_components(plane, mask, labels, 1, queue), 3);
    const int32_t two[9] = {1, 1, 0, 0, 0, 0, 0, 2, 2};
    cr_expect_eq(memcmp(labels, two, sizeof two), 0);
    /* already labelled voxels are kept; numbering goes on from next_label */
    int32_t preset[9] = {0, 7, 0, 0, 0, 0, 0, 0, 0};
    cr_expect_eq(bcdi_label_components(plane, mask, preset, 8, queue), 10);
    const int32_t kept[9] = {8, 7, 0, 0, 0, 0, 0, 9, 9};
    cr_expect_eq(memcmp(preset, kept, sizeof kept), 0);

    /* growth from both ends of a row: the middle voxel (equidistant) goes to the label queued
     * first; a hole in the mask stops the growth */
    const size_t row[3] = {1, 1, 7};
    const uint8_t full[7] = {1, 1, 1, 1, 1, 1, 1}, holed[7] = {1, 1, 0, 1, 1, 1, 1};
    int32_t grown[7] = {1, 0, 0, 0, 0, 0, 2};
    bcdi_grow_labels(row, full, grown, queue);
    const int32_t halves[7] = {1, 1, 1, 1, 2, 2, 2};
    cr_expect_eq(memcmp(grown, halves, sizeof halves), 0);
    int32_t blocked[7] = {1, 0, 0, 0, 0, 0, 2};
    bcdi_grow_labels(row, holed, blocked, queue);
    const int32_t stopped[7] = {1, 1, 0, 2, 2, 2, 2};
    cr_expect_eq(memcmp(blocked, stopped, sizeof stopped), 0);

    /* depth: distance to the nearest outside voxel; a box filled by `inside` is unreached */
    const uint8_t inside[7] = {0, 1, 1, 1, 1, 1, 0};
    int32_t depth[7];
    bcdi_city_block_depth(row, inside, depth, 99, queue);
    const int32_t tent[7] = {0, 1, 2, 3, 2, 1, 0};
    cr_expect_eq(memcmp(depth, tent, sizeof tent), 0);
    bcdi_city_block_depth(row, full, depth, 99, queue);
    for (int i = 0; i < 7; ++i)
        cr_expect_eq(depth[i], 99);

    /* erosion of a full 3×3×3 cube keeps only its centre; a missing face neighbour removes it */
    const size_t cube[3] = {3, 3, 3};
    uint8_t solid[27], out[27];
    memset(solid, 1, sizeof solid);
    bcdi_erode6(cube, solid, out);
    for (int v = 0; v < 27; ++v)
        cr_expect_eq(out[v], v == 13, "voxel %d", v);
    solid[14] = 0;
    bcdi_erode6(cube, solid, out);
    cr_expect_eq(out[13], 0);
}

Test(num, centre_of_mass_plain_and_masked)
{
    const size_t shape[3] = {1, 2, 3};
    const float weight[6] = {0, 1, 0, 0, 0, 3};
    const uint8_t first_row[6] = {1, 1, 1, 0, 0, 0};
    double com[3] = {-1, -1, -1};
    /* (1·(0,0,1) + 3·(0,1,2)) / 4 */
    cr_expect_eq(bcdi_centre_of_mass(weight, NULL, shape, com), 4.0);
    cr_expect(com[0] == 0.0 && com[1] == 0.75 && com[2] == 1.75, "%g %g %g", com[0], com[1],
              com[2]);
    cr_expect_eq(bcdi_centre_of_mass(weight, first_row, shape, com), 1.0);
    cr_expect(com[0] == 0.0 && com[1] == 0.0 && com[2] == 1.0);
    const float none[6] = {0};
    com[0] = 42.0;
    cr_expect_eq(bcdi_centre_of_mass(none, NULL, shape, com), 0.0);
    cr_expect_eq(com[0], 42.0, "left alone when there is no weight");
}

/* ---- plotting primitives ---- */

Test(num, round_numbers_and_tick_labels)
{
    cr_expect_eq(bcdi_nice_below(0.0042), 0.002);
    cr_expect_eq(bcdi_nice_below(730.0), 500.0);
    cr_expect_eq(bcdi_nice_below(1.0), 1.0);
    cr_expect_lt(fabs(bcdi_nice_above(2.38) - 2.5), 1e-15);
    cr_expect_lt(fabs(bcdi_nice_above(0.061) - 0.08), 1e-15);
    cr_expect_lt(fabs(bcdi_nice_above(8.2) - 10.0), 1e-15);
    cr_expect_eq(bcdi_nice_above(3.0), 3.0, "an exact step is kept");
    cr_expect_eq(bcdi_nice_above(0.0), 1.0);
    cr_expect_eq(bcdi_nice_above(NAN), 1.0);
    char text[32];
    bcdi_format_tick(-1e-17, 3, text, sizeof text);
    cr_expect_str_eq(text, "0");
    bcdi_format_tick(-2.3456, 3, text, sizeof text);
    cr_expect_str_eq(text, "-2.35");
    bcdi_format_tick(0.125, 6, text, sizeof text);
    cr_expect_str_eq(text, "0.125");
}

Test(num, colour_maps_and_drawing)
{
    uint8_t rgb[3];
    bcdi_colormap_grey(0.5, rgb);
    cr_expect(rgb[0] == 128 && rgb[1] == 128 && rgb[2] == 128); /* lround(127.5) */
    bcdi_colormap_grey(-3.0, rgb);
    cr_expect(rgb[0] == 0, "clamped");
    /* diverging: blue (0.23, 0.30, 0.75), near-white 0.87, red (0.71, 0.02, 0.15) × 255 */
    bcdi_colormap_diverging(0.0, rgb);
    cr_expect(rgb[0] == 59 && rgb[1] == 77 && rgb[2] == 191, "%d %d %d", rgb[0], rgb[1], rgb[2]);
    bcdi_colormap_diverging(0.5, rgb);
    cr_expect(rgb[0] == 222 && rgb[1] == 222 && rgb[2] == 222);
    bcdi_colormap_diverging(2.0, rgb);
    cr_expect(rgb[0] == 181 && rgb[1] == 5 && rgb[2] == 38);

    /* "Aµ": two 5-pixel cells with one blank column between, at scale 2 */
    cr_expect_eq(bcdi_text_width("A\xc2\xb5", 2), 22);
    cr_expect_eq(bcdi_text_width("", 1), 0);

    const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    bcdi_image img;
    cr_assert_eq(bcdi_image_create(&img, 8, 6, white), BCDI_OK);
#define PIXEL(x, y) (img.rgb[3 * ((size_t)(y)*img.width + (size_t)(x))])
    bcdi_image_frame(&img, 2, 2, 3, 2, black); /* border: x 1..5, y 1..4 */
    int inked = 0;
    for (size_t y = 0; y < 6; ++y)
        for (size_t x = 0; x < 8; ++x)
            inked += PIXEL(x, y) == 0;
    cr_expect_eq(inked, 2 * 5 + 2 * 2, "a 5 x 4 outline");
    cr_expect(PIXEL(1, 1) == 0 && PIXEL(5, 4) == 0 && PIXEL(2, 2) == 255);
    bcdi_image_free(&img);

    cr_assert_eq(bcdi_image_create(&img, 8, 6, white), BCDI_OK);
    bcdi_image_line(&img, 0, 0, 5, 5, 1, black); /* the diagonal, both ends */
    for (int k = 0; k <= 5; ++k)
        cr_expect_eq(PIXEL(k, k), 0);
    cr_expect_eq(PIXEL(6, 6 - 1), 255);
    bcdi_image_colour_bar(&img, 7, 0, 1, 6, bcdi_colormap_grey); /* top white, bottom black */
    cr_expect(PIXEL(7, 0) == 255 && PIXEL(7, 5) == 0 && PIXEL(7, 2) == 153, "%d", PIXEL(7, 2));
#undef PIXEL
    bcdi_image_free(&img);
}
