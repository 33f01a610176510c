/*
 * counts.c: what mongo-replay applied, in total and per target namespace,
 * and how late: the --stats records, the progress line and the summary.
 */
#include <string.h>
#include <time.h>

#include "diag.h"
#include "mongo-replay.h"
#include "sig.h"

void
counts_op(struct counts *c, enum change_op op)
{
	switch (op) {
	case CHANGE_INSERT: c->inserts++; break;
	case CHANGE_REPLACE: c->replaces++; break;
	case CHANGE_UPDATE: c->updates++; break;
	case CHANGE_DELETE: c->deletes++; break;
	default: c->ddl++; break;
	}
}

/* Count one applied item under its target namespace (the first
 * MAX_NS_COUNTS namespaces have rows; later ones only the totals).  Lock held. */
static void
count_ns(struct replay *r, const struct change_item *it)
{
	struct ns_key *key = (struct ns_key *)it->ns_key; /* the reader's; its row is ours */
	struct ns_counts *c = NULL;

	if (key != NULL && key->row == NS_ROW_NONE)
		return;
	if (key != NULL && key->row >= 0)
		c = &r->by_ns[key->row];
	else if (r->last_ns < r->nns && strcmp(r->by_ns[r->last_ns].coll, it->coll) == 0 &&
		 strcmp(r->by_ns[r->last_ns].db, it->db) == 0)
		c = &r->by_ns[r->last_ns];
	for (int i = 0; i < r->nns && c == NULL; i++)
		if (strcmp(r->by_ns[i].coll, it->coll) == 0 && strcmp(r->by_ns[i].db, it->db) == 0)
			c = &r->by_ns[r->last_ns = i];
	if (c == NULL) {
		if (r->nns == MAX_NS_COUNTS) {
			if (key != NULL)
				key->row = NS_ROW_NONE; /* no need to look again */
			return;
		}
		if (r->by_ns == NULL)
			r->by_ns = bson_malloc0(sizeof(struct ns_counts) * MAX_NS_COUNTS);
		c = &r->by_ns[r->last_ns = r->nns++];
		bson_strncpy(c->db, it->db, sizeof c->db);
		bson_strncpy(c->coll, it->coll, sizeof c->coll);
	}
	if (key != NULL)
		key->row = (int)(c - r->by_ns);
	counts_op(&c->n, it->ev.op);
	if (it->ev.wall_ms > c->last_wall_ms)
		c->last_wall_ms = it->ev.wall_ms;
}

/* The applied hook of changeapply: items[0..n) landed; res (may be NULL)
 * holds what the server counted. */
void
counts_applied(void *ctx, struct change_item *const *items, int n, const struct bulk_result *res)
{
	struct replay *r = ctx;

	pthread_mutex_lock(&r->wp.lock);
	for (int k = 0; k < n; k++) {
		counts_op(&r->n, items[k]->ev.op);
		count_ns(r, items[k]);
	}
	if (res != NULL) {
		r->n.inserted += res->inserted, r->n.upserted += res->upserted, r->n.matched += res->matched;
		r->n.modified += res->modified, r->n.removed += res->removed;
	}
	pthread_mutex_unlock(&r->wp.lock);
}

/* The retrying hook of changeapply: say so and count it, unless a signal
 * asked to stop. */
bool
counts_retrying(void *ctx, const struct change_item *from, const bson_error_t *err)
{
	struct replay *r = ctx;

	if (sig_stop_requested())
		return false;
	diag_warn("%s.%s: %s; retrying from event %llu", from->db, from->coll, err->message,
		(unsigned long long)from->record);
	pthread_mutex_lock(&r->wp.lock);
	r->n.retries++;
	pthread_mutex_unlock(&r->wp.lock);
	return true;
}

void
counts_lag_add(struct lag_hist *h, int64_t ms)
{
	if (h->n == NULL)
		h->n = bson_malloc0(sizeof(uint32_t) * LAG_BUCKETS);
	if (ms < 0)
		ms = 0;
	h->n[ms < LAG_BUCKETS - 1 ? ms : LAG_BUCKETS - 1]++;
	h->count++;
}

static int64_t
lag_percentile(const struct lag_hist *h, double q)
{
	uint64_t want = (uint64_t)((double)h->count * q), seen = 0;

	for (int64_t i = 0; h->n && i < LAG_BUCKETS; i++) {
		seen += h->n[i];
		if (seen > want || (seen == h->count && seen > 0))
			return i;
	}
	return -1;
}

static uint64_t
rejected(struct replay *r)
{
	return r->reject ? reject_count(r->reject) : 0;
}

