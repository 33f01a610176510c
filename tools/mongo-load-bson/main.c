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

#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "load.h"
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

static const struct opt options[] = {
	OPT_SECTION("Input"),
	OPT_STRING("from", &o.from, "FILE", "the document stream (default: standard input)"),
	OPT_STRING("dir", &o.dir, "DIR", "every DB/COLL.bson of a mongodump directory, with its metadata"),
	OPT_SECTION("Writes"),
	OPT_CHOICE("mode", &o.mode, NULL, modes, "how each document is written"),
	OPT_CALL("upsert-fields", &o.upsert_fields, "F1,F2", split_fields, "the key for upsert, merge, delete"),
	OPT_FLAG("skip-duplicates", &o.skip_dups, "a duplicate key means the document is there"),
	OPT_STRING("id-field", &o.id_field, "NAME", "move this field to _id"),
	OPT_FLAG("drop", &o.drop, "drop the collection first"),
	OPT_FLAG("dry-run", &o.dry_run, "read and check everything, write nothing"),
	OPT_FLAG("ordered", &o.ordered, "ordered bulk writes, one writer"),
	OPT_STRING("write-concern", &o.write_concern, "W", "majority (default), N, or {\"w\": 1, \"j\": true}"),
	OPT_SECTION("Speed"),
	OPT_INT("workers", &o.workers, "N", 1, 64, "writer threads (default 2)"),
	OPT_INT("batch-size", &o.batch_size, "N", 1, 100000, "documents per batch (default 1000)"),
	OPT_INT("retries", &o.retries, "N", 0, 1000, "writes of unknown outcome sent again (default 8)"),
	OPT_SECTION("Safety"),
	OPT_STRING("reject", &o.reject, "FILE", "set refused documents and bad records aside"),
	OPT_STRING("checkpoint", &o.checkpoint, "FILE", "the last _id acknowledged, to resume"),
	OPT_STRING("metadata", &o.metadata, "FILE", "a mongodump metadata.json"),
	OPT_FLAG("allow-missing", &o.allow_missing, "a --dir without data files is nothing to load, not an error"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-load-bson [--uri URI | --uri-file FILE] --ns DB.COLL [--from FILE] [options]\n"
	"mongo-load-bson [--uri URI] --dir DIR [--db DB] [options]",
	"Load a BSON or NDJSON document stream (stdin by default) into a collection.",
	"Exit: 0 done, 64 usage, 65 bad input or rejected document, 66 no input,\n"
	"69 server, 73/74 output, 75 interrupted (rerun to resume).  See mongo-load-bson(1).",
	OPT_COMMON_URI | OPT_COMMON_NS | OPT_COMMON_DB | OPT_COMMON_INPUT | OPT_COMMON_STATS | OPT_COMMON_PROGRESS |
		OPT_COMMON_TIMEOUTS | OPT_COMMON_NSSELECT,
	options,
	false,
};

/* What the table cannot say: options that need or exclude each other. */
static int
check_options(const char *ns)
{
	if (o.ordered)
		o.workers = 1;
	if (o.dir && (o.from || ns))
		return opt_misuse(&tool, "--dir loads a whole mongodump directory: no --from or --ns with it");
	if (!o.dir && ns == NULL)
		return opt_misuse(&tool, "say where to load: --ns DB.COLL (or --dir DIR)");
	if (o.dir && o.checkpoint)
		return opt_misuse(&tool, "--checkpoint works on one collection, not with --dir");
	if (o.upsert_fields && o.mode == MODE_INSERT)
		return opt_misuse(&tool, "--upsert-fields goes with --mode upsert, merge or delete");
	return opt_check_writable(o.checkpoint);
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
	rc = o.dir ? load_dir(&o, pool, db, stats) : load_one(&o, pool, ns, o.from, o.metadata, stats);
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
	o.retries = 8;
	o.batch_size = 1000;
	o.workers = 2;
	if ((rc = opt_parse(&tool, &o.c, argc, argv, &ns, &db)) < 0 && (rc = check_options(ns)) < 0) {
		cli_runtime_begin();
		rc = run(ns, db);
		cli_runtime_end();
	}
	bson_strfreev(o.upsert_fields);
	bson_free(ns);
	bson_free(db);
	return rc;
}
