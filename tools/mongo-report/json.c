/*
 * json.c: the report as one JSON document: the record counts, a namespace
 * entry per row (its figures, its tools, the differences shown) and the
 * failed runs.
 */
#include "mongo-report.h"

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
json_tool(FILE *f, const struct tool_row *t)
{
	fputs("{\"tool\": ", f);
	json_str(f, t->tool);
	fprintf(f, ", \"finished\": %s, \"docs\": %lld, \"bytes\": %lld, \"errors\": %lld, \"rate_docs_s\": %.1f",
		t->summary ? "true" : "false", (long long)t->docs, (long long)t->bytes, (long long)t->errors, t->rate);
	if (t->lag_p50 >= 0)
		fprintf(f, ", \"lag_p50_ms\": %lld, \"lag_p99_ms\": %lld", (long long)t->lag_p50, (long long)t->lag_p99);
	if (t->verdict[0]) {
		fprintf(f, ", \"verdict\": ");
		json_str(f, t->verdict);
		fprintf(f, ", \"compared\": %lld, \"equal\": %lld", (long long)t->compared, (long long)t->equal);
	}
	fputc('}', f);
}

/* The row's own figures and those derived: everything before "tools". */
static void
json_figures(FILE *f, const struct ns_row *row)
{
	struct derived d;
	char when[32];

	row_derive(row, &d);
	fputs("{\"ns\": ", f);
	json_str(f, row->ns);
	fprintf(f, ", \"inserts\": %lld, \"updates\": %lld, \"deletes\": %lld, \"events\": %lld, \"verdict\": ",
		(long long)d.ins, (long long)d.upd, (long long)d.del, (long long)row->events);
	json_str(f, row_verdict(row));
	fprintf(f, ", \"missing\": %lld, \"extra\": %lld, \"changed\": %lld", (long long)row->diffs[DIFF_MISSING],
		(long long)row->diffs[DIFF_EXTRA], (long long)row->diffs[DIFF_CHANGED]);
	if (d.metadata > 0)
		fprintf(f, ", \"metadata\": %lld", (long long)d.metadata); /* absent: none, or not compared */
	if (row->src >= 0)
		fprintf(f, ", \"source_count\": %lld", (long long)row->src);
	if (row->dst >= 0)
		fprintf(f, ", \"target_count\": %lld", (long long)row->dst);
	if (d.pct >= 0)
		fprintf(f, ", \"percent\": %.1f", d.pct);
	if (d.eta >= 0)
		fprintf(f, ", \"eta_s\": %.0f", d.eta);
	if (d.last_change > 0) {
		format_time(d.last_change, true, when, sizeof when);
		fprintf(f, ", \"last_change\": \"%s\"", when);
	}
}

static void
json_row(FILE *f, const struct ns_row *row)
{
	json_figures(f, row);
	fputs(", \"tools\": [", f);
	for (int k = 0; k < row->ntools; k++) {
		if (k)
			fputs(", ", f);
		json_tool(f, &row->tools[k]);
	}
	fputs("], \"differences\": [", f);
	for (int k = 0; k < row->nshown; k++)
		fprintf(f, "%s%s", k ? ", " : "", row->shown[k]);
	fputs("]}", f);
}

static void
json_failures(FILE *f, const struct report *r)
{
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

void
json_write(FILE *f, const struct report *r)
{
	fprintf(f, "{\"records\": %lld, \"stats\": %lld, \"diffs\": %lld, \"events\": %lld, \"namespaces\": [",
		(long long)r->records, (long long)r->stats, (long long)r->diffs, (long long)r->events);
	for (int i = 0; i < r->n; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_row(f, &r->rows[i]);
	}
	fputs("\n]", f);
	if (r->nfailures > 0)
		json_failures(f, r);
	fputs("}\n", f);
}
