/*
 * ejsonparse.c: Extended JSON v2 to BSON (ejson.h), a strict recursive
 * descent over the whole text that writes BSON as it goes.
 *
 * An object is written as a document first.  When its first key starts with
 * '$' it may be a type wrapper: the members just written (types, and whether
 * a number was bare or itself a wrapper) say which, and the document is
 * replaced in place by the value it stands for, which is never longer.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ejson.h"
#include "ejsonint.h"

/* a value from a bare JSON literal, or from a type wrapper */
enum kind { K_BARE, K_WRAPPED };

/* the first members of an object, enough to tell a wrapper */
#define MEMBERS 4
struct member {
	size_t key, val; /* offsets in the output */
	uint8_t type;
	enum kind kind;
};

struct pctx {
	const uint8_t *s, *p, *end;
	struct ejson_buf *o;
	struct ejson_error *err;
	int depth;
};

static bool perr(struct pctx *c, const uint8_t *at, bool ext, const char *fmt, ...) BSON_GNUC_PRINTF(4, 5);

static bool
perr(struct pctx *c, const uint8_t *at, bool ext, const char *fmt, ...)
{
	va_list ap;

	if (c->err->msg[0] != '\0')
		return false; /* the first error found is the one to report */
	c->err->offset = (size_t)(at - c->s);
	c->err->extended = ext;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
	va_end(ap);
	return false;
}

static inline void
need(struct ejson_buf *o, size_t n)
{
	if (o->len + n + 1 > o->cap)
		ejson_buf_reserve(o, n);
}

static inline void
put(struct ejson_buf *o, const void *s, size_t n)
{
	need(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void
put_u32(struct ejson_buf *o, uint32_t v)
{
	v = BSON_UINT32_TO_LE(v);
	put(o, &v, 4);
}

static inline void
patch_u32(struct ejson_buf *o, size_t at, uint32_t v)
{
	v = BSON_UINT32_TO_LE(v);
	memcpy(o->p + at, &v, 4);
}

static inline uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return BSON_UINT32_FROM_LE(v);
}

static inline void
skip_ws(struct pctx *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int
hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

static long
hex4(const uint8_t *p, const uint8_t *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void
put_utf8(struct ejson_buf *o, unsigned long cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6)), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12)), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (cp >> 18)), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
	}
	put(o, b, n);
}

/* A \u escape at p (after the backslash), a surrogate pair taken whole. */
static bool
unicode_escape(struct pctx *c, const uint8_t **pp, struct ejson_buf *o)
{
	const uint8_t *p = *pp;
	long cp = hex4(p + 1, c->end), lo;

	if (cp < 0)
		return perr(c, p - 1, false, "invalid \\u escape");
	p += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return perr(c, p - 6, false, "unpaired UTF-16 surrogate \\u%04lx", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (c->end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2, c->end)) < 0xdc00 ||
		    lo > 0xdfff)
			return perr(c, p - 6, false, "unpaired UTF-16 surrogate \\u%04lx", cp);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	put_utf8(o, (unsigned long)cp);
	*pp = p;
	return true;
}

/*
 * The JSON string at c->p (on its opening quote), decoded and appended to
 * the output; *n is its length.  A field name (cstring) may hold no NUL.
 */
static bool
parse_str(struct pctx *c, bool cstring, size_t *n)
{
	struct ejson_buf *o = c->o;
	const uint8_t *p = c->p + 1, *end = c->end;
	size_t start = o->len;

	for (;;) {
		const uint8_t *run = p;
		size_t k;

		while (p < end && ejson_byte_class[*p] == 0)
			p++;
		put(o, run, (size_t)(p - run));
		if (p == end)
			return perr(c, c->p, false, "unterminated string");
		if (*p == '"')
			break;
		if (ejson_byte_class[*p] == 2) {
			if ((k = ejson_utf8_char(p, (size_t)(end - p))) == 0)
				return perr(c, p, false, "invalid UTF-8");
			put(o, p, k);
			p += k;
			continue;
		}
		if (*p != '\\')
			return perr(c, p, false, "control character 0x%02x in a string", *p);
		if (p + 1 == end)
			return perr(c, c->p, false, "unterminated string");
		switch (p[1]) {
		case '"': case '\\': case '/': put(o, p + 1, 1); break;
		case 'b': put(o, "\b", 1); break;
		case 'f': put(o, "\f", 1); break;
		case 'n': put(o, "\n", 1); break;
		case 'r': put(o, "\r", 1); break;
		case 't': put(o, "\t", 1); break;
		case 'u':
			p++;
			if (!unicode_escape(c, &p, o))
				return false;
			continue;
		default:
			return perr(c, p, false, "invalid escape in a string");
		}
		p += 2;
	}
	*n = o->len - start;
	if (cstring && memchr(o->p + start, 0, *n) != NULL)
		return perr(c, c->p, false, "NUL character in a field name");
	c->p = p + 1;
	return true;
}

