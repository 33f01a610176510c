/*
 * test_bulkwrite.c: a bulk write counts as done only when the server said
 * so; the acknowledgement window retires work in issue order and never loses
 * its place when one unit is slow.
 */
#include <mongoc/mongoc.h>

#include "bulkwrite.h"
#include "exitcode.h"
#include "tap.h"

static bson_t *
json(const char *s)
{
	bson_error_t err;
	bson_t *b = bson_new_from_json((const uint8_t *)s, -1, &err);

	if (b == NULL)
		printf("# bad JSON in test: %s\n", err.message);
	return b;
}

static void
stream_error(bson_error_t *err)
{
	memset(err, 0, sizeof *err);
	err->domain = MONGOC_ERROR_STREAM;
	err->code = MONGOC_ERROR_STREAM_SOCKET;
	bson_strncpy(err->message, "Failed to read 4 bytes: socket error or timeout", sizeof err->message);
}

static void
write_error(bson_error_t *err, uint32_t code)
{
	memset(err, 0, sizeof *err);
	err->domain = MONGOC_ERROR_COMMAND;
	err->code = code;
	bson_strncpy(err->message, "E11000 duplicate key error", sizeof err->message);
}

/* A hang-up after the request was sent: mongoc returns failure with an empty
 * writeErrors array and nothing inserted.  That must never read as done. */
static void
test_hangup_is_unknown(void)
{
	bson_t *reply = json("{\"nInserted\": 0, \"nMatched\": 0, \"nModified\": 0, \"nRemoved\": 0, "
			     "\"nUpserted\": 0, \"writeErrors\": []}");
	struct bulk_result res;
	bson_error_t err;

	stream_error(&err);
	bulk_result_read(&res, 401, BULK_KIND_INSERT, false, false, reply, &err);
	is_int(res.outcome, BULK_UNKNOWN, "a dropped connection with an empty writeErrors array is an unknown outcome");
	is_int(res.nerrors, 0, "no write errors invented");
	has_str(res.err.message, "Failed to read", "the cause is kept");
	bulk_result_cleanup(&res);
	bson_destroy(reply);
}

static void
test_done_and_short_counts(void)
{
	bson_t *full = json("{\"nInserted\": 3, \"writeErrors\": []}");
	bson_t *short_ = json("{\"nInserted\": 2, \"writeErrors\": []}");
	bson_t *ups = json("{\"nMatched\": 1, \"nUpserted\": 2, \"nModified\": 1}");
	struct bulk_result res;

	bulk_result_read(&res, 3, BULK_KIND_INSERT, true, true, full, NULL);
	is_int(res.outcome, BULK_DONE, "all acknowledged: done");
	is_int(res.inserted, 3, "nInserted read from the reply");
	is_int(res.attempted, 3, "all attempted");
	bulk_result_cleanup(&res);

	bulk_result_read(&res, 3, BULK_KIND_INSERT, true, true, short_, NULL);
	is_int(res.outcome, BULK_UNKNOWN, "fewer inserted than sent, with no error: unknown, not done");
	has_str(res.err.message, "acknowledged 2 of 3", "the message says how many");
	bulk_result_cleanup(&res);

	bulk_result_read(&res, 3, BULK_KIND_UPSERT, true, true, ups, NULL);
	is_int(res.outcome, BULK_DONE, "upserts: matched + upserted == sent is done");
	bulk_result_cleanup(&res);

	bulk_result_read(&res, 4, BULK_KIND_UPSERT, true, true, ups, NULL);
	is_int(res.outcome, BULK_UNKNOWN, "upserts: one unaccounted for is unknown");
	bulk_result_cleanup(&res);

	bulk_result_read(&res, 9, BULK_KIND_OTHER, true, true, ups, NULL);
	is_int(res.outcome, BULK_DONE, "deletes have no count to expect");
	bulk_result_cleanup(&res);
	bson_destroy(full);
	bson_destroy(short_);
	bson_destroy(ups);
}

