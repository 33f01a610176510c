/*
 * test_dtoa.c: dtoa_shortest gives, for every finite double, the fewest
 * digits that read back as it, and of those the nearest: known answers at
 * the edges, then powers of two and ten, subnormals, integers and a million
 * random bit patterns against a slow reference built on printf and strtod.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dtoa.h"
#include "tap.h"

#define MAX_DIAG 5	/* failures shown per category */

static uint64_t rng = 0x9e3779b97f4a7c15;

static uint64_t
xorshift64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
from_bits(uint64_t b)
{
	double v;

	memcpy(&v, &b, sizeof v);
	return v;
}

static int
ndigits(uint64_t d)
{
	int n = 1;

	while (d >= 10) {
		d /= 10;
		n++;
	}
	return n;
}

/*
 * The reference: v to `prec` significant digits, correctly rounded by
 * printf, as d * 10^e without trailing zeros; true when it reads back as v.
 */
static bool
printf_digits(double v, int prec, uint64_t *d, int *e)
{
	char buf[40], *p;
	uint64_t x = 0;

	snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
	for (p = buf; *p != 'e'; p++)
		if (*p != '.')
			x = x * 10 + (uint64_t)(*p - '0');
	*e = atoi(p + 1) - (prec - 1);
	while (x != 0 && x % 10 == 0) {
		x /= 10;
		(*e)++;
	}
	*d = x;
	return strtod(buf, NULL) == v;
}

static bool
reads_back(uint64_t d, int e, double v)
{
	char buf[48];

	snprintf(buf, sizeof buf, "%" PRIu64 "e%d", d, e);
	return strtod(buf, NULL) == v;
}

/*
 * The slow reference, from the definition: v written out in full (every
 * double has a finite expansion, at most 767 digits, and glibc prints it
 * exactly); for n = 1, 2, ... the two n-digit decimals around v; the first n
 * where one reads back as v, the nearer if both do, ties to even.
 */
static int
exact_shortest(double v, uint64_t *d, int *e)
{
	char full[800], *dig, *p;
	uint64_t lo = 0;
	int n, e10, cmp;
	bool exact, lo_ok, hi_ok;

	snprintf(full, sizeof full, "%.780e", v);
	p = strchr(full, 'e');
	e10 = atoi(p + 1);
	*p = '\0';
	dig = full + 1;
	dig[0] = full[0];	/* overwrite the '.' */
	for (n = 1; n <= 17; n++) {
		lo = lo * 10 + (uint64_t)(dig[n - 1] - '0');
		exact = strspn(dig + n, "0") == strlen(dig + n);
		cmp = dig[n] != '5' ? dig[n] - '5' : strspn(dig + n + 1, "0") != strlen(dig + n + 1);
		lo_ok = reads_back(lo, e10 - n + 1, v);
		hi_ok = !exact && reads_back(lo + 1, e10 - n + 1, v);
		if (lo_ok || hi_ok)
			break;
	}
	*d = lo;
	if (hi_ok && (!lo_ok || cmp > 0 || (cmp == 0 && (lo & 1))))
		*d = lo + 1;
	*e = e10 - n + 1;
	while (*d % 10 == 0) {
		*d /= 10;
		(*e)++;
	}
	return ndigits(*d);
}

/*
 * Check |v|: the answer reads back, has no trailing zero, counts its digits
 * right, and equals the reference.  `exact` takes exact_shortest() as that;
 * else printf's rounding at the first precision that reads back, where only
 * n - 1 and n are tried (n = our count): where v's rounding interval is
 * symmetric (all but the powers of two), a precision that reads back means
 * every longer one does too, because printf's longer rounding is no farther
 * from v; and its rounding is the nearest decimal of that length, so in the
 * interval whenever any is.  At a power of two the interval is half as wide
 * below v, so a decimal just above v can read back where printf's nearer one
 * below does not: 2^-24 is 5.960464477539063e-08, while %.15e gives
 * ...062e-08 (the tie 5.9604644775390625 rounds to even) that reads as the
 * next double down, and the first precision that reads back is 17.
 */
