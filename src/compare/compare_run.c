/* SPDX-License-Identifier: BSD-3-Clause */
/* Comparison of states: analysis of each, alignment onto the reference on a common native grid
 * (twin by density correlation, DFT registration of the density, common phase), difference
 * maps, dislocation matching, domain tilts and the lattice from the diffraction summaries. */
#include "compare_internal.h"

#include "bcdi/log.h"
#include "bcdi/prepare.h" /* BCDI_PREPARE_MAX_AXIS, the largest prepared axis */
#include "num/fft_size.h"
#include "core/interrupt.h"
#include "core/memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- lattice from the diffraction summaries (docs/physics.md §3) ---- */

void bcdi_compare_lattice_from_peaks(const bcdi_compare_peak *reference,
                                     const bcdi_compare_peak *state, double pixel_m,
                                     double distance_m, const int hkl[3], bcdi_compare_lattice *out)
{
    const double deg = BCDI_DEG_TO_RAD;
    out->delta_two_theta_deg = out->delta_theta_deg = out->delta_d_over_d = NAN;
    out->d_spacing_angstrom = out->c_angstrom = out->rocking_shift_deg = NAN;
    out->rocking_rotation_deg = out->ring_rotation_deg = out->intensity_ratio = NAN;
    if (!reference->available || !state->available) return;
    out->delta_two_theta_deg = state->two_theta_deg - reference->two_theta_deg;
    out->delta_theta_deg = 0.5 * out->delta_two_theta_deg;
    double theta_b = 0.5 * reference->two_theta_deg * deg;
    out->delta_d_over_d = -(cos(theta_b) / sin(theta_b)) * out->delta_theta_deg * deg;
    double d_ref = reference->d_spacing_m;
    if (!isfinite(d_ref)) d_ref = NAN;
    out->d_spacing_angstrom = d_ref * 1e10 * (1.0 + out->delta_d_over_d);
    if (hkl && hkl[0] == 0 && hkl[1] == 0 && hkl[2] != 0)
        out->c_angstrom = abs(hkl[2]) * out->d_spacing_angstrom;
    out->rocking_shift_deg = state->rocking_deg - reference->rocking_deg;
    /* a lattice change moves the rocking curve by Δθ_B too; what is left is a rotation */
    out->rocking_rotation_deg = out->rocking_shift_deg - out->delta_theta_deg;
    if (pixel_m > 0.0 && distance_m > 0.0)
        out->ring_rotation_deg =
            (state->com_pixel[1] - reference->com_pixel[1]) * pixel_m / distance_m / deg;
    if (reference->integrated_intensity > 0.0)
        out->intensity_ratio = state->integrated_intensity / reference->integrated_intensity;
}

/* ---- dislocation lines ---- */

double bcdi_compare_line_distance(const double *a, size_t na, const double *b, size_t nb)
{
    if (!na || !nb) return NAN;
    if (na > nb) { /* walk the shorter chain */
        const double *t = a;
        a = b, b = t;
        size_t tn = na;
        na = nb, nb = tn;
    }
    double sum = 0.0;
    for (size_t i = 0; i < na; ++i) {
        double best = HUGE_VAL;
        for (size_t j = 0; j < nb; ++j) {
            double d2 = 0.0;
            for (int c = 0; c < 3; ++c) {
                double e = a[3 * i + c] - b[3 * j + c];
                d2 += e * e;
            }
            if (d2 < best) best = d2;
        }
        sum += sqrt(best);
    }
    return sum / (double)na;
}

/* Line points moved into the common frame: p + offset (nm). */
static double *shifted_points(const bcdi_dislocation_line *l, const double offset_nm[3])
{
    double *p = malloc((l->point_count ? l->point_count : 1) * 3 * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < l->point_count; ++i)
        for (int c = 0; c < 3; ++c)
            p[3 * i + c] = l->points_nm[3 * i + c] + offset_nm[c];
    return p;
}

typedef struct pair_distance {
    size_t a, b;
    double d;
} pair_distance;

static int by_distance(const void *x, const void *y)
{
    double a = ((const pair_distance *)x)->d, b = ((const pair_distance *)y)->d;
    return (a > b) - (a < b);
}

