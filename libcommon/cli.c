/*
 * cli.c: the options every tool shares, parsed in one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "cli.h"
#include "conn.h"
#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "nsmap.h"
#include "sig.h"

void
cli_common_init(struct cli_common *c)
{
	memset(c, 0, sizeof *c);
	c->format = DOCSTREAM_BSON;
	c->input_format = DOCSTREAM_AUTO;
	c->json = DOCSTREAM_JSON_CANONICAL;
	c->stats_fd = -1;
	c->verbosity = DIAG_WARN;
	c->socket_timeout_ms = CONN_SOCKET_TIMEOUT_MS;
	c->connect_timeout_ms = CONN_CONNECT_TIMEOUT_MS;
}

bool
cli_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
cli_parse_share(const char *s, int *k, int *n)
{
	int64_t a, b;
	const char *slash = strchr(s, '/');
	char left[32];

	if (slash == NULL || (size_t)(slash - s) >= sizeof left)
		return false;
	memcpy(left, s, (size_t)(slash - s));
	left[slash - s] = '\0';
	if (!cli_parse_int64(left, 1, 10000, &a) || !cli_parse_int64(slash + 1, 1, 10000, &b) || a > b)
		return false;
	*k = (int)a;
	*n = (int)b;
	return true;
}

/* --socket-timeout / --connect-timeout SECONDS, applied to every client
 * made from now on (conn_set_timeouts). */
static bool
timeout_option(struct cli_common *c, bool socket, const char *arg, bson_error_t *err)
{
	double s;
	char *end;

	errno = 0;
	s = strtod(arg, &end);
	if (*arg == '\0' || *end != '\0' || errno != 0 || !(s >= 0 && s <= 86400) || (!socket && s == 0)) {
		mp_error_set(err, MP_EX_USAGE, "%s takes seconds (%s), not '%s'",
			socket ? "--socket-timeout" : "--connect-timeout",
			socket ? "0 to 86400, 0 waits for ever" : "above 0, up to 86400", arg);
		return false;
	}
	if (socket)
		c->socket_timeout_ms = (int32_t)(s * 1000);
	else
		c->connect_timeout_ms = (int32_t)(s * 1000);
	conn_set_timeouts(c->socket_timeout_ms, c->connect_timeout_ms);
	return true;
}

/* Where an option that takes its value as it is goes; NULL for others. */
static const char **
string_option(struct cli_common *c, int opt)
{
	switch (opt) {
	case CLI_OPT_URI: return &c->uri;
	case CLI_OPT_URI_FILE: return &c->uri_file;
	case CLI_OPT_NS: return &c->ns;
	case CLI_OPT_DB: return &c->db;
	case CLI_OPT_COLLECTION: return &c->collection;
	case CLI_OPT_STATS: return &c->stats_path;
	case CLI_OPT_HOST: return &c->conn.host;
	case CLI_OPT_PORT: return &c->conn.port;
	case 'u': return &c->conn.username;
	case CLI_OPT_AUTH_DB: return &c->conn.auth_db;
	case CLI_OPT_AUTH_MECH: return &c->conn.auth_mech;
	case CLI_OPT_TLS_CA_FILE: return &c->conn.tls_ca_file;
	case CLI_OPT_TLS_CERT_KEY_FILE: return &c->conn.tls_cert_key_file;
	case CLI_OPT_READ_PREFERENCE: return &c->conn.read_preference;
	case CLI_OPT_CONFIG: return &c->config;
	default: return NULL;
	}
}

/* What the connection options read or were given, kept for the whole run
 * (static: no tool has to free them). */
static struct conn_config config_file;
static char *uri_file_text, *password_copy, *tls_password_copy, *prompted;

/*
 * A password given on the command line: keep a copy and overwrite the
 * argument in place, so that ps(1) and /proc/PID/cmdline, which show the
 * memory of argv, no longer show it.  An empty one stays empty (asked for
 * on the terminal later).
 */
static const char *
take_secret(const char *arg, char **copy)
{
	bson_free(*copy);
	*copy = bson_strdup(arg);
	diag_add_secret(*copy);
	memset((char *)arg, 'x', strlen(arg));
	return *copy;
}

/* The connection options that are not a plain string. */
static int
conn_option(struct cli_common *c, int opt, const char *arg)
{
	if (opt == 'p')
		c->conn.password = take_secret(arg, &password_copy);
	else if (opt == CLI_OPT_TLS_CERT_KEY_PASSWORD)
		c->conn.tls_cert_key_password = take_secret(arg, &tls_password_copy);
	else if (opt == CLI_OPT_TLS)
		c->conn.tls = true;
	else if (opt == CLI_OPT_TLS_INSECURE)
		c->conn.tls_insecure = true;
	return 1;
}

