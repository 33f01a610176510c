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
#include "sig.h"
#include "opt.h"

static const char *const formats[] = {"text", "json", "markdown", "html", NULL}; /* enum fmt */

static struct {
	struct cli_common c;
	int fmt;
	const char *output, *title, *source, *target, *snapshot, *source_uri_file, *target_uri_file;
	char *source_text, *target_text; /* what the --*-uri-file held */
	bool live, events;
	int64_t refresh, iterations;
} o;

static const struct opt opts[] = {
	OPT_SECTION("Options"),
	OPT_CHOICE("format", &o.fmt, NULL, formats, "an aligned table (the default), JSON, markdown, one HTML page"),
	{OPT_STRING, "output", 'o', &o.output, "FILE", "write there, whole or not at all, not to stdout", 0, 0, NULL,
		NULL},
	OPT_STRING("title", &o.title, "TEXT", "the HTML page's title"),
	OPT_STRING("source", &o.source, "URI", "the source server: each collection's count there"),
	OPT_STRING("source-uri-file", &o.source_uri_file, "FILE", "the source server's URI, read from FILE"),
	OPT_STRING("target", &o.target, "URI", "the target server: each collection's count there"),
	OPT_STRING("target-uri-file", &o.target_uri_file, "FILE", "the target server's URI, read from FILE"),
	OPT_FLAG("events", &o.events, "the inputs are change-event streams, nothing else"),
	OPT_SECTION("Live"),
	OPT_FLAG("live", &o.live, "a terminal monitor, redrawn until Ctrl-C"),
	OPT_INT("refresh", &o.refresh, "SECONDS", 1, 3600, "how often the monitor redraws (2)"),
	OPT_STRING("snapshot", &o.snapshot, "FILE", "write each screen's state there as JSON"),
	OPT_INT("iterations", &o.iterations, "N", 1, INT32_MAX, "draw N times and exit"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-report [--format text|json|markdown|html] [-o|--output FILE]\n"
	"             [--source URI|--source-uri-file FILE] [--target URI|--target-uri-file FILE]\n"
	"             [--events] [FILE...]\n"
	"mongo-report --live --source URI --target URI [--ns DB.COLL | --db DB] [STATS...]\n"
	"mongo-report --live --events [--source URI --target URI] [EVENTS]",
	"Summarise stats streams (--stats of any tool), diff streams (mongo-hashdiff) and\n"
	"change-event streams (mongo-watch) per namespace; FILE - or none is stdin.\n"
	"--source/--target add each collection's count on the servers, progress and ETA.",
	"Exit: 0 done, 64 usage, 65 bad input (the record and line are named), 66 no input,\n"
	"69 server unavailable, 73/74 output, 75 interrupted.  See mongo-report(1).",
	OPT_COMMON_NS | OPT_COMMON_DB | OPT_COMMON_INPUT |
		OPT_COMMON_TIMEOUTS | OPT_COMMON_NSSELECT,
	opts,
	true,
};

/* What the options ask together; -1 when it makes sense, else 64. */
static int
check_options(int nfiles)
{
	if (o.live && !o.events && (!o.source || !o.target))
		return opt_misuse(&tool, "--live watches two servers (give --source URI and --target URI) "
					 "or a change-event stream (--events)");
	if (o.live && (!o.source) != (!o.target))
		return opt_misuse(&tool, "--live compares two servers: give both --source URI and --target URI");
	if (o.live && o.events && nfiles > 1)
		return opt_misuse(&tool, "--live --events follows one stream (a FILE, or stdin)");
	if (o.live && o.output)
		return opt_misuse(&tool, "--live draws on the terminal; use --snapshot FILE to keep its state");
	return -1;
}

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
	if (sig_stop_requested()) {
		diag_error("interrupted by signal %d: no report written", sig_received());
		rc = MP_EX_TEMPFAIL;
		goto out;
	}
	report_select(&r);
	report_sort(&r);
	if (!report_write(&r, (enum fmt)o.fmt, o.title, o.output, &err)) {
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
	int rc;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.title = "mongo-pipes report";
	o.refresh = 2;
	rc = opt_parse(&tool, &o.c, argc, argv, &ns, &db);
	if (rc >= 0)
		return rc;
	if ((rc = opt_uri_file(&tool, "source", &o.source, o.source_uri_file, &o.source_text)) >= 0 ||
	    (rc = opt_uri_file(&tool, "target", &o.target, o.target_uri_file, &o.target_text)) >= 0 ||
	    (rc = check_options(argc - optind)) >= 0)
		goto out;
	diag_set_verbosity(o.c.verbosity);
	if (ns) { /* one collection: --ns, or --db with --collection */
		bson_free(db);
		db = NULL;
	}
	cli_runtime_begin(); /* a report stopped by a signal is 75 (--live: 0, its normal end) */
	rc = run(argv + optind, argc - optind, ns, db);
	cli_runtime_end();
out:
	bson_free(o.source_text);
	bson_free(o.target_text);
	bson_free(ns);
	bson_free(db);
	return rc;
}