static void
test_write_errors(void)
{
	bson_t *ordered = json("{\"nInserted\": 1, \"writeErrors\": [{\"index\": 1, \"code\": 11000, "
			       "\"errmsg\": \"E11000 dup\"}]}");
	bson_t *unordered = json("{\"nInserted\": 2, \"writeErrors\": [{\"index\": 3, \"code\": 121, \"errmsg\": \"b\"},"
				 "{\"index\": 1, \"code\": 11000, \"errmsg\": \"a\"}]}");
	bson_t *lying = json("{\"nInserted\": 4, \"writeErrors\": [{\"index\": 1, \"code\": 11000, \"errmsg\": \"x\"}]}");
	struct bulk_result res;
	bson_error_t err;

	write_error(&err, 11000);
	bulk_result_read(&res, 4, BULK_KIND_INSERT, true, false, ordered, &err);
	is_int(res.outcome, BULK_WRITE_ERRORS, "ordered: a refused write is a write error");
	is_int(res.attempted, 2, "ordered: the writes after the refused one were never attempted");
	is_int(res.nerrors, 1, "one error");
	ok(res.nerrors == 1 && res.errors[0].index == 1 && res.errors[0].code == 11000, "its index and code");
	ok(res.nerrors == 1 && bulk_code_duplicate(res.errors[0].code), "11000 is a duplicate");
	ok(res.nerrors == 1 && !res.errors[0].on_id, "not known to be on _id from its message alone");
	bulk_result_cleanup(&res);

	bulk_result_read(&res, 4, BULK_KIND_INSERT, false, false, unordered, &err);
	is_int(res.outcome, BULK_WRITE_ERRORS, "unordered: write errors");
	is_int(res.attempted, 4, "unordered: every write was attempted");
	ok(res.nerrors == 2 && res.errors[0].index == 1 && res.errors[1].index == 3, "errors sorted by index");
	bulk_result_cleanup(&res);

	/* a server counting every document sent, refused ones included */
	bulk_result_read(&res, 4, BULK_KIND_INSERT, true, false, lying, &err);
	is_int(res.outcome, BULK_WRITE_ERRORS, "a count above what was possible is not a loss");
	bulk_result_cleanup(&res);

	stream_error(&err);
	bulk_result_read(&res, 4, BULK_KIND_INSERT, true, false, ordered, &err);
	is_int(res.outcome, BULK_UNKNOWN, "write errors then a dropped connection: unknown");
	bulk_result_cleanup(&res);
	bson_destroy(ordered);
	bson_destroy(unordered);
	bson_destroy(lying);
}

/* Which key a duplicate broke, and whether the server said at all. */
static void
test_duplicate_on_id(void)
{
	bson_t *r = json("{\"nInserted\": 0, \"writeErrors\": ["
			 "{\"index\": 0, \"code\": 11000, \"keyPattern\": {\"_id\": 1}, \"errmsg\": \"dup\"},"
			 "{\"index\": 1, \"code\": 11000, \"keyPattern\": {\"email\": 1}, \"errmsg\": \"dup\"},"
			 "{\"index\": 2, \"code\": 11000, \"errmsg\": \"E11000 duplicate key error collection: d.c "
			 "index: _id_ dup key: { _id: 3 }\"},"
			 "{\"index\": 3, \"code\": 11000, \"errmsg\": \"E11000 duplicate key error collection: d.c\"}]}");
	struct bulk_result res;
	bson_error_t err;

	write_error(&err, 11000);
	bulk_result_read(&res, 4, BULK_KIND_INSERT, false, false, r, &err);
	ok(res.nerrors == 4 && res.errors[0].on_id && res.errors[0].key_named, "keyPattern {_id: 1}: on _id");
	ok(res.nerrors == 4 && !res.errors[1].on_id && res.errors[1].key_named, "keyPattern {email: 1}: not on _id");
	ok(res.nerrors == 4 && res.errors[2].on_id && res.errors[2].key_named,
		"no keyPattern, the _id_ index named: on _id");
	ok(res.nerrors == 4 && !res.errors[3].on_id && !res.errors[3].key_named,
		"no key named at all (FerretDB 1.24): not known, left to the target");
	bulk_result_cleanup(&res);
	bson_destroy(r);
}

static void
test_write_concern_and_failure(void)
{
	bson_t *wce = json("{\"nInserted\": 2, \"writeConcernErrors\": [{\"code\": 64, \"errmsg\": \"waiting for "
			   "replication timed out\"}]}");
	bson_t *empty = json("{}");
	struct bulk_result res;
	bson_error_t err;

	memset(&err, 0, sizeof err);
	bulk_result_read(&res, 2, BULK_KIND_INSERT, true, true, wce, &err);
	is_int(res.outcome, BULK_UNKNOWN, "a write concern error is not done: write again");
	bulk_result_cleanup(&res);

	memset(&err, 0, sizeof err);
	err.domain = MONGOC_ERROR_SERVER;
	err.code = 13; /* Unauthorized */
	bson_strncpy(err.message, "not authorized", sizeof err.message);
	bulk_result_read(&res, 2, BULK_KIND_INSERT, true, false, empty, &err);
	is_int(res.outcome, BULK_FAILED, "a permanent command error fails");
	is_str(res.err.message, "not authorized", "with its message");
	bulk_result_cleanup(&res);

	err.code = 10107; /* NotWritablePrimary */
	bulk_result_read(&res, 2, BULK_KIND_INSERT, true, false, empty, &err);
	is_int(res.outcome, BULK_UNKNOWN, "NotWritablePrimary: retry");
	bulk_result_cleanup(&res);
	bson_destroy(wce);
	bson_destroy(empty);
}

