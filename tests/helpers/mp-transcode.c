/*
 * mp-transcode: libbson's own converters on a whole stream, the reference
 * bench/run-transcode measures our codec (libcommon/ejson.c) against.
 *
 *   mp-transcode to-json FILE     BSON file -> canonical NDJSON on stdout
 *                                 (bson_reader + bson_as_canonical_extended_json)
 *   mp-transcode from-json FILE   NDJSON file -> BSON on stdout
 *                                 (bson_json_reader)
 */
#include <stdio.h>
#include <string.h>

#include <bson/bson.h>

static int
to_json(const char *path)
{
	bson_error_t err;
	bson_reader_t *r = bson_reader_new_from_file(path, &err);
	const bson_t *doc;
	bool eof = false;

	if (r == NULL) {
		fprintf(stderr, "mp-transcode: %s: %s\n", path, err.message);
		return 66;
	}
	while ((doc = bson_reader_read(r, &eof)) != NULL) {
		size_t n;
		char *s = bson_as_canonical_extended_json(doc, &n);

		if (s == NULL) {
			fprintf(stderr, "mp-transcode: a document libbson cannot print\n");
			return 65;
		}
		s[n] = '\n';
		fwrite(s, 1, n + 1, stdout);
		bson_free(s);
	}
	bson_reader_destroy(r);
	return eof ? 0 : 65;
}

static int
from_json(const char *path)
{
	bson_error_t err;
	bson_json_reader_t *r = bson_json_reader_new_from_file(path, &err);
	bson_t doc = BSON_INITIALIZER;
	int rc;

	if (r == NULL) {
		fprintf(stderr, "mp-transcode: %s: %s\n", path, err.message);
		return 66;
	}
	while ((rc = bson_json_reader_read(r, &doc, &err)) == 1) {
		fwrite(bson_get_data(&doc), 1, doc.len, stdout);
		bson_reinit(&doc);
	}
	bson_destroy(&doc);
	bson_json_reader_destroy(r);
	if (rc < 0) {
		fprintf(stderr, "mp-transcode: %s: %s\n", path, err.message);
		return 65;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "to-json") == 0)
		return to_json(argv[2]);
	if (argc == 3 && strcmp(argv[1], "from-json") == 0)
		return from_json(argv[2]);
	fprintf(stderr, "usage: mp-transcode to-json|from-json FILE\n");
	return 64;
}
