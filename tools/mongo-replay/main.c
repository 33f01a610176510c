/*
 * mongo-replay: apply a change-event stream to a target deployment,
 * idempotently, with a checkpoint that never passes unacknowledged work.
 *
 * The main thread reads events (stdin, --from FILE, or a staging collection
 * with --from-ns), maps their namespace and hands document events to
 * --workers lanes chosen by a hash of the documentKey, so the events of one
 * document stay in order.  Each lane applies what is queued as ordered bulk
 * writes.  Every event has a sequence number and a slot in a window; the
 * checkpoint is the resume token of the newest event such that it and every
 * event before it are acknowledged by the target (or deliberately skipped).
 * Control events (drop, rename, ...) and --txn atomic transactions wait for
 * the lanes to drain and are handled by the main thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "changeevent.h"
#include "checkpoint.h"
#include "cli.h"
#include "conn.h"
#include "diag.h"
#include "docstream.h"
#include "exitcode.h"
#include "progress.h"
#include "sig.h"

#define TOOL "mongo-replay"
#define WINDOW 16384
#define WINDOW_BYTES (64u * 1024 * 1024)
#define MAX_FRAGMENTS 1024

enum ddl_policy { DDL_STOP, DDL_SKIP, DDL_APPLY };

enum {
	OPT_FROM = CLI_OPT_TOOL_BASE,
	OPT_FROM_NS,
	OPT_NS_MAP,
	OPT_ONLY_MAPPED,
	OPT_PREFER_FULL,
	OPT_ON_DDL,
	OPT_CHECKPOINT,
	OPT_WORKERS,
	OPT_BATCH_SIZE,
	OPT_TXN,
	OPT_DRY_RUN,
	OPT_WRITE_CONCERN,
	OPT_REJECT,
	OPT_RETRIES,
};

static const struct option longopts[] = {
	CLI_COMMON_OPTIONS,
	{"from", required_argument, NULL, OPT_FROM},
	{"from-ns", required_argument, NULL, OPT_FROM_NS},
	{"ns-map", required_argument, NULL, OPT_NS_MAP},
	{"only-mapped", no_argument, NULL, OPT_ONLY_MAPPED},
	{"prefer-full-document", no_argument, NULL, OPT_PREFER_FULL},
	{"on-ddl", required_argument, NULL, OPT_ON_DDL},
	{"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	{"txn", required_argument, NULL, OPT_TXN},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"write-concern", required_argument, NULL, OPT_WRITE_CONCERN},
	{"reject", required_argument, NULL, OPT_REJECT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-replay [--uri URI | --uri-file FILE] [--from FILE | --from-ns DB.COLL] [options]\n"
		"\n"
		"Apply a change-event stream (stdin by default) to the target, idempotently.\n"
		"\n"
		"Where:    --ns-map SRC=DST (db.coll=db2.coll, db.*=db2.*)  --only-mapped\n"
		"How:      --prefer-full-document  --on-ddl stop|skip|apply  --txn each|atomic\n"
		"          --write-concern W  --dry-run\n"
		"Speed:    --workers N  --batch-size N  --retries N\n"
		"Safety:   --checkpoint FILE  --reject FILE\n"
		"Common:   --uri URI  --uri-file FILE  --input-format F  --format F  --json MODE  --gzip\n"
		"          --stats FILE  --stats-fd N  --progress  --max-doc-size N\n"
		"          -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 done, 3 stopped at a DDL or invalidate event, 64 usage, 65 bad event\n"
		"or rejected write, 66 no input, 69 server, 73/74 output.  See mongo-replay(1).\n");
}

struct opts {
	struct cli_common c;
	int retries; /* writes of unknown outcome sent again before giving up */
	const char *from, *from_ns, *checkpoint, *write_concern, *reject;
	struct ns_map *map;
	bool only_mapped, prefer_full, dry_run, txn_atomic;
	enum ddl_policy on_ddl;
	int64_t batch_size;
	int workers;
};

/* One event on its way to the target. */
struct item {
	uint64_t seq, record;
	bson_t *event;           /* owned */
	struct change_event ev;  /* views into event */
	char *db, *coll;         /* mapped target namespace */
	struct item *next;
};

struct slot {
	bool used, done, has_token;
	bson_t token;
	uint32_t secs;
	int64_t wall_ms;
	size_t bytes;
};

/* End-to-end lag (acknowledged on the target minus the event's wallTime on
 * the source), in milliseconds, for percentiles. */
#define LAG_BUCKETS 60001
struct lag_hist {
	uint32_t *n; /* n[ms], the last bucket holds everything above */
	uint64_t count;
};

static void
lag_add(struct lag_hist *h, int64_t ms)
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

struct lane {
	struct replay *r;
	pthread_t thread;
	struct item *head, *tail;
	bool started;
};

struct counts {
	uint64_t events, bytes, inserts, updates, replaces, deletes, ddl, skipped, skipped_ck, rejected,
		retries, txns, upserted, matched, modified, removed, unmatched;
};

/* What was applied to one target namespace, for --stats. */
#define MAX_NS_COUNTS 256
struct ns_counts {
	char db[128], coll[256];
	struct counts n;
	int64_t last_wall_ms;
};

struct replay {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	mongoc_write_concern_t *wc;
	struct lane *lanes;
	int nlanes;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool closing, fatal;
	bson_error_t err;

	struct slot *ring;
	uint64_t next_seq, low;
	size_t inflight_bytes;

	bson_t ck;               /* token of the acknowledged prefix */
	bool has_ck, ck_dirty;
	uint32_t ck_secs;
	double last_save;

