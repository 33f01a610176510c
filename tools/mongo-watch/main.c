/*
 * mongo-watch: write the change events of a collection, a database or a
 * whole deployment as a change-event stream, exactly as the server sent them.
 *
 * A reader thread owns the change stream: it opens it at the start point,
 * queues every event, and on a transient error reopens it after the last
 * event it queued (every queued event will be written, so nothing is lost
 * or doubled).  The main thread writes the queue and flushes whenever it has
 * caught up, which is at each batch the server returns: a consumer sees
 * events without delay, and a busy stream is written in large writes.
 * The watcher never writes to the source; --start-token prints the current
 * position (postBatchResumeToken) and exits.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "checkpoint.h"
#include "cli.h"
#include "conn.h"
#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "progress.h"
#include "sig.h"

#define TOOL "mongo-watch"
#define QUEUE_MAX 10000
#define HISTORY_LOST 286

enum {
	OPT_PIPELINE = CLI_OPT_TOOL_BASE,
	OPT_FULL_DOCUMENT,
	OPT_FULL_DOCUMENT_BEFORE,
	OPT_RESUME_FILE,
	OPT_RESUME_AFTER,
	OPT_START_AFTER,
	OPT_START_AT,
	OPT_START_TOKEN,
	OPT_TOKEN_FILE,
	OPT_MAX_EVENTS,
	OPT_IDLE_EXIT,
	OPT_BATCH_SIZE,
	OPT_MAX_AWAIT,
	OPT_SPLIT,
	OPT_EXPANDED,
	OPT_POLL_FIELD,
	OPT_POLL_INTERVAL,
	OPT_RETRIES,
	OPT_OUTPUT,
};

static const struct option longopts[] = {
	CLI_COMMON_OPTIONS,
	{"pipeline", required_argument, NULL, OPT_PIPELINE},
	{"full-document", required_argument, NULL, OPT_FULL_DOCUMENT},
	{"full-document-before-change", required_argument, NULL, OPT_FULL_DOCUMENT_BEFORE},
	{"resume-file", required_argument, NULL, OPT_RESUME_FILE},
	{"resume-after", required_argument, NULL, OPT_RESUME_AFTER},
	{"start-after", required_argument, NULL, OPT_START_AFTER},
	{"start-at-operation-time", required_argument, NULL, OPT_START_AT},
	{"start-token", no_argument, NULL, OPT_START_TOKEN},
	{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"max-events", required_argument, NULL, OPT_MAX_EVENTS},
	{"idle-exit", required_argument, NULL, OPT_IDLE_EXIT},
	{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	{"max-await-ms", required_argument, NULL, OPT_MAX_AWAIT},
	{"split-large-events", no_argument, NULL, OPT_SPLIT},
	{"show-expanded-events", no_argument, NULL, OPT_EXPANDED},
	{"poll-field", required_argument, NULL, OPT_POLL_FIELD},
	{"poll-interval", required_argument, NULL, OPT_POLL_INTERVAL},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-watch [--uri URI | --uri-file FILE] [--ns DB.COLL | --db DB] [options]\n"
		"       mongo-watch [--uri URI] [--ns DB.COLL | --db DB] --start-token\n"
		"\n"
		"Write the change events of a collection, a database or the deployment.\n"
		"\n"
		"Start:    --resume-file FILE  --resume-after TOKEN  --start-after TOKEN\n"
		"          --start-at-operation-time SECS[:INC]  --start-token\n"
		"Events:   --pipeline JSON  --full-document MODE  --full-document-before-change MODE\n"
		"          --split-large-events  --show-expanded-events  --batch-size N  --max-await-ms N\n"
		"Run:      --token-file FILE  --max-events N  --idle-exit SECONDS  --retries N\n"
		"Polling:  --poll-field FIELD  --poll-interval SECONDS   (servers without change streams)\n"
		"Output:   --output FILE  --format bson|ndjson  --json canonical|relaxed  --gzip\n"
		"Common:   --uri URI  --uri-file FILE  --collection C  --stats FILE  --stats-fd N\n"
		"          --progress  -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 done or stopped, 3 the stream cannot go on (history lost, invalidated),\n"
		"64 usage, 65 bad token, 66 no resume file, 69 server, 73/74 output.  See mongo-watch(1).\n");
}

struct opts {
	struct cli_common c;
	const char *resume_file, *token_file, *full_doc, *full_doc_before, *poll_field, *output;
	bson_t *pipeline, *resume_after, *start_after;
	bool has_start_at, start_token, split, expanded;
	uint32_t start_at_t, start_at_i;
	int64_t max_events, batch_size, max_await_ms, retries;
	double idle_exit, poll_interval;
	char *ns, *db;
};

struct qitem {
	bson_t *event;
	struct qitem *next;
};

struct watch {
	const struct opts *o;
	mongoc_client_t *client;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* queue changed, or the reader ended */
	pthread_cond_t room;
	struct qitem *head, *tail;
	int queued;
	bool reader_done, stop, retrying;
	int reader_rc;
	bson_error_t reader_err;
	uint64_t resumes;
};

