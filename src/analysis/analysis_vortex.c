/* SPDX-License-Identifier: BSD-3-Clause */
/* Dislocations as phase vortices (docs/physics.md §5).
 *
 * Faces: face (a, v) is the unit square normal to axis a with corners v, v+e_b, v+e_b+e_c,
 * v+e_c ((a, b, c) cyclic, so the corner order turns positively about +e_a). Its winding
 * n = Σ W(Δφ)/2π around those corners is an integer. The gate works on cells: a cell is inside
 * when the lightly smoothed density clears the threshold at all eight corners (the raw density
 * dips to 0 on a core, the smoothed one does not), and a face counts when a cell on either side
 * of it is inside. So every face of an inside cell counts, flux is
 * conserved in every inside cell, and lines can end only on the gate's surface.
 *
 * Cells: cell c is the cube with min corner c. Face (a, v) separates cells v − e_a and v; a
 * face with n > 0 carries the line from v − e_a into v. The sum of the windings leaving a cell
 * is exactly zero (each edge difference appears twice with opposite signs), so a line entering
 * a cell leaves it through another face: tracing follows that flux cell to cell, and a line
 * can end only where gated faces stop (the crystal's surface) or close on itself. */
#include "analysis_internal.h"

#include "num/blur.h"
#include "num/label.h"
#include "num/percentile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vortex_grid {
    size_t n[3];
    size_t stride[3];
    const uint8_t *cell_inside; /* cell (min corner) inside the gate */
    int8_t *winding[3];         /* per face family */
    int8_t *remaining[3];       /* |winding| not yet traced */
} vortex_grid;

typedef struct point_list {
    double *xyz; /* index-space coordinates of face centres */
    size_t count, capacity;
} point_list;

static int push_point(point_list *l, const double p[3])
{
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? 2 * l->capacity : 64;
        double *bigger = realloc(l->xyz, cap * 3 * sizeof *bigger);
        if (!bigger) return 0;
        l->xyz = bigger;
        l->capacity = cap;
    }
    memcpy(l->xyz + 3 * l->count, p, 3 * sizeof *p);
    l->count++;
    return 1;
}

static void face_centre(const size_t v[3], int a, double out[3])
{
    for (int k = 0; k < 3; ++k)
        out[k] = (double)v[k] + (k == a ? 0.0 : 0.5);
}

/* Find a face of cell c (all indices valid) with flux leaving (dir = +1) or entering
 * (dir = −1) and something left to trace. Returns the face family or −1; *face gets its voxel,
 * *next the neighbouring cell through it. */
static int find_face(const vortex_grid *g, const long c[3], int dir, size_t face[3], long next[3])
{
    for (int a = 0; a < 3; ++a) {
        for (int side = 0; side < 2; ++side) {
            /* side 0: lower face (a, c), outward flux −w; side 1: upper face (a, c+e_a), +w */
            long fv[3] = {c[0], c[1], c[2]};
            if (side) fv[a] += 1;
            if (fv[a] < 0 || fv[a] >= (long)g->n[a]) continue;
            size_t v = (size_t)fv[0] * g->stride[0] + (size_t)fv[1] * g->stride[1] + (size_t)fv[2];
            int w = g->winding[a][v];
            if (w == 0 || g->remaining[a][v] == 0) continue;
            int outward = side ? w : -w;
            if (outward * dir <= 0) continue;
            g->remaining[a][v]--;
            for (int k = 0; k < 3; ++k)
                face[k] = (size_t)fv[k], next[k] = c[k];
            next[a] += side ? 1 : -1;
            return a;
        }
    }
    return -1;
}

static int cell_valid(const vortex_grid *g, const long c[3])
{
    for (int a = 0; a < 3; ++a)
        if (c[a] < 0 || c[a] + 1 >= (long)g->n[a]) return 0;
    return g->cell_inside[(size_t)c[0] * g->stride[0] + (size_t)c[1] * g->stride[1] + (size_t)c[2]];
}

/* Follow the flux from cell c in direction dir, appending face centres. Returns the last cell. */
static int walk(const vortex_grid *g, long c[3], int dir, point_list *pts)
{
    size_t face[3];
    long next[3];
    while (cell_valid(g, c)) {
        int a = find_face(g, c, dir, face, next);
        if (a < 0) break;
        double p[3];
        face_centre(face, a, p);
        if (!push_point(pts, p)) return 0;
        memcpy(c, next, sizeof next);
    }
    return 1;
}

