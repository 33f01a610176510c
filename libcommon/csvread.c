/*
 * csvread.c: CSV and TSV input of the document stream reader.  Records are
 * cut from the reader's buffer by csv_split() (the buffer grows until one
 * is whole) and turned into documents by their columns (csvtype.c); the
 * header line, when asked for, names the columns.  A record is a data row,
 * named by the line where it starts; a bad one is skipped and the reader
 * goes on after the line where the error is.
 */
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "docreaderint.h"
#include "exitcode.h"

struct csvin {
	char sep;
	bool header_line, typed, ignore_blanks, started;
	enum csv_grace grace;
	struct csv_columns *cols;
	struct csv_row row;
	bson_t *doc; /* a bson_t wants 128-byte alignment: on the heap by itself */
};

bool
docreader_csv_open(struct docstream_reader *r, const struct csv_spec *spec, bson_error_t *err)
{
	struct csvin *c = bson_malloc0(sizeof *c);
	size_t n = 0;

	r->csv = c;
	c->sep = r->format == DOCSTREAM_TSV ? '\t' : ',';
	c->doc = bson_new();
	if (spec == NULL) {
		mp_error_set(err, MP_EX_USAGE, "%s: CSV and TSV input needs its columns (--fields, --field-file or "
			"--header-line)", r->name);
		return false;
	}
	c->header_line = spec->header_line;
	c->typed = spec->typed;
	c->ignore_blanks = spec->ignore_blanks;
	c->grace = spec->grace;
	while (spec->fields && spec->fields[n])
		n++;
	if (!c->header_line)
		c->cols = csv_columns_new(spec->fields, n, c->typed, c->grace, err);
	return c->header_line || c->cols != NULL;
}

void
docreader_csv_free(struct docstream_reader *r)
{
	if (r->csv == NULL)
		return;
	csv_columns_destroy(r->csv->cols);
	csv_row_free(&r->csv->row);
	bson_destroy(r->csv->doc);
	bson_free(r->csv);
	r->csv = NULL;
}

/* Cut the next record into c->row: 1, 0 at the end, -1 bad (row.err),
 * -2 on an I/O error or a record too long to hold. */
static int
next_record(struct docstream_reader *r, bson_error_t *err)
{
	struct csvin *c = r->csv;
	size_t max = r->max_doc * 4, used;
	bool eof = false;
	int rc;

	for (;;) {
		size_t avail = r->end - r->start;

		rc = csv_split(r->buf + r->start, avail, eof, c->sep, &c->row, &used);
		if (rc != 0 || eof)
			break;
		if (avail > max) {
			r->dead = true;
			mp_error_set(err, MP_EX_DATAERR, "%s: record %llu (line %llu): longer than %zu bytes (a quote "
				"left open?)", r->name, (unsigned long long)r->record + 1, (unsigned long long)r->line + 1, max);
			return -2;
		}
		if (!docreader_fill(r, avail + 1, err))
			return -2;
		eof = r->end - r->start == avail;
	}
	r->rec_line = r->line + c->row.lead + 1;
	r->rec_offset = r->consumed + r->start + c->row.lead_bytes;
	r->raw = r->buf + r->start + c->row.lead_bytes;
	r->raw_len = used - c->row.lead_bytes;
	while (r->raw_len > 0 && (r->raw[r->raw_len - 1] == '\n' || r->raw[r->raw_len - 1] == '\r'))
		r->raw_len--;
	r->line += c->row.lines;
	r->start += used;
	return rc;
}

static int
fail_row(struct docstream_reader *r, bson_error_t *err, const char *what, const char *why)
{
	mp_error_set(err, MP_EX_DATAERR, "%s: record %llu (line %llu, byte offset %llu): %s%s", r->name,
		(unsigned long long)r->record, (unsigned long long)r->rec_line, (unsigned long long)r->rec_offset,
		what, why);
	r->can_continue = !r->dead;
	return -1;
}

/* The header line: the columns' names. */
static int
read_header(struct docstream_reader *r, bson_error_t *err)
{
	struct csvin *c = r->csv;
	char **names;
	int rc = next_record(r, err);

	if (rc == -1) {
		r->dead = true; /* no columns, no rows */
		mp_error_set(err, MP_EX_DATAERR, "%s: the header line (line %llu): %s", r->name,
			(unsigned long long)r->rec_line, c->row.err);
		return -1;
	}
	if (rc <= 0)
		return rc == -2 ? -1 : 0;
	names = bson_malloc0(sizeof(char *) * (c->row.n + 1));
	for (size_t i = 0; i < c->row.n; i++)
		names[i] = (char *)c->row.text.p + c->row.off[i];
	c->cols = csv_columns_new(names, c->row.n, c->typed, c->grace, err);
	bson_free(names);
	if (c->cols == NULL) {
		char why[sizeof err->message];

		bson_strncpy(why, err->message, sizeof why);
		r->dead = true;
		mp_error_set(err, MP_EX_DATAERR, "%s: the header line (line %llu): %s", r->name,
			(unsigned long long)r->rec_line, why);
		return -1;
	}
	return 1;
}

int
docreader_csv_read(struct docstream_reader *r, const bson_t **doc, bson_error_t *err)
{
	struct csvin *c = r->csv;
	char why[400];
	int rc;

	if (!c->started) {
		c->started = true;
		/* a UTF-8 byte order mark is not part of the first name */
		if (!docreader_fill(r, 3, err))
			return -1;
		if (r->end - r->start >= 3 && memcmp(r->buf + r->start, "\xef\xbb\xbf", 3) == 0)
			r->start += 3;
		if (c->header_line && (rc = read_header(r, err)) <= 0)
			return rc;
	}
	if ((rc = next_record(r, err)) == 0)
		return 0;
	if (rc == -2)
		return -1;
	r->record++;
	if (rc == -1) {
		snprintf(why, sizeof why, " (line %llu, column %zu)", (unsigned long long)(r->rec_line + c->row.err_line),
			c->row.err_col);
		return fail_row(r, err, c->row.err, why);
	}
	rc = csv_row_to_bson(c->cols, &c->row, c->ignore_blanks, c->doc, why, sizeof why);
	if (rc == 1) {
		*doc = c->doc;
		return 1;
	}
	r->row_skipped = rc == 0;
	return fail_row(r, err, rc == 0 ? "row skipped (--parse-grace skipRow): " : "", why);
}
