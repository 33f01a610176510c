/*
 * text.c: the report as an aligned table for the terminal, the failed runs
 * after it.
 */
#include "mongo-report.h"

void
text_write(FILE *f, const struct report *r)
{
	struct table t;

	table_build(&t, r);
	for (int k = 0; k < t.ncols; k++)
		fprintf(f, "%s%-*s", k ? "  " : "", k == t.ncols - 1 ? 0 : t.width[t.show[k]],
			table_cols[t.show[k]].head);
	fputc('\n', f);
	for (int i = 0; i < t.n; i++) {
		for (int k = 0; k < t.ncols; k++) {
			int c = t.show[k];

			fprintf(f, "%s%*s", k ? "  " : "", table_cols[c].num ? t.width[c] : -t.width[c], t.cells[i][c]);
		}
		fputc('\n', f);
	}
	table_free(&t);
	table_failures(f, r, "failed: ");
}
