/*
 * test_docstream.c: the document stream reader and writer: formats,
 * detection, gzip, and every malformed-stream case with its position.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "docstream.h"
#include "ejson.h"
#include "exitcode.h"
#include "tap.h"

static char tmpdir[] = "/tmp/mp-unit-XXXXXX";

/* A growable byte buffer (bson_string_t stops at NUL bytes). */
struct bytes {
	char *str;
	size_t len;
};

static struct bytes *
bytes_new(void)
{
	return bson_malloc0(sizeof(struct bytes));
}

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	b->str = bson_realloc(b->str, b->len + n + 1);
	memcpy(b->str + b->len, p, n);
	b->len += n;
}

static void
bytes_free(struct bytes *b)
{
	bson_free(b->str);
	bson_free(b);
}

static char *
write_file(const char *name, const void *data, size_t len)
{
	char *path = bson_strdup_printf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

/* Three small BSON documents back to back: {_id:1,a:"x"}, {_id:2}, {_id:3}. */
static void
three_docs(struct bytes *out)
{
	for (int i = 1; i <= 3; i++) {
		bson_t d = BSON_INITIALIZER;

		BSON_APPEND_INT32(&d, "_id", i);
		if (i == 1)
			BSON_APPEND_UTF8(&d, "a", "x");
		bytes_add(out, bson_get_data(&d), d.len);
		bson_destroy(&d);
	}
}

struct outcome {
	int good;          /* documents delivered before the error */
	int rc;            /* last docstream_read result */
	bool cont;         /* could go on after the error */
	char msg[512];
	uint32_t code;
};

static struct outcome
read_all(const char *path, const struct docstream_reader_opts *opts)
{
	struct outcome o = {0};
	bson_error_t err;
	const bson_t *doc;
	struct docstream_reader *r = docstream_reader_open(path, opts, &err);

	if (r == NULL) {
		o.rc = -2;
		bson_strncpy(o.msg, err.message, sizeof o.msg);
		o.code = err.code;
		return o;
	}
	while ((o.rc = docstream_read(r, &doc, &err)) == 1)
		o.good++;
	if (o.rc < 0) {
		bson_strncpy(o.msg, err.message, sizeof o.msg);
		o.code = err.code;
		o.cont = docstream_reader_can_continue(r);
	}
	docstream_reader_destroy(r);
	return o;
}

static void
test_bson_ok(void)
{
	struct bytes *s = bytes_new();
	char *p;
	struct outcome o;

	three_docs(s);
	p = write_file("ok.bson", s->str, s->len);
	o = read_all(p, NULL);
	is_int(o.good, 3, "BSON: three documents read");
	is_int(o.rc, 0, "BSON: clean end of stream");
	p = (bson_free(p), write_file("empty", "", 0));
	o = read_all(p, NULL);
	ok(o.good == 0 && o.rc == 0, "empty input is zero documents");
	bson_free(p);
	bytes_free(s);
}

/* Each malformed BSON case: the good records before it are delivered, the
 * error is exit status 65 and names record and byte offset. */
static void
bson_case(const char *name, const char *tail, size_t tail_len, const char *want, const char *where)
{
	struct bytes *s = bytes_new();
	char *p;
	struct outcome o;

	three_docs(s);
	bytes_add(s, tail, tail_len);
	p = write_file(name, s->str, s->len);
	o = read_all(p, NULL);
	is_int(o.good, 3, "%s: the 3 valid documents before it are delivered", name);
	is_int(o.rc, -1, "%s: reported as an error", name);
	is_int(o.code, MP_EX_DATAERR, "%s: exit status 65", name);
	has_str(o.msg, want, "%s: says what is wrong", name);
	has_str(o.msg, where, "%s: names the record and byte offset", name);
	ok(!o.cont, "%s: a framing error ends the stream", name);
	bson_free(p);
	bytes_free(s);
}

static void
test_bson_malformed(void)
{
	/* the three documents take 23 + 14 + 14 = 51 bytes: record 4 at 51 */
	const char truncated_prefix[] = {0x10, 0x00};
	const char short_len[] = {0x04, 0x00, 0x00, 0x00};
	const char huge[] = {0x00, 0x00, 0x00, 0x7f, 0, 0, 0, 0};
	const char no_term[] = {0x08, 0x00, 0x00, 0x00, 0x0a, 0x61, 0x00, 0x01};
	const char truncated_doc[] = {0x20, 0x00, 0x00, 0x00, 0x10, 0x5f, 0x69, 0x64, 0x00};

	bson_case("truncated-prefix", truncated_prefix, sizeof truncated_prefix,
		"truncated length prefix", "record 4 at byte offset 51");
	bson_case("length-below-5", short_len, sizeof short_len, "invalid document length 4",
		"record 4 at byte offset 51");
	bson_case("length-over-limit", huge, sizeof huge, "exceeds the limit", "record 4 at byte offset 51");
	bson_case("missing-terminator", no_term, sizeof no_term, "NUL terminator",
		"record 4 at byte offset 51");
	bson_case("truncated-last-document", truncated_doc, sizeof truncated_doc, "truncated document",
		"record 4 at byte offset 51");
}

static void
test_bson_invalid_utf8(void)
{
	struct bytes *s = bytes_new();
	/* {s: "\xff"}: well framed, invalid UTF-8 inside; then {_id: 9} */
	const char bad[] = {0x0e, 0, 0, 0, 0x02, 's', 0, 0x02, 0, 0, 0, (char)0xff, 0, 0};
	bson_t after = BSON_INITIALIZER;
	struct docstream_reader *r;
	const bson_t *doc;
	bson_error_t err;
	char *p;
	int rc, good = 0;

	three_docs(s);
	bytes_add(s, bad, sizeof bad);
	BSON_APPEND_INT32(&after, "_id", 9);
	bytes_add(s, bson_get_data(&after), after.len);
	p = write_file("bad-utf8.bson", s->str, s->len);
	r = docstream_reader_open(p, NULL, &err);
	while ((rc = docstream_read(r, &doc, &err)) == 1)
		good++;
	is_int(good, 3, "invalid UTF-8 in BSON: 3 good documents first");
	has_str(err.message, "record 4 at byte offset 51", "invalid UTF-8 in BSON: position named");
	has_str(err.message, "UTF-8", "invalid UTF-8 in BSON: cause named");
	ok(docstream_reader_can_continue(r), "invalid UTF-8 in BSON: the record can be skipped");
	{
		size_t rawlen;
		const uint8_t *raw = docstream_reader_raw(r, &rawlen);

		ok(raw && rawlen == sizeof bad && memcmp(raw, bad, rawlen) == 0,
			"the raw bytes of the bad record are available for --reject");
	}
	rc = docstream_read(r, &doc, &err);
	ok(rc == 1 && bson_has_field(doc, "_id"), "the document after the bad one is read");
	is_int(docstream_read(r, &doc, &err), 0, "then a clean end");
	docstream_reader_destroy(r);
	bson_destroy(&after);
	bson_free(p);
	bytes_free(s);
}

static void
test_ndjson(void)
{
	const char *text = "{\"_id\": 1}\n\n{\"_id\": {\"$numberLong\": \"2\"}, \"d\": {\"$date\": \"2020-01-01T00:00:00Z\"}}\r\n"
			   "   \n{\"_id\": 3}";
	char *p = write_file("ok.ndjson", text, strlen(text));
	struct docstream_reader *r;
	bson_error_t err;
	const bson_t *doc;
	bson_iter_t it;
	int n = 0;

	r = docstream_reader_open(p, NULL, &err);
	ok(r != NULL, "NDJSON opens");
	while (docstream_read(r, &doc, &err) == 1) {
		n++;
		if (n == 2)
			ok(bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_INT64(&it) &&
					bson_iter_init_find(&it, doc, "d") && BSON_ITER_HOLDS_DATE_TIME(&it),
				"NDJSON: Extended JSON types are kept (int64, date)");
	}
	is_int(n, 3, "NDJSON: blank lines skipped, CRLF and a last line without newline accepted");
	is_int(docstream_reader_format(r), DOCSTREAM_NDJSON, "NDJSON detected");
	docstream_reader_destroy(r);
	bson_free(p);
}

static void
ndjson_case(const char *name, const char *text, size_t len, int good, const char *want, const char *where)
{
	char *p = write_file(name, text, len);
	struct outcome o = read_all(p, NULL);

	is_int(o.good, good, "%s: valid lines before it delivered", name);
	is_int(o.code, MP_EX_DATAERR, "%s: exit status 65", name);
	has_str(o.msg, want, "%s: says what is wrong", name);
	has_str(o.msg, where, "%s: names the record and line", name);
	ok(o.cont, "%s: the bad line can be skipped", name);
	bson_free(p);
}

static void
test_ndjson_malformed(void)
{
	static const char bad_json[] = "{\"_id\": 1}\n{\"_id\": 2}\n{\"_id\": 3,}\n{\"_id\": 4}\n";
	static const char bad_utf8[] = "{\"_id\": 1}\n{\"s\": \"\xc3\x28\"}\n";
	static const char not_object[] = "{\"_id\": 1}\n[1, 2]\n";

	ndjson_case("invalid-json", bad_json, sizeof bad_json - 1, 2, "invalid JSON", "record 3 (line 3");
	ndjson_case("invalid-utf8-json", bad_utf8, sizeof bad_utf8 - 1, 1, "invalid UTF-8", "record 2 (line 2");
	ndjson_case("json-array-line", not_object, sizeof not_object - 1, 1, "expected a JSON object",
		"record 2 (line 2");
}

static void
test_mix(void)
{
	/* BSON first, then a JSON line: the JSON text is read as a length */
	struct bytes *s = bytes_new();
	char *p;
	struct outcome o;
	/* NDJSON first, then BSON bytes with NULs */
	static const char json_then_bson[] = "{\"_id\": 1}\n\x0c\x00\x00\x00\x10x\x00\x01\x00\x00\x00\x00\n";

	three_docs(s);
	bytes_add(s, "{\"_id\": 4}\n", 11);
	p = write_file("bson-then-json", s->str, s->len);
	o = read_all(p, NULL);
	is_int(o.good, 3, "BSON then NDJSON: the BSON documents are delivered");
	has_str(o.msg, "NDJSON mixed into a BSON stream", "BSON then NDJSON: the mix is named");
	has_str(o.msg, "record 4 at byte offset 51", "BSON then NDJSON: position named");
	bson_free(p);
	p = write_file("json-then-bson", json_then_bson, sizeof json_then_bson - 1);
	o = read_all(p, NULL);
	is_int(o.good, 1, "NDJSON then BSON: the JSON line is delivered");
	has_str(o.msg, "BSON mixed into an NDJSON stream", "NDJSON then BSON: the mix is named");
	has_str(o.msg, "record 2 (line 2", "NDJSON then BSON: line named");
	bson_free(p);
	bytes_free(s);
}

static void
test_gzip_roundtrip(void)
{
	struct docstream_writer_opts wo = {.format = DOCSTREAM_BSON, .gzip = true};
	char *p = bson_strdup_printf("%s/out.bson.gz", tmpdir);
	struct docstream_writer *w;
	struct docstream_reader *r;
	bson_error_t err;
	const bson_t *doc;
	int n = 0, i;
	bool all = true;
	unsigned char magic[2] = {0};
	FILE *f;

	w = docstream_writer_open(p, &wo, &err);
	for (i = 0; i < 50000 && w; i++) {
		bson_t d = BSON_INITIALIZER;

		BSON_APPEND_INT32(&d, "_id", i);
		BSON_APPEND_UTF8(&d, "pad", "some text that compresses well, some text that compresses well");
		all = all && docstream_write(w, &d, &err);
		if (i == 100)
			all = all && docstream_flush(w, &err);
		bson_destroy(&d);
	}
	ok(all && docstream_writer_close(w, &err), "gzip BSON written (with a sync flush in the middle)");
	docstream_writer_destroy(w);
	f = fopen(p, "rb");
	ok(f && fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b, "output is gzip");
	if (f)
		fclose(f);
	r = docstream_reader_open(p, NULL, &err);
	while (docstream_read(r, &doc, &err) == 1) {
		bson_iter_t it;

		if (!bson_iter_init_find(&it, doc, "_id") || bson_iter_int32(&it) != n)
			break;
		n++;
	}
	ok(docstream_reader_gzip(r), "reader detects gzip");
	is_int(n, 50000, "all 50000 documents come back in order through gzip");
	docstream_reader_destroy(r);
	bson_free(p);
}

/* A gzip stream cut inside a multi-line object: the error is the cut
 * stream's, not an object left open at a clean end. */
static void
test_gzip_truncated_pretty(void)
{
	char *p = bson_strdup_printf("%s/pretty.json.gz", tmpdir), *q, *buf;
	gzFile gz = gzopen(p, "wb");
	struct outcome o;
	struct stat st;
	FILE *f;

	gzputs(gz, "{\"_id\": 1}\n{\n");
	for (int i = 0; i < 20000; i++)
		gzprintf(gz, "  \"k%d\": %d,\n", i, i * 7919 % 1000003);
	gzputs(gz, "  \"_id\": 2\n}\n");
	gzclose(gz);
	stat(p, &st);
	buf = bson_malloc((size_t)st.st_size);
	f = fopen(p, "rb");
	fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	q = write_file("pretty-cut.json.gz", buf, (size_t)st.st_size / 2);
	o = read_all(q, NULL);
	ok(o.good == 1 && o.rc == -1 && strstr(o.msg, "JSON") == NULL,
		"a gzip stream cut inside a pretty object: the cut is the error (%s)", o.msg);
	bson_free(buf);
	bson_free(p);
	bson_free(q);
}

static void
test_gzip_truncated(void)
{
	/* a gzip stream cut in half */
	char *p = bson_strdup_printf("%s/cut.bson.gz", tmpdir), *q;
	struct docstream_writer_opts wo = {.format = DOCSTREAM_BSON, .gzip = true};
	struct docstream_writer *w = docstream_writer_open(p, &wo, NULL);
	struct outcome o;
	struct stat st;
	bson_error_t err;
	char *buf;
	FILE *f;

	for (int i = 0; i < 2000; i++) {
		bson_t d = BSON_INITIALIZER;

		BSON_APPEND_INT32(&d, "_id", i);
		BSON_APPEND_DOUBLE(&d, "x", i * 1.5);
		docstream_write(w, &d, &err);
		bson_destroy(&d);
	}
	docstream_writer_close(w, &err);
	docstream_writer_destroy(w);
	stat(p, &st);
	buf = bson_malloc((size_t)st.st_size);
	f = fopen(p, "rb");
	fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	q = write_file("cut2.bson.gz", buf, (size_t)st.st_size / 2);
	o = read_all(q, NULL);
	ok(o.rc == -1 && o.code == MP_EX_DATAERR, "truncated gzip is an error (65), not a clean end");
	ok(o.good > 0 && o.good < 2000, "truncated gzip: the documents before the cut are delivered");
	bson_free(buf);
	bson_free(p);
	bson_free(q);
}

static void
test_writer_ndjson(void)
{
	struct docstream_writer_opts canon = {.format = DOCSTREAM_NDJSON};
	struct docstream_writer_opts relaxed = {.format = DOCSTREAM_NDJSON, .json = DOCSTREAM_JSON_RELAXED};
	char *p = bson_strdup_printf("%s/out.ndjson", tmpdir);
	bson_t d = BSON_INITIALIZER;
	bson_error_t err;
	char text[256] = {0};
	FILE *f;
	struct docstream_writer *w;

	BSON_APPEND_INT64(&d, "n", 5);
	w = docstream_writer_open(p, &canon, &err);
	docstream_write(w, &d, &err);
	ok(access(p, F_OK) != 0, "nothing appears at the path before close");
	ok(docstream_writer_close(w, &err), "closed");
	docstream_writer_destroy(w);
	f = fopen(p, "r");
	fread(text, 1, sizeof text - 1, f);
	fclose(f);
	is_str(text, "{\"n\":{\"$numberLong\":\"5\"}}\n", "canonical Extended JSON line");
	w = docstream_writer_open(p, &relaxed, &err);
	docstream_write(w, &d, &err);
	docstream_writer_close(w, &err);
	docstream_writer_destroy(w);
	memset(text, 0, sizeof text);
	f = fopen(p, "r");
	fread(text, 1, sizeof text - 1, f);
	fclose(f);
	is_str(text, "{\"n\":5}\n", "relaxed Extended JSON line");
	w = docstream_writer_open(p, &relaxed, &err);
	docstream_write(w, &d, &err);
	docstream_writer_destroy(w);
	f = fopen(p, "r");
	memset(text, 0, sizeof text);
	fread(text, 1, sizeof text - 1, f);
	fclose(f);
	is_str(text, "{\"n\":5}\n", "a writer destroyed without close leaves the old file untouched");
	bson_destroy(&d);
	bson_free(p);
}

static void
test_writer_errors(void)
{
	int fd = open("/dev/full", O_WRONLY);
	struct docstream_writer *w;
	bson_t d = BSON_INITIALIZER;
	bson_error_t err;
	bool ok1;
	int pipefd[2];

	BSON_APPEND_INT32(&d, "_id", 1);
	w = docstream_writer_open_fd(fd, "/dev/full", NULL, &err);
	ok1 = docstream_write(w, &d, &err) && docstream_flush(w, &err);
	ok(!ok1 && err.code == MP_EX_IOERR, "a full disk (ENOSPC) is exit status 74");
	has_str(err.message, "No space left", "ENOSPC is named");
	docstream_writer_destroy(w);
	close(fd);

	signal(SIGPIPE, SIG_IGN);
	pipe(pipefd);
	close(pipefd[0]);
	w = docstream_writer_open_fd(pipefd[1], "(stdout)", NULL, &err);
	ok1 = docstream_write(w, &d, &err) && docstream_flush(w, &err);
	ok(!ok1 && docstream_writer_broken_pipe(w) && err.code == MP_EX_PIPE,
		"a closed pipe (EPIPE) is reported as such, exit status 141");
	docstream_writer_destroy(w);
	close(pipefd[1]);
	bson_destroy(&d);

	w = docstream_writer_open("/nonexistent-dir/x.bson", NULL, &err);
	ok(w == NULL && err.code == MP_EX_CANTCREAT, "an uncreatable output is exit status 73");
	{
		struct outcome o = read_all("/nonexistent-dir/x.bson", NULL);

		ok(o.rc == -2 && o.code == MP_EX_NOINPUT, "a missing input is exit status 66");
	}
}

static void
test_large_doc(void)
{
	/* a 5 MB document crosses the read-ahead buffer and the write buffer */
	bson_t d = BSON_INITIALIZER;
	char *big = bson_malloc(5 * 1024 * 1024);
	char *p = bson_strdup_printf("%s/big.bson", tmpdir);
	struct docstream_writer *w;
	struct docstream_reader *r;
	struct docstream_reader_opts small = {.max_doc = 1024 * 1024};
	const bson_t *doc;
	bson_error_t err;

	memset(big, 'x', 5 * 1024 * 1024 - 1);
	big[5 * 1024 * 1024 - 1] = '\0';
	BSON_APPEND_UTF8(&d, "big", big);
	w = docstream_writer_open(p, NULL, &err);
	docstream_write(w, &d, &err);
	docstream_write(w, &d, &err);
	docstream_writer_close(w, &err);
	docstream_writer_destroy(w);
	r = docstream_reader_open(p, NULL, &err);
	ok(docstream_read(r, &doc, &err) == 1 && doc->len == d.len, "5 MB document read back");
	ok(docstream_read(r, &doc, &err) == 1 && doc->len == d.len, "second 5 MB document read back");
	docstream_reader_destroy(r);
	r = docstream_reader_open(p, &small, &err);
	ok(docstream_read(r, &doc, &err) == -1 && strstr(err.message, "exceeds the limit of 1048576"),
		"--max-doc style limit applies");
	docstream_reader_destroy(r);
	bson_destroy(&d);
	bson_free(big);
	bson_free(p);
}

/* Doubles in their shortest exact form in both JSON modes, spelled as the
 * corpus spells them, and every output reads back to the same BSON through
 * our reader and through libbson's. */
static void
test_json_doubles(void)
{
	static const struct {
		double v;
		const char *relaxed, *canonical;
	} cases[] = {
		{19.99, "19.99", "19.99"},
		{0.1, "0.1", "0.1"},
		{0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
		{5.0, "5.0", "5.0"},
		{-0.0, "-0.0", "-0.0"},
		{-355.15, "-355.15", "-355.15"},
		{2.5e-8, "0.000000025", "0.000000025"},
		{1e300, "1E+300", "1E+300"},
		{1.0 / 3.0, "0.333333333333333", NULL},
		{9007199254740993.0, "9007199254740992.0", "9007199254740992.0"},
		{123456789012345678.0, "1.2345678901234568E+17", "1.2345678901234568E+17"},
		{1e-310, "1E-310", "1E-310"},
		{5e-324, "5E-324", "5E-324"},
		{1.2345678921232e18, "1.2345678921232E+18", "1.2345678921232E+18"},
	};
	bson_error_t err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bson_t d = BSON_INITIALIZER, *back;
		char *r, *c, want[96];
		size_t n;

		BSON_APPEND_DOUBLE(&d, "x", cases[i].v);
		r = docstream_to_json(&d, DOCSTREAM_JSON_RELAXED, &n);
		c = docstream_to_json(&d, DOCSTREAM_JSON_CANONICAL, NULL);
		bson_snprintf(want, sizeof want, "{\"x\":%s}", cases[i].relaxed);
		if (cases[i].v == 1.0 / 3.0)
			ok(strncmp(r, "{\"x\":0.33333333333333", 21) == 0 && n == strlen(r),
				"relaxed 1/3 keeps the digits it needs");
		else
			is_str(r, want, "relaxed %s", cases[i].relaxed);
		if (cases[i].canonical) {
			bson_snprintf(want, sizeof want, "{\"x\":{\"$numberDouble\":\"%s\"}}", cases[i].canonical);
			is_str(c, want, "canonical %s", cases[i].canonical);
		}
		back = bson_new_from_json((const uint8_t *)r, -1, &err);
		ok(back && bson_equal(back, &d), "relaxed %s reads back to the same double (libbson)", cases[i].relaxed);
		bson_destroy(back);
		back = ejson_to_bson_new(c, -1, &err);
		ok(back && bson_equal(back, &d), "canonical %s reads back to the same double", cases[i].relaxed);
		bson_destroy(back);
		back = ejson_to_bson_new(r, -1, &err);
		ok(back && bson_equal(back, &d), "relaxed %s reads back to the same double", cases[i].relaxed);
		bson_destroy(back);
		bson_free(r);
		bson_free(c);
		bson_destroy(&d);
	}
	{
		/* strings, escapes, integers, non-finite values and nesting around the doubles */
		const char *in = "{\"s\": \"19.989999999999998437 \\\" 0.5\", \"i\": {\"$numberLong\": \"9223372036854775807\"},"
			" \"n\": {\"$numberDouble\": \"NaN\"}, \"a\": [1.5, {\"b\": 0.1}], \"k\": \"$numberDouble\","
			" \"m\": {\"$numberDouble\": \"-Infinity\"}, \"z\": 0.25}";
		bson_t *d = bson_new_from_json((const uint8_t *)in, -1, &err), *back;
		char *r = docstream_to_json(d, DOCSTREAM_JSON_RELAXED, NULL);
		char *c = docstream_to_json(d, DOCSTREAM_JSON_CANONICAL, NULL);

		is_str(r, "{\"s\":\"19.989999999999998437 \\\" 0.5\",\"i\":9223372036854775807,"
			"\"n\":{\"$numberDouble\":\"NaN\"},\"a\":[1.5,{\"b\":0.1}],\"k\":\"$numberDouble\","
			"\"m\":{\"$numberDouble\":\"-Infinity\"},\"z\":0.25}", "relaxed: strings, integers, non-finite doubles");
		has_str(c, "\"a\":[{\"$numberDouble\":\"1.5\"},{\"b\":{\"$numberDouble\":\"0.1\"}}]",
			"canonical: doubles inside arrays and documents");
		has_str(c, "\"z\":{\"$numberDouble\":\"0.25\"}", "canonical: the double after NaN and -Infinity");
		back = bson_new_from_json((const uint8_t *)c, -1, &err);
		ok(back && bson_equal(back, d), "canonical output reads back to the same document");
		bson_destroy(back);
		bson_free(r);
		bson_free(c);
		bson_destroy(d);
	}
	{
		/* the scope of code with scope is written in the same mode */
		bson_t d = BSON_INITIALIZER, scope = BSON_INITIALIZER, *back;
		char *r, *c;

		BSON_APPEND_DOUBLE(&scope, "a", 0.1);
		BSON_APPEND_CODE_WITH_SCOPE(&d, "c", "f()", &scope);
		BSON_APPEND_DOUBLE(&d, "x", 0.7);
		BSON_APPEND_DOUBLE(&d, "y", 0.25);
		r = docstream_to_json(&d, DOCSTREAM_JSON_RELAXED, NULL);
		c = docstream_to_json(&d, DOCSTREAM_JSON_CANONICAL, NULL);
		is_str(r, "{\"c\":{\"$code\":\"f()\",\"$scope\":{\"a\":0.1}},\"x\":0.7,\"y\":0.25}",
			"a double in a code-with-scope scope");
		back = bson_new_from_json((const uint8_t *)c, -1, &err);
		ok(back && bson_equal(back, &d), "code with scope: canonical output reads back the same");
		bson_destroy(back);
		bson_free(r);
		bson_free(c);
		bson_destroy(&scope);
		bson_destroy(&d);
	}
	{
		/* a document with a "$numberDouble" key of its own is a document */
		bson_t d = BSON_INITIALIZER, sub = BSON_INITIALIZER;
		char *r;

		BSON_APPEND_UTF8(&sub, "$numberDouble", "12.50");
		BSON_APPEND_UTF8(&sub, "more", "x");
		BSON_APPEND_DOCUMENT(&d, "odd", &sub);
		BSON_APPEND_DOUBLE(&d, "x", 0.1);
		r = docstream_to_json(&d, DOCSTREAM_JSON_RELAXED, NULL);
		is_str(r, "{\"odd\":{\"$numberDouble\":\"12.50\",\"more\":\"x\"},\"x\":0.1}",
			"a \"$numberDouble\" key: written as it is");
		bson_free(r);
		bson_destroy(&sub);
		bson_destroy(&d);
	}
}

/* What libbson 1.23 lets through and the Extended JSON specification does
 * not: each is refused with 65 on its line, and the reader goes on. */
static void
test_ndjson_strict(void)
{
	static const char *bad[][2] = {
		{"{\"d\": {\"$numberDecimal\": \"Infi\"}}", "$numberDecimal: \"Infi\" is not a Decimal128"},
		{"{\"d\": {\"$numberDecimal\": \"1e\"}}", "$numberDecimal: \"1e\" is not a Decimal128"},
		{"{\"d\": {\"$numberDecimal\": \"7e10000\"}}", "\"7e10000\" is not a Decimal128"},
		{"{\"d\": {\"$numberDecimal\": \"1E-6177\"}}", "\"1E-6177\" is not a Decimal128"},
		{"{\"d\": {\"$numberDecimal\": \" 1\"}}", "\" 1\" is not a Decimal128"},
		{"{\"a\": {\"$date\": 42}}", "$date: takes an ISO-8601 string"},
		{"{\"x\": [{\"a\": {\"$d\\u0061te\": 42}}]}", "$date: takes an ISO-8601 string"},
		{"{\"a\": {\"$oid\": \"56e1fc72e0c917e9c471416\"}}", "an ObjectId is 24 hex digits"},
		{"{\"a\": {\"$numberInt\": \"2147483648\"}}", "is not a 32-bit integer"},
		{"{\"a\": {\"$binary\": {\"base64\": \"//8\", \"subType\": \"00\"}}}", "invalid base64"},
		{"{\"a\": {\"$date\": \"2012-02-30T00:00:00Z\"}}", "$date: takes an ISO-8601 string"},
		{"{\"a\": \"\\ud800\"}", "unpaired UTF-16 surrogate"},
		{"{\"a\": 1,}", "expected a field name (column 9)"},
		{"{\"a\": 01}", "leading zero"},
		{"{\"d\": {\"$numberDecimal\": \"12\\u00003\"}}", "is not a Decimal128"},
		{"{\"x\": {\"$binary\": {\"base64\": \"AB==\", \"subType\": \"00\"}}}", "invalid base64"},
		{"{\"d\": {\"$date\": \"2020-01-01T00:00:00+01:\"}}", "$date: takes an ISO-8601 string"},
		{"{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 2, \"t\": 3}}}", "field \"t\" given twice"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *text = bson_strdup_printf("{\"_id\": 1}\n%s\n{\"_id\": 3}\n", bad[i][0]);
		char *p = write_file("strict.ndjson", text, strlen(text));
		struct docstream_reader *r = docstream_reader_open(p, NULL, NULL);
		const bson_t *doc;
		bson_error_t err;

		ok(docstream_read(r, &doc, &err) == 1, "%s: the line before is read", bad[i][0]);
		ok(docstream_read(r, &doc, &err) == -1 && err.code == MP_EX_DATAERR, "%s: refused with 65",
			bad[i][0]);
		has_str(err.message, bad[i][1], "%s: says why", bad[i][0]);
		has_str(err.message, "record 2 (line 2, byte offset 11)", "%s: names record and line", bad[i][0]);
		ok(docstream_reader_can_continue(r) && docstream_read(r, &doc, &err) == 1 &&
				docstream_read(r, &doc, &err) == 0,
			"%s: the line after is read", bad[i][0]);
		docstream_reader_destroy(r);
		bson_free(p);
		bson_free(text);
	}
	{
		/* what the specification allows still reads */
		const char *text = "{\"d\": {\"$numberDecimal\": \"-1.5E+3\"}, \"n\": {\"$numberDecimal\": \"NaN\"},"
				   " \"t\": {\"$date\": \"2012-12-24T12:15:30.501Z\"}, \"u\": {\"$date\": {\"$numberLong\": \"-1\"}},"
				   " \"s\": \"$date\", \"k\": {\"$date\": \"1970-01-01T00:00:00Z\"}}\n";
		char *p = write_file("strict-ok.ndjson", text, strlen(text));
		struct outcome o = read_all(p, NULL);

		ok(o.good == 1 && o.rc == 0, "valid decimals and dates read (%s)", o.msg);
		bson_free(p);
	}
}

/* libbson cuts "$code" at \u0000; the reader keeps it whole, in code and
 * in code with scope, nested in documents and arrays. */
static void
test_ndjson_code_nul(void)
{
	/* libbson reads {"$code": ...} inside a scope as a plain document: it
	 * takes no place among the code elements */
	const char *text = "{\"a\": {\"$code\": \"ab\\u0000bab\\u0000babab\"}, \"x\": [{\"c\": {\"$code\": \"\\u00e9\\u0000d\","
			   " \"$scope\": {\"in\": {\"$code\": \"f\"}, \"n\": 1}}}, {\"$code\": \"plain\\u0000z\"}]}\n";
	char *p = write_file("code.ndjson", text, strlen(text));
	struct docstream_reader *r = docstream_reader_open(p, NULL, NULL);
	const bson_t *doc;
	bson_error_t err;
	bson_iter_t it, sub;
	uint32_t len = 0, slen = 0;
	const uint8_t *sdata;
	const char *code;

	ok(docstream_read(r, &doc, &err) == 1, "$code with NUL characters reads (%s)", err.message);
	ok(bson_iter_init_find(&it, doc, "a") && BSON_ITER_HOLDS_CODE(&it) && (code = bson_iter_code(&it, &len)) &&
			len == 12 && memcmp(code, "ab\0bab\0babab", 13) == 0 && strcmp(code + 7, "babab") == 0,
		"$code keeps every character after a NUL (length %u)", len);
	ok(bson_iter_init_find(&it, doc, "x") && bson_iter_recurse(&it, &sub) && bson_iter_next(&sub) &&
			bson_iter_recurse(&sub, &it) && bson_iter_find(&it, "c") && BSON_ITER_HOLDS_CODEWSCOPE(&it) &&
			(code = bson_iter_codewscope(&it, &len, &slen, &sdata)) && len == 4 &&
			memcmp(code, "\xc3\xa9\0d", 4) == 0,
		"code with scope keeps its code whole");
	{
		bson_t scope;
		bson_iter_t in;

		ok(bson_init_static(&scope, sdata, slen) && bson_iter_init_find(&in, &scope, "in") &&
				bson_iter_init_find(&in, &scope, "n") && bson_iter_int32(&in) == 1,
			"the scope is kept");
	}
	ok(bson_iter_next(&sub) && BSON_ITER_HOLDS_CODE(&sub) && (code = bson_iter_code(&sub, &len)) && len == 7 &&
			memcmp(code, "plain\0z", 7) == 0,
		"the code after a scope is whole, in its place");
	docstream_reader_destroy(r);
	bson_free(p);
}

/* A DBPointer whose namespace is not UTF-8 is refused like any string. */
static void
test_bson_dbpointer_utf8(void)
{
	/* {a: DBPointer("\xe9", 56e1fc72e0c917e9c4714161)}, then {_id: 9} */
	static const uint8_t bad[] = {0x1a, 0, 0, 0, 0x0c, 'a', 0, 0x02, 0, 0, 0, 0xe9, 0, 0x56, 0xe1, 0xfc, 0x72,
				      0xe0, 0xc9, 0x17, 0xe9, 0xc4, 0x71, 0x41, 0x61, 0};
	struct bytes *s = bytes_new();
	bson_t after = BSON_INITIALIZER;
	char *p;
	struct docstream_reader *r;
	const bson_t *doc;
	bson_error_t err;

	bytes_add(s, bad, sizeof bad);
	BSON_APPEND_INT32(&after, "_id", 9);
	bytes_add(s, bson_get_data(&after), after.len);
	p = write_file("dbpointer.bson", s->str, s->len);
	r = docstream_reader_open(p, NULL, NULL);
	ok(docstream_read(r, &doc, &err) == -1 && err.code == MP_EX_DATAERR, "DBPointer with invalid UTF-8: 65");
	has_str(err.message, "record 1 at byte offset 0: invalid BSON: invalid UTF-8", "DBPointer: position and cause");
	ok(docstream_reader_can_continue(r) && docstream_read(r, &doc, &err) == 1, "DBPointer: the next record reads");
	docstream_reader_destroy(r);
	bson_destroy(&after);
	bson_free(p);
	bytes_free(s);
}

/* A document with no Extended JSON form: the writer's error names the
 * record it came from (its source reader), or its own output record. */
static void
test_writer_unrepresentable(void)
{
	const char bad[] = {0x0e, 0, 0, 0, 0x02, 's', 0, 0x02, 0, 0, 0, (char)0xff, 0, 0};
	struct docstream_reader_opts ro = {.no_validate = true};
	struct docstream_writer_opts wo = {.format = DOCSTREAM_NDJSON};
	struct bytes *s = bytes_new();
	struct docstream_reader *r;
	struct docstream_writer *w;
	const bson_t *doc;
	bson_error_t err;
	char *in, *out = bson_strdup_printf("%s/unrepresentable.ndjson", tmpdir);
	int n = 0;
	bool wrote = true;

	three_docs(s);
	bytes_add(s, bad, sizeof bad);
	in = write_file("unrepresentable.bson", s->str, s->len);
	r = docstream_reader_open(in, &ro, &err);
	w = docstream_writer_open(out, &wo, &err);
	docstream_writer_set_source(w, r);
	while (wrote && docstream_read(r, &doc, &err) == 1 && (wrote = docstream_write(w, doc, &err)))
		n++;
	ok(!wrote && n == 3, "the fourth record cannot be written as JSON");
	is_int(err.code, MP_EX_DATAERR, "exit status 65");
	has_str(err.message, "unrepresentable.bson: record 4 at byte offset 51: document cannot be represented",
		"names the input file, record and byte offset");
	has_str(err.message, "invalid UTF-8 in field 's'", "says why");
	docstream_writer_set_source(w, NULL);
	ok(!docstream_write(w, doc, &err), "without a source: refused too");
	has_str(err.message, "unrepresentable.ndjson: output record 4: document cannot", "names the output record");
	docstream_writer_destroy(w);
	docstream_reader_destroy(r);
	bson_free(in);
	bson_free(out);
	bytes_free(s);
}

/* Every record of a text, going on after bad ones: what each read gave,
 * "ok <_id>" or "bad <line>: <message tail>", one per line. */
static char *
read_every_n(const char *name, const char *text, size_t len)
{
	char *p = write_file(name, text, len);
	struct docstream_reader *r = docstream_reader_open(p, NULL, NULL);
	bson_string_t *out = bson_string_new("");
	const bson_t *doc;
	bson_error_t err;
	int rc;

	while ((rc = docstream_read(r, &doc, &err)) != 0) {
		bson_iter_t it;

		if (rc == 1) {
			bson_string_append_printf(out, "ok %d\n",
				bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_INT32(&it) ? bson_iter_int32(&it) : -1);
			continue;
		}
		bson_string_append_printf(out, "bad %llu: %s\n", (unsigned long long)docstream_reader_line(r),
			strstr(err.message, "): ") ? strstr(err.message, "): ") + 3 : err.message);
		if (!docstream_reader_can_continue(r))
			break;
	}
	docstream_reader_destroy(r);
	bson_free(p);
	return bson_string_free(out, false);
}

static char *
read_every(const char *name, const char *text)
{
	return read_every_n(name, text, strlen(text));
}

/* JSON as people write it: pretty objects over several lines, several
 * objects on a line, a top-level array (jq ., jq -s, mongoexport
 * --jsonArray); a bad record still names its line and the next is read. */
static void
test_ndjson_as_written(void)
{
	char *got;

	got = read_every("pretty.json", "{\n  \"_id\": 1,\n  \"a\": {\n    \"b\": [1,\n 2]\n  }\n}\n{\"_id\": 2}\n");
	is_str(got, "ok 1\nok 2\n", "a pretty object over six lines, then a line");
	bson_free(got);
	got = read_every("concat.json", "{\"_id\": 1}{\"_id\": 2} {\"_id\": 3}\n{\"_id\": 4}");
	is_str(got, "ok 1\nok 2\nok 3\nok 4\n", "several objects on a line, the last line without a newline");
	bson_free(got);
	got = read_every("array.json", "[{\"_id\": 1}, {\"_id\": 2},\n {\"_id\": 3}]\n");
	is_str(got, "ok 1\nok 2\nok 3\n", "a top-level array of objects");
	bson_free(got);
	got = read_every("array-pretty.json", "[\n  {\n    \"_id\": 1\n  },\n  {\n    \"_id\": 2\n  }\n]\n{\"_id\": 3}\n");
	is_str(got, "ok 1\nok 2\nok 3\n", "jq -s output, then an object after the array");
	bson_free(got);
	got = read_every("bad-pretty.json", "{\"_id\": 1}\n{\n  \"_id\": 2,\n  \"b\": tru\n}\n{\"_id\": 3}\n");
	is_str(got, "ok 1\nbad 2: invalid JSON: unexpected character 't' (line 4, column 8)\nok 3\n",
		"a bad pretty object: named by its line, the error by line and column, the next one read");
	bson_free(got);
	got = read_every("open.json", "{\"_id\": 1, \"a\": \"x}\n{\"_id\": 2, \"b\": {\n{\"_id\": 3}\n");
	is_str(got, "bad 1: invalid JSON: unterminated string (column 17)\n"
		    "bad 2: invalid JSON: unexpected end of text (column 18)\nok 3\n",
		"objects left open end at the next line that starts one: no record swallows the next");
	bson_free(got);
	got = read_every_n("nul.json", "{\"_id\": 1}\n{\"a\": 1\0}{\"x\": 2}\n{\"_id\": 3}\n", 40);
	is_str(got, "ok 1\nbad 2: NUL byte in a JSON line (BSON mixed into an NDJSON stream?)\nok 3\n",
		"a NUL byte: the rest of its line goes with the bad record");
	bson_free(got);
}

/* The parser, the writer and the BSON check agree on how deep a document
 * may be: 201 levels (the top one and 200 below it), wrappers not counted. */
static void
test_json_depth(void)
{
	for (int levels = 200; levels <= 202; levels++) {
		bson_string_t *t = bson_string_new("");
		struct ejson_buf b = {0}, out = {0};
		struct ejson_error e;
		char why[128] = "";
		bool parsed, written, checked;

		for (int i = 0; i < levels; i++)
			bson_string_append(t, "{\"a\":");
		bson_string_append(t, "{\"$date\":{\"$numberLong\":\"1\"}}");
		for (int i = 0; i < levels; i++)
			bson_string_append(t, "}");
		parsed = ejson_parse(t->str, t->len, &b, &e);
		written = parsed && ejson_write(b.p, b.len, EJSON_CANONICAL, &out, why, sizeof why);
		checked = parsed && docstream_check_bytes(b.p, b.len, why, sizeof why);
		if (levels <= 201)
			ok(parsed && written && checked, "%d levels: parsed, written and checked (%s)", levels,
				parsed ? why : e.msg);
		else
			ok(!parsed && strstr(e.msg, "nesting deeper than 200 levels"), "%d levels: refused by the parser (%s)",
				levels, e.msg);
		bson_string_free(t, true);
		ejson_buf_free(&b);
		ejson_buf_free(&out);
	}
}

/* Relaxed dates after year 9999 are written in the canonical form, as the
 * specification asks. */
static void
test_json_late_dates(void)
{
	bson_t d = BSON_INITIALIZER, sub = BSON_INITIALIZER, *back;
	bson_error_t err;
	char *r;

	BSON_APPEND_DATE_TIME(&d, "a", INT64_C(253402300800000));
	BSON_APPEND_DATE_TIME(&sub, "b", INT64_C(253402300799999));
	BSON_APPEND_DOUBLE(&sub, "x", 0.1);
	BSON_APPEND_DATE_TIME(&sub, "c", INT64_MAX);
	BSON_APPEND_DATE_TIME(&sub, "e", -1);
	BSON_APPEND_DOCUMENT(&d, "s", &sub);
	r = docstream_to_json(&d, DOCSTREAM_JSON_RELAXED, NULL);
	is_str(r, "{\"a\":{\"$date\":{\"$numberLong\":\"253402300800000\"}},\"s\":{\"b\":{\"$date\":"
		  "\"9999-12-31T23:59:59.999Z\"},\"x\":0.1,\"c\":{\"$date\":{\"$numberLong\":"
		  "\"9223372036854775807\"}},\"e\":{\"$date\":{\"$numberLong\":\"-1\"}}}}",
		"relaxed: dates after 9999 (and before 1970) in canonical form, 9999 as a string");
	back = ejson_to_bson_new(r, -1, &err);
	ok(back && bson_equal(back, &d), "relaxed output with late dates reads back the same (%s)", back ? "" : err.message);
	bson_destroy(back);
	bson_free(r);
	bson_destroy(&sub);
	bson_destroy(&d);
}

/* A query operator {"$type": <number>} is a document, both ways. */
static void
test_json_type_operator(void)
{
	bson_t d = BSON_INITIALIZER, q = BSON_INITIALIZER, l = BSON_INITIALIZER, x = BSON_INITIALIZER, *back;
	bson_error_t err;
	char *r;

	BSON_APPEND_INT32(&q, "$type", 2);
	BSON_APPEND_DOCUMENT(&d, "q", &q);
	BSON_APPEND_INT64(&l, "$type", 5);
	BSON_APPEND_DOCUMENT(&d, "l", &l);
	BSON_APPEND_DOUBLE(&x, "$type", 0.5);
	BSON_APPEND_DOCUMENT(&d, "x", &x);
	BSON_APPEND_INT32(&d, "n", 7);
	r = docstream_to_json(&d, DOCSTREAM_JSON_RELAXED, NULL);
	is_str(r, "{\"q\":{\"$type\":2},\"l\":{\"$type\":5},\"x\":{\"$type\":0.5},\"n\":7}",
		"relaxed: a number under \"$type\" is a plain number");
	back = ejson_to_bson_new(r, -1, &err);
	{
		char *again = back ? docstream_to_json(back, DOCSTREAM_JSON_RELAXED, NULL) : NULL;

		ok(again && strcmp(again, r) == 0, "relaxed {\"$type\": number} reads back as a document (%s)",
			back ? "" : err.message);
		bson_free(again);
	}
	bson_destroy(back);
	bson_free(r);
	bson_destroy(&q);
	bson_destroy(&l);
	bson_destroy(&x);
	bson_destroy(&d);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_bson_ok();
	test_bson_malformed();
	test_bson_invalid_utf8();
	test_ndjson();
	test_ndjson_malformed();
	test_ndjson_as_written();
	test_json_depth();
	test_mix();
	test_gzip_roundtrip();
	test_gzip_truncated();
	test_gzip_truncated_pretty();
	test_writer_ndjson();
	test_writer_errors();
	test_large_doc();
	test_json_doubles();
	test_ndjson_strict();
	test_ndjson_code_nul();
	test_bson_dbpointer_utf8();
	test_writer_unrepresentable();
	test_json_late_dates();
	test_json_type_operator();
	{
		char *cmd = bson_strdup_printf("rm -rf %s", tmpdir);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
		bson_free(cmd);
	}
	return tap_done();
}
