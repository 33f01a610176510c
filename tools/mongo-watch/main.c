/*
 * mongo-watch: write the change events of a collection, a database or a
 * whole deployment as a change-event stream, exactly as the server sent them.
 *
 * This file holds the options and main.  A reader thread (reader.c) owns
 * the change stream (stream.c) and queues its events; the main thread
 * (writer.c) writes them, flushing whenever it has caught up, and records
 * the position.  --poll-field (poll.c) serves servers without change
 * streams.  The watcher never writes to the source; --start-token prints
 * the current position (postBatchResumeToken) and exits.
 */
#include <string.h>

#include "checkpoint.h"
#include "conn.h"
#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "mongo-watch.h"
#include "opt.h"
#include "sig.h"

const char *const watch_full_doc_modes[] = {"default", "updateLookup", "whenAvailable", "required", NULL};
const char *const watch_full_doc_before_modes[] = {"off", "whenAvailable", "required", NULL};

static struct opts o;
static const char *pipeline_json, *resume_after_json, *start_after_json;

/* --start-at-operation-time: SECONDS, SECONDS:INCREMENT or {"$timestamp": ...} */
static bool
parse_timestamp(const char *s, uint32_t *t, uint32_t *i)
{
	int64_t a, b = 0;
	const char *colon = strchr(s, ':');
	char buf[32];

	if (s[0] == '{') {
		bson_t *d = ejson_to_bson_new(s, -1, NULL);
		bson_iter_t it;
		bool ok = d && bson_iter_init(&it, d) && bson_iter_next(&it) && BSON_ITER_HOLDS_TIMESTAMP(&it);

		if (ok)
			bson_iter_timestamp(&it, t, i);
		bson_destroy(d);
		return ok;
	}
	if (colon) {
		if ((size_t)(colon - s) >= sizeof buf)
			return false;
		memcpy(buf, s, (size_t)(colon - s));
		buf[colon - s] = '\0';
		if (!cli_parse_int64(buf, 0, UINT32_MAX, &a) || !cli_parse_int64(colon + 1, 0, UINT32_MAX, &b))
			return false;
	} else if (!cli_parse_int64(s, 0, UINT32_MAX, &a)) {
		return false;
	}
	*t = (uint32_t)a;
	*i = (uint32_t)b;
	return true;
}

static bool
opt_start_at(const char *arg, void *dest, bson_error_t *err)
{
	struct start_at *s = dest;

	if (!parse_timestamp(arg, &s->t, &s->i)) {
		mp_error_set(err, MP_EX_USAGE, "takes SECONDS, SECONDS:INCREMENT or an Extended JSON timestamp, "
			"not '%s'", arg);
		return false;
	}
	s->has = true;
	return true;
}

static const struct opt options[] = {
	OPT_SECTION("Start"),
	OPT_STRING("resume-file", &o.resume_file, "FILE", "start after the token saved in FILE"),
	OPT_STRING("resume-after", &resume_after_json, "TOKEN", "start after this resume token"),
	OPT_STRING("start-after", &start_after_json, "TOKEN", "start after this token, even an invalidate"),
	OPT_CALL("start-at-operation-time", &o.start_at, "SECS[:INC]", opt_start_at,
		"start at this cluster time"),
	OPT_FLAG("start-token", &o.start_token, "print the current position and exit"),
	OPT_SECTION("Events"),
	OPT_STRING("pipeline", &pipeline_json, "JSON", "aggregation stages applied to the events"),
	OPT_CHOICE("full-document", &o.full_doc, "MODE", watch_full_doc_modes, "fullDocument of update events"),
	OPT_CHOICE("full-document-before-change", &o.full_doc_before, "MODE", watch_full_doc_before_modes,
		"fullDocumentBeforeChange"),
	OPT_FLAG("split-large-events", &o.split, "split events over 16 MB ($changeStreamSplitLargeEvent)"),
	OPT_FLAG("show-expanded-events", &o.expanded, "also create, createIndexes, modify, ..."),
	OPT_INT("batch-size", &o.batch_size, "N", 1, INT32_MAX, "events per batch from the server"),
	OPT_INT("max-await-ms", &o.max_await_ms, "N", 1, INT32_MAX, "how long the server waits for an event"),
	OPT_SECTION("Run"),
	OPT_STRING("token-file", &o.token_file, "FILE", "save the position of the last event written"),
	OPT_INT("max-events", &o.max_events, "N", 1, INT32_MAX, "exit after N events"),
	OPT_INT("idle-exit", &o.idle_exit, "SECONDS", 1, INT32_MAX, "exit after SECONDS without an event"),
	OPT_INT("retries", &o.retries, "N", 0, INT32_MAX, "resume attempts after a transient error (10)"),
	OPT_SECTION("Polling"),
	OPT_STRING("poll-field", &o.poll_field, "FIELD", "poll by this increasing field (no change streams)"),
	OPT_INT("poll-interval", &o.poll_interval, "SECONDS", 1, INT32_MAX, "seconds between polls (5)"),
	OPT_SECTION("Output"),
	OPT_STRING("output", &o.output, "FILE", "write to FILE instead of standard output"),
	OPT_FLAG("key", &o.key, "NDJSON lines 'KEY<TAB>event', KEY a hash of documentKey._id"),
	OPT_END_OF_TABLE,
};

