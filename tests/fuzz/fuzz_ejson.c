/*
 * fuzz_ejson.c: the Extended JSON codec (ejson.h) on its own, both ways.
 *
 * The input is a JSON text for the parser.  Whatever it parses to must be a
 * valid BSON document that the writer takes; the writer's canonical text
 * must parse back to the same bytes, and its relaxed text must parse to a
 * document whose relaxed text is the same again (relaxed loses int64 vs
 * int32, not more).  The input is also tried as raw BSON bytes for the
 * writer, which must refuse or write them without reading past the end.
 */
#include "fuzz.h"
#include "ejson.h"

static void
roundtrip(const uint8_t *bson, size_t len)
{
	struct ejson_buf c = {0}, r = {0}, back = {0}, r2 = {0};
	struct ejson_error e;
	char why[256];

	if (!ejson_write(bson, len, EJSON_CANONICAL, &c, why, sizeof why))
		fuzz_fail("the parser made BSON the writer refuses: %s", why);
	if (!ejson_parse((const char *)c.p, c.len, &back, &e))
		fuzz_fail("canonical text does not parse back: %s at %zu: %s", e.msg, e.offset, c.p);
	if (back.len != len || memcmp(back.p, bson, len) != 0)
		fuzz_fail("canonical text parses back to other bytes: %s", c.p);
	if (!ejson_write(bson, len, EJSON_RELAXED, &r, why, sizeof why))
		fuzz_fail("relaxed writer refuses what canonical took: %s", why);
	if (!ejson_parse((const char *)r.p, r.len, &back, &e))
		fuzz_fail("relaxed text does not parse back: %s: %s", e.msg, r.p);
	if (!ejson_write(back.p, back.len, EJSON_RELAXED, &r2, why, sizeof why) || r2.len != r.len ||
	    memcmp(r2.p, r.p, r.len) != 0)
		fuzz_fail("relaxed text is not stable: %s", r.p);
	ejson_buf_free(&c);
	ejson_buf_free(&r);
	ejson_buf_free(&r2);
	ejson_buf_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ejson_buf doc = {0}, out = {0};
	struct ejson_error e;
	char why[256];
	uint8_t *copy = malloc(size ? size : 1);

	/* an exact-size copy: ASan sees any read past the end */
	memcpy(copy, data, size);
	if (ejson_parse((const char *)copy, size, &doc, &e)) {
		bson_t b;

		if (!bson_init_static(&b, doc.p, doc.len) || !docstream_check_bson(&b, why, sizeof why))
			fuzz_fail("the parser made an invalid document: %s", why);
		roundtrip(doc.p, doc.len);
	} else if (e.offset > size || e.msg[0] == '\0') {
		fuzz_fail("an error without a place or a reason (offset %zu of %zu)", e.offset, size);
	}
	(void)ejson_write(copy, size, EJSON_CANONICAL, &out, why, sizeof why);
	free(copy);
	ejson_buf_free(&doc);
	ejson_buf_free(&out);
	return 0;
}
