/*
 * window.c: the events in flight and the acknowledged prefix.  Every event
 * takes a slot in a ring as it is read; lanes and the main thread mark slots
 * done in any order; the prefix of done slots moves the checkpoint to the
 * newest token in it, so the checkpoint never passes an event the target did
 * not acknowledge (or that was deliberately skipped).
 */
#include <time.h>

#include "checkpoint.h"
#include "diag.h"
#include "exitcode.h"
#include "mongo-replay.h"
#include "sig.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the checkpoint, written by the saver ---- */

/* Copy the checkpoint to write into ck (r->wp.lock held); false when it
 * did not move since it was last taken (or is never written: a dry run). */
static bool
take_snapshot(struct replay *r, bson_t *ck, uint64_t *gen)
{
	if (!r->o->checkpoint || !r->has_ck || !r->ck_dirty || r->o->dry_run)
		return false;
	bson_copy_to(&r->ck, ck);
	*gen = r->ck_gen;
	r->ck_dirty = false;
	return true;
}

/* Write a snapshot (r->save_io held) unless a newer one is on disk. */
static bool
write_snapshot(struct replay *r, const bson_t *ck, uint64_t gen, bson_error_t *err)
{
	bool ok = true;

	if (gen > r->saved_gen) {
		ok = checkpoint_save(r->o->checkpoint, ck, err);
		if (ok)
			r->saved_gen = gen;
	}
	return ok;
}

/* Save the checkpoint now if it moved (never in a dry run): r->wp.lock
 * held, or no other thread running. */
bool
window_save(struct replay *r, bson_error_t *err)
{
	bson_t ck;
	uint64_t gen;
	bool ok = true;

	if (take_snapshot(r, &ck, &gen)) {
		pthread_mutex_lock(&r->save_io);
		ok = write_snapshot(r, &ck, gen, err);
		pthread_mutex_unlock(&r->save_io);
		bson_destroy(&ck);
	}
	return ok;
}

/* The same from the signal watchdog's last words (r->wp.lock held, so ck
 * stands still): the newest acknowledged token unless it is on disk, even
 * when the saver took it and is still writing it (the process ends after
 * this); not for ever if the saver is stuck in the write. */
void
window_last_save(struct replay *r)
{
	bson_error_t err;

	if (!r->o->checkpoint || !r->has_ck || r->o->dry_run || !sig_lock_briefly(&r->save_io))
		return;
	(void)write_snapshot(r, &r->ck, r->ck_gen, &err);
	pthread_mutex_unlock(&r->save_io);
}

/* The saver: wakes every 0.2 s, or when the settling lane says the target
 * caught up, and writes what moved with wp.lock released, so that neither
 * the lanes nor the reader wait for a file's fsync. */
static void *
saver_main(void *arg)
{
	struct replay *r = arg;

	pthread_mutex_lock(&r->wp.lock);
	while (!r->saver_stop) {
		bson_error_t err;
		bson_t ck;
		uint64_t gen;
		bool ok;

		if (!r->save_now) {
			struct timespec until;

			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += 200 * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&r->save_cond, &r->wp.lock, &until);
		}
		r->save_now = false;
		if (r->saver_stop || !take_snapshot(r, &ck, &gen))
			continue;
		pthread_mutex_unlock(&r->wp.lock);
		pthread_mutex_lock(&r->save_io);
		ok = write_snapshot(r, &ck, gen, &err);
		pthread_mutex_unlock(&r->save_io);
		bson_destroy(&ck);
		pthread_mutex_lock(&r->wp.lock);
		if (!ok) {
			r->ck_dirty = true; /* for the final save to try again */
			workpool_fail_locked(&r->wp, &err);
		}
	}
	pthread_mutex_unlock(&r->wp.lock);
	return NULL;
}

void
window_init(struct replay *r)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&r->save_io, NULL);
	/* the saver's 0.2 s by the monotonic clock: a clock set back must not
	 * hold the checkpoint still */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->save_cond, &ca);
	pthread_condattr_destroy(&ca);
}

/* Start the saver when there is a checkpoint to write. */
void
window_saver_start(struct replay *r)
{
	if (!r->o->checkpoint || r->o->dry_run)
		return;
	r->saver_started = sig_thread_create(&r->saver, saver_main, r) == 0;
	if (!r->saver_started)
		diag_warn("cannot start the checkpoint's writer thread: %s is written only at the end",
			r->o->checkpoint);
}

/* Stop the saver; what it did not write yet is the caller's to save. */
void
window_saver_stop(struct replay *r)
{
	if (!r->saver_started)
		return;
	pthread_mutex_lock(&r->wp.lock);
	r->saver_stop = true;
	pthread_cond_signal(&r->save_cond);
	pthread_mutex_unlock(&r->wp.lock);
	pthread_join(r->saver, NULL);
	r->saver_started = false;
}

