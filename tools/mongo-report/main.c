/*
 * mongo-report: turn the suite's streams into what a person reads: a table
 * in the terminal, JSON, markdown, or one self-contained HTML page.
 *
 * Inputs are recognised record by record, so one file may mix them:
 *   stats records   {"tool", "type": "progress"|"summary", "ns", "docs", ...}
 *   diff records    {"ns", "_id", "diff", "source_hash", "target_hash"}
 *   change events   {"operationType", "ns", "clusterTime", "wallTime", ...}
 * Everything is summed up per namespace: progress and rates per tool,
 * changes applied, lag, the verification verdict and the differences; with
 * --source/--target, the collections' counts on both servers beside them.
 * --live redraws the same in a terminal, from the servers' counts, from
 * stats files re-read at each refresh, or from a change-event stream
 * followed as it flows (--events).
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "checkpoint.h"
#include "cli.h"
#include "conn.h"
#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "progress.h"
#include "sig.h"

#define TOOL "mongo-report"
#define MAX_DIFFS_SHOWN 50
#define MAX_POINTS 2000

enum fmt { FMT_TEXT, FMT_JSON, FMT_MARKDOWN, FMT_HTML };

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

struct point {
	double t, v;
};

struct series {
	struct point *p;
	int n, cap;
};

static void
series_add(struct series *s, double t, double v)
{
	if (s->n == MAX_POINTS) {
		/* keep every other point: the shape stays, memory does not grow */
		for (int i = 0; i < s->n / 2; i++)
			s->p[i] = s->p[2 * i];
		s->n /= 2;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->p = bson_realloc(s->p, sizeof(struct point) * (size_t)s->cap);
	}
	s->p[s->n].t = t;
	s->p[s->n].v = v;
	s->n++;
}

struct tool_row {
	char tool[32];
	bool summary;
	int64_t docs, bytes, errors;
	double elapsed, rate;
	int64_t inserts, updates, replaces, deletes, ddl, rejected;
	double lag_s;
	int64_t lag_p50, lag_p99;
	char verdict[16];
	int64_t compared, equal, missing, extra, changed, cleared;
	int64_t total;      /* documents expected (mongo-dump-bson), -1 unknown */
	double last_t;      /* time of its last record */
	double last_change; /* source time of the last change it applied */
	struct series docs_t, lag_t; /* docs and lag_s over time, for the charts */
};

struct ns_row {
	char ns[256];
	struct tool_row tools[8];
	int ntools;
	/* change events seen */
	int64_t ev[8]; /* insert update replace delete drop rename dropDatabase other */
	int64_t events, last_wall_ms;
	uint32_t last_cluster;
	double arrival_lag; /* --live --events: age of the last event when it passed */
	int64_t src, dst;   /* counts on the servers, -1 unknown */
	/* differences */
	int64_t diffs[3];
	char *shown[MAX_DIFFS_SHOWN];
	int nshown;
};

/* A tool that ended badly: its --stats exit record. */
struct failure {
	char tool[32], ns[256];
	int status;
	char *error;
};

#define MAX_FAILURES 64

struct report {
	struct ns_row *rows;
	int n, cap;
	int64_t records, stats, diffs, events;
	double first_t, last_t;
	struct failure failures[MAX_FAILURES];
	int nfailures;
};

static const char *ev_names[] = {"insert", "update", "replace", "delete", "drop", "rename", "dropDatabase", "other"};
static const char *diff_names[] = {"missing", "extra", "changed"};

static struct ns_row *
row_for(struct report *r, const char *ns)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->rows[i].ns, ns) == 0)
			return &r->rows[i];
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->rows = bson_realloc(r->rows, sizeof(struct ns_row) * (size_t)r->cap);
	}
	memset(&r->rows[r->n], 0, sizeof(struct ns_row));
	bson_strncpy(r->rows[r->n].ns, ns, sizeof r->rows[r->n].ns);
	r->rows[r->n].src = r->rows[r->n].dst = -1;
	r->rows[r->n].arrival_lag = -1;
	return &r->rows[r->n++];
}

static struct tool_row *
tool_for(struct ns_row *row, const char *tool)
{
	for (int i = 0; i < row->ntools; i++)
		if (strcmp(row->tools[i].tool, tool) == 0)
			return &row->tools[i];
	if (row->ntools == 8)
		return &row->tools[7];
	memset(&row->tools[row->ntools], 0, sizeof(struct tool_row));
	bson_strncpy(row->tools[row->ntools].tool, tool, sizeof row->tools[0].tool);
	row->tools[row->ntools].lag_s = -1;
	row->tools[row->ntools].lag_p50 = row->tools[row->ntools].lag_p99 = -1;
	row->tools[row->ntools].total = -1;
	return &row->tools[row->ntools++];
}

static int64_t
get_int(const bson_t *d, const char *key, int64_t dflt)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, d, key) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : dflt;
}

static double
get_double(const bson_t *d, const char *key, double dflt)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, d, key) || !BSON_ITER_HOLDS_NUMBER(&it))
		return dflt;
	return BSON_ITER_HOLDS_DOUBLE(&it) ? bson_iter_double(&it) : (double)bson_iter_as_int64(&it);
}

static const char *
get_str(const bson_t *d, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, d, key) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : NULL;
}

static double
get_time(const bson_t *d, const char *key)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, d, key))
		return 0;
	if (BSON_ITER_HOLDS_DATE_TIME(&it))
		return (double)bson_iter_date_time(&it) / 1000.0;
	if (BSON_ITER_HOLDS_UTF8(&it)) {
		struct tm tm = {0};
		const char *s = bson_iter_utf8(&it, NULL);

		const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

		if (rest)
			return (double)timegm(&tm) + (*rest == '.' ? strtod(rest, NULL) : 0);
	}
	return 0;
}

/* mongo-replay's "namespaces": what it applied to each target collection,
 * counted under that collection's row too. */
