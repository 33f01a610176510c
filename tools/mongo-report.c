/*
 * mongo-report: turn the suite's streams into what a person reads: a table
 * in the terminal, JSON, markdown, or one self-contained HTML page.
 *
 * Inputs are recognised record by record, so one file may mix them:
 *   stats records   {"tool", "type": "progress"|"summary", "ns", "docs", ...}
 *   diff records    {"ns", "_id", "diff", "source_hash", "target_hash"}
 *   change events   {"operationType", "ns", "clusterTime", "wallTime", ...}
 * Everything is summed up per namespace: progress and rates per tool,
 * changes applied, lag, the verification verdict and the differences.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	CLI_COMMON_OPTIONS,
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-report [--format text|json|markdown|html] [-o|--output FILE] [FILE...]\n"
		"       mongo-report --live --source URI --target URI [--ns DB.COLL | --db DB] [STATS...]\n"
		"\n"
		"Summarise stats streams (--stats of any tool), diff streams (mongo-hashdiff) and\n"
		"change-event streams (mongo-watch) per namespace; FILE - or none is stdin.\n"
		"\n"
		"Options:  --format F  -o|--output FILE  --title TEXT  --input-format F\n"
		"Live:     --live  --source URI  --target URI  --refresh SECONDS  --snapshot FILE\n"
		"          --ns DB.COLL  --db DB  --collection C  --iterations N\n"
		"          --max-doc-size N  -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 done, 64 usage, 65 bad input (the record and line are named), 66 no input,\n"
		"73/74 output.  See mongo-report(1).\n");
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
};

struct ns_row {
	char ns[256];
	struct tool_row tools[8];
	int ntools;
	/* change events seen */
	int64_t ev[8]; /* insert update replace delete drop rename dropDatabase other */
	int64_t events, last_wall_ms;
	uint32_t last_cluster;
	/* differences */
	int64_t diffs[3];
	char *shown[MAX_DIFFS_SHOWN];
	int nshown;
	struct series rate, lag;
};

struct report {
	struct ns_row *rows;
	int n, cap;
	int64_t records, stats, diffs, events;
	double first_t, last_t;
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

		if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
			return (double)timegm(&tm);
	}
	return 0;
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
	if (when > 0) {
		if (r->first_t == 0 || when < r->first_t)
			r->first_t = when;
		if (when > r->last_t)
			r->last_t = when;
		series_add(&row->rate, when, t->rate);
		if (t->lag_s >= 0)
			series_add(&row->lag, when, t->lag_s);
	}
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

static void
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
	while (k < 7 && strcmp(ev_names[k], op) != 0)
		k++;
	row->ev[k]++;
	if (bson_iter_init_find(&it, d, "wallTime") && BSON_ITER_HOLDS_DATE_TIME(&it))
		row->last_wall_ms = bson_iter_date_time(&it);
	if (bson_iter_init_find(&it, d, "clusterTime") && BSON_ITER_HOLDS_TIMESTAMP(&it)) {
		uint32_t inc;

		bson_iter_timestamp(&it, &row->last_cluster, &inc);
	}
}

