/*
 * mongo-load-bson: load a document stream (or a mongodump directory) into a
 * collection with bulk writes: insert, upsert, merge or delete.
 *
 * The main thread reads and cuts batches; --workers threads write them over a
 * client pool.  A batch is acknowledged when the server accepted it (rejected
 * documents went to --reject or were duplicates under --skip-duplicates);
 * the checkpoint is the last _id of the longest run of acknowledged batches
 * from the start, so it never passes unacknowledged work.  load.h maps the
 * rooms of the tool.
 */
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "load.h"
#include "nsmap.h"
#include "opt.h"
#include "sig.h"

static struct opts o;

static const char *const modes[] = {"insert", "upsert", "merge", "delete", NULL};

/* --upsert-fields F1,F2: a NULL-terminated list */
static bool
split_fields(const char *arg, void *dest, bson_error_t *err)
{
	char ***out = dest, *copy = bson_strdup(arg), *tok, *save = NULL;
	int n = 0, cap = 4;
	char **v = bson_malloc0(sizeof(char *) * (size_t)cap);

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n + 1 >= cap)
			v = bson_realloc(v, sizeof(char *) * (size_t)(cap *= 2));
		v[n++] = bson_strdup(tok);
	}
	v[n] = NULL;
	bson_free(copy);
	bson_strfreev(*out);
	*out = v;
	if (n == 0)
		mp_error_set(err, MP_EX_USAGE, "takes a comma-separated list of fields");
	return n > 0;
}

static const char *const graces[] = {"autoCast", "skipField", "skipRow", "stop", NULL};

