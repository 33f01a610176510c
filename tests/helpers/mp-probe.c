/*
 * mp-probe: a test helper that talks to a server through mongoc, so CLI
 * tests can prove the test bed (and check results) independently of the
 * tools under test.
 *
 *   mp-probe ping URI
 *   mp-probe insert URI NS JSON...          insert documents
 *   mp-probe find URI NS [FILTER [SORT]]    print documents, canonical NDJSON
 *   mp-probe update URI NS FILTER UPDATE     updateOne, or replaceOne when UPDATE
 *                                           has no operators
 *   mp-probe delete URI NS FILTER           deleteOne
 *   mp-probe count URI NS
 *   mp-probe drop URI NS
 *   mp-probe create URI NS                  create an empty collection
 *   mp-probe dropdb URI DB
 *   mp-probe index URI NS KEYS NAME [--unique]  create an index
 *   mp-probe indexes URI NS                  print index names
 *   mp-probe command URI DB JSON             run a command, print its reply; exit
 *                                           1 (reply on stderr) if it failed
 *   mp-probe watch URI NS N [--resume-after TOKEN] [--timeout S]
 *                 [--then-insert JSON]...   open a change stream (after TOKEN,
 *                                           a JSON document), then insert the
 *                                           documents, then print N events;
 *                                           exit 1 if fewer came in S seconds
 *   mp-probe sorted FILE                    exit 0 if the _id of each NDJSON
 *                                           line sorts strictly after the last
 */
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "bsoncmp.h"
#include "conn.h"
#include "docstream.h"
#include "ejson.h"
#include "progress.h"

static bson_t *
json(const char *s)
{
	bson_error_t err;
	bson_t *b = ejson_to_bson_new(s, -1, &err);

	if (b == NULL) {
		fprintf(stderr, "mp-probe: bad JSON %s: %s\n", s, err.message);
		exit(2);
	}
	return b;
}

static void
print_doc(const bson_t *d)
{
	char *s = ejson_from_bson_new(d, EJSON_CANONICAL, NULL);

	printf("%s\n", s);
	bson_free(s);
}

static int
sorted(const char *path)
{
	struct docstream_reader *r = docstream_reader_open(path, NULL, NULL);
	bson_value_t prev = {0};
	const bson_t *doc;
	bson_error_t err;
	bson_iter_t it;
	int n = 0;

	if (r == NULL)
		return 2;
	while (docstream_read(r, &doc, &err) == 1) {
		if (!bson_iter_init_find(&it, doc, "_id"))
			return 2;
		if (n++ > 0 && bsoncmp_value(&prev, bson_iter_value(&it)) >= 0) {
			fprintf(stderr, "mp-probe: record %d is out of order\n", n);
			return 1;
		}
		bson_value_destroy(&prev);
		bson_value_copy(bson_iter_value(&it), &prev);
	}
	bson_value_destroy(&prev);
	docstream_reader_destroy(r);
	return 0;
}

/* What a subcommand on a namespace gets. */
struct probe {
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	const char *db, *cname;
	int argc;
	char **argv;
};

static int
cmd_insert(struct probe *p)
{
	bson_error_t err;
	int rc = 0;

	for (int i = 4; i < p->argc; i++) {
		bson_t *d = json(p->argv[i]);

		if (!mongoc_collection_insert_one(p->coll, d, NULL, NULL, &err)) {
			fprintf(stderr, "mp-probe: insert: %s\n", err.message);
			rc = 1;
		}
		bson_destroy(d);
	}
	return rc;
}

static int
cmd_find(struct probe *p)
{
	bson_t *filter = json(p->argc > 4 ? p->argv[4] : "{}");
	bson_t *opts = bson_new(), *sort = p->argc > 5 ? json(p->argv[5]) : NULL;
	mongoc_cursor_t *cur;
	const bson_t *d;
	bson_error_t err;
	int rc;

	BSON_APPEND_INT32(opts, "batchSize", 1000);
	if (sort)
		BSON_APPEND_DOCUMENT(opts, "sort", sort);
	cur = mongoc_collection_find_with_opts(p->coll, filter, opts, NULL);
	while (mongoc_cursor_next(cur, &d))
		print_doc(d);
	rc = mongoc_cursor_error(cur, &err) ? 1 : 0;
	if (rc)
		fprintf(stderr, "mp-probe: find: %s\n", err.message);
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	bson_destroy(opts);
	bson_destroy(sort);
	return rc;
}