/* ---- start points ---- */

static bool
parse_token(const char *text, const char *what, bson_t **out, bson_error_t *err)
{
	*out = cli_parse_json_doc(text, what, err);
	return *out != NULL;
}

static bool
parse_timestamp(const char *s, uint32_t *t, uint32_t *i)
{
	int64_t a, b = 0;
	const char *colon = strchr(s, ':');
	char buf[32];

	if (s[0] == '{') {
		bson_t *d = bson_new_from_json((const uint8_t *)s, -1, NULL);
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

/* The options of the watch: `after` (a token) wins over the start options. */
static void
watch_opts(const struct opts *o, const bson_t *after, bson_t *opts)
{
	bson_init(opts);
	if (after) {
		BSON_APPEND_DOCUMENT(opts, "resumeAfter", after);
	} else if (o->resume_after) {
		BSON_APPEND_DOCUMENT(opts, "resumeAfter", o->resume_after);
	} else if (o->start_after) {
		BSON_APPEND_DOCUMENT(opts, "startAfter", o->start_after);
	} else if (o->has_start_at) {
		BSON_APPEND_TIMESTAMP(opts, "startAtOperationTime", o->start_at_t, o->start_at_i);
	}
	if (o->full_doc)
		BSON_APPEND_UTF8(opts, "fullDocument", o->full_doc);
	if (o->full_doc_before)
		BSON_APPEND_UTF8(opts, "fullDocumentBeforeChange", o->full_doc_before);
	if (o->batch_size > 0)
		BSON_APPEND_INT32(opts, "batchSize", (int32_t)o->batch_size);
	if (o->max_await_ms > 0)
		BSON_APPEND_INT64(opts, "maxAwaitTimeMS", o->max_await_ms);
	if (o->expanded)
		BSON_APPEND_BOOL(opts, "showExpandedEvents", true);
}

/* The pipeline: --pipeline's stages, then $changeStreamSplitLargeEvent. */
static void
watch_pipeline(const struct opts *o, bson_t *pipe)
{
	bson_t stages, st, empty;
	bson_iter_t it;
	int n = 0;
	char key[16];

	bson_init(pipe);
	bson_append_array_begin(pipe, "pipeline", 8, &stages);
	if (o->pipeline && bson_iter_init(&it, o->pipeline)) {
		while (bson_iter_next(&it)) {
			bson_snprintf(key, sizeof key, "%d", n++);
			bson_append_iter(&stages, key, -1, &it);
		}
	}
	if (o->split) {
		bson_snprintf(key, sizeof key, "%d", n++);
		bson_append_document_begin(&stages, key, -1, &st);
		bson_append_document_begin(&st, "$changeStreamSplitLargeEvent", -1, &empty);
		bson_append_document_end(&st, &empty);
		bson_append_document_end(&stages, &st);
	}
	bson_append_array_end(pipe, &stages);
}

static mongoc_change_stream_t *
open_stream(struct watch *w, const bson_t *after)
{
	const struct opts *o = w->o;
	bson_t opts, pipe;
	mongoc_change_stream_t *cs;

	watch_opts(o, after, &opts);
	watch_pipeline(o, &pipe);
	if (o->ns) {
		char *db = NULL, *coll = NULL;
		mongoc_collection_t *c;

		conn_split_ns(o->ns, &db, &coll, NULL);
		c = mongoc_client_get_collection(w->client, db, coll);
		cs = mongoc_collection_watch(c, &pipe, &opts);
		mongoc_collection_destroy(c);
		bson_free(db);
		bson_free(coll);
	} else if (o->db) {
		mongoc_database_t *d = mongoc_client_get_database(w->client, o->db);

		cs = mongoc_database_watch(d, &pipe, &opts);
		mongoc_database_destroy(d);
	} else {
		cs = mongoc_client_watch(w->client, &pipe, &opts);
	}
	bson_destroy(&opts);
	bson_destroy(&pipe);
	return cs;
}

/* ---- the reader thread ---- */

static bool
stream_error(mongoc_change_stream_t *cs, bson_error_t *err, int64_t *code)
{
	const bson_t *reply = NULL;
	bson_iter_t it;

	if (!mongoc_change_stream_error_document(cs, err, &reply))
		return false;
	*code = err->code;
	if (reply && bson_iter_init_find(&it, reply, "code") && BSON_ITER_HOLDS_NUMBER(&it))
		*code = bson_iter_as_int64(&it);
	return true;
}

static void
reader_end(struct watch *w, int rc, const bson_error_t *err)
{
	pthread_mutex_lock(&w->lock);
	w->reader_done = true;
	w->reader_rc = rc;
	if (err)
		w->reader_err = *err;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void *
reader_main(void *arg)
{
	struct watch *w = arg;
	mongoc_change_stream_t *cs = open_stream(w, NULL);
	bson_t *last = NULL; /* token of the last event queued */
	int attempt = 0;
	bson_error_t err;

	for (;;) {
		const bson_t *ev;
		int64_t code = 0;
		bool stop;

		pthread_mutex_lock(&w->lock);
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		if (mongoc_change_stream_next(cs, &ev)) {
			struct qitem *q = bson_malloc0(sizeof *q);
			bson_iter_t it;
			bool invalidate = bson_iter_init_find(&it, ev, "operationType") && BSON_ITER_HOLDS_UTF8(&it) &&
					  strcmp(bson_iter_utf8(&it, NULL), "invalidate") == 0;

			attempt = 0;
			q->event = bson_copy(ev);
			if (bson_iter_init_find(&it, ev, "_id") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
				const uint8_t *data;
				uint32_t len;

				bson_iter_document(&it, &len, &data);
				bson_destroy(last);
				last = bson_new_from_data(data, len);
			}
			pthread_mutex_lock(&w->lock);
			w->retrying = false;
			while (w->queued >= QUEUE_MAX && !w->stop)
				pthread_cond_wait(&w->room, &w->lock);
			if (w->tail)
				w->tail->next = q;
			else
				w->head = q;
			w->tail = q;
			w->queued++;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->lock);
			if (invalidate) {
				mp_error_set(&err, MP_EX_STREAM_END, "the change stream was invalidated (the collection or "
					"database was dropped or renamed): start a new one with --start-after the "
					"invalidate event's token, or take a new start token and copy again");
				reader_end(w, MP_EX_STREAM_END, &err);
				goto out;
			}
			continue;
		}
		if (!stream_error(cs, &err, &code)) {
			/* an empty batch: the consumer may flush */
			pthread_mutex_lock(&w->lock);
			w->retrying = false;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->lock);
			continue;
		}
		if (code == HISTORY_LOST) {
			mp_error_set(&err, MP_EX_STREAM_END, "the resume point is no longer in the oplog (change stream "
				"history lost, code 286): take a new start token with --start-token and copy again "
				"from it");
			reader_end(w, MP_EX_STREAM_END, &err);
			goto out;
		}
		if (!mp_error_transient(&err) || attempt >= w->o->retries) {
			reader_end(w, mp_error_exitcode(&err) == MP_EX_SOFTWARE ? MP_EX_UNAVAILABLE :
										mp_error_exitcode(&err), &err);
			goto out;
		}
		{
			useconds_t us = (useconds_t)(100000u << (attempt < 6 ? attempt : 6));

			pthread_mutex_lock(&w->lock);
			w->retrying = true;
			pthread_mutex_unlock(&w->lock);
			diag_warn("%s; resuming %s (attempt %d of %lld)", err.message,
				last ? "after the last event written" : "from the start point", attempt + 1,
				(long long)w->o->retries);
			usleep(us > 5000000 ? 5000000 : us);
		}
		attempt++;
		mongoc_change_stream_destroy(cs);
		cs = open_stream(w, last);
		pthread_mutex_lock(&w->lock);
		w->resumes++;
		pthread_mutex_unlock(&w->lock);
	}
	reader_end(w, MP_EX_OK, NULL);
out:
	mongoc_change_stream_destroy(cs);
	bson_destroy(last);
	return NULL;
}

/* ---- --start-token ---- */

static int
print_start_token(struct watch *w)
{
	mongoc_change_stream_t *cs = open_stream(w, NULL);
	const bson_t *tok;
	bson_error_t err;
	int64_t code;
	char *s;
	int rc;

	if (stream_error(cs, &err, &code)) {
		diag_fail(&err, "opening the change stream");
		rc = mp_error_exitcode(&err);
		goto out;
	}
	tok = mongoc_change_stream_get_resume_token(cs);
	if (tok == NULL || bson_empty(tok)) {
		diag_error("the server gave no postBatchResumeToken, so there is no position to print "
			"(MongoDB 4.0.7 or newer gives one)");
		rc = MP_EX_UNAVAILABLE;
		goto out;
	}
	s = bson_as_canonical_extended_json(tok, NULL);
	printf("%s\n", s);
	bson_free(s);
	rc = fflush(stdout) == 0 && !ferror(stdout) ? MP_EX_OK : MP_EX_IOERR;
	if (rc != MP_EX_OK)
		diag_error("writing the token: %s", strerror(errno));
out:
	mongoc_change_stream_destroy(cs);
	return rc;
}

/* ---- polling (servers without change streams) ---- */

static int
poll_loop(struct watch *w, struct docstream_writer *out, struct progress *p, uint64_t *written,
	bson_value_t *last, bool *has_last)
{
	const struct opts *o = w->o;
	char *db = NULL, *coll = NULL;
	mongoc_collection_t *c;
	double idle_since = mp_now();
	bson_error_t err;
	int rc = MP_EX_OK;

	conn_split_ns(o->ns, &db, &coll, NULL);
	c = mongoc_client_get_collection(w->client, db, coll);
	while (!sig_stop_requested()) {
		bson_t filter = BSON_INITIALIZER, gt, fopts = BSON_INITIALIZER, sort;
		mongoc_cursor_t *cur;
		const bson_t *doc;
		uint64_t got = 0;

		if (*has_last) {
			bson_append_document_begin(&filter, o->poll_field, -1, &gt);
			bson_append_value(&gt, "$gt", 3, last);
			bson_append_document_end(&filter, &gt);
		}
		bson_append_document_begin(&fopts, "sort", 4, &sort);
		BSON_APPEND_INT32(&sort, o->poll_field, 1);
		bson_append_document_end(&fopts, &sort);
		cur = mongoc_collection_find_with_opts(c, &filter, &fopts, NULL);
		while (mongoc_cursor_next(cur, &doc)) {
			bson_t ev = BSON_INITIALIZER, ns, key;
			bson_iter_t it;

			BSON_APPEND_UTF8(&ev, "operationType", "replace");
			bson_append_document_begin(&ev, "ns", 2, &ns);
			BSON_APPEND_UTF8(&ns, "db", db);
			BSON_APPEND_UTF8(&ns, "coll", coll);
			bson_append_document_end(&ev, &ns);
			bson_append_document_begin(&ev, "documentKey", -1, &key);
			if (bson_iter_init_find(&it, doc, "_id"))
				bson_append_iter(&key, "_id", 3, &it);
			bson_append_document_end(&ev, &key);
			BSON_APPEND_DOCUMENT(&ev, "fullDocument", doc);
			if (!docstream_write(out, &ev, &err)) {
				bson_destroy(&ev);
				mongoc_cursor_destroy(cur);
				rc = mp_error_exitcode(&err);
				diag_fail(&err, NULL);
				goto out;
			}
			bson_destroy(&ev);
			if (bson_iter_init_find(&it, doc, o->poll_field)) {
				if (*has_last)
					bson_value_destroy(last);
				bson_value_copy(bson_iter_value(&it), last);
				*has_last = true;
			}
			got++;
			(*written)++;
			if (o->max_events > 0 && *written >= (uint64_t)o->max_events)
				break;
		}
		if (mongoc_cursor_error(cur, &err)) {
			mongoc_cursor_destroy(cur);
			bson_destroy(&filter);
			bson_destroy(&fopts);
			if (mp_error_transient(&err)) {
				diag_warn("%s; polling again", err.message);
				sleep(1);
				continue;
			}
			diag_fail(&err, "polling %s", o->ns);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		mongoc_cursor_destroy(cur);
		bson_destroy(&filter);
		bson_destroy(&fopts);
		if (!docstream_flush(out, &err)) {
			diag_fail(&err, NULL);
			rc = mp_error_exitcode(&err);
			goto out;
		}
		if (got > 0 && o->token_file && *has_last) {
			bson_t tok = BSON_INITIALIZER;

			bson_append_value(&tok, "poll", 4, last);
			if (!checkpoint_save(o->token_file, &tok, &err)) {
				bson_destroy(&tok);
				diag_fail(&err, NULL);
				rc = mp_error_exitcode(&err);
				goto out;
			}
			bson_destroy(&tok);
		}
		progress_update(p, *written, docstream_writer_bytes(out));
		if (o->max_events > 0 && *written >= (uint64_t)o->max_events)
			break;
		if (got > 0)
			idle_since = mp_now();
		else if (o->idle_exit > 0 && mp_now() - idle_since >= o->idle_exit)
			break;
		for (double t = 0; t < o->poll_interval && !sig_stop_requested(); t += 0.1)
			usleep(100000);
	}
out:
	mongoc_collection_destroy(c);
	bson_free(db);
	bson_free(coll);
	return rc;
}

/* ---- main ---- */

static const char *
optname(int ch)
{
	for (const struct option *lo = longopts; lo->name; lo++)
		if (lo->val == ch)
			return lo->name;
	return "?";
}

static bool
save_token(const struct opts *o, const bson_t *tok, bson_error_t *err)
{
	return o->token_file == NULL || tok == NULL || checkpoint_save(o->token_file, tok, err);
}

static int
watch_run(struct watch *w, struct docstream_writer *out, struct progress *p, struct stats *st)
{
	const struct opts *o = w->o;
	pthread_t reader;
	bson_t *last = NULL, *saved = NULL;
	uint64_t written = 0, counts[8] = {0};
	double idle_since = mp_now(), last_save = 0;
	uint32_t last_secs = 0;
	bson_error_t err;
	int rc = MP_EX_OK;
	bool done = false;
	sigset_t block, old;
	static const char *ops[] = {"insert", "update", "replace", "delete", "drop", "rename", "dropDatabase",
				    "other"};

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (pthread_create(&reader, NULL, reader_main, w) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		diag_error("cannot start the reader thread");
		return MP_EX_SOFTWARE;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	while (!done) {
		struct qitem *batch;
		struct timespec ts;
		bool reader_done;

		pthread_mutex_lock(&w->lock);
		if (w->head == NULL && !w->reader_done && !sig_stop_requested()) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		batch = w->head;
		w->head = w->tail = NULL;
		w->queued = 0;
		reader_done = w->reader_done;
		pthread_cond_broadcast(&w->room);
		pthread_mutex_unlock(&w->lock);

		for (struct qitem *q = batch, *next; q; q = next) {
			bson_iter_t it;

			next = q->next;
			if (!done) {
				if (!docstream_write(out, q->event, &err)) {
					if (docstream_writer_broken_pipe(out))
						diag_error("stopped: the reader of the output went away after %llu events",
							(unsigned long long)written);
					else
						diag_fail(&err, NULL);
					rc = mp_error_exitcode(&err);
					done = true;
				} else {
					written++;
					if (bson_iter_init_find(&it, q->event, "_id") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
						const uint8_t *data;
						uint32_t len;

						bson_iter_document(&it, &len, &data);
						bson_destroy(last);
						last = bson_new_from_data(data, len);
					}
					if (bson_iter_init_find(&it, q->event, "clusterTime") &&
					    BSON_ITER_HOLDS_TIMESTAMP(&it)) {
						uint32_t inc;

						bson_iter_timestamp(&it, &last_secs, &inc);
					}
					if (bson_iter_init_find(&it, q->event, "operationType") && BSON_ITER_HOLDS_UTF8(&it)) {
						const char *t = bson_iter_utf8(&it, NULL);
						int k = 0;

						while (k < 7 && strcmp(ops[k], t) != 0)
							k++;
						counts[k]++;
					}
					if (o->max_events > 0 && written >= (uint64_t)o->max_events)
						done = true;
				}
			}
			bson_destroy(q->event);
			bson_free(q);
		}
		if (batch)
			idle_since = mp_now();
		if (rc != MP_EX_OK)
			break;
		/* caught up: flush what was written, then record its position */
		if (batch && !docstream_flush(out, &err)) {
			diag_fail(&err, NULL);
			rc = mp_error_exitcode(&err);
			break;
		}
		if (last && last != saved && (mp_now() - last_save >= 0.2 || done || reader_done)) {
			if (!save_token(o, last, &err)) {
				diag_fail(&err, NULL);
				rc = mp_error_exitcode(&err);
				break;
			}
			saved = last;
			last_save = mp_now();
		}
		{
			char note[48] = "";

			if (last_secs)
				snprintf(note, sizeof note, "lag %.0fs", (double)time(NULL) - (double)last_secs);
			progress_set_note(p, note);
			progress_update(p, written, docstream_writer_bytes(out));
		}
		if (stats_due(st)) {
			bson_t x = BSON_INITIALIZER;

			for (int k = 0; k < 8; k++)
				BSON_APPEND_INT64(&x, ops[k], (int64_t)counts[k]);
			if (!stats_emit(st, "progress", o->ns ? o->ns : o->db ? o->db : "*", written,
				    docstream_writer_bytes(out), 0, &x, &err))
				diag_warn("%s", err.message);
			bson_destroy(&x);
		}
		if (reader_done) {
			pthread_mutex_lock(&w->lock);
			if (w->head == NULL) {
				rc = w->reader_rc;
				err = w->reader_err;
				done = true;
			}
			pthread_mutex_unlock(&w->lock);
			if (done && rc != MP_EX_OK)
				diag_error("%s", err.message);
		}
		if (sig_stop_requested())
			done = true;
		pthread_mutex_lock(&w->lock);
		if (w->retrying)
			idle_since = mp_now(); /* an outage is not idleness */
		pthread_mutex_unlock(&w->lock);
		if (o->idle_exit > 0 && mp_now() - idle_since >= o->idle_exit) {
			diag_info("no event for %.0f s: exiting (--idle-exit)", o->idle_exit);
			done = true;
		}
	}
	if (last && last != saved && rc != MP_EX_IOERR && !save_token(o, last, &err)) {
		diag_fail(&err, NULL);
		if (rc == MP_EX_OK)
			rc = mp_error_exitcode(&err);
	}
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->room);
	pthread_mutex_unlock(&w->lock);
	pthread_join(reader, NULL);
	while (w->head) {
		struct qitem *q = w->head;

		w->head = q->next;
		bson_destroy(q->event);
		bson_free(q);
	}
	{
		bson_t x = BSON_INITIALIZER;

		for (int k = 0; k < 8; k++)
			BSON_APPEND_INT64(&x, ops[k], (int64_t)counts[k]);
		BSON_APPEND_INT64(&x, "resumes", (int64_t)w->resumes);
		if (last_secs)
			BSON_APPEND_TIMESTAMP(&x, "last_cluster_time", last_secs, 0);
		if (!stats_emit(st, "summary", o->ns ? o->ns : o->db ? o->db : "*", written, docstream_writer_bytes(out),
			    0, &x, &err))
			diag_warn("%s", err.message);
		bson_destroy(&x);
	}
	progress_finish(p);
	bson_destroy(last);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct watch w;
	struct stats *stats = NULL;
	struct progress *p = NULL;
	struct docstream_writer *out = NULL;
	bson_error_t err;
	char *uri = NULL;
	int ch, rc = MP_EX_SOFTWARE;
	int64_t v;
	bool lock_init = false;

	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	memset(&w, 0, sizeof w);
	cli_common_init(&o.c);
	o.retries = 10;
	o.poll_interval = 5;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (cli_common_option(&o.c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			rc = cli_misuse(usage, "%s", err.message);
			goto done;
		}
		switch (ch) {
		case OPT_PIPELINE:
			/* a JSON array parses as {"0": ..., "1": ...}: the stages in order */
			if ((o.pipeline = cli_parse_json_doc(optarg, "--pipeline", &err)) == NULL) {
				rc = cli_misuse(usage, "%s", err.message);
				goto done;
			}
			break;
		case OPT_FULL_DOCUMENT:
			if (strcmp(optarg, "default") && strcmp(optarg, "updateLookup") && strcmp(optarg, "whenAvailable") &&
			    strcmp(optarg, "required")) {
				rc = cli_misuse(usage, "--full-document takes default, updateLookup, whenAvailable or "
					"required, not '%s'", optarg);
				goto done;
			}
			o.full_doc = optarg;
			break;
		case OPT_FULL_DOCUMENT_BEFORE:
			if (strcmp(optarg, "off") && strcmp(optarg, "whenAvailable") && strcmp(optarg, "required")) {
				rc = cli_misuse(usage, "--full-document-before-change takes off, whenAvailable or "
					"required, not '%s'", optarg);
				goto done;
			}
			o.full_doc_before = optarg;
			break;
		case OPT_RESUME_FILE: o.resume_file = optarg; break;
		case OPT_RESUME_AFTER:
			if (!parse_token(optarg, "--resume-after", &o.resume_after, &err)) {
				rc = cli_misuse(usage, "%s", err.message);
				goto done;
			}
			break;
		case OPT_START_AFTER:
			if (!parse_token(optarg, "--start-after", &o.start_after, &err)) {
				rc = cli_misuse(usage, "%s", err.message);
				goto done;
			}
			break;
		case OPT_START_AT:
			if (!parse_timestamp(optarg, &o.start_at_t, &o.start_at_i)) {
				rc = cli_misuse(usage, "--start-at-operation-time takes SECONDS, SECONDS:INCREMENT or an "
					"Extended JSON timestamp, not '%s'", optarg);
				goto done;
			}
			o.has_start_at = true;
			break;
		case OPT_START_TOKEN: o.start_token = true; break;
		case OPT_TOKEN_FILE: o.token_file = optarg; break;
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_SPLIT: o.split = true; break;
		case OPT_EXPANDED: o.expanded = true; break;
		case OPT_POLL_FIELD: o.poll_field = optarg; break;
		case OPT_MAX_EVENTS:
		case OPT_BATCH_SIZE:
		case OPT_MAX_AWAIT:
		case OPT_RETRIES:
		case OPT_IDLE_EXIT:
		case OPT_POLL_INTERVAL:
			if (!cli_parse_int64(optarg, ch == OPT_RETRIES ? 0 : 1, INT32_MAX, &v)) {
				rc = cli_misuse(usage, "--%s takes a whole number, not '%s'", optname(ch), optarg);
				goto done;
			}
			if (ch == OPT_MAX_EVENTS) o.max_events = v;
			else if (ch == OPT_BATCH_SIZE) o.batch_size = v;
			else if (ch == OPT_MAX_AWAIT) o.max_await_ms = v;
			else if (ch == OPT_RETRIES) o.retries = v;
			else if (ch == OPT_IDLE_EXIT) o.idle_exit = (double)v;
			else o.poll_interval = (double)v;
			break;
		default:
			rc = cli_misuse(usage, "unknown option");
			goto done;
		}
	}
	if ((rc = cli_common_finish(&o.c, usage, argc, argv, &o.ns, &o.db)) >= 0)
		goto done;
	if ((o.resume_file != NULL) + (o.resume_after != NULL) + (o.start_after != NULL) + o.has_start_at > 1) {
		rc = cli_misuse(usage, "give one start point: --resume-file, --resume-after, --start-after or "
			"--start-at-operation-time");
		goto done;
	}
	if (o.start_token && (o.resume_file || o.token_file || o.max_events || o.poll_field)) {
		rc = cli_misuse(usage, "--start-token prints the current position and exits: no start point, "
			"--token-file or polling with it");
		goto done;
	}
	if (o.poll_field && o.ns == NULL) {
		rc = cli_misuse(usage, "--poll-field polls one collection: give --ns");
		goto done;
	}
	mongoc_init();
	diag_capture_driver_log();
	sig_install();
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	pthread_cond_init(&w.room, NULL);
	lock_init = true;
	w.o = &o;
	if (o.resume_file) {
		bson_t tok;
		bool found;

		if (!checkpoint_load(o.resume_file, &tok, &found, &err)) {
			bson_destroy(&tok);
			goto fail;
		}
		if (!found) {
			bson_destroy(&tok);
			mp_error_set(&err, MP_EX_NOINPUT, "%s: no such resume file; take a start position first: "
				"mongo-watch --start-token > %s", o.resume_file, o.resume_file);
			goto fail;
		}
		if (o.poll_field) {
			bson_iter_t it;

			if (!bson_iter_init_find(&it, &tok, "poll")) {
				bson_destroy(&tok);
				mp_error_set(&err, MP_EX_DATAERR, "%s: not a polling position ({\"poll\": value})",
					o.resume_file);
				goto fail;
			}
			o.resume_after = bson_copy(&tok);
		} else {
			o.resume_after = bson_copy(&tok);
		}
		bson_destroy(&tok);
	}
	uri = conn_resolve_uri(o.c.uri, o.c.uri_file, NULL, &err);
	if (uri == NULL || (w.client = conn_client_new(uri, TOOL, &err)) == NULL)
		goto fail;
	if (o.start_token) {
		rc = print_start_token(&w);
		goto cleanup;
	}
	stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err);
	if (stats == NULL)
		goto fail;
	{
		struct docstream_writer_opts wo = {o.c.format, o.c.json, o.c.gzip, 0};

		if ((out = docstream_writer_open(o.output, &wo, &err)) == NULL)
			goto fail;
	}
	p = progress_new(o.ns ? o.ns : o.db ? o.db : "deployment", -1, o.c.progress);
	if (o.poll_field) {
		uint64_t written = 0;
		bson_value_t last = {0};
		bool has_last = false;
		bson_iter_t it;

		if (o.resume_after && bson_iter_init_find(&it, o.resume_after, "poll")) {
			bson_value_copy(bson_iter_value(&it), &last);
			has_last = true;
		}
		rc = poll_loop(&w, out, p, &written, &last, &has_last);
		if (has_last)
			bson_value_destroy(&last);
		progress_finish(p);
	} else {
		rc = watch_run(&w, out, p, stats);
	}
	if (!docstream_writer_close(out, &err) && rc == MP_EX_OK) {
		if (docstream_writer_broken_pipe(out))
			diag_error("stopped: the reader of the output went away");
		else
			diag_fail(&err, NULL);
		rc = mp_error_exitcode(&err);
	}
	goto cleanup;
fail:
	diag_fail(&err, NULL);
	rc = mp_error_exitcode(&err);
cleanup:
	docstream_writer_destroy(out);
	progress_destroy(p);
	stats_finish(stats, o.ns ? o.ns : o.db ? o.db : "*", rc);
	mongoc_client_destroy(w.client);
	bson_free(uri);
	mongoc_cleanup();
done:
	if (lock_init) {
		pthread_mutex_destroy(&w.lock);
		pthread_cond_destroy(&w.cond);
		pthread_cond_destroy(&w.room);
	}
	bson_destroy(o.pipeline);
	bson_destroy(o.resume_after);
	bson_destroy(o.start_after);
	bson_free(o.ns);
	bson_free(o.db);
	return rc;
}