/* One-to-one matching, closest pairs first. */
static bcdi_status match_lines(bcdi_compare_state *s, const bcdi_compare_state *ref,
                               const double s_offset[3], const double ref_offset[3],
                               double match_nm, double move_nm)
{
    size_t ns = s->analysis.line_count, nr = ref->analysis.line_count;
    pair_distance *pairs = malloc((ns > 0 && nr > 0 ? ns * nr : 1) * sizeof *pairs);
    long *partner_s = malloc((ns ? ns : 1) * sizeof *partner_s);
    long *partner_r = malloc((nr ? nr : 1) * sizeof *partner_r);
    double *dist_s = malloc((ns ? ns : 1) * sizeof *dist_s);
    s->matches = calloc(ns + nr + 1, sizeof *s->matches);
    if (!pairs || !partner_s || !partner_r || !dist_s || !s->matches) {
        free(pairs), free(partner_s), free(partner_r), free(dist_s);
        return bcdi_error(BCDI_ERR_NOMEM, "out of memory matching dislocation lines");
    }
    size_t np = 0;
    for (size_t i = 0; i < ns; ++i) {
        double *a = shifted_points(&s->analysis.lines[i], s_offset);
        for (size_t j = 0; a && j < nr; ++j) {
            double *b = shifted_points(&ref->analysis.lines[j], ref_offset);
            if (!b) break;
            pairs[np++] =
                (pair_distance){i, j,
                                bcdi_compare_line_distance(a, s->analysis.lines[i].point_count, b,
                                                           ref->analysis.lines[j].point_count)};
            free(b);
        }
        free(a);
    }
    qsort(pairs, np, sizeof *pairs, by_distance);
    for (size_t i = 0; i < ns; ++i)
        partner_s[i] = -1, dist_s[i] = NAN;
    for (size_t j = 0; j < nr; ++j)
        partner_r[j] = -1;
    for (size_t k = 0; k < np; ++k) {
        if (!(pairs[k].d <= match_nm)) break;
        if (partner_s[pairs[k].a] >= 0 || partner_r[pairs[k].b] >= 0) continue;
        partner_s[pairs[k].a] = (long)pairs[k].b;
        partner_r[pairs[k].b] = (long)pairs[k].a;
        dist_s[pairs[k].a] = pairs[k].d;
    }
    size_t m = 0;
    for (size_t i = 0; i < ns; ++i) {
        bcdi_line_match *x = &s->matches[m++];
        x->line = i;
        x->partner = partner_s[i];
        x->distance_nm = dist_s[i];
        if (partner_s[i] < 0)
            x->change = BCDI_LINE_APPEARED, ++s->lines_appeared;
        else if (dist_s[i] > move_nm)
            x->change = BCDI_LINE_MOVED, ++s->lines_moved;
        else
            x->change = BCDI_LINE_UNCHANGED, ++s->lines_unchanged;
    }
    for (size_t j = 0; j < nr; ++j)
        if (partner_r[j] < 0) {
            bcdi_line_match *x = &s->matches[m++];
            x->line = j;
            x->partner = -1;
            x->distance_nm = NAN;
            x->change = BCDI_LINE_VANISHED;
            ++s->lines_vanished;
        }
    s->match_count = m;
    free(pairs), free(partner_s), free(partner_r), free(dist_s);
    return BCDI_OK;
}

/* ---- grids ---- */

/* The analysed (cropped, ramp-free) object inside its support, centred in the common grid;
 * `place` receives the common-grid index of crop voxel 0. */
static void embed(const bcdi_analysis_result *r, const size_t cg[3], bcdi_cf *object,
                  bcdi_cf *density, bcdi_cf *support, long place[3])
{
    size_t n = cg[0] * cg[1] * cg[2];
    memset(object, 0, n * sizeof *object);
    if (density) memset(density, 0, n * sizeof *density);
    if (support) memset(support, 0, n * sizeof *support);
    for (int a = 0; a < 3; ++a)
        place[a] = (long)(cg[a] - r->shape[a]) / 2;
    const double amax = r->amplitude_max > 0.0 ? r->amplitude_max : 1.0;
    for (size_t i0 = 0; i0 < r->shape[0]; ++i0)
        for (size_t i1 = 0; i1 < r->shape[1]; ++i1)
            for (size_t i2 = 0; i2 < r->shape[2]; ++i2) {
                size_t v = (i0 * r->shape[1] + i1) * r->shape[2] + i2;
                if (!r->support[v]) continue;
                size_t w = (((size_t)place[0] + i0) * cg[1] + ((size_t)place[1] + i1)) * cg[2] +
                           ((size_t)place[2] + i2);
                object[w] = r->object[v];
                if (density)
                    density[w].re = (float)(hypot(r->object[v].re, r->object[v].im) / amax);
                if (support) support[w].re = 1.0f;
            }
}

