/*
 * test_csv.c: the CSV/TSV splitter (mongoimport's rules), the cell
 * renderer (mongoexport's forms), quoting, casts and Go date layouts.
 */
#include <math.h>

#include "csv.h"
#include "ejson.h"
#include "tap.h"

/* Split text once; the fields joined by '|' into got. */
static int
split(const char *text, bool eof, char sep, char *got, size_t len, size_t *used, struct csv_row *row)
{
	int rc = csv_split((const uint8_t *)text, strlen(text), eof, sep, row, used);
	size_t at = 0;

	got[0] = '\0';
	for (size_t i = 0; rc == 1 && i < row->n; i++)
		at += (size_t)snprintf(got + at, len - at, "%s%s", i ? "|" : "", (const char *)row->text.p + row->off[i]);
	return rc;
}

static void
test_split(void)
{
	struct csv_row row = {0};
	char got[256];
	size_t used;

	is_int(split("a,b,c\nd\n", true, ',', got, sizeof got, &used, &row), 1, "a plain record");
	is_str(got, "a|b|c", "... its fields");
	is_int(used, 6, "... and its line break used");
	split("  a b  ,\t\"q, \"\"x\"\"\"  ,\n", true, ',', got, sizeof got, &used, &row);
	is_str(got, "a b|q, \"x\"|", "blanks around fields trimmed, quotes undone, a trailing empty field");
	split("\"two\r\nlines\",z\r\n", true, ',', got, sizeof got, &used, &row);
	is_str(got, "two\nlines|z", "CRLF read as LF, in a quoted field too");
	is_int(row.lines, 2, "... two line breaks used");
	is_int(split("\n\r\n\nx\n", true, ',', got, sizeof got, &used, &row), 1, "blank lines skipped");
	ok(row.lead == 3 && row.lead_bytes == 4 && strcmp(got, "x") == 0, "... counted before the record");
	is_int(split("\"open,\nstill", false, ',', got, sizeof got, &used, &row), 0, "a quoted field cut short: more needed");
	is_int(split("a,b", false, ',', got, sizeof got, &used, &row), 0, "a record without its line break: more needed");
	is_int(split("a,b", true, ',', got, sizeof got, &used, &row), 1, "... but at the end it is whole");
	is_int(split("\n\n", true, ',', got, sizeof got, &used, &row), 0, "only blank lines at the end: no record");
	is_int(used, 2, "... and they are used");
	is_int(split("1,ab\"c\nnext\n", true, ',', got, sizeof got, &used, &row), -1, "a bare quote is an error");
	ok(row.err && strstr(row.err, "bare") && row.err_line == 0 && row.err_col == 5, "... at line 0, column 5");
	is_int(used, 7, "... the reader goes on after its line");
	is_int(split("\"x\"y,1\n", true, ',', got, sizeof got, &used, &row), -1, "text after a closing quote");
	ok(row.err && strstr(row.err, "extraneous") && row.err_col == 4, "... named, at column 4");
	is_int(split("\"a\nb\" \"\n", true, ',', got, sizeof got, &used, &row), -1, "a quote after a quoted field and blanks");
	is_int(row.err_line, 1, "... on the record's second line");
	is_int(split("\"never closed\n", true, ',', got, sizeof got, &used, &row), -1, "a quote open at the end");
	split("a\t b \t\"c\"\r\n", true, '\t', got, sizeof got, &used, &row);
	is_str(got, "a| b |\"c\"", "TSV: split at tabs, nothing trimmed or unquoted but the line's CR");
	split("\t\n", true, '\t', got, sizeof got, &used, &row);
	is_str(got, "|", "TSV: empty cells");
	csv_row_free(&row);
}

static void
test_fields(void)
{
	char **f = csv_fields_split("a,b.c,d.date(2006-01-02, 15:04),e");

	ok(f[0] && f[1] && f[2] && f[3] && !f[4], "four fields");
	is_str(f[2], "d.date(2006-01-02, 15:04)", "a comma inside parentheses stays");
	bson_strfreev(f);
}

/* The cell of {"v": <json>} at path. */
static void
cell(const char *json, const char *path, char *got, size_t len)
{
	bson_error_t err;
	bson_t *doc = bson_new_from_json((const uint8_t *)json, -1, &err);
	struct ejson_buf out = {0};
	bson_iter_t it;

	got[0] = '\0';
	if (doc && csv_lookup(doc, path, &it)) {
		csv_render_cell(&it, &out);
		snprintf(got, len, "%.*s", (int)out.len, out.p ? (const char *)out.p : "");
	} else {
		snprintf(got, len, "(missing)");
	}
	ejson_buf_free(&out);
	bson_destroy(doc);
}

