/*
 * bsoncheck.c: the check the document stream reader applies to each BSON
 * record (docstream_check_bson, docstream.h), in one pass over the bytes.
 *
 * bson_iter plus bson_utf8_validate (one call per string, one character at
 * a time) were more than half of mongo-load-bson's CPU.  Here every element
 * is framed by hand and UTF-8 is checked eight bytes at a time while they
 * are ASCII; the rules are the Extended JSON writer's (ejson.c), so that a
 * document one accepts the other writes.
 */
#include <stdio.h>
#include <string.h>

#include "docstream.h"
#include "ejson.h"
#include "ejsonint.h"

struct check {
	const uint8_t *doc0; /* the top document, for offsets in messages */
	char *why;
	size_t whylen;
};

static bool
bad(struct check *c, const uint8_t *at, const char *what, const uint8_t *key)
{
	if (key != NULL) /* a field name, found valid before its value is read */
		snprintf(c->why, c->whylen, "%s '%s'", what, (const char *)key);
	else if (at != NULL)
		snprintf(c->why, c->whylen, "%s at byte %u of the document", what, (unsigned)(at - c->doc0));
	else
		snprintf(c->why, c->whylen, "%s", what);
	return false;
}

/* A BSON string at p within avail bytes; its size, or 0 when it is not
 * one or not UTF-8 (*utf8 tells which). */
static size_t
string_at(const uint8_t *p, size_t avail, bool *utf8)
{
	size_t n, size;
	const uint8_t *s = ejson_bson_string(p, avail, &n, &size);

	*utf8 = s == NULL || ejson_utf8_valid(s, n);
	return s != NULL && *utf8 ? size : 0;
}

static bool check_doc(struct check *c, const uint8_t *d, size_t len, int depth);

static const uint8_t fixed_size[256] = {
	[BSON_TYPE_DOUBLE] = 8, [BSON_TYPE_OID] = 12, [BSON_TYPE_BOOL] = 1, [BSON_TYPE_DATE_TIME] = 8,
	[BSON_TYPE_INT32] = 4, [BSON_TYPE_TIMESTAMP] = 8, [BSON_TYPE_INT64] = 8, [BSON_TYPE_DECIMAL128] = 16,
	[BSON_TYPE_UNDEFINED] = 0, [BSON_TYPE_NULL] = 0, [BSON_TYPE_MINKEY] = 0, [BSON_TYPE_MAXKEY] = 0,
};

/* The size of the value of type t at p (avail bytes to the document's
 * end), its content checked; 0 with c->why set when it is bad. */
