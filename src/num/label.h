/* SPDX-License-Identifier: BSD-3-Clause */
/* Voxel neighbourhoods, erosion and breadth-first labelling on C-order 3D grids (6-neighbours, no
 * wrap-around): connected components, growth of labels over a mask, city-block depth. */
#ifndef BCDI_NUM_LABEL_H
#define BCDI_NUM_LABEL_H

#include <stddef.h>
#include <stdint.h>

/* The face neighbours of voxel v inside the box, in the order −axis 0, +axis 0, −axis 1, +axis 1,
 * −axis 2, +axis 2 (absent ones skipped). Returns how many (3 to 6 for a box at least 2 wide). */
static inline int bcdi_neighbours6(const size_t shape[3], size_t v, size_t out[6])
{
    const size_t stride[3] = {shape[1] * shape[2], shape[2], 1};
    const size_t idx[3] = {v / stride[0], (v / stride[1]) % shape[1], v % shape[2]};
    int count = 0;
    for (int a = 0; a < 3; ++a) {
        if (idx[a] > 0) out[count++] = v - stride[a];
        if (idx[a] + 1 < shape[a]) out[count++] = v + stride[a];
    }
    return count;
}

/* out = in eroded once: a voxel stays set when it and its six neighbours are set (voxels on
 * the box's faces are cleared). */
void bcdi_erode6(const size_t shape[3], const uint8_t *in, uint8_t *out);

/* Connected components of `mask`: each voxel with mask set and labels 0 is labelled; components
 * take next_label, next_label + 1, ... in the order their first voxel comes in memory. Returns
 * the next free label. queue: scratch for shape[0]·shape[1]·shape[2] indices. */
long bcdi_label_components(const size_t shape[3], const uint8_t *mask, int32_t *labels,
                           long next_label, size_t *queue);

/* Grow the labels (> 0) over the unlabelled (0) voxels of `mask`, breadth-first from all of them
 * at once: a voxel takes the label that reaches it first (the nearest in city-block distance;
 * ties go to the label queued first, i.e. the lower memory index). queue: scratch as above. */
void bcdi_grow_labels(const size_t shape[3], const uint8_t *mask, int32_t *labels, size_t *queue);

/* City-block distance in voxels from the nearest voxel outside `inside` (0 there); voxels that
 * no outside voxel reaches (inside fills the box) get `unreached`. queue: scratch as above. */
void bcdi_city_block_depth(const size_t shape[3], const uint8_t *inside, int32_t *depth,
                           int32_t unreached, size_t *queue);

#endif
