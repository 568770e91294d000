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
    char device[64];  /* auto, cpu, cuda or cuda:N */
    int fft_measure;  /* CPU FFTW planner: 1 = measure, 0 = estimate */
    int crop;         /* write the object cropped to its support plus crop_margin */
    long crop_margin; /* voxels */
    int deflate;      /* gzip level of the written datasets */
    double checkpoint_interval; /* seconds of work between checkpoints (<output>.ckpt); 0 = none */
    int restart;                /* discard an existing checkpoint instead of resuming from it */
} bcdi_phase_options;

const bcdi_param_table *bcdi_phase_param_table(void);
/* The defaults of the table. */
void bcdi_phase_options_default(bcdi_phase_options *options);

/* "auto", "cpu", "cuda" or "cuda:N" (N a device number), else BCDI_ERR_CONFIG saying so; the
 * syntax only: whether the device answers is the backend's to say. */
bcdi_status bcdi_device_name_check(const char *device);

#ifdef __cplusplus
}
#endif
#endif
