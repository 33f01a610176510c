/*
 * lanes.c: the worker threads that apply document events.  The main thread
 * hands each event to the lane chosen by a hash of its documentKey, so the
 * events of one document stay in order; a lane takes up to --batch-size
 * queued events, cuts them into runs of one namespace and applies each run
 * as ordered bulk writes (change_apply_segment), then marks them done in
 * the window.
 */
#include <signal.h>
#include <string.h>

#include "mongo-replay.h"

/* Wait for queued events and take up to `max`; 0 when the lane is to end. */
static int
lane_take(struct lane *lane, struct item **items, int max)
{
	struct replay *r = lane->r;
	int n = 0;

	pthread_mutex_lock(&r->lock);
	while (lane->head == NULL && !r->closing && !r->fatal)
		pthread_cond_wait(&r->cond, &r->lock);
	while (!r->fatal && lane->head && n < max) {
		items[n++] = lane->head;
		lane->head = lane->head->next;
	}
	if (lane->head == NULL)
		lane->tail = NULL;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Apply items[0..n) run by run of one namespace; stop at a failure (set
 * as the replay's fatal error). */
static void
lane_apply(struct replay *r, mongoc_client_t *client, struct change_item **items, int n)
{
	bson_error_t err;

	for (int i = 0; i < n;) {
		int j = change_segment_end(items, i, n), done = 0;
		bool ok = change_apply_segment(&r->apply, client, items + i, j - i, &done, &err);

		pthread_mutex_lock(&r->lock);
		for (int k = i; k < i + done; k++)
			window_done_locked(r, item_of(items[k])->seq);
		pthread_mutex_unlock(&r->lock);
		if (!ok) {
			window_set_fatal(r, &err);
			break;
		}
		i = j;
	}
}

static void *
lane_main(void *arg)
{
	struct lane *lane = arg;
	struct replay *r = lane->r;
	mongoc_client_t *client = mongoc_client_pool_pop(r->pool);
	struct item **items = bson_malloc(sizeof(struct item *) * (size_t)r->o->batch_size);
	struct change_item **ci = bson_malloc(sizeof(struct change_item *) * (size_t)r->o->batch_size);
	int n;

	while ((n = lane_take(lane, items, (int)r->o->batch_size)) > 0) {
		for (int k = 0; k < n; k++)
			ci[k] = &items[k]->c;
		lane_apply(r, client, ci, n);
		for (int k = 0; k < n; k++)
			item_destroy(items[k]);
	}
	bson_free(ci);
	bson_free(items);
	mongoc_client_pool_push(r->pool, client);
	return NULL;
}

/* Start --workers lanes (none in a dry run).  Signals stay with the main
 * thread, which reads and decides. */
void
lanes_start(struct replay *r)
{
	sigset_t block, old;

	r->nlanes = r->o->dry_run ? 0 : (int)r->o->workers;
	r->lanes = bson_malloc0(sizeof(struct lane) * (size_t)(r->nlanes ? r->nlanes : 1));
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < r->nlanes; i++) {
		r->lanes[i].r = r;
		r->lanes[i].started = pthread_create(&r->lanes[i].thread, NULL, lane_main, &r->lanes[i]) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static uint32_t
key_hash(const struct item *it)
{
	const uint8_t *p = bson_get_data(&it->c.ev.key);
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < it->c.ev.key.len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Queue a document event on its lane, which owns it from now on; false
 * (the item still the caller's) once something failed. */
bool
lanes_dispatch(struct replay *r, struct item *it)
{
	struct lane *lane = &r->lanes[key_hash(it) % (uint32_t)r->nlanes];

	pthread_mutex_lock(&r->lock);
	if (r->fatal) {
		pthread_mutex_unlock(&r->lock);
		return false;
	}
	it->next = NULL;
	if (lane->tail)
		lane->tail->next = it;
	else
		lane->head = it;
	lane->tail = it;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return true;
}

/* Let the lanes finish what is queued and end; a lane that stopped on a
 * fatal error leaves its queue unapplied, freed here. */
void
lanes_stop(struct replay *r)
{
	pthread_mutex_lock(&r->lock);
	r->closing = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < r->nlanes; i++) {
		if (r->lanes[i].started)
			pthread_join(r->lanes[i].thread, NULL);
		while (r->lanes[i].head) {
			struct item *next = r->lanes[i].head->next;

			item_destroy(r->lanes[i].head);
			r->lanes[i].head = next;
		}
	}
	bson_free(r->lanes);
	r->lanes = NULL;
}