static const struct opt_tool tool = {
	"mongo-watch [--uri URI | --uri-file FILE] [--ns DB.COLL | --db DB] [options]\n"
	"mongo-watch [--uri URI] [--ns DB.COLL | --db DB] --start-token",
	"Write the change events of a collection, a database or the deployment.",
	"Exit: 0 done or stopped, 3 the stream cannot go on (history lost, invalidated),\n"
	"64 usage, 65 bad token, 66 no resume file, 69 server, 73/74 output.\n"
	"See mongo-watch(1).",
	OPT_COMMON_URI | OPT_COMMON_NS | OPT_COMMON_DB | OPT_COMMON_FORMAT | OPT_COMMON_GZIP | OPT_COMMON_STATS |
		OPT_COMMON_PROGRESS |
		OPT_COMMON_TIMEOUTS,
	options,
	false,
};

/* A JSON option's document; false with the misuse said. */
static bool
parse_doc(const char *text, const char *what, bson_t **out, int *rc)
{
	bson_error_t err;

	if (text == NULL)
		return true;
	if ((*out = cli_parse_json_doc(text, what, &err)) != NULL)
		return true;
	*rc = opt_misuse(&tool, "%s", err.message);
	return false;
}

/* The JSON options, and what cannot go together.  -1 to go on, else 64. */
static int
check_options(void)
{
	int rc = -1;

	/* a JSON array parses as {"0": ..., "1": ...}: the stages in order */
	if (!parse_doc(pipeline_json, "--pipeline", &o.pipeline, &rc) ||
	    !parse_doc(resume_after_json, "--resume-after", &o.resume_after, &rc) ||
	    !parse_doc(start_after_json, "--start-after", &o.start_after, &rc))
		return rc;
	if ((o.resume_file != NULL) + (o.resume_after != NULL) + (o.start_after != NULL) + o.start_at.has > 1)
		return opt_misuse(&tool, "give one start point: --resume-file, --resume-after, --start-after or "
			"--start-at-operation-time");
	if (o.start_token && (o.resume_file || o.token_file || o.max_events || o.poll_field))
		return opt_misuse(&tool, "--start-token prints the current position and exits: no start point, "
			"--token-file or polling with it");
	if (o.key && o.c.format != DOCSTREAM_NDJSON)
		return opt_misuse(&tool, "--key writes 'KEY<TAB>event' lines: it needs --format ndjson");
	if (o.poll_field && o.ns == NULL)
		return opt_misuse(&tool, "--poll-field polls one collection: give --ns");
#if !MONGOC_CHECK_VERSION(1, 24, 0)
	/* libmongoc before 1.24 puts an option it does not know at the top of
	 * the aggregate command, not in the $changeStream stage: a server
	 * would ignore it or refuse the command, never show the events */
	if (o.expanded)
		return opt_misuse(&tool, "--show-expanded-events needs libmongoc 1.24 or later (this build has %s): "
			"its change stream cannot ask for expanded events", MONGOC_VERSION_S);
#endif
	/* the server holds a getMore up to --max-await-ms: the socket must wait longer */
	if (o.max_await_ms > 0 && o.c.socket_timeout_ms > 0 && o.max_await_ms + 10000 > o.c.socket_timeout_ms)
		conn_set_timeouts((int32_t)BSON_MIN(o.max_await_ms + 30000, INT32_MAX), o.c.connect_timeout_ms);
	/* an orderly stop waits for that getMore: the grace period must too */
	if (o.max_await_ms > 0)
		sig_set_grace_min((double)o.max_await_ms / 1000.0 + 5.0);
	return opt_check_writable(o.token_file);
}