static bool parse_value(struct pctx *c, uint8_t *type, enum kind *kind);

static bool
literal(struct pctx *c, const char *word, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return perr(c, c->p, false, "unexpected character '%c'", *c->p);
	c->p += n;
	return true;
}

static const double pow10_exact[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A JSON number's text at p..q as a double: exact without strtod when the
 * digits fit in 2^53 and the power of ten is exact (Clinger's fast path).
 */
static double
number_value(const uint8_t *p, const uint8_t *q, uint64_t m, int nd, int e10, bool neg)
{
	char tmp[64], *heap = NULL, *t = tmp;
	double v;

	if (nd <= 15 && e10 >= -22 && e10 <= 22) {
		v = e10 < 0 ? (double)m / pow10_exact[-e10] : (double)m * pow10_exact[e10];
		return neg ? -v : v;
	}
	if ((size_t)(q - p) >= sizeof tmp)
		t = heap = bson_malloc((size_t)(q - p) + 1);
	memcpy(t, p, (size_t)(q - p));
	t[q - p] = '\0';
	v = strtod(t, NULL);
	bson_free(heap);
	return v;
}

static bool
parse_number(struct pctx *c, uint8_t *type)
{
	const uint8_t *p = c->p, *start = c->p, *end = c->end;
	bool neg = false, real = false;
	uint64_t m = 0;
	int nd = 0, e10 = 0, lost = 0;

	if (*p == '-')
		neg = true, p++;
	if (p == end || *p < '0' || *p > '9')
		return perr(c, start, false, "invalid number");
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return perr(c, start, false, "number with a leading zero");
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (nd < 19)
			m = m * 10 + (uint64_t)(*p - '0'), nd += m > 0;
		else
			lost++;
	}
	if (p < end && *p == '.') {
		real = true;
		if (++p == end || *p < '0' || *p > '9')
			return perr(c, start, false, "invalid number");
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (nd < 19)
				m = m * 10 + (uint64_t)(*p - '0'), nd += m > 0, e10--;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int es = 1, ev = 0;

		real = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			es = *p++ == '-' ? -1 : 1;
		if (p == end || *p < '0' || *p > '9')
			return perr(c, start, false, "invalid number");
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			ev = ev < 100000 ? ev * 10 + (*p - '0') : ev;
		e10 += es * ev;
	}
	c->p = p;
	if (!real && lost == 0) {
		if (neg ? m <= UINT64_C(2147483648) : m <= INT32_MAX) {
			int32_t v = neg ? (int32_t)(0 - m) : (int32_t)m;

			*type = BSON_TYPE_INT32;
			put_u32(c->o, (uint32_t)v);
			return true;
		}
		if (neg ? m <= UINT64_C(9223372036854775808) : m <= INT64_MAX) {
			uint64_t v = BSON_UINT64_TO_LE(neg ? 0 - m : m);

			*type = BSON_TYPE_INT64;
			put(c->o, &v, 8);
			return true;
		}
	}
	{
		double v = number_value(start, p, m, lost ? 99 : nd, e10 + lost, neg);
		uint64_t bits;

		if (!isfinite(v))
			return perr(c, start, false, "number out of the range of a double");
		memcpy(&bits, &v, 8);
		bits = BSON_UINT64_TO_LE(bits);
		*type = BSON_TYPE_DOUBLE;
		put(c->o, &bits, 8);
	}
	return true;
}

/* ---- type wrappers ---- */

enum wrap {
	W_NONE, W_OID, W_SYMBOL, W_INT, W_LONG, W_DOUBLE, W_DECIMAL, W_BINARY, W_UUID, W_CODE, W_SCOPE,
	W_TIMESTAMP, W_REGEX, W_DBPOINTER, W_DATE, W_MINKEY, W_MAXKEY, W_UNDEFINED, W_LEGACY_REGEX,
	W_OPTIONS, W_TYPE,
};

static const struct {
	const char *name;
	enum wrap w;
} wrap_names[] = {
	{"$oid", W_OID}, {"$symbol", W_SYMBOL}, {"$numberInt", W_INT}, {"$numberLong", W_LONG},
	{"$numberDouble", W_DOUBLE}, {"$numberDecimal", W_DECIMAL}, {"$binary", W_BINARY}, {"$uuid", W_UUID},
	{"$code", W_CODE}, {"$scope", W_SCOPE}, {"$timestamp", W_TIMESTAMP},
	{"$regularExpression", W_REGEX}, {"$dbPointer", W_DBPOINTER}, {"$date", W_DATE}, {"$minKey", W_MINKEY},
	{"$maxKey", W_MAXKEY}, {"$undefined", W_UNDEFINED}, {"$regex", W_LEGACY_REGEX}, {"$options", W_OPTIONS},
	{"$type", W_TYPE},
};

/* What the wrapper turns into: the value's bytes go to the output's end. */
struct conv {
	struct pctx *c;
	const struct member *m;
	size_t n;
	const uint8_t *at; /* where the object's text started, for errors */
};

static const char *
mkey(const struct conv *v, size_t i)
{
	return (const char *)v->c->o->p + v->m[i].key;
}

/* member i's string (NUL-terminated in the output), or NULL if it is not one */
static const char *
mstr(const struct conv *v, size_t i, size_t *len)
{
	const uint8_t *p = v->c->o->p + v->m[i].val;

	if (v->m[i].type != BSON_TYPE_UTF8)
		return NULL;
	*len = get_u32(p) - 1;
	return (const char *)p + 4;
}

static bool cerr(const struct conv *v, const char *fmt, ...) BSON_GNUC_PRINTF(2, 3);

static bool
cerr(const struct conv *v, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return perr(v->c, v->at, true, "%s: %s", mkey(v, 0), msg);
}

static bool
strict_int(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)0 - (uint64_t)lo : (uint64_t)hi;
	size_t i = neg;

	if (i == len)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static bool
strict_double(const char *s, size_t len, double *out)
{
	size_t i = 0, digits = 0;
	char *end;

	if ((len == 3 && memcmp(s, "NaN", 3) == 0)) {
		*out = NAN;
		return true;
	}
	if ((len == 8 && memcmp(s, "Infinity", 8) == 0) || (len == 9 && memcmp(s, "-Infinity", 9) == 0)) {
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (i < len && s[i] == '-')
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t e0;

		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (e0 = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == e0)
			return false;
	}
	if (i != len)
		return false;
	*out = strtod(s, &end);
	return end == s + len && isfinite(*out);
}

static bool
base64_decode(struct ejson_buf *o, const char *s, size_t len)
{
	uint32_t acc = 0;
	size_t bits = 0, pad = 0;

	if (len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		int v;
		char ch = s[i];

		if (ch == '=') {
			if (i + 2 < len || ++pad > 2)
				return false;
			continue;
		}
		if (pad)
			return false;
		v = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
			: ch >= '0' && ch <= '9' ? ch - '0' + 52 : ch == '+' ? 62 : ch == '/' ? 63 : -1;
		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o->p[o->len++] = (uint8_t)(acc >> bits);
		}
	}
	return true;
}