static size_t
value_size(struct check *c, uint8_t t, const uint8_t *p, size_t avail, const uint8_t *key, int depth)
{
	size_t n, m;
	uint32_t l;
	bool utf8;

	switch (t) {
	case BSON_TYPE_UTF8:
	case BSON_TYPE_CODE:
	case BSON_TYPE_SYMBOL:
		if ((n = string_at(p, avail, &utf8)) == 0)
			return bad(c, utf8 ? p : NULL, utf8 ? "corrupt element" : "invalid UTF-8 in string field", utf8 ? NULL : key), 0;
		return n;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (avail < 5 || (l = ejson_rd32(p)) < 5 || l > avail)
			return bad(c, p, "corrupt element", NULL), 0;
		return check_doc(c, p, l, depth + 1) ? l : 0;
	case BSON_TYPE_BINARY:
		if (avail < 5 || (l = ejson_rd32(p)) > avail - 5 || (p[4] == 2 && (l < 4 || ejson_rd32(p + 5) != l - 4)))
			return bad(c, p, "corrupt element", NULL), 0;
		return 5 + (size_t)l;
	case BSON_TYPE_REGEX: {
		const uint8_t *pe = memchr(p, 0, avail), *oe;

		if (pe == NULL || (oe = memchr(pe + 1, 0, avail - (size_t)(pe + 1 - p))) == NULL)
			return bad(c, p, "corrupt element", NULL), 0;
		if (!ejson_utf8_valid(p, (size_t)(pe - p)) || !ejson_utf8_valid(pe + 1, (size_t)(oe - pe - 1)))
			return bad(c, NULL, "invalid UTF-8 in regular expression", key), 0;
		return (size_t)(oe + 1 - p);
	}
	case BSON_TYPE_DBPOINTER:
		if ((n = string_at(p, avail, &utf8)) == 0 || avail - n < 12)
			return bad(c, utf8 ? p : NULL, utf8 ? "corrupt element" : "invalid UTF-8 in string field", utf8 ? NULL : key), 0;
		return n + 12;
	case BSON_TYPE_CODEWSCOPE:
		if (avail < 14 || (l = ejson_rd32(p)) < 14 || l > avail)
			return bad(c, p, "corrupt element", NULL), 0;
		if ((n = string_at(p + 4, l - 4, &utf8)) == 0)
			return bad(c, utf8 ? p : NULL, utf8 ? "corrupt element" : "invalid UTF-8 in string field", utf8 ? NULL : key), 0;
		if (l - 4 - n < 5 || (m = ejson_rd32(p + 4 + n)) != l - 4 - n)
			return bad(c, p, "corrupt element", NULL), 0;
		return check_doc(c, p + 4 + n, m, depth + 1) ? l : 0;
	case BSON_TYPE_BOOL:
		if (avail < 1 || p[0] > 1)
			return bad(c, p, "corrupt element", NULL), 0;
		return 1;
	default:
		if ((t > BSON_TYPE_DECIMAL128 && t != BSON_TYPE_MINKEY && t != BSON_TYPE_MAXKEY) || t == BSON_TYPE_EOD ||
		    avail < fixed_size[t])
			return bad(c, p, "corrupt element", NULL), 0;
		return fixed_size[t] ? fixed_size[t] : (size_t)-1; /* (size_t)-1: a value of no bytes */
	}
}

/* The NUL that ends the field name at key (before end), or NULL; *ascii
 * when every byte before it is ASCII (then it needs no UTF-8 check).  Names
 * are short: a byte loop beats a call to memchr. */
static inline const uint8_t *
key_end(const uint8_t *key, const uint8_t *end, bool *ascii)
{
	const uint8_t *q = key;

	while (q < end && *q != 0 && *q < 0x80)
		q++;
	*ascii = q < end && *q == 0;
	return *ascii ? q : memchr(q, 0, (size_t)(end - q));
}

static bool
check_doc(struct check *c, const uint8_t *d, size_t len, int depth)
{
	const uint8_t *p = d + 4, *end = d + len - 1;

	if (depth > EJSON_MAX_DEPTH)
		return bad(c, NULL, "nesting deeper than 200 levels", NULL);
	if (len < 5 || ejson_rd32(d) != len || *end != 0)
		return bad(c, NULL, "corrupt document", NULL);
	while (p < end) {
		uint8_t t = *p;
		bool ascii;
		const uint8_t *key = p + 1, *kend = key_end(key, end, &ascii);
		size_t n;

		if (kend == NULL)
			return bad(c, p, "corrupt element", NULL);
		if (!ascii && !ejson_utf8_valid(key, (size_t)(kend - key)))
			return bad(c, NULL, "invalid UTF-8 in a field name", NULL);
		p = kend + 1;
		if ((n = value_size(c, t, p, (size_t)(end - p), key, depth)) == 0)
			return false;
		p += n == (size_t)-1 ? 0 : n;
	}
	if (p != end)
		return bad(c, p, "corrupt element", NULL);
	return true;
}

bool
docstream_check_bytes(const uint8_t *data, size_t len, char *why, size_t whylen)
{
	struct check c = {data, why, whylen};

	return check_doc(&c, data, len, 0);
}

bool
docstream_check_bson(const bson_t *doc, char *why, size_t whylen)
{
	return docstream_check_bytes(bson_get_data(doc), doc->len, why, whylen);
}