/* Read one input; false with err (65 naming the record) on bad data. */
static bool
read_input(struct report *r, const char *path, const struct cli_common *c, bson_error_t *err)
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
		if (bson_iter_init_find(&it, d, "tool") && bson_iter_init_find(&it, d, "type"))
			take_stats(r, d);
		else if (bson_iter_init_find(&it, d, "operationType"))
			take_event(r, d);
		else if (bson_iter_init_find(&it, d, "diff") && bson_iter_init_find(&it, d, "ns"))
			take_diff(r, d);
		else {
			mp_error_set(err, MP_EX_DATAERR, "%s: record %llu%s: neither a stats record, a diff record nor "
				"a change event", path && strcmp(path, "-") ? path : "stdin",
				(unsigned long long)docstream_reader_record(rd),
				docstream_reader_line(rd) ? " (NDJSON)" : "");
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

static const struct tool_row *
main_tool(const struct ns_row *row)
{
	const struct tool_row *best = NULL;

	/* the copy's count when there is one, else the largest */
	for (int i = 0; i < row->ntools; i++)
		if (strcmp(row->tools[i].tool, "mongo-load-bson") == 0)
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
write_table(FILE *f, const struct report *r, bool markdown)
{
	const char *head[] = {"namespace", "tools", "documents", "docs/s", "inserts", "updates", "deletes", "events",
			      "lag", "verdict", "missing", "extra", "changed"};
	char cells[13][96];
	int width[13];
	int nrows = r->n;

	for (int c = 0; c < 13; c++)
		width[c] = (int)strlen(head[c]);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (markdown) {
				fputc('|', f);
				for (int c = 0; c < 13; c++)
					fprintf(f, " %s |", head[c]);
				fputs("\n|", f);
				for (int c = 0; c < 13; c++)
					fputs(c >= 2 && c <= 7 ? "---:|" : "---|", f);
				fputc('\n', f);
			} else {
				for (int c = 0; c < 13; c++)
					fprintf(f, "%s%-*s", c ? "  " : "", c == 12 ? 0 : width[c], head[c]);
				fputc('\n', f);
			}
		}
		for (int i = 0; i < nrows; i++) {
			const struct ns_row *row = &r->rows[i];
			const struct tool_row *t = main_tool(row);
			int64_t ins, upd, del;
			char tools[96] = "";

			sum_changes(row, &ins, &upd, &del);
			for (int k = 0; k < row->ntools; k++) {
				const char *name = row->tools[k].tool;

				if (strncmp(name, "mongo-", 6) == 0)
					name += 6;
				bson_snprintf(tools + strlen(tools), sizeof tools - strlen(tools), "%s%s", k ? "," : "", name);
			}
			bson_snprintf(cells[0], 96, "%s", row->ns);
			bson_snprintf(cells[1], 96, "%s", tools[0] ? tools : "-");
			bson_snprintf(cells[2], 96, "%lld", t ? (long long)t->docs : 0LL);
			bson_snprintf(cells[3], 96, "%.0f", t ? t->rate : 0.0);
			bson_snprintf(cells[4], 96, "%lld", (long long)ins);
			bson_snprintf(cells[5], 96, "%lld", (long long)upd);
			bson_snprintf(cells[6], 96, "%lld", (long long)del);
			bson_snprintf(cells[7], 96, "%lld", (long long)row->events);
			fmt_lag(row, cells[8], 96);
			if (!cells[8][0])
				bson_snprintf(cells[8], 96, "-");
			bson_snprintf(cells[9], 96, "%s", verdict_of(row)[0] ? verdict_of(row) : "-");
			{
				int64_t m = row->diffs[0], x = row->diffs[1], ch = row->diffs[2];

				for (int k = 0; k < row->ntools; k++)
					if (row->tools[k].verdict[0] && m + x + ch == 0) {
						m = row->tools[k].missing;
						x = row->tools[k].extra;
						ch = row->tools[k].changed;
					}
				bson_snprintf(cells[10], 96, "%lld", (long long)m);
				bson_snprintf(cells[11], 96, "%lld", (long long)x);
				bson_snprintf(cells[12], 96, "%lld", (long long)ch);
			}
			if (pass == 0) {
				for (int c = 0; c < 13; c++)
					if ((int)strlen(cells[c]) > width[c])
						width[c] = (int)strlen(cells[c]);
			} else if (markdown) {
				fputc('|', f);
				for (int c = 0; c < 13; c++)
					fprintf(f, " %s |", cells[c]);
				fputc('\n', f);
			} else {
				for (int c = 0; c < 13; c++) {
					bool num = (c >= 2 && c <= 7) || c >= 10;

					if (c == 12)
						fprintf(f, "  %*s", width[c], cells[c]);
					else
						fprintf(f, "%s%*s", c ? "  " : "", num ? width[c] : -width[c], cells[c]);
				}
				fputc('\n', f);
			}
		}
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
		int64_t ins, upd, del;

		sum_changes(row, &ins, &upd, &del);
		fprintf(f, "%s\n  {\"ns\": ", i ? "," : "");
		json_str(f, row->ns);
		fprintf(f, ", \"inserts\": %lld, \"updates\": %lld, \"deletes\": %lld, \"events\": %lld, \"verdict\": ",
			(long long)ins, (long long)upd, (long long)del, (long long)row->events);
		json_str(f, verdict_of(row));
		fprintf(f, ", \"missing\": %lld, \"extra\": %lld, \"changed\": %lld, \"tools\": [",
			(long long)row->diffs[0], (long long)row->diffs[1], (long long)row->diffs[2]);
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
	fputs("\n]}\n", f);
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

static void
write_html(FILE *f, const struct report *r, const char *title)
{
	char when[64];
	time_t now = time(NULL);

	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html_esc(f, title);
	fputs("</title>\n<style>\nbody{font-family:system-ui,sans-serif;margin:2em;color:#222}"
	      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
	      "td.num{text-align:right}.equal{color:#276749;font-weight:bold}.different{color:#c53030;font-weight:bold}"
	      ".bar{background:#e2e8f0;width:120px;height:10px;display:inline-block}"
	      ".bar span{background:#38a169;height:10px;display:block}.muted{color:#888}"
	      "figure{display:inline-block;margin:0 1em 1em 0}\n</style></head><body>\n<h1>", f);
	html_esc(f, title);
	fprintf(f, "</h1>\n<p class=\"muted\">generated %s from %lld records (%lld stats, %lld differences, %lld change "
		"events)</p>\n", when, (long long)r->records, (long long)r->stats, (long long)r->diffs, (long long)r->events);
	fputs("<h2>Collections</h2>\n<table id=\"collections\"><tr><th>namespace</th><th>documents</th><th>progress</th>"
	      "<th>inserts</th><th>updates</th><th>deletes</th><th>lag</th><th>verdict</th></tr>\n", f);
	for (int i = 0; i < r->n; i++) {
		const struct ns_row *row = &r->rows[i];
		const struct tool_row *t = main_tool(row);
		int64_t ins, upd, del;
		char lag[64];
		const char *v = verdict_of(row);
		double pct = 0;

		sum_changes(row, &ins, &upd, &del);
		fmt_lag(row, lag, sizeof lag);
		for (int k = 0; k < row->ntools; k++)
			if (row->tools[k].verdict[0] && row->tools[k].compared > 0)
				pct = 100.0 * (double)row->tools[k].equal / (double)row->tools[k].compared;
			else if (row->tools[k].summary && pct == 0)
				pct = 100.0;
		fputs("<tr class=\"ns\"><td>", f);
		html_esc(f, row->ns);
		fprintf(f, "</td><td class=\"num\">%lld</td><td><span class=\"bar\"><span style=\"width:%.0f%%\"></span></span> "
			"%.0f%%</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>%s</td>"
			"<td class=\"%s\">%s</td></tr>\n", t ? (long long)t->docs : 0LL, pct, pct, (long long)ins,
			(long long)upd, (long long)del, lag[0] ? lag : "-", v, v[0] ? v : "-");
	}
	fputs("</table>\n<h2>Throughput and lag</h2>\n", f);
	for (int i = 0; i < r->n; i++) {
		char label[320];

		if (r->rows[i].rate.n < 2 && r->rows[i].lag.n < 2)
			continue;
		fputs("<h3>", f);
		html_esc(f, r->rows[i].ns);
		fputs("</h3>\n", f);
		bson_snprintf(label, sizeof label, "%s documents/s", r->rows[i].ns);
		svg_chart(f, &r->rows[i].rate, label);
		if (r->rows[i].lag.n >= 2) {
			bson_snprintf(label, sizeof label, "%s lag (s)", r->rows[i].ns);
			svg_chart(f, &r->rows[i].lag, label);
		}
	}
	fputs("<h2>Verification</h2>\n", f);
	for (int i = 0; i < r->n; i++) {
		const struct ns_row *row = &r->rows[i];
		const char *v = verdict_of(row);

		if (!v[0])
			continue;
		fputs("<p class=\"verdict\">", f);
		html_esc(f, row->ns);
		fprintf(f, ": <span class=\"%s\">%s</span> (missing %lld, extra %lld, changed %lld)</p>\n", v, v,
			(long long)row->diffs[0], (long long)row->diffs[1], (long long)row->diffs[2]);
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
	fputs("</ul>\n</body></html>\n", f);
}


/* ---- --live: a terminal monitor of two servers ---- */

struct live_ns {
	char ns[256];
	int64_t src, dst, prev_dst;
	double changed_at, rate;
};

static int64_t
count_of(mongoc_client_t *c, const char *ns)
{
	char *db = NULL, *coll = NULL;
	int64_t n = -1;

	if (conn_split_ns(ns, &db, &coll, NULL)) {
		mongoc_collection_t *col = mongoc_client_get_collection(c, db, coll);

		n = mongoc_collection_estimated_document_count(col, NULL, NULL, NULL, NULL);
		mongoc_collection_destroy(col);
	}
	bson_free(db);
	bson_free(coll);
	return n;
}

/* The namespaces to watch: --ns, every collection of --db, or of every
 * database on the source. */
static int
live_namespaces(mongoc_client_t *c, const char *ns, const char *db, struct live_ns **out)
{
	char **dbs = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	if (ns) {
		*out = bson_malloc0(sizeof(struct live_ns));
		bson_strncpy((*out)[0].ns, ns, sizeof (*out)[0].ns);
		return 1;
	}
	if (db) {
		dbs = bson_malloc0(sizeof(char *) * 2);
		dbs[0] = bson_strdup(db);
	} else {
		dbs = mongoc_client_get_database_names_with_opts(c, NULL, NULL);
	}
	for (int i = 0; dbs && dbs[i]; i++) {
		mongoc_database_t *d;
		char **colls;

		if (strcmp(dbs[i], "admin") == 0 || strcmp(dbs[i], "config") == 0 || strcmp(dbs[i], "local") == 0)
			continue;
		d = mongoc_client_get_database(c, dbs[i]);
		colls = mongoc_database_get_collection_names_with_opts(d, NULL, NULL);
		for (int k = 0; colls && colls[k]; k++) {
			if (strncmp(colls[k], "system.", 7) == 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = bson_realloc(*out, sizeof(struct live_ns) * (size_t)cap);
			}
			memset(&(*out)[n], 0, sizeof(struct live_ns));
			bson_snprintf((*out)[n].ns, sizeof (*out)[n].ns, "%s.%s", dbs[i], colls[k]);
			n++;
		}
		bson_strfreev(colls);
		mongoc_database_destroy(d);
	}
	bson_strfreev(dbs);
	return n;
}

static int
live(const char *source, const char *target, const char *ns, const char *db, double refresh, const char *snapshot,
	int64_t iterations, char **files, int nfiles, const struct cli_common *cc)
{
	mongoc_client_t *sc = NULL, *tc = NULL;
	struct live_ns *rows = NULL;
	int n = 0, rc = MP_EX_OK;
	bson_error_t err;
	bool tty = isatty(1);
	char *su = NULL, *tu = NULL;

	su = conn_resolve_uri(source, NULL, "MP_NO_SUCH_VARIABLE", &err);
	tu = su ? conn_resolve_uri(target, NULL, "MP_NO_SUCH_VARIABLE", &err) : NULL;
	if (tu == NULL || (sc = conn_client_new(su, TOOL, &err)) == NULL || (tc = conn_client_new(tu, TOOL, &err)) == NULL ||
	    !conn_ping(sc, &err) || !conn_ping(tc, &err)) {
		diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
		goto out;
	}
	sig_install();
	for (int64_t it = 0; !sig_stop_requested() && (iterations == 0 || it < iterations); it++) {
		struct report r;
		double now = mp_now();
		char when[32];
		time_t wall = time(NULL);
		bson_t snap = BSON_INITIALIZER, arr;

		memset(&r, 0, sizeof r);
		if (it % 5 == 0 || n == 0) {
			struct live_ns *fresh = NULL;
			int m = live_namespaces(sc, ns, db, &fresh);

			/* keep what was measured for namespaces still there */
			for (int i = 0; i < m; i++)
				for (int k = 0; k < n; k++)
					if (strcmp(fresh[i].ns, rows[k].ns) == 0)
						fresh[i] = rows[k];
			bson_free(rows);
			rows = fresh;
			n = m;
		}
		for (int i = 0; i < nfiles; i++) {
			bson_error_t e;

			if (!read_input(&r, files[i], cc, &e))
				diag_warn("%s", e.message);
		}
		strftime(when, sizeof when, "%H:%M:%S", localtime(&wall));
		if (tty)
			fputs("\033[H\033[2J", stdout);
		printf("mongo-report --live  %s  (every %.0fs, Ctrl-C to stop)\n\n", when, refresh);
		printf("%-32s %12s %12s %7s %9s %9s %10s %9s\n", "namespace", "source", "target", "done", "updates",
			"deletes", "last", "ETA");
		bson_append_array_begin(&snap, "namespaces", -1, &arr);
		for (int i = 0; i < n; i++) {
			struct live_ns *l = &rows[i];
			int64_t upd = 0, del = 0;
			char last[16] = "-", eta[16] = "-", key[16];
			double pct;
			bson_t o;

			l->src = count_of(sc, l->ns);
			l->dst = count_of(tc, l->ns);
			if (l->changed_at == 0 || l->dst != l->prev_dst) {
				if (l->changed_at > 0 && now > l->changed_at)
					l->rate = (double)(l->dst - l->prev_dst) / (now - l->changed_at);
				l->changed_at = now;
				l->prev_dst = l->dst;
			}
			for (int k = 0; k < r.n; k++) {
				if (strcmp(r.rows[k].ns, l->ns) != 0 && strcmp(r.rows[k].ns, "replay") != 0)
					continue;
				for (int t = 0; t < r.rows[k].ntools; t++) {
					upd += r.rows[k].tools[t].updates + r.rows[k].tools[t].replaces;
					del += r.rows[k].tools[t].deletes;
				}
			}
			pct = l->src > 0 ? 100.0 * (double)l->dst / (double)l->src : (l->dst == 0 ? 100.0 : 0.0);
			progress_format_duration(now - l->changed_at, last, sizeof last);
			if (l->rate > 0 && l->dst < l->src)
				progress_format_duration((double)(l->src - l->dst) / l->rate, eta, sizeof eta);
			printf("%-32s %12lld %12lld %6.1f%% %9lld %9lld %10s %9s\n", l->ns, (long long)l->src,
				(long long)l->dst, pct, (long long)upd, (long long)del, last, eta);
			bson_snprintf(key, sizeof key, "%d", i);
			bson_append_document_begin(&arr, key, -1, &o);
			BSON_APPEND_UTF8(&o, "ns", l->ns);
			BSON_APPEND_INT64(&o, "source", l->src);
			BSON_APPEND_INT64(&o, "target", l->dst);
			BSON_APPEND_DOUBLE(&o, "percent", pct);
			BSON_APPEND_INT64(&o, "updates", upd);
			BSON_APPEND_INT64(&o, "deletes", del);
			bson_append_document_end(&arr, &o);
		}
		bson_append_array_end(&snap, &arr);
		fflush(stdout);
		if (snapshot && !checkpoint_save(snapshot, &snap, &err))
			diag_fail(&err, NULL);
		bson_destroy(&snap);
		for (int i = 0; i < r.n; i++) {
			for (int k = 0; k < r.rows[i].nshown; k++)
				bson_free(r.rows[i].shown[k]);
			bson_free(r.rows[i].rate.p);
			bson_free(r.rows[i].lag.p);
		}
		bson_free(r.rows);
		if (iterations == 0 || it + 1 < iterations)
			for (double t = 0; t < refresh && !sig_stop_requested(); t += 0.1)
				usleep(100000);
	}
out:
	bson_free(rows);
	mongoc_client_destroy(sc);
	mongoc_client_destroy(tc);
	bson_free(su);
	bson_free(tu);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_common c;
	struct report r;
	const char *output = NULL, *title = "mongo-pipes report", *source = NULL, *target = NULL, *snapshot = NULL;
	bool is_live = false;
	double refresh = 2;
	int64_t iterations = 0, v;
	char *ns = NULL, *db = NULL;
	enum fmt fmt = FMT_TEXT;
	bson_error_t err;
	int ch, rc = MP_EX_SOFTWARE;
	FILE *f = stdout;

	diag_init(argv[0]);
	memset(&r, 0, sizeof r);
	cli_common_init(&c);
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
		case OPT_SNAPSHOT: snapshot = optarg; break;
		case OPT_REFRESH:
			if (!cli_parse_int64(optarg, 1, 3600, &v))
				return cli_misuse(usage, "--refresh takes seconds, not '%s'", optarg);
			refresh = (double)v;
			break;
		case OPT_ITERATIONS:
			if (!cli_parse_int64(optarg, 1, INT32_MAX, &iterations))
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
	if (is_live) {
		if (!source || !target)
			return cli_misuse(usage, "--live watches two servers: give --source URI and --target URI");
		if (!cli_common_namespace(&c, &ns, &db, &err))
			return cli_misuse(usage, "%s", err.message);
		mongoc_init();
		rc = live(source, target, ns, ns ? NULL : db, refresh, snapshot, iterations, argv + optind, argc - optind, &c);
		mongoc_cleanup();
		bson_free(ns);
		bson_free(db);
		return rc;
	}
	if (optind == argc) {
		if (!read_input(&r, "-", &c, &err))
			goto fail;
	}
	for (int i = optind; i < argc; i++)
		if (!read_input(&r, argv[i], &c, &err))
			goto fail;
	if (r.n > 1)
		qsort(r.rows, (size_t)r.n, sizeof *r.rows, row_cmp);
	if (output && (f = fopen(output, "w")) == NULL) {
		mp_error_set(&err, MP_EX_CANTCREAT, "%s: cannot create", output);
		goto fail;
	}
	switch (fmt) {
	case FMT_TEXT: write_table(f, &r, false); break;
	case FMT_MARKDOWN: write_table(f, &r, true); break;
	case FMT_JSON: write_json(f, &r); break;
	case FMT_HTML: write_html(f, &r, title); break;
	}
	if (fflush(f) != 0 || ferror(f) || (f != stdout && fclose(f) != 0)) {
		diag_error("writing %s failed", output ? output : "stdout");
		rc = MP_EX_IOERR;
		goto out;
	}
	rc = MP_EX_OK;
	goto out;
fail:
	diag_fail(&err, NULL);
	rc = mp_error_exitcode(&err);
out:
	for (int i = 0; i < r.n; i++) {
		for (int k = 0; k < r.rows[i].nshown; k++)
			bson_free(r.rows[i].shown[k]);
		bson_free(r.rows[i].rate.p);
		bson_free(r.rows[i].lag.p);
	}
	bson_free(r.rows);
	return rc;
}