/* A binary value: base64 text and a one- or two-digit hex subtype. */
static bool
put_binary(const struct conv *v, const char *b64, size_t blen, const char *st, size_t stlen)
{
	struct ejson_buf *o = v->c->o;
	size_t at = o->len, data;
	int hi = stlen == 2 ? hexval((uint8_t)st[0]) : 0, lo = stlen ? hexval((uint8_t)st[stlen - 1]) : -1;
	uint8_t sub;

	if (stlen < 1 || stlen > 2 || hi < 0 || lo < 0)
		return cerr(v, "subType must be one or two hex digits, not \"%.*s\"", (int)(stlen < 8 ? stlen : 8), st);
	sub = (uint8_t)(hi * 16 + lo);
	put_u32(o, 0);
	put(o, &sub, 1);
	if (sub == 2)
		put_u32(o, 0); /* the old binary subtype holds its own length first */
	data = o->len;
	if (!base64_decode(o, b64, blen))
		return cerr(v, "invalid base64 data");
	patch_u32(o, at, (uint32_t)(o->len - at - 5));
	if (sub == 2)
		patch_u32(o, data - 4, (uint32_t)(o->len - data));
	return true;
}

static bool
conv_uuid(const struct conv *v, const char *s, size_t len)
{
	struct ejson_buf *o = v->c->o;
	uint8_t bytes[16];
	size_t k = 0;

	for (size_t i = 0; i < len && len == 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		int h1, h2;

		if (dash != (s[i] == '-'))
			break;
		if (dash)
			continue;
		if (i + 1 >= len || (h1 = hexval((uint8_t)s[i])) < 0 || (h2 = hexval((uint8_t)s[i + 1])) < 0)
			break;
		bytes[k++] = (uint8_t)(h1 * 16 + h2);
		i++;
	}
	if (k != 16)
		return cerr(v, "a UUID is 32 hex digits in groups of 8-4-4-4-12");
	put_u32(o, 16);
	put(o, "\4", 1);
	put(o, bytes, 16);
	return true;
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
digits_at(const char *s, size_t len, size_t i, size_t n, unsigned *out)
{
	*out = 0;
	if (i + n > len)
		return false;
	for (size_t k = i; k < i + n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		*out = *out * 10 + (unsigned)(s[k] - '0');
	}
	return true;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]" then "Z", "+HH:MM", "+HHMM" or "+HH". */
static bool
iso_date(const char *s, size_t len, int64_t *ms)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0;
	size_t i = 19;
	int sign = 0;

	if (!digits_at(s, len, 0, 4, &y) || s[4] != '-' || !digits_at(s, len, 5, 2, &mo) || s[7] != '-' ||
	    !digits_at(s, len, 8, 2, &d) || s[10] != 'T' || !digits_at(s, len, 11, 2, &h) || s[13] != ':' ||
	    !digits_at(s, len, 14, 2, &mi) || s[16] != ':' || !digits_at(s, len, 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) ||
	    h > 23 || mi > 59 || sec > 59)
		return false;
	if (i < len && s[i] == '.') {
		unsigned scale = 100, nd = 0;

		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
			if (scale > 0)
				frac += (unsigned)(s[i] - '0') * scale, scale /= 10;
		if (nd == 0)
			return false;
	}
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '-' ? -1 : 1;
		if (!digits_at(s, len, i + 1, 2, &oh) || oh > 23)
			return false;
		i += 3;
		if (i < len && s[i] == ':')
			i++;
		if (i < len && (!digits_at(s, len, i, 2, &om) || om > 59))
			return false;
		i += i < len ? 2 : 0;
	} else if (i < len && s[i] == 'Z') {
		i++;
	} else {
		return false;
	}
	if (i != len)
		return false;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	*ms = *ms * 1000 + frac - (int64_t)sign * ((int64_t)oh * 3600 + om * 60) * 1000;
	return true;
}

