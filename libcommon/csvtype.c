/*
 * csvtype.c: the columns of a CSV/TSV input and a row as a document, with
 * mongoimport's rules: untyped values cast to int32, int64 or double when
 * Go's strconv reads them so, else kept as strings; typed columns
 * ("age.int32()", "when.date(2006-01-02)", "bin.binary(hex)", ...); the
 * parse grace when a typed value does not parse; dotted names as nested
 * documents, in the order their first field appears.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "csv.h"
#include "exitcode.h"

enum ctype { CT_AUTO, CT_BINARY, CT_BOOLEAN, CT_DATE, CT_DOUBLE, CT_INT32, CT_INT64, CT_DECIMAL, CT_STRING };

struct column {
	char *name;
	char **parts;
	size_t nparts;
	enum ctype type;
	char *type_name;
	char *layout; /* dates: the Go layout */
	char enc;     /* binary: 'x' hex, '6' base64, '3' base32 */
};

struct csv_columns {
	struct column *c;
	size_t n;
	enum csv_grace grace;
};

/* One parsed value. */
struct cval {
	bson_type_t t;
	int32_t i32;
	int64_t i64;
	double d;
	bool b;
	bson_decimal128_t dec;
	const char *s;
	size_t n;
	uint8_t *bin; /* owned */
};

static const struct {
	const char *name;
	enum ctype type;
} type_names[] = {
	{"auto", CT_AUTO}, {"binary", CT_BINARY}, {"boolean", CT_BOOLEAN}, {"date", CT_DATE}, {"date_go", CT_DATE},
	{"date_ms", CT_DATE}, {"date_oracle", CT_DATE}, {"decimal", CT_DECIMAL}, {"double", CT_DOUBLE},
	{"int32", CT_INT32}, {"int64", CT_INT64}, {"string", CT_STRING},
};

/* ---- Go's strconv, as mongoimport's casts use it ---- */

/* strconv.ParseInt(s, 10, bits): sign and decimal digits, in range. */
static bool
go_parse_int(const char *s, int bits, int64_t *out)
{
	const char *p = s + (s[0] == '+' || s[0] == '-');
	char *end;

	if (!isdigit((unsigned char)*p))
		return false;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return false;
	return bits == 64 || (*out >= INT32_MIN && *out <= INT32_MAX);
}

/* Go's decimal float syntax: digits with one optional point, at least one
 * digit, an optional exponent. */