static void
take_stats_namespaces(struct report *r, const bson_t *d, const struct tool_row *whole_row, double when)
{
	/* row_for() may move every row: keep what is needed of the record's own */
	const struct tool_row whole = *whole_row;
	bson_iter_t it, arr;

	if (!bson_iter_init_find(&it, d, "namespaces") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
		return;
	while (bson_iter_next(&arr)) {
		const uint8_t *data;
		uint32_t len;
		bson_t one;
		const char *ns;
		struct tool_row *t;
		double change;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
			continue;
		bson_iter_document(&arr, &len, &data);
		if (!bson_init_static(&one, data, len) || (ns = get_str(&one, "ns")) == NULL)
			continue;
		t = tool_for(row_for(r, ns), whole.tool);
		t->summary = whole.summary;
		t->inserts = get_int(&one, "inserts", t->inserts);
		t->updates = get_int(&one, "updates", t->updates);
		t->replaces = get_int(&one, "replaces", t->replaces);
		t->deletes = get_int(&one, "deletes", t->deletes);
		t->docs = t->inserts + t->updates + t->replaces + t->deletes;
		t->lag_p50 = whole.lag_p50;
		t->lag_p99 = whole.lag_p99;
		if (when > t->last_t)
			t->last_t = when;
		if ((change = get_time(&one, "last_change")) > t->last_change)
			t->last_change = change;
	}
}

/* An exit record: a failure is kept (status 1, differences found, is not
 * one); it makes no row of its own. */
static void
take_exit(struct report *r, const bson_t *d)
{
	const char *tool = get_str(d, "tool"), *ns = get_str(d, "ns"), *error = get_str(d, "error");
	int status = (int)get_int(d, "status", 0);
	struct failure *f;

	r->stats++;
	if (status <= 1 || r->nfailures == MAX_FAILURES)
		return;
	f = &r->failures[r->nfailures++];
	bson_strncpy(f->tool, tool ? tool : "?", sizeof f->tool);
	bson_strncpy(f->ns, ns ? ns : "", sizeof f->ns);
	f->status = status;
	f->error = bson_strdup(error ? error : "");
}

static void
take_stats(struct report *r, const bson_t *d)
{
	const char *tool = get_str(d, "tool"), *type = get_str(d, "type"), *ns = get_str(d, "ns");
	struct ns_row *row = row_for(r, ns ? ns : "(all)");
	struct tool_row *t = tool_for(row, tool ? tool : "?");
	double when = get_time(d, "time");
	const char *verdict = get_str(d, "verdict");

	r->stats++;
	t->summary = t->summary || (type && strcmp(type, "summary") == 0);
	t->docs = get_int(d, "docs", t->docs);
	t->bytes = get_int(d, "bytes", t->bytes);
	t->errors = get_int(d, "errors", t->errors);
	t->elapsed = get_double(d, "elapsed_s", t->elapsed);
	t->rate = get_double(d, "rate_docs_s", t->rate);
	t->inserts = get_int(d, "inserts", t->inserts);
	t->updates = get_int(d, "updates", t->updates);
	t->replaces = get_int(d, "replaces", t->replaces);
	t->deletes = get_int(d, "deletes", t->deletes);
	t->ddl = get_int(d, "ddl", t->ddl);
	t->rejected = get_int(d, "rejected", t->rejected);
	t->total = get_int(d, "total", t->total);
	t->lag_s = get_double(d, "lag_s", t->lag_s);
	t->lag_p50 = get_int(d, "lag_p50_ms", t->lag_p50);
	t->lag_p99 = get_int(d, "lag_p99_ms", t->lag_p99);
	t->compared = get_int(d, "compared", t->compared);
	t->equal = get_int(d, "equal", t->equal);
	t->missing = get_int(d, "missing", t->missing);
	t->extra = get_int(d, "extra", t->extra);
	t->changed = get_int(d, "changed", t->changed);
	t->cleared = get_int(d, "rechecked_cleared", t->cleared);
	if (verdict)
		bson_strncpy(t->verdict, verdict, sizeof t->verdict);
	if (when > t->last_t)
		t->last_t = when;
	if (when > 0) {
		if (r->first_t == 0 || when < r->first_t)
			r->first_t = when;
		if (when > r->last_t)
			r->last_t = when;
		series_add(&t->docs_t, when, (double)t->docs);
		if (t->lag_s >= 0)
			series_add(&t->lag_t, when, t->lag_s);
	}
	take_stats_namespaces(r, d, t, when); /* last: it may move the rows t points into */
}

static void
take_diff(struct report *r, const bson_t *d)
{
	const char *ns = get_str(d, "ns"), *kind = get_str(d, "diff");
	struct ns_row *row = row_for(r, ns ? ns : "(none)");
	bson_iter_t it;

	r->diffs++;
	for (int k = 0; k < 3; k++)
		if (kind && strcmp(kind, diff_names[k]) == 0)
			row->diffs[k]++;
	if (row->nshown < MAX_DIFFS_SHOWN && bson_iter_init_find(&it, d, "_id")) {
		bson_t one = BSON_INITIALIZER;
		char *json;
		size_t len;

		bson_append_iter(&one, "_id", 3, &it);
		BSON_APPEND_UTF8(&one, "diff", kind ? kind : "?");
		json = bson_as_relaxed_extended_json(&one, &len);
		row->shown[row->nshown++] = json;
		bson_destroy(&one);
	}
}

static struct ns_row *
take_event(struct report *r, const bson_t *d)
{
	const char *op = get_str(d, "operationType");
	bson_iter_t it, sub;
	char ns[256] = "(deployment)";
	struct ns_row *row;
	int k = 0;

	if (bson_iter_init_find(&it, d, "ns") && bson_iter_recurse(&it, &sub)) {
		const char *db = NULL, *coll = NULL;

		while (bson_iter_next(&sub)) {
			if (strcmp(bson_iter_key(&sub), "db") == 0 && BSON_ITER_HOLDS_UTF8(&sub))
				db = bson_iter_utf8(&sub, NULL);
			else if (strcmp(bson_iter_key(&sub), "coll") == 0 && BSON_ITER_HOLDS_UTF8(&sub))
				coll = bson_iter_utf8(&sub, NULL);
		}
		if (db)
			bson_snprintf(ns, sizeof ns, "%s%s%s", db, coll ? "." : "", coll ? coll : "");
	}
	row = row_for(r, ns);
	r->events++;
	row->events++;
	while (k < 7 && (op == NULL || strcmp(ev_names[k], op) != 0))
		k++;
	row->ev[k]++;
	if (bson_iter_init_find(&it, d, "wallTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
		row->last_wall_ms = bson_iter_date_time(&it);
	if (bson_iter_init_find(&it, d, "clusterTime") && BSON_ITER_HOLDS_TIMESTAMP(&it)) {
		uint32_t inc;

		bson_iter_timestamp(&it, &row->last_cluster, &inc);
	}
	return row;
}

/* err = 65 naming the record last read, and its line or byte offset. */
static void
record_error(const struct docstream_reader *rd, const char *path, const char *what, bson_error_t *err)
{
	uint64_t line = docstream_reader_line(rd);

	mp_error_set(err, MP_EX_DATAERR, "%s: record %llu (%s %llu): %s", path && strcmp(path, "-") ? path : "stdin",
		(unsigned long long)docstream_reader_record(rd), line ? "line" : "byte offset",
		(unsigned long long)(line ? line : docstream_reader_offset(rd)), what);
}

/* Read one input; false with err (65 naming the record) on bad data. */
static bool
read_input(struct report *r, const char *path, const struct cli_common *c, bool only_events, bson_error_t *err)
{
	struct docstream_reader_opts ro = {c->input_format, c->max_doc, false};
	struct docstream_reader *rd = docstream_reader_open(path, &ro, err);
	const bson_t *d;
	int got;

	if (rd == NULL)
		return false;
	while ((got = docstream_read(rd, &d, err)) == 1) {
		bson_iter_t it;

		r->records++;
		if (only_events && !bson_iter_init_find(&it, d, "operationType")) {
			record_error(rd, path, "not a change event (--events)", err);
			got = -1;
			break;
		}
		if (bson_iter_init_find(&it, d, "tool") && bson_iter_init_find(&it, d, "type") &&
		    strcmp(get_str(d, "type") ? get_str(d, "type") : "", "exit") == 0)
			take_exit(r, d);
		else if (bson_iter_init_find(&it, d, "tool") && bson_iter_init_find(&it, d, "type"))
			take_stats(r, d);
		else if (bson_iter_init_find(&it, d, "operationType"))
			take_event(r, d);
		else if (bson_iter_init_find(&it, d, "diff") && bson_iter_init_find(&it, d, "ns"))
			take_diff(r, d);
		else {
			record_error(rd, path, "neither a stats record, a diff record nor a change event", err);
			got = -1;
			break;
		}
	}
	docstream_reader_destroy(rd);
	return got == 0;
}

/* ---- derived figures ---- */

static const char *
verdict_of(const struct ns_row *row)
{
	for (int i = 0; i < row->ntools; i++)
		if (row->tools[i].verdict[0])
			return row->tools[i].verdict;
	if (row->diffs[0] + row->diffs[1] + row->diffs[2] > 0)
		return "different";
	return "";
}

static void
sum_changes(const struct ns_row *row, int64_t *ins, int64_t *upd, int64_t *del)
{
	*ins = *upd = *del = 0;
	for (int i = 0; i < row->ntools; i++) {
		*ins += row->tools[i].inserts;
		*upd += row->tools[i].updates + row->tools[i].replaces;
		*del += row->tools[i].deletes;
	}
	if (*ins + *upd + *del == 0) {
		*ins = row->ev[0];
		*upd = row->ev[1] + row->ev[2];
		*del = row->ev[3];
	}
}

static bool
is_tool(const struct tool_row *t, const char *name)
{
	return strcmp(t->tool, name) == 0;
}

static const struct tool_row *
main_tool(const struct ns_row *row)
{
	const struct tool_row *best = NULL;

	/* the copy's count when there is one, else the largest */
	for (int i = 0; i < row->ntools; i++)
		if (is_tool(&row->tools[i], "mongo-load-bson"))
			return &row->tools[i];
	for (int i = 0; i < row->ntools; i++)
		if (is_tool(&row->tools[i], "mongo-dump-bson"))
			return &row->tools[i];
	for (int i = 0; i < row->ntools; i++)
		if (best == NULL || row->tools[i].docs > best->docs)
			best = &row->tools[i];
	return best;
}

static int
row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ns_row *)a)->ns, ((const struct ns_row *)b)->ns);
}

