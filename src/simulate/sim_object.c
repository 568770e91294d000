/* SPDX-License-Identifier: BSD-3-Clause */
/* The true object on the detector-conjugate grid: shape, domains, dislocations, strain.
 * Frames (docs/simulate.md): voxel i sits at r = T·(i − N/2) in the lab frame (T = real_basis);
 * the crystal frame has z = Ĝ = Q̂ (the crystal is at the Bragg condition in the middle of the
 * rocking curve), y = the rocking axis made perpendicular to Ĝ, x = y × z. All lengths in Å. */
#include "bcdi/simulate.h"
#include "num/constants.h"
#include "num/mat3.h"
#include "philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define POISSON_RATIO 0.3

typedef struct line_model {
    double point[3];     /* Å, crystal frame */
    double dir[3];       /* unit line direction */
    double ex[3], ey[3]; /* local frame: ex along the edge part of b (or any ⟂ d̂) */
    double b_screw;      /* b·d̂, Å */
    double b_edge;       /* |b − (b·d̂)d̂|, Å */
} line_model;

typedef struct shape_model {
    const bcdi_simulate_params *p;
    double radius; /* R, Å */
    double normals[BCDI_SIM_MAX_FACETS][3];
} shape_model;

/* Signed distance (Å, negative inside) of crystal-frame point rc from the crystal surface;
 * exact for the box faces and facets, a first-order estimate for the ellipsoid. */
static double shape_distance(const shape_model *m, const double rc[3])
{
    const bcdi_simulate_params *p = m->p;
    double r = m->radius;
    switch (p->crystal) {
    case BCDI_SIM_POLYHEDRON: {
        double worst = -HUGE_VAL;
        for (size_t k = 0; k < p->facet_count; ++k) {
            double d = bcdi_dot3(m->normals[k], rc) - p->facets[k].distance * r;
            if (d > worst) worst = d;
        }
        return worst;
    }
    case BCDI_SIM_ELLIPSOID: {
        double s = 0.0, smallest = p->axes[0];
        for (int a = 0; a < 3; ++a) {
            double t = rc[a] / (p->axes[a] * r);
            s += t * t;
            if (p->axes[a] < smallest) smallest = p->axes[a];
        }
        return (sqrt(s) - 1.0) * smallest * r;
    }
    case BCDI_SIM_BOX:
    default: {
        double worst = -HUGE_VAL;
        for (int a = 0; a < 3; ++a) {
            double d = fabs(rc[a]) - p->axes[a] * r;
            if (d > worst) worst = d;
        }
        return worst;
    }
    }
}

/* Largest distance of the crystal surface from its centre, to bound domain-seed sampling. */
static double shape_extent(const shape_model *m)
{
    const bcdi_simulate_params *p = m->p;
    double biggest = 1.0;
    if (p->crystal == BCDI_SIM_POLYHEDRON) {
        for (size_t k = 0; k < p->facet_count; ++k)
            if (p->facets[k].distance > biggest) biggest = p->facets[k].distance;
        biggest *= 2.0; /* a vertex can lie further out than any facet plane */
    }
    return biggest * m->radius;
}

static void line_setup(const bcdi_sim_dislocation *in, line_model *out)
{
    for (int a = 0; a < 3; ++a) {
        out->point[a] = in->position_nm[a] * 10.0;
        out->dir[a] = in->direction[a];
    }
    bcdi_normalise3(out->dir);
    out->b_screw = bcdi_dot3(in->burgers_angstrom, out->dir);
    double edge[3];
    for (int a = 0; a < 3; ++a)
        edge[a] = in->burgers_angstrom[a] - out->b_screw * out->dir[a];
    out->b_edge = bcdi_norm3(edge);
    if (out->b_edge > 1e-12 * (fabs(out->b_screw) + 1.0)) {
        for (int a = 0; a < 3; ++a)
            out->ex[a] = edge[a] / out->b_edge;
    } else {
        /* pure screw: any direction ⟂ d̂ serves as θ = 0 */
        double trial[3] = {1.0, 0.0, 0.0};
        if (fabs(out->dir[0]) > 0.9) trial[0] = 0.0, trial[1] = 1.0;
        double along = bcdi_dot3(trial, out->dir);
        for (int a = 0; a < 3; ++a)
            out->ex[a] = trial[a] - along * out->dir[a];
        bcdi_normalise3(out->ex);
        out->b_edge = 0.0;
    }
    bcdi_cross3(out->dir, out->ex, out->ey);
}

