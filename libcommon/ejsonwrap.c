/*
 * ejsonwrap.c: Extended JSON's type wrappers ({"$oid": ...}, {"$date": ...},
 * ...) for the reader (ejsonparse.c): which wrapper an object written as a
 * document is, whether its key set and values are the specification's, and
 * its value written in its place.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "civil.h"
#include "ejson.h"
#include "ejsonint.h"

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
	*len = ejson_rd32(p) - 1;
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
	return ejson_perr(v->c, v->at, true, "%s: %s", mkey(v, 0), msg);
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

/* A binary value: base64 text and a one- or two-digit hex subtype. */
static bool
put_binary(const struct conv *v, const char *b64, size_t blen, const char *st, size_t stlen)
{
	struct ejson_buf *o = v->c->o;
	size_t at = o->len, data, bad;
	ptrdiff_t got;
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
	ejson_buf_reserve(o, blen / 4 * 3);
	if ((got = base64_decode_into(o->p + o->len, b64, blen, true, &bad)) < 0)
		return cerr(v, "invalid base64 data");
	o->len += (size_t)got;
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
		if (i < len && s[i] == ':' && ++i == len)
			return false; /* "+01:" */
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

	if (v->m[i].type != BSON_TYPE_DOCUMENT || !bson_iter_init_from_data(&it, p, ejson_rd32(p)))
		return cerr(v, "takes a document");
	while (bson_iter_next(&it)) {
		size_t k;

		for (k = 0; k < n && strcmp(bson_iter_key(&it), names[k]) != 0; k++)
			;
		if (k == n)
			return cerr(v, "unexpected field \"%s\"", bson_iter_key(&it));
		if (found & ((size_t)1 << k))
			return cerr(v, "field \"%s\" given twice", names[k]);
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
	put(o, sp, ejson_rd32(sp));
	patch_u32(o, at, (uint32_t)(o->len - at));
	*type = BSON_TYPE_CODEWSCOPE;
	return true;
}

static bool
conv_oid(const struct conv *v, const char *s, size_t len)
{
	uint8_t b[12];

	for (size_t i = 0; i < 12 && len == 24; i++) {
		int h = hexval((uint8_t)s[2 * i]), l = hexval((uint8_t)s[2 * i + 1]);

		if (h < 0 || l < 0)
			return cerr(v, "an ObjectId is 24 hex digits");
		b[i] = (uint8_t)(h * 16 + l);
	}
	if (len != 24)
		return cerr(v, "an ObjectId is 24 hex digits");
	put(v->c->o, b, 12);
	return true;
}

/* {"$date": {"$numberLong": "..."}} (its member already an int64 from a
 * wrapper, never a bare number) or an ISO-8601 string. */
static bool
conv_date(const struct conv *v, const char *s, size_t len)
{
	struct ejson_buf *o = v->c->o;
	int64_t x;

	if (v->m[0].type == BSON_TYPE_INT64 && v->m[0].kind == K_WRAPPED) {
		put(o, o->p + v->m[0].val, 8);
	} else if (s != NULL && iso_date(s, len, &x)) {
		uint64_t le = BSON_UINT64_TO_LE((uint64_t)x);

		put(o, &le, 8);
	} else {
		return cerr(v, "takes an ISO-8601 string or {\"$numberLong\": \"...\"}");
	}
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
	case W_OID:
		*type = BSON_TYPE_OID;
		return conv_oid(v, s, len);
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

		/* libbson's parser stops at a NUL: "12\u00003" would be 12 */
		if (memchr(s, 0, len) != NULL || !bson_decimal128_from_string_w_len(s, (int)len, &dec))
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
		*type = BSON_TYPE_DATE_TIME;
		return conv_date(v, s, len);
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
		if (v->m[0].type != BSON_TYPE_INT32 || ejson_rd32(v->c->o->p + v->m[0].val) != 1)
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

/* ejsonint.h.  A wrapper cannot be the whole document. */
bool
ejson_wrapper(struct pctx *c, const uint8_t *text, size_t at, const struct member *m, size_t n, bool top, uint8_t *type,
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