static bool
go_decimal_syntax(const char *p)
{
	size_t digits = 0;

	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return false;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* Go's hexadecimal float syntax: 0x, hex digits with an optional point,
 * and the binary exponent it requires. */
static bool
go_hex_syntax(const char *p)
{
	size_t digits = 0;

	if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return false;
	for (p += 2; isxdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isxdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0 || (*p != 'p' && *p != 'P'))
		return false;
	p += 1 + (p[1] == '+' || p[1] == '-');
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0';
}

/* Go's underscoreOK: each '_' between two digits (or after 0x), and
 * then the text without them in buf. */
static bool
strip_underscores(const char *s, char *buf, size_t len)
{
	const char *p = s + (s[0] == '+' || s[0] == '-');
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	size_t n = 0;

	for (const char *q = s; *q && n + 1 < len; q++) {
		if (*q != '_') {
			buf[n++] = *q;
			continue;
		}
		bool before = q > p && (isxdigit((unsigned char)q[-1]) || (hex && q == p + 2)) &&
			(hex || isdigit((unsigned char)q[-1]) || q[-1] == 'x' || q[-1] == 'X');
		bool after = hex ? isxdigit((unsigned char)q[1]) : isdigit((unsigned char)q[1]);

		if (!before || !after)
			return false;
	}
	buf[n] = '\0';
	return true;
}

/* strconv.ParseFloat(s, 64): false for what it refuses, overflow included. */
static bool
go_parse_float(const char *s, double *out)
{
	char buf[512];
	const char *p;

	if (strchr(s, '_') != NULL) {
		if (strlen(s) >= sizeof buf || !strip_underscores(s, buf, sizeof buf))
			return false;
		s = buf;
	}
	p = s + (s[0] == '+' || s[0] == '-');

	if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (strcasecmp(s, "nan") == 0) {
		*out = NAN;
		return true;
	}
	if (!go_decimal_syntax(p) && !go_hex_syntax(p))
		return false;
	*out = strtod(s, NULL);
	return !isinf(*out);
}

/* mongoimport's autoParse: int32, int64, double, or the string. */
static void
auto_parse(const char *s, size_t n, struct cval *v)
{
	if (go_parse_int(s, 64, &v->i64)) {
		if (v->i64 >= INT32_MIN && v->i64 <= INT32_MAX) {
			v->t = BSON_TYPE_INT32;
			v->i32 = (int32_t)v->i64;
		} else {
			v->t = BSON_TYPE_INT64;
		}
	} else if (go_parse_float(s, &v->d)) {
		v->t = BSON_TYPE_DOUBLE;
	} else {
		v->t = BSON_TYPE_UTF8;
		v->s = s;
		v->n = n;
	}
}

/* ---- binary ---- */

static int
b32_value(char c)
{
	const char *p;
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

	return c && (p = strchr(b32, c)) ? (int)(p - b32) : -1;
}

/* Padded base32, as Go's StdEncoding. */
static bool
decode_base32(const char *s, size_t n, struct cval *v)
{
	size_t pad = 0, out = 0;
	uint64_t acc = 0;
	int have = 0;

	if (n % 8 != 0)
		return false;
	while (pad < n && s[n - 1 - pad] == '=')
		pad++;
	v->bin = bson_malloc(n + 1);
	for (size_t i = 0; i < n - pad; i++) {
		int x = b32_value(s[i]);

		if (x < 0)
			return false;
		acc = acc << 5 | (uint64_t)x;
		if ((have += 5) >= 8) {
			v->bin[out++] = (uint8_t)(acc >> (have - 8));
			have -= 8;
		}
	}
	v->t = BSON_TYPE_BINARY;
	v->n = out;
	return pad < 8;
}

/* Padded base64 (bits 6) or base32 (bits 5), as Go's StdEncoding. */
static bool
decode_base(const char *s, size_t n, int bits, struct cval *v)
{
	size_t bad;
	ptrdiff_t got;

	if (bits == 5)
		return decode_base32(s, n, v);
	v->bin = bson_malloc(n / 4 * 3 + 1);
	if ((got = base64_decode_into(v->bin, s, n, false, &bad)) < 0)
		return false;
	v->t = BSON_TYPE_BINARY;
	v->n = (size_t)got;
	return true;
}

static bool
decode_hex(const char *s, size_t n, struct cval *v)
{
	if (n % 2 != 0)
		return false;
	v->bin = bson_malloc(n / 2 + 1);
	for (size_t i = 0; i < n; i += 2) {
		char h[3] = {s[i], s[i + 1], 0};
		char *end;

		if (!isxdigit((unsigned char)h[0]) || !isxdigit((unsigned char)h[1]))
			return false;
		v->bin[i / 2] = (uint8_t)strtoul(h, &end, 16);
	}
	v->t = BSON_TYPE_BINARY;
	v->n = n / 2;
	return true;
}

/* The value of s as column c's type; false when it does not parse. */
static bool
typed_parse(const struct column *c, const char *s, size_t n, struct cval *v)
{
	switch (c->type) {
	case CT_AUTO:
		auto_parse(s, n, v);
		return true;
	case CT_STRING:
		v->t = BSON_TYPE_UTF8, v->s = s, v->n = n;
		return true;
	case CT_INT32:
		v->t = BSON_TYPE_INT32;
		return go_parse_int(s, 32, &v->i64) && ((v->i32 = (int32_t)v->i64), true);
	case CT_INT64:
		v->t = BSON_TYPE_INT64;
		return go_parse_int(s, 64, &v->i64);
	case CT_DOUBLE:
		v->t = BSON_TYPE_DOUBLE;
		return go_parse_float(s, &v->d);
	case CT_BOOLEAN:
		v->t = BSON_TYPE_BOOL;
		v->b = strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0;
		return v->b || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0;
	case CT_DECIMAL:
		v->t = BSON_TYPE_DECIMAL128;
		return bson_decimal128_from_string(s, &v->dec);
	case CT_DATE:
		v->t = BSON_TYPE_DATE_TIME;
		return csv_parse_go_date(c->layout, s, &v->i64);
	case CT_BINARY:
		return c->enc == 'x' ? decode_hex(s, n, v) : decode_base(s, n, c->enc == '6' ? 6 : 5, v);
	}
	return false;
}

static void
cval_append(bson_t *doc, const char *key, const struct cval *v)
{
	switch (v->t) {
	case BSON_TYPE_INT32: BSON_APPEND_INT32(doc, key, v->i32); break;
	case BSON_TYPE_INT64: BSON_APPEND_INT64(doc, key, v->i64); break;
	case BSON_TYPE_DOUBLE: BSON_APPEND_DOUBLE(doc, key, v->d); break;
	case BSON_TYPE_BOOL: BSON_APPEND_BOOL(doc, key, v->b); break;
	case BSON_TYPE_DECIMAL128: BSON_APPEND_DECIMAL128(doc, key, &v->dec); break;
	case BSON_TYPE_DATE_TIME: BSON_APPEND_DATE_TIME(doc, key, v->i64); break;
	case BSON_TYPE_BINARY: BSON_APPEND_BINARY(doc, key, BSON_SUBTYPE_BINARY, v->bin, (uint32_t)v->n); break;
	default: bson_append_utf8(doc, key, -1, v->s, (int)v->n); break;
	}
}

/* ---- columns ---- */

/* The escapes of a type's argument: \\ \( \) read as \ ( ), a lone \ dropped. */
static char *
unescape_arg(const char *s, size_t n)
{
	char *out = bson_malloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\')
			*o++ = s[i];
		else if (i + 1 < n && (s[i + 1] == '\\' || s[i + 1] == '(' || s[i + 1] == ')'))
			*o++ = s[++i];
	}
	*o = '\0';
	return out;
}

