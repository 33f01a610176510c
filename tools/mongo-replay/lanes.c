/*
 * lanes.c: the worker threads that apply document events (a workpool of
 * libcommon/workpool.h with a queue per thread).  The main thread hands
 * each event to the lane chosen by a hash of its documentKey, so the events
 * of one document stay in order; a lane takes up to --batch-size queued
 * events, groups them by namespace (stable: each document's events keep
 * their order), applies each group as ordered bulk writes
 * (change_apply_segment), then marks them done in the window.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"

#include "mongo-replay.h"

static struct item *
item_of_node(struct wp_node *n)
{
	return (struct item *)((char *)n - offsetof(struct item, node));
}

/*
 * Apply items[0..n), grouped by namespace (group_by_ns), group by group.
 * A refused event (65) stops the replay after every event before it in the
 * input was applied: the other groups still apply what came before it, and
 * the earliest refusal is the one reported.  Any other failure stops at
 * once.  What each group applied is marked done in the window, so the
 * checkpoint is still the acknowledged prefix of the input.
 */
static void
lane_apply(struct replay *r, mongoc_client_t *client, struct change_item **items, int n)
{
	bson_error_t err, first;
	uint64_t stop = UINT64_MAX; /* the window number of the earliest refused event */
	bool failed = false;

	for (int i = 0; i < n;) {
		int j = change_segment_end(items, i, n), m = i, done = 0;
		bool ok;
		int64_t now;

		while (m < j && item_of(items[m])->seq < stop)
			m++;
		if (m == i) {
			i = j;
			continue;
		}
		ok = change_apply_segment(&r->apply, client, items + i, m - i, &done, &err);
		now = window_now_ms();
		pthread_mutex_lock(&r->wp.lock);
		for (int k = i; k < i + done; k++)
			window_mark_locked(r, item_of(items[k])->seq, now);
		window_settle_locked(r);
		pthread_mutex_unlock(&r->wp.lock);
		if (!ok && (err.domain != MP_ERROR_DOMAIN || err.code != MP_EX_DATAERR || i + done >= m)) {
			first = err, failed = true;
			break;
		}
		if (!ok && item_of(items[i + done])->seq < stop)
			stop = item_of(items[i + done])->seq, first = err, failed = true;
		i = j;
	}
	if (failed) {
		pthread_mutex_lock(&r->wp.lock);
		workpool_fail_locked(&r->wp, &first);
		pthread_mutex_unlock(&r->wp.lock);
	}
}

/* Groups of items[] in the order of their first items in the input. */
struct group {
	int start, len;
	uint64_t first;
};

static int
group_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct group *)a)->first, y = ((const struct group *)b)->first;

	return x < y ? -1 : x > y;
}

/* items[0..n), each namespace's together, reordered so that the groups
 * come in the order their first events came; tmp has room for n. */
static void
order_groups(struct change_item **items, struct change_item **tmp, int n)
{
	struct group *g = bson_malloc(sizeof *g * (size_t)n);
	int ng = 0, o = 0;

	for (int i = 0; i < n; i += g[ng++].len) {
		g[ng].start = i;
		g[ng].len = change_segment_end(items, i, n) - i;
		g[ng].first = item_of(items[i])->seq; /* the sort was stable: the group's earliest */
	}
	qsort(g, (size_t)ng, sizeof *g, group_cmp);
	for (int k = 0; k < ng; k++)
		for (int i = 0; i < g[k].len; i++)
			tmp[o++] = items[g[k].start + i];
	memcpy(items, tmp, sizeof *items * (size_t)n);
	bson_free(g);
}

/*
 * Group items[0..n) by namespace key, stably: the events of one document
 * (one namespace) keep their order, and the groups come in the order of
 * their first events.  Events of interleaved collections become one bulk
 * write per collection instead of one per change of collection.  Left as
 * they are when an item has no key.
 */
static void
group_by_ns(struct change_item **items, int n)
{
	struct change_item **tmp, **from, **to;
	bool mixed = false;

	for (int k = 0; k < n; k++) {
		if (items[k]->ns_key == NULL)
			return;
		mixed |= items[k]->ns_key != items[0]->ns_key;
	}
	if (!mixed)
		return;
	/* a bottom-up merge sort by key: stable, n log n */
	tmp = bson_malloc(sizeof *tmp * (size_t)n);
	from = items, to = tmp;
	for (int w = 1; w < n; w *= 2) {
		for (int lo = 0; lo < n; lo += 2 * w) {
			int mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				to[o++] = (uintptr_t)from[b]->ns_key < (uintptr_t)from[a]->ns_key ? from[b++] : from[a++];
			while (a < mid)
				to[o++] = from[a++];
			while (b < hi)
				to[o++] = from[b++];
		}
		struct change_item **t = from;
		from = to, to = t;
	}
	if (from != items)
		memcpy(items, from, sizeof *items * (size_t)n);
	order_groups(items, tmp, n);
	bson_free(tmp);
}

static void
lane_work(void *ctx, mongoc_client_t *client, struct wp_node **nodes, int n)
{
	struct replay *r = ctx;
	struct change_item **ci = bson_malloc(sizeof(struct change_item *) * (size_t)n);

	for (int k = 0; k < n; k++)
		ci[k] = &item_of_node(nodes[k])->c;
	group_by_ns(ci, n);
	lane_apply(r, client, ci, n);
	items_return(r, ci, n);
	bson_free(ci);
}

static void
lane_drop(struct wp_node *node)
{
	item_destroy(item_of_node(node));
}

/* The grace period after a signal ran out (the pool's lock held): keep
 * the checkpoint of what the target acknowledged so far. */
static void
last_words(void *ctx)
{
	window_last_save(ctx);
}

void
lanes_init(struct replay *r)
{
	workpool_init(&r->wp, lane_work, lane_drop, r);
	r->wp.last_words = last_words;
}

/* Start --workers lanes (none in a dry run). */
void
lanes_start(struct replay *r)
{
	int n = r->o->dry_run ? 0 : (int)r->o->workers;

	workpool_start(&r->wp, r->pool, n, n, (int)r->o->batch_size);
}

/* The lane of a document: by its _id as MongoDB compares it, so that 7 and
 * NumberLong(7), one document to the server, never race in two lanes. */
static uint32_t
key_hash(const struct item *it)
{
	bson_t key;
	uint64_t h = change_key_hash(change_doc_bson(&it->c.ev.key, &key));

	return (uint32_t)(h ^ (h >> 32));
}

/* Queue a document event on its lane, which owns it from now on; false
 * (the item still the caller's) once something failed. */
bool
lanes_dispatch(struct replay *r, struct item *it)
{
	return workpool_push(&r->wp, (int)(key_hash(it) % (uint32_t)r->wp.nqueues), &it->node);
}

/* Let the lanes finish what is queued and end; a lane that stopped on a
 * failure leaves its queue unapplied, freed here. */
void
lanes_stop(struct replay *r)
{
	workpool_stop(&r->wp);
}
