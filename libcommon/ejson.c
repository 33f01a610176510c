/*
 * ejson.c: BSON to Extended JSON v2 (the writer), one pass over the raw
 * bytes into a growing buffer: no per-element allocation and no printf.
 * The reader (Extended JSON to BSON) is ejsonparse.c.
 */
#include <math.h>
#include <string.h>

#include "base64.h"
#include "civil.h"
#include "dtoa.h"
#include "ejson.h"
#include "ejsonint.h"

/* ---- the buffer ---- */

void
ejson_buf_reserve(struct ejson_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + more + 1 <= b->cap)
		return;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->p = bson_realloc(b->p, cap);
	b->cap = cap;
}

void
ejson_buf_free(struct ejson_buf *b)
{
	bson_free(b->p);
	memset(b, 0, sizeof *b);
}

/* Byte classes of string text: what the writer copies as it is (0), what it
 * escapes (1: control characters, '"', '\\'), where UTF-8 starts (2). */
const uint8_t ejson_byte_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

size_t
ejson_utf8_char(const uint8_t *s, size_t avail)
{
	uint8_t c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return avail >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return avail >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	{
		uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return avail >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4
															: 0;
	}
}

bool
ejson_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		uint64_t v;

		if (n - i >= 8) {
			memcpy(&v, s + i, 8);
			if ((v & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) { /* the ASCII tail of a run, or a short string */
			i++;
			continue;
		}
		if ((k = ejson_utf8_char(s + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

/* ---- the writer ---- */

struct wctx {
	struct ejson_buf *o;
	enum ejson_mode mode;
	char *why;
	size_t whylen;
	bool named; /* the field of the error is in why */
};

#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

static inline void
putc1(struct ejson_buf *o, char c)
{
	need(o, 1);
	o->p[o->len++] = (uint8_t)c;
}

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				     "8081828384858687888990919293949596979899";

/* v in decimal at t (at least 20 bytes); returns the number of digits */
size_t
ejson_u64_text(uint64_t v, char *t)
{
	char tmp[20], *q = tmp + sizeof tmp;
	size_t n;

	while (v >= 100) {
		memcpy(q -= 2, digit_pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(q -= 2, digit_pairs + v * 2, 2);
	else
		*--q = (char)('0' + v);
	n = (size_t)(tmp + sizeof tmp - q);
	memcpy(t, q, n);
	return n;
}

static void
put_i64(struct ejson_buf *o, int64_t v)
{
	need(o, 21);
	if (v < 0) {
		o->p[o->len++] = '-';
		o->len += ejson_u64_text(0 - (uint64_t)v, (char *)o->p + o->len);
	} else {
		o->len += ejson_u64_text((uint64_t)v, (char *)o->p + o->len);
	}
}

static bool
fail(struct wctx *w, const char *what)
{
	bson_strncpy(w->why, what, w->whylen);
	return false;
}

/* A JSON string of s[0..n): escaped as the specification asks, UTF-8
 * checked on the way. */
static bool
put_str(struct wctx *w, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	struct ejson_buf *o = w->o;
	size_t i = 0;

	need(o, n + 2);
	o->p[o->len++] = '"';
	while (i < n) {
		size_t run = i, k;

		while (run < n && ejson_byte_class[s[run]] == 0)
			run++;
		memcpy(o->p + o->len, s + i, run - i);
		o->len += run - i;
		i = run;
		if (i == n)
			break;
		if (ejson_byte_class[s[i]] == 2) {
			if ((k = ejson_utf8_char(s + i, n - i)) == 0)
				return fail(w, "invalid UTF-8");
			memcpy(o->p + o->len, s + i, k);
			o->len += k;
			i += k;
			continue;
		}
		need(o, n - i + 7);
		o->p[o->len++] = '\\';
		switch (s[i]) {
		case '"': o->p[o->len++] = '"'; break;
		case '\\': o->p[o->len++] = '\\'; break;
		case '\b': o->p[o->len++] = 'b'; break;
		case '\f': o->p[o->len++] = 'f'; break;
		case '\n': o->p[o->len++] = 'n'; break;
		case '\r': o->p[o->len++] = 'r'; break;
		case '\t': o->p[o->len++] = 't'; break;
		default:
			memcpy(o->p + o->len, "u00", 3);
			o->p[o->len + 3] = (uint8_t)hex[s[i] >> 4];
			o->p[o->len + 4] = (uint8_t)hex[s[i] & 15];
			o->len += 5;
		}
		i++;
	}
	putc1(o, '"');
	return true;
}

/*
 * The text of a finite double, as bsondump's and the corpus' examples spell
 * it: fixed notation with at least one fraction digit ("1.0", "0.001",
 * "1.0001220703125") while it is exact in at most 15 fraction digits below
 * 2^53, else the shortest digits with an exponent ("1.2345678921232E+18",
 * "5E-324") unless printf's %g would write them without one.
 */
static size_t
ejson_double_text(double v, char *buf)
{
	uint64_t d;
	int e, n = dtoa_shortest(v, &d, &e), x;
	char ds[20], *t = buf;
	bool fixed;

	if (signbit(v))
		*t++ = '-';
	if (d == 0) {
		memcpy(t, "0.0", 3);
		return (size_t)(t + 3 - buf);
	}
	ejson_u64_text(d, ds);
	x = n - 1 + e; /* the exponent of the first digit */
	if (e >= 0)
		fixed = fabs(v) < 9007199254740992.0 || e == 0;
	else
		fixed = (-e <= 15 && d < UINT64_C(9007199254740992)) || x >= -4;
	if (!fixed) {
		*t++ = ds[0];
		if (n > 1) {
			*t++ = '.';
			memcpy(t, ds + 1, (size_t)n - 1);
			t += n - 1;
		}
		*t++ = 'E';
		*t++ = x < 0 ? '-' : '+';
		x = x < 0 ? -x : x;
		if (x < 10)
			*t++ = '0';
		t += ejson_u64_text((uint64_t)x, t);
	} else if (e >= 0) {
		memcpy(t, ds, (size_t)n);
		t += n;
		memset(t, '0', (size_t)e);
		t += e;
		memcpy(t, ".0", 2);
		t += 2;
	} else if (n > -e) {
		memcpy(t, ds, (size_t)(n + e));
		t += n + e;
		*t++ = '.';
		memcpy(t, ds + n + e, (size_t)-e);
		t += -e;
	} else {
		memcpy(t, "0.", 2);
		t += 2;
		memset(t, '0', (size_t)(-e - n));
		t += -e - n;
		memcpy(t, ds, (size_t)n);
		t += n;
	}
	return (size_t)(t - buf);
}

static void
put_double(struct wctx *w, double v)
{
	struct ejson_buf *o = w->o;
	bool bare = w->mode == EJSON_RELAXED && isfinite(v);

	need(o, 64);
	if (!bare)
		PUTS(o, "{\"$numberDouble\":\"");
	if (isnan(v))
		PUTS(o, "NaN");
	else if (isinf(v))
		v < 0 ? PUTS(o, "-Infinity") : PUTS(o, "Infinity");
	else
		o->len += ejson_double_text(v, (char *)o->p + o->len);
	if (!bare)
		PUTS(o, "\"}");
}

static void
put_hex(struct ejson_buf *o, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	need(o, n * 2);
	for (size_t i = 0; i < n; i++) {
		o->p[o->len++] = (uint8_t)hex[p[i] >> 4];
		o->p[o->len++] = (uint8_t)hex[p[i] & 15];
	}
}

static void
put_oid(struct ejson_buf *o, const uint8_t *p)
{
	PUTS(o, "{\"$oid\":\"");
	put_hex(o, p, 12);
	PUTS(o, "\"}");
}

static void
put_base64(struct ejson_buf *o, const uint8_t *p, size_t n)
{
	need(o, BASE64_ENCODED_LEN(n));
	o->len += base64_encode_into((char *)o->p + o->len, p, n);
}

/* 10000-01-01T00:00:00Z in milliseconds: relaxed dates end before it */
#define EJSON_FIRST_MS_AFTER_9999 INT64_C(253402300800000)

static void
put_2(uint8_t *t, unsigned v)
{
	memcpy(t, digit_pairs + v * 2, 2);
}

static void
put_date(struct wctx *w, int64_t ms)
{
	struct ejson_buf *o = w->o;
	int64_t y, days = ms / 86400000;
	unsigned mo, d, rest = (unsigned)(ms % 86400000);
	uint8_t *t;

	if (w->mode == EJSON_CANONICAL || ms < 0 || ms >= EJSON_FIRST_MS_AFTER_9999) {
		PUTS(o, "{\"$date\":{\"$numberLong\":\"");
		put_i64(o, ms);
		PUTS(o, "\"}}");
		return;
	}
	civil_from_days(days, &y, &mo, &d);
	PUTS(o, "{\"$date\":\"");
	need(o, 32);
	t = o->p + o->len;
	put_2(t, (unsigned)(y / 100)), put_2(t + 2, (unsigned)(y % 100));
	t[4] = '-', put_2(t + 5, mo), t[7] = '-', put_2(t + 8, d), t[10] = 'T';
	put_2(t + 11, rest / 3600000), t[13] = ':', put_2(t + 14, rest / 60000 % 60), t[16] = ':';
	put_2(t + 17, rest / 1000 % 60);
	t += 19;
	if (rest % 1000) {
		*t++ = '.';
		*t++ = (uint8_t)('0' + rest % 1000 / 100);
		put_2(t, rest % 100);
		t += 2;
	}
	memcpy(t, "Z\"}", 3);
	o->len = (size_t)(t + 3 - o->p);
}

const uint8_t *
ejson_bson_string(const uint8_t *p, size_t avail, size_t *n, size_t *size)
{
	uint32_t l;

	if (avail < 5 || (l = ejson_rd32(p)) < 1 || l > avail - 4 || p[4 + l - 1] != 0)
		return NULL;
	*n = l - 1;
	*size = 4 + (size_t)l;
	return p + 4;
}

static bool put_doc(struct wctx *w, const uint8_t *d, size_t len, bool array, int depth);

static bool
ejson_ascii(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			return false;
	return true;
}

static bool
put_regex(struct wctx *w, const uint8_t *p, const uint8_t *end, size_t *size)
{
	const uint8_t *pe = memchr(p, 0, (size_t)(end - p)), *oe;
	char opts[32];
	size_t no;

	if (pe == NULL || (oe = memchr(pe + 1, 0, (size_t)(end - pe - 1))) == NULL)
		return fail(w, "corrupt regular expression");
	no = (size_t)(oe - pe - 1);
	*size = (size_t)(oe + 1 - p);
	PUTS(w->o, "{\"$regularExpression\":{\"pattern\":");
	if (!put_str(w, p, (size_t)(pe - p)))
		return false;
	PUTS(w->o, ",\"options\":");
	if (no < sizeof opts && ejson_ascii(pe + 1, no)) {
		/* the options in alphabetical order, as the specification asks */
		memcpy(opts, pe + 1, no);
		for (size_t i = 1; i < no; i++)
			for (size_t j = i; j > 0 && opts[j - 1] > opts[j]; j--) {
				char c = opts[j];

				opts[j] = opts[j - 1], opts[j - 1] = c;
			}
		if (!put_str(w, (const uint8_t *)opts, no))
			return false;
	} else if (!put_str(w, pe + 1, no)) {
		return false;
	}
	PUTS(w->o, "}}");
	return true;
}

static bool
put_binary(struct wctx *w, const uint8_t *p, size_t avail, size_t *size)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t l;
	uint8_t sub;
	char st[2];

	if (avail < 5 || (l = ejson_rd32(p)) > avail - 5)
		return fail(w, "corrupt binary");
	sub = p[4];
	*size = 5 + (size_t)l;
	p += 5;
	if (sub == 2) {
		/* the old binary subtype holds its own length first */
		if (l < 4 || ejson_rd32(p) != l - 4)
			return fail(w, "corrupt binary of subtype 2");
		p += 4, l -= 4;
	}
	PUTS(w->o, "{\"$binary\":{\"base64\":\"");
	put_base64(w->o, p, l);
	PUTS(w->o, "\",\"subType\":\"");
	st[0] = hex[sub >> 4], st[1] = hex[sub & 15];
	put(w->o, st, 2);
	PUTS(w->o, "\"}}");
	return true;
}

static bool
put_codewscope(struct wctx *w, const uint8_t *p, size_t avail, int depth, size_t *size)
{
	uint32_t total;
	const uint8_t *code;
	size_t n, ssize;

	if (avail < 14 || (total = ejson_rd32(p)) < 14 || total > avail)
		return fail(w, "corrupt code with scope");
	code = ejson_bson_string(p + 4, total - 4, &n, &ssize);
	if (code == NULL || total - 4 - ssize < 5 || ejson_rd32(p + 4 + ssize) != total - 4 - ssize)
		return fail(w, "corrupt code with scope");
	*size = total;
	PUTS(w->o, "{\"$code\":");
	if (!put_str(w, code, n))
		return false;
	PUTS(w->o, ",\"$scope\":");
	if (!put_doc(w, p + 4 + ssize, total - 4 - ssize, false, depth + 1))
		return false;
	putc1(w->o, '}');
	return true;
}

/* A string-valued type: "$code", "$symbol" (relaxed too), or a plain string */
static bool
put_wrapped_str(struct wctx *w, const char *open, size_t openlen, const uint8_t *p, size_t avail, size_t *size)
{
	size_t n;
	const uint8_t *s = ejson_bson_string(p, avail, &n, size);

	if (s == NULL)
		return fail(w, "corrupt string length");
	put(w->o, open, openlen);
	if (!put_str(w, s, n))
		return false;
	if (openlen)
		putc1(w->o, '}');
	return true;
}

static bool
put_dbpointer(struct wctx *w, const uint8_t *p, size_t avail, size_t *size)
{
	size_t n, ssize;
	const uint8_t *s = ejson_bson_string(p, avail, &n, &ssize);

	if (s == NULL || avail - ssize < 12)
		return fail(w, "corrupt DBPointer");
	*size = ssize + 12;
	PUTS(w->o, "{\"$dbPointer\":{\"$ref\":");
	if (!put_str(w, s, n))
		return false;
	PUTS(w->o, ",\"$id\":");
	put_oid(w->o, p + ssize);
	PUTS(w->o, "}}");
	return true;
}

static bool
put_number(struct wctx *w, uint8_t type, const uint8_t *p)
{
	struct ejson_buf *o = w->o;
	bool relaxed = w->mode == EJSON_RELAXED;

	if (type == BSON_TYPE_INT32) {
		if (!relaxed)
			PUTS(o, "{\"$numberInt\":\"");
		put_i64(o, (int32_t)ejson_rd32(p));
	} else {
		if (!relaxed)
			PUTS(o, "{\"$numberLong\":\"");
		put_i64(o, (int64_t)ejson_rd64(p));
	}
	if (!relaxed)
		PUTS(o, "\"}");
	return true;
}

/* Whether a Decimal128 in its first form (combination bits not 11) holds a
 * coefficient above 10^34 - 1 = 0x1ed09bead87c0 378d8e63ffffffff. */
static bool
decimal_coefficient_too_large(uint64_t high, uint64_t low)
{
	uint64_t c = high & UINT64_C(0x1ffffffffffff);

	return (high >> 61 & 3) != 3 &&
	       (c > UINT64_C(0x1ed09bead87c0) || (c == UINT64_C(0x1ed09bead87c0) && low > UINT64_C(0x378d8e63ffffffff)));
}

static const uint8_t value_size[256] = {
	[BSON_TYPE_DOUBLE] = 8, [BSON_TYPE_OID] = 12, [BSON_TYPE_BOOL] = 1, [BSON_TYPE_DATE_TIME] = 8,
	[BSON_TYPE_INT32] = 4, [BSON_TYPE_TIMESTAMP] = 8, [BSON_TYPE_INT64] = 8, [BSON_TYPE_DECIMAL128] = 16,
};

/* The value of type `type` at p (avail bytes up to the document's end). */
static bool
put_value(struct wctx *w, uint8_t type, const uint8_t *p, size_t avail, int depth, size_t *size)
{
	struct ejson_buf *o = w->o;
	uint32_t l;

	*size = value_size[type];
	if (avail < *size)
		return fail(w, "element runs past the end of its document");
	switch (type) {
	case BSON_TYPE_DOUBLE: {
		double v;
		uint64_t bits = ejson_rd64(p);

		memcpy(&v, &bits, 8);
		put_double(w, v);
		return true;
	}
	case BSON_TYPE_UTF8:
		return put_wrapped_str(w, "", 0, p, avail, size);
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (avail < 5 || (l = ejson_rd32(p)) < 5 || l > avail)
			return fail(w, "corrupt embedded document length");
		*size = l;
		return put_doc(w, p, l, type == BSON_TYPE_ARRAY, depth + 1);
	case BSON_TYPE_BINARY: return put_binary(w, p, avail, size);
	case BSON_TYPE_UNDEFINED: PUTS(o, "{\"$undefined\":true}"); return true;
	case BSON_TYPE_OID: put_oid(o, p); return true;
	case BSON_TYPE_BOOL:
		if (p[0] > 1)
			return fail(w, "boolean that is neither 0 nor 1");
		p[0] ? PUTS(o, "true") : PUTS(o, "false");
		return true;
	case BSON_TYPE_DATE_TIME: put_date(w, (int64_t)ejson_rd64(p)); return true;
	case BSON_TYPE_NULL: PUTS(o, "null"); return true;
	case BSON_TYPE_REGEX: return put_regex(w, p, p + avail, size);
	case BSON_TYPE_DBPOINTER: return put_dbpointer(w, p, avail, size);
	case BSON_TYPE_CODE: return put_wrapped_str(w, "{\"$code\":", 9, p, avail, size);
	case BSON_TYPE_SYMBOL: return put_wrapped_str(w, "{\"$symbol\":", 11, p, avail, size);
	case BSON_TYPE_CODEWSCOPE: return put_codewscope(w, p, avail, depth, size);
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64: return put_number(w, type, p);
	case BSON_TYPE_TIMESTAMP: {
		uint64_t ts = ejson_rd64(p);

		PUTS(o, "{\"$timestamp\":{\"t\":");
		put_i64(o, (int64_t)(ts >> 32));
		PUTS(o, ",\"i\":");
		put_i64(o, (int64_t)(ts & 0xffffffffu));
		PUTS(o, "}}");
		return true;
	}
	case BSON_TYPE_DECIMAL128: {
		bson_decimal128_t dec;
		char s[BSON_DECIMAL128_STRING];

		dec.low = ejson_rd64(p), dec.high = ejson_rd64(p + 8);
		if (decimal_coefficient_too_large(dec.high, dec.low)) {
			/* a coefficient past 10^34 - 1 is zero (IEEE 754-2008
			 * 3.5.2); bson_decimal128_to_string() zeroes only those
			 * from 2^113 and prints 35 digits for the others */
			dec.high &= ~UINT64_C(0x1ffffffffffff);
			dec.low = 0;
		}
		bson_decimal128_to_string(&dec, s);
		PUTS(o, "{\"$numberDecimal\":\"");
		put(o, s, strlen(s));
		PUTS(o, "\"}");
		return true;
	}
	case BSON_TYPE_MAXKEY: PUTS(o, "{\"$maxKey\":1}"); return true;
	case BSON_TYPE_MINKEY: PUTS(o, "{\"$minKey\":1}"); return true;
	default: {
		char why[64];

		snprintf(why, sizeof why, "unknown element type 0x%02x", type);
		return fail(w, why);
	}
	}
}

static bool
put_doc(struct wctx *w, const uint8_t *d, size_t len, bool array, int depth)
{
	const uint8_t *p = d + 4, *end = d + len - 1;
	bool first = true;

	if (depth > EJSON_MAX_DEPTH)
		return fail(w, "nesting deeper than 200 levels");
	if (len < 5 || ejson_rd32(d) != len || *end != 0)
		return fail(w, "corrupt document length");
	putc1(w->o, array ? '[' : '{');
	while (p < end) {
		uint8_t type = *p++;
		const uint8_t *key = p, *kend = memchr(p, 0, (size_t)(end - p));
		size_t size;

		if (kend == NULL)
			return fail(w, "field name runs past the end of its document");
		if (!first)
			putc1(w->o, ',');
		first = false;
		if (!array) {
			if (!put_str(w, key, (size_t)(kend - key))) {
				w->named = true;
				return fail(w, "invalid UTF-8 in a field name");
			}
			putc1(w->o, ':');
		} else if (!ejson_utf8_valid(key, (size_t)(kend - key))) {
			/* not written, but checked as the reader's check does */
			w->named = true;
			return fail(w, "invalid UTF-8 in a field name");
		}
		p = kend + 1;
		if (!put_value(w, type, p, (size_t)(end - p), depth, &size)) {
			size_t n = strlen(w->why);

			/* the innermost field is the one to name */
			if (!w->named && n + 16 < w->whylen && ejson_utf8_valid(key, (size_t)(kend - key)))
				snprintf(w->why + n, w->whylen - n, " in field '%.*s'", (int)(w->whylen - n - 14), key);
			w->named = true;
			return false;
		}
		p += size;
	}
	if (p != end)
		return fail(w, "element runs past the end of its document");
	putc1(w->o, array ? ']' : '}');
	return true;
}

bool
ejson_write(const uint8_t *data, size_t len, enum ejson_mode mode, struct ejson_buf *out, char *why,
	size_t whylen)
{
	struct wctx w = {out, mode, why, whylen};
	size_t at = out->len;

	if (len < 5 || len > UINT32_MAX) {
		bson_strncpy(why, "corrupt document length", whylen);
		return false;
	}
	if (!put_doc(&w, data, len, false, 0)) {
		out->len = at;
		return false;
	}
	out->p[out->len] = '\0';
	return true;
}

char *
ejson_from_bson_new(const bson_t *doc, enum ejson_mode mode, size_t *len)
{
	struct ejson_buf b = {0};
	char why[128];

	if (!ejson_write(bson_get_data(doc), doc->len, mode, &b, why, sizeof why)) {
		ejson_buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return (char *)b.p;
}
