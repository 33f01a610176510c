/*
 * conn.c: URI resolution, redaction and client construction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "nsmap.h"

static char *
read_uri_file(const char *path, bson_error_t *err)
{
	char buf[8192];
	size_t n;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

	if (f == NULL) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open URI file %s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0) {
		mp_error_set(err, MP_EX_USAGE, "URI file %s is empty", path);
		return NULL;
	}
	return bson_strdup(buf);
}

char *
conn_redact(const char *uri)
{
	char out[8192];

	diag_scrub(uri, out, sizeof out);
	return bson_strdup(out);
}

char *
conn_check_uri(const char *uri, bson_error_t *err)
{
	mongoc_uri_t *parsed;
	bson_error_t uerr;

	parsed = mongoc_uri_new_with_error(uri, &uerr);
	if (parsed == NULL) {
		char *shown = conn_redact(uri);

		mp_error_set(err, MP_EX_USAGE, "invalid connection string %s: %s", shown, uerr.message);
		bson_free(shown);
		return NULL;
	}
	diag_add_secret(mongoc_uri_get_password(parsed));
	mongoc_uri_destroy(parsed);
	return bson_strdup(uri);
}

char *
conn_resolve_uri(const char *uri_opt, const char *uri_file, const char *env, bson_error_t *err)
{
	const char *from_env = getenv(env ? env : "MONGODB_URI");
	char *uri, *checked;

	if (uri_opt != NULL && uri_file != NULL) {
		mp_error_set(err, MP_EX_USAGE, "--uri and --uri-file are mutually exclusive");
		return NULL;
	}
	if (uri_opt != NULL)
		uri = bson_strdup(uri_opt);
	else if (uri_file != NULL)
		uri = read_uri_file(uri_file, err);
	else if (from_env != NULL && *from_env != '\0')
		uri = bson_strdup(from_env);
	else
		uri = bson_strdup(CONN_DEFAULT_URI);
	if (uri == NULL)
		return NULL;
	checked = conn_check_uri(uri, err);
	bson_free(uri);
	return checked;
}

static int32_t socket_timeout_ms = CONN_SOCKET_TIMEOUT_MS, connect_timeout_ms = CONN_CONNECT_TIMEOUT_MS;

void
conn_set_timeouts(int32_t socket_ms, int32_t connect_ms)
{
	socket_timeout_ms = socket_ms;
	connect_timeout_ms = connect_ms;
}

/* Set an option the URI does not set itself. */
static void
default_option(mongoc_uri_t *u, const char *name, int32_t v)
{
	if (!mongoc_uri_has_option(u, name))
		mongoc_uri_set_option_as_int32(u, name, v);
}

/* The files a TLS URI names must be readable: libmongoc says only "Failed
 * initialize TLS state." (after its selection timeout) otherwise.  66,
 * naming the option and the file. */
static bool
tls_files_readable(const mongoc_uri_t *u, bson_error_t *err)
{
	static const char *const opts[] = {MONGOC_URI_TLSCAFILE, MONGOC_URI_TLSCERTIFICATEKEYFILE};

	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		const char *path = mongoc_uri_get_option_as_utf8(u, opts[i], NULL);

		if (path != NULL && access(path, R_OK) != 0) {
			mp_error_set(err, MP_EX_NOINPUT, "cannot read %s %s: %s",
				i == 0 ? "tlsCAFile" : "tlsCertificateKeyFile", path, strerror(errno));
			return false;
		}
	}
	return true;
}

static mongoc_uri_t *
make_uri(const char *uri, const char *tool, bson_error_t *err)
{
	bson_error_t uerr;
	mongoc_uri_t *u = mongoc_uri_new_with_error(uri, &uerr);
	char appname[128];

	if (u == NULL) {
		char *shown = conn_redact(uri);

		mp_error_set(err, MP_EX_USAGE, "invalid connection string %s: %s", shown, uerr.message);
		bson_free(shown);
		return NULL;
	}
	diag_add_secret(mongoc_uri_get_password(u));
	if (!tls_files_readable(u, err)) {
		mongoc_uri_destroy(u);
		return NULL;
	}
	default_option(u, MONGOC_URI_SOCKETTIMEOUTMS, socket_timeout_ms);
	default_option(u, MONGOC_URI_CONNECTTIMEOUTMS, connect_timeout_ms);
	default_option(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, connect_timeout_ms);
	if (mongoc_uri_get_appname(u) == NULL) {
		snprintf(appname, sizeof appname, "mongo-pipes/%s", tool);
		mongoc_uri_set_appname(u, appname);
	}
	return u;
}

mongoc_client_t *
conn_client_new(const char *uri, const char *tool, bson_error_t *err)
{
	mongoc_uri_t *u = make_uri(uri, tool, err);
	mongoc_client_t *c;
	bson_error_t cerr;

	if (u == NULL)
		return NULL;
	/* a single client gives up on a server after one failed check and then
	 * answers "No servers yet eligible for rescan" for 5 s, hiding the
	 * cause (a TLS error, say): search up to serverSelectionTimeoutMS, as a
	 * pool does, and report what the last check said */
	if (!mongoc_uri_has_option(u, MONGOC_URI_SERVERSELECTIONTRYONCE))
		mongoc_uri_set_option_as_bool(u, MONGOC_URI_SERVERSELECTIONTRYONCE, false);
	c = mongoc_client_new_from_uri_with_error(u, &cerr);
	mongoc_uri_destroy(u);
	if (c == NULL) {
		mp_error_set(err, MP_EX_USAGE, "cannot create client: %s", cerr.message);
		return NULL;
	}
	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	return c;
}