/* --resume-file: the start point saved by --token-file (for --poll-field,
 * a polling position). */
static bool
load_resume_file(bson_error_t *err)
{
	bson_t tok;
	bson_iter_t it;
	bool found, ok = false;

	if (!checkpoint_load(o.resume_file, &tok, &found, err))
		goto out;
	if (!found) {
		mp_error_set(err, MP_EX_NOINPUT, "%s: no such resume file; take a start position first: "
			"mongo-watch --start-token > %s", o.resume_file, o.resume_file);
		goto out;
	}
	if (o.poll_field && !bson_iter_init_find(&it, &tok, "poll")) {
		mp_error_set(err, MP_EX_DATAERR, "%s: not a polling position ({\"poll\": value})", o.resume_file);
		goto out;
	}
	o.resume_after = bson_copy(&tok);
	ok = true;
out:
	bson_destroy(&tok);
	return ok;
}

/* Close the output; its failure is the status unless an earlier one is. */
static int
close_output(struct docstream_writer *out, int rc)
{
	bson_error_t err;

	if (docstream_writer_close(out, &err) || rc != MP_EX_OK)
		return rc;
	if (!docstream_writer_broken_pipe(out))
		return diag_exit(&err, NULL);
	diag_info("stopped: the reader of the output went away");
	return MP_EX_PIPE;
}

static int
run(struct watch *w)
{
	struct docstream_writer_opts wo = {o.c.format, o.c.json, o.c.gzip, 0};
	struct docstream_writer *out = NULL;
	struct stats *stats = NULL;
	struct progress *p = NULL;
	bson_error_t err;
	mongoc_uri_t *uri = NULL;
	int rc = MP_EX_SOFTWARE;

	if (o.resume_file && !load_resume_file(&err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	uri = cli_common_uri(&o.c, &err);
	if (uri == NULL || (w->client = conn_client_new_uri(uri, TOOL, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if (o.start_token) {
		rc = watch_print_start_token(w);
		goto out;
	}
	if ((stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err)) == NULL ||
	    (out = docstream_writer_open(o.output, &wo, &err)) == NULL) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	p = progress_new(o.ns ? o.ns : o.db ? o.db : "deployment", -1, o.c.progress);
	rc = o.poll_field ? watch_poll(w, out, p) : watch_run(w, out, p, stats);
	rc = close_output(out, rc);
out:
	docstream_writer_destroy(out);
	progress_destroy(p);
	rc = stats_finish(stats, o.ns ? o.ns : o.db ? o.db : "*", rc);
	mongoc_client_destroy(w->client);
	mongoc_uri_destroy(uri);
	return rc;
}

int
main(int argc, char **argv)
{
	struct watch w = {.o = &o};
	int rc;

	diag_init(argv[0]);
	cli_common_init(&o.c);
	o.full_doc = o.full_doc_before = -1;
	o.retries = 10;
	o.poll_interval = 5;
	rc = opt_parse(&tool, &o.c, argc, argv, &o.ns, &o.db);
	if (rc < 0)
		rc = check_options();
	if (rc < 0) {
		cli_runtime_begin();
		pthread_mutex_init(&w.lock, NULL);
		pthread_cond_init(&w.cond, NULL);
		pthread_cond_init(&w.room, NULL);
		rc = run(&w);
		pthread_mutex_destroy(&w.lock);
		pthread_cond_destroy(&w.cond);
		pthread_cond_destroy(&w.room);
		cli_runtime_end();
	}
	bson_destroy(o.pipeline);
	bson_destroy(o.resume_after);
	bson_destroy(o.start_after);
	bson_free(o.ns);
	bson_free(o.db);
	return rc;
}