/* Retire a slot of the acknowledged prefix into the checkpoint. */
static void
retire(struct replay *r, struct slot *s)
{
	if (s->has_token) {
		bson_destroy(&r->ck);
		bson_copy_to(&s->token, &r->ck);
		r->has_ck = r->ck_dirty = true;
		r->ck_gen++;
		bson_destroy(&s->token);
		s->has_token = false;
	}
	if (s->secs)
		r->ck_secs = s->secs;
	r->inflight_bytes -= s->bytes;
	s->used = s->done = false;
}

int64_t
window_now_ms(void)
{
	return now_ms();
}

void
window_mark_locked(struct replay *r, uint64_t seq, int64_t now)
{
	struct slot *s = &r->ring[seq % WINDOW];

	s->done = true;
	if (s->wall_ms > 0 && !r->o->dry_run)
		counts_lag_add(&r->lag, now - s->wall_ms);
	if (!ackwin_complete(&r->aw, seq, s)) {
		bson_error_t err;

		mp_error_set(&err, MP_EX_SOFTWARE, "event %llu acknowledged out of its window",
			(unsigned long long)seq);
		workpool_fail_locked(&r->wp, &err);
	}
}

/* Mark seq done (r->wp.lock held) and move the prefix forward. */
void
window_done_locked(struct replay *r, uint64_t seq)
{
	window_mark_locked(r, seq, now_ms());
	window_settle_locked(r);
}

void
window_settle_locked(struct replay *r)
{
	struct slot *s;

	while ((s = ackwin_retire(&r->aw)) != NULL)
		retire(r, s);
	/* the saver writes every 0.2 s while events flow, and at once when the
	 * target holds all that was read: an idle input (a quiet source, a
	 * live pipe) must not leave the checkpoint behind what is applied */
	if (r->ck_dirty && ackwin_pending(&r->aw) == 0 && !r->save_now) {
		r->save_now = true;
		pthread_cond_signal(&r->save_cond);
	}
	pthread_cond_broadcast(&r->wp.cond);
}

void
window_done(struct replay *r, uint64_t seq)
{
	pthread_mutex_lock(&r->wp.lock);
	window_done_locked(r, seq);
	pthread_mutex_unlock(&r->wp.lock);
}

/* Take a slot for the next event (ev may be NULL); blocks while the window
 * is full.  False once something failed (r->wp.err). */
bool
window_take(struct replay *r, const struct change_event *ev, size_t bytes, uint64_t *seq)
{
	struct slot *s;

	pthread_mutex_lock(&r->wp.lock);
	while (!r->wp.failed && (ackwin_full(&r->aw) ||
			     (r->inflight_bytes + bytes > WINDOW_BYTES && ackwin_pending(&r->aw) > 0)))
		pthread_cond_wait(&r->wp.cond, &r->wp.lock);
	if (r->wp.failed) {
		pthread_mutex_unlock(&r->wp.lock);
		return false;
	}
	*seq = ackwin_issue(&r->aw);
	s = &r->ring[*seq % WINDOW];
	s->used = true;
	s->done = false;
	s->has_token = ev && ev->has_token;
	if (s->has_token) {
		/* a token of up to 120 bytes stays inline in the slot: no malloc */
		bson_t tok;

		bson_init(&s->token);
		bson_concat(&s->token, change_doc_bson(&ev->token, &tok));
	}
	s->secs = ev ? ev->cluster_secs : 0;
	s->wall_ms = ev ? ev->wall_ms : 0;
	s->bytes = bytes;
	r->inflight_bytes += bytes;
	pthread_mutex_unlock(&r->wp.lock);
	return true;
}

/* Wait until every event before sequence number `upto` is acknowledged;
 * false once something failed. */
bool
window_drain_to(struct replay *r, uint64_t upto)
{
	bool ok;

	pthread_mutex_lock(&r->wp.lock);
	while (!r->wp.failed && r->aw.next_retire < (upto < r->aw.issued ? upto : r->aw.issued))
		pthread_cond_wait(&r->wp.cond, &r->wp.lock);
	ok = !r->wp.failed;
	pthread_mutex_unlock(&r->wp.lock);
	return ok;
}

/* Wait until every event handed out so far is acknowledged. */
bool
window_drain(struct replay *r)
{
	uint64_t upto;

	pthread_mutex_lock(&r->wp.lock);
	upto = r->aw.issued;
	pthread_mutex_unlock(&r->wp.lock);
	return window_drain_to(r, upto);
}

void
window_destroy(struct replay *r)
{
	pthread_mutex_destroy(&r->save_io);
	pthread_cond_destroy(&r->save_cond);
	for (uint32_t i = 0; r->ring && i < WINDOW; i++)
		if (r->ring[i].has_token)
			bson_destroy(&r->ring[i].token);
	bson_free(r->ring);
	r->ring = NULL;
	ackwin_destroy(&r->aw, NULL);
	bson_destroy(&r->ck);
}
