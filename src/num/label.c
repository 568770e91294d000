/* SPDX-License-Identifier: BSD-3-Clause */
#include "num/label.h"

void bcdi_erode6(const size_t shape[3], const uint8_t *in, uint8_t *out)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    for (size_t v = 0; v < n; ++v) {
        out[v] = 0;
        if (!in[v]) continue;
        size_t nb[6];
        int count = bcdi_neighbours6(shape, v, nb), keep = count == 6;
        for (int k = 0; k < count && keep; ++k)
            keep = in[nb[k]];
        out[v] = (uint8_t)keep;
    }
}

long bcdi_label_components(const size_t shape[3], const uint8_t *mask, int32_t *labels,
                           long next_label, size_t *queue)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    for (size_t seed = 0; seed < n; ++seed) {
        if (!mask[seed] || labels[seed] != 0) continue;
        size_t head = 0, tail = 0;
        queue[tail++] = seed;
        labels[seed] = (int32_t)next_label;
        while (head < tail) {
            size_t nb[6];
            int count = bcdi_neighbours6(shape, queue[head++], nb);
            for (int k = 0; k < count; ++k)
                if (mask[nb[k]] && labels[nb[k]] == 0) {
                    labels[nb[k]] = (int32_t)next_label;
                    queue[tail++] = nb[k];
                }
        }
        ++next_label;
    }
    return next_label;
}

void bcdi_grow_labels(const size_t shape[3], const uint8_t *mask, int32_t *labels, size_t *queue)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    size_t head = 0, tail = 0;
    for (size_t v = 0; v < n; ++v)
        if (labels[v] > 0) queue[tail++] = v;
    while (head < tail) {
        size_t v = queue[head++], nb[6];
        int count = bcdi_neighbours6(shape, v, nb);
        for (int k = 0; k < count; ++k)
            if (mask[nb[k]] && labels[nb[k]] == 0) {
                labels[nb[k]] = labels[v];
                queue[tail++] = nb[k];
            }
    }
}

void bcdi_city_block_depth(const size_t shape[3], const uint8_t *inside, int32_t *depth,
                           int32_t unreached, size_t *queue)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    size_t head = 0, tail = 0;
    for (size_t v = 0; v < n; ++v) {
        depth[v] = inside[v] ? -1 : 0;
        if (!inside[v]) queue[tail++] = v;
    }
    while (head < tail) {
        size_t v = queue[head++], nb[6];
        int count = bcdi_neighbours6(shape, v, nb);
        for (int k = 0; k < count; ++k)
            if (depth[nb[k]] < 0) {
                depth[nb[k]] = depth[v] + 1;
                queue[tail++] = nb[k];
            }
    }
    for (size_t v = 0; v < n; ++v)
        if (depth[v] < 0) depth[v] = unreached;
}
