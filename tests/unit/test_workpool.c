/*
 * test_workpool.c: the shared writer threads.  A queue per thread keeps the
 * order of what was pushed to it; one shared queue hands every unit to some
 * thread exactly once; the first failure is kept, later ones dropped, and
 * what was still queued goes to drop, never to work.  The threads get a
 * client from a pool that never connects (the work here writes nothing).
 */
#include <signal.h>
#include <stddef.h>

#include "exitcode.h"
#include "tap.h"
#include "workpool.h"

#define UNITS 2000

struct unit {
	int queue, number;
	struct wp_node node;
};

struct seen {
	int worked, dropped, order_broken;
	int last[8];   /* last number seen per queue */
	int times[UNITS];
	int fail_at;   /* fail when this number is worked (-1: never) */
	int unblocked; /* units worked by a thread that takes SIGTERM */
	struct workpool *wp;
	pthread_mutex_t lock;
};

static struct seen S;

static struct unit *
unit_of(struct wp_node *n)
{
	return (struct unit *)((char *)n - offsetof(struct unit, node));
}

static void
work(void *ctx, mongoc_client_t *client, struct wp_node **nodes, int n)
{
	struct seen *s = ctx;

	sigset_t mask;

	(void)client;
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	for (int i = 0; i < n; i++) {
		struct unit *u = unit_of(nodes[i]);

		pthread_mutex_lock(&s->lock);
		s->worked++;
		s->times[u->number]++;
		s->unblocked += !sigismember(&mask, SIGTERM) || !sigismember(&mask, SIGINT);
		if (u->number <= s->last[u->queue])
			s->order_broken++;
		s->last[u->queue] = u->number;
		pthread_mutex_unlock(&s->lock);
		if (u->number == s->fail_at) {
			bson_error_t err;

			mp_error_set(&err, MP_EX_UNAVAILABLE, "unit %d failed", u->number);
			workpool_fail(s->wp, &err);
			mp_error_set(&err, MP_EX_SOFTWARE, "a later failure");
			workpool_fail(s->wp, &err);
		}
		bson_free(u);
	}
}

static void
drop(struct wp_node *node)
{
	pthread_mutex_lock(&S.lock);
	S.dropped++;
	pthread_mutex_unlock(&S.lock);
	bson_free(unit_of(node));
}

static void
reset(struct workpool *wp, int fail_at)
{
	memset(S.times, 0, sizeof S.times);
	for (int i = 0; i < 8; i++)
		S.last[i] = -1;
	S.worked = S.dropped = S.order_broken = S.unblocked = 0;
	S.fail_at = fail_at;
	S.wp = wp;
}

static int
push_all(struct workpool *wp, int nqueues)
{
	int pushed = 0;

	for (int i = 0; i < UNITS; i++) {
		struct unit *u = bson_malloc0(sizeof *u);

		u->number = i;
		u->queue = i % nqueues;
		if (!workpool_push(wp, u->queue, &u->node)) {
			bson_free(u);
			break;
		}
		pushed++;
	}
	return pushed;
}

static void
test_lanes_keep_order(mongoc_client_pool_t *pool)
{
	struct workpool wp;
	int once = 0;

	workpool_init(&wp, work, drop, &S);
	reset(&wp, -1);
	workpool_start(&wp, pool, 4, 4, 7);
	is_int(push_all(&wp, 4), UNITS, "every push is taken while nothing failed");
	workpool_stop(&wp);
	is_int(S.worked, UNITS, "a queue per thread: every unit is worked");
	for (int i = 0; i < UNITS; i++)
		once += S.times[i] == 1;
	is_int(once, UNITS, "each exactly once");
	is_int(S.order_broken, 0, "each queue's units in the order pushed");
	ok(!workpool_failed(&wp), "no failure");
	workpool_destroy(&wp);
}

static void
test_shared_queue(mongoc_client_pool_t *pool)
{
	struct workpool wp;
	int once = 0;

	workpool_init(&wp, work, drop, &S);
	reset(&wp, -1);
	workpool_start(&wp, pool, 3, 1, 1);
	is_int(wp.nqueues, 1, "one queue for three threads");
	push_all(&wp, 1);
	workpool_stop(&wp);
	for (int i = 0; i < UNITS; i++)
		once += S.times[i] == 1;
	is_int(once, UNITS, "a shared queue: every unit worked exactly once");
	workpool_destroy(&wp);
}

static void
test_first_failure_wins(mongoc_client_pool_t *pool)
{
	struct workpool wp;
	int pushed;

	workpool_init(&wp, work, drop, &S);
	reset(&wp, 10);
	workpool_start(&wp, pool, 1, 1, 1);
	pushed = push_all(&wp, 1);
	workpool_stop(&wp);
	ok(workpool_failed(&wp), "a failure is kept");
	is_int(wp.err.code, MP_EX_UNAVAILABLE, "the first failure wins over a later one");
	ok(strstr(wp.err.message, "unit 10") != NULL, "with its message");
	is_int(S.worked + S.dropped, pushed, "what was pushed is worked or dropped, never lost");
	ok(S.worked <= pushed && S.times[10] == 1, "the failing unit was worked once");
	workpool_destroy(&wp);
}

static void
test_no_threads(void)
{
	struct workpool wp;
	struct unit *u = bson_malloc0(sizeof *u);

	workpool_init(&wp, work, drop, &S);
	reset(&wp, -1);
	workpool_start(&wp, NULL, 0, 0, 0);
	ok(workpool_push(&wp, 5, &u->node), "no threads (a dry run): a push is still queued");
	workpool_stop(&wp);
	is_int(S.dropped, 1, "and dropped at stop");
	workpool_destroy(&wp);
}

static void
test_signals_stay_with_main(mongoc_client_pool_t *pool)
{
	struct workpool wp;
	sigset_t now;

	workpool_init(&wp, work, drop, &S);
	reset(&wp, -1);
	workpool_start(&wp, pool, 2, 2, 1);
	push_all(&wp, 2);
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	ok(!sigismember(&now, SIGTERM) && !sigismember(&now, SIGINT),
		"starting the threads leaves the caller's signals unblocked");
	workpool_stop(&wp);
	is_int(S.unblocked, 0, "the threads block SIGINT and SIGTERM (the main thread's reads see them)");
	workpool_destroy(&wp);
}

int
main(void)
{
	mongoc_uri_t *uri;
	mongoc_client_pool_t *pool;

	mongoc_init();
	mongoc_log_set_handler(NULL, NULL);
	pthread_mutex_init(&S.lock, NULL);
	uri = mongoc_uri_new("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100");
	pool = mongoc_client_pool_new(uri);
	test_lanes_keep_order(pool);
	test_shared_queue(pool);
	test_first_failure_wins(pool);
	test_no_threads();
	test_signals_stay_with_main(pool);
	mongoc_client_pool_destroy(pool);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	return tap_done();
}
