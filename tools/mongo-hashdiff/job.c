/*
 * job.c: one comparison of a source namespace with a target namespace.  It
 * chooses how to compare (counts only; two servers in one stream or in
 * ranges; two sorted files streamed; anything else by hash join), rechecks,
 * and gives the verdict: equal or different only after a comparison that ran
 * to its end, "incomplete" (75) when stopped, the error's status when a side
 * failed.  The summary goes to stderr and to the stats stream.
 */
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "idrange.h"
#include "mongo-hashdiff.h"
#include "sig.h"

void
job_fail_held(struct job *j, const bson_error_t *err)
{
	if (!j->failed) {
		j->failed = true;
		j->err = *err;
	}
}

void
job_fail(struct job *j, const bson_error_t *err)
{
	pthread_mutex_lock(&j->lock);
	job_fail_held(j, err);
	pthread_mutex_unlock(&j->lock);
}

bool
job_doc_id(const bson_t *doc, bson_value_t *id)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "_id"))
		return false;
	*id = *bson_iter_value(&it);
	return true;
}

void
job_add_held(struct job *j, struct counts *local)
{
	j->n.compared += local->compared;
	j->n.equal += local->equal;
	j->n.bytes += local->bytes;
	memset(local, 0, sizeof *local);
	progress_update(j->p, j->n.compared, j->n.bytes);
}

/* --count-only: the counts of both ends, the difference as missing or extra. */
static bool
compare_counts(struct job *j)
{
	int64_t a = 0, b = 0;
	bson_error_t err;

	if (!end_count(j->o, &j->src, &a, &err) || !end_count(j->o, &j->dst, &b, &err)) {
		job_fail(j, &err);
		return false;
	}
	j->n.compared = (uint64_t)(a > b ? a : b);
	diag_note("%s: source %lld documents, target %lld documents%s", j->src.ns, (long long)a, (long long)b,
		a == b ? "" : ": counts differ");
	if (a > b)
		j->n.missing = (uint64_t)(a - b);
	else
		j->n.extra = (uint64_t)(b - a);
	return true;
}

static bool
job_servers(const struct job *j)
{
	return j->src.side->file == NULL && j->dst.side->file == NULL;
}

/* Whether the whole collection is compared in one stream from server to
 * server (the only comparison --checkpoint records). */
static bool
job_single_stream(const struct job *j)
{
	return !j->o->count_only && job_servers(j) && j->o->parallel <= 1 && j->o->part.n == 0;
}

