#include "io/json.h"

#include <math.h>

void bcdi_json_number(FILE *f, double value)
{
    if (value == 0.0) value = 0.0; /* no "-0" */
    if (isfinite(value))
        fprintf(f, "%.9g", value);
    else
        fputs("null", f);
}

void bcdi_json_numbers(FILE *f, const double *values, int count)
{
    fputc('[', f);
    for (int i = 0; i < count; ++i) {
        if (i) fputs(", ", f);
        bcdi_json_number(f, values[i]);
    }
    fputc(']', f);
}

void bcdi_json_string(FILE *f, const char *text)
{
    fputc('"', f);
    for (; text && *text; ++text) {
        unsigned char c = (unsigned char)*text;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