/* --format (out) or --input-format: 1, or -1 with err (64). */
static int
format_option(struct cli_common *c, bool out, const char *arg, bson_error_t *err)
{
	if (docstream_format_parse(arg, c->tabular, out ? &c->format : &c->input_format))
		return 1;
	mp_error_set(err, MP_EX_USAGE, "--%s takes bson%s, not '%s'", out ? "format" : "input-format",
		c->tabular ? ", ndjson, csv or tsv" : " or ndjson", arg);
	return -1;
}

int
cli_common_option(struct cli_common *c, int opt, const char *arg, bson_error_t *err)
{
	const char **dest = string_option(c, opt);
	int64_t v;

	if (dest != NULL) {
		*dest = arg;
		return 1;
	}
	switch (opt) {
	case CLI_OPT_FORMAT:
	case CLI_OPT_INPUT_FORMAT:
		return format_option(c, opt == CLI_OPT_FORMAT, arg, err);
	case CLI_OPT_JSON:
		if (!docstream_json_parse(arg, &c->json)) {
			mp_error_set(err, MP_EX_USAGE, "--json takes canonical or relaxed, not '%s'", arg);
			return -1;
		}
		return 1;
	case CLI_OPT_GZIP:
		c->gzip = true;
		return 1;
	case CLI_OPT_STATS_FD:
		if (!cli_parse_int64(arg, 0, INT_MAX, &v)) {
			mp_error_set(err, MP_EX_USAGE, "--stats-fd takes a file descriptor number, not '%s'", arg);
			return -1;
		}
		c->stats_fd = (int)v;
		return 1;
	case CLI_OPT_PROGRESS:
		c->progress = true;
		return 1;
	case 'p':
	case CLI_OPT_TLS_CERT_KEY_PASSWORD:
	case CLI_OPT_TLS:
	case CLI_OPT_TLS_INSECURE:
		return conn_option(c, opt, arg);
	case CLI_OPT_NS_INCLUDE:
	case CLI_OPT_NS_EXCLUDE:
	case CLI_OPT_EXCLUDE_COLLECTION:
	case CLI_OPT_EXCLUDE_PREFIX:
		return ns_select_add((enum ns_select_kind)(opt - CLI_OPT_NS_INCLUDE), arg, err) ? 1 : -1;
	case CLI_OPT_NS_FROM:
	case CLI_OPT_NS_TO:
		return ns_rename_add(opt == CLI_OPT_NS_TO, arg, err) ? 1 : -1;
	case CLI_OPT_SOCKET_TIMEOUT:
	case CLI_OPT_CONNECT_TIMEOUT:
		return timeout_option(c, opt == CLI_OPT_SOCKET_TIMEOUT, arg, err) ? 1 : -1;
	case CLI_OPT_MAX_DOC:
		if (!cli_parse_int64(arg, 5, INT32_MAX, &v)) {
			mp_error_set(err, MP_EX_USAGE, "--max-doc-size takes a byte count, not '%s'", arg);
			return -1;
		}
		c->max_doc = (size_t)v;
		return 1;
	case 'q':
		c->verbosity = DIAG_ERROR;
		diag_set_verbosity(c->verbosity);
		return 1;
	case 'v':
		c->verbosity = c->verbosity < DIAG_WARN ? DIAG_INFO : c->verbosity + 1;
		diag_set_verbosity(c->verbosity);
		return 1;
	case 'h':
		c->help = true;
		return 1;
	case 'V':
		c->version = true;
		return 1;
	default:
		return 0;
	}
}

bool
cli_common_namespace(const struct cli_common *c, char **ns_out, char **db_out, bson_error_t *err)
{
	*ns_out = *db_out = NULL;
	if (c->ns && (c->db || c->collection)) {
		mp_error_set(err, MP_EX_USAGE, "--ns cannot be combined with --db or --collection");
		return false;
	}
	if (c->collection && !c->db) {
		mp_error_set(err, MP_EX_USAGE, "--collection needs --db");
		return false;
	}
	if (c->ns) {
		char *coll;

		if (!conn_split_ns(c->ns, db_out, &coll, NULL)) {
			mp_error_set(err, MP_EX_USAGE, "--ns takes db.collection, not '%s'", c->ns);
			return false;
		}
		bson_free(coll);
		*ns_out = bson_strdup(c->ns);
	} else if (c->db) {
		*db_out = bson_strdup(c->db);
		if (c->collection)
			*ns_out = bson_strdup_printf("%s.%s", c->db, c->collection);
	}
	return true;
}

/* The terminal as it was before the prompt, put back by a signal that
 * ends the tool while it asks (the echo would stay off otherwise). */
static struct termios prompt_saved;
static int prompt_fd = -1;

