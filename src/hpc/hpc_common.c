/* SPDX-License-Identifier: BSD-3-Clause */
/* What both implementations of hpc.h share: where a rank computes. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include "hpc/hpc_internal.h"

#include "bcdi/backend.h"
#include "bcdi/log.h"

#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bcdi_hpc_bind_device(const bcdi_hpc *world, char *device, size_t cap)
{
    if (bcdi_hpc_node_size(world) < 2) return;
    if (strcmp(device, "auto") != 0 && strcmp(device, "cuda") != 0) return;
    int count = bcdi_cuda_device_count();
    if (count < 1) return; /* auto falls back to the CPU, cuda reports no device */
    int ordinal = bcdi_hpc_node_rank(world) % count;
    snprintf(device, cap, "cuda:%d", ordinal);
}

int bcdi_hpc_share_cpus(bcdi_hpc *world)
{
    const char *env = getenv("OMP_NUM_THREADS");
    bcdi_hpc *node = bcdi_hpc_node_group(world);
    int ranks = bcdi_hpc_node_size(world);
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0) return 0;
    cpu_set_t *all = malloc((size_t)ranks * sizeof *all);
    if (!all) return 0;
    /* every rank of the node takes part, even one whose user set OMP_NUM_THREADS */
    bcdi_status st = bcdi_hpc_allgather(node, &mine, sizeof mine, all);
    int sharing = 0;
    for (int r = 0; st == BCDI_OK && r < ranks; ++r) {
        cpu_set_t both;
        CPU_AND(&both, &mine, &all[r]);
        sharing += CPU_COUNT(&both) > 0;
    }
    free(all);
    if (st != BCDI_OK || (env && *env) || sharing < 2) return 0;
    int threads = CPU_COUNT(&mine) / sharing;
    if (threads < 1) threads = 1;
    char text[16];
    snprintf(text, sizeof text, "%d", threads);
    setenv("OMP_NUM_THREADS", text, 1);
    omp_set_num_threads(threads);
    return threads;
}
