/*
 * csvcell.c: the cell of one value as mongoexport 100.11 renders it in CSV.
 *
 * mongoexport turns each value into its legacy Extended JSON types and
 * prints scalars with Go's %v (so ObjectId(...), dates as
 * 2006-01-02T15:04:05.000Z, binary as upper-case hex, doubles in Go's
 * shortest %g form) and documents and arrays with its own JSON encoder
 * (common/json: {"$numberLong": ...} with its spacing, <, > and & escaped).
 * Both forms are reproduced here byte for byte, since a CSV read by
 * another program is compared as text.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "csv.h"
#include "dtoa.h"
#include "ejsonint.h"

/* Dates mongoexport formats as text: before year 3001 (common/json). */
#define CSV_DATE_FORMATABLE_MS INT64_C(32535215999000)

static void
cput(struct ejson_buf *out, const void *p, size_t n)
{
	ejson_buf_reserve(out, n);
	memcpy(out->p + out->len, p, n);
	out->len += n;
}

static void
puts_(struct ejson_buf *out, const char *s)
{
	cput(out, s, strlen(s));
}

static void BSON_GNUC_PRINTF(2, 3)
putf(struct ejson_buf *out, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cput(out, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Go's strconv.FormatFloat(v, 'g', -1, 64), which %v prints too: the
 * shortest digits, in exponent form below 1e-4 and from 1e6 up (%g's
 * precision 6 decides when the digits are the shortest). */
static void
put_go_float(struct ejson_buf *out, double v, bool json)
{
	uint64_t digits;
	int exp10, nd, exp;
	char d[24];

	if (isnan(v)) {
		puts_(out, "NaN");
		return;
	}
	if (isinf(v)) {
		puts_(out, v > 0 ? (json ? "+Infinity" : "+Inf") : (json ? "-Infinity" : "-Inf"));
		return;
	}
	nd = dtoa_shortest(v, &digits, &exp10);
	snprintf(d, sizeof d, "%" PRIu64, digits);
	if (signbit(v))
		puts_(out, "-");
	exp = nd + exp10 - 1;
	if (exp < -4 || exp >= 6) {
		cput(out, d, 1);
		if (nd > 1) {
			puts_(out, ".");
			cput(out, d + 1, (size_t)nd - 1);
		}
		putf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		puts_(out, "0.");
		for (int i = -1; i > exp; i--)
			puts_(out, "0");
		cput(out, d, (size_t)nd);
	} else if (nd <= exp + 1) {
		cput(out, d, (size_t)nd);
		for (int i = nd; i <= exp; i++)
			puts_(out, "0");
		if (json)
			puts_(out, ".0"); /* common/json keeps an integral double a double */
	} else {
		cput(out, d, (size_t)exp + 1);
		puts_(out, ".");
		cput(out, d + exp + 1, (size_t)(nd - exp - 1));
	}
}

/* Go's time.Format of "2006-01-02T15:04:05.000Z" in UTC. */
static void
put_date_text(struct ejson_buf *out, int64_t ms)
{
	int64_t secs = ms / 1000, milli = ms % 1000;
	struct tm tm;
	time_t t;

	if (milli < 0) {
		milli += 1000;
		secs--;
	}
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	putf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (int)milli);
}

/* A JSON string as common/json writes it (Go's encoding/json of 2014). */
static void
put_json_string(struct ejson_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	puts_(out, "\"");
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			if (c == '\\' || c == '"')
				putf(out, "\\%c", c);
			else if (c == '\n')
				puts_(out, "\\n");
			else if (c == '\r')
				puts_(out, "\\r");
			else if (c < 0x20 || c == '<' || c == '>' || c == '&')
				putf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			else
				cput(out, &c, 1);
			i++;
			continue;
		}
		size_t k = ejson_utf8_char((const uint8_t *)s + i, n - i);
		if (k == 0) {
			puts_(out, "\\ufffd");
			i++;
		} else if (k == 3 && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			putf(out, "\\u202%c", (unsigned char)s[i + 2] == 0xa8 ? '8' : '9');
			i += 3;
		} else {
			cput(out, s + i, k);
			i += k;
		}
	}
	puts_(out, "\"");
}

