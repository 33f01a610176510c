/*
 * cli.h: the options every tool shares (DESIGN.md, "Conventions"), parsed in
 * one place so that they mean the same everywhere.  A tool declares which of
 * them it honours, with its own, in one table (opt.h); opt_parse() hands the
 * shared ones to cli_common_option().
 */
#ifndef MP_CLI_H
#define MP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bson/bson.h>

#include "conn.h"
#include "docstream.h"

enum cli_opt {
	CLI_OPT_URI = 1000,
	CLI_OPT_URI_FILE,
	CLI_OPT_NS,
	CLI_OPT_DB,
	CLI_OPT_COLLECTION,
	CLI_OPT_FORMAT,
	CLI_OPT_INPUT_FORMAT,
	CLI_OPT_JSON,
	CLI_OPT_GZIP,
	CLI_OPT_STATS,
	CLI_OPT_STATS_FD,
	CLI_OPT_PROGRESS,
	CLI_OPT_MAX_DOC,
	CLI_OPT_SOCKET_TIMEOUT,
	CLI_OPT_NS_INCLUDE,
	CLI_OPT_NS_EXCLUDE,
	CLI_OPT_EXCLUDE_COLLECTION,
	CLI_OPT_EXCLUDE_PREFIX,
	CLI_OPT_CONNECT_TIMEOUT,
	CLI_OPT_NS_FROM,
	CLI_OPT_NS_TO,
	CLI_OPT_HOST, /* mongo-tools' connection flags (struct conn_flags) */
	CLI_OPT_PORT,
	CLI_OPT_AUTH_DB,
	CLI_OPT_AUTH_MECH,
	CLI_OPT_TLS,
	CLI_OPT_TLS_CA_FILE,
	CLI_OPT_TLS_CERT_KEY_FILE,
	CLI_OPT_TLS_CERT_KEY_PASSWORD,
	CLI_OPT_TLS_INSECURE,
	CLI_OPT_READ_PREFERENCE,
	CLI_OPT_CONFIG,
	CLI_OPT_TOOL_BASE = 1100, /* tools number their own long options from here */
};

struct cli_common {
	const char *uri, *uri_file;
	struct conn_flags conn; /* -u, -p, --host, ... (its uri: set by cli_common_connection) */
	const char *config;     /* --config FILE */
	const char *ns, *db, *collection; /* --ns, or --db [--collection] */
	enum docstream_format format;       /* output; default BSON */
	enum docstream_format input_format; /* default: detect */
	enum docstream_json json;
	bool gzip;
	const char *stats_path;
	int stats_fd;
	bool progress;
	size_t max_doc;
	int32_t socket_timeout_ms, connect_timeout_ms; /* conn_set_timeouts() */
	int verbosity;
	bool help, version;
	bool tabular; /* set by a tool that reads or writes CSV/TSV: --format/--input-format take csv|tsv */
};

void cli_common_init(struct cli_common *c);

/* Once the options are parsed and checked, before any work: the driver up
 * (its log through diag), and SIGINT/SIGTERM/SIGPIPE handled (sig.h).
 * cli_runtime_end() after the work. */
void cli_runtime_begin(void);
void cli_runtime_end(void);

/* Handle one getopt result: 1 if it was a common option, 0 if not (the tool
 * handles it), -1 for a bad value (err says which, exit status 64). */
int cli_common_option(struct cli_common *c, int opt, const char *arg, bson_error_t *err);

/*
 * After parsing, for a tool that takes --uri: read --uri-file and --config
 * (refused when group or others may read or write it: 66), ask for an empty
 * --password on the terminal, and put the URI text in c->conn.uri.  Then,
 * if anything about the connection was given, check it now (conn_resolve)
 * so that a contradiction is a usage error before any work.  False with err
 * (64 misuse, 65 a bad config line, 66 a file that cannot be read).
 */
bool cli_common_connection(struct cli_common *c, bson_error_t *err);

/* The connection of a tool that takes --uri (conn_resolve of c->conn):
 * mongoc_uri_destroy() it; NULL with err. */
mongoc_uri_t *cli_common_uri(const struct cli_common *c, bson_error_t *err);

/*
 * After parsing: fold --db/--collection into a namespace ("db.coll" in
 * *ns_out, or NULL with only *db_out for a whole database).  False (64) for
 * --ns together with --db, or --collection without --db.  Free both.
 */
bool cli_common_namespace(const struct cli_common *c, char **ns_out, char **db_out, bson_error_t *err);


/* Print "<prog> <version>" to stdout; return 0. */
int cli_version(void);

/* Strict number parsing: the whole string, within range. */
bool cli_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parse Extended JSON text (or "@FILE": the file's contents) into a new
 * document; `what` names the option in the error (64). */
bson_t *cli_parse_json_doc(const char *text, const char *what, bson_error_t *err);

/* Parse "K/N" with 1 <= K <= N. */
bool cli_parse_share(const char *s, int *k, int *n);

#endif
