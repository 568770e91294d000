/* SPDX-License-Identifier: BSD-3-Clause */
/* The analysis pipeline on a phased object: checks, support and box, crop, ramp and offset,
 * density, displacement, strain, statistics, domains, dislocations, orthogonalisation. */
#include "analysis_internal.h"

#include "num/percentile.h"
#include "num/volume.h"

#include "bcdi/log.h"
#include "core/interrupt.h"

#include <stdlib.h>
#include <string.h>

void bcdi_analysis_result_free(bcdi_analysis_result *r)
{
    if (!r) return;
    free(r->object);
    free(r->density);
    free(r->phase);
    free(r->displacement);
    free(r->strain);
    free(r->vortex_density);
    free(r->support);
    free(r->strain_valid);
    free(r->vortex_gate);
    free(r->domain_label);
    bcdi_dislocation_lines_free(r->lines, r->line_count);
    free(r->domains);
    free(r->o_density);
    free(r->o_phase);
    free(r->o_displacement);
    free(r->o_strain);
    free(r->o_unwrapped);
    free(r->o_support);
    free(r->o_strain_valid);
    memset(r, 0, sizeof(*r));
}

void ana_index_to_nm(const bcdi_analysis_frame *f, const double idx[3], const size_t input_shape[3],
                     double out[3])
{
    double d[3];
    for (int a = 0; a < 3; ++a)
        d[a] = idx[a] - (double)(input_shape[a] / 2);
    bcdi_mat3_apply(f->basis_m, d, out);
    for (int i = 0; i < 3; ++i)
        out[i] *= 1e9;
}

static bcdi_status domain_table(bcdi_analysis_result *r)
{
    const size_t n = r->shape[0] * r->shape[1] * r->shape[2];
    r->domains = calloc(r->domain_count ? r->domain_count : 1, sizeof *r->domains);
    double *sums = calloc((r->domain_count + 1) * 8, sizeof *sums);
    if (!r->domains || !sums) {
        free(sums);
        return bcdi_error(BCDI_ERR_NOMEM, "domain table");
    }
    for (size_t i0 = 0; i0 < r->shape[0]; ++i0)
        for (size_t i1 = 0; i1 < r->shape[1]; ++i1)
            for (size_t i2 = 0; i2 < r->shape[2]; ++i2) {
                size_t v = (i0 * r->shape[1] + i1) * r->shape[2] + i2;
                int32_t label = r->domain_label[v];
                if (label <= 0) continue;
                double *s = sums + 8 * (size_t)label;
                s[0] += 1.0;
                s[1] += (double)(i0 + r->origin[0]);
                s[2] += (double)(i1 + r->origin[1]);
                s[3] += (double)(i2 + r->origin[2]);
                s[4] += r->object[v].re; /* circular mean: blind to wraps */
                s[5] += r->object[v].im;
                if (r->strain_valid[v]) s[6] += r->strain[v], s[7] += 1.0;
            }
    (void)n;
    for (size_t k = 0; k < r->domain_count; ++k) {
        const double *s = sums + 8 * (k + 1);
        bcdi_domain_info *d = &r->domains[k];
        d->voxels = (size_t)s[0];
        d->volume_nm3 = s[0] * r->voxel_volume_nm3;
        double idx[3] = {s[1] / s[0], s[2] / s[0], s[3] / s[0]};
        ana_index_to_nm(&r->frame, idx, r->input_shape, d->centroid_nm);
        d->mean_displacement_angstrom = -atan2(s[5], s[4]) / r->frame.g_norm * 1e10;
        d->mean_strain = s[7] > 0.0 ? s[6] / s[7] : 0.0;
    }
    free(sums);
    return BCDI_OK;
}

