/*
 * mp-writer: a deterministic application writing to a collection, for change
 * data capture tests: inserts, field sets and unsets, increments, array
 * pushes and truncations, replacements and deletes over a small _id space,
 * one write at a time (so every write is its own change event).
 *
 *   mp-writer URI NS OPS [--ids K] [--seed S] [--pause-us U]
 *
 * Exits 0 after OPS writes, 1 on an error (printed).  Writes go on through
 * SIGTERM until the current write is done.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "conn.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static bson_t *
new_doc(int64_t id)
{
	bson_t *d = bson_new(), sub, arr;
	char key[8];
	int n = (int)(next() % 5) + 1;

	BSON_APPEND_INT64(d, "_id", id);
	BSON_APPEND_INT32(d, "v", (int32_t)(next() % 1000));
	const char *s = next() % 2 ? "alpha" : "beta"; /* the macro evaluates twice */

	BSON_APPEND_UTF8(d, "s", s);
	bson_append_document_begin(d, "sub", 3, &sub);
	BSON_APPEND_INT32(&sub, "a", (int32_t)(next() % 100));
	BSON_APPEND_UTF8(&sub, "b", "x");
	bson_append_document_end(d, &sub);
	bson_append_array_begin(d, "arr", 3, &arr);
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "%d", i);
		BSON_APPEND_INT32(&arr, key, (int32_t)(next() % 100));
	}
	bson_append_array_end(d, &arr);
	return d;
}

int
main(int argc, char **argv)
{
	mongoc_client_t *client;
	mongoc_collection_t *coll;
	bson_error_t err;
	char *db = NULL, *cname = NULL;
	int64_t ops, ids = 200, pause_us = 0;
	int rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: mp-writer URI NS OPS [--ids K] [--seed S] [--pause-us U]\n");
		return 2;
	}
	ops = atoll(argv[3]);
	for (int a = 4; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "--ids") == 0)
			ids = atoll(argv[a + 1]);
		else if (strcmp(argv[a], "--seed") == 0)
			rng ^= (uint64_t)atoll(argv[a + 1]) * 0x2545F4914F6CDD1DULL;
		else if (strcmp(argv[a], "--pause-us") == 0)
			pause_us = atoll(argv[a + 1]);
	}
	signal(SIGTERM, on_term);
	mongoc_init();
	client = conn_client_new(argv[1], "mp-writer", &err);
	if (client == NULL || !conn_split_ns(argv[2], &db, &cname, &err)) {
		fprintf(stderr, "mp-writer: %s\n", err.message);
		return 2;
	}
	coll = mongoc_client_get_collection(client, db, cname);
	for (int64_t i = 0; i < ops && !stop && rc == 0; i++) {
		int64_t id = (int64_t)(next() % (uint64_t)ids);
		bson_t *filter = BCON_NEW("_id", BCON_INT64(id)), *u = NULL, *doc = NULL;
		bson_t *opts = BCON_NEW("upsert", BCON_BOOL(false));
		bool ok = true;

		switch (next() % 9) {
		case 0:
		case 1: /* insert or replace */
			doc = new_doc(id);
			bson_destroy(opts);
			opts = BCON_NEW("upsert", BCON_BOOL(true));
			ok = mongoc_collection_replace_one(coll, filter, doc, opts, NULL, &err);
			break;
		case 2:
			u = BCON_NEW("$set", "{", "v", BCON_INT32((int32_t)(next() % 1000)), "sub.b",
				BCON_UTF8(next() % 2 ? "y" : "z"), "}");
			break;
		case 3:
			u = BCON_NEW("$unset", "{", "s", BCON_UTF8(""), "}");
			break;
		case 4:
			u = BCON_NEW("$inc", "{", "sub.a", BCON_INT32(1), "}", "$set", "{", "s", BCON_UTF8("gamma"), "}");
			break;
		case 5:
			u = BCON_NEW("$push", "{", "arr", BCON_INT32((int32_t)(next() % 100)), "}");
			break;
		case 6:
			u = BCON_NEW("$pop", "{", "arr", BCON_INT32(1), "}");
			break;
		case 7:
			u = BCON_NEW("$set", "{", "arr.0", BCON_INT32(-1), "}");
			break;
		default:
			ok = mongoc_collection_delete_one(coll, filter, NULL, NULL, &err);
			break;
		}
		if (u != NULL)
			ok = mongoc_collection_update_one(coll, filter, u, opts, NULL, &err);
		if (!ok) {
			fprintf(stderr, "mp-writer: write %lld: %s\n", (long long)i, err.message);
			rc = 1;
		}
		bson_destroy(filter);
		bson_destroy(opts);
		if (u)
			bson_destroy(u);
		if (doc)
			bson_destroy(doc);
		if (pause_us > 0)
			usleep((useconds_t)pause_us);
	}
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_cleanup();
	bson_free(db);
	bson_free(cname);
	return rc;
}