/* Go's %q of JavaScript code, as common/json puts it in {"$code": ...}. */
static void
put_go_quoted(struct ejson_buf *out, const char *s, size_t n)
{
	static const char esc[] = "\a a\b b\f f\n n\r r\t t\v v\\ \\\" \"";

	puts_(out, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c ? strchr(esc, c) : NULL;

		if (e != NULL && (e - esc) % 3 == 0)
			putf(out, "\\%c", e[1]);
		else if (c < 0x20 || c == 0x7f)
			putf(out, "\\x%02x", c);
		else
			cput(out, &c, 1);
	}
	puts_(out, "\"");
}

static void put_json(struct ejson_buf *out, const bson_iter_t *it);
static void put_json_elements(struct ejson_buf *out, bson_iter_t *child, bool array);

/* The elements of child: {"k":v,...} or [v,...], with no spaces. */
static void
put_json_elements(struct ejson_buf *out, bson_iter_t *child, bool array)
{
	bool first = true;

	puts_(out, array ? "[" : "{");
	while (bson_iter_next(child)) {
		if (!first)
			puts_(out, ",");
		first = false;
		if (!array) {
			put_json_string(out, bson_iter_key(child), bson_iter_key_len(child));
			puts_(out, ":");
		}
		put_json(out, child);
	}
	puts_(out, array ? "]" : "}");
}

/* Remove the blanks outside strings from out[from..): Go's encoding/json
 * compacts what a type's MarshalJSON returns, so {"$oid": ...} nested in a
 * document loses the spaces that mongoexport's plain cells keep. */
static void
compact(struct ejson_buf *out, size_t from)
{
	size_t w = from;
	bool in_str = false;

	for (size_t r = from; r < out->len; r++) {
		uint8_t c = out->p[r];

		if (in_str) {
			out->p[w++] = c;
			if (c == '\\' && r + 1 < out->len)
				out->p[w++] = out->p[++r];
			else if (c == '"')
				in_str = false;
		} else if (c != ' ') {
			out->p[w++] = c;
			in_str = c == '"';
		}
	}
	out->len = w;
}

/* The document or array at it. */
static void
put_json_container(struct ejson_buf *out, const bson_iter_t *it, bool array)
{
	bson_iter_t child;
	size_t from = out->len;

	if (bson_iter_recurse(it, &child))
		put_json_elements(out, &child, array);
	else
		puts_(out, array ? "[]" : "{}");
	compact(out, from);
}

static void
put_base64(struct ejson_buf *out, const uint8_t *p, size_t n)
{
	ejson_buf_reserve(out, BASE64_ENCODED_LEN(n));
	out->len += base64_encode_into((char *)out->p + out->len, p, n);
}

/* The types whose JSON and text forms are the same in mongoexport. */
static bool
put_common(struct ejson_buf *out, const bson_iter_t *it)
{
	uint32_t t, i;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_INT32:
		putf(out, "%" PRId32, bson_iter_int32(it));
		return true;
	case BSON_TYPE_BOOL:
		puts_(out, bson_iter_bool(it) ? "true" : "false");
		return true;
	case BSON_TYPE_TIMESTAMP:
		bson_iter_timestamp(it, &t, &i);
		putf(out, "{ \"$timestamp\": { \"t\": %" PRIu32 ", \"i\": %" PRIu32 " } }", t, i);
		return true;
	case BSON_TYPE_UNDEFINED:
		puts_(out, "{ \"$undefined\": true }");
		return true;
	default:
		return false;
	}
}

