/*
 * csv.h: CSV and TSV as the MongoDB Database Tools 100.11 write and read
 * them (DESIGN.md, "Document stream"): mongoexport --type csv on the way
 * out, mongoimport --type csv|tsv on the way in.
 *
 * Out (csvcell.c, csv.c): a row is one cell per field path ("a.b.0" reaches
 * into documents and arrays), rendered as mongoexport does: strings raw,
 * numbers, dates and ObjectIds in its forms, documents and arrays as its
 * legacy Extended JSON, missing fields and null empty; CSV quoted as Go's
 * encoding/csv quotes (only when needed, '"' doubled), TSV cells joined by
 * tabs.
 *
 * In (csv.c, csvtype.c): the splitter cuts one record from bytes with
 * mongoimport's rules (quoted fields over several lines, leading and
 * trailing blanks of a field trimmed, blank lines skipped, CRLF taken as
 * LF); a row becomes a document by its columns: a name (dotted names build
 * nested documents), a type (auto: int32, int64, double or string, as
 * mongoimport casts) and what to do when a value does not parse (the
 * parse grace).
 */
#ifndef MP_CSV_H
#define MP_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bson/bson.h>

#include "ejson.h"

/* What a row does with a value its column's type cannot parse
 * (mongoimport --parseGrace). */
enum csv_grace {
	CSV_GRACE_AUTOCAST = 0, /* take it as an untyped value */
	CSV_GRACE_SKIPFIELD,    /* leave the field out */
	CSV_GRACE_SKIPROW,      /* leave the row out */
	CSV_GRACE_STOP,         /* the row is bad input (the default) */
};

/* How a tool asks for CSV or TSV input (docstream_reader_opts.csv). */
struct csv_spec {
	char **fields;      /* the column names (typed: "name.type(arg)"), NULL-terminated; NULL with header_line */
	bool header_line;   /* the first line names the columns */
	bool typed;         /* --columns-have-types */
	bool ignore_blanks; /* an empty cell is no field */
	enum csv_grace grace;
};

/* "a,b.c,d.date(2006-01-02, 15:04)": split at commas outside parentheses,
 * as mongoimport splits --fields.  NULL-terminated, bson_strfreev() it. */
char **csv_fields_split(const char *list);

/* Option callbacks (opt.h OPT_CALL) that dump and load share: --type
 * json|csv|tsv (mongo-tools' spelling of --format/--input-format; dest an
 * enum docstream_format) and --fields a,b.c (dest a char ** to replace). */
bool csv_opt_type(const char *arg, void *dest, bson_error_t *err);
bool csv_opt_fields(const char *arg, void *dest, bson_error_t *err);

/* The field names of FILE, one a line (mongoexport/mongoimport
 * --fieldFile).  NULL with err (66 cannot open, 65 empty). */
char **csv_fields_from_file(const char *path, bson_error_t *err);

/* ---- out ---- */

/*
 * Append one row: the cell of each of fields[0..n) of the document
 * data[0..len), separated by sep (',' quoted as CSV, '\t' as TSV), and a
 * newline.  False with why (and out as it was) when a TSV cell holds a tab
 * or a line break, which TSV cannot carry, or the bytes are not a document.
 */
bool csv_write_row(const uint8_t *data, size_t len, char *const *fields, size_t n, char sep,
	struct ejson_buf *out, char *why, size_t whylen);

/* The header line: the field names as a row. */
void csv_write_header(char *const *fields, size_t n, char sep, struct ejson_buf *out);

/* Append one CSV field, quoted as Go's encoding/csv quotes it. */
void csv_put_field(struct ejson_buf *out, const char *s, size_t n);

/* Append the cell of the value at it, as mongoexport renders it (empty
 * for null and undefined fields' absence is the caller's). */
void csv_render_cell(const bson_iter_t *it, struct ejson_buf *out);

/* Find the value at a dotted path (array elements by index); false when
 * some part of it is missing or not a document or array. */
bool csv_lookup(const bson_t *doc, const char *path, bson_iter_t *out);

/* ---- in ---- */

/* One record cut by csv_split(): its fields in text (each NUL-ended). */
struct csv_row {
	struct ejson_buf text;
	size_t *off, *len;
	size_t n, cap;
	uint64_t lead;    /* blank lines skipped before the record */
	size_t lead_bytes; /* ... and their bytes: the record starts after them */
	uint64_t lines;   /* line breaks in the bytes used, the blank lines' and the record's last one included */
	size_t err_line;  /* on an error: the line within the record (0-based) */
	size_t err_col;   /* ... and the byte column in that line (1-based) */
	const char *err;  /* ... and why */
};

void csv_row_free(struct csv_row *row);

/*
 * Cut the next record from p[0..n) (eof: nothing follows).  sep is ',' for
 * CSV, '\t' for TSV (a line split at tabs, nothing quoted).  Returns 1 with
 * the record in row and *used the bytes it took (its line break and any
 * blank lines before it included), 0 when p holds no whole record and more
 * may follow (or, at eof, when only blank lines are left: *used then
 * covers them), -1 on a malformed record with row->err set and *used up to
 * the end of the line where the error is (the rest of the input can still
 * be read).
 */
int csv_split(const uint8_t *p, size_t n, bool eof, char sep, struct csv_row *row, size_t *used);

/* The columns of a CSV/TSV input, parsed from names or typed names. */
struct csv_columns;

/* Parse names (typed: "name.type(arg)") and check them as mongoimport does
 * (no empty part, no leading '$', no duplicate, no field that is both a
 * value and a document).  NULL with err (64). */
struct csv_columns *csv_columns_new(char *const *names, size_t n, bool typed, enum csv_grace grace,
	bson_error_t *err);
void csv_columns_destroy(struct csv_columns *c);

/*
 * The document of one row, into out (reinitialised).  Returns 1, 0 when the
 * grace is skipRow and a value did not parse, -1 when it is stop (why says
 * which column and value).  Cells past the last column are named "fieldN"
 * as mongoimport names them.
 */
int csv_row_to_bson(const struct csv_columns *c, const struct csv_row *row, bool ignore_blanks, bson_t *out,
	char *why, size_t whylen);

/* The instant a Go time layout ("2006-01-02T15:04:05Z07:00") reads in s,
 * in milliseconds since the epoch; false when s does not match it
 * (csvdate.c). */
bool csv_parse_go_date(const char *layout, const char *s, int64_t *ms);

/* A Microsoft (date_ms) or Oracle (date_oracle) date format as the Go
 * layout mongoimport turns it into; bson_free() it. */
char *csv_layout_from_ms(const char *format);
char *csv_layout_from_oracle(const char *format);

#endif
