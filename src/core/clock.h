/* SPDX-License-Identifier: BSD-3-Clause */
/* Wall-clock timing for elapsed-time reports and benchmarks. */
#ifndef BCDI_CORE_CLOCK_H
#define BCDI_CORE_CLOCK_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC): only differences mean anything; it does not
 * jump when the system time is set. */
double bcdi_clock_s(void);

#endif