/* Principal axis of a point cloud (power iteration on the covariance). */
static void principal_axis(const double *pts, size_t count, double centroid[3], double axis[3])
{
    double cov[3][3] = {{0}};
    centroid[0] = centroid[1] = centroid[2] = 0.0;
    for (size_t i = 0; i < count; ++i)
        for (int a = 0; a < 3; ++a)
            centroid[a] += pts[3 * i + a] / (double)count;
    for (size_t i = 0; i < count; ++i)
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b)
                cov[a][b] += (pts[3 * i + a] - centroid[a]) * (pts[3 * i + b] - centroid[b]);
    double v[3] = {1.0, 0.7, 0.3};
    if (count >= 2) {
        for (int a = 0; a < 3; ++a)
            v[a] = pts[3 * (count - 1) + a] - pts[a];
        if (bcdi_dot3(v, v) == 0.0) v[0] = 1.0, v[1] = 0.7, v[2] = 0.3;
    }
    for (int it = 0; it < 100; ++it) {
        double w[3];
        for (int a = 0; a < 3; ++a)
            w[a] = cov[a][0] * v[0] + cov[a][1] * v[1] + cov[a][2] * v[2];
        double len = bcdi_norm3(w);
        if (!(len > 0.0)) break;
        for (int a = 0; a < 3; ++a)
            v[a] = w[a] / len;
    }
    double len = bcdi_norm3(v);
    for (int a = 0; a < 3; ++a)
        axis[a] = v[a] / len;
}

/* Length of the polyline after a (up to) 5-point moving average: face-centre staircases
 * overstate the length of oblique lines by up to ~40%. */
static double smoothed_length(const double *pts, size_t count, int closed)
{
    if (count < 2) return 0.0;
    double length = 0.0, prev[3] = {0, 0, 0};
    for (size_t i = 0; i < count; ++i) {
        double s[3] = {0, 0, 0};
        int used = 0;
        /* symmetric window, narrowed near the ends of an open line so its ends stay put */
        long half = 2;
        if (!closed) {
            if ((long)i < half) half = (long)i;
            if ((long)(count - 1 - i) < half) half = (long)(count - 1 - i);
        }
        for (long k = -half; k <= half; ++k) {
            long j = (long)i + k;
            if (closed)
                j = ((j % (long)count) + (long)count) % (long)count;
            else if (j < 0 || j >= (long)count)
                continue;
            for (int a = 0; a < 3; ++a)
                s[a] += pts[3 * j + a];
            ++used;
        }
        for (int a = 0; a < 3; ++a)
            s[a] /= used;
        if (i > 0) {
            double d[3] = {s[0] - prev[0], s[1] - prev[1], s[2] - prev[2]};
            length += bcdi_norm3(d);
        }
        memcpy(prev, s, sizeof s);
    }
    return length;
}

void bcdi_dislocation_lines_free(bcdi_dislocation_line *lines, size_t count)
{
    if (!lines) return;
    for (size_t i = 0; i < count; ++i)
        free(lines[i].points_nm);
    free(lines);
}

/* Ring fit (docs/physics.md §5): the phase on a ring of radius `ring` voxels ⟂ t around the line's
 * centroid, fitted with nθ + a1 cos θ + b1 sin θ + a2 cos 2θ + b2 sin 2θ + c on the unwrapped
 * samples. Leaves NaN when the ring leaves the gate. */
