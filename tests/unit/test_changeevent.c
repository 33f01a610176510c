/*
 * test_changeevent.c: change events parse as MongoDB writes them, malformed
 * ones are refused with the reason, split fragments join, resume tokens order
 * by _data, and --ns-map rules map exact and wildcard namespaces.
 */
#include <string.h>

#include "changeevent.h"
#include "nsmap.h"
#include "exitcode.h"
#include "tap.h"

static bson_t *
J(const char *json)
{
	bson_error_t err;
	bson_t *b = bson_new_from_json((const uint8_t *)json, -1, &err);

	if (b == NULL)
		printf("# bad fixture: %s\n", err.message);
	return b;
}

static void
parse_fails(const char *json, const char *why)
{
	bson_t *doc = J(json);
	struct change_event ev;
	bson_error_t err;
	bool ok = change_event_parse(doc, &ev, &err);

	ok(!ok && err.code == MP_EX_DATAERR, "refused: %s", why);
	if (!ok)
		has_str(err.message, why, "the message says %s", why);
	bson_destroy(doc);
}

/* an update parses into its fields and writes a truncation, then $set/$unset */
static void
test_update_event(void)
{
	struct change_event ev;
	struct change_write w[CHANGE_MAX_WRITES];
	bson_error_t err;
	bson_t *doc;
	char *s;
	int n;

	doc = J("{\"_id\": {\"_data\": \"82AA\"}, \"operationType\": \"update\", \"clusterTime\": {\"$timestamp\": "
		"{\"t\": 1700000000, \"i\": 3}}, \"wallTime\": {\"$date\": \"2023-11-14T22:13:20Z\"}, \"ns\": {\"db\": \"shop\", "
		"\"coll\": \"users\"}, \"documentKey\": {\"_id\": 7}, \"updateDescription\": {\"updatedFields\": {\"a.b\": 1}, "
		"\"removedFields\": [\"c\"], \"truncatedArrays\": [{\"field\": \"arr\", \"newSize\": 2}]}, "
		"\"lsid\": {\"id\": 1}, \"txnNumber\": {\"$numberLong\": \"5\"}}");
	ok(change_event_parse(doc, &ev, &err), "an update event parses");
	ok(ev.op == CHANGE_UPDATE && strcmp(ev.op_name, "update") == 0, "operationType update");
	is_str(change_op_name(ev.op), "update", "change_op_name gives the operationType back");
	is_str(change_op_name(CHANGE_DROP_DATABASE), "dropDatabase", "change_op_name: dropDatabase");
	is_str(change_op_name(CHANGE_OTHER_DDL), "other", "change_op_name: the other DDL events are \"other\"");
	is_int(change_op_from_name("dropDatabase"), CHANGE_DROP_DATABASE, "change_op_from_name: dropDatabase");
	is_int(change_op_from_name("createIndexes"), CHANGE_OTHER_DDL, "change_op_from_name: any other is other DDL");
	is_int(change_op_from_name(NULL), CHANGE_OTHER_DDL, "change_op_from_name: none is other DDL");
	is_str(ev.db, "shop", "ns.db");
	is_str(ev.coll, "users", "ns.coll");
	ok(ev.has_token && ev.has_key && ev.has_update && !ev.has_full, "token, key, updateDescription, no fullDocument");
	is_int(ev.cluster_secs, 1700000000, "clusterTime seconds");
	is_int(ev.cluster_inc, 3, "clusterTime increment");
	is_int(ev.wall_ms, 1700000000000LL, "wallTime");
	ok(ev.has_txn && ev.txn_number == 5, "transaction fields");
	n = change_event_writes(&ev, false, w, &err);
	is_int(n, 2, "a truncation and an update");
	s = bson_as_relaxed_extended_json(&w[0].doc, NULL);
	is_str(s, "{ \"$push\" : { \"arr\" : { \"$each\" : [  ], \"$slice\" : 2 } } }", "the truncation first");
	bson_free(s);
	s = bson_as_relaxed_extended_json(&w[1].doc, NULL);
	is_str(s, "{ \"$set\" : { \"a.b\" : 1 }, \"$unset\" : { \"c\" : \"\" } }", "then $set and $unset");
	bson_free(s);
	ok(!w[1].upsert, "an update never upserts");
	change_writes_destroy(w, n);
	bson_destroy(doc);
}

