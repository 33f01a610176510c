/*
 * poll.c: --poll-field, for servers without change streams.  Every
 * --poll-interval seconds, query the collection for the documents whose
 * field is past the last value written, in its order, and write each as a
 * replace event; the position saved in --token-file is {"poll": value}.
 * A poll sees a document's latest state, never a delete.
 */
#include <unistd.h>

#include "checkpoint.h"
#include "conn.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-watch.h"
#include "sig.h"

#define POLL_AGAIN (-1) /* a transient error: poll again */

struct poller {
	const struct opts *o;
	struct docstream_writer *out;
	mongoc_collection_t *c;
	char *db, *coll;
	bson_value_t last; /* the field of the last document written */
	bool has_last;
	uint64_t written;
};

/* {field: {$gt: last}} (everything on the first poll), sorted by field. */
static void
poll_query(const struct poller *pl, bson_t *filter, bson_t *fopts)
{
	bson_t gt, sort;

	bson_init(filter);
	bson_init(fopts);
	if (pl->has_last) {
		bson_append_document_begin(filter, pl->o->poll_field, -1, &gt);
		bson_append_value(&gt, "$gt", 3, &pl->last);
		bson_append_document_end(filter, &gt);
	}
	bson_append_document_begin(fopts, "sort", 4, &sort);
	BSON_APPEND_INT32(&sort, pl->o->poll_field, 1);
	bson_append_document_end(fopts, &sort);
}

/* Write doc as a replace event and remember its field. */
static bool
poll_write(struct poller *pl, const bson_t *doc, bson_error_t *err)
{
	bson_t ev = BSON_INITIALIZER, ns, key;
	bson_iter_t it;
	bool ok;

	BSON_APPEND_UTF8(&ev, "operationType", "replace");
	bson_append_document_begin(&ev, "ns", 2, &ns);
	BSON_APPEND_UTF8(&ns, "db", pl->db);
	BSON_APPEND_UTF8(&ns, "coll", pl->coll);
	bson_append_document_end(&ev, &ns);
	bson_append_document_begin(&ev, "documentKey", -1, &key);
	if (bson_iter_init_find(&it, doc, "_id"))
		bson_append_iter(&key, "_id", 3, &it);
	bson_append_document_end(&ev, &key);
	BSON_APPEND_DOCUMENT(&ev, "fullDocument", doc);
	ok = watch_write(pl->o, pl->out, &ev, NULL, err);
	bson_destroy(&ev);
	if (!ok)
		return false;
	if (bson_iter_init_find(&it, doc, pl->o->poll_field)) {
		if (pl->has_last)
			bson_value_destroy(&pl->last);
		bson_value_copy(bson_iter_value(&it), &pl->last);
		pl->has_last = true;
	}
	pl->written++;
	return true;
}

static bool
poll_max_reached(const struct poller *pl)
{
	return pl->o->max_events > 0 && pl->written >= (uint64_t)pl->o->max_events;
}

/* One poll: write what is new (*got documents).  Returns 0, POLL_AGAIN, or
 * the exit status of a failure (said). */
static int
poll_once(struct poller *pl, uint64_t *got)
{
	bson_t filter, fopts;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t err;
	int rc = MP_EX_SOFTWARE;

	poll_query(pl, &filter, &fopts);
	cur = mongoc_collection_find_with_opts(pl->c, &filter, &fopts, NULL);
	while (!poll_max_reached(pl) && mongoc_cursor_next(cur, &doc)) {
		if (!poll_write(pl, doc, &err)) {
			rc = diag_exit(&err, NULL);
			goto out;
		}
		(*got)++;
	}
	if (mongoc_cursor_error(cur, &err)) {
		if (mp_error_transient(&err)) {
			diag_warn("%s; polling again", err.message);
			rc = POLL_AGAIN;
		} else {
			rc = diag_exit(&err, "polling %s", pl->o->ns);
		}
		goto out;
	}
	rc = MP_EX_OK;
out:
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	bson_destroy(&fopts);
	return rc;
}

/* Flush what a poll wrote, then save its position when it wrote any. */
static int
poll_save(struct poller *pl, uint64_t got)
{
	bson_t tok = BSON_INITIALIZER;
	bson_error_t err;
	int rc = MP_EX_SOFTWARE;

	if (!docstream_flush(pl->out, &err)) {
		rc = diag_exit(&err, NULL);
		goto out;
	}
	if (got > 0 && pl->o->token_file && pl->has_last) {
		bson_append_value(&tok, "poll", 4, &pl->last);
		if (!checkpoint_save(pl->o->token_file, &tok, &err)) {
			rc = diag_exit(&err, NULL);
			goto out;
		}
	}
	rc = MP_EX_OK;
out:
	bson_destroy(&tok);
	return rc;
}

/* Wait --poll-interval seconds, or until a signal. */
static void
poll_sleep(const struct opts *o)
{
	for (double t = 0; t < (double)o->poll_interval && !sig_stop_requested(); t += 0.1)
		usleep(100000);
}

int
watch_poll(struct watch *w, struct docstream_writer *out, struct progress *p)
{
	const struct opts *o = w->o;
	struct poller pl = {.o = o, .out = out};
	double idle_since = mp_now();
	bson_iter_t it;
	int rc = MP_EX_OK;

	conn_split_ns(o->ns, &pl.db, &pl.coll, NULL);
	pl.c = mongoc_client_get_collection(w->client, pl.db, pl.coll);
	if (o->resume_after && bson_iter_init_find(&it, o->resume_after, "poll")) {
		bson_value_copy(bson_iter_value(&it), &pl.last);
		pl.has_last = true;
	}
	while (!sig_stop_requested()) {
		uint64_t got = 0;

		rc = poll_once(&pl, &got);
		if (rc == POLL_AGAIN) {
			rc = MP_EX_OK;
			sleep(1);
			continue;
		}
		if (rc != MP_EX_OK || (rc = poll_save(&pl, got)) != MP_EX_OK)
			break;
		progress_update(p, pl.written, docstream_writer_bytes(out));
		if (poll_max_reached(&pl))
			break;
		if (got > 0)
			idle_since = mp_now();
		else if (o->idle_exit > 0 && mp_now() - idle_since >= (double)o->idle_exit)
			break;
		poll_sleep(o);
	}
	if (pl.has_last)
		bson_value_destroy(&pl.last);
	mongoc_collection_destroy(pl.c);
	bson_free(pl.db);
	bson_free(pl.coll);
	progress_finish(p);
	return rc;
}