/* Displacement (crystal frame, Å) of a straight line at rc, and the squared distance to it.
 * Screw: u = b_s θ/2π d̂. Edge (b_e along ex, isotropic, ν = 0.3; Hirth & Lothe eq. 3-45):
 *   u_x = b_e/2π [θ + xy / (2(1−ν) r²)]
 *   u_y = −b_e/2π [(1−2ν)/(4(1−ν)) ln(r²/R²) + (x² − y²)/(4(1−ν) r²)]
 * R (the crystal radius) only fixes the constant of the logarithm. */
static double line_displacement(const line_model *l, const double rc[3], double radius, double u[3])
{
    double rel[3] = {rc[0] - l->point[0], rc[1] - l->point[1], rc[2] - l->point[2]};
    double x = bcdi_dot3(rel, l->ex), y = bcdi_dot3(rel, l->ey);
    double r2 = x * x + y * y;
    double theta = atan2(y, x);
    if (r2 < 1e-8) r2 = 1e-8; /* on the line itself: finite, the density is ~0 there anyway */
    double nu = POISSON_RATIO;
    double screw = l->b_screw * theta / (2.0 * BCDI_PI);
    double ux = 0.0, uy = 0.0;
    if (l->b_edge > 0.0) {
        ux = l->b_edge / (2.0 * BCDI_PI) * (theta + x * y / (2.0 * (1.0 - nu) * r2));
        uy = -l->b_edge / (2.0 * BCDI_PI) *
             ((1.0 - 2.0 * nu) / (4.0 * (1.0 - nu)) * log(r2 / (radius * radius)) +
              (x * x - y * y) / (4.0 * (1.0 - nu) * r2));
    }
    for (int a = 0; a < 3; ++a)
        u[a] = screw * l->dir[a] + ux * l->ex[a] + uy * l->ey[a];
    return x * x + y * y;
}

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

void bcdi_simulate_object_free(bcdi_simulate_object *obj)
{
    if (!obj) return;
    free(obj->object);
    free(obj->amplitude);
    free(obj->displacement);
    free(obj->domain);
    free(obj->support);
    obj->object = NULL;
    obj->amplitude = NULL;
    obj->displacement = NULL;
    obj->domain = NULL;
    obj->support = NULL;
}