/* The members of the document that member i holds, by name: exactly the
 * names given (each found once), their iterators in its. */
static bool
inner_members(const struct conv *v, size_t i, const char *const *names, bson_iter_t *a, bson_iter_t *b)
{
	const size_t n = 2;
	const uint8_t *p = v->c->o->p + v->m[i].val;
	bson_iter_t it;
	size_t found = 0;

	if (v->m[i].type != BSON_TYPE_DOCUMENT || !bson_iter_init_from_data(&it, p, get_u32(p)))
		return cerr(v, "takes a document");
	while (bson_iter_next(&it)) {
		size_t k;

		for (k = 0; k < n && strcmp(bson_iter_key(&it), names[k]) != 0; k++)
			;
		if (k == n)
			return cerr(v, "unexpected field \"%s\"", bson_iter_key(&it));
		*(k == 0 ? a : b) = it;
		found |= (size_t)1 << k;
	}
	for (size_t k = 0; k < n; k++)
		if (!(found & ((size_t)1 << k)))
			return cerr(v, "missing field \"%s\"", names[k]);
	return true;
}

/* Regex options in alphabetical order, as the specification asks; options
 * that are not all ASCII are left as they are (sorting bytes would break
 * their UTF-8). */
static void
sort_options(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
			char ch = s[j];

			s[j] = s[j - 1], s[j - 1] = ch;
		}
}

static bool
put_regex(const struct conv *v, const char *pat, size_t plen, const char *opt, size_t olen)
{
	struct ejson_buf *o = v->c->o;

	if (memchr(pat, 0, plen) || memchr(opt, 0, olen))
		return cerr(v, "a NUL character in a regular expression");
	put(o, pat, plen);
	put(o, "", 1);
	put(o, opt, olen);
	sort_options((char *)o->p + o->len - olen, olen);
	put(o, "", 1);
	return true;
}

static bool
conv_binary(const struct conv *v)
{
	static const char *const names[] = {"base64", "subType"};
	bson_iter_t its0, its1;
	const char *b64, *st;
	uint32_t bl, sl;

	if (!inner_members(v, 0, names, &its0, &its1))
		return false;
	if (!BSON_ITER_HOLDS_UTF8(&its0) || !BSON_ITER_HOLDS_UTF8(&its1))
		return cerr(v, "base64 and subType must be strings");
	b64 = bson_iter_utf8(&its0, &bl);
	st = bson_iter_utf8(&its1, &sl);
	return put_binary(v, b64, bl, st, sl);
}

