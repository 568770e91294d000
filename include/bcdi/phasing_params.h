/* SPDX-License-Identifier: BSD-3-Clause */
/* The keys of `braggcdi phase`: one table bound to the phasing engine's parameters
 * (bcdi_phasing_params) plus the keys of the run around it (device, FFT planner, how the result
 * is written). bcdi_config_bind(cfg, bcdi_phase_param_table(), &options) fills and checks them
 * all before any data is read (bcdi/config.h). */
#ifndef BCDI_PHASING_PARAMS_H
#define BCDI_PHASING_PARAMS_H

#include "bcdi/config.h"
#include "bcdi/error.h"
#include "bcdi/phasing.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most runs `phase` takes: every run keeps its object and support in host memory between
 * batches (9 bytes per voxel: 10000 runs of 128 x 64 x 64 voxels hold 47 GB). */
#define BCDI_PHASE_MAX_RUNS 10000

typedef struct bcdi_phase_options {
    bcdi_phasing_params phasing;
    char device[64];       /* auto, cpu, cuda or cuda:N */
    int fft_measure;       /* CPU FFTW planner: 1 = measure, 0 = estimate */
    char fft_wisdom[1024]; /* measured plans kept in: auto (per user and machine), none, a path */
    int crop;              /* write the object cropped to its support plus crop_margin */
    long crop_margin;      /* voxels */
    int deflate;           /* gzip level of the written datasets */
    size_t max_memory;     /* bytes the run may use; 0 = what the machine offers (core/memory.h) */
    double checkpoint_interval; /* seconds of work between checkpoints (<output>.ckpt); 0 = none */
    int restart;                /* discard an existing checkpoint instead of resuming from it */
    int combine; /* keep >= 2: the answer is the kept runs aligned and averaged (combine_runs.h) */
    int report;  /* write <output stem>_report/ (an HTML page with PNG panels) beside the result */
} bcdi_phase_options;

const bcdi_param_table *bcdi_phase_param_table(void);

/* Host memory (bytes) `phase` needs for data of `shape` with these options, from the engine's
 * own accounting (src/phasing/engine.c): the data (intensity 4 + mask 1 B/voxel, a support_file
 * 1), the initial support (1), every run's object and support between batches (9 B/voxel/run),
 * the best of the generations (8, with generations > 1), the copies of the best runs of every
 * generation (9 per kept run), the kept runs' results (9 each), the
 * result being written (9), and, when the backend's memory is host memory (CPU), the shared
 * amplitudes and mask (5) and one batch of working arrays (rho, psi, support: 17 B/voxel/run,
 * DM 8 more, psf=gaussian 16 more, FFT scratch 8, 16 with fft_planner=measure); with
 * psf=gaussian also 12 B/voxel of host scratch and 4 per kept run (its PSF); combining K >= 2
 * kept runs (combine=) adds their aligned copies (8 K), the average (8) and the PRTF's transform
 * (16); plus 64 MiB for the libraries. */
double bcdi_phase_memory_estimate(const bcdi_phase_options *options, const size_t shape[3],
                                  int backend_on_host);
/* The defaults of the table. */
void bcdi_phase_options_default(bcdi_phase_options *options);

/* "auto", "cpu", "cuda" or "cuda:N" (N a device number), else BCDI_ERR_CONFIG saying so; the
 * syntax only: whether the device answers is the backend's to say. */
bcdi_status bcdi_device_name_check(const char *device);

#ifdef __cplusplus
}
#endif
#endif
