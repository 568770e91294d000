/* SPDX-License-Identifier: BSD-3-Clause */
/* `braggcdi simulate` end to end: geometry -> object -> intensity -> frames -> files.
 * Files: the NeXus stack (p->output), the truth CXI, optional TIFF frames, all in one output
 * transaction (core/output.h): they appear together, or, after a failure at any step, none. */
#include "backend/backend.h"
#include "bcdi/log.h"
#include "bcdi/simulate.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "io/cxi.h"
#include "io/hdf5.h"
#include "io/nexus.h"
#include "io/tiff_io.h"
#include "num/constants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

bcdi_status bcdi_simulate_geometry(const bcdi_simulate_params *p, bcdi_geometry *g)
{
    bcdi_status st = bcdi_simulate_validate(p);
    if (st != BCDI_OK) return st;
    bcdi_geometry_default_i13(g);
    g->energy_kev = p->energy_kev;
    g->wavelength_m = bcdi_wavelength_m(p->energy_kev);
    g->distance_m = p->distance_m;
    g->pixel_size_m[0] = g->pixel_size_m[1] = p->pixel_um * 1e-6;
    g->angles = BCDI_DETECTOR_TWO_THETA;
    g->d_spacing_m = p->d_spacing_angstrom * 1e-10;
    g->rocking_step_deg = p->rocking_step_deg;
    for (int a = 0; a < 3; ++a)
        g->hkl[a] = p->hkl[a];
    if (p->two_theta_deg > 0.0) {
        g->two_theta_deg = p->two_theta_deg;
    } else if ((st = bcdi_bragg_two_theta_deg(g->wavelength_m, g->d_spacing_m,
                                              &g->two_theta_deg)) != BCDI_OK) {
        return st;
    }
    g->delta_deg = g->two_theta_deg;
    g->gamma_deg = 0.0;
    return bcdi_geometry_compute(g, p->shape);
}

/* <output without its extension>_truth.cxi */
static bcdi_status default_truth_path(const char *output, char *truth)
{
    const char *slash = strrchr(output, '/');
    const char *dot = strrchr(output, '.');
    size_t stem = (dot && (!slash || dot > slash + 1)) ? (size_t)(dot - output) : strlen(output);
    if (stem + strlen("_truth.cxi") + 1 > BCDI_SIM_PATH_MAX)
        return bcdi_error(BCDI_ERR_INVALID_ARG, "output: path too long");
    memcpy(truth, output, stem);
    strcpy(truth + stem, "_truth.cxi");
    return BCDI_OK;
}

static bcdi_dtype stored_type(bcdi_sim_dtype t)
{
    return t == BCDI_SIM_UINT16 ? BCDI_DT_U16 : (t == BCDI_SIM_UINT32 ? BCDI_DT_U32 : BCDI_DT_F32);
}

/* Everything the truth file holds besides the object: displacement, amplitude, domains,
 * dislocation lines (n x 9: point m, unit direction, Burgers vector m; crystal frame). */
