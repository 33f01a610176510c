/*
 * ranges.c: --parallel N and --partition K/N.  The _id space of the source
 * is split into ranges (type-bracket aware); each range is summarised on
 * both servers by its count and an order-independent combination (XOR) of
 * its document digests, and only a range whose summaries differ is
 * merge-joined document by document.  Both splits use the source's
 * boundaries, so a range holds the same _ids on both sides whatever each
 * side holds.
 */
#include <string.h>

#include "diag.h"
#include "exitcode.h"
#include "idrange.h"
#include "mongo-hashdiff.h"

struct range_task {
	struct job *j;
	bson_t filter;
	bool descended;
};

/* The ranges of a split of the source into n, and which of them to compare. */
struct split {
	bson_value_t bounds[MAX_RANGES];
	int nb, first, last;
};

/* Count and XOR of the digests of one side of a range. */
static bool
summarise(struct job *j, mongoc_client_t *client, const struct end *e, const bson_t *filter, uint64_t *count,
	uint8_t *x, uint64_t *bytes)
{
	mongoc_cursor_t *cur = end_find_sorted(j->o, client, e, filter);
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, NULL);
	const bson_t *doc;
	uint8_t d[DOCHASH_MAX];
	bson_error_t err;
	bool ok = false;

	memset(x, 0, DOCHASH_MAX);
	*count = 0;
	while (mongoc_cursor_next(cur, &doc)) {
		if (!dochash_doc(h, doc, d, &err))
			goto out;
		for (size_t i = 0; i < j->hlen; i++)
			x[i] ^= d[i];
		(*count)++;
		*bytes += doc->len;
	}
	if (mongoc_cursor_error(cur, &err)) {
		side_error(e->side, &err);
		goto out;
	}
	ok = true;
out:
	if (!ok)
		job_fail(j, &err);
	mongoc_cursor_destroy(cur);
	dochash_destroy(h);
	return ok;
}

static void *
range_main(void *arg)
{
	struct range_task *t = arg;
	struct job *j = t->j;
	mongoc_client_t *sc = mongoc_client_pool_pop(j->src.side->pool);
	mongoc_client_t *tc = mongoc_client_pool_pop(j->dst.side->pool);
	uint64_t ns = 0, nt = 0;
	struct counts same = {0};
	uint8_t xs[DOCHASH_MAX], xt[DOCHASH_MAX];

	if (!summarise(j, sc, &j->src, &t->filter, &ns, xs, &same.bytes) ||
	    !summarise(j, tc, &j->dst, &t->filter, &nt, xt, &same.bytes))
		goto out;
	if (ns == nt && memcmp(xs, xt, j->hlen) == 0) {
		same.compared = same.equal = ns;
		pthread_mutex_lock(&j->lock);
		job_add_held(j, &same);
		pthread_mutex_unlock(&j->lock);
	} else {
		t->descended = true;
		merge_range(j, sc, tc, &t->filter);
	}
out:
	mongoc_client_pool_push(j->src.side->pool, sc);
	mongoc_client_pool_push(j->dst.side->pool, tc);
	return NULL;
}

/* Split the source; with --partition K/N keep range K only (none when there
 * are fewer ranges than shares). */
static bool
split_source(struct job *j, struct split *s)
{
	const struct opts *o = j->o;
	mongoc_client_t *sc = mongoc_client_pool_pop(j->src.side->pool);
	mongoc_collection_t *c = mongoc_client_get_collection(sc, j->src.db, j->src.coll);
	int n = o->part.n ? o->part.n : (int)o->parallel;
	int64_t total;
	bson_error_t err;
	bool ok = idrange_split(c, NULL, n, s->bounds, &s->nb, &total, &err);

	mongoc_collection_destroy(c);
	mongoc_client_pool_push(j->src.side->pool, sc);
	if (!ok) {
		side_error(j->src.side, &err);
		job_fail(j, &err);
		return false;
	}
	s->first = 0;
	s->last = s->nb;
	if (o->part.n) {
		s->first = s->last = o->part.k - 1;
		if (s->first > s->nb) {
			s->first = s->nb + 1;
			s->last = s->nb;
		}
	}
	return true;
}

/* --parallel N workers over the tasks, N at a time. */
static void
run_tasks(struct range_task *tasks, int nt, int at_once)
{
	pthread_t *threads = bson_malloc0(sizeof *threads * (size_t)(nt + 1));

	for (int i = 0; i < nt; i += at_once) {
		for (int k = i; k < nt && k < i + at_once; k++)
			pthread_create(&threads[k], NULL, range_main, &tasks[k]);
		for (int k = i; k < nt && k < i + at_once; k++)
			pthread_join(threads[k], NULL);
	}
	bson_free(threads);
}

bool
ranges_compare(struct job *j)
{
	struct split s;
	struct range_task *tasks = NULL;
	int nt = 0, descended = 0;

	s.nb = 0;
	if (!job_probe_types(j))
		goto out;
	if (!j->rangeable && j->o->part.n == 0) {
		diag_warn("%s: one side holds _ids of a type the other takes no type code of in a query: "
			"comparing in one stream, not in ranges", j->src.ns);
		return merge_servers(j);
	}
	if (!j->rangeable) {
		bson_error_t err;

		mp_error_set(&err, MP_EX_UNAVAILABLE, "cannot split for --partition: one side holds _ids of a type "
			"the other takes no type code of in a query; compare without --partition");
		job_fail(j, &err);
		goto out;
	}
	if (!split_source(j, &s))
		goto out;
	tasks = bson_malloc0(sizeof *tasks * (size_t)(s.nb + 1));
	for (int r = s.first; r <= s.last; r++, nt++) {
		tasks[nt].j = j;
		bson_init(&tasks[nt].filter);
		idrange_filter(&tasks[nt].filter, NULL, "_id", r > 0 ? &s.bounds[r - 1] : NULL, true,
			r < s.nb ? &s.bounds[r] : NULL, false, j->omit);
	}
	run_tasks(tasks, nt, j->o->parallel > 1 ? (int)j->o->parallel : 1);
	for (int k = 0; k < nt; k++) {
		descended += tasks[k].descended;
		bson_destroy(&tasks[k].filter);
	}
	diag_info("%s: %d ranges, %d differed and were compared document by document", j->src.ns, nt, descended);
out:
	for (int k = 0; k < s.nb; k++)
		bson_value_destroy(&s.bounds[k]);
	bson_free(tasks);
	return !j->failed;
}
