/*
 * test_archive.c: what the archive's two sides share: the CRC-64 that
 * mongodump puts in each EOF header (Go's crc64.ECMA), and the headers.
 */
#include <string.h>

#include "archive.h"
#include "tap.h"

static void
test_crc(void)
{
	const char *check = "123456789";
	uint8_t buf[1000];
	uint64_t whole, parts;

	ok(archive_crc64(0, (const uint8_t *)check, 9) == 0x995dc9bbdf1939faull,
		"the check value of CRC-64/XZ (crc64.ECMA)");
	ok(archive_crc64(0, NULL, 0) == 0, "nothing: 0");
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	whole = archive_crc64(0, buf, sizeof buf);
	parts = archive_crc64(archive_crc64(archive_crc64(0, buf, 3), buf + 3, 500), buf + 503, sizeof buf - 503);
	ok(whole == parts, "fed in pieces of any length (the eight-byte path and the tail agree)");
}

static void
test_headers(void)
{
	bson_t *h = BCON_NEW("db", "d", "collection", "c.x", "EOF", BCON_BOOL(true), "CRC", BCON_INT64(-5));
	bson_t *bad = BCON_NEW("db", "d");
	bson_t *m = archive_meta_doc("d", "c", "{\"indexes\":[]}", "view");
	struct archive_ns ns;
	struct archive_meta meta;
	bson_error_t err;

	ok(archive_parse_ns(h, &ns, &err) && !strcmp(ns.db, "d") && !strcmp(ns.coll, "c.x") && ns.eof &&
		   ns.crc == -5,
		"an EOF header read");
	ok(!archive_parse_ns(bad, &ns, &err) && strstr(err.message, "collection"), "a header without a collection");
	ok(archive_parse_meta(m, &meta, &err) && !strcmp(meta.type, "view") && !strcmp(meta.metadata,
		"{\"indexes\":[]}"), "a prelude entry, as written, read");
	bson_destroy(h);
	bson_destroy(bad);
	bson_destroy(m);
}

int
main(void)
{
	test_crc();
	test_headers();
	return tap_done();
}