bcdi_status bcdi_analysis_run(const bcdi_analysis_params *p, const bcdi_analysis_frame *frame,
                              const size_t shape[3], const bcdi_cf *object, const uint8_t *support,
                              bcdi_analysis_result *r)
{
    memset(r, 0, sizeof(*r));
    bcdi_status st = bcdi_analysis_validate(p);
    if (st != BCDI_OK) return st;
    const size_t n_in = shape[0] * shape[1] * shape[2];
    if (n_in == 0) return bcdi_error(BCDI_ERR_INVALID_ARG, "analyze: empty object array");
    for (size_t v = 0; v < n_in; ++v)
        if (!isfinite(object[v].re) || !isfinite(object[v].im)) {
            size_t i0 = v / (shape[1] * shape[2]), i1 = (v / shape[2]) % shape[1],
                   i2 = v % shape[2];
            return bcdi_error(BCDI_ERR_DATA,
                              "the object holds a non-finite value (NaN or Inf) at voxel "
                              "(%zu, %zu, %zu): nothing to analyse",
                              i0, i1, i2);
        }
    int file_support = 0;
    if (support && p->use_file_support) {
        size_t inside = 0;
        for (size_t v = 0; v < n_in; ++v)
            inside += support[v] != 0;
        if (inside == 0)
            return bcdi_error(BCDI_ERR_DATA,
                              "the result's support (entry_1/image_1/mask) is empty: no voxel "
                              "inside the crystal (set use_file_support=false to ignore it)");
        file_support = 1;
    }
    float *amplitude = malloc(n_in * sizeof *amplitude);
    if (!amplitude) return bcdi_error(BCDI_ERR_NOMEM, "analyze: %zu voxels", n_in);
    double peak = 0.0;
    for (size_t v = 0; v < n_in; ++v) {
        amplitude[v] = (float)ana_abs(object[v]);
        if ((!file_support || support[v]) && amplitude[v] > peak) peak = amplitude[v];
    }
    if (!(peak > 0.0)) {
        free(amplitude);
        return bcdi_error(BCDI_ERR_DATA, "empty support: the object's amplitude is zero%s",
                          file_support ? " everywhere inside the result's support" : " everywhere");
    }
    memcpy(r->input_shape, shape, sizeof r->input_shape);
    memcpy(&r->frame, frame, sizeof r->frame);
    /* support and its enclosing box */
    size_t n_all = shape[0] * shape[1] * shape[2], lo[3], hi[3];
    uint8_t *inside_mask = malloc(n_all);
    if (!inside_mask) {
        free(amplitude);
        return bcdi_error(BCDI_ERR_NOMEM, "analyze: out of memory");
    }
    /* the threshold's reference: a high percentile of the amplitude inside the phasing support
     * (else above a floor of the maximum), so that a hot spot of a few voxels moves neither it
     * nor the support (docs/analysis.md, step 1) */
    for (size_t v = 0; v < n_all; ++v)
        inside_mask[v] =
            file_support ? support[v] != 0 : amplitude[v] > BCDI_ANALYSIS_REFERENCE_FLOOR * peak;
    float *sorted; /* ≤ 4 B/voxel, freed before the cropped maps: below the estimate's peak */
    size_t region;
    if ((st = bcdi_sorted_masked(amplitude, inside_mask, n_all, &sorted, &region)) != BCDI_OK) {
        free(inside_mask);
        free(amplitude);
        return st;
    }
    double reference =
        region ? bcdi_percentile_sorted(sorted, region, BCDI_ANALYSIS_REFERENCE_PERCENTILE) : 0.0;
    free(sorted);
    if (!(reference > 0.0)) reference = peak; /* nearly all of the region at zero */
    r->amplitude_reference = reference;
    r->threshold_auto = !(p->support_threshold > 0.0);
    /* Otsu's threshold is a level of the histogram (expressed relative to the maximum) */
    r->threshold_amplitude = r->threshold_auto
                                 ? bcdi_analysis_auto_threshold(amplitude, n_in) * peak
                                 : p->support_threshold * reference;
    r->threshold = r->threshold_amplitude / reference;
    /* the former definition (a fraction of the maximum), still reported */
    const double old_cut = r->threshold_auto ? r->threshold_amplitude : p->support_threshold * peak;
    r->support_voxels_of_max = 0;
    for (size_t v = 0; v < n_all; ++v)
        r->support_voxels_of_max += amplitude[v] > old_cut && !(file_support && !support[v]);
    for (size_t v = 0; v < n_all; ++v)
        inside_mask[v] = amplitude[v] > r->threshold_amplitude && !(file_support && !support[v]);
    size_t inside = bcdi_mask_bounds(inside_mask, shape, lo, hi);
    free(inside_mask);
    if (inside == 0) {
        free(amplitude);
        return bcdi_error(BCDI_ERR_DATA,
                          "empty support: no voxel above %.3g of the reference amplitude %.4g "
                          "(p%g of |rho| %s)",
                          r->threshold, r->amplitude_reference, BCDI_ANALYSIS_REFERENCE_PERCENTILE,
                          file_support ? "inside the result's support" : "above 5% of its maximum");
    }
    for (int a = 0; a < 3; ++a) {
        r->box_lo[a] = lo[a];
        r->box_hi[a] = hi[a];
    }
    bcdi_box_with_margin(lo, hi, (size_t)p->crop_margin, shape, r->origin, r->shape);
    const size_t n = r->shape[0] * r->shape[1] * r->shape[2];
    r->object = malloc(n * sizeof *r->object);
    r->density = malloc(n * sizeof *r->density);
    r->phase = malloc(n * sizeof *r->phase);
    r->displacement = malloc(n * sizeof *r->displacement);
    r->strain = malloc(n * sizeof *r->strain);
    r->vortex_density = calloc(n, sizeof *r->vortex_density);
    r->support = malloc(n);
    r->strain_valid = malloc(n);
    r->vortex_gate = malloc(n);
    r->domain_label = malloc(n * sizeof *r->domain_label);
    if (!r->object || !r->density || !r->phase || !r->displacement || !r->strain ||
        !r->vortex_density || !r->support || !r->strain_valid || !r->vortex_gate ||
        !r->domain_label) {
        free(amplitude);
        bcdi_analysis_result_free(r);
        return bcdi_error(BCDI_ERR_NOMEM, "analyze: %zu voxels", n);
    }
    for (size_t i0 = 0; i0 < r->shape[0]; ++i0)
        for (size_t i1 = 0; i1 < r->shape[1]; ++i1)
            for (size_t i2 = 0; i2 < r->shape[2]; ++i2) {
                size_t v = (i0 * r->shape[1] + i1) * r->shape[2] + i2;
                size_t w = ((i0 + r->origin[0]) * shape[1] + i1 + r->origin[1]) * shape[2] + i2 +
                           r->origin[2];
                r->object[v] = object[w];
                r->support[v] =
                    amplitude[w] > r->threshold_amplitude && (!file_support || support[w]);
                r->density[v] = (float)(amplitude[w] / peak);
            }
    free(amplitude);
    r->amplitude_max = peak;
    r->file_support_used = file_support;
    r->support_voxels = inside;
    r->voxel_volume_nm3 = fabs(bcdi_mat3_det(frame->basis_m)) * 1e27;
    r->total_volume_nm3 = (double)inside * r->voxel_volume_nm3;
    r->volume_of_max_nm3 = (double)r->support_voxels_of_max * r->voxel_volume_nm3;

    /* phase ramp and offset */
    /* the ramp is always measured (it carries the mean lattice change), removed on request */
    bcdi_analysis_fit_ramp(r->shape, r->object, r->support, r->ramp_rad_per_voxel);
    if (p->remove_ramp) bcdi_analysis_apply_ramp(r->shape, r->object, r->ramp_rad_per_voxel, 0.0);
    double inv[3][3];
    bcdi_mat3_inverse(frame->basis_m, inv);
    /* Δq = T^{-T} g: the Bragg peak's offset from the grid centre */
    bcdi_mat3_apply_transpose(inv, r->ramp_rad_per_voxel, r->ramp_q);
    if (frame->has_geometry) {
        /* the lattice scatters at Q_centre + Δq; to first order, as ε = Ĝ·∇u is, the strain
         * relative to d is (|G| − Ĝ·(Q_centre + Δq))/|G| */
        double q[3] = {frame->q_centre[0] + r->ramp_q[0], frame->q_centre[1] + r->ramp_q[1],
                       frame->q_centre[2] + r->ramp_q[2]};
        r->ramp_strain = (frame->g_norm - bcdi_dot3(q, frame->g_hat)) / frame->g_norm;
    } else {
        r->ramp_strain = -bcdi_dot3(r->ramp_q, frame->g_hat) / frame->g_norm;
    }
    /* strain_reference=absolute: what the local derivatives miss is added back. With the ramp
     * removed that is the whole mean lattice strain; with the ramp kept only the detector
     * centre's own offset from G (|G|/|Q_centre| − 1, zero without geometry). */
    r->strain_offset = 0.0;
    if (p->strain_absolute) {
        if (p->remove_ramp)
            r->strain_offset = r->ramp_strain;
        else if (frame->has_geometry)
            r->strain_offset =
                (frame->g_norm - bcdi_dot3(frame->q_centre, frame->g_hat)) / frame->g_norm;
    }
    r->phase_offset_rad =
        bcdi_analysis_phase_reference(r->shape, r->object, r->support, p->phase_reference);
    if (p->phase_reference == BCDI_PHASE_REF_MEAN) {
        double re = 0.0, im = 0.0, total = 0.0;
        for (size_t v = 0; v < n; ++v)
            if (r->support[v])
                re += r->object[v].re, im += r->object[v].im, total += ana_abs(r->object[v]);
        if (total > 0.0 && hypot(re, im) < 0.1 * total)
            bcdi_log(BCDI_LOG_WARN,
                     "analyze: |mean of rho| is %.2g of the mean amplitude (a vortex through the "
                     "middle?): the mean phase reference is ill-defined; try phase_reference=com",
                     hypot(re, im) / total);
    }
    double zero[3] = {0, 0, 0};
    if (r->phase_offset_rad != 0.0)
        bcdi_analysis_apply_ramp(r->shape, r->object, zero, r->phase_offset_rad);

    /* displacement and strain */
    bcdi_analysis_strain(r->shape, r->object, r->support, frame->basis_m, frame->g_hat,
                         frame->g_norm, r->strain, r->strain_valid);
    for (size_t v = 0; v < n; ++v) {
        if (r->support[v]) {
            double phase = atan2(r->object[v].im, r->object[v].re);
            r->phase[v] = (float)phase;
            r->displacement[v] = (float)(-phase / frame->g_norm * 1e10);
            if (r->strain_valid[v]) r->strain[v] = (float)(r->strain[v] + r->strain_offset);
        } else {
            r->phase[v] = 0.0f;
            r->displacement[v] = 0.0f;
        }
    }
    if ((st = bcdi_stats_compute(r->displacement, r->support, n, &r->displacement_stats)) ||
        (st = bcdi_stats_compute(r->strain, r->strain_valid, n, &r->strain_stats)))
        goto fail;

    /* domains */
    if ((st = bcdi_analysis_label_domains(r->shape, r->support, p->domain_erosion,
                                          p->min_domain_voxels, r->domain_label, &r->domain_count,
                                          &r->fragment_count)) != BCDI_OK ||
        (st = domain_table(r)) != BCDI_OK)
        goto fail;

    /* dislocations */
    if ((st = bcdi_interrupt_check("during analyze, before the dislocations")) != BCDI_OK ||
        (st = bcdi_analysis_dislocations(p, frame, r->shape, r->origin, r->input_shape, r->object,
                                         r->density, r->support, r->vortex_gate, r->vortex_density,
                                         &r->lines, &r->line_count, &r->dropped_lines,
                                         &r->vortex_faces)) != BCDI_OK)
        goto fail;
    bcdi_log(BCDI_LOG_INFO,
             "analyze: %zu support voxels (%.4g um^3; %.4g um^3 by the fraction of the maximum), "
             "%zu domain(s), %zu dislocation line(s) (%zu short ones dropped, %zu vortex faces)",
             r->support_voxels, r->total_volume_nm3 * 1e-9, r->volume_of_max_nm3 * 1e-9,
             r->domain_count, r->line_count, r->dropped_lines, r->vortex_faces);
    if (p->orthogonalise &&
        ((st = bcdi_interrupt_check("during analyze, before the orthonormal grid")) != BCDI_OK ||
         (st = bcdi_analysis_orthogonalise(p, r)) != BCDI_OK))
        goto fail;
    return BCDI_OK;
fail:
    bcdi_analysis_result_free(r);
    return st;
}
