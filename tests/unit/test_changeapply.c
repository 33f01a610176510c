/*
 * test_changeapply.c: what applying change events decides without a
 * server: the dry run prints the writes of insert, update, replace and
 * delete events and the command of a drop or rename; --on-ddl decides stop,
 * skip or apply; items are cut into runs of one namespace; a transaction
 * prints as one; events that cannot be applied are refused with the reason.
 */
#include <string.h>
#include <unistd.h>

#include "changeapply.h"
#include "exitcode.h"
#include "nsmap.h"
#include "tap.h"

#define EV(op, rest) \
	"{\"_id\": {\"_data\": \"8201\"}, \"operationType\": \"" op "\", \"ns\": {\"db\": \"d\", \"coll\": \"c\"}" rest "}"

static struct change_item *
item(const char *json, const char *db, const char *coll)
{
	struct change_item *it = bson_malloc0(sizeof *it);
	bson_error_t err;

	it->event = bson_new_from_json((const uint8_t *)json, -1, &err);
	if (it->event == NULL || !change_event_parse(it->event, &it->ev, &err))
		printf("# bad fixture: %s\n", err.message);
	it->record = 1;
	it->db = bson_strdup(db);
	it->coll = coll ? bson_strdup(coll) : NULL;
	return it;
}

static void
item_free(struct change_item *it)
{
	bson_destroy(it->event);
	bson_free((char *)it->db);
	bson_free((char *)it->coll);
	bson_free(it);
}

/* A dry-run writer to a scratch file (relaxed JSON, for legible checks). */
static struct docstream_writer *
dry_open(char *path)
{
	struct docstream_writer_opts wo = {DOCSTREAM_NDJSON, DOCSTREAM_JSON_RELAXED, false, 0};
	bson_error_t err;
	int fd = mkstemp(path);

	close(fd);
	return docstream_writer_open(path, &wo, &err);
}

/* Close the writer and return what it printed. */
static char *
dry_text(struct docstream_writer *w, const char *path)
{
	static char buf[8192];
	bson_error_t err;
	FILE *f;
	size_t n = 0;

	docstream_writer_close(w, &err);
	docstream_writer_destroy(w);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	unlink(path);
	return buf;
}

static int
lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void
test_dry_writes(void)
{
	char path[] = "/tmp/mp-apply-XXXXXX";
	struct docstream_writer *w = dry_open(path);
	struct change_item *ins = item(EV("insert", ", \"documentKey\": {\"_id\": 1}, \"fullDocument\": {\"_id\": 1, "
					  "\"v\": 1}"), "t", "c2");
	struct change_item *upd = item(EV("update", ", \"documentKey\": {\"_id\": 2}, \"updateDescription\": "
					  "{\"updatedFields\": {\"v\": 3}, \"removedFields\": [\"x\"]}"), "d", "c");
	struct change_item *rep = item(EV("replace", ", \"documentKey\": {\"_id\": 3}, \"fullDocument\": {\"_id\": 3, "
					  "\"w\": true}"), "d", "c");
	struct change_item *del = item(EV("delete", ", \"documentKey\": {\"_id\": 4}"), "d", "c");
	bson_error_t err;
	char *text;

	ok(change_dry_writes(w, ins, false, &err), "insert printed");
	ok(change_dry_writes(w, upd, false, &err), "update printed");
	ok(change_dry_writes(w, rep, false, &err), "replace printed");
	ok(change_dry_writes(w, del, false, &err), "delete printed");
	text = dry_text(w, path);
	has_str(text, "{\"ns\":\"t.c2\",\"op\":\"replaceOne\",\"filter\":{\"_id\":1},\"replacement\":"
		"{\"_id\":1,\"v\":1},\"upsert\":true}\n", "insert: an upsert by key, in the mapped namespace");
	has_str(text, "{\"ns\":\"d.c\",\"op\":\"updateOne\",\"filter\":{\"_id\":2},\"update\":"
		"{\"$set\":{\"v\":3},\"$unset\":{\"x\":\"\"}}}\n", "update: $set and $unset, no upsert");
	has_str(text, "{\"ns\":\"d.c\",\"op\":\"replaceOne\",\"filter\":{\"_id\":3},\"replacement\":"
		"{\"_id\":3,\"w\":true},\"upsert\":true}\n", "replace: an upsert of the whole document");
	has_str(text, "{\"ns\":\"d.c\",\"op\":\"deleteOne\",\"filter\":{\"_id\":4}}\n",
		"delete: by key");
	is_int(lines(text), 4, "one line per write");
	item_free(ins);
	item_free(upd);
	item_free(rep);
	item_free(del);
}

