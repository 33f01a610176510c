/*
 * opt.c: parse a tool's options from its declarative table (opt.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "checkpoint.h"
#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "nsmap.h"
#include "opt.h"

#define OPT_CODE_BASE 2000 /* getopt codes of table rows: OPT_CODE_BASE + row */
#define HELP_INDENT 10
#define HELP_WIDTH 79

struct common_opt {
	unsigned mask;
	struct option o;
	const char *help; /* as --help shows it */
};

static const struct common_opt commons[] = {
	{OPT_COMMON_URI, {"uri", required_argument, NULL, CLI_OPT_URI}, "--uri URI"},
	{OPT_COMMON_URI, {"uri-file", required_argument, NULL, CLI_OPT_URI_FILE}, "--uri-file FILE"},
	{OPT_COMMON_URI, {"host", required_argument, NULL, CLI_OPT_HOST}, "--host HOST[:PORT][,...]"},
	{OPT_COMMON_URI, {"port", required_argument, NULL, CLI_OPT_PORT}, "--port PORT"},
	{OPT_COMMON_URI, {"username", required_argument, NULL, 'u'}, "-u|--username USER"},
	{OPT_COMMON_URI, {"password", required_argument, NULL, 'p'}, "-p|--password PASSWORD"},
	{OPT_COMMON_URI, {"authentication-database", required_argument, NULL, CLI_OPT_AUTH_DB},
		"--authentication-database|--authenticationDatabase DB"},
	{OPT_COMMON_URI, {"authenticationDatabase", required_argument, NULL, CLI_OPT_AUTH_DB}, NULL},
	{OPT_COMMON_URI, {"authentication-mechanism", required_argument, NULL, CLI_OPT_AUTH_MECH},
		"--authentication-mechanism|--authenticationMechanism MECH"},
	{OPT_COMMON_URI, {"authenticationMechanism", required_argument, NULL, CLI_OPT_AUTH_MECH}, NULL},
	{OPT_COMMON_URI, {"tls", no_argument, NULL, CLI_OPT_TLS}, "--tls"},
	{OPT_COMMON_URI, {"tls-ca-file", required_argument, NULL, CLI_OPT_TLS_CA_FILE}, "--tls-ca-file|--tlsCAFile FILE"},
	{OPT_COMMON_URI, {"tlsCAFile", required_argument, NULL, CLI_OPT_TLS_CA_FILE}, NULL},
	{OPT_COMMON_URI, {"tls-certificate-key-file", required_argument, NULL, CLI_OPT_TLS_CERT_KEY_FILE},
		"--tls-certificate-key-file|--tlsCertificateKeyFile FILE"},
	{OPT_COMMON_URI, {"tlsCertificateKeyFile", required_argument, NULL, CLI_OPT_TLS_CERT_KEY_FILE}, NULL},
	/* both spellings together would pass 79 columns: one item each */
	{OPT_COMMON_URI, {"tls-certificate-key-file-password", required_argument, NULL, CLI_OPT_TLS_CERT_KEY_PASSWORD},
		"--tls-certificate-key-file-password PASSWORD"},
	{OPT_COMMON_URI, {"tlsCertificateKeyFilePassword", required_argument, NULL, CLI_OPT_TLS_CERT_KEY_PASSWORD},
		"--tlsCertificateKeyFilePassword PASSWORD"},
	{OPT_COMMON_URI, {"tls-insecure", no_argument, NULL, CLI_OPT_TLS_INSECURE}, "--tls-insecure|--tlsInsecure"},
	{OPT_COMMON_URI, {"tlsInsecure", no_argument, NULL, CLI_OPT_TLS_INSECURE}, NULL},
	{OPT_COMMON_URI, {"read-preference", required_argument, NULL, CLI_OPT_READ_PREFERENCE},
		"--read-preference|--readPreference MODE"},
	{OPT_COMMON_URI, {"readPreference", required_argument, NULL, CLI_OPT_READ_PREFERENCE}, NULL},
	{OPT_COMMON_URI, {"config", required_argument, NULL, CLI_OPT_CONFIG}, "--config FILE"},
	{OPT_COMMON_NS, {"ns", required_argument, NULL, CLI_OPT_NS}, "--ns DB.COLL"},
	{OPT_COMMON_DB, {"db", required_argument, NULL, CLI_OPT_DB}, "--db DB"},
	{OPT_COMMON_DB, {"collection", required_argument, NULL, CLI_OPT_COLLECTION}, "--collection C"},
	{OPT_COMMON_FORMAT, {"format", required_argument, NULL, CLI_OPT_FORMAT}, "--format bson|ndjson"},
	{OPT_COMMON_FORMAT, {"json", required_argument, NULL, CLI_OPT_JSON}, "--json|--jsonFormat canonical|relaxed"},
	{OPT_COMMON_FORMAT, {"jsonFormat", required_argument, NULL, CLI_OPT_JSON}, NULL},
	{OPT_COMMON_GZIP, {"gzip", no_argument, NULL, CLI_OPT_GZIP}, "--gzip"},
	{OPT_COMMON_INPUT, {"input-format", required_argument, NULL, CLI_OPT_INPUT_FORMAT}, "--input-format F"},
	{OPT_COMMON_INPUT, {"max-doc-size", required_argument, NULL, CLI_OPT_MAX_DOC}, "--max-doc-size N"},
	{OPT_COMMON_STATS, {"stats", required_argument, NULL, CLI_OPT_STATS}, "--stats FILE"},
	{OPT_COMMON_STATS, {"stats-fd", required_argument, NULL, CLI_OPT_STATS_FD}, "--stats-fd N"},
	{OPT_COMMON_PROGRESS, {"progress", no_argument, NULL, CLI_OPT_PROGRESS}, "--progress"},
	{OPT_COMMON_NSSELECT, {"ns-include", required_argument, NULL, CLI_OPT_NS_INCLUDE},
		"--ns-include|--nsInclude PATTERN"},
	{OPT_COMMON_NSSELECT, {"nsInclude", required_argument, NULL, CLI_OPT_NS_INCLUDE}, NULL},
	{OPT_COMMON_NSSELECT, {"ns-exclude", required_argument, NULL, CLI_OPT_NS_EXCLUDE},
		"--ns-exclude|--nsExclude PATTERN"},
	{OPT_COMMON_NSSELECT, {"nsExclude", required_argument, NULL, CLI_OPT_NS_EXCLUDE}, NULL},
	{OPT_COMMON_NSSELECT, {"exclude-collection", required_argument, NULL, CLI_OPT_EXCLUDE_COLLECTION},
		"--exclude-collection|--excludeCollection C"},
	{OPT_COMMON_NSSELECT, {"excludeCollection", required_argument, NULL, CLI_OPT_EXCLUDE_COLLECTION}, NULL},
	{OPT_COMMON_NSSELECT, {"exclude-collections-with-prefix", required_argument, NULL, CLI_OPT_EXCLUDE_PREFIX},
		"--exclude-collections-with-prefix|--excludeCollectionsWithPrefix P"},
	{OPT_COMMON_NSSELECT, {"excludeCollectionsWithPrefix", required_argument, NULL, CLI_OPT_EXCLUDE_PREFIX}, NULL},
	{OPT_COMMON_NSRENAME, {"ns-from", required_argument, NULL, CLI_OPT_NS_FROM}, "--ns-from|--nsFrom PATTERN"},
	{OPT_COMMON_NSRENAME, {"nsFrom", required_argument, NULL, CLI_OPT_NS_FROM}, NULL},
	{OPT_COMMON_NSRENAME, {"ns-to", required_argument, NULL, CLI_OPT_NS_TO}, "--ns-to|--nsTo PATTERN"},
	{OPT_COMMON_NSRENAME, {"nsTo", required_argument, NULL, CLI_OPT_NS_TO}, NULL},
	{OPT_COMMON_TIMEOUTS, {"socket-timeout", required_argument, NULL, CLI_OPT_SOCKET_TIMEOUT},
		"--socket-timeout SECONDS"},
	{OPT_COMMON_TIMEOUTS, {"connect-timeout", required_argument, NULL, CLI_OPT_CONNECT_TIMEOUT},
		"--connect-timeout SECONDS"},
	{0, {"quiet", no_argument, NULL, 'q'}, "-q|--quiet"},
	{0, {"verbose", no_argument, NULL, 'v'}, "-v|--verbose"},
	{0, {"help", no_argument, NULL, 'h'}, "-h|--help"},
	{0, {"version", no_argument, NULL, 'V'}, "-V|--version"},
};
#define NCOMMONS (sizeof commons / sizeof commons[0])