static int
cmd_count(struct probe *p)
{
	bson_t *filter = json("{}");
	bson_error_t err;
	int64_t n = mongoc_collection_count_documents(p->coll, filter, NULL, NULL, NULL, &err);

	if (n < 0)
		fprintf(stderr, "mp-probe: count: %s\n", err.message);
	else
		printf("%lld\n", (long long)n);
	bson_destroy(filter);
	return n < 0;
}

static int
cmd_update(struct probe *p)
{
	bson_t *filter, *u;
	bson_iter_t it;
	bson_error_t err;
	bool ops, ok;

	if (p->argc < 6)
		return 2;
	filter = json(p->argv[4]);
	u = json(p->argv[5]);
	ops = bson_iter_init(&it, u) && bson_iter_next(&it) && bson_iter_key(&it)[0] == '$';
	ok = ops ? mongoc_collection_update_one(p->coll, filter, u, NULL, NULL, &err)
		 : mongoc_collection_replace_one(p->coll, filter, u, NULL, NULL, &err);
	if (!ok)
		fprintf(stderr, "mp-probe: update: %s\n", err.message);
	bson_destroy(filter);
	bson_destroy(u);
	return ok ? 0 : 1;
}

static int
cmd_delete(struct probe *p)
{
	bson_t *filter;
	bson_error_t err;
	int rc;

	if (p->argc < 5)
		return 2;
	filter = json(p->argv[4]);
	rc = mongoc_collection_delete_one(p->coll, filter, NULL, NULL, &err) ? 0 : 1;
	if (rc)
		fprintf(stderr, "mp-probe: delete: %s\n", err.message);
	bson_destroy(filter);
	return rc;
}

static int
cmd_index(struct probe *p)
{
	bson_t *keys, *cmd;
	bson_error_t err;
	bool unique;
	int rc;

	if (p->argc < 6)
		return 2;
	keys = json(p->argv[4]);
	unique = p->argc >= 7 && strcmp(p->argv[6], "--unique") == 0;
	cmd = BCON_NEW("createIndexes", BCON_UTF8(p->cname), "indexes", "[", "{", "key", BCON_DOCUMENT(keys), "name",
		BCON_UTF8(p->argv[5]), "unique", BCON_BOOL(unique), "}", "]");
	rc = mongoc_client_command_simple(p->client, p->db, cmd, NULL, NULL, &err) ? 0 : 1;
	if (rc)
		fprintf(stderr, "mp-probe: createIndexes: %s\n", err.message);
	bson_destroy(cmd);
	bson_destroy(keys);
	return rc;
}

static int
cmd_indexes(struct probe *p)
{
	mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(p->coll, NULL);
	const bson_t *d;
	bson_iter_t it;
	bson_error_t err;
	int rc;

	while (mongoc_cursor_next(cur, &d))
		if (bson_iter_init_find(&it, d, "name"))
			printf("%s\n", bson_iter_utf8(&it, NULL));
	rc = mongoc_cursor_error(cur, &err) ? 1 : 0;
	mongoc_cursor_destroy(cur);
	return rc;
}

static int
cmd_create(struct probe *p)
{
	mongoc_database_t *d = mongoc_client_get_database(p->client, p->db);
	bson_error_t err;
	mongoc_collection_t *made = mongoc_database_create_collection(d, p->cname, NULL, &err);
	int rc = made ? 0 : 1;

	mongoc_collection_destroy(made);
	mongoc_database_destroy(d);
	return rc;
}

static int
cmd_drop(struct probe *p)
{
	bson_error_t err;

	return mongoc_collection_drop(p->coll, &err) || strstr(err.message, "not found") ? 0 : 1;
}

/* The change stream's options from --resume-after and --timeout. */
static void
watch_options(struct probe *p, bson_t *opts, double *timeout)
{
	for (int i = 5; i + 1 < p->argc; i += 2) {
		if (strcmp(p->argv[i], "--resume-after") == 0) {
			bson_t *tok = json(p->argv[i + 1]);

			BSON_APPEND_DOCUMENT(opts, "resumeAfter", tok);
			bson_destroy(tok);
		} else if (strcmp(p->argv[i], "--timeout") == 0) {
			*timeout = atof(p->argv[i + 1]);
		}
	}
	BSON_APPEND_INT64(opts, "maxAwaitTimeMS", 200);
}

static void
watch_then_insert(struct probe *p)
{
	bson_error_t err;

	for (int i = 5; i + 1 < p->argc; i += 2) {
		if (strcmp(p->argv[i], "--then-insert") == 0) {
			bson_t *d = json(p->argv[i + 1]);

			if (!mongoc_collection_insert_one(p->coll, d, NULL, NULL, &err))
				fprintf(stderr, "mp-probe: insert: %s\n", err.message);
			bson_destroy(d);
		}
	}
}