	struct counts n;
	struct ns_counts *by_ns;
	int nns;
	struct lag_hist lag;
	FILE *reject;
	struct docstream_writer *dry;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the acknowledged prefix and the checkpoint ---- */

static bool
save_checkpoint(struct replay *r, bson_error_t *err)
{
	bool ok = true;

	if (r->o->checkpoint && r->has_ck && r->ck_dirty && !r->o->dry_run) {
		ok = checkpoint_save(r->o->checkpoint, &r->ck, err);
		r->ck_dirty = false;
	}
	r->last_save = mp_now();
	return ok;
}

/* Mark seq done (lock held) and move the prefix forward. */
static void
mark_done(struct replay *r, uint64_t seq)
{
	struct slot *s = &r->ring[seq % WINDOW];

	s->done = true;
	if (s->wall_ms > 0 && !r->o->dry_run)
		lag_add(&r->lag, now_ms() - s->wall_ms);
	while (r->low < r->next_seq && r->ring[r->low % WINDOW].done) {
		s = &r->ring[r->low % WINDOW];
		if (s->has_token) {
			bson_destroy(&r->ck);
			bson_copy_to(&s->token, &r->ck);
			r->has_ck = r->ck_dirty = true;
			bson_destroy(&s->token);
			s->has_token = false;
		}
		if (s->secs)
			r->ck_secs = s->secs;
		r->inflight_bytes -= s->bytes;
		s->used = s->done = false;
		r->low++;
	}
	if (mp_now() - r->last_save >= 0.2) {
		bson_error_t err;

		if (!save_checkpoint(r, &err) && !r->fatal) {
			r->fatal = true;
			r->err = err;
		}
	}
	pthread_cond_broadcast(&r->cond);
}

static void
set_fatal(struct replay *r, const bson_error_t *err)
{
	pthread_mutex_lock(&r->lock);
	if (!r->fatal) {
		r->fatal = true;
		r->err = *err;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Take a slot for the next event; blocks while the window is full. */
static bool
take_slot(struct replay *r, const struct change_event *ev, size_t bytes, uint64_t *seq)
{
	struct slot *s;

	pthread_mutex_lock(&r->lock);
	while (!r->fatal && (r->next_seq - r->low >= WINDOW ||
			     (r->inflight_bytes + bytes > WINDOW_BYTES && r->next_seq > r->low)))
		pthread_cond_wait(&r->cond, &r->lock);
	if (r->fatal) {
		pthread_mutex_unlock(&r->lock);
		return false;
	}
	*seq = r->next_seq++;
	s = &r->ring[*seq % WINDOW];
	s->used = true;
	s->done = false;
	s->has_token = ev && ev->has_token;
	if (s->has_token)
		bson_copy_to(&ev->token, &s->token);
	s->secs = ev ? ev->cluster_secs : 0;
	s->wall_ms = ev ? ev->wall_ms : 0;
	s->bytes = bytes;
	r->inflight_bytes += bytes;
	pthread_mutex_unlock(&r->lock);
	return true;
}

/* Wait until every event before sequence number `upto` is acknowledged. */
static bool
drain_to(struct replay *r, uint64_t upto)
{
	bool ok;

	pthread_mutex_lock(&r->lock);
	while (!r->fatal && r->low < (upto < r->next_seq ? upto : r->next_seq))
		pthread_cond_wait(&r->cond, &r->lock);
	ok = !r->fatal;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* Wait until every event handed out so far is acknowledged. */
static bool
drain(struct replay *r)
{
	uint64_t upto;

	pthread_mutex_lock(&r->lock);
	upto = r->next_seq;
	pthread_mutex_unlock(&r->lock);
	return drain_to(r, upto);
}

/* ---- rejects ---- */

static void
reject_write(struct replay *r, uint64_t record, const char *msg, int64_t code, const bson_t *event)
{
	bson_t env = BSON_INITIALIZER;
	char *head, *body;
	size_t hl;

	BSON_APPEND_UTF8(&env, "error", msg);
	if (code)
		BSON_APPEND_INT64(&env, "code", code);
	BSON_APPEND_INT64(&env, "record", (int64_t)record);
	head = bson_as_relaxed_extended_json(&env, NULL);
	hl = strlen(head);
	while (hl > 0 && (head[hl - 1] == '}' || head[hl - 1] == ' '))
		head[--hl] = '\0';
	body = bson_as_canonical_extended_json(event, NULL);
	pthread_mutex_lock(&r->lock);
	fprintf(r->reject, "%s, \"event\" : %s }\n", head, body ? body : "null");
	fflush(r->reject);
	r->n.rejected++;
	pthread_mutex_unlock(&r->lock);
	bson_free(head);
	bson_free(body);
	bson_destroy(&env);
}

static char *
token_text(const struct change_event *ev)
{
	return ev->has_token ? bson_as_canonical_extended_json(&ev->token, NULL) : bson_strdup("(no _id)");
}

/* ---- applying document events ---- */

static void
count_op(struct counts *c, enum change_op op)
{
	switch (op) {
	case CHANGE_INSERT: c->inserts++; break;
	case CHANGE_REPLACE: c->replaces++; break;
	case CHANGE_UPDATE: c->updates++; break;
	case CHANGE_DELETE: c->deletes++; break;
	default: c->ddl++; break;
	}
}

static void
reply_counts(struct counts *c, const bson_t *reply)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, reply, "nUpserted"))
		c->upserted += (uint64_t)bson_iter_as_int64(&it);
	if (bson_iter_init_find(&it, reply, "nMatched"))
		c->matched += (uint64_t)bson_iter_as_int64(&it);
	if (bson_iter_init_find(&it, reply, "nModified"))
		c->modified += (uint64_t)bson_iter_as_int64(&it);
	if (bson_iter_init_find(&it, reply, "nRemoved"))
		c->removed += (uint64_t)bson_iter_as_int64(&it);
}

/* Count one applied item under its target namespace (the first
 * MAX_NS_COUNTS namespaces have rows; later ones only the totals). */
static void
count_ns(struct replay *r, const struct item *it)
{
	struct ns_counts *c = NULL;

	for (int i = 0; i < r->nns && c == NULL; i++)
		if (strcmp(r->by_ns[i].coll, it->coll) == 0 && strcmp(r->by_ns[i].db, it->db) == 0)
			c = &r->by_ns[i];
	if (c == NULL) {
		if (r->nns == MAX_NS_COUNTS)
			return;
		if (r->by_ns == NULL)
			r->by_ns = bson_malloc0(sizeof(struct ns_counts) * MAX_NS_COUNTS);
		c = &r->by_ns[r->nns++];
		bson_strncpy(c->db, it->db, sizeof c->db);
		bson_strncpy(c->coll, it->coll, sizeof c->coll);
	}
	count_op(&c->n, it->ev.op);
	if (it->ev.wall_ms > c->last_wall_ms)
		c->last_wall_ms = it->ev.wall_ms;
}

/* Count items[from..to) as applied, with the reply counts in c. */
static void
add_counts(struct replay *r, struct counts *c, struct item **items, int from, int to)
{
	for (int k = from; k < to; k++)
		count_op(c, items[k]->ev.op);
	pthread_mutex_lock(&r->lock);
	for (int k = from; k < to; k++)
		count_ns(r, items[k]);
	r->n.inserts += c->inserts, r->n.updates += c->updates, r->n.replaces += c->replaces;
	r->n.deletes += c->deletes, r->n.upserted += c->upserted, r->n.matched += c->matched;
	r->n.modified += c->modified, r->n.removed += c->removed;
	pthread_mutex_unlock(&r->lock);
}

static bool
add_write(mongoc_bulk_operation_t *bulk, const struct change_write *w, bson_error_t *err)
{
	bson_t opts = BSON_INITIALIZER;
	bool ok;

	switch (w->kind) {
	case CHANGE_WRITE_REPLACE:
		BSON_APPEND_BOOL(&opts, "upsert", w->upsert);
		BSON_APPEND_BOOL(&opts, "validate", false);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &w->filter, &w->doc, &opts, err);
		break;
	case CHANGE_WRITE_UPDATE:
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &w->filter, &w->doc, &opts, err);
		break;
	default:
		ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &w->filter, &opts, err);
		break;
	}
	bson_destroy(&opts);
	return ok;
}