/* ---- --help ---- */

struct help_line {
	FILE *f;
	int col;
};

static void
help_section(struct help_line *h, const char *title)
{
	if (h->col > 0)
		fputc('\n', h->f);
	h->col = fprintf(h->f, "%s: ", title);
	while (h->col < HELP_INDENT)
		h->col += fprintf(h->f, " ");
}

static void
help_item(struct help_line *h, const char *text)
{
	int len = (int)strlen(text);

	if (h->col > HELP_INDENT && h->col + 2 + len > HELP_WIDTH) {
		fputc('\n', h->f);
		h->col = fprintf(h->f, "%*s", HELP_INDENT, "");
	} else if (h->col > HELP_INDENT) {
		h->col += fprintf(h->f, "  ");
	}
	h->col += fprintf(h->f, "%s", text);
}

/* "--name ARG", "-o|--name ARG", "--name a|b|c" */
static void
opt_text(const struct opt *o, char *buf, size_t size)
{
	char arg[128] = "";

	if (o->arg && o->kind == OPT_OPTIONAL) {
		bson_snprintf(arg, sizeof arg, "[=%s]", o->arg);
	} else if (o->arg) {
		bson_snprintf(arg, sizeof arg, " %s", o->arg);
	} else if (o->kind == OPT_CHOICE) {
		size_t n = 0;

		for (int i = 0; o->choices[i] && n + 1 < sizeof arg; i++)
			n += (size_t)bson_snprintf(arg + n, sizeof arg - n, "%c%s", i ? '|' : ' ', o->choices[i]);
	}
	if (o->short_name)
		bson_snprintf(buf, size, "-%c|--%s%s", o->short_name, o->name, arg);
	else if (o->alias)
		bson_snprintf(buf, size, "--%s|--%s%s", o->name, o->alias, arg);
	else
		bson_snprintf(buf, size, "--%s%s", o->name, arg);
}

