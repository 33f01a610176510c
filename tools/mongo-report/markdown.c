/*
 * markdown.c: the report as a markdown table (numbers right-aligned), the
 * failed runs as a list after it.
 */
#include "mongo-report.h"

void
markdown_write(FILE *f, const struct report *r)
{
	struct table t;

	table_build(&t, r);
	fputc('|', f);
	for (int k = 0; k < t.ncols; k++)
		fprintf(f, " %s |", table_cols[t.show[k]].head);
	fputs("\n|", f);
	for (int k = 0; k < t.ncols; k++)
		fputs(table_cols[t.show[k]].md_right ? "---:|" : "---|", f);
	fputc('\n', f);
	for (int i = 0; i < t.n; i++) {
		fputc('|', f);
		for (int k = 0; k < t.ncols; k++)
			fprintf(f, " %s |", t.cells[i][t.show[k]]);
		fputc('\n', f);
	}
	table_free(&t);
	table_failures(f, r, "- **failed**: ");
}
