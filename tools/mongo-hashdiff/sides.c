/*
 * sides.c: the two sides of mongo-hashdiff, a server or a file, and what is
 * asked of one side alone (does the collection exist, what collections has a
 * database, how many documents).  Every error that comes from one server
 * names it: "source (HOST): ..." or "target (HOST): ...".
 */
#include <string.h>

#include "conn.h"
#include "exitcode.h"
#include "mongo-hashdiff.h"


bool
side_open(struct side *s, const char *name, const char *uri, const char *file, bson_error_t *err)
{
	char *checked = NULL;
	bool ok = false;

	memset(s, 0, sizeof *s);
	s->name = name;
	s->file = file;
	if (uri == NULL) {
		ok = true;
		goto out;
	}
	if ((checked = conn_check_uri(uri, err)) == NULL || (s->pool = conn_pool_new(checked, TOOL, err)) == NULL)
		goto out;
	s->host = conn_hosts(checked);
	ok = true;
out:
	bson_free(checked);
	return ok;
}

void
side_close(struct side *s)
{
	mongoc_client_pool_destroy(s->pool);
	bson_free(s->host);
	s->pool = NULL;
	s->host = NULL;
}

void
side_error(const struct side *s, bson_error_t *err)
{
	if (s->file == NULL)
		mp_error_wrap(err, "%s (%s)", s->name, s->host);
}

void
end_init(struct end *e, const struct side *s, const char *db, const char *coll)
{
	e->side = s;
	e->db = db;
	e->coll = coll;
	bson_snprintf(e->ns, sizeof e->ns, "%s.%s", db, coll);
}

bool
side_list_collections(const struct side *s, const char *db, char ***colls, bson_error_t *err)
{
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	size_t skip = strlen(db) + 1;
	char **nss = NULL;
	int n = 0;
	bool ok = false;

	*colls = NULL;
	if (!conn_list_namespaces(client, db, &nss, &n, err)) {
		mp_error_wrap(err, "listing the collections of %s", db);
		side_error(s, err);
		goto out;
	}
	*colls = bson_malloc0(sizeof(char *) * (size_t)(n + 1));
	for (int i = 0; i < n; i++)
		(*colls)[i] = bson_strdup(nss[i] + skip);
	ok = true;
out:
	bson_strfreev(nss);
	mongoc_client_pool_push(s->pool, client);
	return ok;
}

bool
end_exists(const struct end *e, bool *exists, bson_error_t *err)
{
	mongoc_client_t *client = mongoc_client_pool_pop(e->side->pool);
	bool ok = conn_collection_exists(client, e->db, e->coll, exists, err);

	mongoc_client_pool_push(e->side->pool, client);
	if (!ok) {
		mp_error_wrap(err, "listing %s", e->ns);
		side_error(e->side, err);
	}
	return ok;
}

static bool
count_file(const struct opts *o, const char *file, int64_t *n, bson_error_t *err)
{
	struct docstream_reader_opts ro = {o->c.input_format, o->c.max_doc, false};
	struct docstream_reader *r = docstream_reader_open(file, &ro, err);
	const bson_t *doc;
	int got = -1;

	if (r == NULL)
		goto out;
	*n = 0;
	while ((got = docstream_read(r, &doc, err)) == 1)
		(*n)++;
out:
	docstream_reader_destroy(r);
	return got == 0;
}

bool
end_count(const struct opts *o, const struct end *e, int64_t *n, bson_error_t *err)
{
	mongoc_client_t *client;
	mongoc_collection_t *c;
	bson_t filter = BSON_INITIALIZER;

	if (e->side->file)
		return count_file(o, e->side->file, n, err);
	client = mongoc_client_pool_pop(e->side->pool);
	c = mongoc_client_get_collection(client, e->db, e->coll);
	*n = mongoc_collection_count_documents(c, &filter, NULL, NULL, NULL, err);
	mongoc_collection_destroy(c);
	mongoc_client_pool_push(e->side->pool, client);
	if (*n < 0)
		side_error(e->side, err);
	return *n >= 0;
}

mongoc_cursor_t *
end_find_sorted(const struct opts *o, mongoc_client_t *client, const struct end *e, const bson_t *filter)
{
	mongoc_collection_t *c = mongoc_client_get_collection(client, e->db, e->coll);
	bson_t *fopts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}", "batchSize", BCON_INT64(o->batch_size));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, fopts, NULL);

	bson_destroy(fopts);
	mongoc_collection_destroy(c);
	return cur;
}