void
opt_usage(const struct opt_tool *t, FILE *f, bool verbose)
{
	struct help_line h = {f, 0};
	const char *p = t->synopsis, *nl;
	char buf[256];

	for (int first = 1; p && *p; first = 0, p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		fprintf(f, "%s%.*s\n", first ? "usage: " : "       ", (int)(nl ? nl - p : (long)strlen(p)), p);
	}
	fprintf(f, "\n%s\n\n", t->about);
	for (const struct opt *o = t->opts; o->kind != OPT_END; o++) {
		if (o->kind == OPT_SECTION) {
			help_section(&h, o->name);
			continue;
		}
		opt_text(o, buf, sizeof buf);
		if (verbose && o->help) {
			if (h.col > 0)
				fputc('\n', f);
			h.col = fprintf(f, "  %-30s %s", buf, o->help);
		} else {
			help_item(&h, buf);
		}
	}
	if (t->common & OPT_COMMON_URI)
		help_section(&h, "Connect");
	for (size_t i = 0; i < NCOMMONS; i++) /* an alias has no help: its line names it */
		if ((t->common & commons[i].mask & OPT_COMMON_URI) && commons[i].help != NULL)
			help_item(&h, commons[i].help);
	help_section(&h, "Common");
	for (size_t i = 0; i < NCOMMONS; i++)
		if ((commons[i].mask == 0 || (t->common & commons[i].mask & ~OPT_COMMON_URI)) && commons[i].help != NULL)
			help_item(&h, commons[i].help);
	fprintf(f, "\n\n%s\n", t->exits);
}

/* ---- parsing ---- */

int
opt_misuse(const struct opt_tool *t, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_error("%s", msg);
	opt_usage(t, stderr, false);
	return MP_EX_USAGE;
}