/* "name.type(arg)": the rightmost ".word(" with the text ending in ')'. */
static bool
split_typed(const char *spec, char **name, char **type, char **arg)
{
	size_t len = strlen(spec);

	if (len == 0 || spec[len - 1] != ')')
		return false;
	for (size_t dot = len; dot-- > 0;) {
		size_t w = dot + 1;

		if (spec[dot] != '.')
			continue;
		while (w < len && (isalnum((unsigned char)spec[w]) || spec[w] == '_'))
			w++;
		if (w == dot + 1 || w >= len || spec[w] != '(')
			continue;
		*name = bson_strndup(spec, dot);
		*type = bson_strndup(spec + dot + 1, w - dot - 1);
		*arg = unescape_arg(spec + w + 1, len - w - 2);
		return true;
	}
	return false;
}

/* The type of c from its name and argument. */
static bool
column_type(struct column *c, const char *arg, bson_error_t *err)
{
	size_t i;

	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (strcmp(c->type_name, type_names[i].name) == 0)
			break;
	if (i == sizeof type_names / sizeof type_names[0]) {
		mp_error_set(err, MP_EX_USAGE, "invalid type %s in column '%s'", c->type_name, c->name);
		return false;
	}
	c->type = type_names[i].type;
	if (c->type == CT_BINARY) {
		c->enc = strcmp(arg, "hex") == 0 ? 'x' : strcmp(arg, "base64") == 0 ? '6' : strcmp(arg, "base32") == 0 ? '3' : 0;
		if (c->enc == 0)
			mp_error_set(err, MP_EX_USAGE, "column '%s': invalid binary encoding '%s' (hex, base64 or base32)",
				c->name, arg);
		return c->enc != 0;
	}
	if (c->type == CT_DATE) {
		c->layout = strcmp(c->type_name, "date_ms") == 0 ? csv_layout_from_ms(arg) :
			strcmp(c->type_name, "date_oracle") == 0 ? csv_layout_from_oracle(arg) : bson_strdup(arg);
		return true;
	}
	if (*arg != '\0') {
		mp_error_set(err, MP_EX_USAGE, "column '%s': type %s takes no argument", c->name, c->type_name);
		return false;
	}
	return true;
}

