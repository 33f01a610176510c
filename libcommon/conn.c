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

char *
conn_read_uri_file(const char *path, bson_error_t *err)
{
	char buf[8192], *uri = NULL;
	size_t n;
	bool longer = false;
	int c, failed;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");

	if (f == NULL) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open URI file %s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0); /* no copy of a password in stdio's buffer */
	n = fread(buf, 1, sizeof buf - 1, f);
	/* a longer file is not cut short silently: it is no connection string
	 * (trailing line ends and blanks aside) */
	while (n == sizeof buf - 1 && !longer && (c = fgetc(f)) != EOF)
		longer = c != '\n' && c != '\r' && c != ' ';
	failed = ferror(f) ? errno : 0;
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (failed)
		mp_error_set(err, MP_EX_NOINPUT, "cannot read URI file %s: %s", path, strerror(failed));
	else if (longer)
		mp_error_set(err, MP_EX_DATAERR, "URI file %s is longer than %zu bytes: not a connection string",
			path, sizeof buf - 1);
	else if (n == 0)
		mp_error_set(err, MP_EX_USAGE, "URI file %s is empty", path);
	else
		uri = bson_strdup(buf);
	explicit_bzero(buf, sizeof buf); /* it may hold a password */
	return uri;
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

/* Nothing said where the server is: the default was taken.  Said when a
 * client is made (log_target), once the options have all been checked, so
 * that a forgotten --uri is not a silent run against localhost. */
static bool defaulted;

static char *
default_uri(void)
{
	defaulted = true;
	return bson_strdup(CONN_DEFAULT_URI);
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
		uri = conn_read_uri_file(uri_file, err);
	else if (from_env != NULL && *from_env != '\0')
		uri = bson_strdup(from_env);
	else
		uri = default_uri();
	if (uri == NULL)
		return NULL;
	checked = conn_check_uri(uri, err);
	bson_free(uri);
	return checked;
}

/* ---- mongo-tools' connection flags ---- */

bool
conn_flags_given(const struct conn_flags *f)
{
	return f->uri || f->host || f->port || f->username || f->password || f->auth_db || f->auth_mech ||
	       f->tls || f->tls_insecure || f->tls_ca_file || f->tls_cert_key_file || f->tls_cert_key_password ||
	       f->read_preference;
}

static bool
all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]) || s[i] == '\0')
			return false;
	return n > 0;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

/* One host of --host, "name", "name:port", "[v6]" or "[v6]:port", into s
 * with --port where it names none.  Only these characters reach the URI
 * text, so nothing in a host can be read as a user, a path or an option. */
static bool
append_host(bson_string_t *s, const char *h, size_t n, const char *port, bson_error_t *err)
{
	const char *end = h + n, *colon;
	size_t name_len;

	if (n > 0 && h[0] == '[') {
		const char *close = memchr(h, ']', n);

		if (!close || !all_of(h + 1, (size_t)(close - h - 1), "0123456789abcdefABCDEF:."))
			goto bad;
		name_len = (size_t)(close + 1 - h);
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':')
			goto bad;
	} else {
		colon = memchr(h, ':', n);
		name_len = colon ? (size_t)(colon - h) : n;
		if (!all_of(h, name_len, NAME_CHARS))
			goto bad;
	}
	if (colon) {
		size_t plen = (size_t)(end - colon - 1);

		if (plen > 5 || !all_of(colon + 1, plen, "0123456789") || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
			goto bad;
		if (port && (strlen(port) != plen || strncmp(port, colon + 1, plen) != 0)) {
			mp_error_set(err, MP_EX_USAGE, "--port %s contradicts --host %.*s", port, (int)n, h);
			return false;
		}
	}
	bson_string_append_printf(s, "%s%.*s", s->len ? "," : "", (int)(colon ? n : name_len), h);
	if (!colon && port)
		bson_string_append_printf(s, ":%s", port);
	return true;
bad:
	mp_error_set(err, MP_EX_USAGE, "--host takes host, host:port, h1:p1,h2:p2 or set/h1,h2, not '%.*s'", (int)n, h);
	return false;
}

