/*
 * dtoa.h: the shortest decimal form of a double, the digits that a JSON or
 * text writer prints so that reading them back gives the same double.
 */
#ifndef MP_DTOA_H
#define MP_DTOA_H

#include <stdint.h>

/*
 * The shortest decimal that reads back as v: |v| = digits * 10^exp10, with
 * digits having no trailing decimal zeros (when several shortest candidates
 * exist, the one closest to v; ties to even digit). v must be finite; for
 * +0.0/-0.0 returns digits 0, exp10 0. The sign is not part of the result
 * (the caller uses signbit). Returns the number of decimal digits in
 * `digits` (1..17).
 */
int dtoa_shortest(double v, uint64_t *digits, int *exp10);

#endif
