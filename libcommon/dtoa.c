/*
 * dtoa.c: the shortest decimal that reads back as a double, by Schubfach
 * (Raffaello Giulietti, "The Schubfach way to render doubles", 2020/2021).
 *
 * A finite v > 0 is c * 2^q.  Every real of its rounding interval R (half
 * the spacing to each neighbour; closed when c is even, as ties go to even)
 * reads back as v.  Take 10^k as the largest power of ten not above the width
 * of R: R then holds at least one multiple of 10^k and at most one of
 * 10^(k+1).  So the answer is that multiple of 10^(k+1) when there is one,
 * else the multiple of 10^k nearest v among s = floor(v / 10^k) and s + 1.
 * Everything is decided on four times the interval ends scaled by 10^-k,
 * which one 64x128-bit product each gives closely enough (see rop()).
 */
#include <stdbool.h>
#include <string.h>

#include "dtoa.h"
#include "dtoa_table.h"

#define DTOA_FRAC_BITS 52
#define DTOA_Q_MIN (-1074)	/* the exponent of the subnormals */

__extension__ typedef unsigned __int128 dtoa_u128;

/*
 * floor(log10(2^q)), floor(log10(3/4 * 2^q)), floor(log2(10^p)) in fixed
 * point; build-aux/gen-dtoa-table checked each constant over every q and p
 * used here.  The shift of a negative number is arithmetic in gcc and clang.
 */
static inline int
flog10_pow2(int q)
{
	return (q * DTOA_LOG10_POW2_M - DTOA_LOG10_POW2_N) >> DTOA_LOG_SHIFT;
}

static inline int
flog10_3q_pow2(int q)
{
	return (q * DTOA_LOG10_POW2_M - DTOA_LOG10_3Q_POW2_N) >> DTOA_LOG_SHIFT;
}

static inline int
flog2_pow10(int p)
{
	return (p * DTOA_LOG2_POW10_M - DTOA_LOG2_POW10_N) >> DTOA_LOG_SHIFT;
}

/*
 * x = g * cp / 2^128, rounded to odd: floor(x), with the lowest bit set when
 * the exact x (for the exact power of ten that g rounds up) is not an integer.
 * An odd result compares with any even integer as x itself does, and the
 * callers compare with multiples of 2 only.  g overshoots by less
 * than one unit, so x by at most cp / 2^128 < 2^-69: a fraction above that is
 * a real one.  build-aux/gen-dtoa-table proves every x this file forms is an
 * integer or at least 2^-65.4 from one, so floor and sticky bit are exact.
 */
static inline uint64_t
rop(const uint64_t g[2], uint64_t cp)
{
	dtoa_u128 lo = (dtoa_u128)g[1] * cp;
	dtoa_u128 hi = (dtoa_u128)g[0] * cp + (uint64_t)(lo >> 64);

	return (uint64_t)(hi >> 64) | ((uint64_t)hi != 0 || (uint64_t)lo > cp);
}

/*
 * Drop the trailing zeros of d * 10^e (d > 0) and count its digits.  Zeros
 * come by eights and then by 4, 2, 1, so that a lone digit followed by
 * sixteen zeros costs six tests, not sixteen divisions; a digit count from
 * the bit length is off by at most one.
 */
static int
finish(uint64_t d, int e, uint64_t *digits, int *exp10)
{
	int n;

	while (d % 100000000 == 0) {
		d /= 100000000;
		e += 8;
	}
	if (d % 10000 == 0) {
		d /= 10000;
		e += 4;
	}
	if (d % 100 == 0) {
		d /= 100;
		e += 2;
	}
	if (d % 10 == 0) {
		d /= 10;
		e += 1;
	}
	n = (64 - __builtin_clzll(d)) * 1233 >> 12;	/* 1233 / 2^12 ~ log10(2) */
	*digits = d;
	*exp10 = e;
	return n + (d >= dtoa_pow10[n]);
}

int
dtoa_shortest(double v, uint64_t *digits, int *exp10)
{
	uint64_t bits, t, c, cb, cbl, cbr, vb, vbl, vbr, s, sp;
	int bq, q, k, h, out;
	bool uin, win;
	const uint64_t *g;

	memcpy(&bits, &v, sizeof bits);
	t = bits & ((UINT64_C(1) << DTOA_FRAC_BITS) - 1);
	bq = (int)(bits >> DTOA_FRAC_BITS) & 0x7ff;
	if (bq == 0 && t == 0) {
		*digits = 0;
		*exp10 = 0;
		return 1;
	}
	c = bq ? t | UINT64_C(1) << DTOA_FRAC_BITS : t;
	q = bq ? bq - 1075 : DTOA_Q_MIN;

	/*
	 * An integer below 2^53 has neighbours at most 1 away, so nothing
	 * shorter than itself lies within half of that: common, and cheap.
	 */
	if (q <= 0 && q >= -DTOA_FRAC_BITS && (c & ((UINT64_C(1) << -q) - 1)) == 0)
		return finish(c >> -q, 0, digits, exp10);

	/*
	 * In units of 2^(q-1) (2^(q-2) when v is a power of two whose lower
	 * neighbour is twice as near), v is cb and R runs from cbl to cbr.
	 * h aligns cb with g so that rop() gives 4 * value / 10^k.
	 */
	if (t != 0 || bq <= 1) {
		cb = c << 1;
		cbr = cb + 1;
		k = flog10_pow2(q);
		h = q + flog2_pow10(-k) + 2;
	} else {
		cb = c << 2;
		cbr = cb + 2;
		k = flog10_3q_pow2(q);
		h = q + flog2_pow10(-k) + 1;
	}
	cbl = cb - 1;
	g = dtoa_g[-k - DTOA_P_MIN];
	vb = rop(g, cb << h);
	vbl = rop(g, cbl << h);
	vbr = rop(g, cbr << h);
	out = c & 1;	/* an odd c excludes the ends of R */

	/* The one multiple of 10^(k+1) in R, if there is one. */
	s = vb >> 2;
	sp = s / 10;
	uin = vbl + out <= 40 * sp;
	win = 40 * sp + 40 + out <= vbr;
	if (uin != win)
		return finish(sp + win, k + 1, digits, exp10);

	/* Else s or s + 1, whichever is in R, or the nearer (ties to even). */
	uin = vbl + out <= 4 * s;
	win = 4 * s + 4 + out <= vbr;
	if (uin != win)
		return finish(s + win, k, digits, exp10);
	if (vb > 4 * s + 2 || (vb == 4 * s + 2 && (s & 1)))
		s++;
	return finish(s, k, digits, exp10);
}
