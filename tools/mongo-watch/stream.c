/*
 * stream.c: mongo-watch's change stream: the options and pipeline of the
 * watch, opening it at its start point (or after a token, to resume), the
 * error a failed stream reports, and --start-token.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "mongo-watch.h"

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
	} else if (o->start_at.has) {
		BSON_APPEND_TIMESTAMP(opts, "startAtOperationTime", o->start_at.t, o->start_at.i);
	}
	if (o->full_doc >= 0)
		BSON_APPEND_UTF8(opts, "fullDocument", watch_full_doc_modes[o->full_doc]);
	if (o->full_doc_before >= 0)
		BSON_APPEND_UTF8(opts, "fullDocumentBeforeChange", watch_full_doc_before_modes[o->full_doc_before]);
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

mongoc_change_stream_t *
watch_open_stream(struct watch *w, const bson_t *after)
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

bool
watch_stream_error(mongoc_change_stream_t *cs, bson_error_t *err, int64_t *code)
{
	const bson_t *reply = NULL;
	bson_iter_t it;

	if (!mongoc_change_stream_error_document(cs, err, &reply))
		return false;
	*code = err->code;
	if (reply && bson_iter_init_find(&it, reply, "code") && BSON_ITER_HOLDS_NUMBER(&it))
		*code = bson_iter_as_int64(&it);
	/* a server without change streams: a standalone mongod (40573), or one
	 * that does not implement the stage (238 NotImplemented, 40324 unknown
	 * stage); polling is the way there */
	if (*code == 40573 || *code == 238 || *code == 40324) {
		char said[sizeof err->message];

		bson_strncpy(said, err->message, sizeof said);
		mp_error_set(err, MP_EX_UNAVAILABLE, "this server has no change streams (%s, code %lld): "
			"poll a field that every write sets instead, with --poll-field FIELD", said, (long long)*code);
	}
	return true;
}

int
watch_print_start_token(struct watch *w)
{
	mongoc_change_stream_t *cs = watch_open_stream(w, NULL);
	const bson_t *tok;
	bson_error_t err;
	int64_t code;
	char *s;
	int rc = MP_EX_SOFTWARE;

	if (watch_stream_error(cs, &err, &code)) {
		rc = diag_exit(&err, "opening the change stream");
		goto out;
	}
	tok = mongoc_change_stream_get_resume_token(cs);
	if (tok == NULL || bson_empty(tok)) {
		/* changes made while the stream opened came in its first batch, so
		 * the driver holds no post-batch token yet: step over one event and
		 * take the position after it.  Skipping it is safe: it happened
		 * before this command returns, so the copy that follows sees it. */
		const bson_t *ev;

		if (mongoc_change_stream_next(cs, &ev))
			tok = mongoc_change_stream_get_resume_token(cs);
		else if (watch_stream_error(cs, &err, &code)) {
			rc = diag_exit(&err, "reading the change stream");
			goto out;
		}
	}
	if (tok == NULL || bson_empty(tok)) {
		diag_error("the server gave no postBatchResumeToken, so there is no position to print "
			"(MongoDB 4.0.7 or newer gives one)");
		rc = MP_EX_UNAVAILABLE;
		goto out;
	}
	s = ejson_from_bson_new(tok, EJSON_CANONICAL, NULL);
	printf("%s\n", s);
	bson_free(s);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		diag_error("writing the token: %s", strerror(errno));
		rc = MP_EX_IOERR;
		goto out;
	}
	rc = MP_EX_OK;
out:
	mongoc_change_stream_destroy(cs);
	return rc;
}
