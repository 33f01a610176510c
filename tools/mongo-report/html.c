/*
 * html.c: the report as one self-contained HTML page: inline CSS and SVG
 * charts, no script, nothing loaded from the network.  The failed runs on
 * top, a row per collection, the throughput and lag charts, the verdicts
 * with the differences, the errors and rejects.
 */
#include <time.h>

#include "mongo-report.h"

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

/* The head with the style, the title, what the page was made from, and
 * the failed runs. */
static void
html_head(FILE *f, const struct report *r, const char *title)
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
		(long long)r->events, report_has_counts(r) ? ", with the servers' counts at that time" : "");
	if (r->nfailures > 0) {
		fprintf(f, "<div id=\"failures\" class=\"failed\"><strong>%d run%s failed</strong><ul>\n", r->nfailures,
			r->nfailures == 1 ? "" : "s");
		for (int i = 0; i < r->nfailures; i++)
			html_failure(f, &r->failures[i]);
		fputs("</ul></div>\n", f);
	}
}

static void
html_collection(FILE *f, const struct ns_row *row)
{
	struct derived d;
	char lag[64], eta[32], last[32], src[32], dst[32], pct[32];
	const char *v = row_verdict(row);

	row_derive(row, &d);
	row_format_lag(row, lag, sizeof lag);
	format_eta(d.eta, eta, sizeof eta);
	format_time(d.last_change, false, last, sizeof last);
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

static void
html_collections(FILE *f, const struct report *r)
{
	fputs("<h2>Collections</h2>\n<table id=\"collections\"><tr><th>namespace</th><th>source</th><th>target</th>"
	      "<th>progress</th><th>copied</th><th>inserts</th><th>updates</th><th>deletes</th><th>last change</th>"
	      "<th>ETA</th><th>lag</th><th>verdict</th></tr>\n", f);
	for (int i = 0; i < r->n; i++)
		html_collection(f, &r->rows[i]);
	fputs("</table>\n", f);
}

/* A row's charts: its main tool's documents/s, the first lag measured. */
static void
html_charts(FILE *f, const struct ns_row *row)
{
	const struct tool_row *t = row_main_tool(row), *lagged = NULL;
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

/* A compared row's verdict and the differences listed. */
static void
html_verdict(FILE *f, const struct ns_row *row)
{
	const char *v = row_verdict(row);
	struct derived d;

	if (!v[0])
		return;
	row_derive(row, &d);
	fputs("<p class=\"verdict\">", f);
	html_esc(f, row->ns);
	fprintf(f, ": <span class=\"%s\">%s</span> (missing %lld, extra %lld, changed %lld", v, v,
		(long long)d.missing, (long long)d.extra, (long long)d.changed);
	if (d.metadata > 0)
		fprintf(f, ", metadata %lld", (long long)d.metadata);
	fputs(")</p>\n", f);
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

static void
html_errors(FILE *f, const struct report *r)
{
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
	fputs("</ul>\n", f);
}

void
html_write(FILE *f, const struct report *r, const char *title)
{
	html_head(f, r, title);
	html_collections(f, r);
	fputs("<h2>Throughput and lag</h2>\n", f);
	for (int i = 0; i < r->n; i++)
		html_charts(f, &r->rows[i]);
	fputs("<h2>Verification</h2>\n", f);
	for (int i = 0; i < r->n; i++)
		html_verdict(f, &r->rows[i]);
	html_errors(f, r);
	fputs("</body></html>\n", f);
}