bcdi_status bcdi_simulate_make_object(const bcdi_simulate_params *p, const bcdi_geometry *g,
                                      bcdi_simulate_object *out)
{
    memset(out, 0, sizeof(*out));
    bcdi_status st = bcdi_simulate_validate(p);
    if (st != BCDI_OK) return st;
    for (int a = 0; a < 3; ++a)
        if (g->shape[a] != p->shape[a])
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "simulate: geometry computed for %zux%zux%zu, object is %zux%zux%zu",
                              g->shape[0], g->shape[1], g->shape[2], p->shape[0], p->shape[1],
                              p->shape[2]);
    const size_t n0 = p->shape[0], n1 = p->shape[1], n2 = p->shape[2];
    const size_t n = n0 * n1 * n2;
    out->shape[0] = n0;
    out->shape[1] = n1;
    out->shape[2] = n2;
    out->object = malloc(n * sizeof *out->object);
    out->amplitude = malloc(n * sizeof *out->amplitude);
    out->displacement = malloc(n * sizeof *out->displacement);
    out->domain = malloc(n);
    out->support = malloc(n);
    if (!out->object || !out->amplitude || !out->displacement || !out->domain || !out->support) {
        bcdi_simulate_object_free(out);
        return bcdi_error(BCDI_ERR_NOMEM, "simulate: object of %zu voxels", n);
    }

    /* real-space basis in Å and the crystal frame */
    double basis[3][3];
    for (int i = 0; i < 3; ++i)
        for (int a = 0; a < 3; ++a)
            basis[i][a] = g->real_basis[i][a] * 1e10;
    double z[3] = {g->q_bragg[0], g->q_bragg[1], g->q_bragg[2]};
    double q_norm = bcdi_norm3(z) * 1e-10; /* 1/Å */
    if (!bcdi_normalise3(z))
        return bcdi_simulate_object_free(out),
               bcdi_error(BCDI_ERR_INVALID_ARG, "simulate: Q is zero (2θ = 0)");
    /* a rocking axis ∥ G is unusable; the frame then takes x̂'s part ⟂ G */
    bcdi_orthonormal_frame(z, g->rocking_axis, out->crystal_axes);
    /* voxel i -> crystal frame: rc = C·T·(i − centre); fold C·T into one matrix */
    double ct[3][3];
    for (int c = 0; c < 3; ++c)
        for (int a = 0; a < 3; ++a)
            ct[c][a] = out->crystal_axes[c][0] * basis[0][a] +
                       out->crystal_axes[c][1] * basis[1][a] +
                       out->crystal_axes[c][2] * basis[2][a];

    double g_norm = 2.0 * BCDI_PI / p->d_spacing_angstrom; /* 1/Å */
    out->g_norm = g_norm * 1e10;
    /* a detector 2θ away from Bragg samples around Q, not G: the object carries exp(−i(Q−G)·r) */
    double off_bragg = q_norm - g_norm;
    double fov = HUGE_VAL, voxel_volume = 1.0;
    for (int a = 0; a < 3; ++a) {
        double step = g->voxel_size_m[a] * 1e10;
        if ((double)p->shape[a] * step < fov) fov = (double)p->shape[a] * step;
        voxel_volume *= step;
    }
    shape_model shape = {.p = p, .radius = fov / (2.0 * p->oversampling)};
    out->crystal_radius_m = shape.radius * 1e-10;
    for (size_t k = 0; k < p->facet_count && p->crystal == BCDI_SIM_POLYHEDRON; ++k) {
        for (int a = 0; a < 3; ++a)
            shape.normals[k][a] = p->facets[k].normal[a];
        bcdi_normalise3(shape.normals[k]);
    }
    const double edge_width = cbrt(voxel_volume); /* smooth the surface over ~1 voxel */

    /* domain seeds: uniform points inside the crystal, by rejection (Philox stream DOMAINS) */
    int domains = p->domains;
    double centres[BCDI_SIM_MAX_DOMAINS][3];
    double tilts[BCDI_SIM_MAX_DOMAINS][3];
    memset(centres, 0, sizeof centres);
    memset(tilts, 0, sizeof tilts);
    if (domains > 1) {
        double extent = shape_extent(&shape);
        double tilt = p->domain_tilt_deg * BCDI_PI / 180.0;
        for (int k = 0; k < domains; ++k) {
            int placed = 0;
            for (uint64_t attempt = 0; attempt < 100000 && !placed; ++attempt) {
                bcdi_u32x4 w =
                    bcdi_philox_at(p->seed, BCDI_SIM_STREAM_DOMAINS, ((uint64_t)k << 32) | attempt);
                double c[3];
                for (int a = 0; a < 3; ++a)
                    c[a] = (2.0 * (double)bcdi_u32_to_unit(w.v[a]) - 1.0) * extent;
                if (shape_distance(&shape, c) < -edge_width) {
                    memcpy(centres[k], c, sizeof c);
                    double angle = 2.0 * BCDI_PI * (double)bcdi_u32_to_unit(w.v[3]);
                    tilts[k][0] = tilt * cos(angle); /* rotation axis ⟂ G (crystal z) */
                    tilts[k][1] = tilt * sin(angle);
                    placed = 1;
                }
            }
            if (!placed) {
                bcdi_simulate_object_free(out);
                return bcdi_error(BCDI_ERR_INVALID_ARG,
                                  "domains: could not place domain %d inside the crystal", k + 1);
            }
        }
    }
    for (int k = 0; k < domains; ++k)
        for (int a = 0; a < 3; ++a)
            out->domain_centre_m[k][a] = centres[k][a] * 1e-10;

    line_model lines[BCDI_SIM_MAX_DISLOCATIONS];
    for (size_t k = 0; k < p->dislocation_count; ++k)
        line_setup(&p->dislocations[k], &lines[k]);
    const double core = p->core_radius * edge_width;
    const double gap_half = 0.5 * p->domain_gap * edge_width;
    const long c0 = (long)(n0 / 2), c1 = (long)(n1 / 2), c2 = (long)(n2 / 2);

