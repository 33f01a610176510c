/*
 * conn.c: URI resolution, redaction and client construction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"

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
conn_resolve_uri(const char *uri_opt, const char *uri_file, const char *env, bson_error_t *err)
{
	const char *from_env = getenv(env ? env : "MONGODB_URI");
	char *uri;
	mongoc_uri_t *parsed;
	bson_error_t uerr;

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
	parsed = mongoc_uri_new_with_error(uri, &uerr);
	if (parsed == NULL) {
		char *shown = conn_redact(uri);

		mp_error_set(err, MP_EX_USAGE, "invalid connection string %s: %s", shown, uerr.message);
		bson_free(shown);
		bson_free(uri);
		return NULL;
	}
	diag_add_secret(mongoc_uri_get_password(parsed));
	mongoc_uri_destroy(parsed);
	return uri;
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
