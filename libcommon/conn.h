/*
 * conn.h: where a tool's server is and how to reach it.  The URI comes from
 * --uri, else --uri-file (so a password stays out of ps(1)), else
 * $MONGODB_URI, else mongodb://localhost:27017; mongo-tools' connection
 * flags (--host, --username, --tls, ...) add to it (struct conn_flags).  Its
 * passwords are registered with diag so that no line the suite prints shows
 * them.
 */
#ifndef MP_CONN_H
#define MP_CONN_H

#include <stdbool.h>
#include <mongoc/mongoc.h>

#define CONN_DEFAULT_URI "mongodb://localhost:27017"

/*
 * Resolve the connection string as above, check that it parses, register its
 * password as a secret.  `uri_opt` and `uri_file` may be NULL; `env` names
 * the environment variable (NULL: "MONGODB_URI").  Returns a string to
 * bson_free(), or NULL with err set (64 for a malformed URI or both options,
 * 66 for an unreadable file).
 */
char *conn_resolve_uri(const char *uri_opt, const char *uri_file, const char *env,
	bson_error_t *err);

/*
 * mongo-tools' connection flags, as given (NULL or false: not given), and
 * the URI text they add to (--uri, or what --uri-file or --config held).
 */
struct conn_flags {
	const char *uri;
	const char *host, *port; /* "h", "h:p", "h1:p1,h2:p2", "rs/h1,h2"; "27017" */
	const char *username, *password, *auth_db, *auth_mech;
	bool tls, tls_insecure;
	const char *tls_ca_file, *tls_cert_key_file, *tls_cert_key_password;
	const char *read_preference;
};

/* True when any field of f is given. */
bool conn_flags_given(const struct conn_flags *f);

/*
 * The connection f describes, in one place: f->uri, else a URI of
 * --host/--port (these name the server, so $MONGODB_URI does not apply),
 * else $`env` (NULL: "MONGODB_URI"), else mongodb://localhost:27017; then
 * each flag set with the mongoc_uri_t setters, so that a user name or
 * password needs no escaping.  A flag the URI already says the same is
 * harmless; one that contradicts it (--host with a URI, another user, tls
 * off in the URI) is refused (64), as is a malformed URI (its password not
 * shown).  Passwords are registered as secrets.  Returns a URI to
 * mongoc_uri_destroy(), or NULL with err.
 */
mongoc_uri_t *conn_resolve(const struct conn_flags *f, const char *env, bson_error_t *err);

/*
 * --host and --port as a host list for a URI ("h1:p1,h2:27017") and the
 * replica set name of the "rs/h1,h2" form (NULL without one).  A host is a
 * name, an IPv4 address or an [IPv6] address, each with an optional port;
 * --port (NULL: none) goes to the hosts that name none, and contradicts one
 * that names another (64).  Either may be NULL (localhost, 27017).  Free
 * both with bson_free.
 */
bool conn_parse_hosts(const char *host, const char *port, char **list, char **replset, bson_error_t *err);

/*
 * A --config FILE as mongo-tools reads it: YAML of one `key: value` a line,
 * the value plain or quoted ('...' or "..."), `#` comments; the keys uri,
 * password and tlsCertificateKeyFilePassword (sslPEMKeyPassword, its old
 * name).  Fields not in the file stay NULL; free them with
 * conn_config_clear().  Every password is registered as a secret.
 */
struct conn_config {
	char *uri, *password, *tls_cert_key_password;
};

/* Parse the text of `path`: false with err (65) naming the line that is not
 * `key: value` of a known key, or repeats one. */
bool conn_config_parse(const char *text, const char *path, struct conn_config *out, bson_error_t *err);

/* Read and parse `path`: false with err, 66 naming it when it cannot be
 * read, or when group or others may read or write it (as ssh refuses a key
 * file: a password file anyone can read is no secret). */
bool conn_config_read(const char *path, struct conn_config *out, bson_error_t *err);
void conn_config_clear(struct conn_config *c);

