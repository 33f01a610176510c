/*
 * writer.c: mongo-watch's main loop.  It writes what the reader queued and
 * flushes whenever it has caught up, which is at each batch the server
 * returns: a consumer sees events without delay, and a busy stream is
 * written in large writes.  Then it records the position (--token-file),
 * draws progress, writes --stats, and decides whether to stop.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "changeevent.h"
#include "checkpoint.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-watch.h"
#include "sig.h"

#define WAIT_NS 200000000 /* the longest wait for an event before looking around */
#define SAVE_EVERY 0.2    /* seconds between two saves of the position */

struct run {
	struct watch *w;
	const struct opts *o;
	struct docstream_writer *out;
	struct progress *p;
	struct stats *st;
	bson_t *last;  /* token of the last event written */
	bool unsaved;  /* last is not yet in --token-file */
	uint64_t written, counts[CHANGE_OTHER_DDL + 1];
	double idle_since, last_save;
	uint32_t last_secs; /* clusterTime of the last event written */
	bool done;
	bool output_failed; /* nothing after it may be taken as delivered */
	int rc;
	bson_t **held; /* --key: fragments of a split event, written together */
	size_t nheld;
};

/* The counts in --stats, in this order; invalidate counts as "other". */
static const enum change_op stats_ops[] = {CHANGE_INSERT, CHANGE_UPDATE, CHANGE_REPLACE, CHANGE_DELETE,
	CHANGE_DROP, CHANGE_RENAME, CHANGE_DROP_DATABASE, CHANGE_OTHER_DDL};

static const char *
run_label(const struct opts *o)
{
	return o->ns ? o->ns : o->db ? o->db : "*";
}

/* Start the reader with SIGINT and SIGTERM blocked, so that they reach
 * this thread. */
static bool
start_reader(struct watch *w, pthread_t *reader)
{
	/* until the stream is open, waiting is connecting, not idleness:
	 * --idle-exit counts from the first answer */
	w->retrying = true;
	return sig_thread_create(reader, watch_reader_main, w) == 0;
}

/* Stop the reader, wait for it, and drop what it queued and was not written. */
static void
stop_reader(struct watch *w, pthread_t reader)
{
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
}

/* Take the whole queue, after waiting a little for it when it is empty. */
static struct qitem *
take_batch(struct watch *w, bool *reader_done)
{
	struct qitem *batch;
	struct timespec ts;

	pthread_mutex_lock(&w->lock);
	if (w->head == NULL && !w->reader_done && !sig_stop_requested()) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WAIT_NS;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	batch = w->head;
	w->head = w->tail = NULL;
	w->queued = 0;
	*reader_done = w->reader_done;
	pthread_cond_broadcast(&w->room);
	pthread_mutex_unlock(&w->lock);
	return batch;
}

/* Remember the token, the cluster time and the kind of an event written. */
static void
note_event(struct run *r, const bson_t *ev)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, ev, "_id") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t len;

		bson_iter_document(&it, &len, &data);
		bson_destroy(r->last);
		r->last = bson_new_from_data(data, len);
		r->unsaved = true;
	}
	if (bson_iter_init_find(&it, ev, "clusterTime") && BSON_ITER_HOLDS_TIMESTAMP(&it)) {
		uint32_t inc;

		bson_iter_timestamp(&it, &r->last_secs, &inc);
	}
	if (bson_iter_init_find(&it, ev, "operationType") && BSON_ITER_HOLDS_UTF8(&it)) {
		const char *t = bson_iter_utf8(&it, NULL);
		int op = 0;

		while (op < CHANGE_OTHER_DDL && strcmp(change_op_name((enum change_op)op), t) != 0)
			op++;
		r->counts[op == CHANGE_INVALIDATE ? CHANGE_OTHER_DDL : op]++;
	}
}

/* The output's reader went away: stop, 141 as a tool killed by SIGPIPE,
 * said only with -v (no position saved past it). */
static void
reader_gone(struct run *r)
{
	diag_info("stopped: the reader of the output went away after %llu events", (unsigned long long)r->written);
	r->rc = MP_EX_PIPE;
	r->output_failed = r->done = true;
}

