/*
 * ejsoncheck.c: the strict part of Extended JSON that libbson 1.23's parser
 * leaves out (ejsoncheck.h), as a scan of the text it has already parsed.
 *
 * The scan only looks at object keys (a string followed by ':') that may be
 * one of "$numberDecimal", "$date" and "$code", and at the value after them.
 * libbson accepted the text, so it is well-formed JSON: strings end, and a
 * string followed by ':' is a key.
 */
#include <string.h>

#include "ejsoncheck.h"

enum key_kind { KEY_OTHER, KEY_DECIMAL, KEY_DATE, KEY_CODE, KEY_SCOPE };

/* A "$code" string with a NUL character, the index-th code element of the
 * document in order (code and code with scope alike). */
struct code_fix {
	size_t index;
	char *code;
	size_t len;
};

struct scan {
	struct code_fix *fix;
	size_t nfix, cap;
	size_t ncode; /* "$code" keys seen */
};

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void
out_add(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2 + 64;
		o->p = bson_realloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at an opening quote: the closing quote, or NULL. */
static const char *
string_end(const char *p, const char *end)
{
	const char *q = p;

	/* the first quote not escaped by an odd run of backslashes */
	while ((q = memchr(q + 1, '"', (size_t)(end - q - 1))) != NULL) {
		const char *b = q;

		while (b > p + 1 && b[-1] == '\\')
			b--;
		if ((q - b) % 2 == 0)
			return q;
	}
	return NULL;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long
hex4(const char *p, const char *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexdigit(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void
put_utf8(struct out *s, unsigned long cp)
{
	char b[4];
	uint32_t n;

	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	out_add(s, b, n);
}

/* The characters of the JSON string between p and q (its quotes excluded),
 * escapes decoded, NUL characters included, and a NUL after them: s->len
 * counts the characters, bson_free(s->p) frees them. */
static void
decode_string(const char *p, const char *q, struct out *s)
{
	memset(s, 0, sizeof *s);
	while (p < q) {
		unsigned long cp;

		if (*p != '\\') {
			out_add(s, p++, 1);
			continue;
		}
		p++;
		switch (*p) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u': {
			long v = hex4(p + 1, q), lo;

			if (v < 0) {
				cp = 'u';
				break;
			}
			p += 4;
			cp = (unsigned long)v;
			if (cp >= 0xd800 && cp <= 0xdbff && q - p > 6 && p[1] == '\\' && p[2] == 'u' &&
			    (lo = hex4(p + 3, q)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (unsigned long)(lo - 0xdc00);
				p += 6;
			}
			break;
		}
		default: cp = (unsigned char)*p; break;
		}
		p++;
		put_utf8(s, cp);
	}
	out_add(s, "", 1);
	s->len--;
}

static enum key_kind
key_kind(const char *p, const char *q)
{
	struct out k;
	enum key_kind kind = KEY_OTHER;

	/* only "$..." keys, or escaped spellings of them, can matter */
	if (q - p > 64 || (*p != '$' && *p != '\\'))
		return KEY_OTHER;
	if (*p == '$' && memchr(p, '\\', (size_t)(q - p)) == NULL) {
		size_t n = (size_t)(q - p);

		/* no escapes: the common case, without a copy */
		if (n == 14 && memcmp(p, "$numberDecimal", 14) == 0)
			return KEY_DECIMAL;
		if (n == 5 && memcmp(p, "$date", 5) == 0)
			return KEY_DATE;
		if (n == 5 && memcmp(p, "$code", 5) == 0)
			return KEY_CODE;
		if (n == 6 && memcmp(p, "$scope", 6) == 0)
			return KEY_SCOPE;
		return KEY_OTHER;
	}
	decode_string(p, q, &k);
	if (k.len == 14 && memcmp(k.p, "$numberDecimal", 14) == 0)
		kind = KEY_DECIMAL;
	else if (k.len == 5 && memcmp(k.p, "$date", 5) == 0)
		kind = KEY_DATE;
	else if (k.len == 5 && memcmp(k.p, "$code", 5) == 0)
		kind = KEY_CODE;
	else if (k.len == 6 && memcmp(k.p, "$scope", 6) == 0)
		kind = KEY_SCOPE;
	bson_free(k.p);
	return kind;
}

/*
 * libbson reads a "$scope" document as plain JSON as far as "$code" goes
 * ({"$code": "..."} in it stays a document with a string), so "$code" keys
 * inside a scope are not code elements: the scan counts object nesting
 * between strings to know when it is in one.
 */
static bool
scan_text(const char *p, const char *end, struct scan *sc, char *why, size_t whylen)
{
	long depth = 0, scope_depth = 0; /* scope_depth: inside a "$scope" while depth >= it */

	while (p < end) {
		const char *open = memchr(p, '"', (size_t)(end - p)), *close, *v, *vclose;
		enum key_kind kind;

		if (open == NULL)
			break;
		for (const char *c = p; c < open; c++)
			depth += *c == '{' ? 1 : *c == '}' ? -1 : 0;
		if (scope_depth > 0 && depth < scope_depth)
			scope_depth = 0;
		close = string_end(open, end);
		if (close == NULL)
			break;
		p = close + 1;
		v = skip_ws(p, end);
		if (v == end || *v != ':')
			continue;
		kind = key_kind(open + 1, close);
		if (kind == KEY_OTHER)
			continue;
		v = skip_ws(v + 1, end);
		if (kind == KEY_SCOPE) {
			if (scope_depth == 0 && v < end && *v == '{')
				scope_depth = depth + 1;
			continue;
		}
		if (kind == KEY_CODE) {
			if (scope_depth > 0)
				continue;
			sc->ncode++;
		}
		if (kind == KEY_DATE && v < end && *v != '"' && *v != '{') {
			snprintf(why, whylen, "$date takes an ISO-8601 string or {\"$numberLong\": \"...\"}, not %.*s",
				(int)(end - v < 20 ? end - v : 20), v); /* the line is not NUL-terminated */
			return false;
		}
		if (v == end || *v != '"' || (kind != KEY_DECIMAL && kind != KEY_CODE))
			continue;
		vclose = string_end(v, end);
		if (vclose == NULL)
			break;
		p = vclose + 1;
		if (kind == KEY_DECIMAL) {
			struct out s;
			bson_decimal128_t dec;
			bool ok;

			/* libbson's own strict parser: the grammar, the exponent
			 * range and the clamping rules of the specification */
			decode_string(v + 1, vclose, &s);
			ok = bson_decimal128_from_string_w_len((const char *)s.p, (int)s.len, &dec);

			if (!ok)
				snprintf(why, whylen, "invalid $numberDecimal \"%.*s\"", (int)(vclose - v - 1 < 60 ? vclose - v - 1 : 60),
					v + 1);
			bson_free(s.p);
			if (!ok)
				return false;
		} else if (memmem(v + 1, (size_t)(vclose - v - 1), "\\u0000", 6) != NULL) {
			struct out s;

			decode_string(v + 1, vclose, &s);
			if (sc->nfix == sc->cap) {
				sc->cap = sc->cap ? sc->cap * 2 : 4;
				sc->fix = bson_realloc(sc->fix, sc->cap * sizeof *sc->fix);
			}
			sc->fix[sc->nfix].index = sc->ncode - 1;
			sc->fix[sc->nfix].len = s.len;
			sc->fix[sc->nfix].code = (char *)s.p;
			sc->nfix++;
		}
	}
	return true;
}

/* ---- putting "$code" strings back whole ---- */

static void
out_i32(struct out *o, size_t v)
{
	uint32_t le = BSON_UINT32_TO_LE((uint32_t)v);

	out_add(o, &le, 4);
}

static void
out_patch_i32(struct out *o, size_t at)
{
	uint32_t le = BSON_UINT32_TO_LE((uint32_t)(o->len - at));

	memcpy(o->p + at, &le, 4);
}

static void
out_head(struct out *o, bson_type_t type, const char *key)
{
	uint8_t t = (uint8_t)type;

	out_add(o, &t, 1);
	out_add(o, key, strlen(key) + 1);
}

/* The code string for code element number k: the text's, if it has a NUL
 * and agrees with what libbson kept (the part before the NUL). */
static bool
code_for(const struct scan *sc, size_t k, const char **code, size_t *len)
{
	for (size_t i = 0; i < sc->nfix; i++) {
		if (sc->fix[i].index != k)
			continue;
		if (strlen(*code) != strlen(sc->fix[i].code) || strncmp(*code, sc->fix[i].code, strlen(*code)) != 0)
			return false;
		*code = sc->fix[i].code;
		*len = sc->fix[i].len;
		return true;
	}
	return true;
}

static bool
rebuild(const uint8_t *data, uint32_t dlen, const struct scan *sc, size_t *k, struct out *o, int depth)
{
	size_t start = o->len;
	bson_iter_t it;

	if (depth > 200 || !bson_iter_init_from_data(&it, data, dlen))
		return false;
	out_i32(o, 0);
	while (bson_iter_next(&it)) {
		bson_type_t type = bson_iter_type(&it);
		const uint8_t *sub;
		uint32_t sublen, clen;
		const char *code;
		size_t len;

		if (type == BSON_TYPE_CODE) {
			code = bson_iter_code(&it, &clen);
			len = clen;
			if (!code_for(sc, (*k)++, &code, &len))
				return false;
			out_head(o, type, bson_iter_key(&it));
			out_i32(o, len + 1);
			out_add(o, code, len + 1);
		} else if (type == BSON_TYPE_CODEWSCOPE) {
			size_t at;

			code = bson_iter_codewscope(&it, &clen, &sublen, &sub);
			len = clen;
			if (!code_for(sc, (*k)++, &code, &len))
				return false;
			out_head(o, type, bson_iter_key(&it));
			at = o->len;
			out_i32(o, 0);
			out_i32(o, len + 1);
			out_add(o, code, len + 1);
			if (!rebuild(sub, sublen, sc, k, o, depth + 1))
				return false;
			out_patch_i32(o, at);
		} else if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
			if (type == BSON_TYPE_DOCUMENT)
				bson_iter_document(&it, &sublen, &sub);
			else
				bson_iter_array(&it, &sublen, &sub);
			out_head(o, type, bson_iter_key(&it));
			if (!rebuild(sub, sublen, sc, k, o, depth + 1))
				return false;
		} else {
			bson_t one = BSON_INITIALIZER;

			/* the element as it is: type, key and value bytes */
			bson_append_iter(&one, NULL, 0, &it);
			out_add(o, bson_get_data(&one) + 4, one.len - 5);
			bson_destroy(&one);
		}
	}
	out_add(o, "", 1);
	out_patch_i32(o, start);
	return true;
}

bool
ejson_check(const char *text, size_t len, bson_t **doc, char *why, size_t whylen)
{
	struct scan sc = {0};
	struct out o = {0};
	size_t k = 0;
	bool ok = false;

	if (!scan_text(text, text + len, &sc, why, whylen))
		goto out;
	if (sc.nfix > 0) {
		bson_t *fixed;

		if (!rebuild(bson_get_data(*doc), (*doc)->len, &sc, &k, &o, 0) || k != sc.ncode ||
		    (fixed = bson_new_from_data(o.p, o.len)) == NULL) {
			snprintf(why, whylen, "cannot place a $code string holding a NUL character");
			goto out;
		}
		bson_destroy(*doc);
		*doc = fixed;
	}
	ok = true;
out:
	for (size_t i = 0; i < sc.nfix; i++)
		bson_free(sc.fix[i].code);
	bson_free(sc.fix);
	bson_free(o.p);
	return ok;
}
