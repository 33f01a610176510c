/*
 * table.c: the columns of the text and markdown tables, and each row's
 * cells with the width of each column.
 */
#include <string.h>

#include "mongo-report.h"

const struct table_col table_cols[NCOLS] = {
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
	[C_METADATA] = {"metadata", true, false, false, true},
};

/* The tools of a row without their "mongo-" prefix: "load-bson,replay". */
static void
tools_cell(const struct ns_row *row, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int k = 0; k < row->ntools; k++) {
		const char *name = row->tools[k].tool;

		if (strncmp(name, "mongo-", 6) == 0)
			name += 6;
		bson_snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", k ? "," : "", name);
	}
}

static void
table_cells(const struct ns_row *row, char cells[NCOLS][96])
{
	struct derived d;
	const struct tool_row *t;
	char tools[96];

	row_derive(row, &d);
	t = d.copy;
	tools_cell(row, tools, sizeof tools);
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
	row_format_lag(row, cells[C_LAG], 96);
	if (!cells[C_LAG][0])
		bson_snprintf(cells[C_LAG], 96, "-");
	format_eta(d.eta, cells[C_ETA], 96);
	bson_snprintf(cells[C_VERDICT], 96, "%s", row_verdict(row)[0] ? row_verdict(row) : "-");
	bson_snprintf(cells[C_MISSING], 96, "%lld", (long long)d.missing);
	bson_snprintf(cells[C_EXTRA], 96, "%lld", (long long)d.extra);
	bson_snprintf(cells[C_CHANGED], 96, "%lld", (long long)d.changed);
	bson_snprintf(cells[C_METADATA], 96, "%lld", (long long)d.metadata);
}

void
table_build(struct table *t, const struct report *r)
{
	bool counts = report_has_counts(r), metadata = false;
	struct derived d;

	memset(t, 0, sizeof *t);
	t->cells = bson_malloc(sizeof *t->cells * (size_t)(r->n ? r->n : 1));
	t->n = r->n;
	for (int i = 0; i < r->n && !metadata; i++) {
		row_derive(&r->rows[i], &d);
		metadata = d.metadata > 0;
	}
	for (int c = 0; c < NCOLS; c++) {
		t->width[c] = (int)strlen(table_cols[c].head);
		if ((counts || !table_cols[c].counts) && (metadata || !table_cols[c].metadata))
			t->show[t->ncols++] = c;
	}
	for (int i = 0; i < r->n; i++) {
		table_cells(&r->rows[i], t->cells[i]);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(t->cells[i][c]) > t->width[c])
				t->width[c] = (int)strlen(t->cells[i][c]);
	}
}

void
table_free(struct table *t)
{
	bson_free(t->cells);
	t->cells = NULL;
}

void
table_failures(FILE *f, const struct report *r, const char *lead)
{
	if (r->nfailures > 0)
		fputc('\n', f);
	for (int i = 0; i < r->nfailures; i++) {
		const struct failure *x = &r->failures[i];

		fprintf(f, "%s%s%s%s exited %d%s%s\n", lead, x->tool, x->ns[0] ? " " : "", x->ns, x->status,
			x->error[0] ? ": " : "", x->error);
	}
}