bool
watch_write(const struct opts *o, struct docstream_writer *out, const bson_t *ev, const char *key,
	bson_error_t *err)
{
	char k[17];

	if (!o->key)
		return docstream_write(out, ev, err);
	if (key == NULL)
		key = change_event_key(ev, k) ? k : "control";
	return docstream_write_keyed(out, key, ev, err);
}

/* Write one event (under `key`, NULL: its own); on failure say why and stop. */
static void
emit(struct run *r, const bson_t *ev, const char *key)
{
	bson_error_t err;

	if (!watch_write(r->o, r->out, ev, key, &err)) {
		if (docstream_writer_broken_pipe(r->out))
			return reader_gone(r);
		diag_fail(&err, NULL);
		r->rc = mp_error_exitcode(&err);
		r->output_failed = r->done = true;
		return;
	}
	r->written++;
	note_event(r, ev);
	if (r->o->max_events > 0 && r->written >= (uint64_t)r->o->max_events)
		r->done = true;
}

/* splitEvent {fragment, of} of an event; false for a whole event. */
static bool
split_of(const bson_t *ev, int32_t *frag, int32_t *of)
{
	bson_iter_t it, f;

	if (!bson_iter_init_find(&it, ev, "splitEvent") || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return false;
	*frag = *of = 0;
	if (bson_iter_recurse(&it, &f) && bson_iter_find(&f, "fragment") && BSON_ITER_HOLDS_INT32(&f))
		*frag = bson_iter_int32(&f);
	if (bson_iter_recurse(&it, &f) && bson_iter_find(&f, "of") && BSON_ITER_HOLDS_INT32(&f))
		*of = bson_iter_int32(&f);
	return true;
}

/* With --key, the fragments of a split event are held until the last one:
 * documentKey may be in any of them, and all go under its key. */
static void
write_event(struct run *r, const bson_t *ev)
{
	int32_t frag, of;
	char k[17];
	const char *key = "control";

	if (!r->o->key || !split_of(ev, &frag, &of))
		return emit(r, ev, NULL);
	r->held = bson_realloc(r->held, (r->nheld + 1) * sizeof *r->held);
	r->held[r->nheld++] = bson_copy(ev);
	if (frag < of)
		return;
	for (size_t i = 0; i < r->nheld; i++) {
		if (change_event_key(r->held[i], k)) {
			key = k;
			break;
		}
	}
	/* a split event goes out whole: --max-events may not stop within it */
	for (size_t i = 0; i < r->nheld; i++) {
		if (!r->output_failed)
			emit(r, r->held[i], key);
		bson_destroy(r->held[i]);
	}
	r->nheld = 0;
}

/* Write the events of a batch (until a stop) and free them all. */
static void
write_batch(struct run *r, struct qitem *batch)
{
	for (struct qitem *q = batch, *next; q; q = next) {
		next = q->next;
		if (!r->done)
			write_event(r, q->event);
		bson_destroy(q->event);
		bson_free(q);
	}
}

static bool
save_token(const struct opts *o, const bson_t *tok, bson_error_t *err)
{
	return o->token_file == NULL || tok == NULL || checkpoint_save(o->token_file, tok, err);
}

/* Caught up: flush what was written, then record its position.  False
 * (r->rc set) on failure. */
static bool
caught_up(struct run *r, bool wrote, bool reader_done)
{
	bson_error_t err;

	if (r->output_failed)
		return false; /* events the reader may not have: the position stays */
	if (wrote && !docstream_flush(r->out, &err)) {
		r->rc = diag_exit(&err, NULL);
		r->output_failed = true;
		return false;
	}
	if (r->unsaved && (mp_now() - r->last_save >= SAVE_EVERY || r->done || reader_done)) {
		if (!save_token(r->o, r->last, &err)) {
			r->rc = diag_exit(&err, NULL);
			return false;
		}
		r->unsaved = false;
		r->last_save = mp_now();
	}
	return true;
}

/* The counts of each kind of event, for --stats. */
static void
append_counts(const struct run *r, bson_t *x)
{
	for (size_t k = 0; k < sizeof stats_ops / sizeof stats_ops[0]; k++)
		BSON_APPEND_INT64(x, change_op_name(stats_ops[k]), (int64_t)r->counts[stats_ops[k]]);
}

static void
show_progress(struct run *r)
{
	char note[48] = "";

	if (r->last_secs)
		snprintf(note, sizeof note, "lag %.0fs", (double)time(NULL) - (double)r->last_secs);
	progress_set_note(r->p, note);
	progress_update(r->p, r->written, docstream_writer_bytes(r->out));
	if (stats_due(r->st)) {
		bson_t x = BSON_INITIALIZER;

		append_counts(r, &x);
		stats_emit(r->st, "progress", run_label(r->o), r->written, docstream_writer_bytes(r->out), 0, &x);
		bson_destroy(&x);
	}
}

/* Stop when the reader ended and everything it queued is written, on a
 * signal, or after --idle-exit seconds without an event.  A run that ended
 * already (--max-events reached) keeps its status: the reader may have read
 * on to an invalidate the writer never got to. */
static void
check_stop(struct run *r, bool reader_done)
{
	struct watch *w = r->w;

	if (reader_done && !r->done) {
		bson_error_t err;

		pthread_mutex_lock(&w->lock);
		if (w->head == NULL) {
			r->rc = w->reader_rc;
			err = w->reader_err;
			r->done = true;
		}
		pthread_mutex_unlock(&w->lock);
		if (r->done && r->rc != MP_EX_OK)
			diag_error("%s", err.message);
	}
	if (sig_stop_requested())
		r->done = true;
	/* a quiet source writes nothing that would fail: ask the pipe */
	if (!r->done && docstream_writer_reader_gone(r->out))
		reader_gone(r);
	pthread_mutex_lock(&w->lock);
	if (w->retrying)
		r->idle_since = mp_now(); /* an outage is not idleness */
	pthread_mutex_unlock(&w->lock);
	if (r->o->idle_exit > 0 && mp_now() - r->idle_since >= (double)r->o->idle_exit) {
		diag_info("no event for %lld s: exiting (--idle-exit)", (long long)r->o->idle_exit);
		r->done = true;
	}
}

/* The last position, unless the output failed. */
static void
save_last(struct run *r)
{
	bson_error_t err;

	if (r->unsaved && !r->output_failed && !save_token(r->o, r->last, &err)) {
		diag_fail(&err, NULL);
		if (r->rc == MP_EX_OK)
			r->rc = mp_error_exitcode(&err);
	}
}

static void
emit_summary(struct run *r)
{
	bson_t x = BSON_INITIALIZER;

	append_counts(r, &x);
	BSON_APPEND_INT64(&x, "resumes", (int64_t)r->w->resumes);
	if (r->last_secs)
		BSON_APPEND_TIMESTAMP(&x, "last_cluster_time", r->last_secs, 0);
	stats_emit(r->st, "summary", run_label(r->o), r->written, docstream_writer_bytes(r->out), 0, &x);
	bson_destroy(&x);
}

int
watch_run(struct watch *w, struct docstream_writer *out, struct progress *p, struct stats *st)
{
	struct run r = {.w = w, .o = w->o, .out = out, .p = p, .st = st, .idle_since = mp_now(), .rc = MP_EX_OK};
	pthread_t reader;

	if (!start_reader(w, &reader)) {
		diag_error("cannot start the reader thread");
		return MP_EX_SOFTWARE;
	}
	while (!r.done) {
		bool reader_done;
		struct qitem *batch = take_batch(w, &reader_done);
		bool wrote = batch != NULL;

		write_batch(&r, batch);
		if (wrote)
			r.idle_since = mp_now();
		if (r.rc != MP_EX_OK || !caught_up(&r, wrote, reader_done))
			break;
		show_progress(&r);
		check_stop(&r, reader_done);
	}
	save_last(&r);
	stop_reader(w, reader);
	emit_summary(&r);
	progress_finish(p);
	bson_destroy(r.last);
	for (size_t i = 0; i < r.nheld; i++)
		bson_destroy(r.held[i]); /* an unfinished split event: not written, not saved */
	bson_free(r.held);
	return r.rc;
}
