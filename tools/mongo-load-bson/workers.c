/*
 * workers.c: the writer threads of one load.  The reader hands batches over
 * in order; each worker writes one at a time on its own connection; batches
 * complete in any order and are retired in order through the
 * acknowledgement window (libcommon/bulkwrite.h), whose retired prefix is
 * what the checkpoint may cover: it never passes unacknowledged work.
 */
#include "checkpoint.h"
#include "exitcode.h"
#include "load.h"
#include "progress.h"

void
load_fail(struct load *l, const bson_error_t *err)
{
	pthread_mutex_lock(&l->lock);
	if (!l->fatal) {
		l->fatal = true;
		l->err = *err;
	}
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

bool
load_failed(struct load *l)
{
	bool f;

	pthread_mutex_lock(&l->lock);
	f = l->fatal;
	pthread_mutex_unlock(&l->lock);
	return f;
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
		if (!l->fatal) {
			l->fatal = true;
			mp_error_set(&l->err, MP_EX_SOFTWARE, "batch %llu acknowledged out of its window",
				(unsigned long long)b->seq);
		}
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
	if (mp_now() - l->last_save >= 1.0 && !checkpoint_save_ack(l, &err) && !l->fatal) {
		l->fatal = true;
		l->err = err;
	}
	pthread_cond_broadcast(&l->cond);
}

/* The next batch to write, or NULL when there is no more work. */
static struct batch *
next_batch(struct load *l)
{
	struct batch *b;

	pthread_mutex_lock(&l->lock);
	while (l->head == NULL && !l->closing && !l->fatal)
		pthread_cond_wait(&l->cond, &l->lock);
	b = l->fatal ? NULL : l->head;
	if (b != NULL) {
		l->head = b->next;
		if (l->head == NULL)
			l->tail = NULL;
	}
	pthread_mutex_unlock(&l->lock);
	return b;
}

static void *
worker(void *arg)
{
	struct load *l = arg;
	mongoc_client_t *client = mongoc_client_pool_pop(l->pool);
	struct batch *b;

	while ((b = next_batch(l)) != NULL) {
		if (!write_batch(l, client, b)) {
			batch_destroy(b);
			break;
		}
		pthread_mutex_lock(&l->lock);
		acknowledge(l, b);
		pthread_mutex_unlock(&l->lock);
	}
	mongoc_client_pool_push(l->pool, client);
	return NULL;
}

void
workers_start(struct load *l)
{
	l->threads = bson_malloc0(sizeof(pthread_t) * (size_t)l->o->workers);
	for (l->nthreads = 0; l->nthreads < l->o->workers; l->nthreads++)
		pthread_create(&l->threads[l->nthreads], NULL, worker, l);
}

bool
workers_enqueue(struct load *l, struct batch *b)
{
	pthread_mutex_lock(&l->lock);
	while (ackwin_full(&l->aw) && !l->fatal)
		pthread_cond_wait(&l->cond, &l->lock);
	if (l->fatal) {
		pthread_mutex_unlock(&l->lock);
		batch_destroy(b);
		return false;
	}
	b->seq = ackwin_issue(&l->aw);
	b->next = NULL;
	if (l->tail)
		l->tail->next = b;
	else
		l->head = b;
	l->tail = b;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return true;
}

void
workers_stop(struct load *l)
{
	pthread_mutex_lock(&l->lock);
	l->closing = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	for (int i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
	l->nthreads = 0;
	bson_free(l->threads);
	l->threads = NULL;
}
