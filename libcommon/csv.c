/*
 * csv.c: CSV and TSV text: field lists, rows out (quoted as Go's
 * encoding/csv quotes them, which mongoexport uses), and the splitter that
 * cuts records in (mongoimport's CSV reader, a 2014 fork of Go's: leading
 * and trailing blanks of a field trimmed, CRLF read as LF, blank lines
 * skipped, a quote inside an unquoted field an error).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "docstream.h"
#include "exitcode.h"

static void
put(struct ejson_buf *out, const void *p, size_t n)
{
	ejson_buf_reserve(out, n);
	memcpy(out->p + out->len, p, n);
	out->len += n;
}

/* The length of the white space character (Go's unicode.IsSpace) at
 * p[0..n), 0 when there is none. */
static size_t
space_len(const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
		return 1;
	if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n >= 3 && p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
		return 3;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return p[2] >= 0x80 ? 3 : 0;
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
		return 3;
	if (n >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	return 0;
}

char **
csv_fields_split(const char *list)
{
	size_t n = 0, cap = 4;
	char **v = bson_malloc0(sizeof(char *) * cap);
	const char *start = list;
	int level = 0;

	for (const char *p = list;; p++) {
		if (*p == '(')
			level++;
		else if (*p == ')' && level > 0)
			level--;
		if (*p != '\0' && (*p != ',' || level > 0))
			continue;
		if (n + 2 > cap)
			v = bson_realloc(v, sizeof(char *) * (cap *= 2));
		v[n++] = bson_strndup(start, (size_t)(p - start));
		v[n] = NULL;
		if (*p == '\0')
			break;
		start = p + 1;
	}
	return v;
}

char **
csv_fields_from_file(const char *path, bson_error_t *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **v;
	size_t cap = 0, n = 0, vcap = 8;
	ssize_t got;

	if (f == NULL) {
		mp_error_set(err, MP_EX_NOINPUT, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	v = bson_malloc0(sizeof(char *) * vcap);
	while ((got = getline(&line, &cap, f)) >= 0) {
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (n + 2 > vcap)
			v = bson_realloc(v, sizeof(char *) * (vcap *= 2));
		v[n++] = bson_strdup(line);
		v[n] = NULL;
	}
	free(line);
	if (ferror(f) || n == 0) {
		mp_error_set(err, ferror(f) ? MP_EX_IOERR : MP_EX_DATAERR, "%s: %s", path,
			ferror(f) ? "read error" : "no field names in it");
		fclose(f);
		bson_strfreev(v);
		return NULL;
	}
	fclose(f);
	return v;
}

/* Go's csv.Writer.fieldNeedsQuotes with ',' as the separator. */
static bool
needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (n == 2 && s[0] == '\\' && s[1] == '.')
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return space_len((const uint8_t *)s, n) > 0;
}

void
csv_put_field(struct ejson_buf *out, const char *s, size_t n)
{
	if (!needs_quotes(s, n)) {
		put(out, s, n);
		return;
	}
	put(out, "\"", 1);
	for (size_t i = 0; i < n; i++)
		put(out, s[i] == '"' ? "\"\"" : s + i, s[i] == '"' ? 2 : 1);
	put(out, "\"", 1);
}

/* Append one cell; a TSV cell cannot hold a tab or a line break. */
static bool
put_cell(struct ejson_buf *out, const char *s, size_t n, char sep, char *why, size_t whylen, const char *field)
{
	if (sep == ',') {
		csv_put_field(out, s, n);
		return true;
	}
	if (memchr(s, '\t', n) || memchr(s, '\n', n) || memchr(s, '\r', n)) {
		snprintf(why, whylen, "field '%s' holds a tab or a line break, which TSV cannot carry (use CSV)", field);
		return false;
	}
	put(out, s, n);
	return true;
}

void
csv_write_header(char *const *fields, size_t n, char sep, struct ejson_buf *out)
{
	char why[8];

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put(out, &sep, 1);
		if (!put_cell(out, fields[i], strlen(fields[i]), sep, why, sizeof why, fields[i]))
			put(out, fields[i], strcspn(fields[i], "\t\r\n"));
	}
	put(out, "\n", 1);
}

bool
csv_write_row(const uint8_t *data, size_t len, char *const *fields, size_t n, char sep, struct ejson_buf *out,
	char *why, size_t whylen)
{
	struct ejson_buf cell = {0};
	size_t at = out->len;
	bson_iter_t it;
	bson_t doc;
	bool ok = true;

	if (!bson_init_static(&doc, data, len)) {
		snprintf(why, whylen, "corrupt BSON document");
		return false;
	}
	for (size_t i = 0; i < n && ok; i++) {
		cell.len = 0;
		if (i > 0)
			put(out, &sep, 1);
		if (csv_lookup(&doc, fields[i], &it))
			csv_render_cell(&it, &cell);
		ok = put_cell(out, cell.p ? (const char *)cell.p : "", cell.len, sep, why, whylen, fields[i]);
	}
	ejson_buf_free(&cell);
	if (!ok) {
		out->len = at;
		return false;
	}
	put(out, "\n", 1);
	return true;
}

/* ---- the splitter ---- */

#define NEED_MORE (-2)
#define AT_END (-1)

struct scan {
	const uint8_t *p;
	size_t n, i;
	bool eof;
	char sep;
	struct csv_row *row;
	size_t rec_start, line_start, lines;
};

/* The character at s->i ('\n' for CRLF, whose length is then 2), AT_END,
 * or NEED_MORE when the input stops short of it. */
static int
peek(const struct scan *s, size_t *len)
{
	*len = 1;
	if (s->i >= s->n)
		return s->eof ? AT_END : NEED_MORE;
	if (s->p[s->i] != '\r')
		return s->p[s->i];
	if (s->i + 1 >= s->n)
		return s->eof ? '\r' : NEED_MORE;
	if (s->p[s->i + 1] != '\n')
		return '\r';
	*len = 2;
	return '\n';
}

static void
take(struct scan *s, size_t len)
{
	s->i += len;
	if (s->p[s->i - 1] == '\n') {
		s->lines++;
		s->line_start = s->i;
	}
}

static void
field_begin(struct csv_row *row)
{
	if (row->n == row->cap) {
		row->cap = row->cap ? row->cap * 2 : 16;
		row->off = bson_realloc(row->off, sizeof(size_t) * row->cap);
		row->len = bson_realloc(row->len, sizeof(size_t) * row->cap);
	}
	row->off[row->n] = row->text.len;
	row->len[row->n] = 0;
	row->n++;
}

/* Close the current field at text length `end` (trailing blanks cut). */
static void
field_end(struct csv_row *row, size_t end)
{
	row->text.len = end;
	row->len[row->n - 1] = end - row->off[row->n - 1];
	ejson_buf_reserve(&row->text, 1);
	row->text.p[row->text.len++] = '\0';
}

static int
fail(struct scan *s, const char *why)
{
	struct csv_row *row = s->row;

	row->err = why;
	row->err_col = s->i - s->line_start + 1;
	row->err_line = 0;
	for (size_t k = s->rec_start; k < s->i; k++)
		row->err_line += s->p[k] == '\n';
	return -1;
}

/* A quoted field, from its opening quote: 1 when the record goes on, 0
 * at its end, -1 on an error, NEED_MORE. */
static int
quoted(struct scan *s)
{
	size_t len;
	int c;

	take(s, 1);
	for (;;) {
		if ((c = peek(s, &len)) == NEED_MORE)
			return NEED_MORE;
		if (c == AT_END)
			return fail(s, "a quoted field is not closed before the end of the input");
		if (c != '"') {
			put(&s->row->text, c == '\n' ? "\n" : (const char *)s->p + s->i, 1);
			take(s, len);
			continue;
		}
		take(s, 1);
		bool blanks = false;
		size_t sp;

		while ((c = peek(s, &len)) != '\n' && c >= 0 && (sp = space_len(s->p + s->i, s->n - s->i)) > 0)
			s->i += sp, blanks = true;
		if (c == NEED_MORE)
			return NEED_MORE;
		if (c == '"' && !blanks) {
			put(&s->row->text, "\"", 1);
			take(s, 1);
			continue;
		}
		field_end(s->row, s->row->text.len);
		if (c == AT_END || c == '\n') {
			if (c == '\n')
				take(s, len);
			return 0;
		}
		if (c == s->sep) {
			take(s, 1);
			return 1;
		}
		return fail(s, "extraneous '\"' after a quoted field");
	}
}

/* An unquoted field: 1 when the record goes on, 0 at its end, -1, NEED_MORE. */
static int
unquoted(struct scan *s)
{
	size_t len, keep = s->row->text.len, sp;
	int c;

	for (;;) {
		if ((c = peek(s, &len)) == NEED_MORE)
			return NEED_MORE;
		if (c == AT_END || c == '\n' || c == s->sep) {
			field_end(s->row, keep);
			if (c != AT_END)
				take(s, len);
			return c == s->sep;
		}
		if (c == '"')
			return fail(s, "bare '\"' in an unquoted field (quote the whole field and double the quote)");
		sp = space_len(s->p + s->i, s->n - s->i);
		len = sp ? sp : 1;
		put(&s->row->text, s->p + s->i, len);
		s->i += len;
		if (!sp)
			keep = s->row->text.len;
	}
}

/* One CSV field: leading blanks, then quoted or not. */
static int
csv_field(struct scan *s)
{
	size_t len, sp;
	int c;

	while ((c = peek(s, &len)) >= 0 && c != '\n' && (sp = space_len(s->p + s->i, s->n - s->i)) > 0)
		s->i += sp;
	field_begin(s->row);
	if (c == NEED_MORE)
		return NEED_MORE;
	if (c == '"')
		return quoted(s);
	return unquoted(s);
}

/* One TSV line split at its tabs, trailing CR and LF cut. */
static int
tsv_record(struct scan *s)
{
	const uint8_t *nl = memchr(s->p + s->i, '\n', s->n - s->i);
	size_t end = nl ? (size_t)(nl - s->p) : s->n, cut = end;

	if (nl == NULL && !s->eof)
		return NEED_MORE;
	while (cut > s->i && (s->p[cut - 1] == '\r' || s->p[cut - 1] == '\n'))
		cut--;
	for (size_t k = s->i;; k++) {
		if (k == s->i || s->p[k - 1] == '\t')
			field_begin(s->row);
		if (k == cut || s->p[k] == '\t') {
			field_end(s->row, s->row->text.len);
			if (k == cut)
				break;
			continue;
		}
		put(&s->row->text, s->p + k, 1);
	}
	s->i = end;
	if (nl)
		take(s, 1);
	return 0;
}

/* Past blank lines (TSV: also lines of nothing but CRs). */
static int
skip_blank(struct scan *s)
{
	for (;;) {
		size_t len, k = s->i;
		int c = peek(s, &len);

		if (s->sep == '\t')
			while (k < s->n && s->p[k] == '\r')
				k++;
		if (c < 0 && c != AT_END)
			return c;
		if (s->sep == '\t' && k < s->n && s->p[k] == '\n') {
			s->i = k;
			take(s, 1);
		} else if (c == '\n') {
			take(s, len);
		} else {
			return c == AT_END ? AT_END : 1;
		}
	}
}

/* Past the end of the line where an error is (the next record starts
 * after it); NEED_MORE when that end is not in p yet. */
static int
skip_line(struct scan *s)
{
	const uint8_t *nl = memchr(s->p + s->i, '\n', s->n - s->i);

	if (nl == NULL && !s->eof)
		return NEED_MORE;
	s->i = nl ? (size_t)(nl - s->p) : s->n;
	if (nl)
		take(s, 1);
	return -1;
}

int
csv_split(const uint8_t *p, size_t n, bool eof, char sep, struct csv_row *row, size_t *used)
{
	struct scan s = {p, n, 0, eof, sep, row, 0, 0, 0};
	int rc;

	row->n = 0;
	row->text.len = 0;
	row->err = NULL;
	*used = 0;
	if ((rc = skip_blank(&s)) == NEED_MORE)
		return 0;
	row->lead = s.lines;
	row->lead_bytes = s.i;
	if (rc == AT_END) {
		*used = s.i;
		row->lines = s.lines;
		return 0;
	}
	s.rec_start = s.i;
	if (sep == '\t')
		rc = tsv_record(&s);
	else
		while ((rc = csv_field(&s)) == 1)
			;
	if (rc == -1)
		rc = skip_line(&s);
	if (rc == NEED_MORE)
		return 0;
	row->lines = s.lines;
	*used = s.i;
	return rc == -1 ? -1 : 1;
}

void
csv_row_free(struct csv_row *row)
{
	ejson_buf_free(&row->text);
	bson_free(row->off);
	bson_free(row->len);
	memset(row, 0, sizeof *row);
}

bool
csv_opt_type(const char *arg, void *dest, bson_error_t *err)
{
	if (!docstream_format_parse(arg, true, dest)) {
		mp_error_set(err, MP_EX_USAGE, "takes json, csv or tsv (or bson, ndjson), not '%s'", arg);
		return false;
	}
	return true;
}

bool
csv_opt_fields(const char *arg, void *dest, bson_error_t *err)
{
	char ***out = dest;

	bson_strfreev(*out);
	*out = csv_fields_split(arg);
	if (**out == NULL || ***out == '\0') {
		mp_error_set(err, MP_EX_USAGE, "takes a comma-separated list of fields, not '%s'", arg);
		return false;
	}
	return true;
}