static void
test_window_in_order(void)
{
	struct ackwin w;
	int items[8];
	uint64_t s[4];

	ackwin_init(&w, 3);
	for (int i = 0; i < 3; i++)
		s[i] = ackwin_issue(&w);
	ok(s[0] == 0 && s[1] == 1 && s[2] == 2, "units numbered from 0");
	ok(ackwin_full(&w), "full after `size` units");
	is_int(ackwin_pending(&w), 3, "3 pending");
	ok(ackwin_complete(&w, 2, &items[2]), "unit 2 completes first");
	ok(ackwin_complete(&w, 1, &items[1]), "then unit 1");
	ok(ackwin_retire(&w) == NULL, "nothing retires while unit 0 is out");
	ok(ackwin_full(&w), "still full: completed units wait for unit 0");
	ok(!ackwin_complete(&w, 1, &items[1]), "a unit completed twice is refused");
	ok(!ackwin_complete(&w, 3, &items[3]), "a unit never issued is refused");
	ok(ackwin_complete(&w, 0, &items[0]), "unit 0 completes");
	ok(ackwin_retire(&w) == &items[0] && ackwin_retire(&w) == &items[1] && ackwin_retire(&w) == &items[2],
		"all three retire in issue order");
	ok(ackwin_retire(&w) == NULL && !ackwin_full(&w) && ackwin_pending(&w) == 0, "then the window is empty");
	ackwin_destroy(&w, NULL);
}

/* The load's old window freed a place as soon as a batch was applied, so
 * with one slow batch later ones overwrote waiting ones and the prefix never
 * advanced again.  Here one unit stays out while many others come and go. */
static void
test_window_one_slow_unit(void)
{
	struct ackwin w;
	int items[64];
	uint64_t slow, issued = 0, retired = 0;
	int refused = 0;

	ackwin_init(&w, 5);
	slow = ackwin_issue(&w);
	issued++;
	for (int round = 0; round < 50; round++) {
		if (ackwin_full(&w))
			break; /* the issuer waits: the slow unit holds the window */
		uint64_t s = ackwin_issue(&w);

		issued++;
		if (!ackwin_complete(&w, s, &items[s % 64]))
			refused++;
		while (ackwin_retire(&w) != NULL)
			retired++;
	}
	is_int(issued, 5, "no more than the window is issued while one unit is slow");
	is_int(retired, 0, "nothing passes the slow unit");
	is_int(refused, 0, "no completion was refused or overwritten");
	ok(ackwin_complete(&w, slow, &items[0]), "the slow unit completes");
	while (ackwin_retire(&w) != NULL)
		retired++;
	is_int(retired, 5, "then every unit retires");
	for (int i = 0; i < 40; i++) {
		uint64_t s = ackwin_issue(&w);

		ackwin_complete(&w, s, &items[s % 64]);
		while (ackwin_retire(&w) != NULL)
			retired++;
	}
	is_int(retired, 45, "and the window keeps going");
	ackwin_destroy(&w, NULL);
}

static void
test_write_concern(void)
{
	bson_error_t err;
	mongoc_write_concern_t *wc;

	wc = bulk_write_concern_parse(NULL, &err);
	ok(wc && mongoc_write_concern_get_wmajority(wc), "default: majority");
	mongoc_write_concern_destroy(wc);
	wc = bulk_write_concern_parse("2", &err);
	ok(wc && mongoc_write_concern_get_w(wc) == 2, "a number");
	mongoc_write_concern_destroy(wc);
	wc = bulk_write_concern_parse("{\"w\": 1, \"j\": true, \"wtimeout\": 5000}", &err);
	ok(wc && mongoc_write_concern_get_w(wc) == 1 && mongoc_write_concern_get_journal(wc) &&
		   mongoc_write_concern_get_wtimeout_int64(wc) == 5000,
		"the document form: w, j, wtimeout");
	mongoc_write_concern_destroy(wc);
	wc = bulk_write_concern_parse("{\"w\": \"majority\"}", &err);
	ok(wc && mongoc_write_concern_get_wmajority(wc), "w as a string");
	mongoc_write_concern_destroy(wc);
	ok(bulk_write_concern_parse("0", &err) == NULL && err.code == MP_EX_USAGE,
		"w: 0 is refused: it acknowledges nothing");
	ok(bulk_write_concern_parse("{\"w\": 0}", &err) == NULL, "also as a document");
	ok(bulk_write_concern_parse("most", &err) == NULL && err.code == MP_EX_USAGE, "a word: 64");
	has_str(err.message, "not 'most'", "named");
	ok(bulk_write_concern_parse("{\"x\": 1}", &err) == NULL, "an unknown key refused");
	has_str(err.message, "'x'", "named");
	ok(bulk_write_concern_parse("{\"w\": ", &err) == NULL, "bad JSON refused");
}

int
main(void)
{
	test_write_concern();
	test_hangup_is_unknown();
	test_done_and_short_counts();
	test_write_errors();
	test_write_concern_and_failure();
	test_duplicate_on_id();
	test_window_in_order();
	test_window_one_slow_unit();
	return tap_done();
}