/* Ask one side; false when it could not be asked (the job failed). */
static bool
probe_side(struct job *j, const struct end *e, struct idrange_caps *caps)
{
	mongoc_client_t *c = mongoc_client_pool_pop(e->side->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(c, e->db, e->coll);
	bson_error_t err;
	bool ok = idrange_probe(coll, caps, &err);

	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(e->side->pool, c);
	if (!ok) {
		side_error(e->side, &err);
		job_fail(j, &err);
	}
	return ok;
}

/* _id filters leave out the rare types a side refuses in $type (it holds
 * none of them); one filter cannot serve both sides when the other side
 * holds an _id of such a type. */
bool
job_probe_types(struct job *j)
{
	struct idrange_caps s, t;
	char names[64];

	if (!probe_side(j, &j->src, &s) || !probe_side(j, &j->dst, &t))
		return false;
	j->omit = s.unnamed | t.unnamed;
	j->rangeable = ((s.present | t.present) & j->omit) == 0;
	if (s.unnamed)
		diag_info("%s: the source takes no %s type code in a query (so it holds no such _id)", j->src.ns,
			idrange_rare_names(s.unnamed, names, sizeof names));
	if (t.unnamed)
		diag_info("%s: the target takes no %s type code in a query (so it holds no such _id)", j->src.ns,
			idrange_rare_names(t.unnamed, names, sizeof names));
	return true;
}

/* With --partition, share 1 alone compares the metadata, so that the
 * shares' outputs put together hold each difference once. */
static bool
job_wants_metadata(const struct job *j)
{
	return j->o->meta && job_servers(j) && (j->o->part.n == 0 || j->o->part.k == 1);
}

static void
job_compare(struct job *j)
{
	const char *sfile = j->src.side->file, *tfile = j->dst.side->file;

	if (job_wants_metadata(j) && !metadata_compare(j))
		return; /* a side that cannot be read proves nothing */
	if (j->metadata_only || sig_stop_requested())
		return;
	if (j->o->count_only)
		compare_counts(j);
	else if (job_single_stream(j))
		merge_servers(j);
	else if (job_servers(j))
		ranges_compare(j);
	else if (sfile && tfile && merge_file_sorted(j->o, sfile) && merge_file_sorted(j->o, tfile))
		merge_files(j); /* both in _id order, as mongo-dump-bson writes them: stream */
	else
		hashjoin_compare(j);
	if (!j->failed && j->o->recheck > 0 && !sig_stop_requested())
		recheck_run(j);
}

/* The summary line and the exit status. */
static int
job_verdict(struct job *j, bool incomplete, double elapsed)
{
	const struct counts *n = &j->n;

	if (j->failed)
		return diag_exit(&j->err, "%s", j->src.ns);
	if (incomplete) {
		diag_error("%s: interrupted after %llu compared (missing %llu, extra %llu, changed %llu so far): "
			"no verdict%s", j->src.ns, (unsigned long long)n->compared, (unsigned long long)n->missing,
			(unsigned long long)n->extra, (unsigned long long)n->changed,
			j->o->checkpoint ? "; rerun with --resume to go on" : "");
		return MP_EX_TEMPFAIL;
	}
	if (!j->o->count_only && !j->metadata_only)
		diag_note("%s: compared %llu, equal %llu, missing %llu, extra %llu, changed %llu (%.0f docs/s)",
			j->src.ns, (unsigned long long)n->compared, (unsigned long long)n->equal,
			(unsigned long long)n->missing, (unsigned long long)n->extra, (unsigned long long)n->changed,
			elapsed > 0 ? (double)n->compared / elapsed : 0.0);
	if (job_wants_metadata(j))
		diag_note("%s: metadata %s", j->src.ns, n->metadata ? "differs" : "equal");
	if (j->o->recheck)
		diag_note("%s: %llu differences cleared on recheck", j->src.ns, (unsigned long long)n->cleared);
	return n->missing + n->extra + n->changed + n->metadata > 0 ? MP_EX_DIFFER : MP_EX_OK;
}

static void
job_summary(const struct job *j, struct stats *st, int rc, bool incomplete)
{
	bson_t x = BSON_INITIALIZER;

	BSON_APPEND_INT64(&x, "compared", (int64_t)j->n.compared);
	BSON_APPEND_INT64(&x, "equal", (int64_t)j->n.equal);
	BSON_APPEND_INT64(&x, "missing", (int64_t)j->n.missing);
	BSON_APPEND_INT64(&x, "extra", (int64_t)j->n.extra);
	BSON_APPEND_INT64(&x, "changed", (int64_t)j->n.changed);
	BSON_APPEND_INT64(&x, "rechecked_cleared", (int64_t)j->n.cleared);
	if (job_wants_metadata(j))
		BSON_APPEND_INT64(&x, "metadata", (int64_t)j->n.metadata);
	BSON_APPEND_UTF8(&x, "verdict",
		j->failed ? "error" : incomplete ? "incomplete" : rc == MP_EX_OK ? "equal" : "different");
	stats_emit(st, "summary", j->src.ns, j->n.compared, j->n.bytes,
		j->n.missing + j->n.extra + j->n.changed + j->n.metadata, &x);
	bson_destroy(&x);
}

int
job_run(struct job *j, struct stats *st)
{
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, NULL, NULL);
	double start = mp_now();
	bool incomplete;
	int rc;

	pthread_mutex_init(&j->lock, NULL);
	j->hlen = dochash_len(h);
	dochash_destroy(h);
	j->holding = j->o->recheck > 0;
	j->p = progress_new(j->src.ns, -1, j->o->c.progress);
	job_compare(j);
	/* a verdict exists only for a comparison that ran to its end */
	incomplete = sig_stop_requested() || (j->failed && mp_error_exitcode(&j->err) == MP_EX_TEMPFAIL);
	if (incomplete)
		j->failed = false; /* stopped, not broken: a checkpoint and a rerun go on */
	progress_update(j->p, j->n.compared, j->n.bytes);
	progress_finish(j->p);
	rc = job_verdict(j, incomplete, mp_now() - start);
	if (j->o->checkpoint && !j->failed && !incomplete && job_single_stream(j))
		unlink(j->o->checkpoint); /* finished: a later --resume starts over */
	job_summary(j, st, rc, incomplete);
	progress_destroy(j->p);
	for (int i = 0; i < j->nheld; i++)
		bson_value_destroy(&j->held[i]);
	bson_free(j->held);
	pthread_mutex_destroy(&j->lock);
	return rc;
}