#pragma omp parallel for schedule(static)
    for (long i0 = 0; i0 < (long)n0; ++i0) {
        for (size_t i1 = 0; i1 < n1; ++i1) {
            for (size_t i2 = 0; i2 < n2; ++i2) {
                size_t v = ((size_t)i0 * n1 + i1) * n2 + i2;
                double d[3] = {(double)(i0 - c0), (double)((long)i1 - c1), (double)((long)i2 - c2)};
                double rc[3];
                for (int c = 0; c < 3; ++c)
                    rc[c] = ct[c][0] * d[0] + ct[c][1] * d[1] + ct[c][2] * d[2];
                double s = clamp01(0.5 - shape_distance(&shape, rc) / edge_width);
                /* nearest seed = domain; distance to the nearest boundary for the gap */
                int label = 0;
                if (domains > 1) {
                    double best = HUGE_VAL;
                    for (int k = 0; k < domains; ++k) {
                        double e[3] = {rc[0] - centres[k][0], rc[1] - centres[k][1],
                                       rc[2] - centres[k][2]};
                        double dist2 = bcdi_dot3(e, e);
                        if (dist2 < best) best = dist2, label = k;
                    }
                    if (gap_half > 0.0 && s > 0.0) {
                        double boundary = HUGE_VAL;
                        for (int k = 0; k < domains; ++k) {
                            if (k == label) continue;
                            double sep[3], e[3];
                            for (int a = 0; a < 3; ++a) {
                                sep[a] = centres[k][a] - centres[label][a];
                                e[a] = rc[a] - centres[k][a];
                            }
                            double len = bcdi_norm3(sep);
                            double dist = (bcdi_dot3(e, e) - best) / (2.0 * len);
                            if (dist < boundary) boundary = dist;
                        }
                        s *= clamp01((boundary - gap_half) / edge_width + 0.5);
                    }
                }
                /* u·Ĝ = u_z in the crystal frame */
                double uz = p->strain * rc[2];
                if (domains > 1) {
                    double rel[3] = {rc[0] - centres[label][0], rc[1] - centres[label][1],
                                     rc[2] - centres[label][2]};
                    uz += tilts[label][0] * rel[1] - tilts[label][1] * rel[0];
                }
                for (size_t k = 0; k < p->dislocation_count; ++k) {
                    double u[3];
                    double r2 = line_displacement(&lines[k], rc, shape.radius, u);
                    uz += u[2];
                    if (core > 0.0) s *= 1.0 - exp(-r2 / (2.0 * core * core));
                }
                double phase = -g_norm * uz - off_bragg * rc[2];
                out->amplitude[v] = (float)s;
                out->displacement[v] = (float)uz;
                out->domain[v] = (uint8_t)label;
                out->object[v].re = (float)(s * cos(phase));
                out->object[v].im = (float)(s * sin(phase));
            }
        }
    }
    float peak = 0.0f;
    for (size_t v = 0; v < n; ++v)
        if (out->amplitude[v] > peak) peak = out->amplitude[v];
    if (!(peak > 0.0f)) {
        bcdi_simulate_object_free(out);
        return bcdi_error(
            BCDI_ERR_INVALID_ARG,
            "simulate: the crystal holds no voxel (oversampling or facets too large?)");
    }
    for (size_t v = 0; v < n; ++v)
        out->support[v] = out->amplitude[v] > 0.5f * peak;
    return BCDI_OK;
}
