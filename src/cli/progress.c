/* SPDX-License-Identifier: BSD-3-Clause */
#include "progress.h"

#include "core/clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cli_progress_init(cli_progress *p, const char *label, const char *metric, int quiet)
{
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->start = bcdi_clock_s();
    p->last_print = 0;
    p->last_decile = -1;
    p->label = label;
    p->metric = metric;
}

void cli_progress_values(const cli_progress *p, const bcdi_phase_progress *now, char *out,
                         size_t cap)
{
    out[0] = '\0';
    if (!now || now->run_id < 0) return;
    int n = snprintf(out, cap, ", run %ld: llk %.4g, Fourier error %.4g", now->run_id, now->llk,
                     now->fourier_error);
    /* the ranking metric too when it is neither of those */
    if (n > 0 && (size_t)n < cap && p->metric && strcmp(p->metric, "llk") &&
        strcmp(p->metric, "fourier") && isfinite(now->metric))
        snprintf(out + n, cap - (size_t)n, ", %s %.4g", p->metric, now->metric);
}

void cli_progress_update(const bcdi_phase_progress *now, void *user)
{
    cli_progress *p = user;
    long done = now->done, total = now->total;
    if (p->quiet || total <= 0) return;
    double t = bcdi_clock_s(), elapsed = t - p->start;
    double fraction = (double)done / (double)total;
    double eta = done > 0 ? elapsed * (1.0 - fraction) / fraction : NAN;
    char value_text[160];
    cli_progress_values(p, now, value_text, sizeof value_text);
    if (p->tty) {
        if (t - p->last_print < 0.2 && done < total) return;
        p->last_print = t;
        const int width = 30;
        int filled = (int)(fraction * width + 0.5);
        char bar[64];
        for (int i = 0; i < width; ++i)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r%s [%s] %3.0f%% %ld/%ld it, ETA %.0f s%s   ", p->label, bar,
                100.0 * fraction, done, total, isfinite(eta) ? eta : 0.0, value_text);
        fflush(stderr);
        return;
    }
    int decile = (int)(fraction * 10.0);
    if (decile == p->last_decile) return;
    p->last_decile = decile;
    fprintf(stderr, "braggcdi: %s: %3.0f%% (%ld/%ld iterations, %.1f s, ETA %.0f s%s)\n", p->label,
            100.0 * fraction, done, total, elapsed, isfinite(eta) ? eta : 0.0, value_text);
}

void cli_progress_finish(cli_progress *p)
{
    if (!p->quiet && p->tty) fputc('\n', stderr);
}