static void
test_dry_ddl(void)
{
	char path[] = "/tmp/mp-apply-XXXXXX";
	struct docstream_writer *w = dry_open(path);
	struct ns_map *map = ns_map_new();
	struct change_apply a = {0};
	struct change_item *drop = item(EV("drop", ""), "d", "c");
	struct change_item *ren = item(EV("rename", ", \"to\": {\"db\": \"d\", \"coll\": \"n\"}"), "d", "c");
	struct change_item *dropdb = item("{\"_id\": {\"_data\": \"8202\"}, \"operationType\": \"dropDatabase\", "
		"\"ns\": {\"db\": \"d\"}}", "d", NULL);
	struct change_item *ci = item(EV("createIndexes", ""), "d", "c");
	struct change_item *mod = item(EV("modify", ""), "d", "c");
	bson_error_t err;
	char *text;

	ok(ns_map_add(map, "d.*=e.*", &err), "a map rule");
	a.dry = w;
	a.map = map;
	is_int(change_apply_ddl(&a, NULL, drop, &err), CHANGE_DDL_APPLIED, "drop: printed");
	is_int(change_apply_ddl(&a, NULL, ren, &err), CHANGE_DDL_APPLIED, "rename: printed");
	is_int(change_apply_ddl(&a, NULL, dropdb, &err), CHANGE_DDL_APPLIED, "dropDatabase: printed");
	is_int(change_apply_ddl(&a, NULL, ci, &err), CHANGE_DDL_FAILED, "createIndexes without its indexes: refused");
	ok(err.code == MP_EX_DATAERR && strstr(err.message, "showExpandedEvents"), "65, saying how to watch");
	is_int(change_apply_ddl(&a, NULL, mod, &err), CHANGE_DDL_UNSUPPORTED, "modify: not applied");
	text = dry_text(w, path);
	has_str(text, "{\"ns\":\"d.c\",\"op\":\"drop\",\"command\":{\"drop\":\"c\"}}\n",
		"drop: the command");
	has_str(text, "{\"ns\":\"d.c\",\"op\":\"rename\",\"to\":\"e.n\",\"command\":{\"renameCollection\":"
		"\"d.c\",\"to\":\"e.n\",\"dropTarget\":true}}\n", "rename: to the mapped target, dropping it");
	has_str(text, "{\"ns\":\"d\",\"op\":\"dropDatabase\",\"command\":{\"dropDatabase\":1}}\n",
		"dropDatabase: on the database");
	ok(strstr(text, "modify") == NULL && strstr(text, "createIndexes") == NULL, "nothing printed for the others");
	item_free(drop);
	item_free(ren);
	item_free(dropdb);
	item_free(ci);
	item_free(mod);
	ns_map_destroy(map);
}

static int applied_n;

static void
count_applied(void *ctx, struct change_item *const *items, int n, const struct bulk_result *res)
{
	(void)ctx;
	(void)items;
	ok(res == NULL, "a transaction has no bulk counts");
	applied_n += n;
}

static void
test_dry_txn(void)
{
	char path[] = "/tmp/mp-apply-XXXXXX";
	struct change_apply a = {0};
	struct change_item *t[2];
	bson_error_t err;
	char *text;

	t[0] = item(EV("insert", ", \"documentKey\": {\"_id\": 1}, \"fullDocument\": {\"_id\": 1}, \"lsid\": {\"id\": 9}, "
		       "\"txnNumber\": {\"$numberLong\": \"4\"}"), "d", "c");
	t[1] = item(EV("delete", ", \"documentKey\": {\"_id\": 2}, \"lsid\": {\"id\": 9}, "
		       "\"txnNumber\": {\"$numberLong\": \"4\"}"), "d", "c");
	a.dry = dry_open(path);
	a.hooks.applied = count_applied;
	ok(change_apply_txn(&a, NULL, t, 2, &err), "a transaction printed");
	is_int(applied_n, 2, "both events reported applied");
	text = dry_text(a.dry, path);
	has_str(text, "{\"ns\":\"d.c\",\"op\":\"startTransaction\",\"lsid\":{\"id\":9},\"txnNumber\":4,"
		"\"events\":2}\n{\"ns\":\"d.c\",\"op\":\"replaceOne\"", "it starts, then its writes");
	has_str(text, "\"op\":\"deleteOne\",\"filter\":{\"_id\":2}}\n{\"ns\":\"d.c\",\"op\":"
		"\"commitTransaction\"}\n", "and commits");
	item_free(t[0]);
	item_free(t[1]);
}

