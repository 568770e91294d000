/* SPDX-License-Identifier: BSD-3-Clause */
/* sigaction and SA_RESTART are POSIX; the build defines _POSIX_C_SOURCE */
#include "core/interrupt.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The only state the handler touches: a lock-free flag (async-signal-safe). */
static volatile sig_atomic_t pending_signal;

static void on_signal(int signal_number)
{
    if (pending_signal) {
        /* second signal: the user insists; default action now (signal() and raise() are
         * async-signal-safe) */
        signal(signal_number, SIG_DFL);
        raise(signal_number);
        return;
    }
    pending_signal = signal_number;
}

void bcdi_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* restart interrupted reads and writes: the loops stop at their own safe points */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int bcdi_interrupted(void)
{
    return (int)pending_signal;
}

void bcdi_interrupt_request(int signal_number)
{
    pending_signal = signal_number;
}

const char *bcdi_signal_name(int signal_number)
{
    static _Thread_local char other[32];
    switch (signal_number) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGUSR1:
        return "SIGUSR1";
    }
    snprintf(other, sizeof other, "signal %d", signal_number);
    return other;
}

int bcdi_interrupt_exit_status(int signal_number)
{
    return signal_number == SIGINT ? 128 + SIGINT : 128 + SIGTERM;
}

bcdi_status bcdi_interrupt_check(const char *doing_fmt, ...)
{
    int s = pending_signal;
    if (!s) return BCDI_OK;
    char doing[512] = "";
    if (doing_fmt) {
        va_list ap;
        va_start(ap, doing_fmt);
        vsnprintf(doing, sizeof doing, doing_fmt, ap);
        va_end(ap);
    }
    return bcdi_error(BCDI_ERR_INTERRUPTED, "interrupted by %s%s%s", bcdi_signal_name(s),
                      doing[0] ? " " : "", doing);
}