/* The JSON of the types seldom seen in a CSV cell. */
static void
put_json_rare(struct ejson_buf *out, const bson_iter_t *it)
{
	char s[25];
	const bson_oid_t *oid;
	const uint8_t *bin;
	const char *str, *opts, *coll;
	bson_subtype_t sub;
	uint32_t n;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_BINARY:
		bson_iter_binary(it, &sub, &n, &bin);
		puts_(out, "{ \"$binary\": \"");
		put_base64(out, bin, n);
		putf(out, "\", \"$type\": \"%02x\" }", (unsigned)sub);
		break;
	case BSON_TYPE_REGEX:
		str = bson_iter_regex(it, &opts);
		puts_(out, "{ \"$regex\": ");
		put_json_string(out, str, strlen(str));
		putf(out, ", \"$options\": \"%s\" }", opts);
		break;
	case BSON_TYPE_CODE:
	case BSON_TYPE_CODEWSCOPE: {
		const uint8_t *scope = NULL;
		uint32_t slen = 0;

		str = bson_iter_type(it) == BSON_TYPE_CODE ? bson_iter_code(it, &n) : bson_iter_codewscope(it, &n, &slen, &scope);
		puts_(out, "{ \"$code\": ");
		put_go_quoted(out, str, n);
		if (scope != NULL) {
			bson_t sd;
			bson_iter_t si;

			puts_(out, ", \"$scope\": ");
			if (bson_init_static(&sd, scope, slen) && bson_iter_init(&si, &sd))
				put_json_elements(out, &si, false);
			puts_(out, " ");
		}
		puts_(out, "}");
		break;
	}
	case BSON_TYPE_DBPOINTER:
		bson_iter_dbpointer(it, &n, &coll, &oid);
		bson_oid_to_string(oid, s);
		puts_(out, "{ \"$ref\": \"");
		cput(out, coll, n);
		putf(out, "\", \"$id\": { \"$oid\" : \"%s\"}}", s);
		break;
	case BSON_TYPE_MINKEY:
		puts_(out, "{ \"$minKey\": 1 }");
		break;
	case BSON_TYPE_MAXKEY:
		puts_(out, "{ \"$maxKey\": 1 }");
		break;
	default: /* null */
		puts_(out, "null");
		break;
	}
}

/* The value inside a document or an array (common/json's Marshal). */
static void
put_json(struct ejson_buf *out, const bson_iter_t *it)
{
	char s[BSON_DECIMAL128_STRING];
	bson_decimal128_t dec;
	const char *str;
	uint32_t n;

	if (put_common(out, it))
		return;
	switch (bson_iter_type(it)) {
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		put_json_container(out, it, bson_iter_type(it) == BSON_TYPE_ARRAY);
		break;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL:
		str = bson_iter_type(it) == BSON_TYPE_UTF8 ? bson_iter_utf8(it, &n) : bson_iter_symbol(it, &n);
		put_json_string(out, str, n);
		break;
	case BSON_TYPE_INT64:
		putf(out, "{ \"$numberLong\": \"%" PRId64 "\" }", bson_iter_int64(it));
		break;
	case BSON_TYPE_DOUBLE:
		put_go_float(out, bson_iter_double(it), true);
		break;
	case BSON_TYPE_OID:
		bson_oid_to_string(bson_iter_oid(it), s);
		putf(out, "{ \"$oid\": \"%s\" }", s);
		break;
	case BSON_TYPE_DATE_TIME:
		if (bson_iter_date_time(it) < CSV_DATE_FORMATABLE_MS) {
			puts_(out, "{ \"$date\": \"");
			put_date_text(out, bson_iter_date_time(it));
			puts_(out, "\" }");
		} else {
			putf(out, "{ \"$date\": { \"$numberLong\" : \"%" PRId64 "\" }}", bson_iter_date_time(it));
		}
		break;
	case BSON_TYPE_DECIMAL128:
		bson_iter_decimal128(it, &dec);
		bson_decimal128_to_string(&dec, s);
		putf(out, "{ \"$numberDecimal\" : \"%s\" }", s);
		break;
	default:
		put_json_rare(out, it);
		break;
	}
}

static void
put_hex_upper(struct ejson_buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		putf(out, "%02X", p[i]);
}

/* The cells of the types seldom seen in CSV (Go's %v of mongoexport's
 * types: their String methods). */