/* an update with nothing in it writes nothing */
static void
test_empty_update(void)
{
	struct change_event ev;
	struct change_write w[CHANGE_MAX_WRITES];
	bson_error_t err;
	bson_t *doc;

	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
		"\"documentKey\": {\"_id\": 1}, \"updateDescription\": {\"updatedFields\": {}, \"removedFields\": []}}");
	ok(change_event_parse(doc, &ev, &err), "an empty update parses");
	is_int(change_event_writes(&ev, false, w, &err), 0, "and writes nothing");
	bson_destroy(doc);
}

/* --prefer-full-document replaces from the fullDocument */
static void
test_prefer_full(void)
{
	struct change_event ev;
	struct change_write w[CHANGE_MAX_WRITES];
	bson_error_t err;
	bson_t *doc;
	int n;

	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
		"\"documentKey\": {\"_id\": 1}, \"updateDescription\": {\"updatedFields\": {\"x\": 2}, \"removedFields\": []}, "
		"\"fullDocument\": {\"_id\": 1, \"x\": 2, \"y\": 3}}");
	ok(change_event_parse(doc, &ev, &err), "an update with its fullDocument");
	n = change_event_writes(&ev, true, w, &err);
	ok(n == 1 && w[0].kind == CHANGE_WRITE_REPLACE && w[0].upsert, "--prefer-full-document replaces, upsert");
	change_writes_destroy(w, n);
	n = change_event_writes(&ev, false, w, &err);
	ok(n == 1 && w[0].kind == CHANGE_WRITE_UPDATE, "otherwise the updateDescription is used");
	change_writes_destroy(w, n);
	bson_destroy(doc);
}

/* a delete removes by the whole documentKey */
static void
test_delete_by_whole_key(void)
{
	struct change_event ev;
	struct change_write w[CHANGE_MAX_WRITES];
	bson_error_t err;
	bson_t *doc;
	char *s;
	int n;

	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"delete\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
		"\"documentKey\": {\"sk\": \"eu\", \"_id\": 1}}");
	ok(change_event_parse(doc, &ev, &err), "a delete parses");
	n = change_event_writes(&ev, false, w, &err);
	s = bson_as_relaxed_extended_json(&w[0].filter, NULL);
	ok(n == 1 && w[0].kind == CHANGE_WRITE_DELETE, "deleteOne");
	is_str(s, "{ \"sk\" : \"eu\", \"_id\" : 1 }", "by the whole documentKey (shard key included)");
	bson_free(s);
	change_writes_destroy(w, n);
	bson_destroy(doc);
}

/* DDL and unknown types are control events */
static void
test_ddl_events(void)
{
	struct change_event ev;
	bson_error_t err;
	bson_t *doc;

	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"rename\", \"ns\": {\"db\": \"d\", \"coll\": \"a\"}, "
		"\"to\": {\"db\": \"d\", \"coll\": \"b\"}}");
	ok(change_event_parse(doc, &ev, &err) && ev.op == CHANGE_RENAME, "rename");
	ok(ev.to_db && strcmp(ev.to_coll, "b") == 0, "rename: to");
	bson_destroy(doc);
	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"dropDatabase\", \"ns\": {\"db\": \"d\"}}");
	ok(change_event_parse(doc, &ev, &err) && ev.op == CHANGE_DROP_DATABASE && ev.coll == NULL, "dropDatabase");
	bson_destroy(doc);
	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"invalidate\"}");
	ok(change_event_parse(doc, &ev, &err) && ev.op == CHANGE_INVALIDATE, "invalidate needs no ns");
	bson_destroy(doc);
	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"shardCollection\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}}");
	ok(change_event_parse(doc, &ev, &err) && ev.op == CHANGE_OTHER_DDL, "unknown types are control events");
	bson_destroy(doc);
}

