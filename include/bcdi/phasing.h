/* SPDX-License-Identifier: BSD-3-Clause */
/* Phase retrieval engine (`braggcdi phase`, docs/algorithms.md): ER, HIO, RAAR and DM from a
 * recipe, shrink-wrap support updates, batched independent runs and guided seeding
 * (generations), on any backend through its ops table. */
#ifndef BCDI_PHASING_H
#define BCDI_PHASING_H

#include "bcdi/backend.h"
#include "bcdi/error.h"
#include "bcdi/types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ranking metrics; lower is better for every one of them. */
typedef enum {
    BCDI_METRIC_LLK = 0,  /* Poisson log-likelihood (deviance/2) per measured pixel */
    BCDI_METRIC_FOURIER,  /* Fourier error sqrt(sum (|Psi| - sqrt(I))^2 / sum I), measured pixels */
    BCDI_METRIC_FREE_LLK, /* the same log-likelihood over the held-out (free) pixels */
    BCDI_METRIC_SHARPNESS /* N_S sum_S |rho|^4 / (sum_S |rho|^2)^2: 1 for a flat object */
} bcdi_metric;

typedef enum {
    BCDI_SUPPORT_AUTOCORRELATION = 0, /* threshold of |autocorrelation of I| */
    BCDI_SUPPORT_BOX,
    BCDI_SUPPORT_SPHERE,
    BCDI_SUPPORT_FILE /* a CXI result's entry_1/image_1/mask (same shape) */
} bcdi_support_init;

/* Partial coherence (docs/algorithms.md, "Partial coherence"). */
typedef enum {
    BCDI_PSF_NONE = 0, /* fully coherent model: I = |Psi|^2 */
    BCDI_PSF_GAUSSIAN  /* I = |Psi|^2 convolved with an axis-aligned Gaussian PSF whose widths
                        * are refined by Richardson-Lucy during phasing */
} bcdi_psf_model;

typedef struct bcdi_phasing_params {
    char recipe[4096]; /* one recipe, or one per generation separated by ';' */
    double beta;       /* default beta for HIO/RAAR/DM steps */
    long runs;         /* population / independent starts */
    long keep;         /* best runs returned */
    long batch;        /* runs per backend batch (0 = all) */
    long generations;  /* 1 = independent runs; > 1 = guided seeding */
    bcdi_metric metric;
    uint64_t seed;
    int positivity; /* default for steps that do not say */
    int real_only;  /* keep only Re(rho) inside the support (a real-valued object) */
    /* initial support */
    bcdi_support_init support_init;
    double support_autocorrelation_threshold; /* relative to the maximum */
    double support_size;                      /* box/sphere: fraction of each axis */
    char support_file[4096];
    /* shrink-wrap (Marchesini 2003) */
    double shrinkwrap_sigma_start, shrinkwrap_sigma_end; /* voxels, geometric decay */
    double shrinkwrap_threshold; /* relative to max (or rms) of the blurred |rho| */
    int shrinkwrap_threshold_rms;
    long shrinkwrap_period; /* iterations between updates (0 = never) */
    int shrinkwrap_only_shrink;
    int shrinkwrap_in_er; /* also update during ER steps (off: ER zeroes the outside, so each
                           * blurred edge falls under the threshold again and the support
                           * shrinks step after step) */
    double support_min_fraction, support_max_fraction;
    long support_max_restarts;
    /* metrics */
    long metric_interval;
    double free_fraction; /* fraction of measured pixels held out, in 3x3x3 islands */
    /* guided seeding */
    char breed_rule[32];  /* sqrt_ab, pixel_switch, b_pa, avg_ab, ... */
    double cull_fraction; /* share of the population dropped after each generation */
    /* partial coherence (Clark et al., Nat. Commun. 3, 993 (2012)) */
    bcdi_psf_model psf_model;
    double psf_sigma;       /* starting width of the Gaussian PSF, detector voxels (rms) */
    long psf_period;        /* iterations between Richardson-Lucy updates of the PSF */
    long psf_start;         /* recipe iteration from which the PSF model is used */
    long psf_rl_iterations; /* Richardson-Lucy steps per update */
    /* masked-voxel regularisation: the model's intensity in an unmeasured voxel is held at most
     * mask_bound_factor * (the largest measured intensity within mask_bound_radius + 1) */
    int mask_bound;
    long mask_bound_radius;   /* voxels along each axis */
    double mask_bound_factor; /* > 0 */
} bcdi_phasing_params;

/* Fill every field with its default (the defaults `braggcdi phase --help` lists). */
void bcdi_phasing_default_opts(bcdi_phasing_params *p);
/* The same under its first name (kept for existing callers). */
void bcdi_phasing_default(bcdi_phasing_params *p);

