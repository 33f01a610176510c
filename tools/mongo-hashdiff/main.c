/*
 * mongo-hashdiff: prove two collections (or a collection and a file, or two
 * files) equal, or list exactly what differs.  This file holds the options
 * and main; mongo-hashdiff.h maps the other files.
 *
 * Two servers are read in _id order and merge-joined (merge.c); with
 * --parallel or --partition the _id space is split into ranges summarised on
 * both sides first (ranges.c); a file side, in any order, goes through a hash
 * join partitioned into temporary files (hashjoin.c).  Differences still in
 * flight on a live source clear with --recheck (recheck.c).  Indexes,
 * collection options and views are compared with --metadata (metadata.c).
 */
#include <mongoc/mongoc.h>

#include "diag.h"
#include "exitcode.h"
#include "mongo-hashdiff.h"
#include "opt.h"
#include "sig.h"

static struct opts o;

static const char *const compare_modes[] = {"binary", "unordered", "semantic", NULL};
static const char *const hashes[] = {"sha256", "sha1", "md5", NULL};
static const char *const emits[] = {"diff", "repair", "ids", NULL};

static bool
parse_partition(const char *arg, void *dest, bson_error_t *err)
{
	struct share *s = dest;

	if (!cli_parse_share(arg, &s->k, &s->n) || s->n > MAX_RANGES) {
		mp_error_set(err, MP_EX_USAGE, "takes K/N with 1 <= K <= N <= %d, not '%s'", MAX_RANGES, arg);
		return false;
	}
	return true;
}