bool
conn_parse_hosts(const char *host, const char *port, char **list, char **replset, bson_error_t *err)
{
	const char *slash, *p;
	bson_string_t *s = bson_string_new(NULL);
	int64_t v;

	*list = *replset = NULL;
	if (port && (strlen(port) > 5 || !all_of(port, strlen(port), "0123456789") || (v = atoll(port)) < 1 ||
	    v > 65535)) {
		mp_error_set(err, MP_EX_USAGE, "--port takes 1 to 65535, not '%s'", port);
		goto fail;
	}
	host = host ? host : "localhost";
	if ((slash = strchr(host, '/')) != NULL) {
		if (!all_of(host, (size_t)(slash - host), NAME_CHARS)) {
			mp_error_set(err, MP_EX_USAGE, "--host: bad replica set name in '%s'", host);
			goto fail;
		}
		*replset = bson_strndup(host, (size_t)(slash - host));
		host = slash + 1;
	}
	for (p = host;; p += strcspn(p, ",") + 1) {
		if (!append_host(s, p, strcspn(p, ","), port, err))
			goto fail;
		if (p[strcspn(p, ",")] == '\0')
			break;
	}
	*list = bson_string_free(s, false);
	return true;
fail:
	bson_string_free(s, true);
	bson_free(*replset);
	*replset = NULL;
	return false;
}

/* The URI text the flags start from (see conn_resolve). */
static char *
base_uri(const struct conn_flags *f, const char *env, bson_error_t *err)
{
	const char *from_env = getenv(env ? env : "MONGODB_URI");
	char *list, *rs, *uri;

	if (f->uri && (f->host || f->port)) {
		mp_error_set(err, MP_EX_USAGE, "--%s contradicts the connection string, which names its hosts",
			f->host ? "host" : "port");
		return NULL;
	}
	if (f->uri)
		return bson_strdup(f->uri);
	if (!f->host && !f->port)
		return from_env && *from_env ? bson_strdup(from_env) : default_uri();
	if (!conn_parse_hosts(f->host, f->port, &list, &rs, err))
		return NULL;
	uri = bson_strdup_printf("mongodb://%s/%s%s", list, rs ? "?replicaSet=" : "", rs ? rs : "");
	bson_free(list);
	bson_free(rs);
	return uri;
}

/* Set a text field the URI may already hold: the same is fine, another
 * value is a contradiction (64). */
static bool
same_or_set(const char *flag, const char *have, const char *want, bool secret, bson_error_t *err)
{
	if (have == NULL || strcmp(have, want) == 0)
		return true;
	if (secret)
		mp_error_set(err, MP_EX_USAGE, "%s contradicts the password of the connection string", flag);
	else
		mp_error_set(err, MP_EX_USAGE, "%s '%s' contradicts '%s' in the connection string", flag, want, have);
	return false;
}

