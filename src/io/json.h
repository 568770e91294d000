/* Small JSON writing helpers shared by every JSON the tools write (analyze's summary.json,
 * compare's comparison.json). */
#ifndef BCDI_IO_JSON_H
#define BCDI_IO_JSON_H

#include <stdio.h>

/* A number with 9 significant digits; NaN and infinities as null; -0 as 0. */
void bcdi_json_number(FILE *f, double value);
/* [a, b, c] of bcdi_json_number. */
void bcdi_json_numbers(FILE *f, const double *values, int count);
/* A quoted string with ", \ and control characters escaped (NULL writes ""). */
void bcdi_json_string(FILE *f, const char *text);

#endif
