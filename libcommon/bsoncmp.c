/*
 * bsoncmp.c: MongoDB's sort order for BSON values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bsoncmp.h"

int
bsoncmp_type_rank(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_MINKEY:
		return -1;
	case BSON_TYPE_EOD:
	case BSON_TYPE_UNDEFINED:
		return 0;
	case BSON_TYPE_NULL:
		return 5;
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DECIMAL128:
		return 10;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL:
		return 15;
	case BSON_TYPE_DOCUMENT:
		return 20;
	case BSON_TYPE_ARRAY:
		return 25;
	case BSON_TYPE_BINARY:
		return 30;
	case BSON_TYPE_OID:
		return 35;
	case BSON_TYPE_BOOL:
		return 40;
	case BSON_TYPE_DATE_TIME:
		return 45;
	case BSON_TYPE_TIMESTAMP:
		return 47;
	case BSON_TYPE_REGEX:
		return 50;
	case BSON_TYPE_DBPOINTER:
		return 55;
	case BSON_TYPE_CODE:
		return 60;
	case BSON_TYPE_CODEWSCOPE:
		return 65;
	case BSON_TYPE_MAXKEY:
		return 127;
	default:
		return 126;
	}
}

#define SIGN(x) ((x) < 0 ? -1 : (x) > 0 ? 1 : 0)

static int
cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return SIGN(c);
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* int64 against double, exactly. */
static int
cmp_int_double(int64_t i, double d)
{
	double t;
	int64_t ti;

	if (isnan(d))
		return 1;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = trunc(d);
	ti = (int64_t)t;
	if (i != ti)
		return i < ti ? -1 : 1;
	return d > t ? -1 : d < t ? 1 : 0;
}

static int
cmp_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) ? (isnan(b) ? 0 : -1) : 1;
	return a < b ? -1 : a > b ? 1 : 0;
}

/* decimal128 decoded: kind 0 finite, 1 infinity, 2 NaN. */
struct dec {
	int kind;
	bool neg;
	unsigned __int128 coef;
	int exp;
};

static struct dec
dec_decode(const bson_decimal128_t *d)
{
	struct dec r = {0};
	uint64_t hi = d->high;

	r.neg = (hi >> 63) != 0;
	if (((hi >> 58) & 0x1f) == 0x1f) {
		r.kind = 2;
		return r;
	}
	if (((hi >> 58) & 0x1f) == 0x1e) {
		r.kind = 1;
		return r;
	}
	if (((hi >> 61) & 3) == 3) {
		/* coefficient would exceed 34 digits: non-canonical, means 0 */
		r.exp = (int)((hi >> 47) & 0x3fff) - 6176;
		r.coef = 0;
	} else {
		r.exp = (int)((hi >> 49) & 0x3fff) - 6176;
		r.coef = ((unsigned __int128)(hi & 0x1ffffffffffffULL) << 64) | d->low;
		if (r.coef >= (unsigned __int128)1 << 113)
			r.coef = 0;
	}
	while (r.coef != 0 && r.coef % 10 == 0) {
		r.coef /= 10;
		r.exp++;
	}
	return r;
}

