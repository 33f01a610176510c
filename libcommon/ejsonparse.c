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

bool
ejson_perr(struct pctx *c, const uint8_t *at, bool ext, const char *fmt, ...)
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
skip_ws(struct pctx *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
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
		return ejson_perr(c, p - 1, false, "invalid \\u escape");
	p += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return ejson_perr(c, p - 6, false, "unpaired UTF-16 surrogate \\u%04lx", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (c->end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2, c->end)) < 0xdc00 ||
		    lo > 0xdfff)
			return ejson_perr(c, p - 6, false, "unpaired UTF-16 surrogate \\u%04lx", cp);
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
			return ejson_perr(c, c->p, false, "unterminated string");
		if (*p == '"')
			break;
		if (ejson_byte_class[*p] == 2) {
			if ((k = ejson_utf8_char(p, (size_t)(end - p))) == 0)
				return ejson_perr(c, p, false, "invalid UTF-8");
			put(o, p, k);
			p += k;
			continue;
		}
		if (*p != '\\')
			return ejson_perr(c, p, false, "control character 0x%02x in a string", *p);
		if (p + 1 == end)
			return ejson_perr(c, c->p, false, "unterminated string");
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
			return ejson_perr(c, p, false, "invalid escape in a string");
		}
		p += 2;
	}
	*n = o->len - start;
	if (cstring && memchr(o->p + start, 0, *n) != NULL)
		return ejson_perr(c, c->p, false, "NUL character in a field name");
	c->p = p + 1;
	return true;
}

static bool parse_value(struct pctx *c, uint8_t *type, enum kind *kind);

static bool
literal(struct pctx *c, const char *word, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return ejson_perr(c, c->p, false, "unexpected character '%c'", *c->p);
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
		return ejson_perr(c, start, false, "invalid number");
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return ejson_perr(c, start, false, "number with a leading zero");
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (nd < 19)
			m = m * 10 + (uint64_t)(*p - '0'), nd += m > 0;
		else
			lost++;
	}
	if (p < end && *p == '.') {
		real = true;
		if (++p == end || *p < '0' || *p > '9')
			return ejson_perr(c, start, false, "invalid number");
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
			return ejson_perr(c, start, false, "invalid number");
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
			return ejson_perr(c, start, false, "number out of the range of a double");
		memcpy(&bits, &v, 8);
		bits = BSON_UINT64_TO_LE(bits);
		*type = BSON_TYPE_DOUBLE;
		put(c->o, &bits, 8);
	}
	return true;
}

/* ---- type wrappers ---- */

/* After a member or an element: 1 at a ',' (taken), 0 at `close`
 * (taken), -1 (the error recorded) at anything else. */
static int
list_next(struct pctx *c, char close)
{
	skip_ws(c);
	if (c->p < c->end && (*c->p == ',' || *c->p == close)) {
		bool comma = *c->p++ == ',';

		if (comma)
			skip_ws(c);
		return comma;
	}
	ejson_perr(c, c->p, false, c->p == c->end ? "unexpected end of text" : close == '}' ? "expected ',' or '}'"
											     : "expected ',' or ']'");
	return -1;
}

static bool
parse_object(struct pctx *c, uint8_t *type, enum kind *kind, bool top)
{
	struct ejson_buf *o = c->o;
	size_t at = o->len, n = 0;
	struct member m[MEMBERS];
	const uint8_t *text = c->p;
	int maxh = 0, more;

	if (++c->depth > EJSON_MAX_DEPTH + 3)
		return ejson_perr(c, c->p, false, "nesting deeper than %d levels", EJSON_MAX_DEPTH);
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
			return ejson_perr(c, c->p, false, c->p == c->end ? "unexpected end of text" : "expected a field name");
		put(o, "", 1);
		if (!parse_str(c, true, &klen))
			return false;
		put(o, "", 1);
		skip_ws(c);
		if (c->p == c->end || *c->p != ':')
			return ejson_perr(c, c->p, false, "expected ':' after a field name");
		c->p++;
		skip_ws(c);
		if (n < MEMBERS)
			m[n].key = elem + 1, m[n].val = o->len;
		if (!parse_value(c, &t, &k))
			return false;
		maxh = c->height > maxh ? c->height : maxh;
		o->p[elem] = t;
		if (n < MEMBERS)
			m[n].type = t, m[n].kind = k;
		n++;
		if ((more = list_next(c, '}')) < 0)
			return false;
		if (!more)
			break;
	}
done:
	put(o, "", 1);
	patch_u32(o, at, (uint32_t)(o->len - at));
	c->depth--;
	*type = BSON_TYPE_DOCUMENT;
	*kind = K_BARE;
	if (n > 0 && o->p[m[0].key] == '$' && !ejson_wrapper(c, text, at, m, n, top, type, kind))
		return false;
	/* a wrapper is a value of no depth, but for the scope of code */
	c->height = *type == BSON_TYPE_DOCUMENT ? maxh + 1 : *type == BSON_TYPE_CODEWSCOPE ? maxh : 0;
	return true;
}

static bool
parse_array(struct pctx *c)
{
	struct ejson_buf *o = c->o;
	size_t at = o->len;
	uint32_t i = 0;
	int maxh = 0, more;

	if (++c->depth > EJSON_MAX_DEPTH + 3)
		return ejson_perr(c, c->p, false, "nesting deeper than %d levels", EJSON_MAX_DEPTH);
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
			maxh = c->height > maxh ? c->height : maxh;
			o->p[elem] = t;
			if ((more = list_next(c, ']')) < 0)
				return false;
			if (!more)
				break;
		}
	}
	put(o, "", 1);
	patch_u32(o, at, (uint32_t)(o->len - at));
	c->depth--;
	c->height = maxh + 1;
	return true;
}

static bool
parse_value(struct pctx *c, uint8_t *type, enum kind *kind)
{
	size_t at, n;

	*kind = K_BARE;
	c->height = 0;
	if (c->p == c->end)
		return ejson_perr(c, c->p, false, "unexpected end of text");
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
				return ejson_perr(c, c->p, false, "invalid UTF-8");
			return ejson_perr(c, c->p, false, "unexpected character '%.*s'", (int)k, (const char *)c->p);
		}
		return ejson_perr(c, c->p, false, "unexpected character '%c'", *c->p >= 0x20 ? *c->p : '?');
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
		return ejson_perr(&c, c.p, false, c.p == c.end ? "no JSON object" : "expected a JSON object");
	} else if (!parse_object(&c, &type, &kind, true)) {
		return false;
	}
	if (c.height > EJSON_MAX_DEPTH + 1)
		return ejson_perr(&c, c.s, false, "nesting deeper than %d levels", EJSON_MAX_DEPTH);
	skip_ws(&c);
	if (c.p != c.end)
		return ejson_perr(&c, c.p, false, "text after the end of the JSON object");
	if (out->len > INT32_MAX)
		return ejson_perr(&c, c.s, false, "document larger than 2 GiB");
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