static bool
conv_timestamp(const struct conv *v)
{
	static const char *const names[] = {"t", "i"};
	bson_iter_t its0, its1;
	uint64_t tv[2];
	uint64_t ts;

	if (!inner_members(v, 0, names, &its0, &its1))
		return false;
	for (int k = 0; k < 2; k++) {
		int64_t x;

		if (BSON_ITER_HOLDS_INT32((k ? &its1 : &its0)))
			x = bson_iter_int32((k ? &its1 : &its0));
		else if (BSON_ITER_HOLDS_INT64((k ? &its1 : &its0)))
			x = bson_iter_int64((k ? &its1 : &its0));
		else
			return cerr(v, "t and i must be integers");
		if (x < 0 || x > UINT32_MAX)
			return cerr(v, "t and i must be between 0 and 4294967295");
		tv[k] = (uint64_t)x;
	}
	ts = BSON_UINT64_TO_LE(tv[0] << 32 | tv[1]);
	put(v->c->o, &ts, 8);
	return true;
}

static bool
conv_regex(const struct conv *v)
{
	static const char *const names[] = {"pattern", "options"};
	bson_iter_t its0, its1;
	const char *p, *o;
	uint32_t pl, ol;

	if (!inner_members(v, 0, names, &its0, &its1))
		return false;
	if (!BSON_ITER_HOLDS_UTF8(&its0) || !BSON_ITER_HOLDS_UTF8(&its1))
		return cerr(v, "pattern and options must be strings");
	p = bson_iter_utf8(&its0, &pl);
	o = bson_iter_utf8(&its1, &ol);
	return put_regex(v, p, pl, o, ol);
}

static bool
conv_dbpointer(const struct conv *v)
{
	static const char *const names[] = {"$ref", "$id"};
	bson_iter_t its0, its1;
	const char *ns;
	uint32_t nl;

	if (!inner_members(v, 0, names, &its0, &its1))
		return false;
	if (!BSON_ITER_HOLDS_UTF8(&its0) || !BSON_ITER_HOLDS_OID(&its1))
		return cerr(v, "$ref must be a string and $id an ObjectId");
	ns = bson_iter_utf8(&its0, &nl);
	put_u32(v->c->o, nl + 1);
	put(v->c->o, ns, nl + 1);
	put(v->c->o, bson_iter_oid(&its1)->bytes, 12);
	return true;
}

static bool
conv_code(const struct conv *v, size_t code, size_t scope, uint8_t *type)
{
	struct ejson_buf *o = v->c->o;
	const uint8_t *sp = o->p + v->m[scope].val;
	size_t len, at = o->len;
	const char *s = mstr(v, code, &len);

	if (s == NULL)
		return cerr(v, "$code must be a string");
	if (scope == code) {
		put(o, s - 4, len + 5);
		*type = BSON_TYPE_CODE;
		return true;
	}
	if (v->m[scope].type != BSON_TYPE_DOCUMENT)
		return cerr(v, "$scope must be a document");
	put_u32(o, 0);
	put(o, s - 4, len + 5);
	put(o, sp, get_u32(sp));
	patch_u32(o, at, (uint32_t)(o->len - at));
	*type = BSON_TYPE_CODEWSCOPE;
	return true;
}

