/* Text into HTML pages (core/html.h). */
#include "core/html.h"

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