/* x(i) -> x((N - i) mod N): the twin's inversion, for a support mask. */
static bcdi_status invert_mask(const size_t shape[3], uint8_t *mask)
{
    size_t n = shape[0] * shape[1] * shape[2];
    uint8_t *copy = malloc(n);
    if (!copy) return bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    memcpy(copy, mask, n);
    for (size_t i0 = 0; i0 < shape[0]; ++i0)
        for (size_t i1 = 0; i1 < shape[1]; ++i1)
            for (size_t i2 = 0; i2 < shape[2]; ++i2) {
                size_t j0 = (shape[0] - i0) % shape[0], j1 = (shape[1] - i1) % shape[1],
                       j2 = (shape[2] - i2) % shape[2];
                mask[(i0 * shape[1] + i1) * shape[2] + i2] =
                    copy[(j0 * shape[1] + j1) * shape[2] + j2];
            }
    free(copy);
    return BCDI_OK;
}

static bcdi_status analyse(cmp_loaded *l, const char *label, bcdi_compare_state *s)
{
    bcdi_analysis_frame frame;
    bcdi_analysis_result_free(&s->analysis);
    memset(&s->analysis, 0, sizeof s->analysis);
    bcdi_status st = bcdi_analysis_frame_make(l->has_geometry ? &l->geometry : NULL, l->data_shape,
                                              &l->params, &frame);
    if (st == BCDI_OK)
        st = bcdi_analysis_run(&l->params, &frame, l->shape, l->object, l->support, &s->analysis);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s' ('%s'): ", label, l->result_path);
    return BCDI_OK;
}

/* Displacement gradient ∇u (lab, dimensionless) of the voxels where mask != 0, from the
 * complex field plus the removed ramp. */
static bcdi_status mean_gradient(const bcdi_analysis_result *r, const bcdi_analysis_params *p,
                                 const uint8_t *mask, double grad[3])
{
    double g[3] = {0, 0, 0}, inv[3][3];
    bcdi_status st = bcdi_analysis_fit_ramp(r->shape, r->object, mask, g);
    if (st != BCDI_OK) return st;
    if (p->remove_ramp)
        for (int a = 0; a < 3; ++a)
            g[a] += r->ramp_rad_per_voxel[a];
    if (!bcdi_mat3_inverse(r->frame.basis_m, inv))
        return bcdi_error(BCDI_ERR_DATA, "singular basis");
    for (int j = 0; j < 3; ++j) {
        double dphi = 0.0;
        for (int i = 0; i < 3; ++i)
            dphi += inv[i][j] * g[i];
        grad[j] = -dphi / r->frame.g_norm;
    }
    return BCDI_OK;
}

void bcdi_comparison_free(bcdi_comparison *c)
{
    if (!c) return;
    for (size_t k = 0; c->states && k < c->state_count; ++k) {
        bcdi_compare_state *s = &c->states[k];
        free(s->label), free(s->path), free(s->result_path);
        bcdi_analysis_result_free(&s->analysis);
        free(s->matches), free(s->domain_changes);
        free(s->cg_density), free(s->cg_displacement), free(s->cg_delta_displacement);
        free(s->cg_delta_density), free(s->cg_support);
    }
    free(c->states);
    memset(c, 0, sizeof *c);
}

static char *default_label(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        --len;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        --start;
    char *label = malloc(len - start + 1);
    if (label) {
        memcpy(label, path + start, len - start);
        label[len - start] = '\0';
    }
    return label;
}

/* The alignment of state s (already analysed) onto the reference's embedded fields. */
typedef struct cmp_work {
    size_t cg[3], n;
    bcdi_cf *ref_object, *ref_density, *object, *density, *support, *scratch;
    uint8_t *ref_support;
} cmp_work;

static bcdi_status register_pair(const cmp_work *w, const bcdi_cf *ref, const bcdi_cf *moving,
                                 int twin, int upsample, double shift[3], double *peak)
{
    memcpy(w->scratch, moving, w->n * sizeof *moving);
    bcdi_status st = twin ? bcdi_twin(w->cg, w->scratch) : BCDI_OK;
    if (st == BCDI_OK)
        st = bcdi_register_translation(w->cg, ref, w->scratch, upsample, shift, peak);
    return st;
}

