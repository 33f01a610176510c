/*
 * mongo-replay: apply a change-event stream to a target deployment,
 * idempotently, with a checkpoint that never passes unacknowledged work.
 *
 * The main thread reads events (stdin, --from FILE, or a staging collection
 * with --from-ns), maps their namespace and hands document events to
 * --workers lanes chosen by a hash of the documentKey, so the events of one
 * document stay in order.  Each lane applies what is queued as ordered bulk
 * writes.  Every event has a sequence number and a slot in a window; the
 * checkpoint is the resume token of the newest event such that it and every
 * event before it are acknowledged by the target (or deliberately skipped).
 * Control events (drop, rename, ...) and --txn atomic transactions wait for
 * the lanes to drain and are handled by the main thread.  mongo-replay.h
 * says which file does what.
 */
#include <string.h>

#include "bulkwrite.h"
#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-replay.h"
#include "opt.h"
#include "sig.h"

static struct opts o;

static bool
add_ns_map(const char *arg, void *dest, bson_error_t *err)
{
	return ns_map_add(*(struct ns_map **)dest, arg, err);
}

static const char *const ddl_choices[] = {"stop", "skip", "apply", NULL}; /* enum change_ddl_policy */
static const char *const txn_choices[] = {"each", "atomic", NULL};        /* enum txn_mode */

static const struct opt opts[] = {
	OPT_SECTION("Where"),
	OPT_STRING("from", &o.from, "FILE", "read events from FILE, not stdin"),
	OPT_STRING("from-ns", &o.from_ns, "DB.COLL", "read events from a staging collection, in token order"),
	OPT_CALL("ns-map", &o.map, "SRC=DST", add_ns_map,
		"where events go: db.coll=db2.coll or db.*=db2.*, rules separated by commas"),
	OPT_FLAG("only-mapped", &o.only_mapped, "skip the events no --ns-map rule maps"),
	OPT_SECTION("How"),
	OPT_FLAG("prefer-full-document", &o.prefer_full, "apply an update from its fullDocument when it has one"),
	OPT_CHOICE("on-ddl", &o.on_ddl, NULL, ddl_choices, "what a drop, rename or other DDL event does"),
	OPT_CHOICE("txn", &o.txn, NULL, txn_choices, "apply a source transaction event by event or as one"),
	OPT_STRING("write-concern", &o.write_concern, "W", "majority, a number or {\"w\": 1, \"j\": true}"),
	OPT_FLAG("dry-run", &o.dry_run, "connect to nothing: print the writes"),
	OPT_SECTION("Speed"),
	OPT_INT("workers", &o.workers, "N", 1, 64, "lanes writing in parallel (1)"),
	OPT_INT("batch-size", &o.batch_size, "N", 1, 100000, "most events per bulk write (1000)"),
	OPT_INT("retries", &o.retries, "N", 0, 1000, "sends of a write of unknown outcome (8)"),
	OPT_SECTION("Safety"),
	OPT_STRING("checkpoint", &o.checkpoint, "FILE", "the token of the acknowledged prefix, and where to resume"),
	OPT_STRING("reject", &o.reject, "FILE", "set refused and unreadable events aside and go on"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-replay [--uri URI | --uri-file FILE] [--from FILE | --from-ns DB.COLL] [options]",
	"Apply a change-event stream (stdin by default) to the target, idempotently.",
	"Exit: 0 done, 3 stopped at a DDL or invalidate event, 64 usage, 65 bad event\n"
	"or rejected write, 66 no input, 69 server, 73/74 output.  See mongo-replay(1).",
	OPT_COMMON_URI | OPT_COMMON_FORMAT | OPT_COMMON_GZIP | OPT_COMMON_INPUT | OPT_COMMON_STATS |
		OPT_COMMON_PROGRESS |
		OPT_COMMON_TIMEOUTS | OPT_COMMON_NSSELECT | OPT_COMMON_NSRENAME,
	opts,
	false,
};

/* What the table cannot check: options that exclude or need each other,
 * and the write concern. */
static int
check_options(void)
{
	bson_error_t err;

	if (o.from && o.from_ns)
		return opt_misuse(&tool, "--from and --from-ns are two sources: give one");
	if (o.from_ns && o.dry_run)
		return opt_misuse(&tool, "--dry-run reads events from a stream, not with --from-ns");
	if (o.only_mapped && ns_map_empty(o.map))
		return opt_misuse(&tool, "--only-mapped needs at least one --ns-map rule");
	if ((o.wc = bulk_write_concern_parse(o.write_concern, &err)) == NULL)
		return opt_misuse(&tool, "%s", err.message);
	return o.dry_run ? -1 : opt_check_writable(o.checkpoint);
}

/* Open what the replay writes to and reads from.  False with err. */
static bool
replay_open(struct replay *r, struct source *src, bson_error_t *err)
{
	struct docstream_writer_opts wo = {o.c.format, o.c.json, o.c.gzip, 0};
	mongoc_uri_t *uri = NULL;
	bool ok = false;

	r->apply = (struct change_apply){o.wc, o.prefer_full, (int)o.retries, NULL, NULL, o.map,
		{r, counts_applied, counts_retrying}};
	if ((r->stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, err)) == NULL)
		goto out;
	if (o.reject && (r->reject = r->apply.reject = reject_open(o.reject, err)) == NULL)
		goto out;
	if (o.dry_run && (r->dry = r->apply.dry = docstream_writer_open(NULL, &wo, err)) == NULL)
		goto out;
	if (!o.dry_run) {
		uri = cli_common_uri(&o.c, err);
		if (uri == NULL || (r->pool = conn_pool_new_uri(uri, TOOL, err)) == NULL)
			goto out;
		mongoc_client_pool_max_size(r->pool, (uint32_t)o.workers + 2);
	}
	if (!source_open(&o, r->pool, src, err))
		goto out;
	r->progress = progress_new("replay", -1, o.c.progress);
	ok = true;
out:
	mongoc_uri_destroy(uri);
	return ok;
}

