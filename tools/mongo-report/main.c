/*
 * mongo-report: turn the suite's streams into what a person reads: a table
 * in the terminal, JSON, markdown, or one self-contained HTML page.
 *
 * Stats, diff and change-event records, mixed as they come, are summed up
 * per namespace (records.c): progress and rates per tool, changes applied,
 * lag, the verification verdict and the differences; with --source/--target,
 * the collections' counts on both servers beside them (servers.c).  The
 * figures a row shows are derived in derive.c and rendered by text.c,
 * markdown.c, json.c or html.c.  --live redraws the same in a terminal
 * (live.c), from the servers' counts, from stats files re-read at each
 * refresh, or from a change-event stream followed as it flows (follow.c).
 *
 * This file holds the options and runs the one or the other.
 */
#include <stdint.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"
#include "mongo-report.h"

enum {
	OPT_OUTPUT = CLI_OPT_TOOL_BASE,
	OPT_TITLE,
	OPT_REPORT_FORMAT,
	OPT_LIVE,
	OPT_SOURCE,
	OPT_TARGET,
	OPT_REFRESH,
	OPT_SNAPSHOT,
	OPT_ITERATIONS,
	OPT_EVENTS,
};

/* --format means the report's format here: listed before the common
 * options, so getopt_long finds this entry first. */
static const struct option longopts[] = {
	{"format", required_argument, NULL, OPT_REPORT_FORMAT},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"title", required_argument, NULL, OPT_TITLE},
	{"live", no_argument, NULL, OPT_LIVE},
	{"source", required_argument, NULL, OPT_SOURCE},
	{"target", required_argument, NULL, OPT_TARGET},
	{"refresh", required_argument, NULL, OPT_REFRESH},
	{"snapshot", required_argument, NULL, OPT_SNAPSHOT},
	{"iterations", required_argument, NULL, OPT_ITERATIONS},
	{"events", no_argument, NULL, OPT_EVENTS},
	CLI_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-report [--format text|json|markdown|html] [-o|--output FILE]\n"
		"                    [--source URI] [--target URI] [--events] [FILE...]\n"
		"       mongo-report --live --source URI --target URI [--ns DB.COLL | --db DB] [STATS...]\n"
		"       mongo-report --live --events [--source URI --target URI] [EVENTS]\n"
		"\n"
		"Summarise stats streams (--stats of any tool), diff streams (mongo-hashdiff) and\n"
		"change-event streams (mongo-watch) per namespace; FILE - or none is stdin.\n"
		"--source/--target add each collection's count on the servers, progress and ETA.\n"
		"\n"
		"Options:  --format F  -o|--output FILE  --title TEXT  --input-format F\n"
		"          --source URI  --target URI  --events\n"
		"Live:     --live  --refresh SECONDS  --snapshot FILE  --iterations N\n"
		"          --ns DB.COLL  --db DB  --collection C\n"
		"          --max-doc-size N  -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 done, 64 usage, 65 bad input (the record and line are named), 66 no input,\n"
		"69 server unavailable, 73/74 output.  See mongo-report(1).\n");
}

static struct {
	struct cli_common c;
	enum fmt fmt;
	const char *output, *title, *source, *target, *snapshot;
	bool live, events;
	int64_t refresh, iterations;
} o;

/* Every input, or stdin when none is named. */
static bool
read_inputs(struct report *r, char **files, int nfiles, bson_error_t *err)
{
	bool ok = nfiles > 0 || report_read(r, "-", &o.c, o.events, err);

	for (int i = 0; ok && i < nfiles; i++)
		ok = report_read(r, files[i], &o.c, o.events, err);
	return ok;
}

