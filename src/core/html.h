/* SPDX-License-Identifier: BSD-3-Clause */
/* Text into HTML pages (the offline reports of compare and phase): one escape and one page head,
 * written once. */
#ifndef BCDI_CORE_HTML_H
#define BCDI_CORE_HTML_H

#include <stdio.h>

/* `s` with &, <, > and " escaped (NULL writes nothing). */
void bcdi_html_text(FILE *f, const char *s);
/* The start of a report page, up to and including <body>: the one stylesheet of the reports
 * (tables with right-aligned numbers, td.l for a left-aligned label column, p.note for notes),
 * `title` escaped, then `extra_style` (NULL: none) for the page's own rules. */
void bcdi_html_begin(FILE *f, const char *title, const char *extra_style);
/* A number with printf's `format`, "&ndash;" when it is not finite, never "-0". */
void bcdi_html_number(FILE *f, double v, const char *format);

#endif