/* The first write error of a bulk reply: index and message. */
static bool
first_write_error(const bson_t *reply, int64_t *index, int64_t *code, const char **msg)
{
	bson_iter_t it, arr, e;

	if (!bson_iter_init_find(&it, reply, "writeErrors") || !bson_iter_recurse(&it, &arr) ||
	    !bson_iter_next(&arr) || !bson_iter_recurse(&arr, &e))
		return false;
	*index = -1;
	*code = 0;
	*msg = "";
	while (bson_iter_next(&e)) {
		if (strcmp(bson_iter_key(&e), "index") == 0)
			*index = bson_iter_as_int64(&e);
		else if (strcmp(bson_iter_key(&e), "code") == 0)
			*code = bson_iter_as_int64(&e);
		else if (strcmp(bson_iter_key(&e), "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&e))
			*msg = bson_iter_utf8(&e, NULL);
	}
	return *index >= 0;
}

/*
 * Apply items[from..to) (all one namespace) as ordered bulk writes.  An event
 * the target refuses goes to --reject and the rest goes on, or is fatal.
 * Transient errors retry from the first unapplied event: every write is
 * idempotent.  *applied tells how many items (from `from`) are done.
 */
static bool
apply_segment(struct replay *r, mongoc_client_t *client, struct item **items, int from, int to, int *applied)
{
	mongoc_collection_t *coll = mongoc_client_get_collection(client, items[from]->db, items[from]->coll);
	int start = from, attempt = 0;
	bool ok = false;
	bson_error_t err;

	while (start < to) {
		bson_t bopts = BSON_INITIALIZER, reply;
		mongoc_bulk_operation_t *bulk;
		int *map = bson_malloc(sizeof(int) * (size_t)(to - start) * CHANGE_MAX_WRITES + sizeof(int));
		int nops = 0, bad = -1;
		struct counts c = {0};
		bool exec_ok;
		int64_t idx, code;
		const char *msg;

		BSON_APPEND_BOOL(&bopts, "ordered", true);
		mongoc_write_concern_append(r->wc, &bopts);
		bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
		for (int i = start; i < to && bad < 0; i++) {
			struct change_write w[CHANGE_MAX_WRITES];
			int nw = change_event_writes(&items[i]->ev, r->o->prefer_full, w, &err);

			if (nw < 0) {
				bad = i;
				break;
			}
			for (int k = 0; k < nw; k++) {
				if (!add_write(bulk, &w[k], &err)) {
					bad = i;
					break;
				}
				map[nops++] = i;
			}
			change_writes_destroy(w, nw);
		}
		if (bad >= 0) {
			/* an event that cannot be written: apply what precedes it */
			mongoc_bulk_operation_destroy(bulk);
			bson_destroy(&bopts);
			bson_free(map);
			if (bad > start) {
				int done = 0;

				if (!apply_segment(r, client, items, start, bad, &done)) {
					start += done;
					break;
				}
			}
			start = bad;
			if (r->reject == NULL) {
				char *tok = token_text(&items[bad]->ev);

				mp_error_wrap(&err, "event %llu (token %s)", (unsigned long long)items[bad]->record, tok);
				bson_free(tok);
				break;
			}
			reject_write(r, items[bad]->record, err.message, 0, items[bad]->event);
			start = bad + 1;
			continue;
		}
		exec_ok = nops == 0 || mongoc_bulk_operation_execute(bulk, &reply, &err) != 0;
		if (nops == 0)
			bson_init(&reply);
		reply_counts(&c, &reply);
		if (!exec_ok && first_write_error(&reply, &idx, &code, &msg) && idx < nops) {
			int i = map[idx];
			char *tok = token_text(&items[i]->ev);

			mp_error_set(&err, MP_EX_DATAERR, "event %llu (token %s, %s of %s.%s): the target refused "
				"the write: %s (code %lld)", (unsigned long long)items[i]->record, tok,
				items[i]->ev.op_name, items[i]->db, items[i]->coll, msg, (long long)code);
			bson_free(tok);
			add_counts(r, &c, items, start, i);
			bson_destroy(&reply);
			mongoc_bulk_operation_destroy(bulk);
			bson_destroy(&bopts);
			bson_free(map);
			if (r->reject == NULL) {
				start = i;
				break;
			}
			reject_write(r, items[i]->record, err.message, code, items[i]->event);
			start = i + 1;
			attempt = 0;
			continue;
		}
		bson_destroy(&reply);
		mongoc_bulk_operation_destroy(bulk);
		bson_destroy(&bopts);
		bson_free(map);
		if (exec_ok) {
			add_counts(r, &c, items, start, to);
			start = to;
			break;
		}
		if (mp_error_transient(&err) && attempt < r->o->retries && !sig_stop_requested()) {
			diag_warn("%s.%s: %s; retrying from event %llu", items[start]->db, items[start]->coll,
				err.message, (unsigned long long)items[start]->record);
			pthread_mutex_lock(&r->lock);
			r->n.retries++;
			pthread_mutex_unlock(&r->lock);
			mp_backoff(attempt++);
			continue;
		}
		break;
	}
	ok = start >= to;
	if (!ok)
		set_fatal(r, &err);
	*applied = start - from;
	mongoc_collection_destroy(coll);
	return ok;
}

static void
item_destroy(struct item *it)
{
	if (it == NULL)
		return;
	bson_destroy(it->event);
	bson_free(it->db);
	bson_free(it->coll);
	bson_free(it);
}

static void *
lane_main(void *arg)
{
	struct lane *lane = arg;
	struct replay *r = lane->r;
	mongoc_client_t *client = mongoc_client_pool_pop(r->pool);
	struct item **items = bson_malloc(sizeof(struct item *) * (size_t)r->o->batch_size);

	for (;;) {
		int n = 0, i = 0;

		pthread_mutex_lock(&r->lock);
		while (lane->head == NULL && !r->closing && !r->fatal)
			pthread_cond_wait(&r->cond, &r->lock);
		if (lane->head == NULL || r->fatal) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		while (lane->head && n < r->o->batch_size) {
			items[n++] = lane->head;
			lane->head = lane->head->next;
		}
		if (lane->head == NULL)
			lane->tail = NULL;
		pthread_mutex_unlock(&r->lock);

		while (i < n) {
			int j = i + 1, done = 0;
			bool ok;

			while (j < n && strcmp(items[j]->db, items[i]->db) == 0 &&
			       strcmp(items[j]->coll, items[i]->coll) == 0)
				j++;
			ok = apply_segment(r, client, items, i, j, &done);
			pthread_mutex_lock(&r->lock);
			for (int k = i; k < i + done; k++)
				mark_done(r, items[k]->seq);
			pthread_mutex_unlock(&r->lock);
			if (!ok)
				break;
			i = j;
		}
		for (int k = 0; k < n; k++)
			item_destroy(items[k]);
	}
	bson_free(items);
	mongoc_client_pool_push(r->pool, client);
	return NULL;
}

static uint32_t
key_hash(const struct item *it)
{
	const uint8_t *p = bson_get_data(&it->ev.key);
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < it->ev.key.len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool
dispatch(struct replay *r, struct item *it)
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

/* ---- dry run: print the writes ---- */

static bool
dry_print(struct replay *r, const char *db, const char *coll, const char *op, const bson_t *extra,
	bson_error_t *err)
{
	bson_t rec = BSON_INITIALIZER;
	char ns[512];
	bool ok;

	snprintf(ns, sizeof ns, "%s%s%s", db, coll ? "." : "", coll ? coll : "");
	BSON_APPEND_UTF8(&rec, "ns", ns);
	BSON_APPEND_UTF8(&rec, "op", op);
	if (extra)
		bson_concat(&rec, extra);
	ok = docstream_write(r->dry, &rec, err);
	bson_destroy(&rec);
	return ok;
}

static bool
dry_writes(struct replay *r, const struct item *it, bson_error_t *err)
{
	struct change_write w[CHANGE_MAX_WRITES];
	int nw = change_event_writes(&it->ev, r->o->prefer_full, w, err);
	bool ok = nw >= 0;

	for (int k = 0; ok && k < nw; k++) {
		bson_t x = BSON_INITIALIZER;
		const char *op = w[k].kind == CHANGE_WRITE_REPLACE ? "replaceOne" :
				 w[k].kind == CHANGE_WRITE_UPDATE  ? "updateOne" : "deleteOne";

		BSON_APPEND_DOCUMENT(&x, "filter", &w[k].filter);
		if (w[k].kind == CHANGE_WRITE_REPLACE)
			BSON_APPEND_DOCUMENT(&x, "replacement", &w[k].doc);
		else if (w[k].kind == CHANGE_WRITE_UPDATE)
			BSON_APPEND_DOCUMENT(&x, "update", &w[k].doc);
		if (w[k].upsert)
			BSON_APPEND_BOOL(&x, "upsert", true);
		ok = dry_print(r, it->db, it->coll, op, &x, err);
		bson_destroy(&x);
	}
	if (nw > 0)
		change_writes_destroy(w, nw);
	return ok;
}

/* ---- control events ---- */

static bool
run_admin(mongoc_client_t *client, const char *db, const bson_t *cmd, bson_error_t *err)
{
	bson_t reply;
	bool ok = mongoc_client_write_command_with_opts(client, db, cmd, NULL, &reply, err);

	bson_destroy(&reply);
	return ok;
}

/* The operationDescription.indexes array of an index event, if any. */
static bool
op_indexes(const bson_t *event, bson_iter_t *arr)
{
	bson_iter_t it;

	return bson_iter_init(&it, event) && bson_iter_find_descendant(&it, "operationDescription.indexes", &it) &&
	       BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, arr);
}

/*
 * Apply a control event to the target (after the lanes drained): drop,
 * rename, dropDatabase, create, createIndexes, dropIndexes.  Others are
 * reported and skipped.  Returns false with err on failure.
 */
static bool
apply_ddl(struct replay *r, mongoc_client_t *client, const struct item *it, bson_error_t *err)
{
	const struct change_event *ev = &it->ev;
	bson_t cmd = BSON_INITIALIZER, x = BSON_INITIALIZER;
	const char *op = ev->op_name;
	bool ok = true, run = true;
	char *to_db = NULL, *to_coll = NULL;

	switch (ev->op) {
	case CHANGE_DROP:
		BSON_APPEND_UTF8(&cmd, "drop", it->coll);
		break;
	case CHANGE_DROP_DATABASE:
		BSON_APPEND_INT32(&cmd, "dropDatabase", 1);
		break;
	case CHANGE_RENAME: {
		char from[512], to[512];

		if (!ns_map_apply(r->o->map, ev->to_db, ev->to_coll, true, &to_db, &to_coll)) {
			run = false;
			break;
		}
		snprintf(from, sizeof from, "%s.%s", it->db, it->coll);
		snprintf(to, sizeof to, "%s.%s", to_db, to_coll);
		BSON_APPEND_UTF8(&cmd, "renameCollection", from);
		BSON_APPEND_UTF8(&cmd, "to", to);
		BSON_APPEND_BOOL(&cmd, "dropTarget", true);
		BSON_APPEND_UTF8(&x, "to", to);
		break;
	}
	default:
		if (strcmp(op, "create") == 0) {
			BSON_APPEND_UTF8(&cmd, "create", it->coll);
		} else if (strcmp(op, "createIndexes") == 0 || strcmp(op, "dropIndexes") == 0) {
			bson_iter_t arr;
			bson_t list;

			if (it->coll == NULL || !op_indexes(it->event, &arr)) {
				mp_error_set(err, MP_EX_DATAERR, "%s event without operationDescription.indexes "
					"(watch with showExpandedEvents)", op);
				ok = false;
				break;
			}
			BSON_APPEND_UTF8(&cmd, op, it->coll);
			if (op[0] == 'c') {
				bson_append_array_begin(&cmd, "indexes", 7, &list);
				for (int i = 0; bson_iter_next(&arr); i++) {
					char key[16];

					bson_snprintf(key, sizeof key, "%d", i);
					bson_append_iter(&list, key, -1, &arr);
				}
				bson_append_array_end(&cmd, &list);
			} else {
				bson_append_array_begin(&cmd, "index", 5, &list);
				for (int i = 0; bson_iter_next(&arr); i++) {
					bson_iter_t name;
					char key[16];

					bson_snprintf(key, sizeof key, "%d", i);
					if (bson_iter_recurse(&arr, &name) && bson_iter_find(&name, "name"))
						bson_append_iter(&list, key, -1, &name);
				}
				bson_append_array_end(&cmd, &list);
			}
		} else {
			diag_warn("event %llu: %s on %s: cannot be applied by mongo-replay; skipped",
				(unsigned long long)it->record, op, it->db);
			run = false;
		}
		break;
	}
	if (ok && run) {
		if (r->o->dry_run) {
			BSON_APPEND_DOCUMENT(&x, "command", &cmd);
			ok = dry_print(r, it->db, it->coll, op, &x, err);
		} else {
			bson_error_t e;

			/* renameCollection is an admin command; the others run on the db */
			ok = run_admin(client, ev->op == CHANGE_RENAME ? "admin" : it->db, &cmd, &e);
			/* already in the state the event leads to */
			if (!ok && (e.code == 26 || e.code == 48 || e.code == 27 || e.code == 85 || e.code == 86 ||
				    strstr(e.message, "ns not found") || strstr(e.message, "already exists"))) {
				diag_info("event %llu: %s: %s (already applied)", (unsigned long long)it->record, op,
					e.message);
				ok = true;
			}
			if (!ok) {
				*err = e;
				mp_error_wrap(err, "event %llu: applying %s", (unsigned long long)it->record, op);
			}
		}
	}
	bson_free(to_db);
	bson_free(to_coll);
	bson_destroy(&cmd);
	bson_destroy(&x);
	return ok;
}

/* ---- transactions (--txn atomic) ---- */

struct txn_ctx {
	struct replay *r;
	mongoc_client_t *client;
	struct item **items;
	int n;
};

static bool
txn_body(mongoc_client_session_t *session, void *ctx_, bson_t **reply, bson_error_t *err)
{
	struct txn_ctx *ctx = ctx_;

	(void)reply;
	for (int i = 0; i < ctx->n; i++) {
		struct item *it = ctx->items[i];
		mongoc_collection_t *coll = mongoc_client_get_collection(ctx->client, it->db, it->coll);
		struct change_write w[CHANGE_MAX_WRITES];
		int nw = change_event_writes(&it->ev, ctx->r->o->prefer_full, w, err);
		bool ok = nw >= 0;

		for (int k = 0; ok && k < nw; k++) {
			bson_t opts = BSON_INITIALIZER;

			ok = mongoc_client_session_append(session, &opts, err);
			if (ok && w[k].upsert)
				BSON_APPEND_BOOL(&opts, "upsert", true);
			if (!ok)
				;
			else if (w[k].kind == CHANGE_WRITE_REPLACE)
				ok = mongoc_collection_replace_one(coll, &w[k].filter, &w[k].doc, &opts, NULL, err);
			else if (w[k].kind == CHANGE_WRITE_UPDATE)
				ok = mongoc_collection_update_one(coll, &w[k].filter, &w[k].doc, &opts, NULL, err);
			else
				ok = mongoc_collection_delete_one(coll, &w[k].filter, &opts, NULL, err);
			bson_destroy(&opts);
		}
		if (nw > 0)
			change_writes_destroy(w, nw);
		mongoc_collection_destroy(coll);
		if (!ok)
			return false;
	}
	return true;
}

static bool
apply_txn(struct replay *r, mongoc_client_t *client, struct item **items, int n, bson_error_t *err)
{
	bool ok;

	if (r->o->dry_run) {
		bson_t x = BSON_INITIALIZER;

		BSON_APPEND_DOCUMENT(&x, "lsid", &items[0]->ev.lsid);
		BSON_APPEND_INT64(&x, "txnNumber", items[0]->ev.txn_number);
		BSON_APPEND_INT32(&x, "events", n);
		ok = dry_print(r, items[0]->db, items[0]->coll, "startTransaction", &x, err);
		for (int i = 0; ok && i < n; i++)
			ok = dry_writes(r, items[i], err);
		ok = ok && dry_print(r, items[0]->db, items[0]->coll, "commitTransaction", NULL, err);
		bson_destroy(&x);
	} else {
		mongoc_client_session_t *s = mongoc_client_start_session(client, NULL, err);
		mongoc_transaction_opt_t *topts = mongoc_transaction_opts_new();
		struct txn_ctx ctx = {r, client, items, n};

		mongoc_transaction_opts_set_write_concern(topts, r->wc);
		ok = s != NULL && mongoc_client_session_with_transaction(s, txn_body, topts, &ctx, NULL, err);
		mongoc_transaction_opts_destroy(topts);
		mongoc_client_session_destroy(s);
		if (!ok)
			mp_error_wrap(err, "event %llu: the transaction of %d events", (unsigned long long)items[0]->record,
				n);
	}
	if (ok) {
		pthread_mutex_lock(&r->lock);
		for (int i = 0; i < n; i++) {
			count_op(&r->n, items[i]->ev.op);
			count_ns(r, items[i]);
		}
		r->n.txns++;
		pthread_mutex_unlock(&r->lock);
	}
	return ok;
}

/* ---- input ---- */

struct source {
	struct docstream_reader *reader;
	mongoc_client_t *client;
	mongoc_cursor_t *cursor;
	uint64_t record;
	const char *name;
};

static int
source_next(struct source *s, const bson_t **doc, bson_error_t *err)
{
	int rc;

	if (s->reader) {
		rc = docstream_read(s->reader, doc, err);
		if (rc != 0)
			s->record = docstream_reader_record(s->reader);
		return rc;
	}
	if (mongoc_cursor_next(s->cursor, doc)) {
		s->record++;
		return 1;
	}
	if (mongoc_cursor_error(s->cursor, err))
		return -1;
	return 0;
}

static void
where(const struct source *s, char *buf, size_t size)
{
	if (s->reader == NULL)
		snprintf(buf, size, "%s: event %llu", s->name, (unsigned long long)s->record);
	else if (docstream_reader_format(s->reader) == DOCSTREAM_NDJSON)
		snprintf(buf, size, "%s: event %llu (line %llu)", s->name, (unsigned long long)s->record,
			(unsigned long long)docstream_reader_line(s->reader));
	else
		snprintf(buf, size, "%s: event %llu (byte offset %llu)", s->name, (unsigned long long)s->record,
			(unsigned long long)docstream_reader_offset(s->reader));
}

/* ---- the main loop ---- */

static void
stats_extra(struct replay *r, bson_t *x)
{
	bson_t c;
	double lag = r->ck_secs ? (double)time(NULL) - (double)r->ck_secs : -1;

	BSON_APPEND_INT64(x, "inserts", (int64_t)r->n.inserts);
	BSON_APPEND_INT64(x, "updates", (int64_t)r->n.updates);
	BSON_APPEND_INT64(x, "replaces", (int64_t)r->n.replaces);
	BSON_APPEND_INT64(x, "deletes", (int64_t)r->n.deletes);
	BSON_APPEND_INT64(x, "ddl", (int64_t)r->n.ddl);
	BSON_APPEND_INT64(x, "transactions", (int64_t)r->n.txns);
	BSON_APPEND_INT64(x, "skipped", (int64_t)r->n.skipped);
	BSON_APPEND_INT64(x, "skipped_by_checkpoint", (int64_t)r->n.skipped_ck);
	BSON_APPEND_INT64(x, "rejected", (int64_t)r->n.rejected);
	BSON_APPEND_INT64(x, "retries", (int64_t)r->n.retries);
	BSON_APPEND_INT64(x, "upserted", (int64_t)r->n.upserted);
	BSON_APPEND_INT64(x, "matched", (int64_t)r->n.matched);
	BSON_APPEND_INT64(x, "modified", (int64_t)r->n.modified);
	BSON_APPEND_INT64(x, "removed", (int64_t)r->n.removed);
	if (lag >= 0)
		BSON_APPEND_DOUBLE(x, "lag_s", lag);
	if (r->ck_secs)
		BSON_APPEND_TIMESTAMP(x, "last_cluster_time", r->ck_secs, 0);
	if (r->lag.count > 0) {
		BSON_APPEND_INT64(x, "lag_p50_ms", lag_percentile(&r->lag, 0.50));
		BSON_APPEND_INT64(x, "lag_p99_ms", lag_percentile(&r->lag, 0.99));
		BSON_APPEND_INT64(x, "lag_max_ms", lag_percentile(&r->lag, 1.0));
	}
	if (r->nns > 0) {
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
	if (r->has_ck) {
		bson_append_document_begin(x, "checkpoint", -1, &c);
		bson_concat(&c, &r->ck);
		bson_append_document_end(x, &c);
	}
}

static void
note_progress(struct replay *r, struct progress *p, struct stats *st)
{
	char note[64] = "";
	bson_error_t err;

	pthread_mutex_lock(&r->lock);
	if (r->ck_secs)
		snprintf(note, sizeof note, "lag %.0fs", (double)time(NULL) - (double)r->ck_secs);
	progress_set_note(p, note);
	progress_update(p, r->n.events, r->n.bytes);
	if (stats_due(st)) {
		bson_t x = BSON_INITIALIZER;

		stats_extra(r, &x);
		if (!stats_emit(st, "progress", "replay", r->n.events, r->n.bytes, r->n.rejected, &x, &err))
			diag_warn("%s", err.message);
		bson_destroy(&x);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Build an item for one parsed event; NULL (not an error) when its namespace
 * is not to be applied. */
static struct item *
item_new(struct replay *r, const bson_t *doc, uint64_t record, bson_error_t *err, bool *skip)
{
	struct item *it = bson_malloc0(sizeof *it);
	bool keep;

	*skip = false;
	it->record = record;
	it->event = bson_copy(doc);
	if (!change_event_parse(it->event, &it->ev, err)) {
		item_destroy(it);
		return NULL;
	}
	/* a whole database is dropped on the target only when no rule is given
	 * or a db.* rule maps it: never because one collection was mapped */
	keep = !r->o->only_mapped && (it->ev.op != CHANGE_DROP_DATABASE || ns_map_empty(r->o->map));
	if (it->ev.op != CHANGE_INVALIDATE && !ns_map_apply(r->o->map, it->ev.db, it->ev.coll, keep, &it->db, &it->coll))
		*skip = true;
	return it;
}

/* Whether `doc` belongs to the same source transaction as `first`. */
static bool
txn_member(const struct item *first, const bson_t *doc)
{
	struct change_event ev;
	bson_error_t err;

	return change_event_parse(doc, &ev, &err) && ev.has_txn && ev.txn_number == first->ev.txn_number &&
	       ev.lsid.len == first->ev.lsid.len &&
	       memcmp(bson_get_data(&ev.lsid), bson_get_data(&first->ev.lsid), ev.lsid.len) == 0;
}

static int
replay_run(struct replay *r, struct source *src, struct progress *p, struct stats *st)
{
	const struct opts *o = r->o;
	mongoc_client_t *main_client = NULL;
	bson_t ck_start;
	bool has_ck_start = false, eof = false, found;
	bson_t *frags[MAX_FRAGMENTS];
	int nfrags = 0, rc = MP_EX_SOFTWARE;
	struct item **txn = NULL;
	int ntxn = 0, txn_cap = 0;
	uint64_t held = UINT64_MAX; /* a control event's slot, while it is handled */
	bson_error_t err;
	char at[256];

	bson_init(&ck_start);
	if (o->checkpoint && src->reader) {
		bson_destroy(&ck_start);
		if (!checkpoint_load(o->checkpoint, &ck_start, &found, &err)) {
			diag_fail(&err, NULL);
			return mp_error_exitcode(&err);
		}
		has_ck_start = found;
	}
	if (!o->dry_run)
		main_client = mongoc_client_pool_pop(r->pool);

	for (;;) {
		const bson_t *doc;
		bson_t joined;
		struct item *it;
		bool skip;
		uint64_t seq;
		int got;

		note_progress(r, p, st);
		if (sig_stop_requested())
			break;
		got = source_next(src, &doc, &err);
		if (got == 0)
			eof = true;
		if (got < 0 && sig_stop_requested())
			break;
		if (got < 0) {
			where(src, at, sizeof at);
			mp_error_wrap(&err, "%s", at);
			if (r->reject && src->reader && docstream_reader_can_continue(src->reader)) {
				size_t len;
				const uint8_t *raw = docstream_reader_raw(src->reader, &len);
				bson_t bad;

				diag_warn("%s; rejected", err.message);
				if (raw && bson_init_static(&bad, raw, len))
					reject_write(r, src->record, err.message, 0, &bad);
				else
					reject_write(r, src->record, err.message, 0, &ck_start);
				continue;
			}
			goto fail;
		}
		/* an open --txn atomic group ends at the first event outside it */
		if (ntxn > 0 && (eof || !txn_member(txn[0], doc))) {
			if (!drain_to(r, txn[0]->seq))
				goto fatal;
			if (!apply_txn(r, main_client, txn, ntxn, &err))
				goto fail;
			pthread_mutex_lock(&r->lock);
			for (int i = 0; i < ntxn; i++) {
				mark_done(r, txn[i]->seq);
				item_destroy(txn[i]);
			}
			pthread_mutex_unlock(&r->lock);
			ntxn = 0;
		}
		if (eof)
			break;
		r->n.events++;
		r->n.bytes += doc->len;

		/* fragments of a split event are joined before anything else */
		{
			bson_iter_t sp;

			if (bson_iter_init_find(&sp, doc, "splitEvent")) {
				struct change_event fev;

				if (!change_event_parse(doc, &fev, &err)) {
					where(src, at, sizeof at);
					mp_error_wrap(&err, "%s", at);
					goto fail;
				}
				if (nfrags >= MAX_FRAGMENTS) {
					mp_error_set(&err, MP_EX_DATAERR, "more than %d fragments of one split event",
						MAX_FRAGMENTS);
					goto fail;
				}
				frags[nfrags++] = bson_copy(doc);
				if (fev.split_fragment < fev.split_of)
					continue;
				if (!change_event_join((const bson_t *const *)frags, nfrags, &joined, &err)) {
					where(src, at, sizeof at);
					mp_error_wrap(&err, "%s", at);
					bson_destroy(&joined);
					goto fail;
				}
				for (int i = 0; i < nfrags; i++)
					bson_destroy(frags[i]);
				nfrags = 0;
				it = item_new(r, &joined, src->record, &err, &skip);
				bson_destroy(&joined);
			} else if (nfrags > 0) {
				mp_error_set(&err, MP_EX_DATAERR, "an event arrived before the last fragment of a split event");
				where(src, at, sizeof at);
				mp_error_wrap(&err, "%s", at);
				goto fail;
			} else {
				it = item_new(r, doc, src->record, &err, &skip);
			}
		}
		if (it == NULL) {
			where(src, at, sizeof at);
			mp_error_wrap(&err, "%s", at);
			if (r->reject) {
				diag_warn("%s; rejected", err.message);
				reject_write(r, src->record, err.message, 0, doc);
				continue;
			}
			goto fail;
		}
		if (has_ck_start && it->ev.has_token && change_token_cmp(&it->ev.token, &ck_start) <= 0) {
			r->n.skipped_ck++;
			item_destroy(it);
			continue;
		}
		if (!take_slot(r, &it->ev, it->event->len, &seq)) {
			item_destroy(it);
			goto fatal;
		}
		it->seq = seq;
		if (skip) {
			r->n.skipped++;
			pthread_mutex_lock(&r->lock);
			mark_done(r, seq);
			pthread_mutex_unlock(&r->lock);
			item_destroy(it);
			continue;
		}
		if (change_op_is_document(it->ev.op)) {
			if (o->txn_atomic && it->ev.has_txn) {
				if (ntxn == txn_cap) {
					txn_cap = txn_cap ? txn_cap * 2 : 64;
					txn = bson_realloc(txn, sizeof(struct item *) * (size_t)txn_cap);
				}
				txn[ntxn++] = it;
				continue;
			}
			if (o->dry_run) {
				bool ok = dry_writes(r, it, &err);

				pthread_mutex_lock(&r->lock);
				if (ok)
					count_op(&r->n, it->ev.op);
				mark_done(r, seq);
				pthread_mutex_unlock(&r->lock);
				if (!ok) {
					if (err.code == MP_EX_DATAERR && r->reject) {
						reject_write(r, it->record, err.message, 0, it->event);
						item_destroy(it);
						continue;
					}
					where(src, at, sizeof at);
					mp_error_wrap(&err, "%s", at);
					item_destroy(it);
					goto fail;
				}
				item_destroy(it);
				continue;
			}
			if (!dispatch(r, it)) {
				item_destroy(it);
				goto fatal;
			}
			continue;
		}
		/* a control event: everything before it lands first */
		held = seq;
		if (!drain_to(r, seq)) {
			item_destroy(it);
			goto fatal;
		}
		if (o->on_ddl == DDL_STOP || (it->ev.op == CHANGE_INVALIDATE && o->on_ddl != DDL_SKIP)) {
			char *tok = token_text(&it->ev);

			if (it->ev.op == CHANGE_INVALIDATE)
				diag_error("event %llu (token %s): invalidate: the change stream ended; start a new "
					"one (startAfter this token, or a new start token and a full copy)",
					(unsigned long long)it->record, tok);
			else
				diag_error("event %llu (token %s): %s of %s%s%s: stopping (--on-ddl stop); everything "
					"before it is applied; decide, then rerun with --on-ddl skip or apply",
					(unsigned long long)it->record, tok, it->ev.op_name, it->db, it->coll ? "." : "",
					it->coll ? it->coll : "");
			bson_free(tok);
			item_destroy(it);
			rc = MP_EX_STREAM_END;
			goto out;
		}
		if (o->on_ddl == DDL_APPLY && it->ev.op != CHANGE_INVALIDATE &&
		    !apply_ddl(r, main_client, it, &err)) {
			item_destroy(it);
			goto fail;
		}
		if (o->on_ddl == DDL_SKIP || it->ev.op == CHANGE_INVALIDATE) {
			diag_info("event %llu: %s skipped (--on-ddl skip)", (unsigned long long)it->record,
				it->ev.op_name);
			r->n.skipped++;
		} else {
			pthread_mutex_lock(&r->lock);
			r->n.ddl++;
			pthread_mutex_unlock(&r->lock);
		}
		pthread_mutex_lock(&r->lock);
		mark_done(r, seq);
		pthread_mutex_unlock(&r->lock);
		held = UINT64_MAX;
		item_destroy(it);
	}
	if (nfrags > 0 && eof) {
		mp_error_set(&err, MP_EX_DATAERR, "%s: the stream ended inside a split event (%d fragments read)",
			src->name, nfrags);
		goto fail;
	}
	if (!drain(r))
		goto fatal;
	rc = MP_EX_OK;
	goto out;
fatal:
	pthread_mutex_lock(&r->lock);
	err = r->err;
	pthread_mutex_unlock(&r->lock);
fail:
	/* what was handed to the lanes before the failure still lands and is
	 * checkpointed; a held transaction or control event does not */
	drain_to(r, ntxn > 0 ? txn[0]->seq : held);
	diag_fail(&err, NULL);
	rc = mp_error_exitcode(&err);
out:
	for (int i = 0; i < ntxn; i++)
		item_destroy(txn[i]);
	bson_free(txn);
	for (int i = 0; i < nfrags; i++)
		bson_destroy(frags[i]);
	bson_destroy(&ck_start);
	if (main_client)
		mongoc_client_pool_push(r->pool, main_client);
	return rc;
}

static bool
open_source(const struct opts *o, mongoc_client_pool_t *pool, struct source *src, bson_error_t *err)
{
	memset(src, 0, sizeof *src);
	if (o->from_ns == NULL) {
		struct docstream_reader_opts ro = {o->c.input_format, o->c.max_doc, false};

		src->name = o->from && strcmp(o->from, "-") != 0 ? o->from : "stdin";
		src->reader = docstream_reader_open(o->from, &ro, err);
		return src->reader != NULL;
	}
	{
		char *db = NULL, *coll = NULL;
		mongoc_collection_t *c;
		bson_t filter = BSON_INITIALIZER, fopts = BSON_INITIALIZER, ck, gt;
		bool found = false, ok = true;

		if (!conn_split_ns(o->from_ns, &db, &coll, err))
			return false;
		bson_init(&ck);
		if (o->checkpoint) {
			bson_destroy(&ck);
			ok = checkpoint_load(o->checkpoint, &ck, &found, err);
		}
		if (ok && found) {
			bson_append_document_begin(&filter, "_id", 3, &gt);
			BSON_APPEND_DOCUMENT(&gt, "$gt", &ck);
			bson_append_document_end(&filter, &gt);
		}
		BCON_APPEND(&fopts, "sort", "{", "_id", BCON_INT32(1), "}");
		src->name = o->from_ns;
		src->client = mongoc_client_pool_pop(pool);
		c = mongoc_client_get_collection(src->client, db, coll);
		if (ok)
			src->cursor = mongoc_collection_find_with_opts(c, &filter, &fopts, NULL);
		mongoc_collection_destroy(c);
		bson_destroy(&ck);
		bson_destroy(&filter);
		bson_destroy(&fopts);
		bson_free(db);
		bson_free(coll);
		return ok;
	}
}

static void
close_source(struct source *src, mongoc_client_pool_t *pool)
{
	docstream_reader_destroy(src->reader);
	mongoc_cursor_destroy(src->cursor);
	if (src->client)
		mongoc_client_pool_push(pool, src->client);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct replay r;
	struct source src = {0};
	struct stats *stats = NULL;
	struct progress *p = NULL;
	bson_error_t err;
	char *ns = NULL, *db = NULL, *uri = NULL;
	int ch, rc = MP_EX_SOFTWARE;
	int64_t v;
	sigset_t block, old;

	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	memset(&r, 0, sizeof r);
	cli_common_init(&o.c);
	o.retries = 8;
	o.c.format = DOCSTREAM_NDJSON; /* --dry-run prints for people by default */
	o.batch_size = 1000;
	o.workers = 1;
	o.map = ns_map_new();
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (cli_common_option(&o.c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			rc = cli_misuse(usage, "%s", err.message);
			goto done;
		}
		switch (ch) {
		case OPT_FROM: o.from = optarg; break;
		case OPT_FROM_NS: o.from_ns = optarg; break;
		case OPT_NS_MAP:
			if (!ns_map_add(o.map, optarg, &err)) {
				rc = cli_misuse(usage, "%s", err.message);
				goto done;
			}
			break;
		case OPT_ONLY_MAPPED: o.only_mapped = true; break;
		case OPT_PREFER_FULL: o.prefer_full = true; break;
		case OPT_ON_DDL:
			if (strcmp(optarg, "stop") == 0) o.on_ddl = DDL_STOP;
			else if (strcmp(optarg, "skip") == 0) o.on_ddl = DDL_SKIP;
			else if (strcmp(optarg, "apply") == 0) o.on_ddl = DDL_APPLY;
			else {
				rc = cli_misuse(usage, "--on-ddl takes stop, skip or apply, not '%s'", optarg);
				goto done;
			}
			break;
		case OPT_TXN:
			if (strcmp(optarg, "atomic") == 0) o.txn_atomic = true;
			else if (strcmp(optarg, "each") == 0) o.txn_atomic = false;
			else {
				rc = cli_misuse(usage, "--txn takes each or atomic, not '%s'", optarg);
				goto done;
			}
			break;
		case OPT_CHECKPOINT: o.checkpoint = optarg; break;
		case OPT_DRY_RUN: o.dry_run = true; break;
		case OPT_WRITE_CONCERN: o.write_concern = optarg; break;
		case OPT_REJECT: o.reject = optarg; break;
		case OPT_RETRIES:
			if (!cli_parse_int64(optarg, 0, 1000, &v))
				return cli_misuse(usage, "--retries takes 0 to 1000, not '%s'", optarg);
			o.retries = (int)v;
			break;
		case OPT_BATCH_SIZE:
			if (!cli_parse_int64(optarg, 1, 100000, &o.batch_size)) {
				rc = cli_misuse(usage, "--batch-size takes 1 to 100000, not '%s'", optarg);
				goto done;
			}
			break;
		case OPT_WORKERS:
			if (!cli_parse_int64(optarg, 1, 64, &v)) {
				rc = cli_misuse(usage, "--workers takes 1 to 64, not '%s'", optarg);
				goto done;
			}
			o.workers = (int)v;
			break;
		default:
			rc = cli_misuse(usage, "unknown option");
			goto done;
		}
	}
	if ((rc = cli_common_finish(&o.c, usage, argc, argv, &ns, &db)) >= 0)
		goto done;
	if (ns || db) {
		rc = cli_misuse(usage, "events name their own namespace: use --ns-map (and --only-mapped) to choose");
		goto done;
	}
	if (o.from && o.from_ns) {
		rc = cli_misuse(usage, "--from and --from-ns are two sources: give one");
		goto done;
	}
	if (o.from_ns && o.dry_run) {
		rc = cli_misuse(usage, "--dry-run reads events from a stream, not with --from-ns");
		goto done;
	}
	if (o.only_mapped && ns_map_empty(o.map)) {
		rc = cli_misuse(usage, "--only-mapped needs at least one --ns-map rule");
		goto done;
	}
	mongoc_init();
	diag_capture_driver_log();
	sig_install();
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	bson_init(&r.ck);
	r.o = &o;
	r.ring = bson_malloc0(sizeof(struct slot) * WINDOW);
	r.last_save = mp_now();
	r.wc = mongoc_write_concern_new();
	if (o.write_concern == NULL || strcmp(o.write_concern, "majority") == 0) {
		mongoc_write_concern_set_w(r.wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
	} else if (cli_parse_int64(o.write_concern, 0, 1000, &v)) {
		mongoc_write_concern_set_w(r.wc, (int32_t)v);
	} else {
		rc = cli_misuse(usage, "--write-concern takes majority or a number, not '%s'", o.write_concern);
		goto cleanup;
	}
	stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err);
	if (stats == NULL)
		goto fail;
	if (o.reject && (r.reject = fopen(o.reject, "a")) == NULL) {
		mp_error_set(&err, MP_EX_CANTCREAT, "%s: %s", o.reject, strerror(errno));
		goto fail;
	}
	if (o.dry_run) {
		struct docstream_writer_opts wo = {o.c.format, o.c.json, o.c.gzip, 0};

		if ((r.dry = docstream_writer_open(NULL, &wo, &err)) == NULL)
			goto fail;
	} else {
		uri = conn_resolve_uri(o.c.uri, o.c.uri_file, NULL, &err);
		if (uri == NULL || (r.pool = conn_pool_new(uri, TOOL, &err)) == NULL)
			goto fail;
		mongoc_client_pool_max_size(r.pool, (uint32_t)o.workers + 2);
	}
	if (!open_source(&o, r.pool, &src, &err))
		goto fail;
	p = progress_new("replay", -1, o.c.progress);

	r.nlanes = o.dry_run ? 0 : o.workers;
	r.lanes = bson_malloc0(sizeof(struct lane) * (size_t)(r.nlanes ? r.nlanes : 1));
	/* signals are for the main thread, which reads and decides */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < r.nlanes; i++) {
		r.lanes[i].r = &r;
		r.lanes[i].started = pthread_create(&r.lanes[i].thread, NULL, lane_main, &r.lanes[i]) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	rc = replay_run(&r, &src, p, stats);

	pthread_mutex_lock(&r.lock);
	r.closing = true;
	pthread_cond_broadcast(&r.cond);
	pthread_mutex_unlock(&r.lock);
	for (int i = 0; i < r.nlanes; i++) {
		if (r.lanes[i].started)
			pthread_join(r.lanes[i].thread, NULL);
		/* a lane that stopped on a fatal error leaves its queue unapplied */
		while (r.lanes[i].head) {
			struct item *next = r.lanes[i].head->next;

			item_destroy(r.lanes[i].head);
			r.lanes[i].head = next;
		}
	}
	if (r.fatal && rc == MP_EX_OK) {
		diag_fail(&r.err, NULL);
		rc = mp_error_exitcode(&r.err);
	}
	if (!save_checkpoint(&r, &err)) {
		diag_fail(&err, NULL);
		if (rc == MP_EX_OK)
			rc = mp_error_exitcode(&err);
	}
	if (r.dry && !docstream_writer_close(r.dry, &err)) {
		diag_fail(&err, NULL);
		if (rc == MP_EX_OK)
			rc = mp_error_exitcode(&err);
	}
	progress_update(p, r.n.events, r.n.bytes);
	progress_finish(p);
	{
		bson_t x = BSON_INITIALIZER;

		stats_extra(&r, &x);
		if (!stats_emit(stats, "summary", "replay", r.n.events, r.n.bytes, r.n.rejected, &x, &err))
			diag_warn("%s", err.message);
		bson_destroy(&x);
	}
	diag_info("%llu events: %llu inserts, %llu updates, %llu replaces, %llu deletes, %llu DDL, "
		"%llu skipped, %llu already applied (checkpoint), %llu rejected, %llu retries",
		(unsigned long long)r.n.events, (unsigned long long)r.n.inserts, (unsigned long long)r.n.updates,
		(unsigned long long)r.n.replaces, (unsigned long long)r.n.deletes, (unsigned long long)r.n.ddl,
		(unsigned long long)r.n.skipped, (unsigned long long)r.n.skipped_ck,
		(unsigned long long)r.n.rejected, (unsigned long long)r.n.retries);
	if (rc == MP_EX_OK && sig_stop_requested())
		diag_info("stopped by signal %d; the checkpoint holds what the target acknowledged", sig_received());
	goto cleanup;
fail:
	diag_fail(&err, NULL);
	rc = mp_error_exitcode(&err);
cleanup:
	close_source(&src, r.pool);
	progress_destroy(p);
	docstream_writer_destroy(r.dry);
	if (r.reject)
		fclose(r.reject);
	stats_finish(stats, "replay", rc);
	mongoc_client_pool_destroy(r.pool);
	if (r.wc)
		mongoc_write_concern_destroy(r.wc);
	for (uint32_t i = 0; r.ring && i < WINDOW; i++)
		if (r.ring[i].has_token)
			bson_destroy(&r.ring[i].token);
	bson_free(r.ring);
	bson_free(r.lag.n);
	bson_free(r.by_ns);
	bson_free(r.lanes);
	bson_destroy(&r.ck);
	bson_free(uri);
	mongoc_cleanup();
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.cond);
done:
	ns_map_destroy(o.map);
	bson_free(ns);
	bson_free(db);
	return rc;
}