static int
ndigits(unsigned __int128 v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static struct dec
dec_from_int(int64_t i)
{
	struct dec r = {0};

	r.neg = i < 0;
	r.coef = i < 0 ? (unsigned __int128)(-(i + 1)) + 1 : (unsigned __int128)i;
	while (r.coef != 0 && r.coef % 10 == 0) {
		r.coef /= 10;
		r.exp++;
	}
	return r;
}

static int
cmp_dec(struct dec x, struct dec y)
{
	int sx, sy, mag;

	if (x.kind == 2 || y.kind == 2)
		return x.kind == 2 ? (y.kind == 2 ? 0 : -1) : 1;
	sx = x.kind == 1 || x.coef != 0 ? (x.neg ? -1 : 1) : 0;
	sy = y.kind == 1 || y.coef != 0 ? (y.neg ? -1 : 1) : 0;
	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (sx == 0)
		return 0;
	if (x.kind == 1 || y.kind == 1)
		mag = x.kind == y.kind ? 0 : x.kind == 1 ? 1 : -1;
	else {
		int ax = ndigits(x.coef) + x.exp, ay = ndigits(y.coef) + y.exp;

		if (ax != ay) {
			mag = ax < ay ? -1 : 1;
		} else {
			int dx = ndigits(x.coef), dy = ndigits(y.coef);
			unsigned __int128 cx = x.coef, cy = y.coef;

			for (; dx < dy; dx++)
				cx *= 10;
			for (; dy < dx; dy++)
				cy *= 10;
			mag = cx < cy ? -1 : cx > cy ? 1 : 0;
		}
	}
	return sx > 0 ? mag : -mag;
}

static int
cmp_dec_dec(const bson_decimal128_t *a, const bson_decimal128_t *b)
{
	return cmp_dec(dec_decode(a), dec_decode(b));
}

static long double
to_long_double(const bson_value_t *v)
{
	char s[BSON_DECIMAL128_STRING];

	switch (v->value_type) {
	case BSON_TYPE_INT32:
		return v->value.v_int32;
	case BSON_TYPE_INT64:
		return v->value.v_int64;
	case BSON_TYPE_DOUBLE:
		return v->value.v_double;
	default:
		bson_decimal128_to_string(&v->value.v_decimal128, s);
		if (strcmp(s, "NaN") == 0 || strcmp(s, "-NaN") == 0)
			return NAN;
		return strtold(s, NULL);
	}
}

static int
cmp_numbers(const bson_value_t *a, const bson_value_t *b)
{
	bson_type_t ta = a->value_type, tb = b->value_type;

	if (ta == BSON_TYPE_DECIMAL128 && tb == BSON_TYPE_DECIMAL128)
		return cmp_dec_dec(&a->value.v_decimal128, &b->value.v_decimal128);
	if (ta == BSON_TYPE_DECIMAL128 && tb != BSON_TYPE_DOUBLE)
		return cmp_dec(dec_decode(&a->value.v_decimal128),
			dec_from_int(tb == BSON_TYPE_INT32 ? b->value.v_int32 : b->value.v_int64));
	if (tb == BSON_TYPE_DECIMAL128 && ta != BSON_TYPE_DOUBLE)
		return cmp_dec(dec_from_int(ta == BSON_TYPE_INT32 ? a->value.v_int32 : a->value.v_int64),
			dec_decode(&b->value.v_decimal128));
	if (ta == BSON_TYPE_DECIMAL128 || tb == BSON_TYPE_DECIMAL128) {
		long double x = to_long_double(a), y = to_long_double(b);

		if (isnan(x) || isnan(y))
			return isnan(x) ? (isnan(y) ? 0 : -1) : 1;
		return x < y ? -1 : x > y ? 1 : 0;
	}
	if (ta == BSON_TYPE_DOUBLE && tb == BSON_TYPE_DOUBLE)
		return cmp_double(a->value.v_double, b->value.v_double);
	if (ta == BSON_TYPE_DOUBLE)
		return -cmp_int_double(tb == BSON_TYPE_INT32 ? b->value.v_int32 : b->value.v_int64,
			a->value.v_double);
	if (tb == BSON_TYPE_DOUBLE)
		return cmp_int_double(ta == BSON_TYPE_INT32 ? a->value.v_int32 : a->value.v_int64,
			b->value.v_double);
	{
		int64_t x = ta == BSON_TYPE_INT32 ? a->value.v_int32 : a->value.v_int64;
		int64_t y = tb == BSON_TYPE_INT32 ? b->value.v_int32 : b->value.v_int64;

		return x < y ? -1 : x > y ? 1 : 0;
	}
}

static int
cmp_doc_bytes(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	bson_iter_t ia, ib;
	bool ha, hb;

	if (!bson_iter_init_from_data(&ia, a, alen) || !bson_iter_init_from_data(&ib, b, blen))
		return cmp_bytes(a, alen, b, blen);
	for (;;) {
		int c;

		ha = bson_iter_next(&ia);
		hb = bson_iter_next(&ib);
		if (!ha || !hb)
			return ha == hb ? 0 : ha ? 1 : -1;
		c = bsoncmp_type_rank(bson_iter_type(&ia)) - bsoncmp_type_rank(bson_iter_type(&ib));
		if (c != 0)
			return SIGN(c);
		c = strcmp(bson_iter_key(&ia), bson_iter_key(&ib));
		if (c != 0)
			return SIGN(c);
		c = bsoncmp_iter(&ia, &ib);
		if (c != 0)
			return c;
	}
}

int
bsoncmp_value(const bson_value_t *a, const bson_value_t *b)
{
	int ra = bsoncmp_type_rank(a->value_type), rb = bsoncmp_type_rank(b->value_type);
	int c;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (a->value_type) {
	case BSON_TYPE_MINKEY:
	case BSON_TYPE_MAXKEY:
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED:
	case BSON_TYPE_EOD:
		return 0;
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DECIMAL128:
		return cmp_numbers(a, b);
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL: {
		/* v_utf8 and v_symbol share their layout (pointer, length) */
		const char *sa = a->value_type == BSON_TYPE_UTF8 ? a->value.v_utf8.str : a->value.v_symbol.symbol;
		uint32_t la = a->value_type == BSON_TYPE_UTF8 ? a->value.v_utf8.len : a->value.v_symbol.len;
		const char *sb = b->value_type == BSON_TYPE_UTF8 ? b->value.v_utf8.str : b->value.v_symbol.symbol;
		uint32_t lb = b->value_type == BSON_TYPE_UTF8 ? b->value.v_utf8.len : b->value.v_symbol.len;

		return cmp_bytes((const uint8_t *)sa, la, (const uint8_t *)sb, lb);
	}
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		return cmp_doc_bytes(a->value.v_doc.data, a->value.v_doc.data_len, b->value.v_doc.data,
			b->value.v_doc.data_len);
	case BSON_TYPE_BINARY:
		if (a->value.v_binary.data_len != b->value.v_binary.data_len)
			return a->value.v_binary.data_len < b->value.v_binary.data_len ? -1 : 1;
		if (a->value.v_binary.subtype != b->value.v_binary.subtype)
			return a->value.v_binary.subtype < b->value.v_binary.subtype ? -1 : 1;
		return SIGN(memcmp(a->value.v_binary.data, b->value.v_binary.data, a->value.v_binary.data_len));
	case BSON_TYPE_OID:
		return SIGN(memcmp(a->value.v_oid.bytes, b->value.v_oid.bytes, 12));
	case BSON_TYPE_BOOL:
		return (int)a->value.v_bool - (int)b->value.v_bool;
	case BSON_TYPE_DATE_TIME:
		return a->value.v_datetime < b->value.v_datetime ? -1 : a->value.v_datetime > b->value.v_datetime;
	case BSON_TYPE_TIMESTAMP: {
		uint64_t x = ((uint64_t)a->value.v_timestamp.timestamp << 32) | a->value.v_timestamp.increment;
		uint64_t y = ((uint64_t)b->value.v_timestamp.timestamp << 32) | b->value.v_timestamp.increment;

		return x < y ? -1 : x > y;
	}
	case BSON_TYPE_REGEX:
		c = strcmp(a->value.v_regex.regex, b->value.v_regex.regex);
		if (c != 0)
			return SIGN(c);
		return SIGN(strcmp(a->value.v_regex.options, b->value.v_regex.options));
	case BSON_TYPE_DBPOINTER:
		if (a->value.v_dbpointer.collection_len != b->value.v_dbpointer.collection_len)
			return a->value.v_dbpointer.collection_len < b->value.v_dbpointer.collection_len ? -1 : 1;
		c = memcmp(a->value.v_dbpointer.collection, b->value.v_dbpointer.collection,
			a->value.v_dbpointer.collection_len);
		if (c != 0)
			return SIGN(c);
		return SIGN(memcmp(a->value.v_dbpointer.oid.bytes, b->value.v_dbpointer.oid.bytes, 12));
	case BSON_TYPE_CODE:
		return cmp_bytes((const uint8_t *)a->value.v_code.code, a->value.v_code.code_len,
			(const uint8_t *)b->value.v_code.code, b->value.v_code.code_len);
	case BSON_TYPE_CODEWSCOPE:
		c = cmp_bytes((const uint8_t *)a->value.v_codewscope.code, a->value.v_codewscope.code_len,
			(const uint8_t *)b->value.v_codewscope.code, b->value.v_codewscope.code_len);
		if (c != 0)
			return c;
		return cmp_doc_bytes(a->value.v_codewscope.scope_data, a->value.v_codewscope.scope_len,
			b->value.v_codewscope.scope_data, b->value.v_codewscope.scope_len);
	default:
		return 0;
	}
}

int
bsoncmp_iter(const bson_iter_t *a, const bson_iter_t *b)
{
	/* bson_iter_value() points into the documents: nothing is copied */
	bson_value_t va = *bson_iter_value((bson_iter_t *)a);
	bson_value_t vb = *bson_iter_value((bson_iter_t *)b);

	return bsoncmp_value(&va, &vb);
}

int
bsoncmp_doc(const bson_t *a, const bson_t *b)
{
	return cmp_doc_bytes(bson_get_data(a), a->len, bson_get_data(b), b->len);
}
