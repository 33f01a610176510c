/*
 * workpool.c: writer threads fed through FIFO queues (see workpool.h).
 */
#include <signal.h>

#include "sig.h"
#include "workpool.h"

void
workpool_init(struct workpool *wp, wp_work_fn work, wp_drop_fn drop, void *ctx)
{
	memset(wp, 0, sizeof *wp);
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->cond, NULL);
	wp->work = work;
	wp->drop = drop;
	wp->ctx = ctx;
	wp->take_max = 1;
}

void
workpool_fail_locked(struct workpool *wp, const bson_error_t *err)
{
	if (!wp->failed) {
		wp->failed = true;
		wp->err = *err;
	}
	pthread_cond_broadcast(&wp->cond);
}

void
workpool_fail(struct workpool *wp, const bson_error_t *err)
{
	pthread_mutex_lock(&wp->lock);
	workpool_fail_locked(wp, err);
	pthread_mutex_unlock(&wp->lock);
}

bool
workpool_failed(struct workpool *wp)
{
	bool f;

	pthread_mutex_lock(&wp->lock);
	f = wp->failed;
	pthread_mutex_unlock(&wp->lock);
	return f;
}

/* Wait for queued nodes and take up to take_max; 0 when the thread is to
 * end (closing with its queue empty, or failed). */
static int
take(struct workpool *wp, struct wp_queue *q, struct wp_node **nodes)
{
	int n = 0;

	pthread_mutex_lock(&wp->lock);
	while (q->head == NULL && !wp->closing && !wp->failed)
		pthread_cond_wait(&wp->cond, &wp->lock);
	while (!wp->failed && q->head && n < wp->take_max) {
		nodes[n++] = q->head;
		q->head = q->head->next;
	}
	if (q->head == NULL)
		q->tail = NULL;
	pthread_mutex_unlock(&wp->lock);
	return n;
}

static void *
thread_main(void *arg)
{
	struct wp_thread *t = arg;
	struct workpool *wp = t->wp;
	mongoc_client_t *client = mongoc_client_pool_pop(wp->pool);
	struct wp_node **nodes = bson_malloc(sizeof(struct wp_node *) * (size_t)wp->take_max);
	int n;

	while ((n = take(wp, &wp->q[t->queue], nodes)) > 0)
		wp->work(wp->ctx, client, nodes, n);
	bson_free(nodes);
	mongoc_client_pool_push(wp->pool, client);
	return NULL;
}

/* sig.h's last words: the pool's, under its lock. */
static void
pool_last_words(void *arg)
{
	struct workpool *wp = arg;

	/* not for ever: the main thread may hold the lock while it writes to a
	 * pipe nobody reads */
	if (!sig_lock_briefly(&wp->lock))
		return;
	wp->last_words(wp->ctx);
	pthread_mutex_unlock(&wp->lock);
}

void
workpool_start(struct workpool *wp, mongoc_client_pool_t *pool, int nthreads, int nqueues, int take_max)
{

	wp->pool = pool;
	wp->take_max = take_max > 0 ? take_max : 1;
	wp->closing = false;
	wp->nqueues = nqueues > 0 ? nqueues : 1;
	wp->q = bson_malloc0(sizeof(struct wp_queue) * (size_t)wp->nqueues);
	wp->nthreads = nthreads;
	wp->threads = bson_malloc0(sizeof(struct wp_thread) * (size_t)(nthreads > 0 ? nthreads : 1));
	for (int i = 0; i < nthreads; i++) {
		wp->threads[i].wp = wp;
		wp->threads[i].queue = i % wp->nqueues;
		wp->threads[i].started = sig_thread_create(&wp->threads[i].thread, thread_main, &wp->threads[i]) == 0;
	}
	if (wp->last_words != NULL)
		sig_set_last_words(pool_last_words, wp);
}

void
workpool_push_locked(struct workpool *wp, int q, struct wp_node *node)
{
	struct wp_queue *queue = &wp->q[q % wp->nqueues];

	node->next = NULL;
	if (queue->tail)
		queue->tail->next = node;
	else
		queue->head = node;
	queue->tail = node;
	pthread_cond_broadcast(&wp->cond);
}

bool
workpool_push(struct workpool *wp, int q, struct wp_node *node)
{
	bool ok;

	pthread_mutex_lock(&wp->lock);
	ok = !wp->failed;
	if (ok)
		workpool_push_locked(wp, q, node);
	pthread_mutex_unlock(&wp->lock);
	return ok;
}

void
workpool_stop(struct workpool *wp)
{
	pthread_mutex_lock(&wp->lock);
	wp->closing = true;
	pthread_cond_broadcast(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
	for (int i = 0; i < wp->nthreads; i++)
		if (wp->threads[i].started)
			pthread_join(wp->threads[i].thread, NULL);
	/* the watchdog may save while the threads finish; not once the
	 * caller tears down what last_words reads */
	if (wp->last_words != NULL)
		sig_set_last_words(NULL, NULL);
	for (int i = 0; i < wp->nqueues; i++) {
		while (wp->q[i].head) {
			struct wp_node *next = wp->q[i].head->next;

			wp->drop(wp->q[i].head);
			wp->q[i].head = next;
		}
	}
	bson_free(wp->threads);
	bson_free(wp->q);
	wp->threads = NULL;
	wp->q = NULL;
	wp->nthreads = wp->nqueues = 0;
}

void
workpool_destroy(struct workpool *wp)
{
	if (wp->q)
		workpool_stop(wp);
	pthread_mutex_destroy(&wp->lock);
	pthread_cond_destroy(&wp->cond);
}