mongoc_client_pool_t *
conn_pool_new(const char *uri, const char *tool, bson_error_t *err)
{
	mongoc_uri_t *u = make_uri(uri, tool, err);
	mongoc_client_pool_t *p;
	bson_error_t perr;

	if (u == NULL)
		return NULL;
	p = mongoc_client_pool_new_with_error(u, &perr);
	mongoc_uri_destroy(u);
	if (p == NULL) {
		mp_error_set(err, MP_EX_USAGE, "cannot create client pool: %s", perr.message);
		return NULL;
	}
	mongoc_client_pool_set_error_api(p, MONGOC_ERROR_API_VERSION_2);
	return p;
}

bool
conn_ping(mongoc_client_t *client, bson_error_t *err)
{
	bson_t cmd = BSON_INITIALIZER;
	bool ok;

	BSON_APPEND_INT32(&cmd, "ping", 1);
	ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, err);
	bson_destroy(&cmd);
	if (!ok)
		mp_error_wrap(err, "server unavailable");
	return ok;
}

bool
conn_split_ns(const char *ns, char **db, char **coll, bson_error_t *err)
{
	const char *dot = ns ? strchr(ns, '.') : NULL;

	*db = *coll = NULL;
	if (dot == NULL || dot == ns || dot[1] == '\0') {
		mp_error_set(err, MP_EX_USAGE, "namespace '%s' is not of the form db.collection",
			ns ? ns : "");
		return false;
	}
	*db = bson_strndup(ns, (size_t)(dot - ns));
	*coll = bson_strdup(dot + 1);
	return true;
}

/* ---- namespaces ---- */

static bool
system_db(const char *db)
{
	return strcmp(db, "admin") == 0 || strcmp(db, "local") == 0 || strcmp(db, "config") == 0;
}

bool
conn_list_namespaces(mongoc_client_t *client, const char *db, char ***out, int *n, bson_error_t *err)
{
	char **dbs = NULL;
	int cap = 16;

	*n = 0;
	*out = bson_malloc0(sizeof(char *) * (size_t)cap);
	if (db == NULL) {
		dbs = mongoc_client_get_database_names_with_opts(client, NULL, err);
		if (dbs == NULL)
			return false;
	}
	for (int i = 0; db ? i < 1 : dbs[i] != NULL; i++) {
		const char *name = db ? db : dbs[i];
		mongoc_database_t *d;
		mongoc_cursor_t *cur;
		const bson_t *info;
		bson_iter_t it;

		if (!db && system_db(name))
			continue;
		d = mongoc_client_get_database(client, name);
		cur = mongoc_database_find_collections_with_opts(d, NULL);
		while (mongoc_cursor_next(cur, &info)) {
			const char *cname;

			if (!bson_iter_init_find(&it, info, "name"))
				continue;
			cname = bson_iter_utf8(&it, NULL);
			if (strncmp(cname, "system.", 7) == 0)
				continue;
			if (bson_iter_init_find(&it, info, "type") && strcmp(bson_iter_utf8(&it, NULL), "collection") != 0)
				continue; /* a view or a time series */
			if (!ns_selected(name, cname))
				continue; /* --ns-include, --ns-exclude, ... */
			if (*n + 1 >= cap) {
				cap *= 2;
				*out = bson_realloc(*out, sizeof(char *) * (size_t)cap);
			}
			(*out)[(*n)++] = bson_strdup_printf("%s.%s", name, cname);
		}
		bool bad = mongoc_cursor_error(cur, err);
		mongoc_cursor_destroy(cur);
		mongoc_database_destroy(d);
		if (bad) {
			bson_strfreev(dbs);
			return false;
		}
	}
	(*out)[*n] = NULL;
	bson_strfreev(dbs);
	/* stable order for people and for xargs */
	for (int a = 1; a < *n; a++)
		for (int b = a; b > 0 && strcmp((*out)[b - 1], (*out)[b]) > 0; b--) {
			char *t = (*out)[b];
			(*out)[b] = (*out)[b - 1];
			(*out)[b - 1] = t;
		}
	return true;
}

bool
conn_collection_exists(mongoc_client_t *client, const char *db, const char *coll, bool *exists, bson_error_t *err)
{
	mongoc_database_t *d = mongoc_client_get_database(client, db);
	bson_t *opts = BCON_NEW("filter", "{", "name", BCON_UTF8(coll), "}");
	mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(d, opts);
	const bson_t *info;
	bool ok;

	*exists = mongoc_cursor_next(cur, &info);
	ok = !mongoc_cursor_error(cur, err);
	if (!ok)
		*exists = false;
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	mongoc_database_destroy(d);
	return ok;
}

char *
conn_hosts(const char *uri)
{
	mongoc_uri_t *u = mongoc_uri_new_with_error(uri, NULL);
	bson_string_t *s = bson_string_new(NULL);

	for (const mongoc_host_list_t *h = u ? mongoc_uri_get_hosts(u) : NULL; h; h = h->next)
		bson_string_append_printf(s, "%s%s", s->len ? "," : "", h->host_and_port);
	if (s->len == 0 && u && mongoc_uri_get_srv_hostname(u))
		bson_string_append(s, mongoc_uri_get_srv_hostname(u));
	if (s->len == 0) {
		char *shown = conn_redact(uri);

		bson_string_append(s, shown);
		bson_free(shown);
	}
	mongoc_uri_destroy(u);
	return bson_string_free(s, false);
}
