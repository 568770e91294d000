/* SPDX-License-Identifier: BSD-3-Clause */
/* Clean interruption: SIGINT, SIGTERM and SIGUSR1 (which schedulers send before a kill) set a
 * flag; long loops look at it at safe points and return BCDI_ERR_INTERRUPTED, every open output
 * transaction is aborted on the way out (its temporaries removed), and the CLI exits with
 * 128 + the signal's number (130 for SIGINT, 143 for SIGTERM; SIGUSR1 also gives 143, the
 * status a scheduler expects of a job it told to stop). A second signal while the first is being
 * handled ends the process at once (default action); what is left then are temporaries that carry
 * the BCDI_OUTPUT_TEMP_MARK suffix, which no reader takes for data. */
#ifndef BCDI_CORE_INTERRUPT_H
#define BCDI_CORE_INTERRUPT_H

#include "bcdi/error.h"

/* Install the handlers (the CLI does, first thing). Idempotent. */
void bcdi_interrupt_install(void);
/* The signal that asked to stop (SIGINT, SIGTERM, SIGUSR1), or 0. */
int bcdi_interrupted(void);
/* Ask to stop as if `signal_number` had arrived (library users and tests); 0 clears the flag. */
void bcdi_interrupt_request(int signal_number);
/* BCDI_OK, or BCDI_ERR_INTERRUPTED with a detail "interrupted by SIGTERM <doing>" (doing: what
 * was stopped, e.g. "during phasing, iteration 120 of 800"). For the safe points of long loops. */
bcdi_status bcdi_interrupt_check(const char *doing_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* "SIGINT", "SIGTERM", "SIGUSR1" or "signal N". */
const char *bcdi_signal_name(int signal_number);
/* The exit status for an interrupted run: 130 for SIGINT, 143 for SIGTERM and SIGUSR1. */
int bcdi_interrupt_exit_status(int signal_number);

#endif
