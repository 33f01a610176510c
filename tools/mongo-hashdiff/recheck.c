/*
 * recheck.c: --recheck N.  While the source still takes writes, differences
 * may be in flight: the differing _ids, held while the comparison ran, are
 * re-read on both servers N times, --recheck-delay seconds apart; what
 * cleared is counted, and what stays different is reported as it is now.
 */
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "idrange.h"
#include "mongo-hashdiff.h"
#include "sig.h"

/* What the last re-read found, per held _id. */
struct reread {
	int n;
	bson_t **sd, **td; /* the documents now, NULL where there is none */
	uint8_t *hs, *ht;  /* their digests, j->hlen bytes each */
	bool *still;       /* still different */
};

static void
reread_init(struct reread *r, const struct job *j)
{
	size_t n = (size_t)j->nheld + 1;

	r->n = j->nheld;
	r->sd = bson_malloc0(sizeof(bson_t *) * n);
	r->td = bson_malloc0(sizeof(bson_t *) * n);
	r->hs = bson_malloc0(j->hlen * n);
	r->ht = bson_malloc0(j->hlen * n);
	r->still = bson_malloc0(sizeof(bool) * n);
	for (int i = 0; i < r->n; i++)
		r->still[i] = true;
}

static void
reread_free_docs(struct reread *r, int i)
{
	bson_destroy(r->sd[i]);
	bson_destroy(r->td[i]);
	r->sd[i] = r->td[i] = NULL;
}

static void
reread_destroy(struct reread *r)
{
	for (int i = 0; i < r->n; i++)
		reread_free_docs(r, i);
	bson_free(r->sd);
	bson_free(r->td);
	bson_free(r->hs);
	bson_free(r->ht);
	bson_free(r->still);
}

/* Fetch the documents of `ids` on one end into `docs` (by index). */
static bool
fetch_ids(const struct end *e, const bson_value_t *ids, int n, bson_t **docs, bson_error_t *err)
{
	mongoc_client_t *client = mongoc_client_pool_pop(e->side->pool);
	mongoc_collection_t *c = mongoc_client_get_collection(client, e->db, e->coll);
	bool ok = true;

	if (!idrange_find_ids(c, ids, n, docs, err)) {
		side_error(e->side, err);
		ok = false;
	}
	mongoc_collection_destroy(c);
	mongoc_client_pool_push(e->side->pool, client);
	return ok;
}

/* Whether held difference i cleared: gone from both sides, or equal now. */
static bool
reread_one(struct job *j, struct dochash *h, struct reread *r, int i, bson_error_t *err)
{
	uint8_t *hs = r->hs + (size_t)i * j->hlen, *ht = r->ht + (size_t)i * j->hlen;
	bool ok = true;

	if (r->sd[i] && !dochash_doc(h, r->sd[i], hs, err))
		ok = false;
	if (r->td[i] && !dochash_doc(h, r->td[i], ht, err))
		ok = false;
	if (!r->sd[i] && !r->td[i])
		r->still[i] = false;
	else if (r->sd[i] && r->td[i] && memcmp(hs, ht, j->hlen) == 0)
		r->still[i] = false;
	if (!r->still[i])
		j->n.cleared++;
	return ok;
}

/* One re-read of every held _id still different; the documents are kept
 * after the last round, to be reported. */
static bool
reread_round(struct job *j, struct dochash *h, struct reread *r, bool last, bson_error_t *err)
{
	bool ok;

	diag_info("%s: %d difference%s held, read again in %lld s", j->src.ns, r->n, r->n == 1 ? "" : "s",
		(long long)j->o->recheck_delay);
	for (double t = 0; t < (double)j->o->recheck_delay && !sig_stop_requested(); t += 0.1)
		usleep(100000);
	ok = fetch_ids(&j->src, j->held, r->n, r->sd, err) &&
	     fetch_ids(&j->dst, j->held, r->n, r->td, err);
	for (int i = 0; ok && i < r->n; i++) {
		if (r->still[i])
			ok = reread_one(j, h, r, i, err);
		if (!last)
			reread_free_docs(r, i);
	}
	return ok;
}

/* Report what stayed different, as it is now (the counts start again). */
static void
report_still(struct job *j, const struct reread *r, bool servers)
{
	for (int i = 0; i < r->n; i++) {
		uint8_t *hs = r->hs + (size_t)i * j->hlen, *ht = r->ht + (size_t)i * j->hlen;

		if (!r->still[i])
			continue;
		if (!servers)
			emit_difference(j, MISSING, &j->held[i], NULL, NULL, NULL);
		else if (r->sd[i] && !r->td[i])
			emit_difference(j, MISSING, &j->held[i], hs, NULL, r->sd[i]);
		else if (!r->sd[i] && r->td[i])
			emit_difference(j, EXTRA, &j->held[i], NULL, ht, NULL);
		else
			emit_difference(j, CHANGED, &j->held[i], hs, ht, r->sd[i]);
	}
}

bool
recheck_run(struct job *j)
{
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, NULL);
	bool ok = true, servers = j->src.side->file == NULL && j->dst.side->file == NULL;
	struct reread r;
	bson_error_t err;

	reread_init(&r, j);
	if (!servers)
		diag_warn("--recheck re-reads servers; a file side does not change, so nothing is rechecked");
	for (int round = 0; ok && servers && round < j->o->recheck && r.n > 0; round++)
		ok = reread_round(j, h, &r, round + 1 == j->o->recheck, &err);
	j->n.missing = j->n.extra = j->n.changed = 0;
	j->holding = false;
	if (ok)
		report_still(j, &r, servers);
	else
		job_fail(j, &err);
	reread_destroy(&r);
	dochash_destroy(h);
	return ok;
}