static void
test_no_writes(void)
{
	char path[] = "/tmp/mp-apply-XXXXXX";
	struct docstream_writer *w = dry_open(path);
	struct change_item *bad = item(EV("update", ", \"documentKey\": {\"_id\": 1}, \"updateDescription\": "
					  "{\"updatedFields\": {\"a.b\": 1}, \"disambiguatedPaths\": {\"a.b\": [\"a.b\"]}}"),
		"d", "c");
	struct change_item *none = item(EV("update", ", \"documentKey\": {\"_id\": 1}, \"updateDescription\": "
					   "{\"updatedFields\": {}, \"removedFields\": []}"), "d", "c");
	bson_error_t err;

	ok(!change_dry_writes(w, bad, false, &err) && err.code == MP_EX_DATAERR,
		"an update $set cannot express, without fullDocument: 65");
	ok(change_dry_writes(w, none, false, &err), "an update that changes nothing: fine");
	is_str(dry_text(w, path), "", "and nothing printed for either");
	item_free(bad);
	item_free(none);
}

static void
test_ddl_policy(void)
{
	static const struct {
		enum change_ddl_policy policy;
		enum change_op op;
		enum change_ddl_policy want;
		const char *what;
	} cases[] = {
		{CHANGE_DDL_STOP, CHANGE_DROP, CHANGE_DDL_STOP, "stop: a drop stops"},
		{CHANGE_DDL_STOP, CHANGE_INVALIDATE, CHANGE_DDL_STOP, "stop: an invalidate stops"},
		{CHANGE_DDL_SKIP, CHANGE_RENAME, CHANGE_DDL_SKIP, "skip: a rename is skipped"},
		{CHANGE_DDL_SKIP, CHANGE_INVALIDATE, CHANGE_DDL_SKIP, "skip: even an invalidate is skipped"},
		{CHANGE_DDL_APPLY, CHANGE_DROP_DATABASE, CHANGE_DDL_APPLY, "apply: dropDatabase is applied"},
		{CHANGE_DDL_APPLY, CHANGE_OTHER_DDL, CHANGE_DDL_APPLY, "apply: createIndexes and the like too"},
		{CHANGE_DDL_APPLY, CHANGE_INVALIDATE, CHANGE_DDL_STOP, "apply: an invalidate still stops"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_int(change_ddl_decide(cases[i].policy, cases[i].op), cases[i].want, "%s", cases[i].what);
}

static void
test_segments(void)
{
	const char *ns[][2] = {{"a", "x"}, {"a", "x"}, {"a", "y"}, {"b", "y"}, {"b", "y"}, {"b", "y"}, {"a", "x"}};
	struct change_item *it[7];
	int ends[7], n = 0;

	for (int i = 0; i < 7; i++)
		it[i] = item(EV("delete", ", \"documentKey\": {\"_id\": 1}"), ns[i][0], ns[i][1]);
	for (int i = 0; i < 7; i = ends[n++])
		ends[n] = change_segment_end(it, i, 7);
	is_int(n, 4, "four runs of one namespace");
	ok(ends[0] == 2 && ends[1] == 3 && ends[2] == 6 && ends[3] == 7,
		"a.x twice, a.y (same db, other collection), b.y (other db, same collection) three times, a.x again");
	is_int(change_segment_end(it, 6, 7), 7, "the last item is a run by itself");
	is_int(change_segment_end(it, 0, 1), 1, "a run never goes past n");

	/* keys: equal keys are one namespace, different keys two, whatever the
	 * names say; an item without a key is compared by its names */
	static const int key_ids[2];
	it[0]->ns_key = it[1]->ns_key = &key_ids[0];
	it[2]->ns_key = &key_ids[1];
	ok(change_same_ns(it[0], it[1]) && !change_same_ns(it[1], it[2]), "items with keys compare their keys");
	it[1]->ns_key = &key_ids[1];
	ok(!change_same_ns(it[0], it[1]), "different keys: different namespaces, without reading the names");
	it[3]->ns_key = &key_ids[0];
	ok(change_same_ns(it[0], it[3]), "equal keys: one namespace, whatever the names say");
	ok(change_same_ns(it[0], it[6]) && change_same_ns(it[6], it[0]), "an item without a key: its names decide");
	is_int(change_segment_end(it, 0, 7), 1, "a run ends where the key changes");
	for (int i = 0; i < 7; i++)
		item_free(it[i]);
}

int
main(void)
{
	test_dry_writes();
	test_dry_ddl();
	test_dry_txn();
	test_no_writes();
	test_ddl_policy();
	test_segments();
	return tap_done();
}
