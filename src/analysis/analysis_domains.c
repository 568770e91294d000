/* SPDX-License-Identifier: BSD-3-Clause */
/* Domains: connected components (6-neighbours) of the thresholded density. Optional neck
 * splitting: erode the support k times (a neck thinner than ~2k voxels vanishes), label the
 * eroded components, then grow the labels back over the original support breadth-first (each
 * voxel joins the seed reached first, i.e. the nearest in city-block distance). Parts that no
 * eroded seed reaches are labelled as components of their own. */
#include "analysis_internal.h"

#include "num/label.h"

#include <stdlib.h>
#include <string.h>

typedef struct label_size {
    long label;
    size_t voxels;
} label_size;

static int by_size_desc(const void *a, const void *b)
{
    const label_size *x = a, *y = b;
    if (x->voxels != y->voxels) return x->voxels < y->voxels ? 1 : -1;
    return (x->label > y->label) - (x->label < y->label);
}

bcdi_status bcdi_analysis_label_domains(const size_t shape[3], const uint8_t *support, long erosion,
                                        long min_voxels, int32_t *labels, size_t *domain_count,
                                        size_t *fragment_count)
{
    const size_t n = shape[0] * shape[1] * shape[2];
    size_t *queue = malloc(n * sizeof *queue);
    uint8_t *eroded = NULL, *tmp = NULL;
    label_size *sizes = NULL;
    bcdi_status st = BCDI_OK;
    if (!queue) return bcdi_error(BCDI_ERR_NOMEM, "domains: %zu voxels", n);
    memset(labels, 0, n * sizeof *labels);
    long next = 1;
    if (erosion > 0) {
        eroded = malloc(n);
        tmp = malloc(n);
        if (!eroded || !tmp) {
            st = bcdi_error(BCDI_ERR_NOMEM, "domains: erosion buffers");
            goto done;
        }
        memcpy(eroded, support, n);
        for (long k = 0; k < erosion; ++k) {
            bcdi_erode6(shape, eroded, tmp);
            memcpy(eroded, tmp, n);
        }
        next = bcdi_label_components(shape, eroded, labels, 1, queue);
        /* grow back breadth-first over the support: all seeds advance one layer at a time */
        bcdi_grow_labels(shape, support, labels, queue);
    }
    next = bcdi_label_components(shape, support, labels, next, queue);
    /* number by decreasing size; small components become fragments (−1) */
    size_t label_count = (size_t)(next - 1);
    sizes = calloc(label_count + 1, sizeof *sizes);
    if (!sizes) {
        st = bcdi_error(BCDI_ERR_NOMEM, "domains: %zu labels", label_count);
        goto done;
    }
    for (size_t k = 0; k <= label_count; ++k)
        sizes[k].label = (long)k;
    for (size_t v = 0; v < n; ++v)
        if (labels[v] > 0) sizes[labels[v]].voxels++;
    qsort(sizes + 1, label_count, sizeof *sizes, by_size_desc);
    int32_t *remap = (int32_t *)queue; /* queue is free now; n >= label_count + 1 */
    size_t domains = 0, fragments = 0;
    for (size_t k = 1; k <= label_count; ++k) {
        if ((long)sizes[k].voxels >= min_voxels)
            remap[sizes[k].label] = (int32_t)++domains;
        else
            remap[sizes[k].label] = -1, ++fragments;
    }
    for (size_t v = 0; v < n; ++v)
        if (labels[v] > 0) labels[v] = remap[labels[v]];
    *domain_count = domains;
    *fragment_count = fragments;
done:
    free(queue);
    free(eroded);
    free(tmp);
    free(sizes);
    return st;
}
