/*
 * workpool.h: writer threads fed through FIFO queues, and the latch that
 * keeps the first error of all of them.
 *
 * mongo-load-bson and mongo-replay write the same way: the main thread
 * reads, hands units of work to queues in order, and threads (each with its
 * own connection from the pool) take them and write them.  mongo-load-bson
 * has one queue that every thread takes from (any batch may go to any
 * connection); mongo-replay has a queue per thread (the events of one
 * document always go to the same lane, so they stay in order).
 *
 * The pool's lock also guards the caller's state that the threads share
 * (the acknowledgement window, counts): callers take pool->lock for it and
 * broadcast pool->cond when they change anything a waiter may wait for.
 *
 * The first error wins: workpool_fail() keeps the first error and wakes
 * every waiter; from then on threads take no more work, pushes are refused,
 * and what is still queued is handed to `drop` when the pool stops.
 *
 * The threads block SIGINT and SIGTERM: signals stay with the main thread,
 * whose reads they interrupt.  From start to the end of stop the pool is
 * sig.h's "last words": if a stop request's grace period runs out, the
 * pool's last_words saves what was acknowledged.
 */
#ifndef WORKPOOL_H
#define WORKPOOL_H

#include <pthread.h>
#include <stdbool.h>

#include <mongoc/mongoc.h>

/* Embedded in a unit of work; the queue links through it. */
struct wp_node {
	struct wp_node *next;
};

/* Write nodes[0..n) on client; the callee owns them from now on.  It
 * reports a failure with workpool_fail(). */
typedef void (*wp_work_fn)(void *ctx, mongoc_client_t *client, struct wp_node **nodes, int n);
/* Free a node that was never handed to work (the pool stopped after a
 * failure). */
typedef void (*wp_drop_fn)(struct wp_node *node);

struct wp_queue {
	struct wp_node *head, *tail;
};

struct workpool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool failed, closing;
	bson_error_t err; /* the first failure */

	mongoc_client_pool_t *pool;
	wp_work_fn work;
	wp_drop_fn drop;
	void *ctx;
	int take_max; /* nodes a thread takes at once */
	/* Set before workpool_start (may be NULL): what to save if the grace
	 * period after a signal runs out (sig.h) while the pool runs; called
	 * with the pool's lock held (taken within 2 s, else not called). */
	void (*last_words)(void *ctx);

	struct wp_queue *q;
	int nqueues;
	struct wp_thread {
		struct workpool *wp;
		pthread_t thread;
		int queue;
		bool started;
	} *threads;
	int nthreads;
};

void workpool_init(struct workpool *wp, wp_work_fn work, wp_drop_fn drop, void *ctx);
/* Start nthreads threads on nqueues queues (1, or one per thread), each
 * taking up to take_max nodes at a time.  nthreads 0 starts none (a dry
 * run that writes nothing). */
void workpool_start(struct workpool *wp, mongoc_client_pool_t *pool, int nthreads, int nqueues,
	int take_max);
/* Queue node on queue q (pool->lock held); the caller checked !failed. */
void workpool_push_locked(struct workpool *wp, int q, struct wp_node *node);
/* Queue node on queue q; false (the node still the caller's) once failed. */
bool workpool_push(struct workpool *wp, int q, struct wp_node *node);
/* Let the threads finish what is queued (all of it unless failed) and end;
 * nodes left queued go to drop.  The pool can be started again. */
void workpool_stop(struct workpool *wp);
void workpool_destroy(struct workpool *wp);

/* The first error wins: keep err unless one is kept already, and wake
 * every waiter.  _locked with pool->lock held. */
void workpool_fail(struct workpool *wp, const bson_error_t *err);
void workpool_fail_locked(struct workpool *wp, const bson_error_t *err);
bool workpool_failed(struct workpool *wp);

#endif
