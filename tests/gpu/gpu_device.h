/* SPDX-License-Identifier: BSD-3-Clause */
/* Device facts for tools/gpu-verify.sh (bcdi_gpu_checks --device-facts): figures, not checks. */
#ifndef BCDI_TESTS_GPU_DEVICE_H
#define BCDI_TESTS_GPU_DEVICE_H

#include <stddef.h>

/* Prints, one `FACT key=value ...` line each, on CUDA device 0:
 *  - copy: device-to-device cudaMemcpy bandwidth (bytes read + written per second);
 *  - memory: device memory a phasing run holds, sampled with cudaMemGetInfo at every progress
 *    callback of bcdi_phase, for 256^3 with 1 and 2 runs and 128^3 with 1 run: the bytes per
 *    voxel per run, the shared bytes per voxel, and how well that model predicts 128^3;
 *  - largest: the largest 7-smooth cube one run fits in the free memory by that model; an
 *    allocation probe of that cube through the ops table (the engine's buffers and a cuFFT plan,
 *    one forward and inverse transform); a 10-iteration bcdi_phase at that size, or at the
 *    largest the host can hold (host_gib, 0 = MemAvailable; bcdi_phase keeps host copies, up
 *    to about 48 B per voxel), or at try_cap (0 = no cap) if smaller: the host side of a
 *    1024^3 run takes tens of seconds.
 * Returns 0, or 1 if a measurement failed (its line says which). */
int gpu_device_facts(double host_gib, size_t try_cap);

#endif
