/*
 * ranges.c: --parallel N reads N ranges of _id of about equal count at
 * once, one connection each; --partition K/N keeps the K-th of an N-way
 * split (deterministic, so several machines agree) and dumps only that.
 * The ranges come from idrange.h.
 */
#include <errno.h>
#include <unistd.h>

#include "diag.h"
#include "idrange.h"
#include "mongo-dump-bson.h"

#define TICK_US (100 * 1000) /* progress redraws while the ranges are read */

struct range_task {
	struct job *j;
	bson_t *filter; /* bson_t wants 128-byte alignment: never embedded */
	pthread_t thread;
};

static void *
range_worker(void *arg)
{
	struct range_task *t = arg;
	struct job *j = t->j;
	mongoc_client_t *client = mongoc_client_pool_pop(j->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, j->db, j->coll);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, t->filter, j->find_opts, NULL);

	job_drain(j, cur, false);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(j->pool, client);
	return NULL;
}

/* Wait for the workers, redrawing progress meanwhile. */
static void
wait_ranges(struct job *j, struct range_task *tasks, int n)
{
	for (int i = 0; i < n; i++) {
		while (pthread_tryjoin_np(tasks[i].thread, NULL) == EBUSY) {
			pthread_mutex_lock(&j->wlock);
			job_tick(j);
			pthread_mutex_unlock(&j->wlock);
			usleep(TICK_US);
		}
	}
}

/* Read the nb + 1 ranges of base that bounds[0..nb-1] delimit, at once. */
static void
read_ranges(struct job *j, const bson_t *base, const bson_value_t *bounds, int nb)
{
	int n = nb + 1;
	struct range_task *tasks = bson_malloc0(sizeof *tasks * (size_t)n);

	diag_info("%s: %d range(s)", j->ns, n);
	for (int r = 0; r < n; r++) {
		tasks[r].j = j;
		tasks[r].filter = bson_new();
		idrange_filter(tasks[r].filter, base, "_id", r > 0 ? &bounds[r - 1] : NULL, true,
			r < nb ? &bounds[r] : NULL, false, j->omit);
		pthread_create(&tasks[r].thread, NULL, range_worker, &tasks[r]);
	}
	wait_ranges(j, tasks, n);
	for (int r = 0; r < n; r++)
		bson_destroy(tasks[r].filter);
	bson_free(tasks);
}

/* --partition K/N: the query of this machine's share into `share`. */
static bool
partition_filter(struct job *j, mongoc_collection_t *coll, bson_t *share, bson_error_t *err)
{
	const struct share *part = &j->o->part;
	bson_value_t *bounds = bson_malloc0(sizeof *bounds * (size_t)(part->n + 1));
	int nb = 0, k = part->k - 1;
	int64_t count;
	bool ok = idrange_split(coll, j->query, part->n, bounds, &nb, &count, err);

	if (ok && k <= nb)
		idrange_filter(share, j->query, "_id", k > 0 ? &bounds[k - 1] : NULL, true, k < nb ? &bounds[k] : NULL,
			false, j->omit);
	else if (ok)
		/* fewer documents than shares: this share is empty */
		BCON_APPEND(share, "_id", "{", "$in", "[", "]", "}");
	for (int i = 0; i < nb; i++)
		bson_value_destroy(&bounds[i]);
	bson_free(bounds);
	return ok;
}

bool
dump_probe_types(struct job *j, mongoc_collection_t *coll, bson_error_t *err)
{
	struct idrange_caps caps;
	char names[64];

	if (!idrange_probe(coll, &caps, err))
		return false;
	j->omit = caps.unnamed;
	if (caps.unnamed)
		diag_info("%s: the server takes no %s type code in a query (so it holds no such _id): "
			"_id ranges are built without", j->ns, idrange_rare_names(caps.unnamed, names, sizeof names));
	return true;
}

bool
dump_ranges(struct job *j, mongoc_collection_t *coll, bool known_total, bson_error_t *err)
{
	const struct opts *o = j->o;
	bson_value_t *bounds = bson_malloc0(sizeof *bounds * (size_t)(o->parallel + 1));
	bson_t share = BSON_INITIALIZER;
	const bson_t *base = j->query;
	int nb = 0;
	int64_t count = -1;
	bool ok = true;

	ok = dump_probe_types(j, coll, err);
	if (ok && o->part.n > 0) {
		ok = partition_filter(j, coll, &share, err);
		base = &share;
	}
	if (ok && o->parallel > 1)
		ok = idrange_split(coll, base, (int)o->parallel, bounds, &nb, &count, err);
	else if (ok)
		/* the split counted the whole collection: count this share */
		count = mongoc_collection_count_documents(coll, base, NULL, NULL, NULL, NULL);
	if (ok) {
		if (!known_total)
			job_set_progress(j, dump_expected(o, count));
		read_ranges(j, base, bounds, nb);
		ok = !j->failed;
	}
	for (int i = 0; i < nb; i++)
		bson_value_destroy(&bounds[i]);
	bson_free(bounds);
	bson_destroy(&share);
	return ok;
}