static void ring_fit(const bcdi_analysis_frame *f, const size_t shape[3], const size_t origin[3],
                     const size_t input_shape[3], const bcdi_cf *object, const uint8_t *gate,
                     bcdi_dislocation_line *line)
{
    line->ring_n = NAN;
    line->ring_harmonic2 = NAN;
    double inv[3][3];
    if (!bcdi_mat3_inverse(f->basis_m, inv)) return;
    double e1[3], e2[3], trial[3] = {1, 0, 0};
    if (fabs(line->tangent[0]) > 0.8) trial[0] = 0, trial[1] = 1;
    bcdi_cross3(line->tangent, trial, e1);
    double l1 = sqrt(bcdi_dot3(e1, e1));
    for (int a = 0; a < 3; ++a)
        e1[a] /= l1;
    bcdi_cross3(line->tangent, e1, e2);
    /* ring radius: 3 native voxels (geometric mean size) */
    double voxel_nm = 1e9 * cbrt(fabs(bcdi_mat3_det(f->basis_m)));
    double radius_nm = 3.0 * voxel_nm;
    enum { SAMPLES = 32 };
    double theta[SAMPLES], phase[SAMPLES];
    double previous = 0.0;
    for (int s = 0; s < SAMPLES; ++s) {
        double th = 2.0 * BCDI_PI * s / SAMPLES;
        double r_m[3];
        for (int a = 0; a < 3; ++a)
            r_m[a] =
                1e-9 * (line->centroid_nm[a] + radius_nm * (cos(th) * e1[a] + sin(th) * e2[a]));
        long idx[3];
        double i[3];
        bcdi_mat3_apply(inv, r_m, i);
        for (int a = 0; a < 3; ++a) {
            idx[a] = lround(i[a] + (double)(input_shape[a] / 2)) - (long)origin[a];
            if (idx[a] < 0 || idx[a] >= (long)shape[a]) return;
        }
        size_t v = ((size_t)idx[0] * shape[1] + (size_t)idx[1]) * shape[2] + (size_t)idx[2];
        if (!gate[v]) return;
        double ph = atan2(object[v].im, object[v].re);
        if (s > 0) ph = previous + ana_wrap(ph - previous);
        theta[s] = th;
        phase[s] = ph;
        previous = ph;
    }
    /* close the ring: the last-to-first step fixes n; fit the rest by least squares */
    double wind = ana_wrap(phase[0] - previous) + (previous - phase[0]);
    double n = wind / (2.0 * BCDI_PI);
    /* the samples unwrapped along the ring carry nθ; remove it and fit the harmonics */
    double a2 = 0.0, b2 = 0.0;
    for (int s = 0; s < SAMPLES; ++s) {
        double rest = phase[s] - n * theta[s];
        a2 += rest * cos(2.0 * theta[s]) * 2.0 / SAMPLES;
        b2 += rest * sin(2.0 * theta[s]) * 2.0 / SAMPLES;
    }
    line->ring_n = n;
    line->ring_harmonic2 = sqrt(a2 * a2 + b2 * b2);
}

/* ---- the search, step by step ---- */

/* Working arrays of one search (all of the crop's size). */
typedef struct vortex_search {
    vortex_grid grid;
    bcdi_cf *field;       /* the object, its exact zeros given a phase (step 1) */
    float *smooth;        /* the density blurred for the gate (step 2) */
    float reference;      /* the gate's reference: p99 of smooth over the support */
    uint8_t *cell_inside; /* cells inside the gate (step 2) */
    int32_t *depth;       /* city-block depth inside the gate (step 3) */
} vortex_search;

static void search_free(vortex_search *s)
{
    free(s->field);
    free(s->smooth);
    free(s->cell_inside);
    free(s->depth);
    for (int a = 0; a < 3; ++a) {
        free(s->grid.winding[a]);
        free(s->grid.remaining[a]);
    }
}

static bcdi_status search_alloc(vortex_search *s, const size_t shape[3])
{
    const size_t n = shape[0] * shape[1] * shape[2];
    memset(s, 0, sizeof *s);
    s->grid = (vortex_grid){.n = {shape[0], shape[1], shape[2]},
                            .stride = {shape[1] * shape[2], shape[2], 1}};
    s->field = malloc(n * sizeof *s->field);
    s->smooth = malloc(n * sizeof *s->smooth);
    s->cell_inside = malloc(n);
    s->depth = malloc(n * sizeof *s->depth);
    s->grid.cell_inside = s->cell_inside;
    int ok = s->field && s->smooth && s->cell_inside && s->depth;
    for (int a = 0; a < 3; ++a) {
        s->grid.winding[a] = calloc(n, 1);
        s->grid.remaining[a] = calloc(n, 1);
        ok = ok && s->grid.winding[a] && s->grid.remaining[a];
    }
    if (ok) return BCDI_OK;
    search_free(s);
    return bcdi_error(BCDI_ERR_NOMEM, "dislocations: %zu voxels", n);
}

