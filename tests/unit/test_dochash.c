/*
 * test_dochash.c: digests see what each comparison mode says and nothing
 * more: field order (unordered), number types (semantic), ignored fields;
 * _id join keys treat 1 and NumberLong(1) alike.
 */
#include <string.h>

#include "dochash.h"
#include "exitcode.h"
#include "tap.h"

static bson_t *
J(const char *json)
{
	return bson_new_from_json((const uint8_t *)json, -1, NULL);
}

/* Whether a and b digest alike under mode (and ignore). */
static bool
same(enum dochash_mode mode, const char *ignore, const char *a, const char *b)
{
	struct dochash *h = dochash_new("sha256", mode, ignore, NULL);
	uint8_t da[DOCHASH_MAX], db[DOCHASH_MAX];
	bson_t *x = J(a), *y = J(b);
	bool eq;

	dochash_doc(h, x, da, NULL);
	dochash_doc(h, y, db, NULL);
	eq = memcmp(da, db, dochash_len(h)) == 0;
	bson_destroy(x);
	bson_destroy(y);
	dochash_destroy(h);
	return eq;
}

int
main(void)
{
	const char *swap_a = "{\"_id\": 1, \"a\": 1, \"n\": {\"x\": 1, \"y\": 2}}";
	const char *swap_b = "{\"n\": {\"y\": 2, \"x\": 1}, \"a\": 1, \"_id\": 1}";
	const char *i32 = "{\"_id\": 1, \"v\": {\"$numberInt\": \"5\"}}";
	const char *i64 = "{\"_id\": 1, \"v\": {\"$numberLong\": \"5\"}}";
	const char *dbl = "{\"_id\": 1, \"v\": 5.0}";
	const char *dec = "{\"_id\": 1, \"v\": {\"$numberDecimal\": \"5.00\"}}";
	struct dochash *h;
	bson_error_t err;
	char hex[2 * DOCHASH_MAX + 1];
	uint8_t d[DOCHASH_MAX];
	bson_t *doc, ka, kb;
	bson_value_t v;
	enum dochash_mode m;

	ok(!same(DOCHASH_BINARY, NULL, swap_a, swap_b), "binary: field order counts");
	ok(same(DOCHASH_UNORDERED, NULL, swap_a, swap_b), "unordered: field order at every level does not");
	ok(!same(DOCHASH_UNORDERED, NULL, "{\"a\": [1, 2]}", "{\"a\": [2, 1]}"), "unordered: array order counts");
	ok(!same(DOCHASH_UNORDERED, NULL, i32, i64), "unordered: types count");
	ok(same(DOCHASH_SEMANTIC, NULL, i32, i64), "semantic: int32 5 == int64 5");
	ok(same(DOCHASH_SEMANTIC, NULL, i32, dbl), "semantic: int32 5 == double 5.0");
	ok(same(DOCHASH_SEMANTIC, NULL, i32, dec), "semantic: int32 5 == decimal 5.00");
	ok(!same(DOCHASH_SEMANTIC, NULL, "{\"v\": 5.5}", "{\"v\": 5}"), "semantic: 5.5 != 5");
	ok(same(DOCHASH_SEMANTIC, NULL, "{\"v\": [{\"$numberLong\": \"1\"}]}", "{\"v\": [1.0]}"),
		"semantic: numbers inside arrays too");
	ok(!same(DOCHASH_SEMANTIC, NULL, "{\"v\": \"5\"}", "{\"v\": 5}"), "semantic: a string is not a number");
	ok(same(DOCHASH_BINARY, "n.y,t", "{\"a\": 1, \"n\": {\"x\": 1, \"y\": 2}, \"t\": 1}",
		"{\"a\": 1, \"n\": {\"x\": 1, \"y\": 3}, \"t\": 9}"), "ignored fields, nested too, are left out");
	ok(!same(DOCHASH_BINARY, "n.y", "{\"n\": {\"x\": 1}}", "{\"n\": {\"x\": 2}}"), "the others are not");

	ok(dochash_new("crc32", DOCHASH_BINARY, NULL, &err) == NULL && err.code == MP_EX_USAGE, "unknown hash: 64");
	h = dochash_new("md5", DOCHASH_BINARY, NULL, &err);
	is_int(dochash_len(h), 16, "md5 is 16 bytes");
	doc = J("{}");
	dochash_doc(h, doc, d, &err);
	dochash_hex(d, dochash_len(h), hex);
	is_str(hex, "f39755a59b651f9cd33d55ee80c6ae5b", "the md5 of the 5 bytes of {} (as md5sum says), in hex");
	bson_destroy(doc);
	dochash_destroy(h);
	h = dochash_new("sha1", DOCHASH_BINARY, NULL, &err);
	is_int(dochash_len(h), 20, "sha1 is 20 bytes");
	dochash_destroy(h);

	v.value_type = BSON_TYPE_INT32;
	v.value.v_int32 = 1;
	dochash_id_key(&v, &ka);
	v.value_type = BSON_TYPE_INT64;
	v.value.v_int64 = 1;
	dochash_id_key(&v, &kb);
	ok(ka.len == kb.len && memcmp(bson_get_data(&ka), bson_get_data(&kb), ka.len) == 0,
		"_id 1 and NumberLong(1) join");
	bson_destroy(&kb);
	v.value_type = BSON_TYPE_UTF8;
	v.value.v_utf8.str = (char *)"1";
	v.value.v_utf8.len = 1;
	dochash_id_key(&v, &kb);
	ok(ka.len != kb.len || memcmp(bson_get_data(&ka), bson_get_data(&kb), ka.len) != 0,
		"_id \"1\" does not join 1");
	bson_destroy(&ka);
	bson_destroy(&kb);

	ok(dochash_mode_parse("semantic", &m) && m == DOCHASH_SEMANTIC, "mode names parse");
	ok(!dochash_mode_parse("fuzzy", &m), "unknown modes do not");
	return tap_done();
}
