/* SPDX-License-Identifier: BSD-3-Clause */
/* Orthogonalisation: the complex field (never the wrapped phase) is interpolated trilinearly
 * from the sheared detector-conjugate grid onto an orthonormal grid in the lab or crystal
 * frame; phase, displacement and strain are then recomputed on the new grid. */
#include "analysis_internal.h"

#include "bcdi/log.h"
#include "core/memory.h"
#include "num/label.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORTHO_MAX_VOXELS ((size_t)512 * 512 * 512)

static void frame_axes(const bcdi_analysis_params *p, const bcdi_analysis_frame *f,
                       double axes[3][3])
{
    memset(axes, 0, 9 * sizeof(double));
    if (p->frame == BCDI_ORTHO_LAB) {
        axes[0][0] = axes[1][1] = axes[2][2] = 1.0;
        return;
    }
    /* the crystal frame as the simulator builds it: z = Ĝ, y = rocking axis ⟂ Ĝ, x = y × z */
    bcdi_orthonormal_frame(f->g_hat, f->rocking_axis, axes);
}

/* Trilinear interpolation of the complex field at fractional index (outside: 0); *inside gets
 * the interpolated support fraction. */
static bcdi_cf interpolate(const size_t shape[3], const bcdi_cf *object, const uint8_t *support,
                           const double idx[3], double *inside)
{
    bcdi_cf out = {0.0f, 0.0f};
    long base[3];
    double frac[3];
    *inside = 0.0;
    for (int a = 0; a < 3; ++a) {
        if (!(idx[a] >= 0.0) || idx[a] > (double)(shape[a] - 1)) return out;
        base[a] = (long)floor(idx[a]);
        if (base[a] >= (long)shape[a] - 1) base[a] = (long)shape[a] - 2;
        if (base[a] < 0) base[a] = 0;
        frac[a] = idx[a] - (double)base[a];
    }
    double re = 0.0, im = 0.0, in = 0.0;
    for (int corner = 0; corner < 8; ++corner) {
        double w = 1.0;
        size_t j[3];
        for (int a = 0; a < 3; ++a) {
            int up = (corner >> a) & 1;
            if (shape[a] == 1) up = 0;
            j[a] = (size_t)base[a] + (size_t)up;
            w *= up ? frac[a] : 1.0 - frac[a];
        }
        if (w == 0.0) continue;
        size_t v = (j[0] * shape[1] + j[1]) * shape[2] + j[2];
        re += w * object[v].re;
        im += w * object[v].im;
        in += support[v] ? w : 0.0;
    }
    *inside = in;
    out.re = (float)re;
    out.im = (float)im;
    return out;
}

/* 3D unwrapping for display: breadth-first from the densest support voxel, adding wrapped
 * neighbour differences. Path dependent around vortices (where no unwrapped phase exists). */
static bcdi_status unwrap_phase(const size_t shape[3], const bcdi_cf *field, const uint8_t *support,
                                const float *density, float *out)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    size_t *queue = malloc(n * sizeof *queue);
    uint8_t *seen = calloc(n, 1);
    memset(out, 0, n * sizeof *out);
    if (!queue || !seen) {
        free(queue);
        free(seen);
        return bcdi_error(BCDI_ERR_NOMEM, "unwrap: %zu voxels", n);
    }
    size_t start = n;
    for (size_t v = 0; v < n; ++v)
        if (support[v] && (start == n || density[v] > density[start])) start = v;
    if (start < n) {
        size_t head = 0, tail = 0;
        queue[tail++] = start;
        seen[start] = 1;
        out[start] = (float)atan2(field[start].im, field[start].re);
        while (head < tail) {
            size_t v = queue[head++], nb[6];
            int count = bcdi_neighbours6(shape, v, nb);
            for (int k = 0; k < count; ++k) {
                size_t w = nb[k];
                if (!support[w] || seen[w]) continue;
                seen[w] = 1;
                out[w] = out[v] + (float)ana_phase_diff(field[w], field[v]);
                queue[tail++] = w;
            }
        }
    }
    free(queue);
    free(seen);
    return BCDI_OK;
}

