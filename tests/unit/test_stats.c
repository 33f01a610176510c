/*
 * test_stats.c: the stats stream writes one parseable JSON line per record
 * with the fields mongo-report reads, an exit record for a failed run, and
 * a record it cannot write turns a good run into a failure (74).
 */
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "stats.h"
#include "tap.h"

/* Each record of the stats stream is one JSON line with the fields
 * mongo-report reads; extra fields are appended. */
static void
test_records(void)
{
	char path[] = "/tmp/mp-stats-XXXXXX", line[2048];
	bson_t extra = BSON_INITIALIZER, *rec;
	bson_error_t err;
	bson_iter_t it;
	struct stats *s;
	int fd = mkstemp(path), lines = 0;
	FILE *f;

	close(fd);
	s = stats_open(path, -1, "mongo-test", &err);
	ok(s != NULL, "stats file opens");
	BSON_APPEND_INT64(&extra, "rejected", 2);
	ok(stats_emit(s, "progress", "shop.orders", 10, 2500, 0, NULL), "progress record");
	ok(stats_emit(s, "summary", "shop.orders", 20, 5000, 1, &extra), "summary record");
	stats_close(s);
	f = fopen(path, "r");
	while (fgets(line, sizeof line, f)) {
		lines++;
		rec = bson_new_from_json((const uint8_t *)line, -1, &err);
		ok(rec != NULL, "line %d is JSON", lines);
		if (rec == NULL)
			continue;
		ok(bson_iter_init_find(&it, rec, "tool") && strcmp(bson_iter_utf8(&it, NULL), "mongo-test") == 0,
			"line %d names the tool", lines);
		ok(bson_iter_init_find(&it, rec, "docs") && bson_iter_as_int64(&it) == 10 * lines,
			"line %d has docs", lines);
		ok(bson_has_field(rec, "elapsed_s") && bson_has_field(rec, "rate_docs_s") &&
				bson_has_field(rec, "bytes") && bson_has_field(rec, "errors") && bson_has_field(rec, "time"),
			"line %d has bytes, errors, elapsed_s, rate_docs_s, time", lines);
		if (lines == 2)
			ok(bson_iter_init_find(&it, rec, "rejected") && bson_iter_as_int64(&it) == 2,
				"extra fields are appended");
		bson_destroy(rec);
	}
	fclose(f);
	is_int(lines, 2, "two records, one line each");
	unlink(path);
	bson_destroy(&extra);
}

static void
test_no_stats(void)
{
	bson_error_t err;
	struct stats *s = stats_open(NULL, -1, "mongo-test", &err);

	ok(s && stats_emit(s, "summary", NULL, 1, 1, 0, NULL) && !stats_due(s), "no stats requested writes nothing");
	stats_close(s);
	ok(stats_open("/nonexistent-dir/s.ndjson", -1, "t", &err) == NULL, "an uncreatable stats file is an error");
}

/* The exit record: the status, and the last error line when it failed. */
static void
test_exit_records(void)
{
	char path2[] = "/tmp/mp-stats-XXXXXX", line[2048];
	bson_t *rec;
	bson_error_t err;
	bson_iter_t it;
	struct stats *s;
	int fd = mkstemp(path2), lines = 0;
	FILE *f;

	close(fd);
	s = stats_open(path2, -1, "mongo-test", &err);
	stats_finish(s, "shop.orders", 0);
	s = stats_open(path2, -1, "mongo-test", &err);
	stats_finish(s, "shop.orders", 1);
	s = stats_open(path2, -1, "mongo-test", &err);
	diag_error("source down");
	stats_finish(s, "shop.orders", 65);
	s = stats_open(path2, -1, "mongo-test", &err);
	diag_error("server unavailable: no server at 127.0.0.1:1");
	stats_finish(s, NULL, 69);
	stats_finish(NULL, "x", 1);
	f = fopen(path2, "r");
	while (fgets(line, sizeof line, f)) {
		lines++;
		rec = bson_new_from_json((const uint8_t *)line, -1, &err);
		ok(rec && bson_iter_init_find(&it, rec, "type") && strcmp(bson_iter_utf8(&it, NULL), "exit") == 0,
			"exit record %d", lines);
		ok(rec && bson_iter_init_find(&it, rec, "status") && bson_iter_as_int64(&it) == (lines == 1 ? 65 : 69),
			"exit record %d has the status", lines);
		if (lines == 1)
			ok(rec && bson_has_field(rec, "ns") && bson_iter_init_find(&it, rec, "error") &&
					strcmp(bson_iter_utf8(&it, NULL), "source down") == 0,
				"status 65: ns and the error");
		else
			ok(rec && !bson_has_field(rec, "ns") && bson_iter_init_find(&it, rec, "error") &&
					strcmp(bson_iter_utf8(&it, NULL), "server unavailable: no server at 127.0.0.1:1") == 0,
				"status 69: the last error line, no ns");
		bson_destroy(rec);
	}
	fclose(f);
	is_int(lines, 2, "an exit record for each failed run, none for 0 and 1");
	unlink(path2);
}