/* A single-key wrapper's value, whose member is a string. */
static bool
conv_string_wrapper(const struct conv *v, enum wrap w, uint8_t *type)
{
	struct ejson_buf *o = v->c->o;
	size_t len;
	const char *s = mstr(v, 0, &len);
	int64_t x;

	if (s == NULL && w != W_DATE)
		return cerr(v, "takes a string");
	switch (w) {
	case W_OID: {
		uint8_t b[12];

		for (size_t i = 0; i < 12 && len == 24; i++) {
			int h = hexval((uint8_t)s[2 * i]), l = hexval((uint8_t)s[2 * i + 1]);

			if (h < 0 || l < 0)
				return cerr(v, "an ObjectId is 24 hex digits");
			b[i] = (uint8_t)(h * 16 + l);
		}
		if (len != 24)
			return cerr(v, "an ObjectId is 24 hex digits");
		put(o, b, 12);
		*type = BSON_TYPE_OID;
		return true;
	}
	case W_SYMBOL:
		put(o, s - 4, len + 5);
		*type = BSON_TYPE_SYMBOL;
		return true;
	case W_INT:
		if (!strict_int(s, len, INT32_MIN, INT32_MAX, &x))
			return cerr(v, "\"%.*s\" is not a 32-bit integer", (int)(len < 40 ? len : 40), s);
		put_u32(o, (uint32_t)(int32_t)x);
		*type = BSON_TYPE_INT32;
		return true;
	case W_LONG:
		if (!strict_int(s, len, INT64_MIN, INT64_MAX, &x))
			return cerr(v, "\"%.*s\" is not a 64-bit integer", (int)(len < 40 ? len : 40), s);
		{
			uint64_t le = BSON_UINT64_TO_LE((uint64_t)x);

			put(o, &le, 8);
		}
		*type = BSON_TYPE_INT64;
		return true;
	case W_DOUBLE: {
		double d;
		uint64_t bits;

		if (!strict_double(s, len, &d))
			return cerr(v, "\"%.*s\" is not a double", (int)(len < 40 ? len : 40), s);
		memcpy(&bits, &d, 8);
		bits = BSON_UINT64_TO_LE(bits);
		put(o, &bits, 8);
		*type = BSON_TYPE_DOUBLE;
		return true;
	}
	case W_DECIMAL: {
		bson_decimal128_t dec;
		uint64_t le[2];

		if (!bson_decimal128_from_string_w_len(s, (int)len, &dec))
			return cerr(v, "\"%.*s\" is not a Decimal128", (int)(len < 60 ? len : 60), s);
		le[0] = BSON_UINT64_TO_LE(dec.low), le[1] = BSON_UINT64_TO_LE(dec.high);
		put(o, le, 16);
		*type = BSON_TYPE_DECIMAL128;
		return true;
	}
	case W_UUID:
		*type = BSON_TYPE_BINARY;
		return conv_uuid(v, s, len);
	default: /* W_DATE */
		if (v->m[0].type == BSON_TYPE_INT64 && v->m[0].kind == K_WRAPPED) {
			put(o, o->p + v->m[0].val, 8);
		} else if (s != NULL && iso_date(s, len, &x)) {
			uint64_t le = BSON_UINT64_TO_LE((uint64_t)x);

			put(o, &le, 8);
		} else {
			return cerr(v, "takes an ISO-8601 string or {\"$numberLong\": \"...\"}");
		}
		*type = BSON_TYPE_DATE_TIME;
		return true;
	}
}

/* Which wrapper the object is, W_NONE for a plain document (a query
 * operator such as {"$type": "string"} or {"$regex": {...}} included). */
static enum wrap
wrap_kind(const struct conv *v)
{
	enum wrap w = W_NONE;
	size_t l0, l1;

	for (size_t i = 0; i < sizeof wrap_names / sizeof wrap_names[0]; i++)
		if (strcmp(mkey(v, 0), wrap_names[i].name) == 0)
			w = wrap_names[i].w;
	switch (w) {
	case W_LEGACY_REGEX:
	case W_OPTIONS:
		return v->n == 2 && strcmp(mkey(v, 1), w == W_OPTIONS ? "$regex" : "$options") == 0 && mstr(v, 0, &l0) &&
			       mstr(v, 1, &l1) ? W_LEGACY_REGEX : W_NONE;
	case W_TYPE:
		return v->n == 2 && strcmp(mkey(v, 1), "$binary") == 0 && mstr(v, 0, &l0) && mstr(v, 1, &l1) ? W_BINARY
													   : W_NONE;
	case W_SCOPE:
		return v->n == 2 && strcmp(mkey(v, 1), "$code") == 0 ? W_CODE : W_NONE;
	default:
		return w;
	}
}

