/* SPDX-License-Identifier: BSD-3-Clause */
/* Host-side 3D volume helpers: periodic rolls (fftshift/ifftshift), centres of mass, bounding
 * boxes. */
#ifndef BCDI_NUM_VOLUME_H
#define BCDI_NUM_VOLUME_H

#include <stddef.h>
#include <stdint.h>

/* dst[(i + shift) mod n] = src[i] per axis; dst and src must not overlap. */
void bcdi_roll3(void *dst, const void *src, const size_t shape[3], size_t elem_size,
                const long shift[3]);
/* Zero frequency from index 0 to index n/2 (numpy.fft.fftshift), and back (ifftshift). */
void bcdi_fftshift3(void *dst, const void *src, const size_t shape[3], size_t elem_size);
void bcdi_ifftshift3(void *dst, const void *src, const size_t shape[3], size_t elem_size);
/* Circular (periodic) centre of mass of non-negative weights, per axis in [0, n). Returns 0 if
 * the weights sum to zero. */
int bcdi_circular_com(const float *weight, const size_t shape[3], double com[3]);
/* Plain centre of mass per axis (array index order) of the weights where mask is set (NULL: all
 * voxels). Returns the total weight; com is set only when it is > 0. */
double bcdi_centre_of_mass(const float *weight, const uint8_t *mask, const size_t shape[3],
                           double com[3]);
/* Smallest box holding every non-zero voxel of `mask`: first[a]..last[a] inclusive. Returns the
 * number of non-zero voxels (0: first/last untouched). */
size_t bcdi_mask_bounds(const uint8_t *mask, const size_t shape[3], size_t first[3],
                        size_t last[3]);
/* [first - margin, last + margin] clipped to the array, as origin and extent. */
void bcdi_box_with_margin(const size_t first[3], const size_t last[3], size_t margin,
                          const size_t shape[3], size_t origin[3], size_t extent[3]);

#endif
