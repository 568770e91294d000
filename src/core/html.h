/* SPDX-License-Identifier: BSD-3-Clause */
/* Text into HTML pages (the offline reports of compare and phase): one escape, written once. */
#ifndef BCDI_CORE_HTML_H
#define BCDI_CORE_HTML_H

#include <stdio.h>

/* `s` with &, <, > and " escaped (NULL writes nothing). */
void bcdi_html_text(FILE *f, const char *s);
/* A number with printf's `format`, "&ndash;" when it is not finite, never "-0". */
void bcdi_html_number(FILE *f, double v, const char *format);

#endif