static const struct opt opts[] = {
	OPT_SECTION("Sides"),
	OPT_STRING("source", &o.source, "URI", "the source server"),
	OPT_STRING("source-uri-file", &o.source_uri_file, "FILE", "the source server's URI, read from FILE"),
	OPT_STRING("source-file", &o.source_file, "PATH", "a file as the source (- is standard input)"),
	OPT_STRING("target", &o.target, "URI", "the target server"),
	OPT_STRING("target-uri-file", &o.target_uri_file, "FILE", "the target server's URI, read from FILE"),
	OPT_STRING("target-file", &o.target_file, "PATH", "a file as the target"),
	OPT_STRING("target-ns", &o.target_ns, "DB.COLL", "the name on the target (with --db: its database)"),
	OPT_SECTION("Equal"),
	OPT_CHOICE("compare", &o.mode, NULL, compare_modes, "the same bytes, field order free, numbers by value"),
	OPT_STRING("ignore-fields", &o.ignore, "A.B,C", "leave these fields out of the comparison"),
	OPT_CHOICE("hash", &o.hash_algo, NULL, hashes, "the digest (default sha256)"),
	OPT_FLAG("metadata", &o.metadata, "compare indexes, collection options and views too (default with --db)"),
	OPT_FLAG("no-metadata", &o.no_metadata, "compare the documents only"),
	OPT_SECTION("Speed"),
	OPT_FLAG("count-only", &o.count_only, "compare the counts only"),
	OPT_INT("parallel", &o.parallel, "N", 1, 64, "N _id ranges at once, each summarised first"),
	OPT_CALL("partition", &o.part, "K/N", parse_partition, "share K of the same split into N only"),
	OPT_INT("batch-size", &o.batch_size, "N", 1, 1000000, "documents per getMore (default 10000)"),
	OPT_SECTION("Live"),
	OPT_INT("recheck", &o.recheck, "N", 0, 100, "re-read the differences N times before reporting"),
	OPT_INT("recheck-delay", &o.recheck_delay, "SECONDS", 0, 86400, "between rechecks (default 5)"),
	OPT_STRING("checkpoint", &o.checkpoint, "FILE", "record the last _id compared every second"),
	OPT_FLAG("resume", &o.resume, "go on after the checkpoint"),
	OPT_SECTION("Output"),
	OPT_CHOICE("emit", &o.emit, NULL, emits, "diff records, repair events or _ids"),
	OPT_STRING("output", &o.output, "FILE", "write there instead of standard output"),
	OPT_SECTION("Missing"),
	OPT_FLAG("allow-missing", &o.allow_missing, "a namespace on neither side is equal, not an error"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-hashdiff --source URI|--source-uri-file FILE|--source-file PATH\n"
	"               --target URI|--target-uri-file FILE|--target-file PATH\n"
	"               [--ns DB.COLL [--target-ns DB.COLL] | --db DB] [options]",
	"Compare two collections (or files); write one record per difference.",
	"Exit: 0 equal, 1 differences, 64 usage, 65 bad input, 66 no such input or\n"
	"namespace, 69 server, 73/74 output, 75 interrupted (no verdict).\n"
	"See mongo-hashdiff(1).",
	OPT_COMMON_NS | OPT_COMMON_DB | OPT_COMMON_FORMAT | OPT_COMMON_GZIP | OPT_COMMON_INPUT | OPT_COMMON_STATS |
		OPT_COMMON_PROGRESS |
		OPT_COMMON_TIMEOUTS | OPT_COMMON_NSSELECT,
	opts,
	false,
};

/* The checks that involve more than one option; -1 when all is well. */
static int
check_options(const char *ns, const char *db)
{
	struct dochash *h;
	bson_error_t err;

	if ((!o.source && !o.source_file) || (!o.target && !o.target_file) || (o.source && o.source_file) ||
	    (o.target && o.target_file))
		return opt_misuse(&tool, "give one source (--source, --source-uri-file or --source-file) "
					 "and one target (--target, --target-uri-file or --target-file)");
	if ((o.source || o.target) && ns == NULL && db == NULL)
		return opt_misuse(&tool, "say what to compare: --ns DB.COLL or --db DB");
	if (ns == NULL && db && (o.source_file || o.target_file))
		return opt_misuse(&tool, "--db compares servers; a file is one collection: use --ns");
	if ((o.parallel > 1 || o.part.n) && (o.source_file || o.target_file))
		return opt_misuse(&tool, "--parallel and --partition split servers' _id ranges, not files");
	if ((h = dochash_new(o.hash, o.mode, o.ignore, &err)) == NULL)
		return opt_misuse(&tool, "%s", err.message);
	dochash_destroy(h);
	if (o.resume && !o.checkpoint)
		return opt_misuse(&tool, "--resume needs --checkpoint FILE");
	if (o.metadata && o.no_metadata)
		return opt_misuse(&tool, "give --metadata or --no-metadata, not both");
	if (o.metadata && (o.source_file || o.target_file))
		return opt_misuse(&tool, "--metadata compares what servers hold; a file side has no indexes or options");
	/* on by default where whole databases of servers are compared */
	o.meta = !o.no_metadata && !o.source_file && !o.target_file && (o.metadata || (ns == NULL && db != NULL));
	return opt_check_writable(o.checkpoint);
}

static int
worse(int a, int b)
{
	return a > b ? a : b;
}

/* Open both sides, the output and the stats stream, compare, close. */
static int
run(const char *ns, const char *db)
{
	struct docstream_writer_opts wo = {o.c.format, o.c.json, o.c.gzip, 0};
	struct run r = {&o, {0}, {0}, NULL, NULL, false};
	bson_error_t err;
	int rc = MP_EX_SOFTWARE;

	cli_runtime_begin();
	if ((r.stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err)) == NULL ||
	    !side_open(&r.src, "source", o.source, o.source_file, &err) ||
	    !side_open(&r.dst, "target", o.target, o.target_file, &err) ||
	    (r.out = docstream_writer_open(o.output, &wo, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	rc = ns == NULL && db ? namespaces_compare_db(&r, db) : namespaces_compare_one(&r, ns);
	if (r.ran && !docstream_writer_close(r.out, &err))
		rc = worse(rc, diag_exit(&err, NULL));
out:
	docstream_writer_destroy(r.out);
	rc = stats_finish(r.stats, ns ? ns : db, rc);
	side_close(&r.src);
	side_close(&r.dst);
	cli_runtime_end();
	return rc;
}

int
main(int argc, char **argv)
{
	char *ns = NULL, *db = NULL;
	int rc;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.c.format = DOCSTREAM_NDJSON;
	o.recheck_delay = 5;
	o.batch_size = 10000;
	rc = opt_parse(&tool, &o.c, argc, argv, &ns, &db);
	if (rc >= 0)
		return rc;
	o.hash = hashes[o.hash_algo];
	if ((rc = opt_uri_file(&tool, "source", &o.source, o.source_uri_file, &o.source_text)) < 0 &&
	    (rc = opt_uri_file(&tool, "target", &o.target, o.target_uri_file, &o.target_text)) < 0 &&
	    (rc = check_options(ns, db)) < 0) {
		if (o.emit == EMIT_REPAIR && o.c.format == DOCSTREAM_AUTO)
			o.c.format = DOCSTREAM_NDJSON;
		rc = run(ns, db);
	}
	bson_free(o.source_text);
	bson_free(o.target_text);
	bson_free(ns);
	bson_free(db);
	return rc;
}
