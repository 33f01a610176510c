/*
 * reader.c: mongo-watch's reader thread.  It owns the change stream: it
 * queues every event for the writer (waiting while the queue is full), and
 * on a transient error reopens the stream after the last event it queued:
 * every queued event will be written, so nothing is lost or doubled.
 */
#include <string.h>

#include "diag.h"
#include "exitcode.h"
#include "mongo-watch.h"

struct reader {
	struct watch *w;
	mongoc_change_stream_t *cs;
	bson_t *last; /* token of the last event queued */
	int attempt;  /* failed attempts since the last event */
};

static bool
reader_stopping(struct watch *w)
{
	bool stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void
reader_set_retrying(struct watch *w, bool retrying)
{
	pthread_mutex_lock(&w->lock);
	w->retrying = retrying;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
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

/* Append q to the queue once there is room (or the writer stops). */
static void
queue_push(struct watch *w, struct qitem *q)
{
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
}

/* Queue one event and remember its token; an invalidate event, queued too,
 * ends the stream (3). */
static int
reader_queue(struct reader *r, const bson_t *ev, bson_error_t *err)
{
	struct qitem *q = bson_malloc0(sizeof *q);
	bson_iter_t it;
	bool invalidate = bson_iter_init_find(&it, ev, "operationType") && BSON_ITER_HOLDS_UTF8(&it) &&
			  strcmp(bson_iter_utf8(&it, NULL), "invalidate") == 0;

	r->attempt = 0;
	q->event = bson_copy(ev);
	if (bson_iter_init_find(&it, ev, "_id") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&it, &len, &data);
		bson_destroy(r->last);
		r->last = bson_new_from_data(data, len);
	}
	queue_push(r->w, q);
	if (!invalidate)
		return MP_EX_OK;
	mp_error_set(err, MP_EX_STREAM_END, "the change stream was invalidated (the collection or "
		"database was dropped or renamed): start a new one with --start-after the "
		"invalidate event's token, or take a new start token and copy again");
	return MP_EX_STREAM_END;
}

/* Reopen the stream after the last event queued, after a backoff. */
static void
reader_resume(struct reader *r, const bson_error_t *err)
{
	struct watch *w = r->w;

	reader_set_retrying(w, true);
	diag_warn("%s; resuming %s (attempt %d of %lld)", err->message,
		r->last ? "after the last event written" : "from the start point", r->attempt + 1,
		(long long)w->o->retries);
	mp_backoff(r->attempt);
	r->attempt++;
	mongoc_change_stream_destroy(r->cs);
	r->cs = watch_open_stream(w, r->last);
	pthread_mutex_lock(&w->lock);
	w->resumes++;
	pthread_mutex_unlock(&w->lock);
}

/* The stream gave no event: an empty batch (0), a failure it resumes from
 * (0), or the status that ends the reader, with err. */
static int
reader_no_event(struct reader *r, bson_error_t *err)
{
	int64_t code = 0;
	int rc;

	if (!watch_stream_error(r->cs, err, &code)) {
		/* an empty batch: the consumer may flush */
		reader_set_retrying(r->w, false);
		return MP_EX_OK;
	}
	if (code == HISTORY_LOST) {
		mp_error_set(err, MP_EX_STREAM_END, "the resume point is no longer in the oplog (change stream "
			"history lost, code 286): take a new start token with --start-token and copy again "
			"from it");
		return MP_EX_STREAM_END;
	}
	if (!mp_error_transient(err) || r->attempt >= r->w->o->retries) {
		rc = mp_error_exitcode(err);
		return rc == MP_EX_SOFTWARE ? MP_EX_UNAVAILABLE : rc;
	}
	reader_resume(r, err);
	return MP_EX_OK;
}

void *
watch_reader_main(void *arg)
{
	struct reader r = {arg, NULL, NULL, 0};
	const bson_t *ev;
	bson_error_t err;
	int rc = MP_EX_OK;

	r.cs = watch_open_stream(r.w, NULL);
	while (rc == MP_EX_OK && !reader_stopping(r.w)) {
		if (mongoc_change_stream_next(r.cs, &ev))
			rc = reader_queue(&r, ev, &err);
		else
			rc = reader_no_event(&r, &err);
	}
	reader_end(r.w, rc, rc == MP_EX_OK ? NULL : &err);
	mongoc_change_stream_destroy(r.cs);
	bson_destroy(r.last);
	return NULL;
}