static bcdi_status align_state(const bcdi_compare_params *cp, cmp_work *w, cmp_loaded *l,
                               bcdi_compare_state *s, long place[3])
{
    double shift[3], peak_direct = 0.0, peak_twin = 0.0;
    embed(&s->analysis, w->cg, w->object, w->density, w->support, place);
    bcdi_status st = register_pair(w, w->ref_density, w->density, 0, 1, shift, &peak_direct);
    if (st == BCDI_OK) st = register_pair(w, w->ref_density, w->density, 1, 1, shift, &peak_twin);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s': registration: ", s->label);
    s->density_correlation_direct = peak_direct;
    s->density_correlation_twin = peak_twin;
    int twinned = peak_twin - peak_direct > cp->twin_margin;
    if (fabs(peak_twin - peak_direct) <= cp->twin_margin) {
        /* centrosymmetric densities: the complex fields tell the twin apart */
        double cd = 0.0, ct = 0.0;
        st = register_pair(w, w->ref_object, w->object, 0, 1, shift, &cd);
        if (st == BCDI_OK) st = register_pair(w, w->ref_object, w->object, 1, 1, shift, &ct);
        if (st != BCDI_OK) return st;
        twinned = ct > cd;
    }
    if (twinned) {
        /* flip the input and analyse again, so every number of the state is in the
         * reference's twin */
        st = bcdi_twin(l->shape, l->object);
        if (st == BCDI_OK && l->support) st = invert_mask(l->shape, l->support);
        if (st == BCDI_OK) st = analyse(l, s->label, s);
        if (st != BCDI_OK) return st;
        embed(&s->analysis, w->cg, w->object, w->density, w->support, place);
    }
    double peak = 0.0;
    st = bcdi_register_translation(w->cg, w->ref_density, w->density, cp->upsample, shift, &peak);
    if (st == BCDI_OK) st = bcdi_shift(w->cg, w->object, shift);
    if (st == BCDI_OK) st = bcdi_shift(w->cg, w->support, shift);
    if (st == BCDI_OK) st = bcdi_shift(w->cg, w->density, shift);
    if (st != BCDI_OK) return bcdi_error_prefix(st, "state '%s': ", s->label);
    s->density_correlation = peak;
    s->alignment.twinned = twinned;
    memcpy(s->alignment.shift, shift, sizeof shift);
    /* common phase offset over the common support */
    double sr = 0.0, si = 0.0, nr = 0.0, nm = 0.0;
    for (size_t v = 0; v < w->n; ++v) {
        bcdi_cf a = w->ref_object[v], b = w->object[v];
        nr += (double)a.re * a.re + (double)a.im * a.im;
        nm += (double)b.re * b.re + (double)b.im * b.im;
        if (!(w->ref_support[v] && w->support[v].re > 0.5f)) continue;
        sr += (double)a.re * b.re + (double)a.im * b.im;
        si += (double)a.re * b.im - (double)a.im * b.re;
    }
    double alpha = atan2(si, sr), c = cos(alpha), sn = sin(alpha);
    double cr = 0.0, ci = 0.0;
    for (size_t v = 0; v < w->n; ++v) {
        bcdi_cf b = w->object[v];
        w->object[v].re = (float)(b.re * c + b.im * sn);
        w->object[v].im = (float)(b.im * c - b.re * sn);
        bcdi_cf a = w->ref_object[v];
        cr += (double)a.re * w->object[v].re + (double)a.im * w->object[v].im;
        ci += (double)a.re * w->object[v].im - (double)a.im * w->object[v].re;
    }
    s->alignment.phase = alpha;
    s->alignment.correlation = nr > 0.0 && nm > 0.0 ? hypot(cr, ci) / sqrt(nr * nm) : 0.0;
    return BCDI_OK;
}