/* malformed events are refused with the reason */
static void
test_malformed(void)
{

	parse_fails("{\"_id\": {\"_data\": \"01\"}, \"ns\": {\"db\": \"d\", \"coll\": \"c\"}}", "no operationType");
	parse_fails("{\"operationType\": \"insert\", \"documentKey\": {\"_id\": 1}, \"fullDocument\": {\"_id\": 1}}",
		"without ns");
	parse_fails("{\"operationType\": \"insert\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, \"fullDocument\": {\"_id\": 1}}",
		"without documentKey");
	parse_fails("{\"operationType\": \"replace\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, \"documentKey\": {\"_id\": 1}}",
		"without fullDocument");
	parse_fails("{\"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, \"documentKey\": {\"_id\": 1}}",
		"neither updateDescription nor fullDocument");
	parse_fails("{\"operationType\": \"rename\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}}", "without to");
	parse_fails("{\"_id\": 5, \"operationType\": \"drop\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}}", "not a document");
	parse_fails("{\"operationType\": \"insert\", \"ns\": \"d.c\", \"documentKey\": {\"_id\": 1}}", "ns is not");
	/* its write's filter would match any document */
	parse_fails("{\"operationType\": \"delete\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, \"documentKey\": {}}",
		"documentKey has no _id");
	parse_fails("{\"operationType\": \"delete\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, \"documentKey\": {\"sk\": 1}}",
		"documentKey has no _id");
}

/* numbers and strings from the stream are input data, not trusted: a
 * double is a whole number only when integral and in range (libbson's cast
 * of 1e300 is undefined), a string with a NUL byte is no name */
static void
test_untrusted_numbers_and_names(void)
{
	struct change_event ev;
	struct change_write w[CHANGE_MAX_WRITES];
	bson_error_t err;
	bson_t *doc;
	int n = 0;

	parse_fails("{\"operationType\": \"insert\", \"splitEvent\": {\"fragment\": 1e300, \"of\": 2}}",
		"splitEvent is not");
	parse_fails("{\"operationType\": \"insert\", \"splitEvent\": {\"fragment\": 1, \"of\": {\"$numberDouble\": \"NaN\"}}}",
		"splitEvent is not");
	parse_fails("{\"splitEvent\": {\"fragment\": 1, \"of\": {\"$numberLong\": \"4294967297\"}}}", "splitEvent is not");
	parse_fails("{\"splitEvent\": {\"fragment\": 1.5, \"of\": 2}}", "splitEvent is not");
	parse_fails("{\"operationType\": \"drop\", \"ns\": {\"db\": \"shop\\u0000x\", \"coll\": \"c\"}}", "ns is not");
	parse_fails("{\"operationType\": \"insert\\u0000x\", \"ns\": {\"db\": \"d\"}}", "operationType is not");
	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
		"\"documentKey\": {\"_id\": 1}, \"lsid\": {\"id\": 1}, \"txnNumber\": 1e300, "
		"\"updateDescription\": {\"updatedFields\": {}, \"removedFields\": [\"a\\u0000b\"]}}");
	ok(change_event_parse(doc, &ev, &err) && !ev.has_txn, "a txnNumber out of range is no transaction");
	ok(change_event_writes(&ev, false, w, &err) == -1 && err.code == MP_EX_DATAERR,
		"a removed path with a NUL byte is refused, not cut to another field");
	has_str(err.message, "NUL byte", "and the message says why");
	bson_destroy(doc);
	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
		"\"documentKey\": {\"_id\": 1}, \"updateDescription\": {\"updatedFields\": {\"x\": 1}, "
		"\"truncatedArrays\": [{\"field\": \"arr\", \"newSize\": 1e300}]}}");
	ok(change_event_parse(doc, &ev, &err) && change_event_writes(&ev, false, w, &err) == -1,
		"a truncatedArrays newSize out of range is refused");
	bson_destroy(doc);
	doc = J("{\"_id\": {\"_data\": \"01\"}, \"operationType\": \"update\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
		"\"documentKey\": {\"_id\": 1}, \"updateDescription\": {\"updatedFields\": {}, "
		"\"truncatedArrays\": [{\"field\": \"arr\", \"newSize\": 2.0}]}}");
	ok(change_event_parse(doc, &ev, &err) && (n = change_event_writes(&ev, false, w, &err)) == 1,
		"a whole newSize written as a double is taken");
	if (n == 1)
		change_writes_destroy(w, n);
	bson_destroy(doc);
}