static void
stats_totals(struct replay *r, bson_t *x)
{
	BSON_APPEND_INT64(x, "inserts", (int64_t)r->n.inserts);
	BSON_APPEND_INT64(x, "updates", (int64_t)r->n.updates);
	BSON_APPEND_INT64(x, "replaces", (int64_t)r->n.replaces);
	BSON_APPEND_INT64(x, "deletes", (int64_t)r->n.deletes);
	BSON_APPEND_INT64(x, "ddl", (int64_t)r->n.ddl);
	BSON_APPEND_INT64(x, "transactions", (int64_t)r->n.txns);
	BSON_APPEND_INT64(x, "skipped", (int64_t)r->n.skipped);
	BSON_APPEND_INT64(x, "skipped_by_checkpoint", (int64_t)r->n.skipped_ck);
	BSON_APPEND_INT64(x, "rejected", (int64_t)rejected(r));
	BSON_APPEND_INT64(x, "retries", (int64_t)r->n.retries);
	BSON_APPEND_INT64(x, "inserted", (int64_t)r->n.inserted);
	BSON_APPEND_INT64(x, "upserted", (int64_t)r->n.upserted);
	BSON_APPEND_INT64(x, "matched", (int64_t)r->n.matched);
	BSON_APPEND_INT64(x, "modified", (int64_t)r->n.modified);
	BSON_APPEND_INT64(x, "removed", (int64_t)r->n.removed);
}

static void
stats_lag(struct replay *r, bson_t *x)
{
	double lag = r->ck_secs ? (double)time(NULL) - (double)r->ck_secs : -1;

	if (lag >= 0)
		BSON_APPEND_DOUBLE(x, "lag_s", lag);
	if (r->ck_secs)
		BSON_APPEND_TIMESTAMP(x, "last_cluster_time", r->ck_secs, 0);
	if (r->lag.count > 0) {
		BSON_APPEND_INT64(x, "lag_p50_ms", lag_percentile(&r->lag, 0.50));
		BSON_APPEND_INT64(x, "lag_p99_ms", lag_percentile(&r->lag, 0.99));
		BSON_APPEND_INT64(x, "lag_max_ms", lag_percentile(&r->lag, 1.0));
	}
}

static void
stats_namespaces(struct replay *r, bson_t *x)
{
	bson_t arr, one;
	char key[16];

	bson_append_array_begin(x, "namespaces", -1, &arr);
	for (int i = 0; i < r->nns; i++) {
		const struct ns_counts *k = &r->by_ns[i];
		char *ns = bson_strdup_printf("%s.%s", k->db, k->coll);

		bson_snprintf(key, sizeof key, "%d", i);
		bson_append_document_begin(&arr, key, -1, &one);
		BSON_APPEND_UTF8(&one, "ns", ns);
		bson_free(ns);
		BSON_APPEND_INT64(&one, "inserts", (int64_t)k->n.inserts);
		BSON_APPEND_INT64(&one, "updates", (int64_t)k->n.updates);
		BSON_APPEND_INT64(&one, "replaces", (int64_t)k->n.replaces);
		BSON_APPEND_INT64(&one, "deletes", (int64_t)k->n.deletes);
		if (k->last_wall_ms > 0)
			BSON_APPEND_DATE_TIME(&one, "last_change", k->last_wall_ms);
		bson_append_document_end(&arr, &one);
	}
	bson_append_array_end(x, &arr);
}

/* The tool's fields of a --stats record. */
static void
stats_extra(struct replay *r, bson_t *x)
{
	bson_t c;

	stats_totals(r, x);
	stats_lag(r, x);
	if (r->nns > 0)
		stats_namespaces(r, x);
	if (r->has_ck) {
		bson_append_document_begin(x, "checkpoint", -1, &c);
		bson_concat(&c, &r->ck);
		bson_append_document_end(x, &c);
	}
}

static void
stats_record(struct replay *r, const char *type)
{
	bson_t x = BSON_INITIALIZER;

	stats_extra(r, &x);
	stats_emit(r->stats, type, "replay", r->n.events, r->n.bytes, rejected(r), &x);
	bson_destroy(&x);
}

/* The progress line, and a --stats progress record when one is due; both
 * are about time, so they are looked at ten times a second, not for every
 * event (a lock and two snprintf per event were most of replay's own CPU). */
void
counts_progress(struct replay *r)
{
	char note[64] = "";
	double now = mp_now_coarse();

	if (now - r->progress_at < 0.1)
		return;
	r->progress_at = now;
	pthread_mutex_lock(&r->wp.lock);
	if (r->ck_secs)
		snprintf(note, sizeof note, "lag %.0fs", (double)time(NULL) - (double)r->ck_secs);
	progress_set_note(r->progress, note);
	progress_update(r->progress, r->n.events, r->n.bytes);
	if (stats_due(r->stats))
		stats_record(r, "progress");
	pthread_mutex_unlock(&r->wp.lock);
}

/* The end: the last progress line, the --stats summary, the -v line. */
void
counts_summary(struct replay *r)
{
	progress_update(r->progress, r->n.events, r->n.bytes);
	progress_finish(r->progress);
	stats_record(r, "summary");
	diag_info("%llu events: %llu inserts, %llu updates, %llu replaces, %llu deletes, %llu DDL, "
		"%llu skipped, %llu already applied (checkpoint), %llu rejected, %llu retries",
		(unsigned long long)r->n.events, (unsigned long long)r->n.inserts, (unsigned long long)r->n.updates,
		(unsigned long long)r->n.replaces, (unsigned long long)r->n.deletes, (unsigned long long)r->n.ddl,
		(unsigned long long)r->n.skipped, (unsigned long long)r->n.skipped_ck,
		(unsigned long long)rejected(r), (unsigned long long)r->n.retries);
}
