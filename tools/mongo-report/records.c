/*
 * records.c: the streams read into rows.  Each record is recognised by its
 * shape, so one file may mix them:
 *   stats records   {"tool", "type": "progress"|"summary"|"exit", "ns", "docs", ...}
 *   diff records    {"ns", "_id", "diff", "source_hash", "target_hash"}, and
 *                   {"ns", "diff": "index"|"options"|"view", "name"?, "fields"?,
 *                   "source", "target"} of mongo-hashdiff --metadata
 *   change events   {"operationType", "ns", "clusterTime", "wallTime", ...}
 * and summed up per namespace: a row per namespace, in it a row per tool.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "mongo-report.h"
#include "nsmap.h"

static const char *const diff_names[NDIFF] = {"missing", "extra", "changed"};
static const char *const metadata_names[] = {"index", "options", "view", NULL};

void
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

struct ns_row *
report_row(struct report *r, const char *ns)
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

/* The row of `tool` in `row`; past MAX_TOOLS the last one is shared. */
static struct tool_row *
row_tool(struct ns_row *row, const char *tool)
{
	struct tool_row *t;

	for (int i = 0; i < row->ntools; i++)
		if (strcmp(row->tools[i].tool, tool) == 0)
			return &row->tools[i];
	if (row->ntools == MAX_TOOLS)
		return &row->tools[MAX_TOOLS - 1];
	t = &row->tools[row->ntools++];
	memset(t, 0, sizeof *t);
	bson_strncpy(t->tool, tool, sizeof t->tool);
	t->lag_s = -1;
	t->lag_p50 = t->lag_p99 = -1;
	t->total = -1;
	return t;
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

/* A date, or an ISO 8601 string (UTC), in seconds; 0 when absent. */
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

/* One entry of mongo-replay's "namespaces", under its collection's row. */
static void
take_stats_namespace(struct report *r, const bson_t *one, const struct tool_row *whole, double when)
{
	const char *ns = get_str(one, "ns");
	struct tool_row *t;
	double change;

	if (ns == NULL)
		return;
	t = row_tool(report_row(r, ns), whole->tool);
	t->summary = whole->summary;
	t->inserts = get_int(one, "inserts", t->inserts);
	t->updates = get_int(one, "updates", t->updates);
	t->replaces = get_int(one, "replaces", t->replaces);
	t->deletes = get_int(one, "deletes", t->deletes);
	t->docs = t->inserts + t->updates + t->replaces + t->deletes;
	t->lag_p50 = whole->lag_p50;
	t->lag_p99 = whole->lag_p99;
	if (when > t->last_t)
		t->last_t = when;
	if ((change = get_time(one, "last_change")) > t->last_change)
		t->last_change = change;
}

/* mongo-replay's "namespaces": what it applied to each target collection,
 * counted under that collection's row too. */
static void
take_stats_namespaces(struct report *r, const bson_t *d, const struct tool_row *whole_row, double when)
{
	/* report_row() may move every row: keep what is needed of the record's own */
	const struct tool_row whole = *whole_row;
	bson_iter_t it, arr;

	if (!bson_iter_init_find(&it, d, "namespaces") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
		return;
	while (bson_iter_next(&arr)) {
		const uint8_t *data;
		uint32_t len;
		bson_t one;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
			continue;
		bson_iter_document(&arr, &len, &data);
		if (bson_init_static(&one, data, len))
			take_stats_namespace(r, &one, &whole, when);
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

/* The figures of a stats record; those it lacks keep their value. */
static void
take_stats_figures(struct tool_row *t, const bson_t *d)
{
	const char *verdict = get_str(d, "verdict");

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
	t->metadata = get_int(d, "metadata", t->metadata);
	if (verdict)
		bson_strncpy(t->verdict, verdict, sizeof t->verdict);
}

static void
take_stats(struct report *r, const bson_t *d)
{
	const char *tool = get_str(d, "tool"), *type = get_str(d, "type"), *ns = get_str(d, "ns");
	struct ns_row *row = report_row(r, ns ? ns : "(all)");
	struct tool_row *t = row_tool(row, tool ? tool : "?");
	double when = get_time(d, "time");

	r->stats++;
	t->summary = t->summary || (type && strcmp(type, "summary") == 0);
	take_stats_figures(t, d);
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

/* A metadata difference, shown by its kind, name and fields. */
static bool
take_metadata_diff(struct ns_row *row, const bson_t *d, const char *kind)
{
	bson_t one = BSON_INITIALIZER;
	bson_iter_t it;
	int k;

	for (k = 0; metadata_names[k] && strcmp(kind, metadata_names[k]) != 0; k++)
		;
	if (metadata_names[k] == NULL)
		return false;
	row->metadata++;
	if (row->nshown < MAX_DIFFS_SHOWN) {
		BSON_APPEND_UTF8(&one, "diff", kind);
		if (bson_iter_init_find(&it, d, "name"))
			bson_append_iter(&one, "name", -1, &it);
		if (bson_iter_init_find(&it, d, "fields"))
			bson_append_iter(&one, "fields", -1, &it);
		row->shown[row->nshown++] = ejson_from_bson_new(&one, EJSON_RELAXED, NULL);
	}
	bson_destroy(&one);
	return true;
}

static void
take_diff(struct report *r, const bson_t *d)
{
	const char *ns = get_str(d, "ns"), *kind = get_str(d, "diff");
	struct ns_row *row = report_row(r, ns ? ns : "(none)");
	bson_iter_t it;

	r->diffs++;
	if (kind && take_metadata_diff(row, d, kind))
		return;
	for (int k = 0; k < NDIFF; k++)
		if (kind && strcmp(kind, diff_names[k]) == 0)
			row->diffs[k]++;
	if (row->nshown < MAX_DIFFS_SHOWN && bson_iter_init_find(&it, d, "_id")) {
		bson_t one = BSON_INITIALIZER;
		char *json;
		size_t len;

		bson_append_iter(&one, "_id", 3, &it);
		BSON_APPEND_UTF8(&one, "diff", kind ? kind : "?");
		json = ejson_from_bson_new(&one, EJSON_RELAXED, &len);
		row->shown[row->nshown++] = json;
		bson_destroy(&one);
	}
}

/* "db.coll", "db" for a database's event, else "(deployment)". */
static void
event_ns(const bson_t *d, char *ns, size_t size)
{
	const char *db = NULL, *coll = NULL;
	bson_iter_t it, sub;

	bson_strncpy(ns, "(deployment)", size);
	if (!bson_iter_init_find(&it, d, "ns") || !bson_iter_recurse(&it, &sub))
		return;
	while (bson_iter_next(&sub)) {
		if (strcmp(bson_iter_key(&sub), "db") == 0 && BSON_ITER_HOLDS_UTF8(&sub))
			db = bson_iter_utf8(&sub, NULL);
		else if (strcmp(bson_iter_key(&sub), "coll") == 0 && BSON_ITER_HOLDS_UTF8(&sub))
			coll = bson_iter_utf8(&sub, NULL);
	}
	if (db)
		bson_snprintf(ns, size, "%s%s%s", db, coll ? "." : "", coll ? coll : "");
}

struct ns_row *
report_take_event(struct report *r, const bson_t *d)
{
	const char *op = get_str(d, "operationType");
	bson_iter_t it;
	char ns[256];
	struct ns_row *row;

	event_ns(d, ns, sizeof ns);
	row = report_row(r, ns);
	r->events++;
	row->events++;
	row->ev[change_op_from_name(op)]++;
	if (bson_iter_init_find(&it, d, "wallTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
		row->last_wall_ms = bson_iter_date_time(&it);
	if (bson_iter_init_find(&it, d, "clusterTime") && BSON_ITER_HOLDS_TIMESTAMP(&it)) {
		uint32_t inc;

		bson_iter_timestamp(&it, &row->last_cluster, &inc);
	}
	return row;
}

void
report_record_error(const struct docstream_reader *rd, const char *path, const char *what, bson_error_t *err)
{
	uint64_t line = docstream_reader_line(rd);

	mp_error_set(err, MP_EX_DATAERR, "%s: record %llu (%s %llu): %s", path && strcmp(path, "-") ? path : "stdin",
		(unsigned long long)docstream_reader_record(rd), line ? "line" : "byte offset",
		(unsigned long long)(line ? line : docstream_reader_offset(rd)), what);
}

static const char not_ours[] = "neither a stats record, a diff record nor a change event";

/* Whether the skipped records of `path` were said already: --live reads
 * its files again at every refresh, and one warning a file is enough. */
static bool
skips_said(const char *path)
{
	static char *said[64];
	static int n;

	for (int i = 0; i < n; i++)
		if (strcmp(said[i], path) == 0)
			return true;
	if (n < (int)(sizeof said / sizeof said[0]))
		said[n++] = bson_strdup(path);
	return false;
}

/* Take one record by its shape; NULL, or why it was not taken. */
static const char *
take_record(struct report *r, const bson_t *d, bool only_events)
{
	const char *type = get_str(d, "type");
	bson_iter_t it;
	bool stats = bson_iter_init_find(&it, d, "tool") && bson_iter_init_find(&it, d, "type");

	if (only_events && !bson_iter_init_find(&it, d, "operationType"))
		return "not a change event (--events)";
	if (stats && strcmp(type ? type : "", "exit") == 0)
		take_exit(r, d);
	else if (stats)
		take_stats(r, d);
	else if (bson_iter_init_find(&it, d, "operationType"))
		report_take_event(r, d);
	else if (bson_iter_init_find(&it, d, "diff") && bson_iter_init_find(&it, d, "ns"))
		take_diff(r, d);
	else
		return not_ours;
	return NULL;
}

bool
report_read(struct report *r, const char *path, const struct cli_common *c, bool only_events, bson_error_t *err)
{
	struct docstream_reader_opts ro = {c->input_format, c->max_doc, false};
	struct docstream_reader *rd = NULL;
	const bson_t *d;
	const char *refused;
	uint64_t skipped = 0;
	bson_error_t first;
	int got = -1;

	if ((rd = docstream_reader_open(path, &ro, err)) == NULL)
		goto out;
	while ((got = docstream_read(rd, &d, err)) == 1) {
		if ((refused = take_record(r, d, only_events)) == NULL) {
			r->records++;
			continue;
		}
		if (refused != not_ours) {
			report_record_error(rd, path, refused, err);
			got = -1;
			break;
		}
		/* a rejects file or another tool's NDJSON beside ours in a glob
		 * (mongo-report *.ndjson): not a report's business, but said */
		if (skipped++ == 0)
			report_record_error(rd, path, refused, &first);
	}
	if (skipped > 0 && skips_said(path))
		; /* said at an earlier refresh */
	else if (skipped == 1)
		diag_warn("%s: skipped", first.message);
	else if (skipped > 1)
		diag_warn("%s: skipped, and %llu more records of the file like it", first.message,
			(unsigned long long)(skipped - 1));
out:
	docstream_reader_destroy(rd);
	return got == 0;
}

static int
row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ns_row *)a)->ns, ((const struct ns_row *)b)->ns);
}

void
report_sort(struct report *r)
{
	if (r->n > 1)
		qsort(r->rows, (size_t)r->n, sizeof *r->rows, row_cmp);
}

static void
row_free(struct ns_row *row)
{
	for (int k = 0; k < row->nshown; k++)
		bson_free(row->shown[k]);
	for (int k = 0; k < row->ntools; k++) {
		bson_free(row->tools[k].docs_t.p);
		bson_free(row->tools[k].lag_t.p);
	}
}

void
report_select(struct report *r)
{
	int kept = 0;

	for (int i = 0; i < r->n; i++) {
		const char *ns = r->rows[i].ns, *dot = strchr(ns, '.');
		char *db;
		bool keep = true;

		if (dot != NULL && dot != ns && ns[0] != '(') {
			db = bson_strndup(ns, (size_t)(dot - ns));
			keep = ns_selected(db, dot + 1);
			bson_free(db);
		}
		if (keep) {
			if (kept != i)
				r->rows[kept] = r->rows[i];
			kept++;
			continue;
		}
		row_free(&r->rows[i]);
	}
	r->n = kept;
}

void
report_clear(struct report *r)
{
	for (int i = 0; i < r->n; i++)
		row_free(&r->rows[i]);
	bson_free(r->rows);
	for (int i = 0; i < r->nfailures; i++)
		bson_free(r->failures[i].error);
	memset(r, 0, sizeof *r);
}