/* A real collection's name, not a pseudo row ("replay", "(deployment)"). */
static bool
is_collection(const char *ns)
{
	return ns[0] != '(' && ns[0] != '.' && strchr(ns, '.') != NULL;
}

/* What a row shows beyond the figures it was given. */
struct derived {
	const struct tool_row *copy; /* the tool whose documents are shown; may be NULL */
	int64_t ins, upd, del;
	int64_t missing, extra, changed;
	double pct;         /* target against source, else verified or finished; -1 unknown */
	double eta;         /* seconds left of the copy; 0 done; -1 unknown */
	double last_change; /* seconds since the epoch; 0 unknown */
};

static void
derive(const struct ns_row *row, struct derived *d)
{
	const struct tool_row *c;
	int64_t src;

	memset(d, 0, sizeof *d);
	c = d->copy = main_tool(row);
	sum_changes(row, &d->ins, &d->upd, &d->del);
	d->missing = row->diffs[0];
	d->extra = row->diffs[1];
	d->changed = row->diffs[2];
	for (int k = 0; k < row->ntools; k++)
		if (row->tools[k].verdict[0] && d->missing + d->extra + d->changed == 0) {
			d->missing = row->tools[k].missing;
			d->extra = row->tools[k].extra;
			d->changed = row->tools[k].changed;
		}
	/* the source's count, else what the dump expected */
	src = row->src;
	for (int k = 0; k < row->ntools && src < 0; k++)
		if (row->tools[k].total >= 0)
			src = row->tools[k].total;
	if (c && !is_tool(c, "mongo-load-bson") && !is_tool(c, "mongo-dump-bson"))
		c = NULL; /* progress and ETA are the copy's */
	/* progress: the target against the source; else the copy's documents
	 * against what is expected; else verified equal, or finished */
	d->pct = -1;
	if (row->src >= 0 && row->dst >= 0) {
		d->pct = row->src > 0 ? 100.0 * (double)row->dst / (double)row->src : 100.0;
	} else if (c) {
		if (c->summary)
			d->pct = 100.0;
		else if (src > 0)
			d->pct = 100.0 * (double)c->docs / (double)src;
	} else {
		for (int k = 0; k < row->ntools; k++)
			if (row->tools[k].summary)
				d->pct = 100.0;
	}
	if (!(row->src >= 0 && row->dst >= 0))
		for (int k = 0; k < row->ntools; k++)
			if (row->tools[k].verdict[0] && row->tools[k].compared > 0)
				d->pct = 100.0 * (double)row->tools[k].equal / (double)row->tools[k].compared;
	d->eta = -1;
	if (c && c->summary)
		d->eta = 0;
	else if (c && c->rate > 0 && src >= 0)
		d->eta = src > c->docs ? (double)(src - c->docs) / c->rate : 0;
	if (!is_collection(row->ns))
		d->pct = d->eta = -1; /* "replay", a database's watch: no collection to fill */
	if (row->last_wall_ms > 0)
		d->last_change = (double)row->last_wall_ms / 1000.0;
	for (int k = 0; k < row->ntools; k++) {
		const struct tool_row *t = &row->tools[k];

		if (t->last_change > d->last_change)
			d->last_change = t->last_change;
		if (t->last_change == 0 && t->docs > 0 && t->last_t > d->last_change &&
		    (is_tool(t, "mongo-load-bson") || is_tool(t, "mongo-replay")))
			d->last_change = t->last_t;
	}
}

/* ---- output ---- */

static void
fmt_lag(const struct ns_row *row, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < row->ntools; i++) {
		const struct tool_row *t = &row->tools[i];

		if (t->lag_p50 >= 0) {
			snprintf(buf, size, "p50 %lldms p99 %lldms", (long long)t->lag_p50, (long long)t->lag_p99);
			return;
		}
		if (t->lag_s >= 0) {
			snprintf(buf, size, "%.0fs", t->lag_s);
			return;
		}
	}
}

static void
fmt_eta(double eta, char *buf, size_t size)
{
	if (eta < 0)
		snprintf(buf, size, "-");
	else if (eta == 0)
		snprintf(buf, size, "done");
	else
		progress_format_duration(eta, buf, size);
}

/* UTC, "%Y-%m-%dT%H:%M:%SZ" (iso) or "%Y-%m-%d %H:%M:%S"; "-" when unknown. */
static void
fmt_time(double t, bool iso, char *buf, size_t size)
{
	time_t secs = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&secs, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
}

static bool
any_counts(const struct report *r)
{
	for (int i = 0; i < r->n; i++)
		if (r->rows[i].src >= 0 || r->rows[i].dst >= 0)
			return true;
	return false;
}

enum col { C_NS, C_TOOLS, C_DOCS, C_SRC, C_DST, C_DONE, C_RATE, C_INS, C_UPD, C_DEL, C_EVENTS, C_LAG, C_ETA,
	   C_VERDICT, C_MISSING, C_EXTRA, C_CHANGED, NCOLS };

static const struct {
	const char *head;
	bool num;      /* right-aligned in text */
	bool md_right; /* right-aligned in markdown */
	bool counts;   /* shown only with the servers' counts */
} cols[NCOLS] = {
	[C_NS] = {"namespace", false, false, false},
	[C_TOOLS] = {"tools", false, false, false},
	[C_DOCS] = {"documents", true, true, false},
	[C_SRC] = {"source", true, true, true},
	[C_DST] = {"target", true, true, true},
	[C_DONE] = {"done", true, true, true},
	[C_RATE] = {"docs/s", true, true, false},
	[C_INS] = {"inserts", true, true, false},
	[C_UPD] = {"updates", true, true, false},
	[C_DEL] = {"deletes", true, true, false},
	[C_EVENTS] = {"events", true, true, false},
	[C_LAG] = {"lag", false, false, false},
	[C_ETA] = {"ETA", false, false, true},
	[C_VERDICT] = {"verdict", false, false, false},
	[C_MISSING] = {"missing", true, false, false},
	[C_EXTRA] = {"extra", true, false, false},
	[C_CHANGED] = {"changed", true, false, false},
};