bcdi_status bcdi_analysis_orthogonalise(const bcdi_analysis_params *p, bcdi_analysis_result *r)
{
    const bcdi_analysis_frame *f = &r->frame;
    double axes[3][3];
    frame_axes(p, f, axes);
    memcpy(r->ortho_axes, axes, sizeof axes);
    double voxel = p->ortho_voxel_nm;
    if (!(voxel > 0.0)) {
        voxel = HUGE_VAL;
        for (int a = 0; a < 3; ++a) {
            double col[3] = {f->basis_m[0][a], f->basis_m[1][a], f->basis_m[2][a]};
            double len = 1e9 * bcdi_norm3(col);
            if (len < voxel) voxel = len;
        }
    }
    r->ortho_voxel_nm = voxel;
    /* extent: the support's enclosing box corners, in frame coordinates */
    double lo[3] = {HUGE_VAL, HUGE_VAL, HUGE_VAL}, hi[3] = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (int corner = 0; corner < 8; ++corner) {
        double d[3];
        for (int a = 0; a < 3; ++a)
            d[a] = (double)(((corner >> a) & 1) ? r->box_hi[a] : r->box_lo[a]) -
                   (double)(r->input_shape[a] / 2);
        double lab[3];
        for (int i = 0; i < 3; ++i)
            lab[i] =
                1e9 * (f->basis_m[i][0] * d[0] + f->basis_m[i][1] * d[1] + f->basis_m[i][2] * d[2]);
        for (int k = 0; k < 3; ++k) {
            double c = bcdi_dot3(axes[k], lab);
            if (c < lo[k]) lo[k] = c;
            if (c > hi[k]) hi[k] = c;
        }
    }
    size_t count[3]; /* along x, y, z */
    for (int k = 0; k < 3; ++k) {
        double first = (floor(lo[k] / voxel) - 2.0) * voxel;
        r->ortho_origin_nm[k] = first;
        double span = (hi[k] - first) / voxel + 3.0;
        if (!(span < 4096.0))
            return bcdi_error(BCDI_ERR_INVALID_ARG,
                              "orthogonalise: %g voxels of %g nm along axis %d (ortho_voxel_nm too "
                              "small?)",
                              span, voxel, k);
        count[k] = (size_t)ceil(span);
    }
    r->ortho_shape[0] = count[2];
    r->ortho_shape[1] = count[1];
    r->ortho_shape[2] = count[0];
    size_t n = count[0] * count[1] * count[2];
    if (n > ORTHO_MAX_VOXELS)
        return bcdi_error(BCDI_ERR_INVALID_ARG,
                          "orthogonalise: %zux%zux%zu voxels of %g nm exceed the limit of %zu; "
                          "raise ortho_voxel_nm",
                          count[2], count[1], count[0], voxel, ORTHO_MAX_VOXELS);
    /* the grid's memory is known only now (it follows the support): checked before it is made */
    char how[120];
    snprintf(how, sizeof how, "%zu x %zu x %zu voxels of %g nm", count[2], count[1], count[0],
             voxel);
    bcdi_status fits = bcdi_memory_check((double)n * 30.0, p->max_memory, "the orthonormal grid",
                                         how, "raise ortho_voxel_nm= or max_memory=");
    if (fits != BCDI_OK) return fits;
    bcdi_cf *field = malloc(n * sizeof *field);
    r->o_density = malloc(n * sizeof *r->o_density);
    r->o_phase = malloc(n * sizeof *r->o_phase);
    r->o_displacement = malloc(n * sizeof *r->o_displacement);
    r->o_strain = malloc(n * sizeof *r->o_strain);
    r->o_support = malloc(n);
    uint8_t *valid = malloc(n);
    if (p->unwrap) r->o_unwrapped = malloc(n * sizeof *r->o_unwrapped);
    if (!field || !r->o_density || !r->o_phase || !r->o_displacement || !r->o_strain ||
        !r->o_support || !valid || (p->unwrap && !r->o_unwrapped)) {
        free(field);
        free(valid);
        valid = NULL;
        return bcdi_error(BCDI_ERR_NOMEM, "orthogonalise: %zu voxels", n);
    }
    double inv[3][3];
    bcdi_mat3_inverse(f->basis_m, inv);
    /* frame coordinate (nm) → fractional crop index: i = T^{-1} R^T p + N/2 − origin */
    double map[3][3];
    for (int a = 0; a < 3; ++a)
        for (int k = 0; k < 3; ++k)
            map[a][k] =
                1e-9 * (inv[a][0] * axes[k][0] + inv[a][1] * axes[k][1] + inv[a][2] * axes[k][2]);
    double shift[3];
    for (int a = 0; a < 3; ++a)
        shift[a] = (double)(r->input_shape[a] / 2) - (double)r->origin[a];
    const double amp_max = r->amplitude_max;
    const double threshold_amplitude = r->threshold_amplitude;
    const int file_support = r->file_support_used;
#pragma omp parallel for schedule(static)
    for (long iz = 0; iz < (long)count[2]; ++iz)
        for (size_t iy = 0; iy < count[1]; ++iy)
            for (size_t ix = 0; ix < count[0]; ++ix) {
                size_t v = ((size_t)iz * count[1] + iy) * count[0] + ix;
                double pf[3] = {r->ortho_origin_nm[0] + voxel * (double)ix,
                                r->ortho_origin_nm[1] + voxel * (double)iy,
                                r->ortho_origin_nm[2] + voxel * (double)iz};
                double idx[3];
                for (int a = 0; a < 3; ++a)
                    idx[a] = map[a][0] * pf[0] + map[a][1] * pf[1] + map[a][2] * pf[2] + shift[a];
                double inside;
                field[v] = interpolate(r->shape, r->object, r->support, idx, &inside);
                double amplitude = ana_abs(field[v]);
                r->o_density[v] = (float)(amplitude / amp_max);
                /* the same threshold on the interpolated amplitude; where the file's support
                 * also bounded the native one, its interpolated fraction must reach 1/2 (an AND
                 * with a nearest-voxel lookup would erode the crystal by ~1/2 voxel) */
                r->o_support[v] =
                    amplitude > threshold_amplitude && (!file_support || inside >= 0.5);
            }
    double basis[3][3]; /* array axes (z, y, x) → lab metres */
    for (int i = 0; i < 3; ++i) {
        basis[i][0] = 1e-9 * voxel * axes[2][i];
        basis[i][1] = 1e-9 * voxel * axes[1][i];
        basis[i][2] = 1e-9 * voxel * axes[0][i];
    }
    bcdi_analysis_strain(r->ortho_shape, field, r->o_support, basis, f->g_hat, f->g_norm,
                         r->o_strain, valid);
    const double strain_add = r->strain_offset;
    for (size_t v = 0; v < n; ++v) {
        if (r->o_support[v]) {
            double phase = atan2(field[v].im, field[v].re);
            r->o_phase[v] = (float)phase;
            r->o_displacement[v] = (float)(-phase / f->g_norm * 1e10);
            r->o_strain[v] = valid[v] ? (float)(r->o_strain[v] + strain_add) : 0.0f;
        } else {
            r->o_phase[v] = 0.0f;
            r->o_displacement[v] = 0.0f;
            r->o_strain[v] = 0.0f;
        }
    }
    r->o_strain_valid = valid; /* kept: voxels without a support neighbour have no strain */
    bcdi_status st = BCDI_OK;
    if (p->unwrap)
        st = unwrap_phase(r->ortho_shape, field, r->o_support, r->o_density, r->o_unwrapped);
    r->has_ortho = st == BCDI_OK;
    free(field);
    return st;
}
