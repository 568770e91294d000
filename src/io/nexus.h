/* SPDX-License-Identifier: BSD-3-Clause */
/* NeXus/HDF5 rocking-curve stacks in the Diamond I13-1 layout (docs/physics.md §6,
 * docs/file-formats.md):
 *   entry1 (NXentry)/instrument (NXinstrument)/
 *     excalibur (NXdetector)/data            frames x rows x columns, uint16|uint32|float32
 *     excalibur/pixel_mask                   rows x columns uint32, NeXus bits (0 = good,
 *                                            1 gap, 2 dead, ...), optional
 *     excalibur/distance, x_pixel_size, y_pixel_size   m
 *     excalibur/polar_angle                  2θ, deg
 *     t1_theta (NXpositioner)/t1_theta       rocking angles, deg, one per frame
 *     monochromator (NXmonochromator)/energy keV;  .../wavelength  m
 *   entry1/sample/reflection {d_spacing (m), hkl}
 *   entry1/data (NXdata) soft links to data and t1_theta. */
#ifndef BCDI_IO_NEXUS_H
#define BCDI_IO_NEXUS_H

#include "bcdi/error.h"
#include "bcdi/geometry.h"
#include "io/hdf5.h"

#include <stdint.h>
#include <stdio.h>

#define BCDI_NEXUS_DATA_PATH "entry1/instrument/excalibur/data"
#define BCDI_NEXUS_MOTOR_PATH "entry1/instrument/t1_theta/t1_theta"
#define BCDI_NEXUS_MASK_PATH "entry1/instrument/excalibur/pixel_mask"

/* Pixel-mask bits (NeXus NXdetector convention). */
enum {
    BCDI_PIXEL_GAP = 1u << 0,
    BCDI_PIXEL_DEAD = 1u << 1,
    BCDI_PIXEL_HOT = 1u << 2,
    BCDI_PIXEL_SATURATED = 1u << 3, /* not used in pixel_mask (per frame), kept for prepare */
};

typedef struct bcdi_nexus_stack {
    size_t dims[3];                /* frames, rows, columns */
    bcdi_dtype type;               /* BCDI_DT_U16, BCDI_DT_U32 or BCDI_DT_F32 */
    const void *frames;            /* dims[0]*dims[1]*dims[2] values of `type` */
    const double *rocking_deg;     /* dims[0] angles */
    const uint32_t *pixel_mask;    /* rows*columns or NULL */
    const bcdi_geometry *geometry; /* energy, distance, pixel sizes, 2θ, d-spacing, hkl */
    int deflate_level;             /* 0 = none */
    /* extra provenance written under entry1/simulation/ when not NULL: */
    const char *const *config_keys;
    const char *const *config_values;
    size_t config_count;
} bcdi_nexus_stack;

/* Write the stack, staged in tx (NULL: its own transaction, committed here; core/output.h). */
bcdi_status bcdi_nexus_write_stack(bcdi_output *tx, const char *path,
                                   const bcdi_nexus_stack *stack);

/* Fill from an open NeXus file what it holds: energy (keV), wavelength, distance, pixel sizes
 * (y = rows -> pixel_size_m[0], x = columns -> [1]), polar_angle -> two_theta (and angles =
 * BCDI_DETECTOR_TWO_THETA), d_spacing, hkl, and rocking_step_deg = (last - first)/(n - 1) of
 * the t1_theta array. Fields the file lacks are left untouched (set defaults first). `units`
 * attributes are honoured (m/mm/um/nm, deg/rad, keV/eV); unknown units are an error. */
bcdi_status bcdi_nexus_read_geometry(bcdi_h5_reader *r, bcdi_geometry *geometry);

/* One line for `braggcdi info` when the open file holds an I13-1 stack (frames, rocking range,
 * energy, distance, pixel, 2θ); nothing otherwise. */
void bcdi_nexus_describe(bcdi_h5_reader *r, FILE *out);

#endif
