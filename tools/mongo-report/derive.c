/*
 * derive.c: the figures a row shows beyond those its records gave: the
 * changes applied, the differences, the progress, the ETA, the last change
 * and the verdict; and how durations and times are written.
 */
#include <string.h>
#include <time.h>

#include "mongo-report.h"
#include "progress.h"

const char *
row_verdict(const struct ns_row *row)
{
	for (int i = 0; i < row->ntools; i++)
		if (row->tools[i].verdict[0])
			return row->tools[i].verdict;
	if (row->diffs[DIFF_MISSING] + row->diffs[DIFF_EXTRA] + row->diffs[DIFF_CHANGED] + row->metadata > 0)
		return "different";
	return "";
}

/* What the tools applied, else the change events seen. */
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
		*ins = row->ev[CHANGE_INSERT];
		*upd = row->ev[CHANGE_UPDATE] + row->ev[CHANGE_REPLACE];
		*del = row->ev[CHANGE_DELETE];
	}
}

static bool
is_tool(const struct tool_row *t, const char *name)
{
	return strcmp(t->tool, name) == 0;
}

const struct tool_row *
row_main_tool(const struct ns_row *row)
{
	const struct tool_row *best = NULL;

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

bool
ns_is_collection(const char *ns)
{
	return ns[0] != '(' && ns[0] != '.' && strchr(ns, '.') != NULL;
}

/* The differences listed, else those the comparison counted. */
static void
derive_differences(const struct ns_row *row, struct derived *d)
{
	d->missing = row->diffs[DIFF_MISSING];
	d->extra = row->diffs[DIFF_EXTRA];
	d->changed = row->diffs[DIFF_CHANGED];
	d->metadata = row->metadata;
	for (int k = 0; k < row->ntools; k++)
		if (row->tools[k].verdict[0] && d->missing + d->extra + d->changed + d->metadata == 0) {
			d->missing = row->tools[k].missing;
			d->extra = row->tools[k].extra;
			d->changed = row->tools[k].changed;
			d->metadata = row->tools[k].metadata;
		}
}

/* Progress: the target against the source; else the copy's documents
 * against what is expected (src); else finished; then, without the
 * servers' counts, the share a comparison found equal. */
static double
derive_percent(const struct ns_row *row, const struct tool_row *copy, int64_t src)
{
	double pct = -1;

	if (row->src >= 0 && row->dst >= 0) {
		pct = row->src > 0 ? 100.0 * (double)row->dst / (double)row->src : 100.0;
	} else if (copy) {
		if (copy->summary)
			pct = 100.0;
		else if (src > 0)
			pct = 100.0 * (double)copy->docs / (double)src;
	} else {
		for (int k = 0; k < row->ntools; k++)
			if (row->tools[k].summary)
				pct = 100.0;
	}
	if (!(row->src >= 0 && row->dst >= 0))
		for (int k = 0; k < row->ntools; k++)
			if (row->tools[k].verdict[0] && row->tools[k].compared > 0)
				pct = 100.0 * (double)row->tools[k].equal / (double)row->tools[k].compared;
	return pct;
}

/* The source time of the last change applied or seen; else when a writer
 * last wrote. */
static double
derive_last_change(const struct ns_row *row)
{
	double last = row->last_wall_ms > 0 ? (double)row->last_wall_ms / 1000.0 : 0;

	for (int k = 0; k < row->ntools; k++) {
		const struct tool_row *t = &row->tools[k];

		if (t->last_change > last)
			last = t->last_change;
		if (t->last_change == 0 && t->docs > 0 && t->last_t > last &&
		    (is_tool(t, "mongo-load-bson") || is_tool(t, "mongo-replay")))
			last = t->last_t;
	}
	return last;
}

void
row_derive(const struct ns_row *row, struct derived *d)
{
	const struct tool_row *copy;
	int64_t src;

	memset(d, 0, sizeof *d);
	copy = d->copy = row_main_tool(row);
	sum_changes(row, &d->ins, &d->upd, &d->del);
	derive_differences(row, d);
	/* the source's count, else what the dump expected */
	src = row->src;
	for (int k = 0; k < row->ntools && src < 0; k++)
		if (row->tools[k].total >= 0)
			src = row->tools[k].total;
	if (copy && !is_tool(copy, "mongo-load-bson") && !is_tool(copy, "mongo-dump-bson"))
		copy = NULL; /* progress and ETA are the copy's */
	d->pct = derive_percent(row, copy, src);
	d->eta = -1;
	if (copy && copy->summary)
		d->eta = 0;
	else if (copy && copy->rate > 0 && src >= 0)
		d->eta = src > copy->docs ? (double)(src - copy->docs) / copy->rate : 0;
	if (!ns_is_collection(row->ns))
		d->pct = d->eta = -1; /* "replay", a database's watch: no collection to fill */
	d->last_change = derive_last_change(row);
}

void
row_format_lag(const struct ns_row *row, char *buf, size_t size)
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

bool
report_has_counts(const struct report *r)
{
	for (int i = 0; i < r->n; i++)
		if (r->rows[i].src >= 0 || r->rows[i].dst >= 0)
			return true;
	return false;
}

void
format_eta(double eta, char *buf, size_t size)
{
	if (eta < 0)
		snprintf(buf, size, "-");
	else if (eta == 0)
		snprintf(buf, size, "done");
	else
		progress_format_duration(eta, buf, size);
}

void
format_time(double t, bool iso, char *buf, size_t size)
{
	time_t secs = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&secs, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
}