static void
table_cells(const struct ns_row *row, char cells[NCOLS][96])
{
	struct derived d;
	const struct tool_row *t;
	char tools[96] = "";

	derive(row, &d);
	t = d.copy;
	for (int k = 0; k < row->ntools; k++) {
		const char *name = row->tools[k].tool;

		if (strncmp(name, "mongo-", 6) == 0)
			name += 6;
		bson_snprintf(tools + strlen(tools), sizeof tools - strlen(tools), "%s%s", k ? "," : "", name);
	}
	bson_snprintf(cells[C_NS], 96, "%s", row->ns);
	bson_snprintf(cells[C_TOOLS], 96, "%s", tools[0] ? tools : "-");
	bson_snprintf(cells[C_DOCS], 96, "%lld", t ? (long long)t->docs : 0LL);
	bson_snprintf(cells[C_SRC], 96, row->src >= 0 ? "%lld" : "-", (long long)row->src);
	bson_snprintf(cells[C_DST], 96, row->dst >= 0 ? "%lld" : "-", (long long)row->dst);
	if (row->src >= 0 && row->dst >= 0)
		bson_snprintf(cells[C_DONE], 96, "%.1f%%", d.pct);
	else
		bson_snprintf(cells[C_DONE], 96, "-");
	bson_snprintf(cells[C_RATE], 96, "%.0f", t ? t->rate : 0.0);
	bson_snprintf(cells[C_INS], 96, "%lld", (long long)d.ins);
	bson_snprintf(cells[C_UPD], 96, "%lld", (long long)d.upd);
	bson_snprintf(cells[C_DEL], 96, "%lld", (long long)d.del);
	bson_snprintf(cells[C_EVENTS], 96, "%lld", (long long)row->events);
	fmt_lag(row, cells[C_LAG], 96);
	if (!cells[C_LAG][0])
		bson_snprintf(cells[C_LAG], 96, "-");
	fmt_eta(d.eta, cells[C_ETA], 96);
	bson_snprintf(cells[C_VERDICT], 96, "%s", verdict_of(row)[0] ? verdict_of(row) : "-");
	bson_snprintf(cells[C_MISSING], 96, "%lld", (long long)d.missing);
	bson_snprintf(cells[C_EXTRA], 96, "%lld", (long long)d.extra);
	bson_snprintf(cells[C_CHANGED], 96, "%lld", (long long)d.changed);
}

/* The aligned text table, or a markdown one.  The servers' columns appear
 * only when counts were taken (--source/--target). */
static void
write_table(FILE *f, const struct report *r, bool markdown)
{
	char (*cells)[NCOLS][96] = bson_malloc(sizeof *cells * (size_t)(r->n ? r->n : 1));
	int width[NCOLS], show[NCOLS], ncols = 0;
	bool counts = any_counts(r);

	for (int c = 0; c < NCOLS; c++) {
		width[c] = (int)strlen(cols[c].head);
		if (counts || !cols[c].counts)
			show[ncols++] = c;
	}
	for (int i = 0; i < r->n; i++) {
		table_cells(&r->rows[i], cells[i]);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cells[i][c]) > width[c])
				width[c] = (int)strlen(cells[i][c]);
	}
	if (markdown) {
		fputc('|', f);
		for (int k = 0; k < ncols; k++)
			fprintf(f, " %s |", cols[show[k]].head);
		fputs("\n|", f);
		for (int k = 0; k < ncols; k++)
			fputs(cols[show[k]].md_right ? "---:|" : "---|", f);
		fputc('\n', f);
	} else {
		for (int k = 0; k < ncols; k++)
			fprintf(f, "%s%-*s", k ? "  " : "", k == ncols - 1 ? 0 : width[show[k]], cols[show[k]].head);
		fputc('\n', f);
	}
	for (int i = 0; i < r->n; i++) {
		if (markdown)
			fputc('|', f);
		for (int k = 0; k < ncols; k++) {
			int c = show[k];

			if (markdown)
				fprintf(f, " %s |", cells[i][c]);
			else
				fprintf(f, "%s%*s", k ? "  " : "", cols[c].num ? width[c] : -width[c], cells[i][c]);
		}
		fputc('\n', f);
	}
	bson_free(cells);
	if (r->nfailures > 0)
		fputc('\n', f);
	for (int i = 0; i < r->nfailures; i++) {
		const struct failure *x = &r->failures[i];

		fprintf(f, "%sfailed%s: %s%s%s exited %d%s%s\n", markdown ? "- **" : "", markdown ? "**" : "", x->tool,
			x->ns[0] ? " " : "", x->ns, x->status, x->error[0] ? ": " : "", x->error);
	}
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
write_json(FILE *f, const struct report *r)
{
	fprintf(f, "{\"records\": %lld, \"stats\": %lld, \"diffs\": %lld, \"events\": %lld, \"namespaces\": [",
		(long long)r->records, (long long)r->stats, (long long)r->diffs, (long long)r->events);
	for (int i = 0; i < r->n; i++) {
		const struct ns_row *row = &r->rows[i];
		struct derived d;
		char when[32];

		derive(row, &d);
		fprintf(f, "%s\n  {\"ns\": ", i ? "," : "");
		json_str(f, row->ns);
		fprintf(f, ", \"inserts\": %lld, \"updates\": %lld, \"deletes\": %lld, \"events\": %lld, \"verdict\": ",
			(long long)d.ins, (long long)d.upd, (long long)d.del, (long long)row->events);
		json_str(f, verdict_of(row));
		fprintf(f, ", \"missing\": %lld, \"extra\": %lld, \"changed\": %lld",
			(long long)row->diffs[0], (long long)row->diffs[1], (long long)row->diffs[2]);
		if (row->src >= 0)
			fprintf(f, ", \"source_count\": %lld", (long long)row->src);
		if (row->dst >= 0)
			fprintf(f, ", \"target_count\": %lld", (long long)row->dst);
		if (d.pct >= 0)
			fprintf(f, ", \"percent\": %.1f", d.pct);
		if (d.eta >= 0)
			fprintf(f, ", \"eta_s\": %.0f", d.eta);
		if (d.last_change > 0) {
			fmt_time(d.last_change, true, when, sizeof when);
			fprintf(f, ", \"last_change\": \"%s\"", when);
		}
		fputs(", \"tools\": [", f);
		for (int k = 0; k < row->ntools; k++) {
			const struct tool_row *t = &row->tools[k];

			fprintf(f, "%s{\"tool\": ", k ? ", " : "");
			json_str(f, t->tool);
			fprintf(f, ", \"finished\": %s, \"docs\": %lld, \"bytes\": %lld, \"errors\": %lld, \"rate_docs_s\": %.1f",
				t->summary ? "true" : "false", (long long)t->docs, (long long)t->bytes,
				(long long)t->errors, t->rate);
			if (t->lag_p50 >= 0)
				fprintf(f, ", \"lag_p50_ms\": %lld, \"lag_p99_ms\": %lld", (long long)t->lag_p50,
					(long long)t->lag_p99);
			if (t->verdict[0]) {
				fprintf(f, ", \"verdict\": ");
				json_str(f, t->verdict);
				fprintf(f, ", \"compared\": %lld, \"equal\": %lld", (long long)t->compared, (long long)t->equal);
			}
			fputc('}', f);
		}
		fputs("], \"differences\": [", f);
		for (int k = 0; k < row->nshown; k++)
			fprintf(f, "%s%s", k ? ", " : "", row->shown[k]);
		fputs("]}", f);
	}
	fputs("\n]", f);
	if (r->nfailures > 0) {
		fputs(", \"failures\": [", f);
		for (int i = 0; i < r->nfailures; i++) {
			fprintf(f, "%s{\"tool\": ", i ? ", " : "");
			json_str(f, r->failures[i].tool);
			fputs(", \"ns\": ", f);
			json_str(f, r->failures[i].ns);
			fprintf(f, ", \"status\": %d, \"error\": ", r->failures[i].status);
			json_str(f, r->failures[i].error);
			fputc('}', f);
		}
		fputc(']', f);
	}
	fputs("}\n", f);
}

