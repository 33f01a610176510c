/*
 * layout.c: the mongodump directory layout that --out writes:
 * DIR/db/coll.bson[.gz] and DIR/db/coll.metadata.json[.gz], the metadata
 * (options, indexes, uuid, collectionName, type) written as mongodump does
 * so that mongorestore reads it.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ejson.h"
#include "exitcode.h"
#include "mongo-dump-bson.h"

/* Drop the whitespace libbson puts between JSON tokens, as mongodump's
 * output has none. */
static void
json_compact(char *s)
{
	char *out = s;
	bool in_str = false, esc = false;

	for (; *s; s++) {
		if (in_str) {
			*out++ = *s;
			if (esc)
				esc = false;
			else if (*s == '\\')
				esc = true;
			else if (*s == '"')
				in_str = false;
		} else if (*s == '"') {
			in_str = true;
			*out++ = *s;
		} else if (*s != ' ' && *s != '\n' && *s != '\t') {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Build {options?, indexes, uuid?, collectionName, type?} as mongodump does. */
static bool
build_metadata(mongoc_client_t *client, const char *db, const char *coll, bson_t *meta, bson_error_t *err)
{
	mongoc_database_t *d = mongoc_client_get_database(client, db);
	mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
	bson_t *filter = BCON_NEW("filter", "{", "name", BCON_UTF8(coll), "}");
	mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(d, filter);
	const bson_t *info, *ix;
	bson_t options = BSON_INITIALIZER, indexes;
	char uuid[33] = "", type[32] = "";
	bson_iter_t it, sub;
	bool ok = true;
	uint32_t n = 0;

	while (mongoc_cursor_next(cur, &info)) {
		if (bson_iter_init_find(&it, info, "options") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
			uint32_t len;
			const uint8_t *data;

			bson_iter_document(&it, &len, &data);
			bson_destroy(&options);
			bson_init_static(&options, data, len);
			bson_t copy;
			bson_copy_to(&options, &copy);
			options = copy;
		}
		if (bson_iter_init_find(&it, info, "type") && BSON_ITER_HOLDS_UTF8(&it))
			bson_strncpy(type, bson_iter_utf8(&it, NULL), sizeof type);
		if (bson_iter_init_find(&it, info, "info") && bson_iter_recurse(&it, &sub) &&
			bson_iter_find(&sub, "uuid") && BSON_ITER_HOLDS_BINARY(&sub)) {
			const uint8_t *bin;
			uint32_t len;
			bson_subtype_t st;

			bson_iter_binary(&sub, &st, &len, &bin);
			for (uint32_t i = 0; i < len && i < 16; i++)
				snprintf(uuid + 2 * i, 3, "%02x", bin[i]);
		}
	}
	if (mongoc_cursor_error(cur, err))
		ok = false;
	mongoc_cursor_destroy(cur);
	if (ok && !bson_empty(&options))
		BSON_APPEND_DOCUMENT(meta, "options", &options);
	bson_append_array_begin(meta, "indexes", -1, &indexes);
	if (ok && strcmp(type, "view") != 0) { /* a view has no indexes: listIndexes fails on one */
		cur = mongoc_collection_find_indexes_with_opts(c, NULL);
		while (mongoc_cursor_next(cur, &ix)) {
			char key[16];
			const char *k;

			bson_uint32_to_string(n++, &k, key, sizeof key);
			bson_append_document(&indexes, k, -1, ix);
		}
		if (mongoc_cursor_error(cur, err))
			ok = false;
		mongoc_cursor_destroy(cur);
	}
	bson_append_array_end(meta, &indexes);
	if (uuid[0])
		BSON_APPEND_UTF8(meta, "uuid", uuid);
	BSON_APPEND_UTF8(meta, "collectionName", coll);
	if (type[0])
		BSON_APPEND_UTF8(meta, "type", type);
	bson_destroy(&options);
	bson_destroy(filter);
	mongoc_collection_destroy(c);
	mongoc_database_destroy(d);
	if (!ok)
		mp_error_wrap(err, "reading metadata of %s.%s", db, coll);
	return ok;
}

char *
layout_metadata_json(mongoc_client_t *client, const char *db, const char *coll, bson_error_t *err)
{
	bson_t meta = BSON_INITIALIZER;
	char *json = NULL;

	if (build_metadata(client, db, coll, &meta, err)) {
		json = ejson_from_bson_new(&meta, EJSON_CANONICAL, NULL);
		json_compact(json);
	}
	bson_destroy(&meta);
	return json;
}

bool
layout_write_metadata(mongoc_client_t *client, const char *db, const char *coll, const char *path, bool gzip,
	bson_error_t *err)
{
	/* written through a writer so that --gzip and atomic rename apply */
	struct docstream_writer_opts wo = {.format = DOCSTREAM_BSON, .gzip = gzip};
	struct docstream_writer *w;
	char *json = layout_metadata_json(client, db, coll, err);
	bool ok = false;

	if (json != NULL && (w = docstream_writer_open(path, &wo, err)) != NULL) {
		ok = docstream_write_raw(w, (const uint8_t *)json, strlen(json), err) && docstream_writer_close(w, err);
		docstream_writer_destroy(w);
	}
	bson_free(json);
	return ok;
}

/* mkdir one level; true when it exists afterwards */
static bool
mkdir_one(const char *p)
{
	return mkdir(p, 0755) == 0 || errno == EEXIST;
}

bool
layout_mkdir(const char *path, bson_error_t *err)
{
	char *p = bson_strdup(path);
	bool ok = true;

	/* each level in turn, stopping at the first that cannot be made: its
	 * cause (read-only, no permission), not ENOENT for the levels below */
	for (char *s = p + 1; ok && *s; s++) {
		if (*s == '/') {
			*s = '\0';
			ok = mkdir_one(p);
			if (ok)
				*s = '/';
		}
	}
	if (ok)
		ok = mkdir_one(p);
	if (!ok)
		mp_error_set(err, MP_EX_CANTCREAT, "cannot create directory %s: %s", p, strerror(errno));
	bson_free(p);
	return ok;
}