static bcdi_status write_truth_extras(bcdi_h5_writer *w, const bcdi_simulate_params *p,
                                      const bcdi_simulate_object *obj)
{
    bcdi_status st;
    const char *group = "entry_1/image_1/truth";
    if ((st = bcdi_h5_group(w, group, "NXcollection")) != BCDI_OK ||
        (st = bcdi_h5_write(w, "entry_1/image_1/truth/displacement", BCDI_DT_F32, 3, obj->shape,
                            obj->displacement, p->deflate)) != BCDI_OK ||
        (st = bcdi_h5_attr_string(w, "entry_1/image_1/truth/displacement", "units", "angstrom")) !=
            BCDI_OK ||
        (st = bcdi_h5_attr_string(w, "entry_1/image_1/truth/displacement", "description",
                                  "u.G_hat (A); phase = -|G| u")) != BCDI_OK ||
        (st = bcdi_h5_write(w, "entry_1/image_1/truth/amplitude", BCDI_DT_F32, 3, obj->shape,
                            obj->amplitude, p->deflate)) != BCDI_OK ||
        (st = bcdi_h5_write(w, "entry_1/image_1/truth/domain", BCDI_DT_U8, 3, obj->shape,
                            obj->domain, p->deflate)) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry_1/image_1/truth/crystal_radius", obj->crystal_radius_m,
                                   "m")) != BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry_1/image_1/truth/g_norm", obj->g_norm, "1/m")) !=
            BCDI_OK ||
        (st = bcdi_h5_write_double(w, "entry_1/image_1/truth/strain", p->strain, "")) != BCDI_OK)
        return st;
    size_t axes_dims[2] = {3, 3};
    if ((st = bcdi_h5_write(w, "entry_1/image_1/truth/crystal_axes", BCDI_DT_F64, 2, axes_dims,
                            obj->crystal_axes, 0)) != BCDI_OK ||
        (st = bcdi_h5_attr_string(w, "entry_1/image_1/truth/crystal_axes", "description",
                                  "rows: crystal x, y, z (= G) as lab unit vectors")) != BCDI_OK)
        return st;
    size_t centre_dims[2] = {(size_t)p->domains, 3};
    if ((st = bcdi_h5_write(w, "entry_1/image_1/truth/domain_centres", BCDI_DT_F64, 2, centre_dims,
                            obj->domain_centre_m, 0)) != BCDI_OK ||
        (st = bcdi_h5_write_int(w, "entry_1/image_1/truth/dislocation_count",
                                (long)p->dislocation_count)) != BCDI_OK)
        return st;
    if (p->dislocation_count == 0) return BCDI_OK;
    double lines[BCDI_SIM_MAX_DISLOCATIONS][9];
    for (size_t k = 0; k < p->dislocation_count; ++k) {
        const bcdi_sim_dislocation *l = &p->dislocations[k];
        double len = 0.0;
        for (int a = 0; a < 3; ++a)
            len += l->direction[a] * l->direction[a];
        len = len > 0.0 ? 1.0 / sqrt(len) : 0.0;
        for (int a = 0; a < 3; ++a) {
            lines[k][a] = l->position_nm[a] * 1e-9;
            lines[k][3 + a] = l->direction[a] * len;
            lines[k][6 + a] = l->burgers_angstrom[a] * 1e-10;
        }
    }
    size_t line_dims[2] = {p->dislocation_count, 9};
    if ((st = bcdi_h5_write(w, "entry_1/image_1/truth/dislocations", BCDI_DT_F64, 2, line_dims,
                            lines, 0)) != BCDI_OK)
        return st;
    return bcdi_h5_attr_string(w, "entry_1/image_1/truth/dislocations", "description",
                               "per line: point (m), unit direction, Burgers vector (m); crystal "
                               "frame, z = G");
}

