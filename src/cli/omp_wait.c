/* SPDX-License-Identifier: BSD-3-Clause */
/* Passive OpenMP waits for the braggcdi executable.
 *
 * Between parallel regions, libgomp's idle threads spin for a while (OMP_WAIT_POLICY unset:
 * about 300 000 pause loops) before they sleep. On a machine shared with other work, spinning
 * threads take the CPU from the threads that still have work, and every region waits for its
 * slowest thread: two threads ran 6-10x slower than one at 64^3 beside one busy process, and
 * passive waits removed the loss (docs/performance.md). libgomp reads OMP_WAIT_POLICY and
 * GOMP_SPINCOUNT once, in its constructor, before main: setenv in main is too late, and so is a
 * .preinit_array hook (glibc's own initialiser then resets environ to the original block). So
 * the executable starts itself again once, through /proc/self/exe, with OMP_WAIT_POLICY=passive
 * added, unless the user set either variable (their choice wins). Costs one exec (~ms); where
 * /proc is missing the exec fails and the run goes on with the runtime's default. */
#include "cli.h"

#include <stdlib.h>
#include <unistd.h>

void cli_prefer_passive_openmp_waits(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
    execv("/proc/self/exe", argv);
    /* still here: the exec failed; the variable set above keeps a later exec from looping */
}