/* split fragments join in order */
static void
test_split_events(void)
{
	bson_error_t err;
	bson_t *a, *b, joined;
	char *s;

	a = J("{\"_id\": {\"_data\": \"10\"}, \"operationType\": \"insert\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}, "
	      "\"documentKey\": {\"_id\": 1}, \"splitEvent\": {\"fragment\": 1, \"of\": 2}}");
	b = J("{\"_id\": {\"_data\": \"11\"}, \"fullDocument\": {\"_id\": 1, \"big\": \"x\"}, \"splitEvent\": {\"fragment\": 2, \"of\": 2}}");
	{
		const bson_t *frags[2] = {a, b};
		struct change_event ev;
		struct change_write w[CHANGE_MAX_WRITES];

		/* a fragment parses with what it carries, and is never a write */
		ok(change_event_parse(b, &ev, &err) && ev.has_split && change_event_writes(&ev, false, w, &err) < 0 &&
				strstr(err.message, "join it first") != NULL,
			"a fragment without documentKey is no write (not a filter matching any document)");
		ok(change_event_join(frags, 2, &joined, &err), "two fragments join");
		s = bson_as_relaxed_extended_json(&joined, NULL);
		is_str(s, "{ \"operationType\" : \"insert\", \"ns\" : { \"db\" : \"d\", \"coll\" : \"c\" }, \"documentKey\" : "
			  "{ \"_id\" : 1 }, \"_id\" : { \"_data\" : \"11\" }, \"fullDocument\" : { \"_id\" : 1, \"big\" : \"x\" } }",
			"fields of both, the last fragment's token, no splitEvent");
		bson_free(s);
		bson_destroy(&joined);
		frags[0] = b;
		frags[1] = a;
		ok(!change_event_join(frags, 2, &joined, &err), "fragments out of order are refused");
		bson_destroy(&joined);
	}
	bson_destroy(a);
	bson_destroy(b);
}

/* resume tokens order by _data */
static void
test_token_order(void)
{
	bson_t *a, *b;

	a = J("{\"_data\": \"8265B8C00000000101\"}");
	b = J("{\"_data\": \"8265B8C00000000201\"}");
	ok(change_token_cmp(a, b) < 0 && change_token_cmp(b, a) > 0 && change_token_cmp(a, a) == 0,
		"tokens order by _data");
	bson_destroy(b);
	b = J("{\"_data\": \"8265B8C0000000010100\"}");
	ok(change_token_cmp(a, b) < 0, "a prefix sorts first");
	bson_destroy(a);
	bson_destroy(b);
}

/* --ns-map rules: exact and wildcard */
static void
test_ns_map(void)
{
	bson_error_t err;

	{
		struct ns_map *m = ns_map_new();
		const char *db, *coll;

		ok(ns_map_add(m, "shop.orders=archive.orders2,shop.*=shop2.*", &err), "rules parse");
		ok(ns_map_apply(m, "shop", "orders", false, &db, &coll) && strcmp(db, "archive") == 0 &&
			   strcmp(coll, "orders2") == 0, "an exact rule wins when first");
		ok(ns_map_apply(m, "shop", "users", false, &db, &coll) && strcmp(db, "shop2") == 0 &&
			   strcmp(coll, "users") == 0, "a wildcard keeps the collection");
		ok(ns_map_apply(m, "shop", NULL, false, &db, &coll) && strcmp(db, "shop2") == 0 && coll == NULL,
			"a database event follows the wildcard rule");
		ok(!ns_map_apply(m, "other", "x", false, &db, &coll), "unmapped and --only-mapped: not applied");
		ok(ns_map_apply(m, "other", "x", true, &db, &coll) && strcmp(db, "other") == 0, "unmapped: kept");
		ok(!ns_map_add(m, "shop.*=shop2.x", &err) && err.code == MP_EX_USAGE, "a half wildcard is refused");
		ok(!ns_map_add(m, "nodot=a.b", &err), "a rule without db.coll is refused");
		ns_map_destroy(m);
	}
}

int
main(void)
{
	test_update_event();
	test_empty_update();
	test_prefer_full();
	test_delete_by_whole_key();
	test_ddl_events();
	test_malformed();
	test_untrusted_numbers_and_names();
	test_split_events();
	test_token_order();
	test_ns_map();
	return tap_done();
}