/* A failure after the run is printed; it decides the status only if the
 * run itself went well. */
static int
late_failure(int rc, const bson_error_t *err)
{
	int late = diag_exit(err, NULL);

	return rc == MP_EX_OK ? late : rc;
}

/* After the run: a lane's failure, the last checkpoint, the dry-run output
 * and the reject file; the summary. */
static int
replay_finish(struct replay *r, int rc)
{
	bson_error_t err;

	if (r->wp.failed && rc == MP_EX_OK) /* else printed already */
		rc = diag_exit(&r->wp.err, NULL);
	if (!window_save(r, &err))
		rc = late_failure(rc, &err);
	if (r->dry && !docstream_writer_close(r->dry, &err))
		rc = late_failure(rc, &err);
	counts_summary(r);
	if (r->reject && !reject_close(r->reject, &err))
		rc = late_failure(rc, &err);
	r->reject = NULL;
	if (rc == MP_EX_OK && sig_stop_requested())
		diag_info("stopped by signal %d; the checkpoint holds what the target acknowledged", sig_received());
	return rc;
}

/* Free everything; the exit status, which a lost stats record may make a
 * failure. */
static int
replay_close(struct replay *r, struct source *src, int rc)
{
	bson_error_t err;

	source_close(src, r->pool);
	progress_destroy(r->progress);
	docstream_writer_destroy(r->dry);
	reject_close(r->reject, &err);
	rc = stats_finish(r->stats, "replay", rc);
	mongoc_client_pool_destroy(r->pool);
	window_destroy(r);
	items_free(r);
	bson_free(r->lag.n);
	bson_free(r->by_ns);
	workpool_destroy(&r->wp);
	return rc;
}

static int
replay_main(void)
{
	struct replay r;
	struct source src = {0};
	bson_error_t err;
	int rc = MP_EX_SOFTWARE;

	memset(&r, 0, sizeof r);
	cli_runtime_begin();
	lanes_init(&r);
	window_init(&r);
	bson_init(&r.ck);
	r.o = &o;
	r.ring = bson_malloc0(sizeof(struct slot) * WINDOW);
	ackwin_init(&r.aw, WINDOW);
	if (!replay_open(&r, &src, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	lanes_start(&r);
	window_saver_start(&r);
	rc = replay_run(&r, &src);
	lanes_stop(&r);
	window_saver_stop(&r);
	rc = replay_finish(&r, rc);
out:
	rc = replay_close(&r, &src, rc);
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
	o.retries = 8;
	o.c.format = DOCSTREAM_NDJSON; /* --dry-run prints for people by default */
	o.batch_size = 1000;
	o.workers = 1;
	o.map = ns_map_new();
	rc = opt_parse(&tool, &o.c, argc, argv, &ns, &db);
	if (rc < 0)
		rc = check_options();
	if (rc < 0)
		rc = replay_main();
	if (o.wc)
		mongoc_write_concern_destroy(o.wc);
	ns_map_destroy(o.map);
	bson_free(ns);
	bson_free(db);
	return rc;
}
