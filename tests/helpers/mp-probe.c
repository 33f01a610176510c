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

int
main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll = NULL;
	bson_error_t err;
	char *db = NULL, *cname = NULL;
	int rc = 1;

	if (argc >= 3 && strcmp(argv[1], "sorted") == 0)
		return sorted(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "usage: mp-probe ping|insert|find|count|drop|watch URI [NS ...]\n");
		return 2;
	}
	mongoc_init();
	client = conn_client_new(argv[2], "mp-probe", &err);
	if (client == NULL) {
		fprintf(stderr, "mp-probe: %s\n", err.message);
		return 2;
	}
	if (strcmp(argv[1], "ping") == 0) {
		rc = conn_ping(client, &err) ? 0 : 1;
		if (rc)
			fprintf(stderr, "mp-probe: %s\n", err.message);
		goto out;
	}
	if (argc == 4 && strcmp(argv[1], "dropdb") == 0) {
		mongoc_database_t *d = mongoc_client_get_database(client, argv[3]);

		rc = mongoc_database_drop(d, &err) ? 0 : 1;
		mongoc_database_destroy(d);
		goto out;
	}
	if (argc < 4 || !conn_split_ns(argv[3], &db, &cname, &err)) {
		fprintf(stderr, "mp-probe: a namespace is needed\n");
		goto out;
	}
	coll = mongoc_client_get_collection(client, db, cname);
	if (strcmp(argv[1], "insert") == 0) {
		rc = 0;
		for (int i = 4; i < argc; i++) {
			bson_t *d = json(argv[i]);

			if (!mongoc_collection_insert_one(coll, d, NULL, NULL, &err)) {
				fprintf(stderr, "mp-probe: insert: %s\n", err.message);
				rc = 1;
			}
			bson_destroy(d);
		}
	} else if (strcmp(argv[1], "find") == 0) {
		bson_t *filter = json(argc > 4 ? argv[4] : "{}");
		bson_t *opts = bson_new(), *sort = argc > 5 ? json(argv[5]) : NULL;
		mongoc_cursor_t *cur;
		const bson_t *d;

		BSON_APPEND_INT32(opts, "batchSize", 1000);
		if (sort)
			BSON_APPEND_DOCUMENT(opts, "sort", sort);
		cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
		while (mongoc_cursor_next(cur, &d))
			print_doc(d);
		rc = mongoc_cursor_error(cur, &err) ? 1 : 0;
		if (rc)
			fprintf(stderr, "mp-probe: find: %s\n", err.message);
		mongoc_cursor_destroy(cur);
		bson_destroy(filter);
		bson_destroy(opts);
		bson_destroy(sort);
	} else if (strcmp(argv[1], "count") == 0) {
		bson_t *filter = json("{}");
		int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &err);

		if (n < 0)
			fprintf(stderr, "mp-probe: count: %s\n", err.message);
		else
			printf("%lld\n", (long long)n);
		rc = n < 0;
		bson_destroy(filter);
	} else if (strcmp(argv[1], "update") == 0 && argc >= 6) {
		bson_t *filter = json(argv[4]), *u = json(argv[5]);
		bson_iter_t it;
		bool ops = bson_iter_init(&it, u) && bson_iter_next(&it) && bson_iter_key(&it)[0] == '$';
		bool ok = ops ? mongoc_collection_update_one(coll, filter, u, NULL, NULL, &err)
			      : mongoc_collection_replace_one(coll, filter, u, NULL, NULL, &err);

		rc = ok ? 0 : 1;
		if (!ok)
			fprintf(stderr, "mp-probe: update: %s\n", err.message);
		bson_destroy(filter);
		bson_destroy(u);
	} else if (strcmp(argv[1], "delete") == 0 && argc >= 5) {
		bson_t *filter = json(argv[4]);

		rc = mongoc_collection_delete_one(coll, filter, NULL, NULL, &err) ? 0 : 1;
		if (rc)
			fprintf(stderr, "mp-probe: delete: %s\n", err.message);
		bson_destroy(filter);
	} else if (strcmp(argv[1], "index") == 0 && argc >= 6) {
		bson_t *keys = json(argv[4]);
		bool unique = argc >= 7 && strcmp(argv[6], "--unique") == 0;
		bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(cname), "indexes", "[", "{", "key",
			BCON_DOCUMENT(keys), "name", BCON_UTF8(argv[5]), "unique", BCON_BOOL(unique), "}", "]");

		rc = mongoc_client_command_simple(client, db, cmd, NULL, NULL, &err) ? 0 : 1;
		if (rc)
			fprintf(stderr, "mp-probe: createIndexes: %s\n", err.message);
		bson_destroy(cmd);
		bson_destroy(keys);
	} else if (strcmp(argv[1], "indexes") == 0) {
		mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
		const bson_t *d;
		bson_iter_t it;

		while (mongoc_cursor_next(cur, &d))
			if (bson_iter_init_find(&it, d, "name"))
				printf("%s\n", bson_iter_utf8(&it, NULL));
		rc = mongoc_cursor_error(cur, &err) ? 1 : 0;
		mongoc_cursor_destroy(cur);
	} else if (strcmp(argv[1], "create") == 0) {
		mongoc_database_t *d = mongoc_client_get_database(client, db);
		mongoc_collection_t *made = mongoc_database_create_collection(d, cname, NULL, &err);

		rc = made ? 0 : 1;
		mongoc_collection_destroy(made);
		mongoc_database_destroy(d);
	} else if (strcmp(argv[1], "drop") == 0) {
		rc = mongoc_collection_drop(coll, &err) || strstr(err.message, "not found") ? 0 : 1;
	} else if (strcmp(argv[1], "watch") == 0 && argc >= 5) {
		int want = atoi(argv[4]), got = 0, i;
		bson_t *pipeline = json("{\"pipeline\": []}"), *opts = bson_new();
		mongoc_change_stream_t *cs;
		const bson_t *ev;
		double timeout = 10, until;

		for (i = 5; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--resume-after") == 0) {
				bson_t *tok = json(argv[i + 1]);

				BSON_APPEND_DOCUMENT(opts, "resumeAfter", tok);
				bson_destroy(tok);
			} else if (strcmp(argv[i], "--timeout") == 0) {
				timeout = atof(argv[i + 1]);
			}
		}
		BSON_APPEND_INT64(opts, "maxAwaitTimeMS", 200);
		cs = mongoc_collection_watch(coll, pipeline, opts);
		if (mongoc_change_stream_error_document(cs, &err, NULL)) {
			fprintf(stderr, "mp-probe: watch: %s\n", err.message);
			want = -1;
		}
		for (i = 5; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--then-insert") == 0) {
				bson_t *d = json(argv[i + 1]);

				if (!mongoc_collection_insert_one(coll, d, NULL, NULL, &err))
					fprintf(stderr, "mp-probe: insert: %s\n", err.message);
				bson_destroy(d);
			}
		}
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
		rc = got == want ? 0 : 1;
		mongoc_change_stream_destroy(cs);
		bson_destroy(pipeline);
		bson_destroy(opts);
	} else {
		fprintf(stderr, "mp-probe: unknown command %s\n", argv[1]);
	}
out:
	bson_free(db);
	bson_free(cname);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	return rc;
}