static bool
check(double v, bool exact, char *why, size_t len)
{
	uint64_t d, rd = 0;
	int e, re = 0, n, rn;

	v = fabs(v);
	n = dtoa_shortest(v, &d, &e);
	if (!reads_back(d, e, v) || n != ndigits(d) || (d % 10 == 0 && v != 0)) {
		snprintf(why, len, "%a gave %" PRIu64 "e%d (%d digits): does not read back or miscounted",
			v, d, e, n);
		return false;
	}
	if (v == 0)
		return d == 0 && e == 0;
	if (exact)
		rn = exact_shortest(v, &rd, &re);
	else if (n > 1 && printf_digits(v, n - 1, &rd, &re))
		rn = n - 1;
	else
		rn = printf_digits(v, n, &rd, &re) ? n : n + 1;
	if (rn != n || rd != d || re != e) {
		snprintf(why, len, "%a (%.17g) gave %" PRIu64 "e%d, reference %" PRIu64 "e%d (%d digits)",
			v, v, d, e, rd, re, rn);
		return false;
	}
	return true;
}

struct tally {
	const char *name;
	long n, failed;
};

static void
tally(struct tally *t, double v, bool exact)
{
	char why[160];

	t->n++;
	if (!check(v, exact, why, sizeof why) && t->failed++ < MAX_DIAG)
		printf("#   %s: %s\n", t->name, why);
}

static void
tally_done(struct tally *t)
{
	ok(t->failed == 0, "%s: %ld checked, %ld wrong", t->name, t->n, t->failed);
}

static const struct {
	double v;
	uint64_t digits;
	int exp10, n;
} known[] = {
	{ 0.0, 0, 0, 1 },
	{ -0.0, 0, 0, 1 },
	{ 5e-324, 5, -324, 1 },
	{ 2.2250738585072014e-308, 22250738585072014, -324, 17 },	/* DBL_MIN */
	{ 2.225073858507201e-308, 2225073858507201, -323, 16 },	/* largest subnormal */
	{ 1.7976931348623157e308, 17976931348623157, 292, 17 },	/* DBL_MAX */
	{ 1.7976931348623155e308, 17976931348623155, 292, 17 },
	{ 0.1, 1, -1, 1 },
	{ 0.3, 3, -1, 1 },
	{ 0.1 + 0.2, 30000000000000004, -17, 17 },
	{ 1 / 3.0, 3333333333333333, -16, 16 },
	{ 1e23, 1, 23, 1 },	/* the double is 99999999999999991611392 */
	{ 1e22, 1, 22, 1 },
	{ 8.41e21, 841, 19, 3 },
	{ 9007199254740992.0, 9007199254740992, 0, 16 },	/* 2^53 */
	{ 9007199254740993.0, 9007199254740992, 0, 16 },	/* rounds to 2^53 */
	{ 9007199254740995.0, 9007199254740996, 0, 16 },
	{ 9223372036854775808.0, 9223372036854776, 3, 16 },	/* 2^63 */
	{ 0x1p-1074 * 2, 1, -323, 1 },
	{ 0x1p-1074 * 3, 15, -324, 2 },
	{ 0x1p-1074 * 7, 35, -324, 2 },
	{ 0x1p-1074 * 9, 44, -324, 2 },
	{ 0x1p-1074 * 10, 5, -323, 1 },
	{ 0x1p-1074 * 99, 49, -323, 2 },
	{ 1e-7, 1, -7, 1 },
	{ 0x1p-24, 5960464477539063, -23, 16 },
	{ 123456789012345678.0, 12345678901234568, 1, 17 },
	{ 1.0001220703125, 10001220703125, -13, 14 },
	{ 1.2345678921232e18, 12345678921232, 5, 14 },
	{ 1.0, 1, 0, 1 },
	{ 1e15, 1, 15, 1 },
	{ 1e17, 1, 17, 1 },
	{ 0.8 * 0.1, 8000000000000002, -17, 16 },
	{ 562949953421312.25, 5629499534213122, -1, 16 },	/* ties: to even */
	{ 562949953421312.75, 5629499534213128, -1, 16 },
};