static void
test_render(void)
{
	static const struct {
		const char *json, *path, *want, *what;
	} cases[] = {
		{"{\"v\": \"raw, \\\"text\\\"\"}", "v", "raw, \"text\"", "a string is raw"},
		{"{\"v\": {\"$numberLong\": \"5000000000\"}}", "v", "5000000000", "an int64"},
		{"{\"v\": 1.0}", "v", "1", "an integral double: Go's %v"},
		{"{\"v\": 123456789.0}", "v", "1.23456789e+08", "a double from 1e6 up: exponent form"},
		{"{\"v\": 0.00001}", "v", "1e-05", "a double below 1e-4"},
		{"{\"v\": 0.0001}", "v", "0.0001", "a double at 1e-4"},
		{"{\"v\": {\"$numberDouble\": \"-Infinity\"}}", "v", "-Inf", "minus infinity"},
		{"{\"v\": {\"$oid\": \"5f0c1a2b3c4d5e6f70819203\"}}", "v", "ObjectId(5f0c1a2b3c4d5e6f70819203)", "an ObjectId"},
		{"{\"v\": {\"$date\": {\"$numberLong\": \"-1\"}}}", "v", "1969-12-31T23:59:59.999Z", "a date before 1970"},
		{"{\"v\": {\"$date\": {\"$numberLong\": \"40000000000000\"}}}", "v",
			"{ \"$date\": { \"$numberLong\" : \"40000000000000\" }}", "a date after year 3000"},
		{"{\"v\": {\"$binary\": {\"base64\": \"AQL/\", \"subType\": \"00\"}}}", "v", "0102FF", "binary: upper-case hex"},
		{"{\"v\": null}", "v", "", "null: empty"},
		{"{\"v\": true}", "v", "true", "a boolean"},
		{"{\"v\": {\"$numberDecimal\": \"1.50\"}}", "v", "1.50", "a decimal"},
		{"{\"v\": {\"$regularExpression\": {\"pattern\": \"a.b\", \"options\": \"i\"}}}", "v", "/a.b/i", "a regex"},
		{"{\"v\": {\"$timestamp\": {\"t\": 1, \"i\": 2}}}", "v", "{ \"$timestamp\": { \"t\": 1, \"i\": 2 } }",
			"a timestamp"},
		{"{\"v\": [1, {\"$numberLong\": \"3\"}, 2.0, \"<&>\", {\"$date\": {\"$numberLong\": \"0\"}}]}", "v",
			"[1,{\"$numberLong\":\"3\"},2.0,\"\\u003c\\u0026\\u003e\",{\"$date\":\"1970-01-01T00:00:00.000Z\"}]",
			"an array: mongoexport's legacy JSON, compact"},
		{"{\"v\": {\"a\": {\"$oid\": \"000000000000000000000000\"}, \"b\": \"x y\"}}", "v",
			"{\"a\":{\"$oid\":\"000000000000000000000000\"},\"b\":\"x y\"}", "a document, spaces in strings kept"},
		{"{\"v\": {\"a\": [10, {\"b\": 7}]}}", "v.a.1.b", "7", "a path through a document and an array"},
		{"{\"v\": {\"a\": [10]}}", "v.a.+0", "10", "an index as Go's Atoi reads it"},
		{"{\"v\": {\"a\": [10]}}", "v.a.1", "(missing)", "an index past the end"},
		{"{\"v\": \"s\"}", "v.x", "(missing)", "into a string"},
		{"{\"v\": 1}", "w", "(missing)", "a missing field"},
	};
	char got[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cell(cases[i].json, cases[i].path, got, sizeof got);
		is_str(got, cases[i].want, "cell: %s", cases[i].what);
	}
}

static void
test_quote_and_row(void)
{
	struct ejson_buf out = {0};
	char *fields[] = {"a", "b", "c", NULL};
	bson_t *doc = BCON_NEW("a", " x", "b", "tab\there", "c", BCON_INT32(1));
	char why[200];

	csv_put_field(&out, "plain", 5);
	csv_put_field(&out, "", 0);
	csv_put_field(&out, "a\"b", 3);
	csv_put_field(&out, "\\.", 2);
	is_int(out.len, strlen("plain\"a\"\"b\"\"\\.\""), "quoted only when needed, quotes doubled, \\. quoted");
	out.len = 0;
	ok(csv_write_row(bson_get_data(doc), doc->len, fields, 3, ',', &out, why, sizeof why), "a CSV row");
	ok(out.len == strlen("\" x\",tab\there,1\n") && memcmp(out.p, "\" x\",tab\there,1\n", out.len) == 0,
		"... a leading blank quoted, a tab not");
	out.len = 0;
	ok(!csv_write_row(bson_get_data(doc), doc->len, fields, 3, '\t', &out, why, sizeof why) && out.len == 0,
		"a TSV row with a tab in a cell is refused, nothing written");
	has_str(why, "field 'b' holds a tab", "... naming the field");
	ejson_buf_free(&out);
	bson_destroy(doc);
}