/* Step 1. Exact zeros have no phase (a synthetic core through a voxel centre, or the outside of
 * a phasing support at the crystal's rim). Each one next to non-zero voxels takes a tiny
 * amplitude with the phase of its neighbours' mean phasor, so the vortex next to it is decided
 * by the data around it; zeros with no non-zero neighbour keep their cells out. */
static void phase_the_zeros(const size_t shape[3], const bcdi_cf *object, bcdi_cf *field)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    float amp_peak = 0.0f;
    for (size_t v = 0; v < n; ++v) {
        float a = (float)ana_abs(object[v]);
        if (a > amp_peak) amp_peak = a;
    }
    const float tiny = 1e-6f * amp_peak;
    memcpy(field, object, n * sizeof *field);
    for (size_t v = 0; v < n; ++v) {
        if (object[v].re != 0.0f || object[v].im != 0.0f) continue;
        size_t nb[6];
        int count = bcdi_neighbours6(shape, v, nb);
        double re = 0.0, im = 0.0;
        for (int k = 0; k < count; ++k) {
            bcdi_cf w = object[nb[k]];
            double m = ana_abs(w);
            if (m > 0.0) re += w.re / m, im += w.im / m;
        }
        double m = hypot(re, im);
        if (m > 0.0) field[v] = (bcdi_cf){(float)(tiny * re / m), (float)(tiny * im / m)};
    }
}

/* Step 2. The gate: the density blurred enough to fill a one-voxel core dip, above a fraction of
 * a reference; a cell is inside when all eight corners are in the gate and carry a phase. The
 * reference is the support's: the 99th percentile of the blurred density over the support
 * (NULL: over every voxel above BCDI_ANALYSIS_REFERENCE_FLOOR of its maximum), so that a hot
 * spot of a few voxels does not lift the gate off the crystal. */
static bcdi_status gate_cells(const bcdi_analysis_params *p, const size_t shape[3],
                              const float *density, const uint8_t *support, vortex_search *s,
                              uint8_t *gate)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    const size_t *stride = s->grid.stride;
    memcpy(s->smooth, density, n * sizeof *s->smooth);
    const double sigma[3] = {p->vortex_smoothing, p->vortex_smoothing, p->vortex_smoothing};
    /* clamped edges: a crystal is not periodic */
    bcdi_status st = bcdi_blur3(s->smooth, shape, sigma, BCDI_EDGE_CLAMP);
    if (st != BCDI_OK) return st;
    float peak = 0.0f;
    for (size_t v = 0; v < n; ++v)
        if (s->smooth[v] > peak) peak = s->smooth[v];
    /* the region the reference is taken over: the gate array serves as its mask */
    for (size_t v = 0; v < n; ++v)
        gate[v] = support ? support[v] != 0 : s->smooth[v] > BCDI_ANALYSIS_REFERENCE_FLOOR * peak;
    float *sorted;
    size_t region;
    if ((st = bcdi_sorted_masked(s->smooth, gate, n, &sorted, &region)) != BCDI_OK) return st;
    double reference =
        region ? bcdi_percentile_sorted(sorted, region, BCDI_ANALYSIS_REFERENCE_PERCENTILE) : 0.0;
    free(sorted);
    s->reference = reference > 0.0 ? (float)reference : peak;
    for (size_t v = 0; v < n; ++v)
        gate[v] = s->reference > 0.0f && s->smooth[v] > p->vortex_threshold * s->reference;
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t v = i0 * stride[0] + i1 * stride[1] + i2;
                s->cell_inside[v] = 0;
                if (i0 + 1 >= shape[0] || i1 + 1 >= shape[1] || i2 + 1 >= shape[2]) continue;
                int inside = s->reference > 0.0f;
                for (int corner = 0; corner < 8 && inside; ++corner) {
                    size_t w = v + ((corner & 1) ? stride[0] : 0) + ((corner & 2) ? stride[1] : 0) +
                               ((corner & 4) ? 1 : 0);
                    inside = gate[w] && (s->field[w].re != 0.0f || s->field[w].im != 0.0f);
                }
                s->cell_inside[v] = (uint8_t)inside;
            }
    return BCDI_OK;
}