static void
test_known(void)
{
	struct tally t = { "known answers also match the reference", 0, 0 };
	uint64_t d;
	int e, n;

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		n = dtoa_shortest(known[i].v, &d, &e);
		if (!ok(d == known[i].digits && e == known[i].exp10 && n == known[i].n,
			    "%.17g is %" PRIu64 "e%d, %d digits", known[i].v, known[i].digits,
			    known[i].exp10, known[i].n))
			printf("#   got %" PRIu64 "e%d, %d digits\n", d, e, n);
		tally(&t, known[i].v, true);
	}
	tally_done(&t);
}

/* Powers of two have the lopsided interval: the exact reference. */
static void
test_powers(void)
{
	struct tally two = { "every power of two, 2^-1074..2^1023", 0, 0 };
	struct tally ten = { "powers of ten 1e-323..1e308 and their neighbours", 0, 0 };
	char buf[16];
	double v;

	for (int i = -1074; i <= 1023; i++)
		tally(&two, ldexp(1.0, i), true);
	tally_done(&two);
	for (int i = -323; i <= 308; i++) {
		snprintf(buf, sizeof buf, "1e%d", i);
		v = strtod(buf, NULL);
		tally(&ten, v, true);
		tally(&ten, nextafter(v, 0), true);
		tally(&ten, nextafter(v, INFINITY), true);
	}
	tally_done(&ten);
}

static void
test_ranges(void)
{
	struct tally sub = { "subnormals k * 2^-1074, k = 1..10000, and the top 10000", 0, 0 };
	struct tally integers = { "integers: 1..20000, and random below 2^53 and 2^64", 0, 0 };

	for (uint64_t k = 1; k <= 10000; k++) {
		tally(&sub, from_bits(k), false);
		tally(&sub, from_bits((UINT64_C(1) << 52) - k), false);
	}
	tally_done(&sub);
	for (int i = 1; i <= 20000; i++)
		tally(&integers, (double)i, false);
	for (int i = 0; i < 50000; i++) {
		tally(&integers, (double)(xorshift64() >> 11), false);
		tally(&integers, (double)xorshift64(), false);
	}
	tally_done(&integers);
}

/*
 * Doubles from short decimals, which the rare branch (a multiple of
 * 10^(k+1) in the interval) answers; and doubles exactly halfway between
 * their two nearest shortest decimals, which tie: between 2^49 and 2^51
 * the spacing 2^q (q = -3, -2) is wide enough for both, and these
 * residues of c make 2 * v * 10^-k odd (k = -1).
 */
static void
test_short_and_ties(void)
{
	struct tally sh = { "doubles read from random 1..15-digit decimals", 0, 0 };
	struct tally tie = { "doubles halfway between two shortest decimals", 0, 0 };
	uint64_t m, c;
	char buf[48];
	double v;

	while (sh.n < 100000) {
		m = xorshift64() % 1000000000000000 >> (xorshift64() % 50);
		snprintf(buf, sizeof buf, "%" PRIu64 "e%d", m, (int)(xorshift64() % 650) - 340);
		v = strtod(buf, NULL);
		if (v != 0 && isfinite(v))
			tally(&sh, v, false);
	}
	tally_done(&sh);
	for (int i = 0; i < 10000; i++) {
		c = xorshift64() >> 11 | UINT64_C(1) << 52;
		tally(&tie, ldexp((double)(c | 1), -2), false);
		tally(&tie, ldexp((double)((c & ~UINT64_C(3)) | 2), -3), false);
	}
	tally_done(&tie);
}

static void
test_random(void)
{
	struct tally t = { "random bit patterns (NaN and Inf skipped)", 0, 0 };
	double v;

	while (t.n < 1000000) {
		v = from_bits(xorshift64());
		if (isfinite(v))
			tally(&t, v, false);
	}
	tally_done(&t);
}

int
main(void)
{
	test_known();
	test_powers();
	test_ranges();
	test_short_and_ties();
	test_random();
	return tap_done();
}