bcdi_status bcdi_simulate_run(const bcdi_simulate_params *p, bcdi_backend *backend,
                              const char *const *config_keys, const char *const *config_values,
                              size_t config_count)
{
    bcdi_status st = bcdi_simulate_validate(p);
    if (st != BCDI_OK) return st;
    if (!p->output[0])
        return bcdi_error(BCDI_ERR_INVALID_ARG, "output: no NeXus file named (-o stack.nxs)");
    char how[120];
    snprintf(how, sizeof how, "shape %zu x %zu x %zu", p->shape[0], p->shape[1], p->shape[2]);
    if ((st = bcdi_memory_check(bcdi_simulate_memory_estimate(p), p->max_memory, "simulate", how,
                                "use a smaller shape=, or raise max_memory=")) != BCDI_OK)
        return st;
    char *truth_path = malloc(BCDI_SIM_PATH_MAX);
    if (!truth_path) return bcdi_error(BCDI_ERR_NOMEM, "simulate");
    if (p->truth[0])
        strcpy(truth_path, p->truth);
    else if ((st = default_truth_path(p->output, truth_path)) != BCDI_OK) {
        free(truth_path);
        return st;
    }
    if (bcdi_output_same(truth_path, p->output)) {
        free(truth_path);
        return bcdi_error(BCDI_ERR_INVALID_ARG, "truth: same path as the output '%s'", p->output);
    }

    bcdi_geometry g;
    bcdi_simulate_object obj;
    bcdi_simulate_frames frames;
    memset(&obj, 0, sizeof obj);
    memset(&frames, 0, sizeof frames);
    float *intensity = NULL;
    bcdi_output *tx = NULL;
    bcdi_h5_writer *truth = NULL;
    char **own_keys = NULL, **own_values = NULL;
    size_t own_count = 0;

    if ((st = bcdi_simulate_geometry(p, &g)) != BCDI_OK) goto done;
    if ((st = bcdi_simulate_make_object(p, &g, &obj)) != BCDI_OK) goto done;
    const size_t n = p->shape[0] * p->shape[1] * p->shape[2];
    intensity = malloc(n * sizeof *intensity);
    if (!intensity) {
        st = bcdi_error(BCDI_ERR_NOMEM, "simulate: intensity of %zu voxels", n);
        goto done;
    }
    if ((st = bcdi_interrupt_check("during simulate, before the intensities")) != BCDI_OK ||
        (st = bcdi_simulate_intensity(backend, p->shape, obj.object, intensity)) != BCDI_OK ||
        (st = bcdi_interrupt_check("during simulate, before the frames")) != BCDI_OK ||
        (st = bcdi_simulate_frames_make(p, &g, intensity, &frames)) != BCDI_OK)
        goto done;
    if (frames.saturated)
        bcdi_log(BCDI_LOG_NOTICE, "simulate: %zu voxels clipped at 2^%d - 1 counts",
                 frames.saturated, p->bits);

    if (!config_keys || !config_values) {
        if ((st = bcdi_simulate_params_strings(p, &own_keys, &own_values, &own_count)) != BCDI_OK)
            goto done;
        config_keys = (const char *const *)own_keys;
        config_values = (const char *const *)own_values;
        config_count = own_count;
    }

    if ((st = bcdi_interrupt_check("during simulate, before writing")) != BCDI_OK ||
        (st = bcdi_output_begin(&tx)) != BCDI_OK ||
        (st = bcdi_cxi_create_in(tx, truth_path, &truth)) != BCDI_OK ||
        (st = bcdi_cxi_write_object(truth, p->shape, obj.object, obj.support, p->deflate)) !=
            BCDI_OK ||
        (st = bcdi_cxi_write_geometry(truth, &g)) != BCDI_OK ||
        (st = bcdi_cxi_write_config(truth, "entry_1/image_1/process_1/configuration", config_keys,
                                    config_values, config_count)) != BCDI_OK ||
        (st = write_truth_extras(truth, p, &obj)) != BCDI_OK)
        goto done;
    st = bcdi_h5_commit(truth); /* closed; on disk with the others when tx commits */
    truth = NULL;
    if (st != BCDI_OK) goto done;

    if (p->tiff_dir[0] &&
        (st = bcdi_tiff_write_frames(tx, p->tiff_dir, "frame", stored_type(p->dtype), frames.dims,
                                     frames.data)) != BCDI_OK)
        goto done;

    bcdi_nexus_stack stack = {
        .dims = {frames.dims[0], frames.dims[1], frames.dims[2]},
        .type = stored_type(p->dtype),
        .frames = frames.data,
        .rocking_deg = frames.rocking_deg,
        .pixel_mask = frames.pixel_mask,
        .geometry = &g,
        .deflate_level = p->deflate,
        .config_keys = config_keys,
        .config_values = config_values,
        .config_count = config_count,
    };
    if ((st = bcdi_nexus_write_stack(tx, p->output, &stack)) != BCDI_OK) goto done;
    st = bcdi_output_commit(tx);
    tx = NULL;
    if (st != BCDI_OK) goto done;
    bcdi_log(BCDI_LOG_INFO,
             "simulate: wrote %s (%zu x %zu x %zu) and %s; crystal radius %.1f nm, scale %.4g",
             p->output, frames.dims[0], frames.dims[1], frames.dims[2], truth_path,
             obj.crystal_radius_m * 1e9, frames.scale);
done:
    if (truth) bcdi_h5_abort(truth);
    bcdi_output_abort(tx);
    bcdi_simulate_strings_free(own_keys, own_values, own_count);
    bcdi_simulate_frames_free(&frames);
    bcdi_simulate_object_free(&obj);
    free(intensity);
    free(truth_path);
    return st;
}