/* Step 3. Depth: city-block distance (voxels) from the nearest voxel outside the gate; a gate
 * that fills the box counts as deep everywhere. */
static bcdi_status gate_depth(const size_t shape[3], const uint8_t *gate, int32_t *depth)
{
    size_t *queue = malloc(shape[0] * shape[1] * shape[2] * sizeof *queue);
    if (!queue) return bcdi_error(BCDI_ERR_NOMEM, "dislocations: depth map");
    bcdi_city_block_depth(shape, gate, depth, (int32_t)(shape[0] + shape[1] + shape[2]), queue);
    free(queue);
    return BCDI_OK;
}

/* Step 4. The winding of every face that bounds an inside cell; returns how many are non-zero. */
static size_t face_windings(const size_t shape[3], const bcdi_cf *field, vortex_grid *g)
{
    size_t faces = 0;
    for (int a = 0; a < 3; ++a) {
        int b = (a + 1) % 3, c = (a + 2) % 3;
        const size_t sb = g->stride[b], sc = g->stride[c];
#pragma omp parallel for reduction(+ : faces) schedule(static)
        for (long i0 = 0; i0 < (long)shape[0]; ++i0)
            for (size_t i1 = 0; i1 < shape[1]; ++i1)
                for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                    size_t idx[3] = {(size_t)i0, i1, i2};
                    if (idx[b] + 1 >= shape[b] || idx[c] + 1 >= shape[c]) continue;
                    size_t v0 = (size_t)i0 * g->stride[0] + i1 * g->stride[1] + i2;
                    size_t corner[4] = {v0, v0 + sb, v0 + sb + sc, v0 + sc};
                    int upper = idx[a] + 1 < shape[a] && g->cell_inside[v0];
                    int lower = idx[a] > 0 && g->cell_inside[v0 - g->stride[a]];
                    if (!upper && !lower) continue;
                    double sum = 0.0;
                    for (int k = 0; k < 4; ++k)
                        sum += ana_phase_diff(field[corner[(k + 1) % 4]], field[corner[k]]);
                    long w = lround(sum / (2.0 * BCDI_PI));
                    if (w == 0) continue;
                    g->winding[a][v0] = (int8_t)w;
                    g->remaining[a][v0] = (int8_t)labs(w);
                    ++faces;
                }
    }
    return faces;
}

/* Step 5. Vortex density: line passages per cell (Σ|n| over its six faces / 2). */
static void vortex_density_map(const size_t shape[3], const vortex_grid *g, float *out)
{
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t v = i0 * g->stride[0] + i1 * g->stride[1] + i2;
                size_t idx[3] = {i0, i1, i2};
                double total = 0.0;
                for (int a = 0; a < 3; ++a) {
                    total += abs(g->winding[a][v]);
                    if (idx[a] + 1 < shape[a]) total += abs(g->winding[a][v + g->stride[a]]);
                }
                out[v] = (float)(0.5 * total);
            }
}

/* Step 6a. The line through face (a0, v), which has flux left to trace: backward first
 * (collected reversed), then the start face, then forward. *closed: the two ends met.
 * Returns 0 on no memory. */
static int trace_line(vortex_grid *g, int a0, size_t v, point_list *pts, int *closed)
{
    const int w = g->winding[a0][v];
    size_t fv[3] = {v / g->stride[0], (v / g->stride[1]) % g->n[1], v % g->n[2]};
    g->remaining[a0][v]--;
    pts->count = 0;
    double p0[3];
    face_centre(fv, a0, p0);
    long back[3] = {(long)fv[0], (long)fv[1], (long)fv[2]};
    long fwd[3] = {(long)fv[0], (long)fv[1], (long)fv[2]};
    if (w > 0)
        back[a0] -= 1;
    else
        fwd[a0] -= 1;
    if (!walk(g, back, -1, pts)) return 0;
    for (size_t i = 0, j = pts->count ? pts->count - 1 : 0; i < j; ++i, --j)
        for (int k = 0; k < 3; ++k) {
            double t = pts->xyz[3 * i + k];
            pts->xyz[3 * i + k] = pts->xyz[3 * j + k];
            pts->xyz[3 * j + k] = t;
        }
    if (!push_point(pts, p0) || !walk(g, fwd, +1, pts)) return 0;
    *closed = fwd[0] == back[0] && fwd[1] == back[1] && fwd[2] == back[2] && pts->count > 2;
    return 1;
}