/* Fields, volumes and statistics of an aligned state on the common grid. */
static bcdi_status common_fields(const cmp_work *w, const bcdi_compare_state *ref,
                                 bcdi_compare_state *s, double g_inv_angstrom,
                                 double voxel_volume_nm3, int is_reference)
{
    size_t n = w->n;
    s->cg_density = calloc(n, sizeof(float));
    s->cg_displacement = calloc(n, sizeof(float));
    s->cg_delta_displacement = calloc(n, sizeof(float));
    s->cg_delta_density = calloc(n, sizeof(float));
    s->cg_support = calloc(n, 1);
    uint8_t *common = calloc(n, 1);
    if (!s->cg_density || !s->cg_displacement || !s->cg_delta_displacement ||
        !s->cg_delta_density || !s->cg_support || !common) {
        free(common);
        return bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    }
    const double amax = s->analysis.amplitude_max > 0.0 ? s->analysis.amplitude_max : 1.0;
    s->common_voxels = s->lost_voxels = s->gained_voxels = 0;
    for (size_t v = 0; v < n; ++v) {
        int in = is_reference ? w->ref_support[v] : w->support[v].re > 0.5f;
        const bcdi_cf *obj = is_reference ? &w->ref_object[v] : &w->object[v];
        s->cg_support[v] = (uint8_t)in;
        if (in) {
            s->cg_density[v] = (float)(hypot(obj->re, obj->im) / amax);
            s->cg_displacement[v] = (float)(-atan2(obj->im, obj->re) / g_inv_angstrom);
        }
        int in_ref = w->ref_support[v];
        if (in && in_ref) {
            bcdi_cf a = w->ref_object[v];
            double re = (double)obj->re * a.re + (double)obj->im * a.im;
            double im = (double)obj->im * a.re - (double)obj->re * a.im;
            s->cg_delta_displacement[v] = (float)(-atan2(im, re) / g_inv_angstrom);
            common[v] = 1;
            ++s->common_voxels;
        } else if (in_ref) {
            ++s->lost_voxels;
        } else if (in) {
            ++s->gained_voxels;
        }
    }
    (void)ref;
    s->common_volume_nm3 = (double)s->common_voxels * voxel_volume_nm3;
    s->lost_volume_nm3 = (double)s->lost_voxels * voxel_volume_nm3;
    s->gained_volume_nm3 = (double)s->gained_voxels * voxel_volume_nm3;
    bcdi_status st = BCDI_OK;
    if (s->common_voxels) {
        st = bcdi_stats_compute(s->cg_delta_displacement, common, n, &s->delta_displacement);
        /* the density change needs the reference's density, filled in by the caller first */
        if (st == BCDI_OK && ref->cg_density) {
            /* over the union (the figure shows lost and gained volume); statistics over the
             * common support */
            for (size_t v = 0; v < n; ++v)
                s->cg_delta_density[v] = s->cg_density[v] - ref->cg_density[v];
            st = bcdi_stats_compute(s->cg_delta_density, common, n, &s->delta_density);
        }
    }
    free(common);
    return st;
}

