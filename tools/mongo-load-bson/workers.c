/*
 * workers.c: the writer threads of one load (a workpool of
 * libcommon/workpool.h with one queue that every thread takes from).  The
 * reader hands batches over in order; each worker writes one at a time on
 * its own connection; batches complete in any order and are retired in
 * order through the acknowledgement window (libcommon/bulkwrite.h), whose
 * retired prefix is what the checkpoint may cover: it never passes
 * unacknowledged work.
 */
#include <stddef.h>

#include "checkpoint.h"
#include "exitcode.h"
#include "load.h"
#include "progress.h"

static struct batch *
batch_of(struct wp_node *n)
{
	return (struct batch *)((char *)n - offsetof(struct batch, node));
}

bool
checkpoint_save_ack(struct load *l, bson_error_t *err)
{
	bson_t ck = BSON_INITIALIZER;
	bool ok = true;

	if (l->o->checkpoint && l->has_ack_id && l->ack_dirty) {
		bson_append_value(&ck, "_id", 3, &l->ack_id);
		ok = checkpoint_save(l->o->checkpoint, &ck, err);
		l->ack_dirty = false;
		l->last_save = mp_now();
	}
	bson_destroy(&ck);
	return ok;
}

/* The lock held: batch b was written.  Retire every batch whose
 * predecessors are all written, and save the checkpoint now and then. */
static void
acknowledge(struct load *l, struct batch *b)
{
	struct batch *d;
	bson_error_t err;

	if (!ackwin_complete(&l->aw, b->seq, b)) {
		mp_error_set(&err, MP_EX_SOFTWARE, "batch %llu acknowledged out of its window",
			(unsigned long long)b->seq);
		workpool_fail_locked(&l->wp, &err);
		batch_destroy(b);
	}
	while ((d = ackwin_retire(&l->aw)) != NULL) {
		if (d->has_last_id) {
			if (l->has_ack_id)
				bson_value_destroy(&l->ack_id);
			bson_value_copy(&d->last_id, &l->ack_id);
			l->has_ack_id = true;
			l->ack_dirty = true;
		}
		batch_destroy(d);
	}
	if (mp_now() - l->last_save >= 1.0 && !checkpoint_save_ack(l, &err))
		workpool_fail_locked(&l->wp, &err);
	pthread_cond_broadcast(&l->wp.cond);
}

/* A worker took one batch: write it, then acknowledge it. */
static void
work(void *ctx, mongoc_client_t *client, struct wp_node **nodes, int n)
{
	struct load *l = ctx;
	struct batch *b = batch_of(nodes[0]);

	(void)n; /* always 1 */
	if (!write_batch(l, client, b)) {
		batch_destroy(b);
		return;
	}
	pthread_mutex_lock(&l->wp.lock);
	acknowledge(l, b);
	pthread_mutex_unlock(&l->wp.lock);
}

static void
drop(struct wp_node *node)
{
	batch_destroy(batch_of(node));
}

/* The grace period after a signal ran out (the pool's lock held): keep
 * what was acknowledged so far. */
static void
last_words(void *ctx)
{
	struct load *l = ctx;
	bson_error_t err;

	l->ack_dirty = l->ack_dirty || l->has_ack_id;
	(void)checkpoint_save_ack(l, &err);
}

void
workers_init(struct load *l)
{
	workpool_init(&l->wp, work, drop, l);
	l->wp.last_words = last_words;
}

void
workers_start(struct load *l)
{
	workpool_start(&l->wp, l->pool, (int)l->o->workers, 1, 1);
}

bool
workers_enqueue(struct load *l, struct batch *b)
{
	pthread_mutex_lock(&l->wp.lock);
	while (ackwin_full(&l->aw) && !l->wp.failed)
		pthread_cond_wait(&l->wp.cond, &l->wp.lock);
	if (l->wp.failed) {
		pthread_mutex_unlock(&l->wp.lock);
		batch_destroy(b);
		return false;
	}
	b->seq = ackwin_issue(&l->aw);
	workpool_push_locked(&l->wp, 0, &b->node);
	pthread_mutex_unlock(&l->wp.lock);
	return true;
}

void
workers_stop(struct load *l)
{
	workpool_stop(&l->wp);
}