static void
render_rare(const bson_iter_t *it, struct ejson_buf *out)
{
	char s[25];
	const bson_oid_t *oid;
	const uint8_t *bin;
	const char *str, *opts, *coll;
	bson_subtype_t sub;
	uint32_t n;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_BINARY:
		bson_iter_binary(it, &sub, &n, &bin);
		/* the old binary subtype holds its own length first */
		if (sub == BSON_SUBTYPE_BINARY_DEPRECATED && n >= 4)
			put_hex_upper(out, bin + 4, n - 4);
		else
			put_hex_upper(out, bin, n);
		break;
	case BSON_TYPE_REGEX:
		str = bson_iter_regex(it, &opts);
		putf(out, "/%s/%s", str, opts);
		break;
	case BSON_TYPE_CODE:
		str = bson_iter_code(it, &n);
		cput(out, str, n);
		break;
	case BSON_TYPE_CODEWSCOPE: {
		uint32_t slen;
		const uint8_t *scope;

		str = bson_iter_codewscope(it, &n, &slen, &scope);
		cput(out, str, n);
		break;
	}
	case BSON_TYPE_DBPOINTER:
		bson_iter_dbpointer(it, &n, &coll, &oid);
		bson_oid_to_string(oid, s);
		puts_(out, "{ \"$ref\": \"");
		cput(out, coll, n);
		putf(out, "\", \"$id\": ObjectID(\"%s\") }", s);
		break;
	case BSON_TYPE_MINKEY:
		puts_(out, "$MinKey");
		break;
	case BSON_TYPE_MAXKEY:
		puts_(out, "$MaxKey");
		break;
	default: /* null is an empty cell */
		break;
	}
}

void
csv_render_cell(const bson_iter_t *it, struct ejson_buf *out)
{
	char s[BSON_DECIMAL128_STRING];
	bson_decimal128_t dec;
	const char *str;
	uint32_t n;

	if (put_common(out, it))
		return;
	switch (bson_iter_type(it)) {
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		put_json_container(out, it, bson_iter_type(it) == BSON_TYPE_ARRAY);
		break;
	case BSON_TYPE_UTF8:
		str = bson_iter_utf8(it, &n);
		cput(out, str, n);
		break;
	case BSON_TYPE_SYMBOL:
		str = bson_iter_symbol(it, &n);
		cput(out, str, n);
		break;
	case BSON_TYPE_INT64:
		putf(out, "%" PRId64, bson_iter_int64(it));
		break;
	case BSON_TYPE_DOUBLE:
		put_go_float(out, bson_iter_double(it), false);
		break;
	case BSON_TYPE_OID:
		bson_oid_to_string(bson_iter_oid(it), s);
		putf(out, "ObjectId(%s)", s);
		break;
	case BSON_TYPE_DATE_TIME:
		if (bson_iter_date_time(it) < CSV_DATE_FORMATABLE_MS)
			put_date_text(out, bson_iter_date_time(it));
		else
			put_json(out, it);
		break;
	case BSON_TYPE_DECIMAL128:
		bson_iter_decimal128(it, &dec);
		bson_decimal128_to_string(&dec, s);
		puts_(out, s);
		break;
	default:
		render_rare(it, out);
		break;
	}
}

/* Go's strconv.Atoi, for an array index in a path. */
static bool
parse_index(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	int64_t v = 0;

	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		neg = s[i++] == '-';
	if (i == n || n - i > 18)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* Step from the container at *it to its part p[0..n). */
static bool
lookup_step(bson_iter_t *it, const char *p, size_t n)
{
	bson_iter_t child;
	bool array = bson_iter_type(it) == BSON_TYPE_ARRAY;
	int64_t index = 0, i = 0;

	if ((!array && bson_iter_type(it) != BSON_TYPE_DOCUMENT) || !bson_iter_recurse(it, &child))
		return false;
	if (array && (!parse_index(p, n, &index) || index < 0))
		return false;
	while (bson_iter_next(&child)) {
		if (array ? i++ == index : bson_iter_key_len(&child) == n && memcmp(bson_iter_key(&child), p, n) == 0) {
			*it = child;
			return true;
		}
	}
	return false;
}

bool
csv_lookup(const bson_t *doc, const char *path, bson_iter_t *out)
{
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);

	bool found = false;

	if (!bson_iter_init(out, doc))
		return false;
	while (!found && bson_iter_next(out))
		found = bson_iter_key_len(out) == n && memcmp(bson_iter_key(out), path, n) == 0;
	if (!found)
		return false;
	while (dot != NULL) {
		path = dot + 1;
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (!lookup_step(out, path, n))
			return false;
	}
	return true;
}