/* The text of a --uri-file (- is standard input), trailing blanks removed:
 * bson_free() it; NULL with err (66 unreadable, 64 empty). */
char *conn_read_uri_file(const char *path, bson_error_t *err);

/*
 * A connection string given explicitly, with no fallback (a two-sided tool's
 * --source and --target: neither --uri-file, $MONGODB_URI nor the default
 * applies): check that it parses and register its password as a secret.
 * Returns a copy to bson_free(), or NULL with err (64) for a malformed URI,
 * its password not shown.
 */
char *conn_check_uri(const char *uri, bson_error_t *err);

/* The hosts of a URI as "h1:p1,h2:p2" (never a user or password), the SRV
 * name of a mongodb+srv URI, or the URI redacted: what an error names.
 * bson_free() it. */
char *conn_hosts(const char *uri);

/* A copy of `uri` with its password replaced by "****"; bson_free() it. */
char *conn_redact(const char *uri);

/*
 * The timeouts of every client made from now on, in milliseconds, unless
 * its URI sets them: a reply awaited longer than `socket_ms` is a network
 * error (0: wait for ever); `connect_ms` bounds a connection and the search
 * for a server.  Defaults: 300000 (the driver's: an index build or a count
 * on a large collection takes minutes and must not be cut; a stop request
 * is honoured within the grace period of sig.h whatever this is) and 10000
 * (the driver waits 30 s to find a server).
 */
#define CONN_SOCKET_TIMEOUT_MS 300000
#define CONN_CONNECT_TIMEOUT_MS 10000
void conn_set_timeouts(int32_t socket_ms, int32_t connect_ms);

/* A client for `uri` with the suite's settings (error API 2, appname
 * "mongo-pipes/<tool>"); NULL with err (64) when the URI is bad. */
mongoc_client_t *conn_client_new(const char *uri, const char *tool, bson_error_t *err);

/* A thread-safe pool for --workers/--parallel, same settings. */
mongoc_client_pool_t *conn_pool_new(const char *uri, const char *tool, bson_error_t *err);

/* The same from a parsed URI (conn_resolve), which stays the caller's. */
mongoc_client_t *conn_client_new_uri(const mongoc_uri_t *uri, const char *tool, bson_error_t *err);
mongoc_client_pool_t *conn_pool_new_uri(const mongoc_uri_t *uri, const char *tool, bson_error_t *err);

/* Run {ping: 1}: true when the deployment answers (else 69 in err). */
bool conn_ping(mongoc_client_t *client, bson_error_t *err);

/* Run a command that writes (create, drop, renameCollection, ...) on db,
 * its reply dropped; false with the server's error in err. */
bool conn_write_command(mongoc_client_t *client, const char *db, const bson_t *cmd, bson_error_t *err);

/* Split "db.coll" into its parts (the collection may contain dots).
 * Returns false (64) when either part is empty.  Free both with bson_free. */
bool conn_split_ns(const char *ns, char **db, char **coll, bson_error_t *err);

/*
 * The collections of database `db`, or of every database but admin, local
 * and config when db is NULL, as "db.coll" in sorted order (no system.*
 * collections, no views or time series).  *out is NULL-terminated and set
 * even on failure; free it with bson_strfreev.  Errors: the driver's.
 */
bool conn_list_namespaces(mongoc_client_t *client, const char *db, char ***out, int *n, bson_error_t *err);
/* The same for the entries of another listCollections type ("view"). */
bool conn_list_of_type(mongoc_client_t *client, const char *db, const char *type, char ***out, int *n,
	bson_error_t *err);

/*
 * Whether collection (or view) `coll` exists in database `db`: listCollections
 * with a name filter.  False with err set (the driver's) when the server
 * cannot say; *exists is then false.
 */
bool conn_collection_exists(mongoc_client_t *client, const char *db, const char *coll, bool *exists,
	bson_error_t *err);

#endif