/* The option as the user typed it ("--batch" for a prefix of --batch-size). */
static void
typed_name(int argc, char **argv, const char *arg, char *buf, size_t size)
{
	const char *w;
	size_t n;

	if (optind < 1 || optind > argc) {
		bson_strncpy(buf, "?", size);
		return;
	}
	w = argv[optind - 1];
	if (arg != NULL && w == arg && optind >= 2)
		w = argv[optind - 2];
	n = strcspn(w, "=");
	bson_snprintf(buf, size, "%.*s", (int)n, w);
}

static bool
apply(const struct opt *o, const char *arg, const char *typed, bson_error_t *err)
{
	int64_t v;

	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)o->dest = true;
		return true;
	case OPT_STRING:
		*(const char **)o->dest = arg;
		return true;
	case OPT_OPTIONAL:
		*(const char **)o->dest = arg ? arg : "-";
		return true;
	case OPT_INT:
		if (!cli_parse_int64(arg, o->min, o->max, &v)) {
			mp_error_set(err, MP_EX_USAGE, "%s takes %lld to %lld, not '%s'", typed, (long long)o->min,
				(long long)o->max, arg);
			return false;
		}
		*(int64_t *)o->dest = v;
		return true;
	case OPT_CHOICE:
		for (int i = 0; o->choices[i]; i++) {
			if (strcmp(o->choices[i], arg) == 0) {
				*(int *)o->dest = i;
				return true;
			}
		}
		{
			char list[256];
			size_t n = 0;

			list[0] = '\0';
			for (int i = 0; o->choices[i] && n + 1 < sizeof list; i++)
				n += (size_t)bson_snprintf(list + n, sizeof list - n, "%s%s",
					i == 0 ? "" : o->choices[i + 1] ? ", " : " or ", o->choices[i]);
			mp_error_set(err, MP_EX_USAGE, "%s takes %s, not '%s'", typed, list, arg);
		}
		return false;
	case OPT_CALL:
		if (!o->call(arg, o->dest, err)) {
			mp_error_wrap(err, "%s", typed);
			return false;
		}
		return true;
	default:
		return true;
	}
}

/*
 * getopt_long takes any unambiguous prefix of a long option: --ns would be
 * read as --ns-map by a tool without --ns.  A long option must be spelled
 * whole; a prefix is refused with the option it would have been.
 */
static int
refuse_abbreviation(const struct opt_tool *t, int argc, char **argv, const struct option *o, int li)
{
	char typed[128];

	if (li < 0)
		return -1; /* a short option */
	typed_name(argc, argv, o->has_arg ? optarg : NULL, typed, sizeof typed);
	if (strncmp(typed, "--", 2) != 0 || strcmp(typed + 2, o->name) == 0)
		return -1;
	return opt_misuse(t, "unknown option '%s' (did you mean --%s?)", typed, o->name);
}

static int
count_rows(const struct opt *opts)
{
	int n = 0;

	while (opts[n].kind != OPT_END)
		n++;
	return n;
}

static int after_parse(const struct opt_tool *t, struct cli_common *c, int argc, char **argv, char **ns_out,
	char **db_out);

