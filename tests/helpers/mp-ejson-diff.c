/*
 * mp-ejson-diff: our Extended JSON codec (libcommon/ejson.h) against
 * libbson's, on random documents of every BSON type.
 *
 *   mp-ejson-diff [--count N] [--seed S] [--doc HEX] [--verbose]
 *
 * N documents (30000) from seed S (1), or the one document whose BSON is
 * HEX, each go
 *
 *   a  through our canonical text into bson_new_from_json,
 *   b  through bson_as_canonical_extended_json into ejson_parse,
 *   c  through our canonical text into ejson_parse; and through our relaxed
 *      text into ejson_parse and out as relaxed text again,
 *
 * and must come back byte for byte (c's relaxed leg: as the same text).
 * What Extended JSON cannot carry is compared as the specifications say it
 * arrives: a double NaN as the quiet NaN, a Decimal128 in its canonical
 * encoding.  A document that meets a known bug of libbson 1.23 (enum skip)
 * skips only the direction that goes through the bug; the summary counts,
 * per direction, the documents compared and those skipped for each reason.
 *
 * One line on stdout, "mp-ejson-diff: N documents, M mismatches (...)",
 * with --verbose the values generated of each type; exit 0 when M is 0, 1
 * with the first mismatches on stderr, 64 for a bad argument, 65 for a HEX
 * that is not a document.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>

#include "ejson.h"

#define MAX_DEPTH 4
#define SHOWN 5

/* ---- the random numbers: xorshift64*, seeded through splitmix64 ---- */

static uint64_t rng;

static void
rnd_seed(uint64_t s)
{
	s += UINT64_C(0x9e3779b97f4a7c15);
	s = (s ^ (s >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	s = (s ^ (s >> 27)) * UINT64_C(0x94d049bb133111eb);
	rng = (s ^ (s >> 31)) | 1; /* xorshift must not start at 0 */
}

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(0x2545f4914f6cdd1d);
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) % n);
}

static bool
chance(unsigned percent)
{
	return below(100) < percent;
}

/* ---- random text ---- */