static void
html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The rate between successive points of a series of counts. */
static void
rates_of(const struct series *docs, struct series *out)
{
	for (int i = 1; i < docs->n; i++) {
		double dt = docs->p[i].t - docs->p[i - 1].t, dv = docs->p[i].v - docs->p[i - 1].v;

		if (dt > 0)
			series_add(out, docs->p[i].t, dv > 0 ? dv / dt : 0);
	}
}

/* An inline SVG line chart of one series. */
static void
svg_chart(FILE *f, const struct series *s, const char *label)
{
	double t0, t1, vmax = 0;

	if (s->n < 2) {
		fprintf(f, "<p class=\"muted\">%s: not enough points</p>\n", label);
		return;
	}
	t0 = s->p[0].t;
	t1 = s->p[s->n - 1].t;
	for (int i = 0; i < s->n; i++)
		if (s->p[i].v > vmax)
			vmax = s->p[i].v;
	if (t1 <= t0)
		t1 = t0 + 1;
	if (vmax <= 0)
		vmax = 1;
	fprintf(f, "<figure><svg viewBox=\"0 0 400 120\" width=\"400\" height=\"120\" role=\"img\" aria-label=\"%s\">"
		"<rect width=\"400\" height=\"120\" fill=\"#fafafa\"/><polyline fill=\"none\" stroke=\"#2b6cb0\" "
		"stroke-width=\"2\" points=\"", label);
	for (int i = 0; i < s->n; i++)
		fprintf(f, "%.1f,%.1f ", 5 + 390 * (s->p[i].t - t0) / (t1 - t0), 115 - 105 * s->p[i].v / vmax);
	fprintf(f, "\"/><text x=\"5\" y=\"12\" font-size=\"10\">max %.0f</text></svg><figcaption>%s</figcaption></figure>\n",
		vmax, label);
}

/* One failed run as a list item: tool (ns) exited N: error. */
static void
html_failure(FILE *f, const struct failure *x)
{
	fprintf(f, "<li class=\"failure\">%s", x->tool);
	if (x->ns[0]) {
		fputs(" (", f);
		html_esc(f, x->ns);
		fputc(')', f);
	}
	fprintf(f, " exited %d", x->status);
	if (x->error[0]) {
		fputs(": <code>", f);
		html_esc(f, x->error);
		fputs("</code>", f);
	}
	fputs("</li>\n", f);
}

static void
write_html(FILE *f, const struct report *r, const char *title)
{
	char when[64];
	time_t now = time(NULL);

	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html_esc(f, title);
	fputs("</title>\n<style>\nbody{font-family:system-ui,sans-serif;margin:2em;color:#222}"
	      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.num,td.progress,td.last,td.eta{white-space:nowrap}"
	      "td.num{text-align:right}.equal{color:#276749;font-weight:bold}.different{color:#c53030;font-weight:bold}.incomplete,.error{color:#b7791f;font-weight:bold}"
	      ".bar{background:#e2e8f0;width:120px;height:10px;display:inline-block}"
	      ".bar span{background:#38a169;height:10px;display:block}.muted{color:#888}"
	      ".failed{border:2px solid #c53030;background:#fff5f5;padding:0 1em;margin:1em 0}"
	      "figure{display:inline-block;margin:0 1em 1em 0}\n</style></head><body>\n<h1>", f);
	html_esc(f, title);
	fprintf(f, "</h1>\n<p class=\"muted\">generated %s from %lld records (%lld stats, %lld differences, %lld change "
		"events)%s; times in UTC</p>\n", when, (long long)r->records, (long long)r->stats, (long long)r->diffs,
		(long long)r->events, any_counts(r) ? ", with the servers' counts at that time" : "");
	if (r->nfailures > 0) {
		fprintf(f, "<div id=\"failures\" class=\"failed\"><strong>%d run%s failed</strong><ul>\n", r->nfailures,
			r->nfailures == 1 ? "" : "s");
		for (int i = 0; i < r->nfailures; i++)
			html_failure(f, &r->failures[i]);
		fputs("</ul></div>\n", f);
	}
	fputs("<h2>Collections</h2>\n<table id=\"collections\"><tr><th>namespace</th><th>source</th><th>target</th>"
	      "<th>progress</th><th>copied</th><th>inserts</th><th>updates</th><th>deletes</th><th>last change</th>"
	      "<th>ETA</th><th>lag</th><th>verdict</th></tr>\n", f);
	for (int i = 0; i < r->n; i++) {
		const struct ns_row *row = &r->rows[i];
		struct derived d;
		char lag[64], eta[32], last[32], src[32], dst[32], pct[32];
		const char *v = verdict_of(row);

		derive(row, &d);
		fmt_lag(row, lag, sizeof lag);
		fmt_eta(d.eta, eta, sizeof eta);
		fmt_time(d.last_change, false, last, sizeof last);
		bson_snprintf(src, sizeof src, row->src >= 0 ? "%lld" : "-", (long long)row->src);
		bson_snprintf(dst, sizeof dst, row->dst >= 0 ? "%lld" : "-", (long long)row->dst);
		bson_snprintf(pct, sizeof pct, d.pct >= 0 ? "%.0f%%" : "-", d.pct);
		fputs("<tr class=\"ns\"><td>", f);
		html_esc(f, row->ns);
		fprintf(f, "</td><td class=\"num src\">%s</td><td class=\"num dst\">%s</td>"
			"<td class=\"progress\"><span class=\"bar\"><span style=\"width:%.0f%%\"></span></span> %s</td>"
			"<td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
			"<td class=\"last\">%s</td><td class=\"eta\">%s</td><td>%s</td><td class=\"%s\">%s</td></tr>\n",
			src, dst, d.pct < 0 ? 0 : d.pct > 100 ? 100 : d.pct, pct, d.copy ? (long long)d.copy->docs : 0LL,
			(long long)d.ins, (long long)d.upd, (long long)d.del, last, eta, lag[0] ? lag : "-", v, v[0] ? v : "-");
	}
	fputs("</table>\n<h2>Throughput and lag</h2>\n", f);
	for (int i = 0; i < r->n; i++) {
		const struct ns_row *row = &r->rows[i];
		const struct tool_row *t = main_tool(row), *lagged = NULL;
		struct series rate = {0};
		char label[320];

		for (int k = 0; k < row->ntools && lagged == NULL; k++)
			if (row->tools[k].lag_t.n >= 2)
				lagged = &row->tools[k];
		if (t)
			rates_of(&t->docs_t, &rate);
		if (rate.n >= 2 || lagged) {
			fputs("<h3>", f);
			html_esc(f, row->ns);
			fputs("</h3>\n", f);
			if (rate.n >= 2) {
				bson_snprintf(label, sizeof label, "%s documents/s (%s)", row->ns, t->tool);
				svg_chart(f, &rate, label);
			}
			if (lagged) {
				bson_snprintf(label, sizeof label, "%s lag (s, %s)", row->ns, lagged->tool);
				svg_chart(f, &lagged->lag_t, label);
			}
		}
		bson_free(rate.p);
	}
	fputs("<h2>Verification</h2>\n", f);
	for (int i = 0; i < r->n; i++) {
		const struct ns_row *row = &r->rows[i];
		const char *v = verdict_of(row);
		struct derived d;

		if (!v[0])
			continue;
		derive(row, &d);
		fputs("<p class=\"verdict\">", f);
		html_esc(f, row->ns);
		fprintf(f, ": <span class=\"%s\">%s</span> (missing %lld, extra %lld, changed %lld)</p>\n", v, v,
			(long long)d.missing, (long long)d.extra, (long long)d.changed);
		if (row->nshown > 0) {
			fputs("<ul class=\"diffs\">\n", f);
			for (int k = 0; k < row->nshown; k++) {
				fputs("<li><code>", f);
				html_esc(f, row->shown[k]);
				fputs("</code></li>\n", f);
			}
			fputs("</ul>\n", f);
		}
	}
	fputs("<h2>Errors and rejects</h2>\n<ul id=\"errors\">\n", f);
	for (int i = 0; i < r->n; i++)
		for (int k = 0; k < r->rows[i].ntools; k++) {
			const struct tool_row *t = &r->rows[i].tools[k];

			if (t->errors > 0 || t->rejected > 0) {
				fputs("<li>", f);
				html_esc(f, r->rows[i].ns);
				fprintf(f, " (%s): %lld errors, %lld rejected</li>\n", t->tool, (long long)t->errors,
					(long long)t->rejected);
			}
		}
	for (int i = 0; i < r->nfailures; i++)
		html_failure(f, &r->failures[i]);
	fputs("</ul>\n</body></html>\n", f);
}


