/* SPDX-License-Identifier: BSD-3-Clause */
/* Phase retrieval with libbcdi from a program of your own: open a backend, read the prepared data
 * `braggcdi prepare` wrote, run bcdi_phase with the default options and a short recipe, print the
 * best run's metrics and write the central slice of its amplitude as a PGM image.
 *
 *   phase_prepared PREPARED.cxi [OUT.pgm] [DEVICE]      DEVICE: auto (default), cpu, cuda, cuda:N
 *
 * It includes nothing but the installed headers; examples/CMakeLists.txt and examples/Makefile
 * build it against an installed libbcdi. Exit status: 0 on success, 1 when the library reports
 * an error (its message names the file or parameter), 2 on a usage error. */
#include <bcdi/bcdi.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The library never prints: it hands its notices to a sink, here stderr. */
static void log_to_stderr(bcdi_log_level level, const char *message, void *user)
{
    (void)user;
    if (level >= BCDI_LOG_INFO) fprintf(stderr, "libbcdi: %s\n", message);
}

static int fail(const char *what, bcdi_status status)
{
    fprintf(stderr, "phase_prepared: %s: %s: %s\n", what, bcdi_strerror(status), bcdi_last_error());
    return 1;
}

/* |rho| on the slice through the middle of axis 0, scaled to 0..255 (binary PGM). */
static int write_slice_pgm(const char *path, const bcdi_cf *object, const size_t shape[3])
{
    const size_t rows = shape[1], cols = shape[2];
    const bcdi_cf *slice = object + (shape[0] / 2) * rows * cols;
    double max = 0.0;
    for (size_t i = 0; i < rows * cols; ++i)
        max = fmax(max, hypot(slice[i].re, slice[i].im));
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fprintf(f, "P5\n%zu %zu\n255\n", cols, rows);
    for (size_t i = 0; i < rows * cols; ++i) {
        double level = max > 0.0 ? 255.0 * hypot(slice[i].re, slice[i].im) / max : 0.0;
        fputc((int)(level + 0.5), f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: %s PREPARED.cxi [OUT.pgm] [auto|cpu|cuda|cuda:N]\n", argv[0]);
        return 2;
    }
    const char *input = argv[1];
    const char *image = argc > 2 ? argv[2] : NULL;
    const char *device = argc > 3 ? argv[3] : "auto";

    /* the headers and the library linked at run time should be one version */
    if (strcmp(bcdi_version(), BCDI_VERSION_STRING) != 0)
        fprintf(stderr, "phase_prepared: headers %s, library %s\n", BCDI_VERSION_STRING,
                bcdi_version());
    bcdi_set_log_sink(log_to_stderr, NULL);

    bcdi_phasing_data data;
    bcdi_status st = bcdi_phasing_data_read(input, &data);
    if (st != BCDI_OK) return fail(input, st);
    size_t n = data.shape[0] * data.shape[1] * data.shape[2], masked = 0;
    for (size_t i = 0; i < n; ++i)
        masked += data.mask[i] != 0;
    printf("data: %zu x %zu x %zu voxels, %.2f%% masked\n", data.shape[0], data.shape[1],
           data.shape[2], 100.0 * (double)masked / (double)n);
    bcdi_geometry geometry;
    if (bcdi_geometry_read(input, &geometry) == BCDI_OK)
        printf("voxel: %.1f x %.1f x %.1f nm\n", geometry.voxel_size_m[0] * 1e9,
               geometry.voxel_size_m[1] * 1e9, geometry.voxel_size_m[2] * 1e9);

    bcdi_backend *backend = NULL;
    if ((st = bcdi_backend_open(device, &backend)) != BCDI_OK) {
        bcdi_phasing_data_free(&data);
        return fail(device, st);
    }
    printf("backend: %s (%s)\n", bcdi_backend_kind_name(bcdi_backend_get_kind(backend)),
           bcdi_backend_device_name(backend));

    /* defaults, then a shorter recipe than the default 400*HIO + 200*RAAR + 200*ER */
    bcdi_phasing_params params;
    bcdi_phasing_default_opts(&params);
    snprintf(params.recipe, sizeof params.recipe, "%s", "100*HIO + 50*RAAR + 50*ER");
    params.seed = 1;
    params.runs = 1;

    bcdi_phasing_result result;
    memset(&result, 0, sizeof result);
    st = bcdi_phase(backend, &params, &data, NULL, NULL, &result);
    int rc = 0;
    if (st != BCDI_OK) {
        rc = fail("bcdi_phase", st);
    } else {
        const bcdi_run_result *best = &result.runs[0];
        printf("best run %ld: fourier_error=%.6g llk=%.6g support_fraction=%.6g "
               "iterations=%ld elapsed_s=%.1f\n",
               best->run_id, best->final.fourier_error, best->final.llk,
               best->final.support_fraction, result.total_iterations, result.elapsed_s);
        if (image && write_slice_pgm(image, best->object, result.shape) != 0) {
            fprintf(stderr, "phase_prepared: cannot write '%s'\n", image);
            rc = 1;
        } else if (image) {
            printf("wrote %s\n", image);
        }
    }
    bcdi_phasing_result_free(&result);
    bcdi_backend_close(backend);
    bcdi_phasing_data_free(&data);
    return rc;
}