static size_t
utf8_encode(uint32_t cp, uint8_t *t)
{
	if (cp < 0x80) {
		t[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		t[0] = (uint8_t)(0xc0 | cp >> 6), t[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		t[0] = (uint8_t)(0xe0 | cp >> 12), t[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		t[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	t[0] = (uint8_t)(0xf0 | cp >> 18), t[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	t[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), t[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* One character, biased towards what a JSON writer must escape and the
 * edges of each UTF-8 length; NUL only when nul_ok. */
static uint32_t
rand_char(bool nul_ok)
{
	static const char special[] = "\"\\/$.{}[]:,' ";
	static const uint32_t edges[] = {0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff,
		0x10000, 0x10ffff, 0x2028, 0x2029, 0xe9, 0x20ac, 0x1f600};
	uint32_t cp;

	switch (below(10)) {
	case 0: cp = (uint32_t)special[below(sizeof special - 1)]; break;
	case 1: cp = below(0x20); break;
	case 2: cp = 0x80 + below(0x800 - 0x80); break;
	case 3:
		cp = 0x800 + below(0x10000 - 0x800);
		if (cp >= 0xd800 && cp < 0xe000)
			cp ^= 0x4000; /* no surrogates in UTF-8 */
		break;
	case 4: cp = 0x10000 + below(0x110000 - 0x10000); break;
	case 5: cp = edges[below(sizeof edges / sizeof edges[0])]; break;
	default: cp = 0x20 + below(0x5f); break;
	}
	return cp == 0 && !nul_ok ? 'x' : cp;
}

/* Random UTF-8 of up to max - 4 bytes into t, NUL-terminated; its length. */
static size_t
rand_text(uint8_t *t, size_t max, bool nul_ok)
{
	size_t chars = chance(25) ? below(60) : below(10), n = 0;
	/* often a NUL where it may be, for a reader that stops at it */
	size_t nul_at = nul_ok && chars > 0 && chance(20) ? below((uint32_t)chars) : SIZE_MAX;

	for (size_t i = 0; i < chars && n + 5 < max; i++)
		n += utf8_encode(i == nul_at ? 0 : rand_char(nul_ok), t + n);
	t[n] = '\0';
	return n;
}

/* A first key that is one of these makes a document a type wrapper. */
static const char *const wrapper_keys[] = {"$oid", "$date", "$numberInt", "$numberLong", "$numberDouble",
	"$numberDecimal", "$binary", "$type", "$regex", "$options", "$code", "$scope", "$symbol", "$uuid",
	"$timestamp", "$regularExpression", "$dbPointer", "$minKey", "$maxKey", "$undefined"};

static bool
is_wrapper_key(const char *k)
{
	for (size_t i = 0; i < sizeof wrapper_keys / sizeof wrapper_keys[0]; i++)
		if (strcmp(k, wrapper_keys[i]) == 0)
			return true;
	return false;
}

/* A field name: random UTF-8, often starting with '$', sometimes one letter
 * away from a wrapper's key, never a wrapper's key. */
static void
rand_key(char *k, size_t max)
{
	static const char *const near[] = {"$", "$$", "$ref", "$id", "$db", "$numberint", "$OID", "$dates",
		"$code ", "$regularexpression", "$binary2", "$maxkey", "_id", ""};

	do {
		if (chance(10)) {
			snprintf(k, max, "%s", near[below(sizeof near / sizeof near[0])]);
		} else if (chance(25)) {
			k[0] = '$';
			rand_text((uint8_t *)k + 1, max - 1, false);
		} else {
			rand_text((uint8_t *)k, max, false);
		}
	} while (is_wrapper_key(k));
}

/* ---- random values ----
 *
 * At most one call to the generator in an expression: C leaves the order of
 * two open, and the documents of a seed must not depend on the compiler.
 */

static double
from_bits(uint64_t bits)
{
	double v;

	memcpy(&v, &bits, 8);
	return v;
}

static double
rand_double(void)
{
	static const double edges[] = {0.1, 1.0, 0.5, 1e15, 1e16, 1e21, 1e22, 1e23, 1e-5, 1e-7, 1e300,
		9007199254740992.0, 9007199254740993.0, 1.7976931348623157e308, 2.2250738585072014e-308,
		4.9406564584124654e-324, 123456789012345678.0, 1.0001220703125, 3.141592653589793};
	uint64_t sign = chance(50) ? UINT64_C(1) << 63 : 0, frac = rnd() & UINT64_C(0xfffffffffffff);
	uint32_t digits = below(10000000), e2 = below(120);

	switch (below(10)) {
	case 0: return sign ? -0.0 : 0.0;
	case 1: /* NaN: any payload but zero (that is infinity), either sign */
		return from_bits(sign | UINT64_C(0x7ff0000000000000) | (frac ? frac : 1));
	case 2: return from_bits(sign | UINT64_C(0x7ff0000000000000));
	case 3: return from_bits(sign | (frac ? frac : 1)); /* subnormal */
	case 4: return (double)((int32_t)below(2000001) - 1000000);
	case 5: return (double)digits / pow(10, e2 % 10) * (sign ? -1 : 1);
	case 6: return edges[below(sizeof edges / sizeof edges[0])] * (sign ? -1 : 1);
	case 7: return ldexp((double)(frac | UINT64_C(1) << 52), (int)e2) * (sign ? -1 : 1);
	default: return from_bits(rnd());
	}
}

static int64_t
rand_date(void)
{
	uint64_t r = rnd();
	uint32_t shift = 2 + below(40), small = below(3);
	bool whole = below(3) == 0;

	switch (below(8)) {
	case 0: return INT64_MIN;
	case 1: return INT64_MAX;
	case 2: return (int64_t)small - 1;
	case 3: return -(int64_t)(r >> shift); /* before 1970 */
	case 4: return INT64_C(253402300800000) - 1 + small; /* the end of 9999 */
	case 5: return (int64_t)(UINT64_C(253402300800000) + (r >> shift));
	case 6: return (int64_t)r;
	default: /* 1970 to 9999, relaxed writes them as ISO-8601; some in whole seconds */
		return (int64_t)(r % UINT64_C(253402300800000)) / (whole ? 1000 : 1) * (whole ? 1000 : 1);
	}
}

static int64_t
rand_int64(void)
{
	uint64_t r = rnd(), m = r >> below(64); /* any magnitude */
	bool neg = chance(50);
	uint32_t small = below(5);

	switch (below(6)) {
	case 0: return neg ? INT64_MIN : INT64_MAX;
	case 1: return (int64_t)small - 2;
	case 2: return (int64_t)(neg ? 0 - m : m); /* negated in unsigned arithmetic */
	case 3: return (neg ? (int64_t)INT32_MIN : (int64_t)INT32_MAX) + (int64_t)(small % 3) - 1;
	default: return (int64_t)r;
	}
}

static int32_t
rand_int32(void)
{
	uint32_t r = (uint32_t)rnd(), m = r >> below(32);
	bool neg = chance(50);
	uint32_t small = below(5);

	switch (below(4)) {
	case 0: return neg ? INT32_MIN : INT32_MAX;
	case 1: return (int32_t)small - 2;
	case 2: return (int32_t)(neg ? 0 - m : m);
	default: return (int32_t)r;
	}
}

static uint32_t
rand_u32(void)
{
	static const uint32_t edges[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe};
	uint32_t r = (uint32_t)rnd(), m = r >> below(32);

	return chance(40) ? edges[below(sizeof edges / sizeof edges[0])] : m;
}

/* Decimal128: finite values from text, any coefficient and exponent (some
 * coefficients past 10^34 - 1), NaN and infinity with and without stray
 * bits, the other encoding (11 after the sign), and any 128 bits at all. */
static bson_decimal128_t
rand_decimal(void)
{
	static const char *const texts[] = {"0", "-0", "1.5", "-1E+6144", "1E-6176", "0E-6176", "-0E+6111", "0.1",
		"9.999999999999999999999999999999999E+6144", "1234567890123456789012345678901234", "NaN", "Infinity",
		"-Infinity"};
	uint64_t sign = chance(50) ? UINT64_C(1) << 63 : 0;
	uint64_t low = rnd(), high = rnd(), biased_exp = below(12288), shift = below(50);
	bson_decimal128_t d = {.low = low, .high = high};

	switch (below(6)) {
	case 0: bson_decimal128_from_string(texts[below(sizeof texts / sizeof texts[0])], &d); break;
	case 1:
		d.high = sign | biased_exp << 49 | (d.high & UINT64_C(0x1ffffffffffff)) >> shift;
		break;
	case 2: /* NaN, sNaN among them */
		d.high = sign | UINT64_C(0x7c00000000000000) | (chance(50) ? d.high & UINT64_C(0x3ffffffffffffff) : 0);
		break;
	case 3: /* infinity */
		d.high = sign | UINT64_C(0x7800000000000000) | (chance(50) ? d.high & UINT64_C(0x3ffffffffffffff) : 0);
		break;
	case 4: d.high = sign | UINT64_C(0x6000000000000000) | (d.high & UINT64_C(0x1fffffffffffffff)); break;
	default: break;
	}
	return d;
}

/* ---- random documents ---- */

static unsigned long type_count[256];

/* Where in the document a value is: bits of these. */
enum { IN_ARRAY = 1, IN_SCOPE = 2 };

/*
 * Append an element from its raw value bytes.  libbson's bson_append_code()
 * and bson_append_code_with_scope() take C strings, and code may hold a NUL.
 */
static void
append_raw(bson_t *d, bson_type_t type, const char *key, const uint8_t *v, size_t n)
{
	size_t klen = strlen(key), len = 4 + 1 + klen + 1 + n + 1;
	uint8_t *p = bson_malloc(len);
	uint32_t le = BSON_UINT32_TO_LE((uint32_t)len);
	bson_t tmp;

	memcpy(p, &le, 4);
	p[4] = (uint8_t)type;
	memcpy(p + 5, key, klen + 1);
	memcpy(p + 5 + klen + 1, v, n);
	p[len - 1] = 0;
	if (!bson_init_static(&tmp, p, len) || !bson_concat(d, &tmp))
		abort();
	bson_free(p);
}

/* A BSON string (int32 length, bytes, NUL) of s[0..n) at t; its size. */
static size_t
bson_string_at(uint8_t *t, const uint8_t *s, size_t n)
{
	uint32_t le = BSON_UINT32_TO_LE((uint32_t)n + 1);

	memcpy(t, &le, 4);
	memcpy(t + 4, s, n);
	t[4 + n] = 0;
	return n + 5;
}

static void gen_doc(bson_t *d, int depth, unsigned where);

/* JavaScript code, with or without a scope, its text sometimes holding a NUL */
static void
gen_code(bson_t *d, const char *key, int depth, bool scoped)
{
	uint8_t code[256], *v;
	size_t n = rand_text(code, sizeof code, chance(4)), at;
	bson_t scope = BSON_INITIALIZER;
	uint32_t le;

	if (scoped)
		gen_doc(&scope, depth + 1, IN_SCOPE);
	v = bson_malloc(4 + 5 + n + scope.len);
	if (!scoped) {
		at = bson_string_at(v, code, n);
		append_raw(d, BSON_TYPE_CODE, key, v, at);
	} else {
		at = 4 + bson_string_at(v + 4, code, n);
		memcpy(v + at, bson_get_data(&scope), scope.len);
		at += scope.len;
		le = BSON_UINT32_TO_LE((uint32_t)at);
		memcpy(v, &le, 4);
		append_raw(d, BSON_TYPE_CODEWSCOPE, key, v, at);
	}
	bson_free(v);
	bson_destroy(&scope);
}

static void
gen_binary(bson_t *d, const char *key)
{
	static const uint8_t subtypes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0x80, 0xff};
	uint8_t data[64], sub = subtypes[below(sizeof subtypes)];
	uint32_t n = chance(20) ? 0 : chance(30) ? 16 : below(sizeof data);

	for (uint32_t i = 0; i < n; i++)
		data[i] = (uint8_t)rnd();
	/* libbson writes the old subtype 2's inner length itself */
	bson_append_binary(d, key, -1, sub, data, n);
}

static void
gen_regex(bson_t *d, const char *key)
{
	static const char flags[] = "ilmsux";
	char pat[256], opts[8];
	size_t n = 0;

	rand_text((uint8_t *)pat, sizeof pat, false);
	for (size_t i = 0; i < 6; i++)
		if (chance(30))
			opts[n++] = flags[i];
	opts[n] = '\0';
	bson_append_regex(d, key, -1, pat, opts);
}

static const bson_type_t all_types[] = {BSON_TYPE_DOUBLE, BSON_TYPE_UTF8, BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY,
	BSON_TYPE_BINARY, BSON_TYPE_UNDEFINED, BSON_TYPE_OID, BSON_TYPE_BOOL, BSON_TYPE_DATE_TIME, BSON_TYPE_NULL,
	BSON_TYPE_REGEX, BSON_TYPE_DBPOINTER, BSON_TYPE_CODE, BSON_TYPE_SYMBOL, BSON_TYPE_CODEWSCOPE,
	BSON_TYPE_INT32, BSON_TYPE_TIMESTAMP, BSON_TYPE_INT64, BSON_TYPE_DECIMAL128, BSON_TYPE_MINKEY,
	BSON_TYPE_MAXKEY};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static bool
is_container(bson_type_t t)
{
	return t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY || t == BSON_TYPE_CODEWSCOPE;
}

/* libbson 1.23 misreads code and DBPointers in arrays, and code in scopes
 * (enum skip) */
static bool
misread_there(bson_type_t t, unsigned where)
{
	bool code = t == BSON_TYPE_CODE || t == BSON_TYPE_CODEWSCOPE;

	return ((where & IN_ARRAY) && (code || t == BSON_TYPE_DBPOINTER)) || ((where & IN_SCOPE) && code);
}

static void
gen_value(bson_t *d, const char *key, int depth, unsigned where)
{
	bson_type_t t;
	uint8_t s[256];
	bson_oid_t oid;
	size_t n;
	bson_t child;

	/* where libbson misreads a type it comes up a twentieth as often, so
	 * that direction a still compares nearly every document */
	do
		t = all_types[below(N_TYPES)];
	while ((is_container(t) && depth >= MAX_DEPTH) || (misread_there(t, where) && chance(95)));
	type_count[t]++;
	for (size_t i = 0; i < sizeof oid.bytes; i++)
		oid.bytes[i] = (uint8_t)rnd();
	switch (t) {
	case BSON_TYPE_DOUBLE: bson_append_double(d, key, -1, rand_double()); break;
	case BSON_TYPE_UTF8:
		n = rand_text(s, sizeof s, true);
		bson_append_utf8(d, key, -1, (const char *)s, (int)n);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (t == BSON_TYPE_DOCUMENT)
			bson_append_document_begin(d, key, -1, &child);
		else
			bson_append_array_begin(d, key, -1, &child);
		gen_doc(&child, depth + 1, (where & IN_SCOPE) | (t == BSON_TYPE_ARRAY ? IN_ARRAY : 0));
		if (t == BSON_TYPE_DOCUMENT)
			bson_append_document_end(d, &child);
		else
			bson_append_array_end(d, &child);
		break;
	case BSON_TYPE_BINARY: gen_binary(d, key); break;
	case BSON_TYPE_UNDEFINED: bson_append_undefined(d, key, -1); break;
	case BSON_TYPE_OID: bson_append_oid(d, key, -1, &oid); break;
	case BSON_TYPE_BOOL: bson_append_bool(d, key, -1, chance(50)); break;
	case BSON_TYPE_DATE_TIME: bson_append_date_time(d, key, -1, rand_date()); break;
	case BSON_TYPE_NULL: bson_append_null(d, key, -1); break;
	case BSON_TYPE_REGEX: gen_regex(d, key); break;
	case BSON_TYPE_DBPOINTER:
		rand_text(s, sizeof s, false);
		bson_append_dbpointer(d, key, -1, (const char *)s, &oid);
		break;
	case BSON_TYPE_CODE:
	case BSON_TYPE_CODEWSCOPE: gen_code(d, key, depth, t == BSON_TYPE_CODEWSCOPE); break;
	case BSON_TYPE_SYMBOL:
		n = rand_text(s, sizeof s, true);
		bson_append_symbol(d, key, -1, (const char *)s, (int)n);
		break;
	case BSON_TYPE_INT32: bson_append_int32(d, key, -1, rand_int32()); break;
	case BSON_TYPE_TIMESTAMP: {
		uint32_t ts = rand_u32(), inc = rand_u32();

		bson_append_timestamp(d, key, -1, ts, inc);
		break;
	}
	case BSON_TYPE_INT64: bson_append_int64(d, key, -1, rand_int64()); break;
	case BSON_TYPE_DECIMAL128: {
		bson_decimal128_t dec = rand_decimal();

		bson_append_decimal128(d, key, -1, &dec);
		break;
	}
	case BSON_TYPE_MINKEY: bson_append_minkey(d, key, -1); break;
	default: bson_append_maxkey(d, key, -1); break;
	}
}

/* The fields of a document (or array) at nesting depth `depth` (0: top). */
static void
gen_doc(bson_t *d, int depth, unsigned where)
{
	unsigned n = depth == 0 ? 1 + below(8) : below(6);
	char key[256];

	for (unsigned i = 0; i < n; i++) {
		if (where & IN_ARRAY)
			snprintf(key, sizeof key, "%u", i);
		else
			rand_key(key, sizeof key);
		gen_value(d, key, depth, where);
	}
}

/* ---- what a document should come back as, and what it meets ---- */

/* What a document holds that matters to the comparison. */
struct traits {
	unsigned long nan_payloads; /* NaNs other than the quiet NaN, which come back as it */
	unsigned long decimals_changed; /* Decimal128s whose text reads back as other bits */
	bool code_nul;          /* JavaScript code holding a NUL */
	bool keyed_in_array;    /* code or a DBPointer as an array element */
	bool code_in_scope;     /* code anywhere in the scope of code with scope */
	bool decimal_over;      /* a Decimal128 coefficient past 10^34 - 1 */
};

/*
 * The value a Decimal128 stands for, in its canonical encoding (what its
 * string reads back as): NaN and infinity without stray bits, and a
 * coefficient past 10^34 - 1 zero, as IEEE 754-2008 (3.5.2) and the BSON
 * Decimal128 specification say.  bson_decimal128_to_string() zeroes only a
 * coefficient of 2^113 and up, so those below are zeroed here first.
 */
static bson_decimal128_t
decimal_canonical(bson_decimal128_t d, bool *over)
{
	const uint64_t max_high = UINT64_C(0x1ed09bead87c0), max_low = UINT64_C(0x378d8e63ffffffff);
	uint64_t coef_high = d.high & UINT64_C(0x1ffffffffffff);
	bson_decimal128_t back;
	char s[BSON_DECIMAL128_STRING];

	*over = (d.high >> 61 & 3) != 3 && (coef_high > max_high || (coef_high == max_high && d.low > max_low));
	if (*over) {
		d.high &= ~UINT64_C(0x1ffffffffffff);
		d.low = 0;
	}
	bson_decimal128_to_string(&d, s);
	if (!bson_decimal128_from_string(s, &back))
		abort();
	return back;
}

static void expect_walk(bson_iter_t *it, struct traits *tr, unsigned where);

static void
expect_value(bson_iter_t *it, struct traits *tr, unsigned where)
{
	static const uint64_t quiet_nan = UINT64_C(0x7ff8000000000000);
	bson_type_t type = bson_iter_type(it);
	bson_iter_t child;
	uint32_t len, slen;
	const uint8_t *scope;
	const char *code;
	bson_decimal128_t dec, canon;
	bool over;
	uint64_t bits;
	double v;

	if (type == BSON_TYPE_CODE || type == BSON_TYPE_CODEWSCOPE || type == BSON_TYPE_DBPOINTER) {
		tr->keyed_in_array |= (where & IN_ARRAY) != 0;
		tr->code_in_scope |= (where & IN_SCOPE) && type != BSON_TYPE_DBPOINTER;
	}
	switch (type) {
	case BSON_TYPE_DOUBLE:
		v = bson_iter_double(it);
		memcpy(&bits, &v, 8);
		if (isnan(v) && bits != quiet_nan) {
			bson_iter_overwrite_double(it, from_bits(quiet_nan));
			tr->nan_payloads++;
		}
		break;
	case BSON_TYPE_DECIMAL128:
		bson_iter_decimal128(it, &dec);
		canon = decimal_canonical(dec, &over);
		tr->decimal_over |= over;
		if (canon.low != dec.low || canon.high != dec.high) {
			bson_iter_overwrite_decimal128(it, &canon);
			tr->decimals_changed++;
		}
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (bson_iter_recurse(it, &child))
			expect_walk(&child, tr, (where & IN_SCOPE) | (type == BSON_TYPE_ARRAY ? IN_ARRAY : 0));
		break;
	case BSON_TYPE_CODE:
		code = bson_iter_code(it, &len);
		tr->code_nul |= memchr(code, 0, len) != NULL;
		break;
	case BSON_TYPE_CODEWSCOPE:
		code = bson_iter_codewscope(it, &len, &slen, &scope);
		tr->code_nul |= memchr(code, 0, len) != NULL;
		if (bson_iter_init_from_data(&child, scope, slen))
			expect_walk(&child, tr, IN_SCOPE);
		break;
	default:
		break;
	}
}

static void
expect_walk(bson_iter_t *it, struct traits *tr, unsigned where)
{
	while (bson_iter_next(it))
		expect_value(it, tr, where);
}

/*
 * The document src comes back as through Extended JSON, in a new bson_t: a
 * NaN as the quiet NaN (the text "NaN" has no payload), a Decimal128 as its
 * string reads (the specification's canonical form: stray bits of NaN and
 * infinity dropped, a coefficient past 10^34 - 1 is zero).
 */
static bson_t *
expect_new(const bson_t *src, struct traits *tr)
{
	bson_t *exp = bson_copy(src);
	bson_iter_t it;

	memset(tr, 0, sizeof *tr);
	if (bson_iter_init(&it, exp))
		expect_walk(&it, tr, 0);
	return exp;
}

/* ---- the comparisons ---- */

/*
 * Reasons to skip a direction, each a bug of libbson 1.23 (bson-json.c,
 * bson-decimal128.c), in the order they are looked for.
 */
enum skip {
	/* a: bson_new_from_json keeps "$code" in a C string, cut at a NUL */
	SKIP_CODE_NUL,
	/* a: it reads a "$code" inside a "$scope" as a plain document
	 * (_bson_json_read_code_or_scope_key, "something weirdly nested") */
	SKIP_CODE_IN_SCOPE,
	/* a: it names "$code" and "$dbPointer" elements of an array from a
	 * stale key buffer, as bson_uint32_to_string() gives its static text
	 * for an index below 1000 and leaves key_buf as it was */
	SKIP_KEY_IN_ARRAY,
	/* b: bson_decimal128_to_string zeroes a coefficient from 2^113 only;
	 * one from 10^34 to 2^113 - 1 it writes as 35 digits, which no reader
	 * takes, or (negative, its output cut at 36 characters) 34 of them, a
	 * value ten times smaller */
	SKIP_DECIMAL_OVER,
	N_SKIPS,
	NO_SKIP = N_SKIPS,
};

static const char *const skip_names[N_SKIPS] = {"code with NUL", "code in a scope", "code or DBPointer in an array",
	"Decimal128 coefficient over 10^34-1"};

struct tally {
	unsigned long docs, mismatches;
	unsigned long compared[3], skipped[3][N_SKIPS];
	unsigned long nan_payloads, decimals_changed;
};

/* One document under test, and the texts made of it so far. */
struct subject {
	unsigned long index;
	const bson_t *src, *exp;
	struct traits tr;
	struct ejson_buf canon, relaxed;
};

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('\n', f);
}

/* The first few mismatches on stderr: the document, the text it went
 * through, and what came out (as our canonical text, and its bytes). */
static void
mismatch(struct tally *t, const struct subject *s, const char *check, const char *text, const char *what,
	const uint8_t *got, size_t gotlen)
{
	struct ejson_buf b = {0};
	char why[128];

	if (++t->mismatches > SHOWN)
		return;
	fprintf(stderr, "mismatch %lu: document %lu, %s\n  BSON:     ", t->mismatches, s->index, check);
	put_hex(stderr, bson_get_data(s->src), s->src->len);
	if (memcmp(bson_get_data(s->src), bson_get_data(s->exp), s->src->len) != 0) {
		fprintf(stderr, "  expected: ");
		put_hex(stderr, bson_get_data(s->exp), s->exp->len);
	}
	fprintf(stderr, "  text:     %s\n  came out: %s\n", text, what ? what : "");
	if (got != NULL) {
		fprintf(stderr, "  as BSON:  ");
		put_hex(stderr, got, gotlen);
		if (ejson_write(got, gotlen, EJSON_CANONICAL, &b, why, sizeof why))
			fprintf(stderr, "  as text:  %s\n", (const char *)b.p);
		ejson_buf_free(&b);
	}
}

static bool
same(const bson_t *exp, const uint8_t *got, size_t len)
{
	return got != NULL && exp->len == len && memcmp(bson_get_data(exp), got, len) == 0;
}

/* a: our canonical text, read by libbson */
static void
check_a(struct tally *t, const struct subject *s)
{
	enum skip why = s->tr.code_nul ? SKIP_CODE_NUL : s->tr.code_in_scope ? SKIP_CODE_IN_SCOPE
		: s->tr.keyed_in_array ? SKIP_KEY_IN_ARRAY : NO_SKIP;
	bson_error_t err;
	bson_t *back;

	if (why != NO_SKIP) {
		t->skipped[0][why]++;
		return;
	}
	t->compared[0]++;
	back = bson_new_from_json(s->canon.p, (ssize_t)s->canon.len, &err);
	if (!same(s->exp, back ? bson_get_data(back) : NULL, back ? back->len : 0))
		mismatch(t, s, "a (our canonical text read by bson_new_from_json)", (const char *)s->canon.p,
			back ? "(bytes below)" : err.message, back ? bson_get_data(back) : NULL, back ? back->len : 0);
	bson_destroy(back);
}

/* b: libbson's canonical text, read by us */
static void
check_b(struct tally *t, const struct subject *s)
{
	struct ejson_buf back = {0};
	struct ejson_error err;
	size_t len;
	char *text;
	bool ok;

	if (s->tr.decimal_over) {
		t->skipped[1][SKIP_DECIMAL_OVER]++;
		return;
	}
	t->compared[1]++;
	text = bson_as_canonical_extended_json(s->src, &len);
	if (text == NULL) {
		mismatch(t, s, "b (bson_as_canonical_extended_json)", "", "libbson wrote no text", NULL, 0);
		return;
	}
	ok = ejson_parse(text, len, &back, &err);
	if (!ok || !same(s->exp, back.p, back.len))
		mismatch(t, s, "b (bson_as_canonical_extended_json read by ejson_parse)", text,
			ok ? "(bytes below)" : err.msg, ok ? back.p : NULL, back.len);
	ejson_buf_free(&back);
	bson_free(text);
}

/* c: our canonical text read by us; our relaxed text read by us and
 * written again */
static void
check_c(struct tally *t, const struct subject *s)
{
	struct ejson_buf back = {0}, again = {0};
	struct ejson_error err;
	char why[128] = "";
	bool ok;

	t->compared[2]++;
	ok = ejson_parse((const char *)s->canon.p, s->canon.len, &back, &err);
	if (!ok || !same(s->exp, back.p, back.len)) {
		mismatch(t, s, "c (our canonical text read by ejson_parse)", (const char *)s->canon.p,
			ok ? "(bytes below)" : err.msg, ok ? back.p : NULL, back.len);
		goto out;
	}
	ok = ejson_parse((const char *)s->relaxed.p, s->relaxed.len, &back, &err);
	if (ok)
		ok = ejson_write(back.p, back.len, EJSON_RELAXED, &again, why, sizeof why);
	if (!ok || again.len != s->relaxed.len || memcmp(again.p, s->relaxed.p, again.len) != 0)
		mismatch(t, s, "c (our relaxed text read by ejson_parse, written relaxed again)",
			(const char *)s->relaxed.p, !ok ? (why[0] ? why : err.msg) : (const char *)again.p, NULL, 0);
out:
	ejson_buf_free(&again);
	ejson_buf_free(&back);
}

/* One document through every direction. */
static void
check_doc(struct tally *t, unsigned long index, const bson_t *src)
{
	struct subject s = {.index = index, .src = src};
	bson_t *exp = expect_new(src, &s.tr);
	char why[128];

	s.exp = exp;
	t->docs++;
	t->nan_payloads += s.tr.nan_payloads;
	t->decimals_changed += s.tr.decimals_changed;
	if (!ejson_write(bson_get_data(src), src->len, EJSON_CANONICAL, &s.canon, why, sizeof why) ||
	    !ejson_write(bson_get_data(src), src->len, EJSON_RELAXED, &s.relaxed, why, sizeof why)) {
		mismatch(t, &s, "(ejson_write refused the document)", "", why, NULL, 0);
		goto out;
	}
	check_a(t, &s);
	check_b(t, &s);
	check_c(t, &s);
out:
	ejson_buf_free(&s.canon);
	ejson_buf_free(&s.relaxed);
	bson_destroy(exp);
}

/* ---- the run ---- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: mp-ejson-diff [--count N] [--seed S] [--doc HEX] [--verbose]\n");
}

static bool
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* --doc: the one document whose BSON is the hex text s; false if it is not
 * one (checked as libbson walks it, so that nothing below reads past it) */
static bool
run_hex(struct tally *t, const char *s)
{
	size_t n = strlen(s) / 2;
	uint8_t *p = bson_malloc(n + 1);
	bson_t *doc = NULL;
	bool ok = strlen(s) % 2 == 0;

	for (size_t i = 0; i < n && ok; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if ((ok = hi >= 0 && lo >= 0))
			p[i] = (uint8_t)(hi << 4 | lo);
	}
	if (ok && (doc = bson_new_from_data(p, n)) != NULL && bson_validate(doc, BSON_VALIDATE_NONE, NULL))
		check_doc(t, 0, doc);
	else
		ok = false;
	bson_destroy(doc);
	bson_free(p);
	return ok;
}

static void
run_random(struct tally *t, uint64_t count, uint64_t seed)
{
	rnd_seed(seed);
	for (uint64_t i = 0; i < count; i++) {
		bson_t doc = BSON_INITIALIZER;

		gen_doc(&doc, 0, 0);
		check_doc(t, (unsigned long)i, &doc);
		bson_destroy(&doc);
	}
}

static void
summary(const struct tally *t)
{
	static const char dir[] = "abc";

	printf("mp-ejson-diff: %lu documents, %lu mismatches (", t->docs, t->mismatches);
	for (int d = 0; d < 3; d++) {
		unsigned long skipped = 0;
		const char *sep = ": ";

		for (int r = 0; r < N_SKIPS; r++)
			skipped += t->skipped[d][r];
		printf("%s%c: %lu compared, %lu skipped", d ? "; " : "", dir[d], t->compared[d], skipped);
		for (int r = 0; r < N_SKIPS; r++)
			if (t->skipped[d][r]) {
				printf("%s%s %lu", sep, skip_names[r], t->skipped[d][r]);
				sep = ", ";
			}
	}
	printf(")\n");
}

/* --verbose: what was generated, and what Extended JSON could not carry. */
static void
details(const struct tally *t)
{
	for (size_t i = 0; i < N_TYPES; i++)
		printf("type 0x%02x: %lu values\n", all_types[i], type_count[all_types[i]]);
	printf("NaN payloads read back as the quiet NaN: %lu\n", t->nan_payloads);
	printf("Decimal128s read back in their canonical form: %lu\n", t->decimals_changed);
}

/* Every type came up (a change to the generator cannot drop one unseen). */
static bool
all_types_seen(void)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (type_count[all_types[i]] == 0) {
			fprintf(stderr, "mp-ejson-diff: no value of type 0x%02x was generated\n", all_types[i]);
			return false;
		}
	return true;
}

int
main(int argc, char **argv)
{
	struct tally t = {0};
	uint64_t count = 30000, seed = 1;
	const char *hex = NULL;
	bool verbose = false;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && parse_u64(argv[i + 1], &count)) {
			i++;
		} else if (strcmp(argv[i], "--seed") == 0 && parse_u64(argv[i + 1], &seed)) {
			i++;
		} else if (strcmp(argv[i], "--doc") == 0 && i + 1 < argc) {
			hex = argv[++i];
		} else if (strcmp(argv[i], "--verbose") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mp-ejson-diff: bad argument '%s'\n", argv[i]);
			usage(stderr);
			return 64;
		}
	}
	if (hex == NULL) {
		run_random(&t, count, seed);
	} else if (!run_hex(&t, hex)) {
		fprintf(stderr, "mp-ejson-diff: --doc: not the hex of a BSON document\n");
		return 65;
	}
	summary(&t);
	if (verbose)
		details(&t);
	if (t.mismatches == 0 && (hex != NULL || count < 1000 || all_types_seen()))
		rc = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mp-ejson-diff: writing stdout failed\n");
		rc = 74;
	}
	return rc;
}