static bool
convert(const struct conv *v, enum wrap w, uint8_t *type)
{
	size_t l0 = 0, l1 = 0;
	const char *s0, *s1;

	switch (w) {
	case W_LEGACY_REGEX: {
		bool opt_first = strcmp(mkey(v, 0), "$options") == 0;

		s0 = mstr(v, opt_first, &l0), s1 = mstr(v, !opt_first, &l1);
		*type = BSON_TYPE_REGEX;
		return put_regex(v, s0, l0, s1, l1);
	}
	case W_BINARY:
		*type = BSON_TYPE_BINARY;
		if (v->m[0].type == BSON_TYPE_DOCUMENT && v->n == 1)
			return conv_binary(v);
		if (v->n != 2 || strcmp(mkey(v, v->n - 1), strcmp(mkey(v, 0), "$type") ? "$type" : "$binary") != 0 ||
		    !(s0 = mstr(v, 0, &l0)) || !(s1 = mstr(v, 1, &l1)))
			return cerr(v, "takes {\"base64\": \"...\", \"subType\": \"..\"}");
		return strcmp(mkey(v, 0), "$type") == 0 ? put_binary(v, s1, l1, s0, l0) : put_binary(v, s0, l0, s1, l1);
	case W_CODE:
		if (v->n == 2 && strcmp(mkey(v, 0), "$scope") == 0)
			return conv_code(v, 1, 0, type);
		if (v->n == 2 && strcmp(mkey(v, 1), "$scope") == 0)
			return conv_code(v, 0, 1, type);
		if (v->n != 1)
			return cerr(v, "unexpected field \"%s\"", mkey(v, 1));
		return conv_code(v, 0, 0, type);
	default:
		break;
	}
	if (v->n != 1)
		return cerr(v, "unexpected field \"%s\"", mkey(v, 1));
	switch (w) {
	case W_TIMESTAMP: *type = BSON_TYPE_TIMESTAMP; return conv_timestamp(v);
	case W_REGEX: *type = BSON_TYPE_REGEX; return conv_regex(v);
	case W_DBPOINTER: *type = BSON_TYPE_DBPOINTER; return conv_dbpointer(v);
	case W_MINKEY:
	case W_MAXKEY:
		if (v->m[0].type != BSON_TYPE_INT32 || get_u32(v->c->o->p + v->m[0].val) != 1)
			return cerr(v, "takes the number 1");
		*type = w == W_MINKEY ? BSON_TYPE_MINKEY : BSON_TYPE_MAXKEY;
		return true;
	case W_UNDEFINED:
		if (v->m[0].type != BSON_TYPE_BOOL || v->c->o->p[v->m[0].val] != 1)
			return cerr(v, "takes true");
		*type = BSON_TYPE_UNDEFINED;
		return true;
	default:
		return conv_string_wrapper(v, w, type);
	}
}

/*
 * The object just written at `at` (n members, the first ones in m) whose
 * first key starts with '$': replaced by the value of its wrapper, if it is
 * one.  A wrapper cannot be the whole document.
 */
static bool
wrapper(struct pctx *c, const uint8_t *text, size_t at, const struct member *m, size_t n, bool top, uint8_t *type,
	enum kind *kind)
{
	struct ejson_buf *o = c->o;
	struct conv v = {c, m, n, text};
	size_t doclen = o->len - at, conv_at;
	enum wrap w;

	if ((w = wrap_kind(&v)) == W_NONE)
		return true;
	if (n > MEMBERS)
		return cerr(&v, "unexpected field \"%s\"", mkey(&v, 1));
	if (top)
		return cerr(&v, "a type wrapper cannot be the whole document");
	/* the value is never longer than the document it replaces: with this
	 * room, pointers into the output stay valid while it is written */
	need(o, doclen + 32);
	conv_at = o->len;
	if (!convert(&v, w, type))
		return false;
	memmove(o->p + at, o->p + conv_at, o->len - conv_at);
	o->len = at + (o->len - conv_at);
	*kind = K_WRAPPED;
	return true;
}

static bool
parse_object(struct pctx *c, uint8_t *type, enum kind *kind, bool top)
{
	struct ejson_buf *o = c->o;
	size_t at = o->len, n = 0;
	struct member m[MEMBERS];
	const uint8_t *text = c->p;

	if (++c->depth > EJSON_MAX_DEPTH + 3)
		return perr(c, c->p, false, "nesting deeper than %d levels", EJSON_MAX_DEPTH);
	c->p++;
	put_u32(o, 0);
	skip_ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		goto done;
	}
	for (;;) {
		size_t elem = o->len, klen;
		uint8_t t;
		enum kind k;

		if (c->p == c->end || *c->p != '"')
			return perr(c, c->p, false, c->p == c->end ? "unexpected end of text" : "expected a field name");
		put(o, "", 1);
		if (!parse_str(c, true, &klen))
			return false;
		put(o, "", 1);
		skip_ws(c);
		if (c->p == c->end || *c->p != ':')
			return perr(c, c->p, false, "expected ':' after a field name");
		c->p++;
		skip_ws(c);
		if (n < MEMBERS)
			m[n].key = elem + 1, m[n].val = o->len;
		if (!parse_value(c, &t, &k))
			return false;
		o->p[elem] = t;
		if (n < MEMBERS)
			m[n].type = t, m[n].kind = k;
		n++;
		skip_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			skip_ws(c);
			continue;
		}
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			break;
		}
		return perr(c, c->p, false, c->p == c->end ? "unexpected end of text" : "expected ',' or '}'");
	}
done:
	put(o, "", 1);
	patch_u32(o, at, (uint32_t)(o->len - at));
	c->depth--;
	*type = BSON_TYPE_DOCUMENT;
	*kind = K_BARE;
	if (n > 0 && o->p[m[0].key] == '$')
		return wrapper(c, text, at, m, n, top, type, kind);
	return true;
}