/* The report: the inputs, the servers' counts, written once. */
static int
run_report(const struct servers *sv, char **files, int nfiles, const char *ns, const char *db)
{
	struct report r;
	bson_error_t err;
	int rc = MP_EX_SOFTWARE;

	memset(&r, 0, sizeof r);
	if (!read_inputs(&r, files, nfiles, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if ((sv->src || sv->dst) && !servers_count(sv, &r, ns, db, &err)) {
		rc = diag_exit(&err, "listing collections");
		goto out;
	}
	report_sort(&r);
	if (!report_write(&r, o.fmt, o.title, o.output, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	rc = MP_EX_OK;
out:
	report_clear(&r);
	return rc;
}

static int
run(char **files, int nfiles, const char *ns, const char *db)
{
	struct servers sv = {0};
	struct live_opts lo = {ns, db, o.snapshot, (double)o.refresh, o.iterations, o.events, files, nfiles, &o.c};
	bson_error_t err;
	int rc = MP_EX_SOFTWARE;

	if ((o.source || o.target) && !servers_open(&sv, o.source, o.target, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	rc = o.live ? live_run(&lo, &sv) : run_report(&sv, files, nfiles, ns, db);
out:
	servers_close(&sv);
	return rc;
}

int
main(int argc, char **argv)
{
	char *ns = NULL, *db = NULL;
	bson_error_t err;
	int ch, rc = MP_EX_SOFTWARE;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.title = "mongo-pipes report";
	o.refresh = 2;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT "o:", longopts, NULL)) != -1) {
		switch (cli_common_option(&o.c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			return cli_misuse(usage, "%s", err.message);
		}
		switch (ch) {
		case 'o':
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_TITLE: o.title = optarg; break;
		case OPT_LIVE: o.live = true; break;
		case OPT_SOURCE: o.source = optarg; break;
		case OPT_TARGET: o.target = optarg; break;
		case OPT_SNAPSHOT: o.snapshot = optarg; break;
		case OPT_EVENTS: o.events = true; break;
		case OPT_REFRESH:
			if (!cli_parse_int64(optarg, 1, 3600, &o.refresh))
				return cli_misuse(usage, "--refresh takes seconds, not '%s'", optarg);
			break;
		case OPT_ITERATIONS:
			if (!cli_parse_int64(optarg, 1, INT32_MAX, &o.iterations))
				return cli_misuse(usage, "--iterations takes a count, not '%s'", optarg);
			break;
		case OPT_REPORT_FORMAT:
			if (strcmp(optarg, "text") == 0) o.fmt = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0) o.fmt = FMT_JSON;
			else if (strcmp(optarg, "markdown") == 0) o.fmt = FMT_MARKDOWN;
			else if (strcmp(optarg, "html") == 0) o.fmt = FMT_HTML;
			else return cli_misuse(usage, "--format takes text, json, markdown or html, not '%s'", optarg);
			break;
		default:
			return cli_misuse(usage, "unknown option");
		}
	}
	if (o.c.help) {
		usage(stdout);
		return 0;
	}
	if (o.c.version)
		return cli_version();
	diag_set_verbosity(o.c.verbosity);
	if (o.live && !o.events && (!o.source || !o.target))
		return cli_misuse(usage, "--live watches two servers (give --source URI and --target URI) "
			"or a change-event stream (--events)");
	if (o.live && (!o.source) != (!o.target))
		return cli_misuse(usage, "--live compares two servers: give both --source URI and --target URI");
	if (o.live && o.events && argc - optind > 1)
		return cli_misuse(usage, "--live --events follows one stream (a FILE, or stdin)");
	if (o.live && o.output)
		return cli_misuse(usage, "--live draws on the terminal; use --snapshot FILE to keep its state");
	if ((o.c.ns || o.c.db || o.c.collection) && !cli_common_namespace(&o.c, &ns, &db, &err))
		return cli_misuse(usage, "%s", err.message);
	if (ns) {
		bson_free(db);
		db = NULL;
	}
	mongoc_init();
	rc = run(argv + optind, argc - optind, ns, db);
	mongoc_cleanup();
	bson_free(ns);
	bson_free(db);
	return rc;
}