/* A failed run whose last error quoted a byte that is not UTF-8, cut in
 * the middle of a character: the exit record is still written. */
static void
test_exit_record_not_utf8(void)
{
	char path2[] = "/tmp/mp-stats-XXXXXX", line[2048];
	bson_t *rec;
	bson_error_t err;
	bson_iter_t it;
	struct stats *s;
	int fd;
	FILE *f;

	fd = mkstemp(path2);
	close(fd);
	s = stats_open(path2, -1, "mongo-test", &err);
	ok(!stats_emit(s, "summary", "shop.\xff", 1, 1, 0, NULL) && !stats_ok(s, &err) && err.code == MP_EX_SOFTWARE,
		"a record that cannot be JSON is an error, not a crash");
	{
		char long_msg[1100];

		memset(long_msg, 'x', sizeof long_msg - 1);
		long_msg[sizeof long_msg - 1] = '\0';
		memcpy(long_msg + 1012, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);
		diag_error("at \"\xc3\": %s", long_msg);
	}
	stats_finish(s, "shop.orders", 65);
	f = fopen(path2, "r");
	ok(fgets(line, sizeof line, f) != NULL, "the exit record is written");
	rec = bson_new_from_json((const uint8_t *)line, -1, &err);
	ok(rec && bson_iter_init_find(&it, rec, "error") && strncmp(bson_iter_utf8(&it, NULL), "at \"?\": xxx", 10) == 0,
		"its error is the last error line, made valid UTF-8");
	bson_destroy(rec);
	fclose(f);
	unlink(path2);
}

/* A full disk (/dev/full): the first lost record is kept, the work goes
 * on, and the run that would have ended well ends 74 instead. */
static void
test_lost_records(void)
{
	bson_error_t err;
	struct stats *s;

	s = stats_open("/dev/full", -1, "mongo-test", &err);
	if (s == NULL) {
		skip(4, "no /dev/full here");
		return;
	}
	ok(!stats_emit(s, "progress", "a.b", 1, 1, 0, NULL), "a record on a full disk is lost");
	ok(!stats_ok(s, &err) && err.code == MP_EX_IOERR && strstr(err.message, "/dev/full") != NULL,
		"the failure is kept, naming the file");
	ok(!stats_emit(s, "summary", "a.b", 2, 2, 0, NULL), "later records are dropped");
	is_int(stats_finish(s, "a.b", 0), MP_EX_IOERR, "a run that went well ends 74: its summary is lost");
	s = stats_open("/dev/full", -1, "mongo-test", &err);
	stats_emit(s, "summary", "a.b", 2, 2, 0, NULL);
	is_int(stats_finish(s, "a.b", 1), MP_EX_IOERR, "so does one that found differences (1)");
	s = stats_open("/dev/full", -1, "mongo-test", &err);
	stats_emit(s, "summary", "a.b", 2, 2, 0, NULL);
	is_int(stats_finish(s, "a.b", MP_EX_UNAVAILABLE), MP_EX_UNAVAILABLE, "a run that failed keeps its own status");
	s = stats_open(NULL, -1, "mongo-test", &err);
	is_int(stats_finish(s, NULL, 0), 0, "no stats asked for: nothing to lose");
}

int
main(void)
{
	diag_init("test_stats");
	test_records();
	test_no_stats();
	test_exit_records();
	test_exit_record_not_utf8();
	test_lost_records();
	return tap_done();
}
