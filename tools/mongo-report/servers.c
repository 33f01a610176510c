/*
 * servers.c: --source and --target: the collections' counts on both
 * servers, and the collections --ns or --db name.
 */
#include <string.h>

#include "conn.h"
#include "exitcode.h"
#include "mongo-report.h"

int64_t
servers_count_of(mongoc_client_t *c, const char *ns)
{
	char *db = NULL, *coll = NULL;
	int64_t n = -1;

	if (c && conn_split_ns(ns, &db, &coll, NULL)) {
		mongoc_collection_t *col = mongoc_client_get_collection(c, db, coll);

		n = mongoc_collection_estimated_document_count(col, NULL, NULL, NULL, NULL);
		mongoc_collection_destroy(col);
	}
	bson_free(db);
	bson_free(coll);
	return n;
}

char **
servers_list_namespaces(mongoc_client_t *c, const char *ns, const char *db, bson_error_t *err)
{
	char **out = NULL;
	int n;

	if (ns) {
		out = bson_malloc0(sizeof(char *) * 2);
		out[0] = bson_strdup(ns);
	} else if (!conn_list_namespaces(c, db, &out, &n, err)) {
		bson_strfreev(out);
		out = NULL;
	}
	return out;
}

/* Connect to one server; false with err (69) naming the side and its
 * hosts if it is down. */
static bool
server_open(const char *side, const char *uri, mongoc_client_t **client, char **resolved, bson_error_t *err)
{
	char *hosts;

	if ((*resolved = conn_resolve_uri(uri, NULL, NULL, err)) != NULL &&
	    (*client = conn_client_new(*resolved, TOOL, err)) != NULL && conn_ping(*client, err))
		return true;
	hosts = conn_hosts(uri);
	mp_error_wrap(err, "%s (%s)", side, hosts);
	bson_free(hosts);
	return false;
}

bool
servers_open(struct servers *s, const char *source, const char *target, bson_error_t *err)
{
	memset(s, 0, sizeof *s);
	return (source == NULL || server_open("source", source, &s->src, &s->src_uri, err)) &&
	       (target == NULL || server_open("target", target, &s->dst, &s->dst_uri, err));
}

void
servers_close(struct servers *s)
{
	mongoc_client_destroy(s->src);
	mongoc_client_destroy(s->dst);
	bson_free(s->src_uri);
	bson_free(s->dst_uri);
	memset(s, 0, sizeof *s);
}

bool
servers_count(const struct servers *s, struct report *r, const char *ns, const char *db, bson_error_t *err)
{
	char **names = NULL;
	bool ok = false;

	if ((ns || db) && (names = servers_list_namespaces(s->src ? s->src : s->dst, ns, db, err)) == NULL) {
		char *hosts = conn_hosts(s->src ? s->src_uri : s->dst_uri);

		mp_error_wrap(err, "%s (%s): listing collections", s->src ? "source" : "target", hosts);
		bson_free(hosts);
		goto out;
	}
	for (int i = 0; names && names[i]; i++)
		report_row(r, names[i]);
	for (int i = 0; i < r->n; i++) {
		if (!ns_is_collection(r->rows[i].ns))
			continue;
		r->rows[i].src = servers_count_of(s->src, r->rows[i].ns);
		r->rows[i].dst = servers_count_of(s->dst, r->rows[i].ns);
	}
	ok = true;
out:
	bson_strfreev(names);
	return ok;
}