bcdi_status bcdi_compare_run(const bcdi_compare_params *cp, const bcdi_analysis_params *ap,
                             const bcdi_compare_input *inputs, size_t count, size_t reference,
                             bcdi_comparison *out)
{
    memset(out, 0, sizeof *out);
    if (count < 2)
        return bcdi_error(BCDI_ERR_CONFIG, "compare needs at least two states, got %zu", count);
    if (reference >= count)
        return bcdi_error(BCDI_ERR_CONFIG, "reference: state %zu of %zu", reference + 1, count);
    if (!(cp->upsample >= 1))
        return bcdi_error(BCDI_ERR_CONFIG, "upsample: %d, expected >= 1", cp->upsample);
    /* every input first: a missing file is found before any work */
    for (size_t k = 0; k < count; ++k) {
        const char *label =
            inputs[k].label && inputs[k].label[0] ? inputs[k].label : inputs[k].path;
        if (!inputs[k].path || access(inputs[k].path, R_OK) != 0)
            return bcdi_error(BCDI_ERR_IO,
                              "state '%s': '%s' not found (a result .cxi or a folder "
                              "written by braggcdi analyze)",
                              label, inputs[k].path ? inputs[k].path : "");
        if (inputs[k].summary_path && inputs[k].summary_path[0] &&
            access(inputs[k].summary_path, R_OK) != 0)
            return bcdi_error(BCDI_ERR_IO, "state '%s': diffraction summary '%s' not found", label,
                              inputs[k].summary_path);
    }
    /* the memory of every state's analysis and of the common grid, from the objects' shapes,
     * before any object is read */
    bcdi_analysis_params native = *ap;
    native.orthogonalise = 0; /* compare works on the native grid */
    double need = 0.0, grid[3] = {0, 0, 0};
    for (size_t k = 0; k < count; ++k) {
        size_t shape[3];
        const char *label =
            inputs[k].label && inputs[k].label[0] ? inputs[k].label : inputs[k].path;
        bcdi_status st = cmp_state_shape(inputs[k].path, label, shape);
        if (st != BCDI_OK) return st;
        need += bcdi_analysis_memory_estimate(&native, shape);
        for (int a = 0; a < 3; ++a)
            if ((double)shape[a] + 8.0 > grid[a]) grid[a] = (double)shape[a] + 8.0;
    }
    /* per common-grid voxel: the alignment's six complex arrays and FFT scratch (64), and each
     * state's maps there (18) */
    need += grid[0] * grid[1] * grid[2] * (65.0 + 18.0 * (double)count);
    /* the sub-voxel registration's upsampled DFT (phasing/align.c): m = 1.5 upsample samples
     * per axis, complex doubles, through two partial sums */
    double m = ceil(1.5 * (double)cp->upsample);
    need += 16.0 * (grid[0] * grid[1] * m + grid[0] * m * m + m * m * m);
    char how[160];
    snprintf(how, sizeof how,
             "%zu states on a common grid of up to %.0f x %.0f x %.0f voxels, upsample=%d", count,
             grid[0], grid[1], grid[2], cp->upsample);
    bcdi_status fits =
        bcdi_memory_check(need, ap->max_memory, "compare", how,
                          "compare fewer states at once, lower upsample=, or raise max_memory=");
    if (fits != BCDI_OK) return fits;
    out->states = calloc(count, sizeof *out->states);
    if (!out->states) return bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    out->state_count = count;
    out->reference = reference;
    cmp_loaded *loaded = calloc(count, sizeof *loaded);
    cmp_work w = {{0, 0, 0}, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    bcdi_status st = loaded ? BCDI_OK : bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    for (size_t k = 0; st == BCDI_OK && k < count; ++k) {
        bcdi_compare_state *s = &out->states[k];
        s->label = inputs[k].label && inputs[k].label[0] ? strdup(inputs[k].label)
                                                         : default_label(inputs[k].path);
        s->path = strdup(inputs[k].path);
        if (!s->label || !s->path) st = bcdi_error(BCDI_ERR_NOMEM, "out of memory");
        if (st == BCDI_OK) st = bcdi_interrupt_check("during compare, loading '%s'", s->label);
        if (st == BCDI_OK) st = cmp_load_state(inputs[k].path, s->label, ap, &loaded[k]);
        if (st == BCDI_OK) {
            s->result_path = strdup(loaded[k].result_path);
            s->from_folder = loaded[k].from_folder;
            s->has_geometry = loaded[k].has_geometry;
            s->geometry = loaded[k].geometry;
            st = cmp_locate_peak(inputs[k].summary_path, s->label, loaded[k].result_path, &s->peak);
            if (st != BCDI_OK) st = bcdi_error_prefix(st, "state '%s': ", s->label);
        }
        if (st == BCDI_OK && !s->peak.available)
            bcdi_log(BCDI_LOG_NOTICE,
                     "state '%s': no diffraction summary found (give summary=): "
                     "its lattice columns stay empty",
                     s->label);
        if (st == BCDI_OK) st = analyse(&loaded[k], s->label, s);
    }
    bcdi_compare_state *ref = st == BCDI_OK ? &out->states[reference] : NULL;
    /* one grid for all: the reference's basis; others must agree */
    for (size_t k = 0; st == BCDI_OK && k < count; ++k) {
        const bcdi_analysis_frame *a = &out->states[k].analysis.frame, *b = &ref->analysis.frame;
        for (int c = 0; c < 3 && st == BCDI_OK; ++c) {
            double da = 0.0, nb = 0.0;
            for (int r = 0; r < 3; ++r) {
                da += (a->basis_m[r][c] - b->basis_m[r][c]) * (a->basis_m[r][c] - b->basis_m[r][c]);
                nb += b->basis_m[r][c] * b->basis_m[r][c];
            }
            if (sqrt(da) > 0.02 * sqrt(nb))
                st = bcdi_error(BCDI_ERR_DATA,
                                "state '%s': its voxel grid differs from the reference's ('%s') "
                                "by %.1f%% along axis %d; compare needs one grid (same geometry "
                                "and binning)",
                                out->states[k].label, ref->label, 100.0 * sqrt(da / nb), c);
        }
        if (st == BCDI_OK && fabs(a->g_norm - b->g_norm) > 1e-3 * b->g_norm)
            st = bcdi_error(BCDI_ERR_DATA,
                            "state '%s': d-spacing %.5g A differs from the "
                            "reference's %.5g A (another reflection?)",
                            out->states[k].label, a->d_spacing_m * 1e10, b->d_spacing_m * 1e10);
    }
    if (st == BCDI_OK) {
        for (int a = 0; a < 3; ++a) {
            size_t biggest = 0;
            for (size_t k = 0; k < count; ++k)
                if (out->states[k].analysis.shape[a] > biggest)
                    biggest = out->states[k].analysis.shape[a];
            w.cg[a] = bcdi_fft_good_size(biggest + 8, BCDI_PREPARE_MAX_AXIS); /* room to shift */
            out->cg_shape[a] = w.cg[a];
            if (!w.cg[a] && st == BCDI_OK)
                st = bcdi_error(BCDI_ERR_DATA,
                                "the states' crystals span %zu voxels along axis %d: the common "
                                "grid would pass %d voxels",
                                biggest, a, BCDI_PREPARE_MAX_AXIS);
        }
        w.n = w.cg[0] * w.cg[1] * w.cg[2];
        memcpy(out->basis_m, ref->analysis.frame.basis_m, sizeof out->basis_m);
        out->voxel_volume_nm3 = ref->analysis.voxel_volume_nm3;
        w.ref_object = malloc(w.n * sizeof(bcdi_cf));
        w.ref_density = malloc(w.n * sizeof(bcdi_cf));
        w.object = malloc(w.n * sizeof(bcdi_cf));
        w.density = malloc(w.n * sizeof(bcdi_cf));
        w.support = malloc(w.n * sizeof(bcdi_cf));
        w.scratch = malloc(w.n * sizeof(bcdi_cf));
        w.ref_support = malloc(w.n);
        if (!w.ref_object || !w.ref_density || !w.object || !w.density || !w.support ||
            !w.scratch || !w.ref_support)
            st = bcdi_error(BCDI_ERR_NOMEM, "out of memory");
    }
    long ref_place[3] = {0, 0, 0};
    if (st == BCDI_OK) {
        embed(&ref->analysis, w.cg, w.ref_object, w.ref_density, w.support, ref_place);
        for (size_t v = 0; v < w.n; ++v)
            w.ref_support[v] = w.support[v].re > 0.5f;
    }
    /* scales: matching distances default to voxels */
    double mean_voxel_nm = 0.0;
    if (st == BCDI_OK) {
        mean_voxel_nm = cbrt(out->voxel_volume_nm3);
        out->match_distance_nm =
            cp->match_distance_nm > 0.0 ? cp->match_distance_nm : 3.0 * mean_voxel_nm;
        out->move_distance_nm = cp->move_distance_nm > 0.0 ? cp->move_distance_nm : mean_voxel_nm;
        for (int a = 0; a < 3; ++a)
            out->hkl[a] = cp->hkl[0] || cp->hkl[1] || cp->hkl[2] ? cp->hkl[a]
                          : ref->has_geometry                    ? ref->geometry.hkl[a]
                                                                 : 0;
        out->d_reference_angstrom = ref->peak.available && isfinite(ref->peak.d_spacing_m)
                                        ? ref->peak.d_spacing_m * 1e10
                                        : ref->analysis.frame.d_spacing_m * 1e10;
    }
    const double g_inv_angstrom = st == BCDI_OK ? ref->analysis.frame.g_norm * 1e-10 : 1.0;
    /* the reference first: the others' density change needs its density */
    if (st == BCDI_OK) {
        ref->alignment.correlation = 1.0;
        ref->density_correlation = ref->density_correlation_direct = 1.0;
        ref->density_correlation_twin = NAN;
        st = common_fields(&w, ref, ref, g_inv_angstrom, out->voxel_volume_nm3, 1);
    }
    double ref_grad[3] = {0, 0, 0};
    if (st == BCDI_OK)
        st = mean_gradient(&ref->analysis, &loaded[reference].params, ref->analysis.support,
                           ref_grad);
    for (size_t k = 0; st == BCDI_OK && k < count; ++k) {
        bcdi_compare_state *s = &out->states[k];
        long place[3] = {ref_place[0], ref_place[1], ref_place[2]};
        if (k != reference) {
            st = bcdi_interrupt_check("during compare, aligning '%s'", s->label);
            if (st == BCDI_OK) st = align_state(cp, &w, &loaded[k], s, place);
            if (st == BCDI_OK)
                st = common_fields(&w, ref, s, g_inv_angstrom, out->voxel_volume_nm3, 0);
        }
        if (st != BCDI_OK) break;
        const bcdi_analysis_result *r = &s->analysis;
        /* lines into the common frame: crop voxel i sits at common index i + place + shift */
        double offset_nm[3], ref_offset_nm[3], idx[3], ref_idx[3];
        for (int a = 0; a < 3; ++a) {
            idx[a] = (double)(r->input_shape[a] / 2) - (double)r->origin[a] + (double)place[a] +
                     s->alignment.shift[a] - (double)(w.cg[a] / 2);
            ref_idx[a] = (double)(ref->analysis.input_shape[a] / 2) -
                         (double)ref->analysis.origin[a] + (double)ref_place[a] -
                         (double)(w.cg[a] / 2);
        }
        /* reported: the shift that maps this state's input array onto the reference's (the
         * common grid's centring of the crops taken out), i.e. how far the crystal moved */
        if (k != reference)
            for (int a = 0; a < 3; ++a)
                s->alignment.shift[a] += (double)(place[a] - (long)r->origin[a]) -
                                         (double)(ref_place[a] - (long)ref->analysis.origin[a]);
        for (int c = 0; c < 3; ++c) {
            offset_nm[c] = ref_offset_nm[c] = 0.0;
            s->shift_nm[c] = 0.0;
            for (int a = 0; a < 3; ++a) {
                offset_nm[c] += out->basis_m[c][a] * idx[a] * 1e9;
                ref_offset_nm[c] += out->basis_m[c][a] * ref_idx[a] * 1e9;
                s->shift_nm[c] += out->basis_m[c][a] * s->alignment.shift[a] * 1e9;
            }
        }
        st = match_lines(s, ref, offset_nm, ref_offset_nm, out->match_distance_nm,
                         out->move_distance_nm);
        s->total_line_length_nm = 0.0;
        for (size_t i = 0; i < r->line_count; ++i)
            s->total_line_length_nm += r->lines[i].length_nm;
        s->mean_strain_change = r->ramp_strain - ref->analysis.ramp_strain;
        /* per-domain lattice against the reference's mean lattice */
        size_t nv = r->shape[0] * r->shape[1] * r->shape[2];
        s->domain_changes = calloc(r->domain_count + 1, sizeof *s->domain_changes);
        uint8_t *mask = malloc(nv);
        if (st == BCDI_OK && (!s->domain_changes || !mask))
            st = bcdi_error(BCDI_ERR_NOMEM, "out of memory");
        for (size_t d = 0; st == BCDI_OK && d < r->domain_count; ++d) {
            for (size_t v = 0; v < nv; ++v)
                mask[v] = r->domain_label[v] == (int32_t)(d + 1);
            double grad[3], delta[3];
            st = mean_gradient(r, &loaded[k].params, mask, grad);
            for (int c = 0; c < 3; ++c)
                delta[c] = grad[c] - ref_grad[c];
            double along = bcdi_dot3(delta, r->frame.g_hat),
                   perp2 = bcdi_dot3(delta, delta) - along * along;
            s->domain_changes[d].strain_change = along;
            s->domain_changes[d].tilt_deg = atan(sqrt(perp2 > 0.0 ? perp2 : 0.0)) * 180.0 / BCDI_PI;
        }
        free(mask);
        /* lattice from the diffraction summaries */
        double pixel_m = s->has_geometry ? s->geometry.pixel_size_m[0] / s->peak.bin[1] : 0.0;
        double distance_m = s->has_geometry ? s->geometry.distance_m : 0.0;
        bcdi_compare_lattice_from_peaks(&ref->peak, &s->peak, pixel_m, distance_m, out->hkl,
                                        &s->lattice);
        if (ref->peak.available && !isfinite(ref->peak.d_spacing_m) && s->peak.available)
            s->lattice.d_spacing_angstrom =
                out->d_reference_angstrom * (1.0 + s->lattice.delta_d_over_d);
        if (isfinite(s->lattice.d_spacing_angstrom) && out->hkl[0] == 0 && out->hkl[1] == 0 &&
            out->hkl[2])
            s->lattice.c_angstrom = abs(out->hkl[2]) * s->lattice.d_spacing_angstrom;
    }
    for (size_t k = 0; loaded && k < count; ++k)
        cmp_loaded_free(&loaded[k]);
    free(loaded);
    free(w.ref_object), free(w.ref_density), free(w.object), free(w.density), free(w.support);
    free(w.scratch), free(w.ref_support);
    if (st != BCDI_OK) bcdi_comparison_free(out);
    return st;
}
