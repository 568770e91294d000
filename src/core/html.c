/* SPDX-License-Identifier: BSD-3-Clause */
/* Text into HTML pages (core/html.h). */
#include "core/html.h"

#include <math.h>

void bcdi_html_text(FILE *f, const char *s)
{
    for (; s && *s; ++s) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

void bcdi_html_number(FILE *f, double v, const char *format)
{
    if (v == 0.0) v = 0.0; /* no "-0" */
    if (isfinite(v))
        fprintf(f, format, v);
    else
        fputs("&ndash;", f);
}