/* Prepared data as the engine needs it: centred intensities (peak at shape/2) and a mask
 * (non-zero = not measured), both host arrays of shape[0]*shape[1]*shape[2]. */
typedef struct bcdi_phasing_data {
    size_t shape[3];
    const float *intensity;
    const uint8_t *mask;         /* NULL = all measured */
    const uint8_t *support_file; /* centred initial support for BCDI_SUPPORT_FILE, else NULL */
} bcdi_phasing_data;

/* Read a prepared CXI file (written by `braggcdi prepare`; any CXI file with
 * entry_1/instrument_1/detector_1/data or entry_1/data_1/data) into `data`: the library
 * allocates intensity and mask (all zero when the file has none) and sets support_file to NULL.
 * Release with bcdi_phasing_data_free. On failure `data` is zeroed and nothing is allocated. */
bcdi_status bcdi_phasing_data_read(const char *path, bcdi_phasing_data *data);
/* Free what bcdi_phasing_data_read allocated (intensity, mask) and zero the struct; support_file
 * belongs to the caller and is left alone. NULL is allowed. */
void bcdi_phasing_data_free(bcdi_phasing_data *data);

/* One history point: metrics of a run at an iteration. */
/* fourier_error is the Fourier error as the field writes it, the root of the squared modulus
 * misfit relative to the data over the measured pixels M:
 *     sqrt( sum_M (|Psi| - sqrt(I))^2 / sum_M I )
 * (files before this definition held its square); llk is the Poisson log-likelihood
 * (deviance / 2) per measured pixel (docs/algorithms.md, Metrics). */
/* masked_photons is the model's intensity summed over the unmeasured pixels (NaN with none),
 * masked_over_bound the share of the bounded ones where the model exceeds its bound (mask_bound;
 * NaN with none bounded). */
typedef struct bcdi_history_point {
    long iteration;
    float fourier_error, llk, free_llk, sharpness, support_fraction, outside_fraction;
    float masked_photons, masked_over_bound;
} bcdi_history_point;

typedef struct bcdi_run_result {
    long run_id;                 /* index of the random start */
    long generation;             /* generation it finished in */
    int restarts;                /* support-collapse restarts used */
    double shrinkwrap_threshold; /* threshold it ended with */
    bcdi_cf *object;             /* centred, mean phase 0 in the support (shape of the data) */
    uint8_t *support;            /* centred, 1 = inside */
    bcdi_history_point final;    /* metrics at the last iteration */
    bcdi_history_point *history;
    size_t history_count;
    /* psf=gaussian: the final PSF (centred like the data, unit sum) and its rms widths per axis
     * in detector voxels; NULL and zeros without a PSF model */
    float *psf;
    double psf_sigma[3];
} bcdi_run_result;

typedef struct bcdi_phasing_result {
    size_t shape[3];
    /* the best `keep` runs of all generations (each ranked by params.metric at the end of the
     * generation it ran in; guided seeding can end worse than it was), best first; `count` =
     * min(keep, successes) */
    bcdi_run_result *runs;
    size_t count;
    long total_iterations; /* per run */
    double elapsed_s;
    double metric_best_per_generation[64];
    long generations_done;
} bcdi_phasing_result;

/* Called every few iterations: iterations done of total (per run, all generations), and the
 * current value of the ranking metric of the leading run (bcdi_phase_progress.metric; NaN
 * before the first evaluation). */
typedef void (*bcdi_progress_fn)(long done, long total, double metric, void *user);

/* Where a phase run stands, for a progress display. The leading run is the run with the lowest
 * ranking metric at the latest evaluation among the runs being iterated together (every run of
 * the process unless batch= splits them); its values are the current ones, not the best seen
 * (a run's metrics rise and fall under HIO). */
typedef struct bcdi_phase_progress {
    long done, total;     /* iterations per run, all generations */
    long generation;      /* being run, from 0 */
    long run_id;          /* the leading run; -1 before the first evaluation */
    double metric;        /* its ranking metric now (NaN before the first evaluation) */
    double llk;           /* its current Poisson llk per measured pixel */
    double fourier_error; /* its current Fourier error (bcdi_history_point.fourier_error) */
    double free_llk;      /* its current free llk (NaN without free pixels) */
} bcdi_phase_progress;
typedef void (*bcdi_phase_progress_fn)(const bcdi_phase_progress *now, void *user);

bcdi_status bcdi_phase(bcdi_backend *backend, const bcdi_phasing_params *params,
                       const bcdi_phasing_data *data, bcdi_progress_fn progress, void *user,
                       bcdi_phasing_result *out);
void bcdi_phasing_result_free(bcdi_phasing_result *result);

const char *bcdi_metric_name(bcdi_metric metric);
bcdi_status bcdi_metric_from_name(const char *name, bcdi_metric *metric);

#ifdef __cplusplus
}
#endif
#endif
