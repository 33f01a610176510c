/*
 * test_reject.c: a rejected record is one NDJSON line: why and where as
 * plain JSON numbers, the record in canonical Extended JSON, readable back
 * without loss; a write that fails is an error, not a silent loss.
 */
#include <unistd.h>

#include "exitcode.h"
#include "reject.h"
#include "tap.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[8192];
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

int
main(void)
{
	char dir[] = "/tmp/mp-reject-XXXXXX", *path;
	struct reject_file *rf;
	bson_error_t err;
	bson_t *doc;
	char *text, *line2;
	struct reject_why why = {"E11000 duplicate key \"x\"", 11000, 7, 0, 0};
	struct reject_why where = {"invalid JSON", 0, 3, 3, 120};
	const uint8_t raw[] = {5, 0, 0, 0, 1};

	mkdtemp(dir);
	path = bson_strdup_printf("%s/rej.ndjson", dir);
	rf = reject_open(path, &err);
	ok(rf != NULL, "opened");
	doc = bson_new_from_json((const uint8_t *)"{\"_id\": {\"$numberLong\": \"5\"}, \"d\": 1.5}", -1, &err);
	ok(reject_write(rf, &why, "doc", doc, NULL, NULL, 0, &err), "a refused document");
	ok(reject_write(rf, &where, "raw", NULL, "{\"a\": tru", NULL, 9, &err), "a bad line as text");
	ok(reject_write(rf, &where, "raw", NULL, NULL, raw, sizeof raw, &err), "bad bytes");
	is_int(reject_count(rf), 3, "three records");
	ok(reject_close(rf, &err), "closed");
	text = slurp(path);
	has_str(text, "{\"error\": \"E11000 duplicate key \\\"x\\\"\", \"code\": 11000, \"record\": 7, \"doc\": ",
		"why and where first, the message escaped, numbers plain");
	has_str(text, "\"$numberLong\":\"5\"", "the document in canonical form");
	has_str(text, "\"record\": 3, \"line\": 3, \"offset\": 120, \"raw\": \"{\\\"a\\\": tru\"}",
		"text as a JSON string");
	has_str(text, "\"raw\": {\"bytes\":{\"$binary\":{\"base64\":\"BQAAAAE=\",\"subType\":\"00\"}}}}",
		"bytes as $binary");
	line2 = strchr(text, '\n');
	{
		bson_t *back = bson_new_from_json((const uint8_t *)text, line2 ? line2 - text : -1, &err);
		bson_iter_t it;

		ok(back && bson_iter_init_find(&it, back, "doc") && BSON_ITER_HOLDS_DOCUMENT(&it),
			"each line reads back as JSON");
		ok(back && bson_iter_init_find(&it, back, "code") && bson_iter_as_int64(&it) == 11000, "code");
		bson_destroy(back);
	}

	/* a record with no place in the input, and a document that is not
	 * valid BSON (invalid UTF-8): its bytes, never null */
	{
		static const uint8_t bad[] = {14, 0, 0, 0, 2, 's', 0, 2, 0, 0, 0, 0xff, 0, 0};
		struct reject_why nowhere = {"not valid", 0, 4, 0, 0, true};
		bson_t b;
		char *t2;

		bson_init_static(&b, bad, sizeof bad);
		unlink(path);
		rf = reject_open(path, &err);
		ok(rf && reject_write(rf, &nowhere, "event", &b, NULL, NULL, 0, &err), "an invalid document");
		ok(rf && reject_close(rf, &err), "closed");
		t2 = slurp(path);
		has_str(t2, "{\"error\": \"not valid\", \"record\": 4, \"event\": {\"bytes\":{\"$binary\":{\"base64\":"
			"\"DgAAAAJzAAIAAAD/AAA=\",", "no offset claimed; the bytes of a document that cannot be converted");
	}

	rf = reject_open("/dev/full", &err);
	ok(rf != NULL, "/dev/full opens");
	ok(!reject_write(rf, &why, "doc", doc, NULL, NULL, 0, &err), "but a write to it fails");
	is_int(err.code, MP_EX_IOERR, "74");
	ok(!reject_close(rf, &err), "and the close says so");
	ok(reject_open("/nonexistent/dir/rej", &err) == NULL && err.code == MP_EX_CANTCREAT, "cannot create: 73");
	bson_destroy(doc);
	unlink(path);
	rmdir(dir);
	bson_free(path);
	return tap_done();
}