static bool
column_init(struct column *c, const char *spec, bool typed, bson_error_t *err)
{
	char *type = NULL, *arg = NULL;
	bool ok = true;

	if (typed && !split_typed(spec, &c->name, &type, &arg)) {
		c->name = bson_strdup(spec);
		mp_error_set(err, MP_EX_USAGE, "could not parse a type from column '%s' (name.type(arg), e.g. age.int32())",
			spec);
		return false;
	}
	if (!typed)
		c->name = bson_strdup(spec);
	c->type_name = type ? type : bson_strdup("auto");
	if (typed)
		ok = column_type(c, arg, err);
	bson_free(arg);
	c->parts = bson_malloc0(sizeof(char *) * (strlen(c->name) + 2));
	for (char *p = c->name, *dot;; p = dot + 1) {
		dot = strchr(p, '.');
		c->parts[c->nparts++] = dot ? bson_strndup(p, (size_t)(dot - p)) : bson_strdup(p);
		if (!dot)
			break;
	}
	return ok;
}

/* mongoimport's validateFields: names it cannot build a document from. */
static bool
columns_check(const struct csv_columns *cs, bson_error_t *err)
{
	for (size_t i = 0; i < cs->n; i++) {
		const char *a = cs->c[i].name;
		size_t la = strlen(a);

		if (la == 0 || a[0] == '.' || a[la - 1] == '.' || a[0] == '$' || strstr(a, "..")) {
			mp_error_set(err, MP_EX_USAGE, "field '%s' cannot be empty, start or end with '.', start with '$' "
				"or hold '..'", a);
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			const char *b = cs->c[j].name;
			size_t lb = strlen(b), m = la < lb ? la : lb;

			if (strcmp(a, b) == 0 || (strncmp(a, b, m) == 0 && (la > lb ? a[m] : b[m]) == '.')) {
				mp_error_set(err, MP_EX_USAGE, "fields '%s' and '%s' cannot both be set (a field is a value "
					"or a document, not both)", b, a);
				return false;
			}
		}
	}
	return true;
}

struct csv_columns *
csv_columns_new(char *const *names, size_t n, bool typed, enum csv_grace grace, bson_error_t *err)
{
	struct csv_columns *cs = bson_malloc0(sizeof *cs);

	cs->c = bson_malloc0(sizeof(struct column) * (n ? n : 1));
	cs->grace = grace;
	for (size_t i = 0; i < n; i++) {
		cs->n++;
		if (!column_init(&cs->c[i], names[i], typed, err)) {
			csv_columns_destroy(cs);
			return NULL;
		}
	}
	if (!columns_check(cs, err)) {
		csv_columns_destroy(cs);
		return NULL;
	}
	return cs;
}

void
csv_columns_destroy(struct csv_columns *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		bson_free(cs->c[i].name);
		bson_free(cs->c[i].type_name);
		bson_free(cs->c[i].layout);
		bson_strfreev(cs->c[i].parts);
	}
	bson_free(cs->c);
	bson_free(cs);
}

/* ---- a row ---- */

/* A value with the name parts it goes under. */
struct cell {
	char *const *parts;
	size_t nparts;
	char extra[32]; /* "fieldN" of a cell past the last column */
	char *extra_parts[2];
	struct cval v;
	bool used;
};