/* Step 6b. Mean smoothed density (relative to the gate's reference) and deepest gate depth along
 * the line: the voxels around each face centre (four; the on-grid axis contributes one layer). */
static void line_profile(const size_t shape[3], const vortex_search *s, const point_list *pts,
                         bcdi_dislocation_line *line)
{
    const size_t *stride = s->grid.stride;
    double along = 0.0;
    int32_t deepest = 0;
    for (size_t i = 0; i < pts->count; ++i) {
        double acc = 0.0;
        int used = 0;
        for (int corner = 0; corner < 8; ++corner) {
            size_t idx[3];
            int ok = 1;
            for (int k = 0; k < 3 && ok; ++k) {
                double c = pts->xyz[3 * i + k];
                double lo = floor(c);
                idx[k] = (size_t)(c == lo ? lo : lo + ((corner >> k) & 1));
                if (c == lo && ((corner >> k) & 1)) ok = 0; /* on-grid axis: one layer */
                if (idx[k] >= shape[k]) ok = 0;
            }
            if (!ok) continue;
            size_t w = idx[0] * stride[0] + idx[1] * stride[1] + idx[2];
            acc += s->smooth[w];
            if (s->depth[w] > deepest) deepest = s->depth[w];
            ++used;
        }
        along += used ? acc / used : 0.0;
    }
    line->mean_density =
        pts->count && s->reference > 0.0f ? along / (double)pts->count / s->reference : 0.0;
    line->depth_voxels = (double)deepest;
}

/* Step 6c. Tangent, signed winding, angle to G and character. Points run along the flux, about
 * which the circulation is +2π|n| in index space; the lab sees it mirrored when det T < 0
 * (orientation −1). */
static void classify_line(const bcdi_analysis_params *p, const bcdi_analysis_frame *frame,
                          double orientation, int face_winding, bcdi_dislocation_line *line)
{
    const size_t count = line->point_count;
    principal_axis(line->points_nm, count, line->centroid_nm, line->tangent);
    double travel[3];
    for (int k = 0; k < 3; ++k)
        travel[k] = line->points_nm[3 * (count - 1) + k] - line->points_nm[k];
    double sign = bcdi_dot3(travel, line->tangent) < 0.0 ? -1.0 : 1.0;
    for (int k = 0; k < 3; ++k)
        line->tangent[k] *= sign;
    int winding = (int)(orientation * abs(face_winding));
    /* report t with t·Ĝ >= 0; nearly ⟂ G (|t·Ĝ| < sin 10°) the largest lab component of t is
     * made positive instead, so the sign does not flip on noise */
    double tg = bcdi_dot3(line->tangent, frame->g_hat);
    int flip;
    if (fabs(tg) >= sin(10.0 * BCDI_PI / 180.0)) {
        flip = tg < 0.0;
    } else {
        int big = 0;
        for (int k = 1; k < 3; ++k)
            if (fabs(line->tangent[k]) > fabs(line->tangent[big])) big = k;
        flip = line->tangent[big] < 0.0;
    }
    if (flip) {
        for (int k = 0; k < 3; ++k)
            line->tangent[k] = -line->tangent[k];
        winding = -winding;
    }
    line->winding = winding;
    double c = fabs(bcdi_dot3(line->tangent, frame->g_hat));
    line->angle_to_g_deg = acos(c > 1.0 ? 1.0 : c) * 180.0 / BCDI_PI;
    line->character = line->angle_to_g_deg < p->screw_angle_deg  ? BCDI_LINE_SCREW
                      : line->angle_to_g_deg > p->edge_angle_deg ? BCDI_LINE_EDGE
                                                                 : BCDI_LINE_MIXED;
}

typedef struct line_table {
    bcdi_dislocation_line *lines;
    size_t count, capacity;
} line_table;

static int append_line(line_table *t, const bcdi_dislocation_line *line)
{
    if (t->count == t->capacity) {
        size_t cap = t->capacity ? 2 * t->capacity : 8;
        bcdi_dislocation_line *bigger = realloc(t->lines, cap * sizeof *bigger);
        if (!bigger) return 0;
        t->lines = bigger;
        t->capacity = cap;
    }
    t->lines[t->count++] = *line;
    return 1;
}

