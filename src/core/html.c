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

void bcdi_html_begin(FILE *f, const char *title, const char *extra_style)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    bcdi_html_text(f, title);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1200px}\n"
          "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\n"
          "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}\n"
          "th,td{border:1px solid #bbb;padding:3px 7px;text-align:right}\n"
          "th{background:#eef2f7}td.l{text-align:left}\n"
          "img{max-width:100%;border:1px solid #ddd}p.note{color:#555;font-size:0.85em}\n",
          f);
    if (extra_style) fprintf(f, "%s\n", extra_style);
    fputs("</style>\n</head>\n<body>\n", f);
}

void bcdi_html_number(FILE *f, double v, const char *format)
{
    if (v == 0.0) v = 0.0; /* no "-0" */
    if (isfinite(v))
        fprintf(f, format, v);
    else
        fputs("&ndash;", f);
}