/* cells a and b go under the same parts[0..depth). */
static bool
same_prefix(const struct cell *a, const struct cell *b, size_t depth)
{
	if (a->nparts <= depth || b->nparts <= depth)
		return false;
	for (size_t k = 0; k < depth; k++)
		if (strcmp(a->parts[k], b->parts[k]) != 0)
			return false;
	return true;
}

/* Append cells[from..n) that share cells[from]'s parts[0..depth) to doc,
 * grouping those that go into the same sub-document under its first
 * field, as mongoimport's setNestedDocumentValue does. */
static void
emit(bson_t *doc, struct cell *cells, size_t from, size_t n, size_t depth)
{
	for (size_t i = from; i < n; i++) {
		bson_t sub;

		if (cells[i].used || (depth > 0 && !same_prefix(&cells[i], &cells[from], depth)))
			continue;
		if (cells[i].nparts == depth + 1) {
			cells[i].used = true;
			cval_append(doc, cells[i].parts[depth], &cells[i].v);
			continue;
		}
		bson_append_document_begin(doc, cells[i].parts[depth], -1, &sub);
		emit(&sub, cells, i, n, depth + 1);
		bson_append_document_end(doc, &sub);
	}
}

/* The value of token k; 1, 0 to leave the field out, or -1/-2 (stop, skipRow). */
static int
cell_value(const struct csv_columns *cs, const char *s, size_t n, size_t k, struct cell *cell, char *why,
	size_t whylen)
{
	const struct column *c;

	if (k >= cs->n) {
		snprintf(cell->extra, sizeof cell->extra, "field%zu", k);
		cell->extra_parts[0] = cell->extra;
		cell->parts = cell->extra_parts;
		cell->nparts = 1;
		auto_parse(s, n, &cell->v);
		return 1;
	}
	c = &cs->c[k];
	cell->parts = c->parts;
	cell->nparts = c->nparts;
	if (typed_parse(c, s, n, &cell->v))
		return 1;
	bson_free(cell->v.bin);
	memset(&cell->v, 0, sizeof cell->v);
	switch (cs->grace) {
	case CSV_GRACE_AUTOCAST:
		auto_parse(s, n, &cell->v);
		return 1;
	case CSV_GRACE_SKIPFIELD:
		return 0;
	default:
		snprintf(why, whylen, "column '%s': '%.*s' is not a valid %s%s%s%s", c->name, n > 80 ? 80 : (int)n, s,
			c->type_name, c->layout ? " (layout " : "", c->layout ? c->layout : "", c->layout ? ")" : "");
		return cs->grace == CSV_GRACE_SKIPROW ? -2 : -1;
	}
}

/* "fieldN" of an extra cell must not be a column's name. */
static bool
extra_clash(const struct csv_columns *cs, const char *name, char *why, size_t whylen)
{
	for (size_t i = 0; i < cs->n; i++) {
		if (strcmp(cs->c[i].name, name) == 0) {
			snprintf(why, whylen, "an extra cell would be named '%s', as a column is", name);
			return true;
		}
	}
	return false;
}

int
csv_row_to_bson(const struct csv_columns *cs, const struct csv_row *row, bool ignore_blanks, bson_t *out,
	char *why, size_t whylen)
{
	struct cell *cells = bson_malloc0(sizeof(struct cell) * (row->n ? row->n : 1));
	size_t n = 0;
	int rc = 1;

	for (size_t k = 0; k < row->n && rc == 1; k++) {
		const char *s = (const char *)row->text.p + row->off[k];
		int got;

		if (row->len[k] == 0 && ignore_blanks)
			continue;
		got = cell_value(cs, s, row->len[k], k, &cells[n], why, whylen);
		if (got == 1 && k >= cs->n && extra_clash(cs, cells[n].extra, why, whylen))
			got = -1;
		if (got == 1)
			n++;
		else if (got < 0)
			rc = got == -2 ? 0 : -1;
	}
	bson_reinit(out);
	if (rc == 1)
		emit(out, cells, 0, n, 0);
	for (size_t i = 0; i < row->n; i++)
		bson_free(cells[i].v.bin);
	bson_free(cells);
	return rc;
}
