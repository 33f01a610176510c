/*
 * mongo-dump-bson: copy documents out of a server (or transcode a file) as a
 * document stream, or into a mongodump directory.
 *
 * This file holds the options and main; run.c does a run (the files are
 * listed in mongo-dump-bson.h).
 */
#include "csv.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-dump-bson.h"
#include "sig.h"

static struct opts o;

static bool
opt_limit(const char *arg, void *dest, bson_error_t *err)
{
	if (!cli_parse_int64(arg, 1, INT64_MAX, dest)) {
		mp_error_set(err, MP_EX_USAGE, "takes a positive number, not '%s'", arg);
		return false;
	}
	return true;
}

static bool
opt_share(const char *arg, void *dest, bson_error_t *err)
{
	struct share *s = dest;

	if (!cli_parse_share(arg, &s->k, &s->n)) {
		mp_error_set(err, MP_EX_USAGE, "takes K/N with 1 <= K <= N, not '%s'", arg);
		return false;
	}
	return true;
}

static const struct opt options[] = {
	OPT_SECTION("Source"),
	OPT_STRING("from", &o.from, "PATH", "read a file or a mongodump directory instead of a server"),
	OPT_FLAG("list", &o.list, "print the namespaces and exit"),
	OPT_SECTION("Select"),
	OPT_STRING("query", &o.query, "JSON", "the documents matching this filter"),
	{OPT_STRING, "query-file", 0, &o.query_file, "FILE", "the filter is in FILE", 0, 0, NULL, NULL, "queryFile"},
	OPT_STRING("projection", &o.projection, "JSON", "the fields to keep"),
	OPT_STRING("sort", &o.sort, "JSON", "the order of the documents"),
	OPT_CALL("limit", &o.limit, "N", opt_limit, "at most N documents"),
	OPT_INT("skip", &o.skip, "N", 0, INT64_MAX, "leave out the first N documents"),
	OPT_STRING("ids-from", &o.ids_from, "FILE", "the documents whose _id FILE lists, one a line"),
	OPT_STRING("pipeline", &o.pipeline, "JSON", "the result of this aggregation"),
	OPT_INT("batch-size", &o.batch_size, "N", 1, 1000000, "documents per batch from the server"),
	OPT_SECTION("Output"),
	{OPT_STRING, "output", 'o', &o.output, "FILE", "write to FILE instead of standard output", 0, 0, NULL, NULL},
	OPT_STRING("out", &o.out_dir, "DIR", "write a mongodump directory"),
	OPT_STRING("metadata", &o.metadata, "FILE", "write the collection's metadata.json too"),
	OPT_OPTIONAL("archive", &o.archive, "FILE",
		"one mongodump archive of every collection, with metadata (default: standard output)"),
	{OPT_FLAG, "json-array", 0, &o.json_array, NULL, "NDJSON as one JSON array, as mongoexport --jsonArray",
		0, 0, NULL, NULL, "jsonArray"},
	OPT_CALL("type", &o.c.format, "json|csv|tsv", csv_opt_type, "mongoexport's --type: the same as --format"),
	OPT_CALL("fields", &o.fields, "F1,F2", csv_opt_fields, "CSV/TSV: the fields of the cells (a.b, a.0 reach in)"),
	{OPT_STRING, "field-file", 0, &o.field_file, "FILE", "CSV/TSV: the fields, one a line", 0, 0, NULL, NULL,
		"fieldFile"},
	{OPT_FLAG, "no-header-line", 0, &o.no_header, NULL, "CSV/TSV: no line of field names first", 0, 0, NULL,
		NULL, "noHeaderLine"},
	OPT_SECTION("Speed"),
	OPT_INT("parallel", &o.parallel, "N", 1, 64, "read N ranges of _id at once"),
	{OPT_INT, "num-parallel-collections", 0, &o.collections, "N", "dump N collections at once (default 4)", 1,
		64, NULL, NULL, "numParallelCollections"},
	OPT_CALL("partition", &o.part, "K/N", opt_share, "dump the K-th of N shares"),
	OPT_SECTION("Resume"),
	OPT_STRING("resume-after-id", &o.resume_after_id, "VALUE|@FILE", "start after this _id"),
	OPT_STRING("checkpoint", &o.checkpoint, "FILE", "save the last _id written"),
	OPT_INT("retries", &o.retries, "N", 0, 1000,
		"reads after a lost connection, from the last _id (with --checkpoint; default 8)"),
	OPT_SECTION("Missing"),
	OPT_FLAG("allow-missing", &o.allow_missing, "a namespace that does not exist is empty, not an error"),
	OPT_END_OF_TABLE,
};