/* ---- counts on the servers ---- */

static int64_t
count_of(mongoc_client_t *c, const char *ns)
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

/* The namespaces --ns or --db name: that one, or the collections of --db,
 * or of every database on the server.  NULL-terminated, for bson_strfreev;
 * NULL with err when the server cannot list them. */
static char **
list_namespaces(mongoc_client_t *c, const char *ns, const char *db, bson_error_t *err)
{
	char **out;
	int n;

	if (ns) {
		out = bson_malloc0(sizeof(char *) * 2);
		out[0] = bson_strdup(ns);
		return out;
	}
	if (!conn_list_namespaces(c, db, &out, &n, err)) {
		bson_strfreev(out);
		return NULL;
	}
	return out;
}

struct servers {
	mongoc_client_t *src, *dst;
	char *src_uri, *dst_uri;
};

/* Connect to whichever of source and target were given; 69 if one is down. */
static bool
servers_open(struct servers *s, const char *source, const char *target, bson_error_t *err)
{
	memset(s, 0, sizeof *s);
	if (source && ((s->src_uri = conn_resolve_uri(source, NULL, NULL, err)) == NULL ||
		       (s->src = conn_client_new(s->src_uri, TOOL, err)) == NULL || !conn_ping(s->src, err)))
		return false;
	if (target && ((s->dst_uri = conn_resolve_uri(target, NULL, NULL, err)) == NULL ||
		       (s->dst = conn_client_new(s->dst_uri, TOOL, err)) == NULL || !conn_ping(s->dst, err)))
		return false;
	return true;
}

static void
servers_close(struct servers *s)
{
	mongoc_client_destroy(s->src);
	mongoc_client_destroy(s->dst);
	bson_free(s->src_uri);
	bson_free(s->dst_uri);
}

/* Rows for the namespaces --ns/--db name (listed on the source, else the
 * target), then every collection row's counts on both servers.  False with
 * err (69) when the collections cannot be listed. */
static bool
servers_count(const struct servers *s, struct report *r, const char *ns, const char *db, bson_error_t *err)
{
	if (ns || db) {
		char **names = list_namespaces(s->src ? s->src : s->dst, ns, db, err);

		if (names == NULL)
			return false;
		for (int i = 0; names[i]; i++)
			row_for(r, names[i]);
		bson_strfreev(names);
	}
	for (int i = 0; i < r->n; i++) {
		if (!is_collection(r->rows[i].ns))
			continue;
		r->rows[i].src = count_of(s->src, r->rows[i].ns);
		r->rows[i].dst = count_of(s->dst, r->rows[i].ns);
	}
	return true;
}

static void
report_clear(struct report *r)
{
	for (int i = 0; i < r->n; i++) {
		for (int k = 0; k < r->rows[i].nshown; k++)
			bson_free(r->rows[i].shown[k]);
		for (int k = 0; k < r->rows[i].ntools; k++) {
			bson_free(r->rows[i].tools[k].docs_t.p);
			bson_free(r->rows[i].tools[k].lag_t.p);
		}
	}
	bson_free(r->rows);
	for (int i = 0; i < r->nfailures; i++)
		bson_free(r->failures[i].error);
	memset(r, 0, sizeof *r);
}

/* ---- --live: a terminal monitor ---- */

/* --events: a change-event stream read as it flows, by a thread of its own,
 * into a report the screen samples under the lock. */