/* The document a CSV line makes under columns names (typed or not). */
static int
row_doc(const char *names, bool typed, enum csv_grace grace, const char *line, char *got, size_t len)
{
	char **f = csv_fields_split(names), why[300];
	size_t n = 0, used;
	struct csv_row row = {0};
	bson_error_t err;
	bson_t doc = BSON_INITIALIZER;
	int rc = -9;

	while (f[n])
		n++;
	struct csv_columns *c = csv_columns_new(f, n, typed, grace, &err);

	got[0] = '\0';
	if (c && csv_split((const uint8_t *)line, strlen(line), true, ',', &row, &used) == 1) {
		rc = csv_row_to_bson(c, &row, false, &doc, why, sizeof why);
		char *j = rc == 1 ? ejson_from_bson_new(&doc, EJSON_RELAXED, NULL) : bson_strdup(why);

		snprintf(got, len, "%s", j);
		bson_free(j);
	} else if (!c) {
		snprintf(got, len, "%s", err.message);
	}
	csv_columns_destroy(c);
	csv_row_free(&row);
	bson_destroy(&doc);
	bson_strfreev(f);
	return rc;
}

static void
test_types(void)
{
	char got[400];

	row_doc("a,b,c,d,e,f,g", false, CSV_GRACE_STOP, "7,3000000000,1.5,0x1p4,1_0,NaN,+x,extra\n", got, sizeof got);
	is_str(got, "{\"a\":7,\"b\":3000000000,\"c\":1.5,\"d\":16.0,\"e\":10.0,\"f\":{\"$numberDouble\":\"NaN\"},"
		"\"g\":\"+x\",\"field7\":\"extra\"}", "auto casts as Go's strconv; an extra cell is fieldN");
	row_doc("x.a,y,x.b.c", false, CSV_GRACE_STOP, "1,2,3\n", got, sizeof got);
	is_str(got, "{\"x\":{\"a\":1,\"b\":{\"c\":3}},\"y\":2}", "dotted names nest, in first-appearance order");
	row_doc("a.int32(),b.boolean(),c.date(Jan _2 2006 3:04PM)", true, CSV_GRACE_STOP, "-5,TRUE,Feb  3 2021 1:05PM\n",
		got, sizeof got);
	is_str(got, "{\"a\":-5,\"b\":true,\"c\":{\"$date\":\"2021-02-03T13:05:00Z\"}}", "typed columns");
	is_int(row_doc("a.int32(),b.string()", true, CSV_GRACE_STOP, "3000000000,x\n", got, sizeof got), -1,
		"stop: a value out of its type's range");
	has_str(got, "column 'a': '3000000000' is not a valid int32", "... named");
	row_doc("a.int32(),b.string()", true, CSV_GRACE_AUTOCAST, "3000000000,x\n", got, sizeof got);
	is_str(got, "{\"a\":3000000000,\"b\":\"x\"}", "autoCast: cast as untyped");
	row_doc("a.int32(),b.string()", true, CSV_GRACE_SKIPFIELD, "3000000000,x\n", got, sizeof got);
	is_str(got, "{\"b\":\"x\"}", "skipField: the field left out");
	is_int(row_doc("a.int32(),b.string()", true, CSV_GRACE_SKIPROW, "3000000000,x\n", got, sizeof got), 0,
		"skipRow: the row left out");
	row_doc("a.binary(base64),b.binary(base32),c.decimal()", true, CSV_GRACE_STOP, "AQL/,MFRGG===,1.10\n", got,
		sizeof got);
	is_str(got, "{\"a\":{\"$binary\":{\"base64\":\"AQL/\",\"subType\":\"00\"}},\"b\":{\"$binary\":{\"base64\":"
		"\"YWJj\",\"subType\":\"00\"}},\"c\":{\"$numberDecimal\":\"1.10\"}}", "binary and decimal columns");
	row_doc("a,a.b", false, CSV_GRACE_STOP, "1,2\n", got, sizeof got);
	has_str(got, "cannot both be set", "a value and a document under one name is refused");
	row_doc("a.int32(x)", true, CSV_GRACE_STOP, "1\n", got, sizeof got);
	has_str(got, "takes no argument", "an argument where the type takes none");
}

static void
test_dates(void)
{
	int64_t ms = 0;
	char *ms_layout = csv_layout_from_ms("yyyy-MM-dd HH:mm:ss"), *ora = csv_layout_from_oracle("dd-mon-yyyy hh24:mi");

	ok(csv_parse_go_date("2006-01-02T15:04:05.000Z07:00", "2020-01-02T03:04:05.250+01:30", &ms) &&
		ms == INT64_C(1577928845250), "a layout with milliseconds and an offset");
	ok(!csv_parse_go_date("2006-01-02", "2021-02-29", &ms), "a day out of its month");
	ok(!csv_parse_go_date("2006-01-02", "2021-02-01x", &ms), "text after the layout");
	ok(csv_parse_go_date("02 Jan 06 15:04 MST", "05 mar 21 10:00 UTC", &ms) && ms == INT64_C(1614938400000),
		"month names in any case, a zone name read as UTC");
	is_str(ms_layout, "2006-01-02 15:04:05", "a Microsoft format as a Go layout");
	is_str(ora, "02-Jan-2006 15:04", "an Oracle format as a Go layout");
	bson_free(ms_layout);
	bson_free(ora);
}

int
main(void)
{
	test_split();
	test_fields();
	test_render();
	test_quote_and_row();
	test_types();
	test_dates();
	return tap_done();
}