int
opt_parse(const struct opt_tool *t, struct cli_common *c, int argc, char **argv, char **ns_out, char **db_out)
{
	int nrows = count_rows(t->opts), n = 0, ch, rc = -1, li = -1;
	struct option *lo = bson_malloc0(sizeof(struct option) * (NCOMMONS + 2 * (size_t)nrows + 1));
	char shorts[64] = ":qvhV", typed[128];
	size_t ns = strlen(shorts);
	bson_error_t err;

	*ns_out = *db_out = NULL;
	if (t->common & OPT_COMMON_URI) {
		bson_strncpy(shorts + ns, "u:p:", sizeof shorts - ns); /* mongo-tools' -u USER -p PASSWORD */
		ns = strlen(shorts);
	}
	for (size_t i = 0; i < NCOMMONS; i++)
		if (commons[i].mask == 0 || (t->common & commons[i].mask))
			lo[n++] = commons[i].o;
	for (int r = 0; r < nrows; r++) {
		const struct opt *o = &t->opts[r];
		int has_arg = o->kind == OPT_FLAG ? no_argument : o->kind == OPT_OPTIONAL ? optional_argument
												: required_argument;

		if (o->kind == OPT_SECTION)
			continue;
		lo[n++] = (struct option){o->name, has_arg, NULL, OPT_CODE_BASE + r};
		if (o->alias)
			lo[n++] = (struct option){o->alias, has_arg, NULL, OPT_CODE_BASE + r};
		if (o->short_name && ns + 3 < sizeof shorts) {
			shorts[ns++] = (char)o->short_name;
			if (o->kind != OPT_FLAG)
				shorts[ns++] = ':';
			shorts[ns] = '\0';
		}
	}
	opterr = 0;
	optind = 1;
	while (rc < 0 && (ch = getopt_long(argc, argv, shorts, lo, &li)) != -1) {
		if (ch != '?' && ch != ':' && (rc = refuse_abbreviation(t, argc, argv, &lo[li], li)) >= 0)
			break;
		li = -1;
		if (ch == '?' || ch == ':') {
			const char *w = optind >= 1 && optind <= argc ? argv[optind - 1] : "?";

			if (optopt && optopt < 256 && (optopt != 0) && strncmp(w, "--", 2) != 0)
				rc = ch == ':' ? opt_misuse(t, "option '-%c' needs an argument", optopt)
					       : opt_misuse(t, "unknown option '-%c'", optopt);
			else
				rc = ch == ':' ? opt_misuse(t, "option '%.*s' needs an argument", (int)strcspn(w, "="), w)
					       : opt_misuse(t, "unknown option '%.*s'", (int)strcspn(w, "="), w);
			break;
		}
		for (int r = 0; r < nrows; r++)
			if (t->opts[r].short_name == ch && t->opts[r].kind != OPT_SECTION)
				ch = OPT_CODE_BASE + r;
		if (ch >= OPT_CODE_BASE) {
			typed_name(argc, argv, optarg, typed, sizeof typed);
			if (!apply(&t->opts[ch - OPT_CODE_BASE], optarg, typed, &err))
				rc = opt_misuse(t, "%s", err.message);
			continue;
		}
		if (cli_common_option(c, ch, optarg, &err) < 0)
			rc = opt_misuse(t, "%s", err.message);
	}
	bson_free(lo);
	return rc >= 0 ? rc : after_parse(t, c, argc, argv, ns_out, db_out);
}

/* What opt_parse does once every option is read: --help, --version, the
 * operands, the namespace, the connection. */
static int
after_parse(const struct opt_tool *t, struct cli_common *c, int argc, char **argv, char **ns_out, char **db_out)
{
	bson_error_t err;

	if (c->help) {
		opt_usage(t, stdout, c->verbosity > DIAG_WARN);
		return MP_EX_OK;
	}
	if (c->version)
		return cli_version();
	if (optind < argc && !t->operands)
		return opt_misuse(t, "unexpected argument '%s'", argv[optind]);
	if (!cli_common_namespace(c, ns_out, db_out, &err) || !ns_rename_check(&err))
		return opt_misuse(t, "%s", err.message);
	if ((t->common & OPT_COMMON_URI) && !cli_common_connection(c, &err)) {
		bson_free(*ns_out);
		bson_free(*db_out);
		*ns_out = *db_out = NULL;
		return err.code == MP_EX_USAGE ? opt_misuse(t, "%s", err.message) : diag_exit(&err, NULL);
	}
	return -1;
}

int
opt_uri_file(const struct opt_tool *t, const char *side, const char **plain, const char *file, char **owned)
{
	bson_error_t err;

	*owned = NULL;
	if (file == NULL)
		return -1;
	if (*plain != NULL)
		return opt_misuse(t, "--%s and --%s-uri-file are mutually exclusive", side, side);
	if ((*owned = conn_read_uri_file(file, &err)) == NULL)
		return err.code == MP_EX_USAGE ? opt_misuse(t, "%s", err.message) : diag_exit(&err, NULL);
	*plain = *owned;
	return -1;
}

int
opt_check_writable(const char *path)
{
	bson_error_t err;

	if (path == NULL || checkpoint_writable(path, &err))
		return -1;
	return diag_exit(&err, NULL);
}
