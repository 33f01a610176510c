/*
 * metadata.c: a mongodump metadata.json applied as mongorestore does: the
 * collection created with its options before the data, its indexes built
 * after it.
 */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "docstream.h"
#include "exitcode.h"
#include "load.h"

bool
metadata_has_uuid(const bson_t *meta)
{
	bson_iter_t it;

	return meta && bson_iter_init_find(&it, meta, "uuid") && BSON_ITER_HOLDS_UTF8(&it);
}

bool
metadata_uuid(const bson_t *meta, uint8_t out[16], bson_error_t *err)
{
	bson_iter_t it;
	const char *hex = "";

	if (bson_iter_init_find(&it, meta, "uuid") && BSON_ITER_HOLDS_UTF8(&it))
		hex = bson_iter_utf8(&it, NULL);
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (strlen(hex) != 32 || strspn(hex, "0123456789abcdefABCDEF") != 32 ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1) {
			mp_error_set(err, MP_EX_DATAERR, "the uuid of its metadata, '%s', is not 32 hex digits", hex);
			return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

/* {applyOps: [{op: "c", ns: "DB.$cmd", o: create, ui: UUID}]}: the one way
 * a client can choose a collection's uuid, as mongorestore --preserveUUID
 * does; a server without applyOps refuses, and that is the error. */
static bool
create_with_uuid(mongoc_client_t *client, const char *db, const bson_t *meta, const bson_t *create,
	bson_error_t *err)
{
	char *cmdns = bson_strdup_printf("%s.$cmd", db);
	uint8_t uuid[16];
	bson_t cmd = BSON_INITIALIZER, ops, op;
	bool ok = false;

	if (!metadata_uuid(meta, uuid, err))
		goto out;
	bson_append_array_begin(&cmd, "applyOps", -1, &ops);
	bson_append_document_begin(&ops, "0", 1, &op);
	BSON_APPEND_UTF8(&op, "op", "c");
	BSON_APPEND_UTF8(&op, "ns", cmdns);
	BSON_APPEND_DOCUMENT(&op, "o", create);
	BSON_APPEND_BINARY(&op, "ui", BSON_SUBTYPE_UUID, uuid, 16);
	bson_append_document_end(&ops, &op);
	bson_append_array_end(&cmd, &ops);
	ok = conn_write_command(client, "admin", &cmd, err);
	if (!ok)
		mp_error_wrap(err, "the server refused applyOps (code %u), the one way to keep the uuid of its "
			"metadata (--preserve-uuid)", err->code);
out:
	bson_destroy(&cmd);
	bson_free(cmdns);
	return ok;
}

/* Create the collection with the options of a metadata file (before data),
 * so that a collection without documents is restored too, as mongorestore
 * does; `how` leaves the options out or keeps the uuid (META_*). */
bool
metadata_create(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta, int how,
	bson_error_t *err)
{
	bson_iter_t it;
	bson_t cmd = BSON_INITIALIZER;
	bool ok = true;

	BSON_APPEND_UTF8(&cmd, "create", coll);
	if (!(how & META_NO_OPTIONS) && bson_iter_init_find(&it, meta, "options") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		uint32_t len;
		const uint8_t *data;
		bson_t opts;

		bson_iter_document(&it, &len, &data);
		if (bson_init_static(&opts, data, len))
			bson_concat(&cmd, &opts);
	}
	if ((how & META_UUID) && metadata_has_uuid(meta))
		ok = create_with_uuid(client, db, meta, &cmd, err);
	else if (!conn_write_command(client, db, &cmd, err))
		/* an existing collection keeps its options */
		ok = err->code == 48 || strstr(err->message, "already exists");
	bson_destroy(&cmd);
	return ok;
}

/* Build the indexes of a metadata file (after the data), as mongorestore;
 * the _id index exists already, and "v"/"ns" are the server's to set. */
bool
metadata_indexes(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta, bson_error_t *err)
{
	bson_iter_t it, arr, f;
	bson_t cmd = BSON_INITIALIZER, list, spec;
	uint32_t n = 0;
	bool ok = true;

	if (!bson_iter_init_find(&it, meta, "indexes") || !bson_iter_recurse(&it, &arr))
		return true;
	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	bson_append_array_begin(&cmd, "indexes", -1, &list);
	while (bson_iter_next(&arr)) {
		char key[16];
		const char *k;

		if (!bson_iter_recurse(&arr, &f) || (bson_iter_find(&f, "name") && BSON_ITER_HOLDS_UTF8(&f) &&
							     strcmp(bson_iter_utf8(&f, NULL), "_id_") == 0))
			continue;
		bson_iter_recurse(&arr, &f);
		bson_uint32_to_string(n++, &k, key, sizeof key);
		bson_append_document_begin(&list, k, -1, &spec);
		while (bson_iter_next(&f))
			if (strcmp(bson_iter_key(&f), "v") != 0 && strcmp(bson_iter_key(&f), "ns") != 0)
				bson_append_iter(&spec, NULL, 0, &f);
		bson_append_document_end(&list, &spec);
	}
	bson_append_array_end(&cmd, &list);
	if (n > 0)
		ok = conn_write_command(client, db, &cmd, err);
	bson_destroy(&cmd);
	if (!ok)
		mp_error_wrap(err, "building indexes of %s.%s", db, coll);
	return ok;
}

bson_t *
metadata_read(const char *path, bson_error_t *err)
{
	struct docstream_reader_opts ro = {.format = DOCSTREAM_NDJSON};
	struct docstream_reader *r = docstream_reader_open(path, &ro, err);
	const bson_t *doc;
	bson_t *meta = NULL;
	int got;

	if (r == NULL)
		return NULL;
	got = docstream_read(r, &doc, err);
	if (got == 1)
		meta = bson_copy(doc);
	else if (got == 0)
		mp_error_set(err, MP_EX_DATAERR, "%s: no metadata document", path);
	docstream_reader_destroy(r);
	return meta;
}