static const char *
credential(const mongoc_uri_t *u, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find_case(&it, mongoc_uri_get_credentials(u), key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return NULL;
}

static bool
apply_auth(mongoc_uri_t *u, const struct conn_flags *f, bson_error_t *err)
{
	if (f->username) {
		if (!same_or_set("--username", mongoc_uri_get_username(u), f->username, false, err))
			return false;
		mongoc_uri_set_username(u, f->username);
	}
	if (f->password) {
		if (!same_or_set("--password", mongoc_uri_get_password(u), f->password, true, err))
			return false;
		if (mongoc_uri_get_username(u) == NULL) {
			mp_error_set(err, MP_EX_USAGE, "--password needs a user name (--username, or in the URI)");
			return false;
		}
		mongoc_uri_set_password(u, f->password);
	}
	if (f->auth_db) {
		if (!same_or_set("--authentication-database", credential(u, MONGOC_URI_AUTHSOURCE), f->auth_db, false, err))
			return false;
		mongoc_uri_set_auth_source(u, f->auth_db);
	}
	if (f->auth_mech) {
		if (strcmp(f->auth_mech, "SCRAM-SHA-1") != 0 && strcmp(f->auth_mech, "SCRAM-SHA-256") != 0 &&
		    strcmp(f->auth_mech, "MONGODB-X509") != 0 && strcmp(f->auth_mech, "PLAIN") != 0) {
			mp_error_set(err, MP_EX_USAGE, "--authentication-mechanism takes SCRAM-SHA-1, SCRAM-SHA-256, "
				"MONGODB-X509 or PLAIN, not '%s'", f->auth_mech);
			return false;
		}
		if (!same_or_set("--authentication-mechanism", mongoc_uri_get_auth_mechanism(u), f->auth_mech, false, err))
			return false;
		mongoc_uri_set_auth_mechanism(u, f->auth_mech);
	}
	return true;
}

/* A boolean URI option a flag turns on: false in the URI contradicts it. */
static bool
turn_on(mongoc_uri_t *u, const char *flag, const char *opt, bson_error_t *err)
{
	if (mongoc_uri_has_option(u, opt) && !mongoc_uri_get_option_as_bool(u, opt, true)) {
		mp_error_set(err, MP_EX_USAGE, "%s contradicts %s=false in the connection string", flag, opt);
		return false;
	}
	mongoc_uri_set_option_as_bool(u, opt, true);
	return true;
}

static bool
set_text_option(mongoc_uri_t *u, const char *flag, const char *opt, const char *v, bool secret, bson_error_t *err)
{
	if (v == NULL)
		return true;
	if (!same_or_set(flag, mongoc_uri_get_option_as_utf8(u, opt, NULL), v, secret, err))
		return false;
	mongoc_uri_set_option_as_utf8(u, opt, v);
	return true;
}

static bool
apply_tls(mongoc_uri_t *u, const struct conn_flags *f, bson_error_t *err)
{
	return (!f->tls || turn_on(u, "--tls", MONGOC_URI_TLS, err)) &&
	       (!f->tls_insecure || turn_on(u, "--tls-insecure", MONGOC_URI_TLSINSECURE, err)) &&
	       set_text_option(u, "--tls-ca-file", MONGOC_URI_TLSCAFILE, f->tls_ca_file, false, err) &&
	       set_text_option(u, "--tls-certificate-key-file", MONGOC_URI_TLSCERTIFICATEKEYFILE,
		       f->tls_cert_key_file, false, err) &&
	       set_text_option(u, "--tls-certificate-key-file-password", MONGOC_URI_TLSCERTIFICATEKEYFILEPASSWORD,
		       f->tls_cert_key_password, true, err);
}

static const char *const read_modes[] = {"primary", "primaryPreferred", "secondary", "secondaryPreferred",
	"nearest"};
static const mongoc_read_mode_t read_mode_values[] = {MONGOC_READ_PRIMARY, MONGOC_READ_PRIMARY_PREFERRED,
	MONGOC_READ_SECONDARY, MONGOC_READ_SECONDARY_PREFERRED, MONGOC_READ_NEAREST};

static bool
apply_read_preference(mongoc_uri_t *u, const char *mode, bson_error_t *err)
{
	const char *have = mongoc_uri_get_option_as_utf8(u, MONGOC_URI_READPREFERENCE, NULL);
	mongoc_read_prefs_t *rp;

	for (size_t i = 0; mode && i < sizeof read_modes / sizeof read_modes[0]; i++) {
		if (strcmp(mode, read_modes[i]) != 0)
			continue;
		if (have && strcasecmp(have, mode) != 0) {
			mp_error_set(err, MP_EX_USAGE, "--read-preference '%s' contradicts '%s' in the connection string",
				mode, have);
			return false;
		}
		rp = mongoc_read_prefs_copy(mongoc_uri_get_read_prefs_t(u));
		mongoc_read_prefs_set_mode(rp, read_mode_values[i]);
		mongoc_uri_set_read_prefs_t(u, rp);
		mongoc_read_prefs_destroy(rp);
		return true;
	}
	if (mode)
		mp_error_set(err, MP_EX_USAGE, "--read-preference takes primary, primaryPreferred, secondary, "
			"secondaryPreferred or nearest, not '%s'", mode);
	return mode == NULL;
}

mongoc_uri_t *
conn_resolve(const struct conn_flags *f, const char *env, bson_error_t *err)
{
	char *text = base_uri(f, env, err);
	char *checked = text ? conn_check_uri(text, err) : NULL;
	mongoc_uri_t *u = checked ? mongoc_uri_new_with_error(checked, NULL) : NULL;

	bson_free(text);
	bson_free(checked);
	if (u == NULL)
		return NULL;
	diag_add_secret(f->password);
	diag_add_secret(f->tls_cert_key_password);
	diag_add_secret(mongoc_uri_get_option_as_utf8(u, MONGOC_URI_TLSCERTIFICATEKEYFILEPASSWORD, NULL));
	if (!apply_auth(u, f, err) || !apply_tls(u, f, err) || !apply_read_preference(u, f->read_preference, err)) {
		mongoc_uri_destroy(u);
		return NULL;
	}
	return u;
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

/* Where the tool connects, and as whom, for -v: never a password. */
static void
log_target(const mongoc_uri_t *u)
{
	bson_string_t *s = bson_string_new(NULL);

	for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(u); h; h = h->next)
		bson_string_append_printf(s, "%s%s", s->len ? "," : "", h->host_and_port);
	if (s->len == 0 && mongoc_uri_get_srv_hostname(u))
		bson_string_append(s, mongoc_uri_get_srv_hostname(u));
	if (mongoc_uri_get_username(u))
		bson_string_append_printf(s, " as %s (authSource %s%s%s)", mongoc_uri_get_username(u),
			mongoc_uri_get_auth_source(u), mongoc_uri_get_auth_mechanism(u) ? ", " : "",
			mongoc_uri_get_auth_mechanism(u) ? mongoc_uri_get_auth_mechanism(u) : "");
	if (mongoc_uri_get_tls(u))
		bson_string_append(s, " with TLS");
	if (defaulted)
		diag_warn("no --uri, --host or MONGODB_URI given: the server is %s", s->str);
	else
		diag_info("connecting to %s", s->str);
	defaulted = false; /* said once */
	bson_string_free(s, true);
}

/* A copy of `base` with the suite's settings, after checking what it
 * names can be used. */
static mongoc_uri_t *
make_uri_from(const mongoc_uri_t *base, const char *tool, bson_error_t *err)
{
	mongoc_uri_t *u;
	char appname[128];

	diag_add_secret(mongoc_uri_get_password(base));
	if (!tls_files_readable(base, err))
		return NULL;
	u = mongoc_uri_copy(base);
	default_option(u, MONGOC_URI_SOCKETTIMEOUTMS, socket_timeout_ms);
	default_option(u, MONGOC_URI_CONNECTTIMEOUTMS, connect_timeout_ms);
	default_option(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, connect_timeout_ms);
	if (mongoc_uri_get_appname(u) == NULL) {
		snprintf(appname, sizeof appname, "mongo-pipes/%s", tool);
		mongoc_uri_set_appname(u, appname);
	}
	log_target(u);
	return u;
}

static mongoc_uri_t *
make_uri(const char *uri, const char *tool, bson_error_t *err)
{
	bson_error_t uerr;
	mongoc_uri_t *parsed = mongoc_uri_new_with_error(uri, &uerr), *u;

	if (parsed == NULL) {
		char *shown = conn_redact(uri);

		mp_error_set(err, MP_EX_USAGE, "invalid connection string %s: %s", shown, uerr.message);
		bson_free(shown);
		return NULL;
	}
	u = make_uri_from(parsed, tool, err);
	mongoc_uri_destroy(parsed);
	return u;
}

static mongoc_client_t *client_new(mongoc_uri_t *u, bson_error_t *err);
static mongoc_client_pool_t *pool_new(mongoc_uri_t *u, bson_error_t *err);

mongoc_client_t *
conn_client_new(const char *uri, const char *tool, bson_error_t *err)
{
	return client_new(make_uri(uri, tool, err), err);
}

mongoc_client_t *
conn_client_new_uri(const mongoc_uri_t *uri, const char *tool, bson_error_t *err)
{
	return client_new(make_uri_from(uri, tool, err), err);
}

mongoc_client_pool_t *
conn_pool_new(const char *uri, const char *tool, bson_error_t *err)
{
	return pool_new(make_uri(uri, tool, err), err);
}

mongoc_client_pool_t *
conn_pool_new_uri(const mongoc_uri_t *uri, const char *tool, bson_error_t *err)
{
	return pool_new(make_uri_from(uri, tool, err), err);
}

/* A client of u, which it destroys (NULL: err is set already). */
static mongoc_client_t *
client_new(mongoc_uri_t *u, bson_error_t *err)
{
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

/* A pool of u, which it destroys (NULL: err is set already). */
static mongoc_client_pool_t *
pool_new(mongoc_uri_t *u, bson_error_t *err)
{
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
conn_write_command(mongoc_client_t *client, const char *db, const bson_t *cmd, bson_error_t *err)
{
	bson_t reply;
	bool ok = mongoc_client_write_command_with_opts(client, db, cmd, NULL, &reply, err);

	bson_destroy(&reply);
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

/* The type listCollections gives an entry ("collection" when it gives
 * none, as servers before 3.4 do). */
static const char *
entry_type(const bson_t *info)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, info, "type") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL)
										  : "collection";
}

bool
conn_list_namespaces(mongoc_client_t *client, const char *db, char ***out, int *n, bson_error_t *err)
{
	return conn_list_of_type(client, db, "collection", out, n, err);
}

bool
conn_list_of_type(mongoc_client_t *client, const char *db, const char *type, char ***out, int *n,
	bson_error_t *err)
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
			if (strcmp(entry_type(info), type) != 0)
				continue; /* a view or a time series, or the other way round */
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