static const struct opt options[] = {
	OPT_SECTION("Input"),
	{OPT_STRING, "from", 0, &o.from, "FILE", "the document stream (default: standard input)", 0, 0, NULL, NULL,
		"file"},
	OPT_STRING("dir", &o.dir, "DIR", "every DB/COLL.bson of a mongodump directory, with its metadata"),
	OPT_OPTIONAL("archive", &o.archive, "FILE",
		"a mongodump archive (default: standard input; one is also known by its first bytes)"),
	OPT_CALL("type", &o.c.input_format, "json|csv|tsv", csv_opt_type, "mongoimport's --type: the same as --input-format"),
	OPT_SECTION("CSV/TSV"),
	OPT_CALL("fields", &o.csv.fields, "F1,F2", csv_opt_fields, "the columns' names (a.b builds {a: {b: ...}})"),
	{OPT_STRING, "field-file", 0, &o.field_file, "FILE", "the columns' names, one a line", 0, 0, NULL, NULL,
		"fieldFile"},
	{OPT_FLAG, "header-line", 0, &o.csv.header_line, NULL, "the first line names the columns", 0, 0, NULL, NULL,
		"headerline"},
	{OPT_FLAG, "columns-have-types", 0, &o.csv.typed, NULL, "names are typed: age.int32(), when.date(2006-01-02)",
		0, 0, NULL, NULL, "columnsHaveTypes"},
	{OPT_CHOICE, "parse-grace", 0, &o.grace, NULL, "a typed value that does not parse (default stop)", 0, 0,
		graces, NULL, "parseGrace"},
	{OPT_FLAG, "ignore-blanks", 0, &o.csv.ignore_blanks, NULL, "an empty cell is no field", 0, 0, NULL, NULL,
		"ignoreBlanks"},
	OPT_SECTION("Writes"),
	OPT_CHOICE("mode", &o.mode, NULL, modes, "how each document is written"),
	{OPT_CALL, "upsert-fields", 0, &o.upsert_fields, "F1,F2", "the key for upsert, merge, delete", 0, 0, NULL,
		split_fields, "upsertFields"},
	OPT_FLAG("skip-duplicates", &o.skip_dups, "a duplicate key means the document is there"),
	OPT_STRING("id-field", &o.id_field, "NAME", "move this field to _id"),
	OPT_FLAG("drop", &o.drop, "drop the collection first"),
	{OPT_FLAG, "dry-run", 0, &o.dry_run, NULL, "read and check everything, write nothing", 0, 0, NULL, NULL,
		"dryRun"},
	OPT_FLAG("ordered", &o.ordered, "ordered bulk writes, one writer"),
	{OPT_FLAG, "maintain-insertion-order", 0, &o.keep_order, NULL,
		"--ordered, and stop at the first refused document (as mongorestore)", 0, 0, NULL, NULL,
		"maintainInsertionOrder"},
	{OPT_FLAG, "stop-on-error", 0, &o.stop_on_error, NULL,
		"--dir, archive: a duplicate _id stops the load (65), as with --ns", 0, 0, NULL, NULL, "stopOnError"},
	{OPT_FLAG, "bypass-document-validation", 0, &o.bypass_validation, NULL, "writes skip the target's validator",
		0, 0, NULL, NULL, "bypassDocumentValidation"},
	{OPT_STRING, "write-concern", 0, &o.write_concern, "W", "majority (default), N, or {\"w\": 1, \"j\": true}", 0,
		0, NULL, NULL, "writeConcern"},
	OPT_SECTION("Speed"),
	{OPT_INT, "workers", 0, &o.workers, "N", "writer threads (default 2)", 1, 64, NULL, NULL, "numInsertionWorkers"},
	OPT_INT("batch-size", &o.batch_size, "N", 1, 100000, "documents per batch (default 1000)"),
	OPT_INT("retries", &o.retries, "N", 0, 1000, "writes of unknown outcome sent again (default 8)"),
	OPT_SECTION("Safety"),
	OPT_STRING("reject", &o.reject, "FILE", "set refused documents and bad records aside"),
	OPT_STRING("checkpoint", &o.checkpoint, "FILE", "the last _id acknowledged, to resume"),
	OPT_STRING("metadata", &o.metadata, "FILE", "a mongodump metadata.json"),
	{OPT_FLAG, "no-index-restore", 0, &o.no_index_restore, NULL, "do not build the metadata's indexes", 0, 0, NULL,
		NULL, "noIndexRestore"},
	{OPT_FLAG, "no-options-restore", 0, &o.no_options_restore, NULL,
		"create collections without the metadata's options", 0, 0, NULL, NULL, "noOptionsRestore"},
	{OPT_FLAG, "preserve-uuid", 0, &o.preserve_uuid, NULL, "with --drop: create with the metadata's uuid", 0, 0,
		NULL, NULL, "preserveUUID"},
	OPT_FLAG("allow-missing", &o.allow_missing, "a --dir without data files is nothing to load, not an error"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-load-bson [--uri URI | --uri-file FILE] --ns DB.COLL [--from FILE] [options]\n"
	"mongo-load-bson [--uri URI] --dir DIR [--db DB] [options]\n"
	"mongo-load-bson [--uri URI] [--archive[=FILE]] [options]\n"
	"mongo-load-bson ... --type csv|tsv (--fields F1,F2 | --field-file FILE | --header-line) [options]",
	"Load a document stream (BSON, NDJSON, CSV or TSV; stdin by default) into a collection.",
	"Exit: 0 done, 64 usage, 65 bad input or rejected document, 66 no input,\n"
	"69 server, 73/74 output, 75 interrupted (rerun to resume).  See mongo-load-bson(1).",
	OPT_COMMON_URI | OPT_COMMON_NS | OPT_COMMON_DB | OPT_COMMON_INPUT | OPT_COMMON_STATS | OPT_COMMON_PROGRESS |
		OPT_COMMON_TIMEOUTS | OPT_COMMON_NSSELECT | OPT_COMMON_NSRENAME,
	options,
	false,
};

/* CSV and TSV take their columns from one place; the column options
 * need CSV or TSV.  -1 to go on, else the exit status. */
static int
check_tabular(void)
{
	bool tabular = o.c.input_format == DOCSTREAM_CSV || o.c.input_format == DOCSTREAM_TSV;
	int sources = (o.csv.fields != NULL) + (o.field_file != NULL) + o.csv.header_line;
	bson_error_t err;
	struct csv_columns *cols;
	size_t n = 0;

	o.csv.grace = (enum csv_grace)o.grace;
	if (!tabular && (sources || o.csv.typed || o.csv.ignore_blanks || o.grace != CSV_GRACE_STOP))
		return opt_misuse(&tool, "--fields, --field-file, --header-line, --columns-have-types, --parse-grace "
			"and --ignore-blanks go with --type csv or tsv");
	if (!tabular)
		return -1;
	if (o.dir)
		return opt_misuse(&tool, "--dir reads BSON: not with --type csv or tsv");
	if (sources != 1)
		return opt_misuse(&tool, "CSV and TSV take their columns from one of --fields, --field-file and "
			"--header-line");
	if (o.field_file && (o.csv.fields = csv_fields_from_file(o.field_file, &err)) == NULL)
		return diag_exit(&err, "--field-file");
	if (o.csv.fields == NULL)
		return -1;
	while (o.csv.fields[n])
		n++;
	cols = csv_columns_new(o.csv.fields, n, o.csv.typed, o.csv.grace, &err);
	csv_columns_destroy(cols);
	return cols ? -1 : opt_misuse(&tool, "%s", err.message);
}

/* What the table cannot say: options that need or exclude each other. */
static int
check_options(const char *ns, const char *db)
{
	int rc;

	if ((rc = check_tabular()) >= 0)
		return rc;
	if (o.stop_on_error && (o.reject || o.skip_dups))
		return opt_misuse(&tool, "--stop-on-error stops at the first refused document: not with --reject or "
			"--skip-duplicates, which go on past it");
	if (o.preserve_uuid && !o.drop)
		return opt_misuse(&tool, "--preserve-uuid creates each collection anew with the uuid of its metadata: "
			"it needs --drop (as mongorestore)");
	/* as mongorestore: ordered, and a refused document stops the load,
	 * unless --reject or --skip-duplicates say what becomes of it */
	if (o.keep_order) {
		o.ordered = true;
		o.stop_on_error = !o.reject && !o.skip_dups;
	}
	if (o.ordered)
		o.workers = 1;
	if (o.dir && (o.from || ns || o.archive))
		return opt_misuse(&tool, "--dir loads a whole mongodump directory: no --from, --ns or --archive with it");
	if (o.archive && (o.from || ns || db || o.checkpoint || o.metadata || o.id_field))
		return opt_misuse(&tool, "--archive loads the collections the archive names: no --from, --ns, --db, "
			"--checkpoint, --metadata or --id-field with it (--ns-include and --ns-exclude select)");
	if (!o.dir && !o.archive && !o.from && ns == NULL && isatty(STDIN_FILENO))
		return opt_misuse(&tool, "say where to load: --ns DB.COLL, --dir DIR, or --archive");
	if (o.dir && db && ns_rename_given())
		return opt_misuse(&tool, "--db renames every collection of --dir into one database: not with "
			"--ns-from/--ns-to (give --ns-from 'DB.*' --ns-to 'NEWDB.*' alone)");
	if ((o.dir || o.archive) && o.checkpoint)
		return opt_misuse(&tool, "--checkpoint works on one collection, not with --dir");
	if (o.upsert_fields && o.mode == MODE_INSERT)
		return opt_misuse(&tool, "--upsert-fields goes with --mode upsert, merge or delete");
	return opt_check_writable(o.checkpoint);
}

/* The options for a mongodump's output (--dir, an archive): restored as
 * mongorestore restores it, going past a duplicate _id (counted, and
 * warned about) unless --stop-on-error.  A stream (--ns) keeps refusing
 * it: see DESIGN.md, "Restoring over existing documents". */
static const struct opts *
restore_opts(void)
{
	o.restoring = o.mode == MODE_INSERT && !o.stop_on_error;
	return &o;
}

/* The input, known by its first bytes: a mongodump archive, or a stream
 * for the collection --ns names. */
static int
load_stream(const char *ns, mongoc_client_pool_t *pool, struct stats *stats)
{
	struct docstream_reader_opts ro = {.format = o.c.input_format, .max_doc = o.c.max_doc, .csv = &o.csv};
	const char *path = o.archive && strcmp(o.archive, "-") ? o.archive : o.from;
	struct docstream_reader *r = NULL;
	bson_t *meta = NULL;
	bson_error_t err;
	int rc;

	if ((o.metadata && (meta = metadata_read(o.metadata, &err)) == NULL) ||
	    (r = docstream_reader_open(path, &ro, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
	} else if (docstream_reader_format(r) == DOCSTREAM_ARCHIVE) {
		rc = ns || o.checkpoint || o.metadata || o.id_field
			     ? opt_misuse(&tool, "%s is a mongodump archive: it names its collections (no --ns, "
				"--checkpoint, --metadata or --id-field with it)", docstream_reader_name(r))
			     : load_archive(restore_opts(), pool, r, stats);
	} else if (o.archive) {
		diag_error("%s is not a mongodump archive (it does not start with the archive's magic number)",
			docstream_reader_name(r));
		rc = MP_EX_DATAERR;
	} else if (ns == NULL) {
		rc = opt_misuse(&tool, "say where to load: --ns DB.COLL (or --dir DIR; %s is not a mongodump "
			"archive)", docstream_reader_name(r));
	} else {
		rc = load_one(&o, pool, ns, r, meta, stats);
	}
	docstream_reader_destroy(r);
	bson_destroy(meta);
	return rc;
}

static int
run(const char *ns, const char *db)
{
	struct stats *stats = NULL;
	mongoc_client_pool_t *pool = NULL;
	bson_error_t err;
	mongoc_uri_t *uri = NULL;
	int rc;

	if ((stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	uri = cli_common_uri(&o.c, &err);
	if (uri == NULL || (pool = conn_pool_new_uri(uri, TOOL, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	mongoc_client_pool_max_size(pool, (uint32_t)o.workers + 1);
	rc = o.dir ? load_dir(restore_opts(), pool, db, stats) : load_stream(ns, pool, stats);
out:
	mongoc_client_pool_destroy(pool);
	rc = stats_finish(stats, ns ? ns : db, rc);
	mongoc_uri_destroy(uri);
	return rc;
}

int
main(int argc, char **argv)
{
	char *ns = NULL, *db = NULL;
	int rc;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.c.tabular = true;
	o.grace = CSV_GRACE_STOP;
	o.retries = 8;
	o.batch_size = 1000;
	o.workers = 2;
	if ((rc = opt_parse(&tool, &o.c, argc, argv, &ns, &db)) < 0 && (rc = check_options(ns, db)) < 0) {
		cli_runtime_begin();
		rc = run(ns, db);
		cli_runtime_end();
	}
	bson_strfreev(o.upsert_fields);
	bson_strfreev(o.csv.fields);
	bson_free(ns);
	bson_free(db);
	return rc;
}