static void
prompt_signal(int sig)
{
	tcsetattr(prompt_fd, TCSANOW, &prompt_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read a line from the terminal without echo: an empty --password, as
 * mongo-tools asks for it.  The prompt goes to the terminal itself, not
 * stderr, which may be a log.  A signal that ends the tool puts the echo
 * back first; Ctrl-Z is ignored while it asks.  64 without a terminal. */
static char *
prompt_password(bson_error_t *err)
{
	struct termios saved, quiet;
	char buf[1024], ch;
	size_t n = 0;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	void (*old_term)(int), (*old_hup)(int), (*old_int)(int), (*old_tstp)(int);

	if (fd < 0 || tcgetattr(fd, &saved) != 0) {
		mp_error_set(err, MP_EX_USAGE, "--password is empty and there is no terminal to ask for it on");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	prompt_saved = saved;
	prompt_fd = fd;
	old_term = signal(SIGTERM, prompt_signal);
	old_hup = signal(SIGHUP, prompt_signal);
	old_int = signal(SIGINT, prompt_signal);
	old_tstp = signal(SIGTSTP, SIG_IGN);
	/* echo off before the prompt shows: a password typed the moment it
	 * appears is never echoed (TCSANOW keeps what was typed ahead) */
	tcsetattr(fd, TCSANOW, &quiet);
	dprintf(fd, "%s: password: ", diag_progname());
	while (read(fd, &ch, 1) == 1 && ch != '\n' && ch != '\r')
		if (n + 1 < sizeof buf)
			buf[n++] = ch;
	buf[n] = '\0';
	tcsetattr(fd, TCSANOW, &saved);
	signal(SIGTERM, old_term);
	signal(SIGHUP, old_hup);
	signal(SIGINT, old_int);
	signal(SIGTSTP, old_tstp);
	dprintf(fd, "\n");
	close(fd);
	if (n == 0) {
		mp_error_set(err, MP_EX_USAGE, "no password given at the prompt");
		return NULL;
	}
	diag_add_secret(buf);
	prompted = bson_strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return prompted;
}

/* --config FILE: its values stand in for the options not given. */
static bool
apply_config_file(struct cli_common *c, bson_error_t *err)
{
	if (c->config == NULL)
		return true;
	conn_config_clear(&config_file);
	if (!conn_config_read(c->config, &config_file, err))
		return false;
	if (!c->uri && !c->uri_file && config_file.uri)
		c->uri = config_file.uri;
	if (!c->conn.password && config_file.password)
		c->conn.password = config_file.password;
	if (!c->conn.tls_cert_key_password && config_file.tls_cert_key_password)
		c->conn.tls_cert_key_password = config_file.tls_cert_key_password;
	return true;
}

bool
cli_common_connection(struct cli_common *c, bson_error_t *err)
{
	mongoc_uri_t *u;

	if (c->uri != NULL && c->uri_file != NULL) {
		mp_error_set(err, MP_EX_USAGE, "--uri and --uri-file are mutually exclusive");
		return false;
	}
	if (!apply_config_file(c, err))
		return false;
	if (c->uri_file != NULL && uri_file_text == NULL && (uri_file_text = conn_read_uri_file(c->uri_file, err)) == NULL)
		return false;
	c->conn.uri = c->uri_file ? uri_file_text : c->uri;
	if (c->conn.password && *c->conn.password == '\0' && (c->conn.password = prompt_password(err)) == NULL)
		return false;
	if (!conn_flags_given(&c->conn))
		return true; /* $MONGODB_URI or the default, when the tool connects */
	if ((u = conn_resolve(&c->conn, NULL, err)) == NULL)
		return false;
	mongoc_uri_destroy(u);
	return true;
}

mongoc_uri_t *
cli_common_uri(const struct cli_common *c, bson_error_t *err)
{
	return conn_resolve(&c->conn, NULL, err);
}

int
cli_version(void)
{
	printf("%s %s (mongo-pipes; libmongoc %s)\n", diag_progname(), MP_VERSION, MONGOC_VERSION_S);
	return 0;
}

static char *
slurp(const char *path, bson_error_t *err)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = bson_malloc((size_t)(n < 0 ? 0 : n) + 1);
	n = (long)fread(buf, 1, (size_t)(n < 0 ? 0 : n), f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

bson_t *
cli_parse_json_doc(const char *text, const char *what, bson_error_t *err)
{
	char *owned = NULL;
	bson_error_t jerr;
	bson_t *doc;

	if (text[0] == '@') {
		owned = slurp(text + 1, err);
		if (owned == NULL)
			return NULL;
		text = owned;
	}
	doc = ejson_to_bson_new(text, -1, &jerr);
	if (doc == NULL)
		mp_error_set(err, MP_EX_USAGE, "%s: invalid Extended JSON: %s", what, jerr.message);
	bson_free(owned);
	return doc;
}

void
cli_runtime_begin(void)
{
	/* The driver's reply buffers (up to 48 MB a batch) and our stream
	 * buffers are allocated and freed again for every batch: by default
	 * glibc serves those from fresh mmap()s or trims them off the heap, so
	 * each batch paid page faults for memory it had just returned (most of
	 * a dump's client CPU).  Keep them on the heap, and keep the heap. */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
	mongoc_init();
	diag_capture_driver_log();
	sig_install();
}

void
cli_runtime_end(void)
{
	mongoc_cleanup();
}