static bool
parse_array(struct pctx *c)
{
	struct ejson_buf *o = c->o;
	size_t at = o->len;
	uint32_t i = 0;

	if (++c->depth > EJSON_MAX_DEPTH + 3)
		return perr(c, c->p, false, "nesting deeper than %d levels", EJSON_MAX_DEPTH);
	c->p++;
	put_u32(o, 0);
	skip_ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
	} else {
		for (;; i++) {
			size_t elem = o->len;
			char key[12];
			uint8_t t;
			enum kind k;

			key[ejson_u64_text(i, key)] = '\0';
			put(o, "", 1);
			put(o, key, strlen(key) + 1);
			if (!parse_value(c, &t, &k))
				return false;
			o->p[elem] = t;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				skip_ws(c);
				continue;
			}
			if (c->p < c->end && *c->p == ']') {
				c->p++;
				break;
			}
			return perr(c, c->p, false, c->p == c->end ? "unexpected end of text" : "expected ',' or ']'");
		}
	}
	put(o, "", 1);
	patch_u32(o, at, (uint32_t)(o->len - at));
	c->depth--;
	return true;
}

static bool
parse_value(struct pctx *c, uint8_t *type, enum kind *kind)
{
	size_t at, n;

	*kind = K_BARE;
	if (c->p == c->end)
		return perr(c, c->p, false, "unexpected end of text");
	switch (*c->p) {
	case '{': return parse_object(c, type, kind, false);
	case '[': *type = BSON_TYPE_ARRAY; return parse_array(c);
	case '"':
		at = c->o->len;
		put_u32(c->o, 0);
		if (!parse_str(c, false, &n))
			return false;
		put(c->o, "", 1);
		patch_u32(c->o, at, (uint32_t)n + 1);
		*type = BSON_TYPE_UTF8;
		return true;
	case 't': *type = BSON_TYPE_BOOL; put(c->o, "\1", 1); return literal(c, "true", 4);
	case 'f': *type = BSON_TYPE_BOOL; put(c->o, "\0", 1); return literal(c, "false", 5);
	case 'n': *type = BSON_TYPE_NULL; return literal(c, "null", 4);
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return parse_number(c, type);
		if (*c->p >= 0x80) {
			size_t k = ejson_utf8_char(c->p, (size_t)(c->end - c->p));

			if (k == 0)
				return perr(c, c->p, false, "invalid UTF-8");
			return perr(c, c->p, false, "unexpected character '%.*s'", (int)k, (const char *)c->p);
		}
		return perr(c, c->p, false, "unexpected character '%c'", *c->p >= 0x20 ? *c->p : '?');
	}
}

/* One object (or, when the caller allows it, an array: a document whose
 * keys are "0", "1", ...) and only whitespace after it. */
static bool
parse_top(const char *text, size_t len, bool array_too, struct ejson_buf *out, struct ejson_error *err)
{
	struct pctx c = {(const uint8_t *)text, (const uint8_t *)text, (const uint8_t *)text + len, out, err, 0};
	uint8_t type;
	enum kind kind;

	err->msg[0] = '\0';
	err->offset = 0;
	err->extended = false;
	out->len = 0;
	skip_ws(&c);
	if (array_too && c.p < c.end && *c.p == '[') {
		if (!parse_array(&c))
			return false;
	} else if (c.p == c.end || *c.p != '{') {
		return perr(&c, c.p, false, c.p == c.end ? "no JSON object" : "expected a JSON object");
	} else if (!parse_object(&c, &type, &kind, true)) {
		return false;
	}
	skip_ws(&c);
	if (c.p != c.end)
		return perr(&c, c.p, false, "text after the end of the JSON object");
	if (out->len > INT32_MAX)
		return perr(&c, c.s, false, "document larger than 2 GiB");
	out->p[out->len] = '\0';
	return true;
}

bool
ejson_parse(const char *text, size_t len, struct ejson_buf *out, struct ejson_error *err)
{
	return parse_top(text, len, false, out, err);
}

bson_t *
ejson_to_bson_new(const char *text, ssize_t len, bson_error_t *err)
{
	struct ejson_buf b = {0};
	struct ejson_error e;
	bson_t *doc;

	if (len < 0)
		len = (ssize_t)strlen(text);
	if (!parse_top(text, (size_t)len, true, &b, &e)) {
		bson_set_error(err, BSON_ERROR_JSON, 1, "%s at byte %zu", e.msg, e.offset);
		ejson_buf_free(&b);
		return NULL;
	}
	doc = bson_new_from_data(b.p, b.len);
	ejson_buf_free(&b);
	return doc;
}