const struct opt_tool dump_tool = {
	"mongo-dump-bson [--uri URI | --uri-file FILE] (--ns DB.COLL | --db DB) [options]\n"
	"mongo-dump-bson [--uri URI] --archive[=FILE] [--ns DB.COLL | --db DB] [options]\n"
	"mongo-dump-bson --from PATH [--ns DB.COLL] [--format F] [--output FILE]\n"
	"mongo-dump-bson ... --format csv|tsv (--fields F1,F2 | --field-file FILE) [--no-header-line]\n"
	"mongo-dump-bson --list [--db DB]",
	"Write the documents of a collection (or a file) as a BSON or NDJSON stream, or as CSV or TSV.",
	"Exit: 0 done, 64 usage, 65 bad input, 66 no such input or namespace, 69 server,\n"
	"73/74 output, 75 interrupted.\n"
	"See mongo-dump-bson(1).",
	OPT_COMMON_URI | OPT_COMMON_NS | OPT_COMMON_DB | OPT_COMMON_FORMAT | OPT_COMMON_GZIP | OPT_COMMON_INPUT |
		OPT_COMMON_STATS | OPT_COMMON_PROGRESS |
		OPT_COMMON_TIMEOUTS | OPT_COMMON_NSSELECT,
	options,
	false,
};

/* CSV and TSV need their fields, from one place, and one stream.  -1 to
 * go on, else the exit status. */
static int
check_tabular(void)
{
	bool tabular = o.c.format == DOCSTREAM_CSV || o.c.format == DOCSTREAM_TSV;
	bson_error_t err;

	if (!tabular && (o.fields || o.field_file || o.no_header))
		return opt_misuse(&dump_tool, "--fields, --field-file and --no-header-line go with --format csv or tsv");
	if (!tabular)
		return -1;
	if (o.out_dir || o.json_array)
		return opt_misuse(&dump_tool, "CSV and TSV are one stream: not with --out or --json-array");
	if (o.fields && o.field_file)
		return opt_misuse(&dump_tool, "--fields and --field-file are exclusive");
	if (!o.fields && !o.field_file)
		return opt_misuse(&dump_tool, "CSV and TSV need the fields to write: --fields F1,F2 or --field-file FILE");
	if (o.field_file && (o.fields = csv_fields_from_file(o.field_file, &err)) == NULL)
		return diag_exit(&err, "--field-file");
	return -1;
}

/* What cannot go together.  -1 to go on, else 64. */
static int
check_options(const char *ns, const char *db)
{
	bool ranges = o.parallel > 1 || o.part.n;
	int rc;

	if (!o.from && !o.list && !ns && !db && !o.out_dir && !o.archive)
		return opt_misuse(&dump_tool, "say what to dump: --ns DB.COLL, --db DB, or --out DIR or --archive for "
			"everything");
	if (!o.from && !o.list && !ns && !o.out_dir && !o.archive && o.c.format != DOCSTREAM_BSON)
		return opt_misuse(&dump_tool, "--db without --collection dumps many collections: one %s stream "
			"cannot hold them (an archive, the default, or --out DIR can)", docstream_format_name(o.c.format));
	if (!o.from && !o.list && !ns && !o.out_dir && !o.archive) {
		/* many collections in one stream: that is what an archive is, so
		 * `--db X | mongo-load-bson` carries them and their metadata */
		o.archive = o.output ? o.output : "-";
		o.output = NULL;
	}
	if (o.archive && (o.out_dir || o.output || o.from || o.checkpoint || o.metadata || o.json_array ||
			  o.c.format != DOCSTREAM_BSON))
		return opt_misuse(&dump_tool, "--archive writes one BSON stream of its own: not with --out, --output, "
			"--from, --checkpoint, --metadata, --json-array or a --format other than bson");
	if (ranges && (o.limit || o.skip || o.sort || o.ids_from || o.pipeline || o.resume_after_id || o.checkpoint))
		return opt_misuse(&dump_tool, "--parallel/--partition cannot be combined with --limit, --skip, --sort, "
			"--ids-from, --pipeline or resuming");
	if (o.query && o.query_file)
		return opt_misuse(&dump_tool, "--query and --query-file are exclusive");
	if (o.skip && (o.from || o.ids_from || o.pipeline || o.checkpoint || o.resume_after_id))
		return opt_misuse(&dump_tool, "--skip goes with a find on a server: not with --from, --ids-from, "
			"--pipeline or resuming");
	if (o.out_dir && o.output)
		return opt_misuse(&dump_tool, "--out DIR and --output FILE are exclusive");
	if (o.checkpoint && !ns)
		return opt_misuse(&dump_tool, "--checkpoint works on one collection (--ns)");
	if (o.metadata && !ns)
		return opt_misuse(&dump_tool, "--metadata FILE needs --ns");
	if (o.json_array && o.out_dir)
		return opt_misuse(&dump_tool, "--json-array writes one stream, not a mongodump directory (--out)");
	if (o.json_array)
		o.c.format = DOCSTREAM_NDJSON; /* a JSON array is JSON */
	if ((rc = check_tabular()) >= 0)
		return rc;
	return opt_check_writable(o.checkpoint);
}

int
main(int argc, char **argv)
{
	char *ns = NULL, *db = NULL;
	int rc;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.c.tabular = true;
	o.batch_size = 10000;
	o.retries = 8;
	o.collections = 4;
	rc = opt_parse(&dump_tool, &o.c, argc, argv, &ns, &db);
	if (rc < 0)
		rc = check_options(ns, db);
	if (rc < 0) {
		cli_runtime_begin();
		rc = dump_run(&o, ns, db);
		cli_runtime_end();
	}
	bson_strfreev(o.fields);
	bson_free(ns);
	bson_free(db);
	return rc;
}