static int
cmd_watch(struct probe *p)
{
	int want, got = 0;
	bson_t *pipeline, *opts;
	mongoc_change_stream_t *cs;
	const bson_t *ev;
	bson_error_t err;
	double timeout = 10, until;

	if (p->argc < 5)
		return 2;
	want = atoi(p->argv[4]);
	pipeline = json("{\"pipeline\": []}");
	opts = bson_new();
	watch_options(p, opts, &timeout);
	cs = mongoc_collection_watch(p->coll, pipeline, opts);
	if (mongoc_change_stream_error_document(cs, &err, NULL)) {
		fprintf(stderr, "mp-probe: watch: %s\n", err.message);
		want = -1;
	}
	watch_then_insert(p);
	until = mp_now() + timeout;
	while (got < want && mp_now() < until) {
		if (mongoc_change_stream_next(cs, &ev)) {
			print_doc(ev);
			got++;
		} else if (mongoc_change_stream_error_document(cs, &err, NULL)) {
			fprintf(stderr, "mp-probe: watch: %s\n", err.message);
			break;
		}
	}
	mongoc_change_stream_destroy(cs);
	bson_destroy(pipeline);
	bson_destroy(opts);
	return got == want ? 0 : 1;
}

static const struct {
	const char *name;
	int (*run)(struct probe *p);
} ns_cmds[] = {
	{"insert", cmd_insert}, {"find", cmd_find}, {"count", cmd_count}, {"update", cmd_update},
	{"delete", cmd_delete}, {"index", cmd_index}, {"indexes", cmd_indexes}, {"create", cmd_create},
	{"drop", cmd_drop}, {"watch", cmd_watch},
};

/* The subcommands that take no namespace: ping, dropdb, command; -1 for
 * any other. */
static int
server_cmd(mongoc_client_t *client, int argc, char **argv)
{
	bson_error_t err;
	int rc = -1;

	if (strcmp(argv[1], "ping") == 0) {
		if ((rc = conn_ping(client, &err) ? 0 : 1))
			fprintf(stderr, "mp-probe: %s\n", err.message);
	} else if (argc == 4 && strcmp(argv[1], "dropdb") == 0) {
		mongoc_database_t *d = mongoc_client_get_database(client, argv[3]);

		rc = mongoc_database_drop(d, &err) ? 0 : 1;
		mongoc_database_destroy(d);
	} else if (argc == 5 && strcmp(argv[1], "command") == 0) {
		bson_t *cmd = json(argv[4]), reply;

		if ((rc = mongoc_client_command_simple(client, argv[3], cmd, NULL, &reply, &err) ? 0 : 1))
			fprintf(stderr, "mp-probe: command: %s\n", err.message);
		else
			print_doc(&reply);
		bson_destroy(&reply);
		bson_destroy(cmd);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct probe p = {NULL, NULL, NULL, NULL, argc, argv};
	bson_error_t err;
	char *db = NULL, *cname = NULL;
	int rc = 1;

	if (argc >= 3 && strcmp(argv[1], "sorted") == 0)
		return sorted(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "usage: mp-probe ping|insert|find|count|drop|watch|command URI [NS ...]\n");
		return 2;
	}
	mongoc_init();
	p.client = conn_client_new(argv[2], "mp-probe", &err);
	if (p.client == NULL) {
		fprintf(stderr, "mp-probe: %s\n", err.message);
		return 2;
	}
	if ((rc = server_cmd(p.client, argc, argv)) >= 0)
		goto out;
	rc = 1;
	if (argc < 4 || !conn_split_ns(argv[3], &db, &cname, &err)) {
		fprintf(stderr, "mp-probe: a namespace is needed\n");
		goto out;
	}
	p.db = db;
	p.cname = cname;
	p.coll = mongoc_client_get_collection(p.client, db, cname);
	for (size_t i = 0; i < sizeof ns_cmds / sizeof ns_cmds[0]; i++)
		if (strcmp(argv[1], ns_cmds[i].name) == 0) {
			if ((rc = ns_cmds[i].run(&p)) == 2)
				fprintf(stderr, "mp-probe: %s: too few arguments\n", argv[1]);
			goto out;
		}
	fprintf(stderr, "mp-probe: unknown command %s\n", argv[1]);
out:
	bson_free(db);
	bson_free(cname);
	mongoc_collection_destroy(p.coll);
	mongoc_client_destroy(p.client);
	mongoc_cleanup();
	return rc;
}