/* Step 6. Every line, face family by face family in memory order: trace, move to lab nm,
 * profile, drop the short and shallow ones, classify, fit the ring. */
static bcdi_status trace_lines(const bcdi_analysis_params *p, const bcdi_analysis_frame *frame,
                               const size_t shape[3], const size_t origin[3],
                               const size_t input_shape[3], const bcdi_cf *object,
                               const uint8_t *gate, vortex_search *s, line_table *out,
                               size_t *dropped)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    const double det = bcdi_mat3_det(frame->basis_m);
    const double voxel_nm = 1e9 * cbrt(fabs(det));
    const double orientation = det < 0.0 ? -1.0 : 1.0; /* index space → lab handedness */
    point_list pts = {0};
    bcdi_status st = BCDI_OK;
    for (int a0 = 0; a0 < 3 && st == BCDI_OK; ++a0) {
        for (size_t v = 0; v < n; ++v) {
            if (s->grid.remaining[a0][v] == 0) continue;
            const int w = s->grid.winding[a0][v];
            int closed = 0;
            if (!trace_line(&s->grid, a0, v, &pts, &closed)) {
                st = bcdi_error(BCDI_ERR_NOMEM, "dislocations: tracing");
                break;
            }
            bcdi_dislocation_line line;
            memset(&line, 0, sizeof line);
            line.point_count = pts.count;
            line.points_nm = malloc(pts.count * 3 * sizeof *line.points_nm);
            if (!line.points_nm) {
                st = bcdi_error(BCDI_ERR_NOMEM, "dislocations: line points");
                break;
            }
            for (size_t i = 0; i < pts.count; ++i) {
                double idx[3];
                for (int k = 0; k < 3; ++k)
                    idx[k] = pts.xyz[3 * i + k] + (double)origin[k];
                ana_index_to_nm(frame, idx, input_shape, line.points_nm + 3 * i);
            }
            line_profile(shape, s, &pts, &line);
            line.closed = closed;
            line.length_nm = smoothed_length(line.points_nm, pts.count, closed);
            if (line.length_nm < p->min_line_voxels * voxel_nm || pts.count < 2 ||
                line.depth_voxels < p->min_line_depth) {
                free(line.points_nm);
                ++*dropped;
                continue;
            }
            classify_line(p, frame, orientation, w, &line);
            ring_fit(frame, shape, origin, input_shape, object, gate, &line);
            if (!append_line(out, &line)) {
                free(line.points_nm);
                st = bcdi_error(BCDI_ERR_NOMEM, "dislocations: line table");
                break;
            }
        }
    }
    free(pts.xyz);
    return st;
}

bcdi_status bcdi_analysis_dislocations(const bcdi_analysis_params *p,
                                       const bcdi_analysis_frame *frame, const size_t shape[3],
                                       const size_t origin[3], const size_t input_shape[3],
                                       const bcdi_cf *object, const float *density,
                                       const uint8_t *support, uint8_t *gate, float *vortex_density,
                                       bcdi_dislocation_line **lines_out, size_t *line_count,
                                       size_t *dropped, size_t *vortex_faces)
{
    *lines_out = NULL;
    *line_count = 0;
    *dropped = 0;
    *vortex_faces = 0;
    vortex_search s;
    bcdi_status st = search_alloc(&s, shape);
    if (st != BCDI_OK) return st;
    line_table table = {0};
    phase_the_zeros(shape, object, s.field);
    st = gate_cells(p, shape, density, support, &s, gate);
    if (st == BCDI_OK) st = gate_depth(shape, gate, s.depth);
    if (st == BCDI_OK) {
        *vortex_faces = face_windings(shape, s.field, &s.grid);
        vortex_density_map(shape, &s.grid, vortex_density);
    }
    if (st == BCDI_OK && *vortex_faces > 0)
        st = trace_lines(p, frame, shape, origin, input_shape, object, gate, &s, &table, dropped);
    search_free(&s);
    if (st != BCDI_OK) {
        bcdi_dislocation_lines_free(table.lines, table.count);
        return st;
    }
    *lines_out = table.lines;
    *line_count = table.count;
    return BCDI_OK;
}