struct follower {
	pthread_t thread;
	pthread_mutex_t lock;
	struct report r;
	const char *path;
	const struct cli_common *cc;
	bool done, failed;
	int64_t bad;
	bson_error_t err;
};

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
follow(void *arg)
{
	struct follower *fo = arg;
	struct docstream_reader_opts ro = {fo->cc->input_format, fo->cc->max_doc, false};
	struct docstream_reader *rd;
	bson_error_t err;
	const bson_t *d;
	int got = -1;

	if ((rd = docstream_reader_open(fo->path, &ro, &err)) != NULL) {
		while ((got = docstream_read(rd, &d, &err)) != 0) {
			bson_iter_t it;

			if (got < 0) {
				if (!docstream_reader_can_continue(rd))
					break;
				diag_warn("%s", err.message);
				pthread_mutex_lock(&fo->lock);
				fo->bad++;
				pthread_mutex_unlock(&fo->lock);
				continue;
			}
			pthread_mutex_lock(&fo->lock);
			fo->r.records++;
			if (bson_iter_init_find(&it, d, "operationType")) {
				struct ns_row *row = take_event(&fo->r, d);

				if (bson_iter_init_find(&it, d, "wallTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
					row->arrival_lag = wall_now() - (double)bson_iter_date_time(&it) / 1000.0;
			} else {
				record_error(rd, fo->path, "not a change event (--events)", &err);
				diag_warn("%s", err.message);
				fo->bad++;
			}
			pthread_mutex_unlock(&fo->lock);
		}
	}
	pthread_mutex_lock(&fo->lock);
	if (got < 0) {
		fo->failed = true;
		fo->err = err;
	}
	fo->done = true;
	pthread_mutex_unlock(&fo->lock);
	docstream_reader_destroy(rd);
	return NULL;
}

struct live_ns {
	char ns[256];
	int64_t src, dst, prev_dst;
	double changed_at, rate;
	int64_t events, prev_events, ins, upd, del;
	double ev_rate, lag, last_event;
};

static struct live_ns *
live_row(struct live_ns **rows, int *n, const char *ns)
{
	for (int i = 0; i < *n; i++)
		if (strcmp((*rows)[i].ns, ns) == 0)
			return &(*rows)[i];
	*rows = bson_realloc(*rows, sizeof(struct live_ns) * (size_t)(*n + 1));
	memset(&(*rows)[*n], 0, sizeof(struct live_ns));
	bson_strncpy((*rows)[*n].ns, ns, sizeof (*rows)[*n].ns);
	(*rows)[*n].src = (*rows)[*n].dst = -1;
	(*rows)[*n].lag = -1;
	return &(*rows)[(*n)++];
}

struct live_opts {
	const char *ns, *db, *snapshot;
	double refresh;
	int64_t iterations;
	bool events;
	char **files;
	int nfiles;
	const struct cli_common *cc;
};

static int
live(const struct live_opts *o, const struct servers *sv)
{
	static struct follower fo; /* its thread may outlive an interrupted run */
	struct live_ns *rows = NULL;
	int n = 0, rc = MP_EX_OK;
	bool servers = sv->src && sv->dst, finished = false, ended = false;
	FILE *screen;
	bson_error_t err;
	double prev_t = mp_now();

	/* With --events the monitor usually hangs off a tee whose stdout is the
	 * pipe into the next tool: the screen is stdout only when that is a
	 * terminal, else stderr. */
	screen = o->events && !isatty(1) ? stderr : stdout;
	sig_install();
	if (o->events) {
		pthread_mutex_init(&fo.lock, NULL);
		fo.path = o->nfiles ? o->files[0] : "-";
		fo.cc = o->cc;
		sigset_t block, old;
		int e;

		/* signals are the screen's to take: the reader never sees EINTR */
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		e = pthread_create(&fo.thread, NULL, follow, &fo);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (e != 0) {
			diag_error("cannot start the reader thread");
			return MP_EX_SOFTWARE;
		}
	}
	for (int64_t it = 0; !finished && (o->iterations == 0 || it < o->iterations); it++) {
		struct report r;
		double now = mp_now(), dt = now - prev_t;
		char when[32], head[160];
		time_t wall = time(NULL);
		bson_t snap = BSON_INITIALIZER, arr;
		struct tm tm;

		memset(&r, 0, sizeof r);
		finished = sig_stop_requested();
		prev_t = now;
		if (servers && (it % 5 == 0 || n == 0)) {
			bson_error_t e;
			char **names = list_namespaces(sv->src, o->ns, o->db, &e);

			if (names == NULL)
				diag_warn("listing collections: %s", e.message);
			for (int i = 0; names && names[i]; i++)
				live_row(&rows, &n, names[i]);
			bson_strfreev(names);
		}
		if (!o->events)
			for (int i = 0; i < o->nfiles; i++) {
				bson_error_t e;

				if (!read_input(&r, o->files[i], o->cc, false, &e))
					diag_warn("%s", e.message);
			}
		if (o->events) {
			pthread_mutex_lock(&fo.lock);
			ended = fo.done;
			finished = finished || ended;
			for (int k = 0; k < fo.r.n; k++) {
				const struct ns_row *er = &fo.r.rows[k];
				struct live_ns *l;

				if ((o->ns && strcmp(er->ns, o->ns) != 0) ||
				    (o->db && (strncmp(er->ns, o->db, strlen(o->db)) != 0 || er->ns[strlen(o->db)] != '.')))
					continue;
				l = live_row(&rows, &n, er->ns);
				l->events = er->events;
				l->ins = er->ev[0];
				l->upd = er->ev[1] + er->ev[2];
				l->del = er->ev[3];
				l->lag = er->arrival_lag;
				l->last_event = (double)er->last_wall_ms / 1000.0;
			}
			pthread_mutex_unlock(&fo.lock);
		}
		localtime_r(&wall, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		if (isatty(fileno(screen)))
			fputs("\033[H\033[2J", screen);
		fprintf(screen, "mongo-report --live  %s  (every %.0fs, Ctrl-C to stop)%s\n\n", when, o->refresh,
			finished && o->events ? "  the stream has ended" : "");
		head[0] = '\0';
		if (servers)
			bson_snprintf(head, sizeof head, "%12s %12s %7s ", "source", "target", "done");
		if (o->events)
			bson_snprintf(head + strlen(head), sizeof head - strlen(head), "%9s %9s %9s %9s %8s %7s %9s",
				"events", "inserts", "updates", "deletes", "events/s", "lag", "last");
		else
			bson_snprintf(head + strlen(head), sizeof head - strlen(head), "%9s %9s %10s %9s", "updates",
				"deletes", "last", "ETA");
		fprintf(screen, "%-32s %s\n", "namespace", head);
		bson_append_array_begin(&snap, "namespaces", -1, &arr);
		for (int i = 0; i < n; i++) {
			struct live_ns *l = &rows[i];
			char last[16] = "-", eta[16] = "-", lag[16] = "-", key[16], line[200] = "";
			double pct = 0;
			bson_t o2;

			if (servers) {
				l->src = count_of(sv->src, l->ns);
				l->dst = count_of(sv->dst, l->ns);
				if (l->changed_at == 0 || l->dst != l->prev_dst) {
					if (l->changed_at > 0 && now > l->changed_at)
						l->rate = (double)(l->dst - l->prev_dst) / (now - l->changed_at);
					l->changed_at = now;
					l->prev_dst = l->dst;
				}
				pct = l->src > 0 ? 100.0 * (double)l->dst / (double)l->src : (l->dst == 0 ? 100.0 : 0.0);
				bson_snprintf(line, sizeof line, "%12lld %12lld %6.1f%% ", (long long)l->src,
					(long long)l->dst, pct);
			}
			if (o->events) {
				l->ev_rate = dt > 0 && it > 0 ? (double)(l->events - l->prev_events) / dt : 0;
				l->prev_events = l->events;
				if (l->lag >= 60)
					progress_format_duration(l->lag, lag, sizeof lag);
				else if (l->lag >= 0)
					bson_snprintf(lag, sizeof lag, "%.1fs", l->lag);
				if (l->last_event > 0)
					progress_format_duration(wall_now() - l->last_event, last, sizeof last);
				bson_snprintf(line + strlen(line), sizeof line - strlen(line),
					"%9lld %9lld %9lld %9lld %8.0f %7s %9s", (long long)l->events, (long long)l->ins,
					(long long)l->upd, (long long)l->del, l->ev_rate, lag, last);
			} else {
				l->upd = l->del = 0;
				for (int k = 0; k < r.n; k++) {
					if (strcmp(r.rows[k].ns, l->ns) != 0)
						continue;
					for (int t = 0; t < r.rows[k].ntools; t++) {
						l->upd += r.rows[k].tools[t].updates + r.rows[k].tools[t].replaces;
						l->del += r.rows[k].tools[t].deletes;
					}
				}
				progress_format_duration(now - l->changed_at, last, sizeof last);
				if (l->rate > 0 && l->dst < l->src)
					progress_format_duration((double)(l->src - l->dst) / l->rate, eta, sizeof eta);
				bson_snprintf(line + strlen(line), sizeof line - strlen(line), "%9lld %9lld %10s %9s",
					(long long)l->upd, (long long)l->del, last, eta);
			}
			fprintf(screen, "%-32s %s\n", l->ns, line);
			bson_snprintf(key, sizeof key, "%d", i);
			bson_append_document_begin(&arr, key, -1, &o2);
			BSON_APPEND_UTF8(&o2, "ns", l->ns);
			if (servers) {
				BSON_APPEND_INT64(&o2, "source", l->src);
				BSON_APPEND_INT64(&o2, "target", l->dst);
				BSON_APPEND_DOUBLE(&o2, "percent", pct);
			}
			if (o->events) {
				BSON_APPEND_INT64(&o2, "events", l->events);
				BSON_APPEND_INT64(&o2, "inserts", l->ins);
				BSON_APPEND_DOUBLE(&o2, "events_per_s", l->ev_rate);
				if (l->lag >= 0)
					BSON_APPEND_DOUBLE(&o2, "lag_s", l->lag);
			}
			BSON_APPEND_INT64(&o2, "updates", l->upd);
			BSON_APPEND_INT64(&o2, "deletes", l->del);
			bson_append_document_end(&arr, &o2);
		}
		bson_append_array_end(&snap, &arr);
		for (int i = 0; i < r.nfailures; i++)
			fprintf(screen, "\nfailed: %s%s%s exited %d%s%s", r.failures[i].tool, r.failures[i].ns[0] ? " " : "",
				r.failures[i].ns, r.failures[i].status, r.failures[i].error[0] ? ": " : "",
				r.failures[i].error);
		if (r.nfailures > 0)
			fputc('\n', screen);
		if (o->events)
			BSON_APPEND_BOOL(&snap, "ended", ended);
		fflush(screen);
		if (o->snapshot && !checkpoint_save(o->snapshot, &snap, &err))
			diag_fail(&err, NULL);
		bson_destroy(&snap);
		report_clear(&r);
		if (!finished && (o->iterations == 0 || it + 1 < o->iterations))
			for (double t = 0; t < o->refresh && !sig_stop_requested(); t += 0.1) {
				if (o->events) {
					pthread_mutex_lock(&fo.lock);
					ended = fo.done;
					pthread_mutex_unlock(&fo.lock);
				}
				if (ended)
					break;
				usleep(100000);
			}
	}
	if (o->events) {
		pthread_mutex_lock(&fo.lock);
		ended = fo.done;
		if (ended) {
			if (fo.failed) {
				diag_fail(&fo.err, NULL);
				rc = mp_error_exitcode(&fo.err);
			} else if (fo.bad > 0) {
				diag_error("%lld record(s) of the stream were not change events or could not be read",
					(long long)fo.bad);
				rc = MP_EX_DATAERR;
			}
		}
		pthread_mutex_unlock(&fo.lock);
		/* a reader still blocked on its input is left to the exit */
		if (ended) {
			pthread_join(fo.thread, NULL);
			report_clear(&fo.r);
		}
	}
	bson_free(rows);
	return rc;
}

/* Write the report to `output` (atomically: temp file, fsync, rename) or
 * to stdout.  Errors: 73 cannot create, 74 write failed. */
static bool
write_report(const struct report *r, enum fmt fmt, const char *title, const char *output, bson_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = output ? open_memstream(&buf, &len) : stdout;
	bool ok;

	if (f == NULL) {
		mp_error_set(err, MP_EX_SOFTWARE, "out of memory");
		return false;
	}
	switch (fmt) {
	case FMT_TEXT: write_table(f, r, false); break;
	case FMT_MARKDOWN: write_table(f, r, true); break;
	case FMT_JSON: write_json(f, r); break;
	case FMT_HTML: write_html(f, r, title); break;
	}
	if (output == NULL) {
		ok = fflush(f) == 0 && !ferror(f);
		if (!ok)
			mp_error_set(err, MP_EX_IOERR, "writing stdout failed: %s", strerror(errno));
		return ok;
	}
	if (fclose(f) != 0) {
		mp_error_set(err, MP_EX_SOFTWARE, "out of memory");
		ok = false;
	} else {
		ok = atomicfile_write(output, buf, len, err);
	}
	free(buf);
	return ok;
}

int
main(int argc, char **argv)
{
	struct cli_common c;
	struct report r;
	struct servers sv = {0};
	struct live_opts lo = {0};
	const char *output = NULL, *title = "mongo-pipes report", *source = NULL, *target = NULL;
	bool is_live = false;
	int64_t v;
	char *ns = NULL, *db = NULL;
	enum fmt fmt = FMT_TEXT;
	bson_error_t err;
	int ch, rc = MP_EX_SOFTWARE;

	diag_init(argv[0]);
	memset(&r, 0, sizeof r);
	cli_common_init(&c);
	lo.refresh = 2;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT "o:", longopts, NULL)) != -1) {
		switch (cli_common_option(&c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			return cli_misuse(usage, "%s", err.message);
		}
		switch (ch) {
		case 'o':
		case OPT_OUTPUT: output = optarg; break;
		case OPT_TITLE: title = optarg; break;
		case OPT_LIVE: is_live = true; break;
		case OPT_SOURCE: source = optarg; break;
		case OPT_TARGET: target = optarg; break;
		case OPT_SNAPSHOT: lo.snapshot = optarg; break;
		case OPT_EVENTS: lo.events = true; break;
		case OPT_REFRESH:
			if (!cli_parse_int64(optarg, 1, 3600, &v))
				return cli_misuse(usage, "--refresh takes seconds, not '%s'", optarg);
			lo.refresh = (double)v;
			break;
		case OPT_ITERATIONS:
			if (!cli_parse_int64(optarg, 1, INT32_MAX, &lo.iterations))
				return cli_misuse(usage, "--iterations takes a count, not '%s'", optarg);
			break;
		case OPT_REPORT_FORMAT:
			if (strcmp(optarg, "text") == 0) fmt = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0) fmt = FMT_JSON;
			else if (strcmp(optarg, "markdown") == 0) fmt = FMT_MARKDOWN;
			else if (strcmp(optarg, "html") == 0) fmt = FMT_HTML;
			else return cli_misuse(usage, "--format takes text, json, markdown or html, not '%s'", optarg);
			break;
		default:
			return cli_misuse(usage, "unknown option");
		}
	}
	if (c.help) {
		usage(stdout);
		return 0;
	}
	if (c.version)
		return cli_version();
	diag_set_verbosity(c.verbosity);
	if (is_live && !lo.events && (!source || !target))
		return cli_misuse(usage, "--live watches two servers (give --source URI and --target URI) "
			"or a change-event stream (--events)");
	if (is_live && (!source) != (!target))
		return cli_misuse(usage, "--live compares two servers: give both --source URI and --target URI");
	if (is_live && lo.events && argc - optind > 1)
		return cli_misuse(usage, "--live --events follows one stream (a FILE, or stdin)");
	if (is_live && output)
		return cli_misuse(usage, "--live draws on the terminal; use --snapshot FILE to keep its state");
	if ((c.ns || c.db || c.collection) && !cli_common_namespace(&c, &ns, &db, &err))
		return cli_misuse(usage, "%s", err.message);
	if (ns) {
		bson_free(db);
		db = NULL;
	}
	mongoc_init();
	if ((source || target) && !servers_open(&sv, source, target, &err))
		goto fail;
	if (is_live) {
		lo.ns = ns;
		lo.db = db;
		lo.files = argv + optind;
		lo.nfiles = argc - optind;
		lo.cc = &c;
		rc = live(&lo, &sv);
		goto out;
	}
	if (optind == argc) {
		if (!read_input(&r, "-", &c, lo.events, &err))
			goto fail;
	}
	for (int i = optind; i < argc; i++)
		if (!read_input(&r, argv[i], &c, lo.events, &err))
			goto fail;
	if ((sv.src || sv.dst) && !servers_count(&sv, &r, ns, db, &err)) {
		mp_error_wrap(&err, "listing collections");
		goto fail;
	}
	if (r.n > 1)
		qsort(r.rows, (size_t)r.n, sizeof *r.rows, row_cmp);
	if (!write_report(&r, fmt, title, output, &err))
		goto fail;
	rc = MP_EX_OK;
	goto out;
fail:
	diag_fail(&err, NULL);
	rc = mp_error_exitcode(&err);
out:
	report_clear(&r);
	servers_close(&sv);
	mongoc_cleanup();
	bson_free(ns);
	bson_free(db);
	return rc;
}
