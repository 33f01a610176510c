/*
 * mongo-hashdiff: prove two collections (or a collection and a file, or two
 * files) equal, or list exactly what differs.
 *
 * Two servers are read in _id order and merge-joined with the libcommon
 * comparator, which orders as the server sorts, mixed types included; only a
 * digest of each document is kept.  With --parallel N the _id space is split
 * into ranges (type-bracket aware); each range is first summarised on both
 * sides by count and an order-independent combination (XOR) of document
 * digests, and only ranges that differ are merge-joined.  A file side (which
 * need not be sorted) goes through a hash join partitioned into temporary
 * files, so memory stays bounded.  Differences still in flight on a live
 * source clear with --recheck.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "bsoncmp.h"
#include "checkpoint.h"
#include "cli.h"
#include "conn.h"
#include "diag.h"
#include "dochash.h"
#include "docstream.h"
#include "exitcode.h"
#include "idrange.h"
#include "progress.h"
#include "sig.h"

#define TOOL "mongo-hashdiff"
#define PARTITIONS 64
#define MAX_RANGES 256

enum emit { EMIT_DIFF, EMIT_REPAIR, EMIT_IDS };
enum kind { MISSING, EXTRA, CHANGED };
static const char *kind_name[] = {"missing", "extra", "changed"};

enum {
	OPT_SOURCE = CLI_OPT_TOOL_BASE,
	OPT_TARGET,
	OPT_TARGET_NS,
	OPT_SOURCE_FILE,
	OPT_TARGET_FILE,
	OPT_COMPARE,
	OPT_IGNORE,
	OPT_HASH,
	OPT_COUNT_ONLY,
	OPT_PARALLEL,
	OPT_PARTITION,
	OPT_CHECKPOINT,
	OPT_RESUME,
	OPT_RECHECK,
	OPT_RECHECK_DELAY,
	OPT_EMIT,
	OPT_OUTPUT,
	OPT_BATCH_SIZE,
	OPT_ALLOW_MISSING,
};

static const struct option longopts[] = {
	CLI_COMMON_OPTIONS,
	{"source", required_argument, NULL, OPT_SOURCE},
	{"target", required_argument, NULL, OPT_TARGET},
	{"target-ns", required_argument, NULL, OPT_TARGET_NS},
	{"source-file", required_argument, NULL, OPT_SOURCE_FILE},
	{"target-file", required_argument, NULL, OPT_TARGET_FILE},
	{"compare", required_argument, NULL, OPT_COMPARE},
	{"ignore-fields", required_argument, NULL, OPT_IGNORE},
	{"hash", required_argument, NULL, OPT_HASH},
	{"count-only", no_argument, NULL, OPT_COUNT_ONLY},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"partition", required_argument, NULL, OPT_PARTITION},
	{"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
	{"resume", no_argument, NULL, OPT_RESUME},
	{"recheck", required_argument, NULL, OPT_RECHECK},
	{"recheck-delay", required_argument, NULL, OPT_RECHECK_DELAY},
	{"emit", required_argument, NULL, OPT_EMIT},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	{"allow-missing", no_argument, NULL, OPT_ALLOW_MISSING},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mongo-hashdiff --source URI|--source-file PATH --target URI|--target-file PATH\n"
		"                      [--ns DB.COLL [--target-ns DB.COLL] | --db DB] [options]\n"
		"\n"
		"Compare two collections (or files); write one record per difference.\n"
		"\n"
		"Equal:    --compare binary|unordered|semantic  --ignore-fields A.B,C  --hash sha256|sha1|md5\n"
		"Speed:    --count-only  --parallel N  --partition K/N  --batch-size N\n"
		"Live:     --recheck N  --recheck-delay SECONDS  --checkpoint FILE  --resume\n"
		"Output:   --emit diff|repair|ids  --output FILE  --format bson|ndjson  --json MODE\n"
		"Missing:  --allow-missing (a namespace on neither side is equal, not an error)\n"
		"Common:   --collection C  --stats FILE  --stats-fd N  --progress  --max-doc-size N\n"
		"          -q|--quiet  -v|--verbose  -h|--help  -V|--version\n"
		"\n"
		"Exit: 0 equal, 1 differences, 64 usage, 65 bad input, 66 no such input or namespace,\n"
		"69 server, 73/74 output, 75 interrupted (no verdict).  See mongo-hashdiff(1).\n");
}

struct opts {
	struct cli_common c;
	const char *source, *target, *target_ns, *source_file, *target_file, *ignore, *hash, *checkpoint,
		*output;
	enum dochash_mode mode;
	enum emit emit;
	bool count_only, resume, allow_missing;
	int parallel, part_k, part_n, recheck;
	double recheck_delay;
	int64_t batch_size;
};

struct counts {
	uint64_t compared, equal, missing, extra, changed, cleared, bytes;
};

/* One comparison of a source namespace with a target namespace. */
struct job {
	const struct opts *o;
	mongoc_client_pool_t *spool, *tpool;
	const char *sdb, *scoll, *tdb, *tcoll;
	const char *sfile, *tfile;
	char ns[512], tns[512];
	size_t hlen;

	pthread_mutex_t lock;
	struct docstream_writer *out;
	uint64_t seq; /* repair event tokens */
	struct counts n;
	bool failed;
	bson_error_t err;

	/* differences kept for --recheck */
	bson_value_t *held;
	int nheld, capheld;

	struct progress *p;
	double last_save;
};

/* ---- output ---- */

static bool
write_record(struct job *j, const bson_t *rec)
{
	bson_error_t err;

	if (!docstream_write(j->out, rec, &err)) {
		if (!j->failed) {
			j->failed = true;
			j->err = err;
		}
		return false;
	}
	return true;
}

/* Report one difference (lock held).  `sdoc` is the source document when
 * there is one (missing, changed). */
static void
report(struct job *j, enum kind k, const bson_value_t *id, const uint8_t *sh, const uint8_t *th, const bson_t *sdoc)
{
	bson_t rec = BSON_INITIALIZER, sub;
	char hex[2 * DOCHASH_MAX + 1];

	if (k == MISSING)
		j->n.missing++;
	else if (k == EXTRA)
		j->n.extra++;
	else
		j->n.changed++;
	if (j->o->recheck > 0) {
		if (j->nheld == j->capheld) {
			j->capheld = j->capheld ? j->capheld * 2 : 64;
			j->held = bson_realloc(j->held, sizeof(bson_value_t) * (size_t)j->capheld);
		}
		bson_value_copy(id, &j->held[j->nheld++]);
		return;
	}
	switch (j->o->emit) {
	case EMIT_DIFF:
		BSON_APPEND_UTF8(&rec, "ns", j->ns);
		bson_append_value(&rec, "_id", 3, id);
		BSON_APPEND_UTF8(&rec, "diff", kind_name[k]);
		if (sh) {
			dochash_hex(sh, j->hlen, hex);
			BSON_APPEND_UTF8(&rec, "source_hash", hex);
		} else {
			BSON_APPEND_NULL(&rec, "source_hash");
		}
		if (th) {
			dochash_hex(th, j->hlen, hex);
			BSON_APPEND_UTF8(&rec, "target_hash", hex);
		} else {
			BSON_APPEND_NULL(&rec, "target_hash");
		}
		break;
	case EMIT_IDS:
		bson_append_value(&rec, "_id", 3, id);
		break;
	case EMIT_REPAIR: {
		char tok[24];

		bson_snprintf(tok, sizeof tok, "%016llX", (unsigned long long)++j->seq);
		bson_append_document_begin(&rec, "_id", 3, &sub);
		BSON_APPEND_UTF8(&sub, "_data", tok);
		bson_append_document_end(&rec, &sub);
		BSON_APPEND_UTF8(&rec, "operationType", k == EXTRA ? "delete" : "replace");
		bson_append_document_begin(&rec, "ns", 2, &sub);
		BSON_APPEND_UTF8(&sub, "db", j->tdb);
		BSON_APPEND_UTF8(&sub, "coll", j->tcoll);
		bson_append_document_end(&rec, &sub);
		bson_append_document_begin(&rec, "documentKey", -1, &sub);
		bson_append_value(&sub, "_id", 3, id);
		bson_append_document_end(&rec, &sub);
		if (k != EXTRA && sdoc)
			BSON_APPEND_DOCUMENT(&rec, "fullDocument", sdoc);
		break;
	}
	}
	write_record(j, &rec);
	bson_destroy(&rec);
}

/* ---- reading a server side ---- */

static mongoc_cursor_t *
open_range(mongoc_client_t *client, const char *db, const char *coll, const bson_t *filter, int64_t batch)
{
	mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
	bson_t *fopts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}", "batchSize", BCON_INT64(batch));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, fopts, NULL);

	bson_destroy(fopts);
	mongoc_collection_destroy(c);
	return cur;
}

static bool
digest(struct job *j, struct dochash *h, const bson_t *doc, uint8_t *out)
{
	bson_error_t err;

	if (!dochash_doc(h, doc, out, &err)) {
		pthread_mutex_lock(&j->lock);
		if (!j->failed) {
			j->failed = true;
			j->err = err;
		}
		pthread_mutex_unlock(&j->lock);
		return false;
	}
	return true;
}

static bool
doc_id(const bson_t *doc, bson_value_t *id)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "_id"))
		return false;
	*id = *bson_iter_value(&it);
	return true;
}

static bool
save_checkpoint(struct job *j, const bson_value_t *last)
{
	bson_t ck = BSON_INITIALIZER;
	bson_error_t err;
	bool ok;

	bson_append_value(&ck, "_id", 3, last);
	BSON_APPEND_INT64(&ck, "compared", (int64_t)j->n.compared);
	BSON_APPEND_INT64(&ck, "equal", (int64_t)j->n.equal);
	BSON_APPEND_INT64(&ck, "missing", (int64_t)j->n.missing);
	BSON_APPEND_INT64(&ck, "extra", (int64_t)j->n.extra);
	BSON_APPEND_INT64(&ck, "changed", (int64_t)j->n.changed);
	ok = checkpoint_save(j->o->checkpoint, &ck, &err);
	if (!ok && !j->failed) {
		j->failed = true;
		j->err = err;
	}
	bson_destroy(&ck);
	return ok;
}

/* One side of a merge join: a server cursor or a file already known sorted. */
struct src {
	mongoc_cursor_t *cur;
	struct docstream_reader *r;
	bson_error_t err;
	bool failed;
};

static bool
src_next(struct src *s, const bson_t **doc)
{
	if (s->cur) {
		if (mongoc_cursor_next(s->cur, doc))
			return true;
		s->failed = mongoc_cursor_error(s->cur, &s->err);
		return false;
	}
	{
		int got = docstream_read(s->r, doc, &s->err);

		s->failed = got < 0;
		return got == 1;
	}
}

/*
 * Merge-join two sides in _id order.  With `checkpoints`, --checkpoint
 * records the last _id compared.
 */
static bool
merge_join(struct job *j, struct src *a, struct src *b, bool checkpoints)
{
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, NULL);
	const bson_t *da = NULL, *db = NULL;
	bool has_a, has_b, ok = true;
	uint8_t ha[DOCHASH_MAX], hb[DOCHASH_MAX];
	bson_error_t err;
	struct counts local = {0};

	has_a = src_next(a, &da);
	has_b = src_next(b, &db);
	while ((has_a || has_b) && !sig_stop_requested()) {
		bson_value_t ia, ib;
		int c;

		if (has_a && !doc_id(da, &ia)) {
			mp_error_set(&err, MP_EX_DATAERR, "%s: a source document without _id", j->ns);
			ok = false;
			break;
		}
		if (has_b && !doc_id(db, &ib)) {
			mp_error_set(&err, MP_EX_DATAERR, "%s: a target document without _id", j->tns);
			ok = false;
			break;
		}
		c = !has_b ? -1 : !has_a ? 1 : bsoncmp_value(&ia, &ib);
		local.compared++;
		if (c < 0) {
			if (!digest(j, h, da, ha))
				break;
			pthread_mutex_lock(&j->lock);
			report(j, MISSING, &ia, ha, NULL, da);
			pthread_mutex_unlock(&j->lock);
			local.bytes += da->len;
		} else if (c > 0) {
			if (!digest(j, h, db, hb))
				break;
			pthread_mutex_lock(&j->lock);
			report(j, EXTRA, &ib, NULL, hb, NULL);
			pthread_mutex_unlock(&j->lock);
			local.bytes += db->len;
		} else {
			if (!digest(j, h, da, ha) || !digest(j, h, db, hb))
				break;
			local.bytes += da->len + db->len;
			if (memcmp(ha, hb, j->hlen) == 0) {
				local.equal++;
			} else {
				pthread_mutex_lock(&j->lock);
				report(j, CHANGED, &ia, ha, hb, da);
				pthread_mutex_unlock(&j->lock);
			}
		}
		if (local.compared % 4096 == 0 || (checkpoints && j->o->checkpoint) || sig_stop_requested()) {
			pthread_mutex_lock(&j->lock);
			j->n.compared += local.compared;
			j->n.equal += local.equal;
			j->n.bytes += local.bytes;
			memset(&local, 0, sizeof local);
			if (checkpoints && j->o->checkpoint && (mp_now() - j->last_save >= 1.0 || sig_stop_requested())) {
				save_checkpoint(j, c <= 0 ? &ia : &ib);
				j->last_save = mp_now();
			}
			progress_update(j->p, j->n.compared, j->n.bytes);
			pthread_mutex_unlock(&j->lock);
		}
		if (c <= 0)
			has_a = src_next(a, &da);
		if (c >= 0)
			has_b = src_next(b, &db);
		/* a side that fails has not ended: nothing after it is a difference */
		if (a->failed || b->failed)
			break;
	}
	if (ok && (a->failed || b->failed)) {
		err = a->failed ? a->err : b->err;
		ok = false;
	}
	pthread_mutex_lock(&j->lock);
	j->n.compared += local.compared;
	j->n.equal += local.equal;
	j->n.bytes += local.bytes;
	if (!ok && !j->failed) {
		j->failed = true;
		j->err = err;
	}
	ok = ok && !j->failed;
	pthread_mutex_unlock(&j->lock);
	dochash_destroy(h);
	return ok;
}

/* Merge-join the documents of both servers whose _id is in `filter`'s range. */
static bool
merge_range(struct job *j, mongoc_client_t *sc, mongoc_client_t *tc, const bson_t *filter, bool checkpoints)
{
	struct src a = {0}, b = {0};
	bool ok;

	a.cur = open_range(sc, j->sdb, j->scoll, filter, j->o->batch_size);
	b.cur = open_range(tc, j->tdb, j->tcoll, filter, j->o->batch_size);
	ok = merge_join(j, &a, &b, checkpoints);
	mongoc_cursor_destroy(a.cur);
	mongoc_cursor_destroy(b.cur);
	return ok;
}

/*
 * Whether a file's documents are in strictly ascending _id order (a quick
 * pass that checks framing only).  Standard input cannot be read twice: no.
 */
static bool
file_sorted(const struct job *j, const char *path)
{
	struct docstream_reader_opts ro = {j->o->c.input_format, j->o->c.max_doc, true};
	struct docstream_reader *r;
	const bson_t *doc;
	bson_value_t prev = {0};
	bool sorted = true, has = false;
	bson_error_t err;

	if (path == NULL || strcmp(path, "-") == 0 || (r = docstream_reader_open(path, &ro, &err)) == NULL)
		return false;
	while (sorted && docstream_read(r, &doc, &err) == 1) {
		bson_value_t id;

		if (!doc_id(doc, &id) || (has && bsoncmp_value(&prev, &id) >= 0)) {
			sorted = false;
			break;
		}
		if (has)
			bson_value_destroy(&prev);
		bson_value_copy(&id, &prev);
		has = true;
	}
	if (has)
		bson_value_destroy(&prev);
	docstream_reader_destroy(r);
	return sorted;
}

/* Count and XOR of digests of one side of a range. */
static bool
summarise(struct job *j, mongoc_client_t *client, const char *db, const char *coll, const bson_t *filter,
	uint64_t *count, uint8_t *x, uint64_t *bytes)
{
	mongoc_cursor_t *cur = open_range(client, db, coll, filter, j->o->batch_size);
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, NULL);
	const bson_t *doc;
	uint8_t d[DOCHASH_MAX];
	bson_error_t err;
	bool ok = true;

	memset(x, 0, DOCHASH_MAX);
	*count = 0;
	while (mongoc_cursor_next(cur, &doc)) {
		if (!digest(j, h, doc, d)) {
			ok = false;
			break;
		}
		for (size_t i = 0; i < j->hlen; i++)
			x[i] ^= d[i];
		(*count)++;
		*bytes += doc->len;
	}
	if (ok && mongoc_cursor_error(cur, &err)) {
		pthread_mutex_lock(&j->lock);
		if (!j->failed) {
			j->failed = true;
			j->err = err;
		}
		pthread_mutex_unlock(&j->lock);
		ok = false;
	}
	mongoc_cursor_destroy(cur);
	dochash_destroy(h);
	return ok;
}

struct range_task {
	struct job *j;
	bson_t filter;
	bool descended;
};

static void *
range_main(void *arg)
{
	struct range_task *t = arg;
	struct job *j = t->j;
	mongoc_client_t *sc = mongoc_client_pool_pop(j->spool), *tc = mongoc_client_pool_pop(j->tpool);
	uint64_t ns = 0, nt = 0, bytes = 0;
	uint8_t xs[DOCHASH_MAX], xt[DOCHASH_MAX];

	if (summarise(j, sc, j->sdb, j->scoll, &t->filter, &ns, xs, &bytes) &&
	    summarise(j, tc, j->tdb, j->tcoll, &t->filter, &nt, xt, &bytes)) {
		if (ns == nt && memcmp(xs, xt, j->hlen) == 0) {
			pthread_mutex_lock(&j->lock);
			j->n.compared += ns;
			j->n.equal += ns;
			j->n.bytes += bytes;
			progress_update(j->p, j->n.compared, j->n.bytes);
			pthread_mutex_unlock(&j->lock);
		} else {
			t->descended = true;
			merge_range(j, sc, tc, &t->filter, false);
		}
	}
	mongoc_client_pool_push(j->spool, sc);
	mongoc_client_pool_push(j->tpool, tc);
	return NULL;
}

static bool
compare_servers(struct job *j)
{
	const struct opts *o = j->o;
	mongoc_client_t *sc = mongoc_client_pool_pop(j->spool), *tc = mongoc_client_pool_pop(j->tpool);
	bool ok = true;

	if (o->parallel <= 1 && o->part_n == 0) {
		bson_t filter = BSON_INITIALIZER;

		if (o->resume && o->checkpoint) {
			bson_t ck;
			bool found;
			bson_iter_t it;
			bson_error_t err;

			if (!checkpoint_load(o->checkpoint, &ck, &found, &err)) {
				j->failed = true;
				j->err = err;
				bson_destroy(&ck);
				ok = false;
				goto out;
			}
			if (found && bson_iter_init_find(&it, &ck, "_id")) {
				idrange_filter(&filter, NULL, "_id", bson_iter_value(&it), false, NULL, false);
				j->n.compared = bson_iter_init_find(&it, &ck, "compared") ? (uint64_t)bson_iter_as_int64(&it) : 0;
				j->n.equal = bson_iter_init_find(&it, &ck, "equal") ? (uint64_t)bson_iter_as_int64(&it) : 0;
				j->n.missing = bson_iter_init_find(&it, &ck, "missing") ? (uint64_t)bson_iter_as_int64(&it) : 0;
				j->n.extra = bson_iter_init_find(&it, &ck, "extra") ? (uint64_t)bson_iter_as_int64(&it) : 0;
				j->n.changed = bson_iter_init_find(&it, &ck, "changed") ? (uint64_t)bson_iter_as_int64(&it) : 0;
				diag_info("%s: resuming after the checkpoint (%llu compared)", j->ns,
					(unsigned long long)j->n.compared);
			}
			bson_destroy(&ck);
		}
		ok = merge_range(j, sc, tc, &filter, true);
		bson_destroy(&filter);
	} else {
		mongoc_collection_t *c = mongoc_client_get_collection(sc, j->sdb, j->scoll);
		int n = o->part_n ? o->part_n : o->parallel, nb = 0, first = 0, last;
		bson_value_t bounds[MAX_RANGES];
		int64_t total;
		struct range_task *tasks;
		pthread_t *threads;
		bson_error_t err;
		int nt = 0, descended = 0;

		/* both splits use the source's boundaries: a range holds the same
		 * _ids on both sides whatever each side holds */
		if (o->part_n && o->parallel > 1)
			n = o->part_n;
		ok = idrange_split(c, NULL, n, bounds, &nb, &total, &err);
		mongoc_collection_destroy(c);
		if (!ok) {
			j->failed = true;
			j->err = err;
			goto out;
		}
		last = nb;
		if (o->part_n) {
			first = last = o->part_k - 1;
			if (first > nb) {
				/* fewer ranges than shares: this share is empty */
				first = nb + 1;
				last = nb;
			}
		}
		tasks = bson_malloc0(sizeof *tasks * (size_t)(nb + 1));
		threads = bson_malloc0(sizeof *threads * (size_t)(nb + 1));
		for (int r = first; r <= last; r++) {
			tasks[nt].j = j;
			bson_init(&tasks[nt].filter);
			idrange_filter(&tasks[nt].filter, NULL, "_id", r > 0 ? &bounds[r - 1] : NULL, true,
				r < nb ? &bounds[r] : NULL, false);
			nt++;
		}
		/* --parallel N workers over the ranges, N at a time */
		for (int i = 0; i < nt; i += (o->parallel > 1 ? o->parallel : 1)) {
			int m = o->parallel > 1 ? o->parallel : 1;

			for (int k = i; k < nt && k < i + m; k++)
				pthread_create(&threads[k], NULL, range_main, &tasks[k]);
			for (int k = i; k < nt && k < i + m; k++)
				pthread_join(threads[k], NULL);
		}
		for (int k = 0; k < nt; k++) {
			descended += tasks[k].descended;
			bson_destroy(&tasks[k].filter);
		}
		diag_info("%s: %d ranges, %d differed and were compared document by document", j->ns, nt, descended);
		for (int k = 0; k < nb; k++)
			bson_value_destroy(&bounds[k]);
		bson_free(tasks);
		bson_free(threads);
		ok = !j->failed;
	}
out:
	mongoc_client_pool_push(j->spool, sc);
	mongoc_client_pool_push(j->tpool, tc);
	return ok && !j->failed;
}

/* ---- hash join through partitions (a file side) ---- */

struct spill {
	FILE *f[PARTITIONS];
};

static uint32_t
key_hash(const bson_t *key)
{
	const uint8_t *p = bson_get_data(key);
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < key->len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool
spill_open(struct spill *s, bson_error_t *err)
{
	for (int i = 0; i < PARTITIONS; i++) {
		s->f[i] = tmpfile();
		if (s->f[i] == NULL) {
			mp_error_set(err, MP_EX_CANTCREAT, "a temporary file: %s", strerror(errno));
			return false;
		}
	}
	return true;
}

static void
spill_close(struct spill *s)
{
	for (int i = 0; i < PARTITIONS; i++)
		if (s->f[i])
			fclose(s->f[i]);
}

/* Spill one document: {k: join key, i: _id, h: digest[, d: doc]}. */
static bool
spill_doc(struct job *j, struct spill *s, struct dochash *h, const bson_t *doc, bool keep_doc, bson_error_t *err)
{
	bson_value_t id;
	bson_t key, rec = BSON_INITIALIZER;
	uint8_t d[DOCHASH_MAX];
	bool ok;

	if (!doc_id(doc, &id)) {
		mp_error_set(err, MP_EX_DATAERR, "a document without _id");
		return false;
	}
	if (!dochash_doc(h, doc, d, err))
		return false;
	dochash_id_key(&id, &key);
	BSON_APPEND_DOCUMENT(&rec, "k", &key);
	bson_append_value(&rec, "i", 1, &id);
	BSON_APPEND_BINARY(&rec, "h", BSON_SUBTYPE_BINARY, d, (uint32_t)j->hlen);
	if (keep_doc)
		BSON_APPEND_DOCUMENT(&rec, "d", doc);
	ok = fwrite(bson_get_data(&rec), 1, rec.len, s->f[key_hash(&key) % PARTITIONS]) == rec.len;
	if (!ok)
		mp_error_set(err, MP_EX_IOERR, "writing a temporary file: %s", strerror(errno));
	bson_destroy(&rec);
	bson_destroy(&key);
	return ok;
}

/* Read every document of one side (file or server) into its partitions. */
static bool
spill_side(struct job *j, struct spill *s, const char *file, mongoc_client_pool_t *pool, const char *db,
	const char *coll, bool keep_doc, uint64_t *count, bson_error_t *err)
{
	struct dochash *h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, err);
	const bson_t *doc;
	bool ok = true;

	*count = 0;
	if (file) {
		struct docstream_reader_opts ro = {j->o->c.input_format, j->o->c.max_doc, false};
		struct docstream_reader *r = docstream_reader_open(file, &ro, err);
		int got;

		if (r == NULL) {
			dochash_destroy(h);
			return false;
		}
		while ((got = docstream_read(r, &doc, err)) == 1 && ok) {
			ok = spill_doc(j, s, h, doc, keep_doc, err);
			(*count)++;
			j->n.bytes += doc->len;
		}
		if (got < 0)
			ok = false;
		docstream_reader_destroy(r);
	} else {
		mongoc_client_t *client = mongoc_client_pool_pop(pool);
		mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
		bson_t *fopts = BCON_NEW("batchSize", BCON_INT64(j->o->batch_size)), all = BSON_INITIALIZER;
		mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &all, fopts, NULL);

		while (ok && mongoc_cursor_next(cur, &doc)) {
			ok = spill_doc(j, s, h, doc, keep_doc, err);
			(*count)++;
			j->n.bytes += doc->len;
		}
		if (ok && mongoc_cursor_error(cur, err))
			ok = false;
		mongoc_cursor_destroy(cur);
		bson_destroy(fopts);
		bson_destroy(&all);
		mongoc_collection_destroy(c);
		mongoc_client_pool_push(pool, client);
	}
	dochash_destroy(h);
	for (int i = 0; ok && i < PARTITIONS; i++) {
		if (fflush(s->f[i]) != 0 || fseek(s->f[i], 0, SEEK_SET) != 0) {
			mp_error_set(err, MP_EX_IOERR, "a temporary file: %s", strerror(errno));
			ok = false;
		}
	}
	return ok;
}

struct rec {
	uint8_t *raw; /* the spilled record (a bson_t must not be copied, so none is kept) */
	uint32_t len;
	const uint8_t *key;
	uint32_t klen;
	bool matched;
};

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c != 0 ? c : (int)x->klen - (int)y->klen;
}

static bool
read_partition(FILE *f, struct rec **out, size_t *n, bson_error_t *err)
{
	size_t cap = 0;
	uint8_t lenbuf[4];

	*out = NULL;
	*n = 0;
	while (fread(lenbuf, 1, 4, f) == 4) {
		uint32_t len;
		struct rec r = {0};
		bson_iter_t it;

		memcpy(&len, lenbuf, 4);
		len = BSON_UINT32_FROM_LE(len);
		r.raw = bson_malloc(len);
		memcpy(r.raw, lenbuf, 4);
		if (len < 5 || fread(r.raw + 4, 1, len - 4, f) != len - 4) {
			bson_free(r.raw);
			mp_error_set(err, MP_EX_IOERR, "reading a temporary file");
			return false;
		}
		{
			bson_t b;

			r.len = len;
			bson_init_static(&b, r.raw, len);
			bson_iter_init_find(&it, &b, "k");
			bson_iter_document(&it, &r.klen, &r.key);
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			*out = bson_realloc(*out, sizeof(struct rec) * cap);
		}
		(*out)[(*n)++] = r;
	}
	return true;
}

static void
rec_parts(const struct rec *r, bson_value_t *id, const uint8_t **h, bson_t *doc, bool *has_doc)
{
	bson_iter_t it;
	uint32_t len;
	bson_subtype_t st;
	const uint8_t *data;
	bson_t b;

	bson_init_static(&b, r->raw, r->len);
	bson_iter_init_find(&it, &b, "i");
	*id = *bson_iter_value(&it);
	bson_iter_init_find(&it, &b, "h");
	bson_iter_binary(&it, &st, &len, h);
	*has_doc = bson_iter_init_find(&it, &b, "d");
	if (*has_doc) {
		bson_iter_document(&it, &len, &data);
		bson_init_static(doc, data, len);
	}
}

static bool
compare_partitioned(struct job *j)
{
	struct spill a = {0}, b = {0};
	uint64_t na = 0, nb = 0;
	bson_error_t err;
	bool ok;

	ok = spill_open(&a, &err) && spill_open(&b, &err) &&
	     spill_side(j, &a, j->sfile, j->spool, j->sdb, j->scoll, j->o->emit == EMIT_REPAIR, &na, &err) &&
	     spill_side(j, &b, j->tfile, j->tpool, j->tdb, j->tcoll, false, &nb, &err);
	for (int p = 0; ok && p < PARTITIONS; p++) {
		struct rec *ra = NULL, *rb = NULL;
		size_t nra = 0, nrb = 0;

		ok = read_partition(a.f[p], &ra, &nra, &err) && read_partition(b.f[p], &rb, &nrb, &err);
		if (ok) {
			if (nra > 0)
				qsort(ra, nra, sizeof *ra, rec_cmp);
			for (size_t i = 0; i < nrb; i++) {
				struct rec *m = nra > 0 ? bsearch(&rb[i], ra, nra, sizeof *ra, rec_cmp) : NULL;
				bson_value_t ib, ia;
				const uint8_t *hb, *ha;
				bson_t db, da;
				bool has;

				rec_parts(&rb[i], &ib, &hb, &db, &has);
				j->n.compared++;
				if (m == NULL) {
					report(j, EXTRA, &ib, NULL, hb, NULL);
					continue;
				}
				if (m->matched) {
					mp_error_set(&err, MP_EX_DATAERR, "%s: the target holds one _id twice", j->tns);
					ok = false;
					break;
				}
				m->matched = true;
				rec_parts(m, &ia, &ha, &da, &has);
				if (memcmp(ha, hb, j->hlen) == 0)
					j->n.equal++;
				else
					report(j, CHANGED, &ia, ha, hb, has ? &da : NULL);
			}
			for (size_t i = 0; ok && i < nra; i++) {
				if (!ra[i].matched) {
					bson_value_t ia;
					const uint8_t *ha;
					bson_t da;
					bool has;

					rec_parts(&ra[i], &ia, &ha, &da, &has);
					j->n.compared++;
					report(j, MISSING, &ia, ha, NULL, has ? &da : NULL);
				}
			}
		}
		for (size_t i = 0; i < nra; i++)
			bson_free(ra[i].raw);
		for (size_t i = 0; i < nrb; i++)
			bson_free(rb[i].raw);
		bson_free(ra);
		bson_free(rb);
		progress_update(j->p, j->n.compared, j->n.bytes);
	}
	spill_close(&a);
	spill_close(&b);
	if (!ok && !j->failed) {
		j->failed = true;
		j->err = err;
	}
	return ok && !j->failed;
}

/* ---- --recheck ---- */

/* Fetch the documents of `ids` on one server into `docs` (by index). */
static bool
fetch_ids(struct job *j, mongoc_client_pool_t *pool, const char *db, const char *coll, const bson_value_t *ids,
	int n, bson_t **docs, bson_error_t *err)
{
	mongoc_client_t *client = mongoc_client_pool_pop(pool);
	mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
	bool ok = true;

	for (int i = 0; i < n; i++)
		docs[i] = NULL;
	for (int i = 0; ok && i < n; i++) {
		bson_t filter = BSON_INITIALIZER;
		mongoc_cursor_t *cur;
		const bson_t *d;

		bson_append_value(&filter, "_id", 3, &ids[i]);
		cur = mongoc_collection_find_with_opts(c, &filter, NULL, NULL);
		if (mongoc_cursor_next(cur, &d))
			docs[i] = bson_copy(d);
		if (mongoc_cursor_error(cur, err))
			ok = false;
		mongoc_cursor_destroy(cur);
		bson_destroy(&filter);
	}
	(void)j;
	mongoc_collection_destroy(c);
	mongoc_client_pool_push(pool, client);
	return ok;
}

static bool
recheck(struct job *j)
{
	const struct opts *o = j->o;
	struct dochash *h = dochash_new(o->hash, o->mode, o->ignore, NULL);
	bson_error_t err;
	bool ok = true, servers = j->sfile == NULL && j->tfile == NULL;
	int n = j->nheld;
	bson_t **sd = bson_malloc0(sizeof(bson_t *) * (size_t)(n + 1));
	bson_t **td = bson_malloc0(sizeof(bson_t *) * (size_t)(n + 1));
	enum kind *kinds = bson_malloc0(sizeof(enum kind) * (size_t)(n + 1));
	uint8_t *hs = bson_malloc0(j->hlen * (size_t)(n + 1)), *ht = bson_malloc0(j->hlen * (size_t)(n + 1));
	bool *still = bson_malloc0(sizeof(bool) * (size_t)(n + 1));

	if (!servers)
		diag_warn("--recheck re-reads servers; a file side does not change, so nothing is rechecked");
	for (int i = 0; i < n; i++)
		still[i] = true;
	for (int round = 0; ok && servers && round < o->recheck && n > 0; round++) {
		for (double t = 0; t < o->recheck_delay && !sig_stop_requested(); t += 0.1)
			usleep(100000);
		ok = fetch_ids(j, j->spool, j->sdb, j->scoll, j->held, n, sd, &err) &&
		     fetch_ids(j, j->tpool, j->tdb, j->tcoll, j->held, n, td, &err);
		for (int i = 0; ok && i < n; i++) {
			if (!still[i])
				goto next;
			if (sd[i] && !dochash_doc(h, sd[i], hs + i * j->hlen, &err))
				ok = false;
			if (td[i] && !dochash_doc(h, td[i], ht + i * j->hlen, &err))
				ok = false;
			if (!sd[i] && !td[i])
				still[i] = false;
			else if (sd[i] && td[i] && memcmp(hs + i * j->hlen, ht + i * j->hlen, j->hlen) == 0)
				still[i] = false;
			if (!still[i])
				j->n.cleared++;
		next:
			if (round + 1 < o->recheck) {
				bson_destroy(sd[i]);
				bson_destroy(td[i]);
				sd[i] = td[i] = NULL;
			}
		}
	}
	/* report what stayed different, as it is now */
	j->n.missing = j->n.extra = j->n.changed = 0;
	{
		int saved = o->recheck;

		((struct opts *)o)->recheck = 0; /* report() writes from here on */
		for (int i = 0; ok && i < n; i++) {
			if (!still[i])
				continue;
			if (!servers) {
				report(j, MISSING, &j->held[i], NULL, NULL, NULL);
				continue;
			}
			if (sd[i] && !td[i])
				report(j, MISSING, &j->held[i], hs + i * j->hlen, NULL, sd[i]);
			else if (!sd[i] && td[i])
				report(j, EXTRA, &j->held[i], NULL, ht + i * j->hlen, NULL);
			else
				report(j, CHANGED, &j->held[i], hs + i * j->hlen, ht + i * j->hlen, sd[i]);
		}
		((struct opts *)o)->recheck = saved;
	}
	if (!ok && !j->failed) {
		j->failed = true;
		j->err = err;
	}
	for (int i = 0; i < n; i++) {
		bson_destroy(sd[i]);
		bson_destroy(td[i]);
	}
	bson_free(sd);
	bson_free(td);
	bson_free(kinds);
	bson_free(hs);
	bson_free(ht);
	bson_free(still);
	dochash_destroy(h);
	return ok;
}

/* ---- one namespace ---- */

static bool
count_side(struct job *j, const char *file, mongoc_client_pool_t *pool, const char *db, const char *coll,
	int64_t *n, bson_error_t *err)
{
	if (file) {
		struct docstream_reader_opts ro = {j->o->c.input_format, j->o->c.max_doc, false};
		struct docstream_reader *r = docstream_reader_open(file, &ro, err);
		const bson_t *doc;
		int got;

		if (r == NULL)
			return false;
		*n = 0;
		while ((got = docstream_read(r, &doc, err)) == 1)
			(*n)++;
		docstream_reader_destroy(r);
		return got == 0;
	}
	{
		mongoc_client_t *client = mongoc_client_pool_pop(pool);
		mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
		bson_t filter = BSON_INITIALIZER;

		*n = mongoc_collection_count_documents(c, &filter, NULL, NULL, NULL, err);
		mongoc_collection_destroy(c);
		mongoc_client_pool_push(pool, client);
		return *n >= 0;
	}
}

static int
run_job(struct job *j, struct stats *st)
{
	const struct opts *o = j->o;
	double start = mp_now();
	bool ok;
	bson_t x = BSON_INITIALIZER;
	bson_error_t err;
	int rc;
	bool incomplete;

	pthread_mutex_init(&j->lock, NULL);
	{
		struct dochash *h = dochash_new(o->hash, o->mode, NULL, NULL);

		j->hlen = dochash_len(h);
		dochash_destroy(h);
	}
	j->p = progress_new(j->ns, -1, o->c.progress);
	if (o->count_only) {
		int64_t a = 0, b = 0;

		ok = count_side(j, j->sfile, j->spool, j->sdb, j->scoll, &a, &err) &&
		     count_side(j, j->tfile, j->tpool, j->tdb, j->tcoll, &b, &err);
		if (!ok) {
			j->failed = true;
			j->err = err;
		} else {
			j->n.compared = (uint64_t)(a > b ? a : b);
			diag_note("%s: source %lld documents, target %lld documents%s", j->ns, (long long)a,
				(long long)b, a == b ? "" : ": counts differ");
			if (a > b)
				j->n.missing = (uint64_t)(a - b);
			else
				j->n.extra = (uint64_t)(b - a);
		}
	} else if (j->sfile == NULL && j->tfile == NULL) {
		compare_servers(j);
	} else if (j->sfile && j->tfile && file_sorted(j, j->sfile) && file_sorted(j, j->tfile)) {
		/* both files in _id order (as mongo-dump-bson writes them): stream */
		struct docstream_reader_opts ro = {o->c.input_format, o->c.max_doc, false};
		struct src a = {0}, b = {0};

		if ((a.r = docstream_reader_open(j->sfile, &ro, &err)) == NULL ||
		    (b.r = docstream_reader_open(j->tfile, &ro, &err)) == NULL) {
			j->failed = true;
			j->err = err;
		} else {
			merge_join(j, &a, &b, false);
		}
		docstream_reader_destroy(a.r);
		docstream_reader_destroy(b.r);
	} else {
		compare_partitioned(j);
	}
	if (!j->failed && o->recheck > 0 && !sig_stop_requested())
		recheck(j);
	/* a verdict exists only for a comparison that ran to its end */
	incomplete = sig_stop_requested() || (j->failed && mp_error_exitcode(&j->err) == MP_EX_TEMPFAIL);
	if (incomplete)
		j->failed = false; /* stopped, not broken: a checkpoint and a rerun go on */
	progress_update(j->p, j->n.compared, j->n.bytes);
	progress_finish(j->p);
	if (j->failed) {
		diag_fail(&j->err, "%s", j->ns);
		rc = mp_error_exitcode(&j->err);
	} else if (incomplete) {
		diag_error("%s: interrupted after %llu compared (missing %llu, extra %llu, changed %llu so far): "
			"no verdict%s", j->ns, (unsigned long long)j->n.compared, (unsigned long long)j->n.missing,
			(unsigned long long)j->n.extra, (unsigned long long)j->n.changed,
			o->checkpoint ? "; rerun with --resume to go on" : "");
		rc = MP_EX_TEMPFAIL;
	} else {
		double el = mp_now() - start;

		if (!o->count_only)
			diag_note("%s: compared %llu, equal %llu, missing %llu, extra %llu, changed %llu "
				"(%.0f docs/s)", j->ns, (unsigned long long)j->n.compared, (unsigned long long)j->n.equal,
				(unsigned long long)j->n.missing, (unsigned long long)j->n.extra,
				(unsigned long long)j->n.changed, el > 0 ? (double)j->n.compared / el : 0.0);
		rc = j->n.missing + j->n.extra + j->n.changed > 0 ? MP_EX_DIFFER : MP_EX_OK;
	}
	if (o->recheck && !j->failed && !incomplete)
		diag_note("%s: %llu differences cleared on recheck", j->ns, (unsigned long long)j->n.cleared);
	if (o->checkpoint && !j->failed && !incomplete && !o->count_only && j->sfile == NULL && j->tfile == NULL &&
	    o->parallel <= 1 && o->part_n == 0) {
		/* finished: a later --resume starts over */
		unlink(o->checkpoint);
	}
	BSON_APPEND_INT64(&x, "compared", (int64_t)j->n.compared);
	BSON_APPEND_INT64(&x, "equal", (int64_t)j->n.equal);
	BSON_APPEND_INT64(&x, "missing", (int64_t)j->n.missing);
	BSON_APPEND_INT64(&x, "extra", (int64_t)j->n.extra);
	BSON_APPEND_INT64(&x, "changed", (int64_t)j->n.changed);
	BSON_APPEND_INT64(&x, "rechecked_cleared", (int64_t)j->n.cleared);
	BSON_APPEND_UTF8(&x, "verdict", j->failed ? "error" : incomplete ? "incomplete" : rc == MP_EX_OK ? "equal" : "different");
	if (!stats_emit(st, "summary", j->ns, j->n.compared, j->n.bytes,
		    j->n.missing + j->n.extra + j->n.changed, &x, &err))
		diag_warn("%s", err.message);
	bson_destroy(&x);
	progress_destroy(j->p);
	for (int i = 0; i < j->nheld; i++)
		bson_value_destroy(&j->held[i]);
	bson_free(j->held);
	pthread_mutex_destroy(&j->lock);
	return rc;
}

static char **
list_collections(mongoc_client_pool_t *pool, const char *db, bson_error_t *err)
{
	mongoc_client_t *client = mongoc_client_pool_pop(pool);
	mongoc_database_t *d = mongoc_client_get_database(client, db);
	char **names = mongoc_database_get_collection_names_with_opts(d, NULL, err);

	mongoc_database_destroy(d);
	mongoc_client_pool_push(pool, client);
	return names;
}

/*
 * A namespace is compared only if it exists on at least one server side:
 * one that exists nowhere is a typo until --allow-missing says otherwise
 * (66); on one side only, its documents are real differences.
 */
static int
check_exists(struct job *j, bson_error_t *err)
{
	bool in_source = false, in_target = false;

	if (j->o->allow_missing || j->o->count_only || (j->sfile && j->tfile))
		return MP_EX_OK;
	if (j->sfile == NULL) {
		mongoc_client_t *c = mongoc_client_pool_pop(j->spool);
		bool ok = conn_collection_exists(c, j->sdb, j->scoll, &in_source, err);

		mongoc_client_pool_push(j->spool, c);
		if (!ok) {
			mp_error_wrap(err, "source: listing %s", j->ns);
			return mp_error_exitcode(err);
		}
	}
	if (j->tfile == NULL) {
		mongoc_client_t *c = mongoc_client_pool_pop(j->tpool);
		bool ok = conn_collection_exists(c, j->tdb, j->tcoll, &in_target, err);

		mongoc_client_pool_push(j->tpool, c);
		if (!ok) {
			mp_error_wrap(err, "target: listing %s", j->tns);
			return mp_error_exitcode(err);
		}
	}
	if (in_source || in_target || j->sfile || j->tfile)
		return MP_EX_OK;
	mp_error_set(err, MP_EX_NOINPUT, "no such collection on either side: %s%s%s (--allow-missing compares "
		"it as empty)", j->ns, strcmp(j->ns, j->tns) ? " / " : "", strcmp(j->ns, j->tns) ? j->tns : "");
	return MP_EX_NOINPUT;
}

static int
worse(int a, int b)
{
	return a > b ? a : b;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct stats *stats = NULL;
	mongoc_client_pool_t *spool = NULL, *tpool = NULL;
	struct docstream_writer *out = NULL;
	bson_error_t err;
	char *ns = NULL, *db = NULL, *sdb = NULL, *scoll = NULL, *tdb = NULL, *tcoll = NULL;
	int ch, rc = MP_EX_SOFTWARE;
	int64_t v;

	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	cli_common_init(&o.c);
	o.c.format = DOCSTREAM_NDJSON;
	o.hash = "sha256";
	o.recheck_delay = 5;
	o.batch_size = 10000;
	while ((ch = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (cli_common_option(&o.c, ch, optarg, &err)) {
		case 1:
			continue;
		case -1:
			return cli_misuse(usage, "%s", err.message);
		}
		switch (ch) {
		case OPT_SOURCE: o.source = optarg; break;
		case OPT_TARGET: o.target = optarg; break;
		case OPT_TARGET_NS: o.target_ns = optarg; break;
		case OPT_SOURCE_FILE: o.source_file = optarg; break;
		case OPT_TARGET_FILE: o.target_file = optarg; break;
		case OPT_IGNORE: o.ignore = optarg; break;
		case OPT_HASH: o.hash = optarg; break;
		case OPT_COUNT_ONLY: o.count_only = true; break;
		case OPT_CHECKPOINT: o.checkpoint = optarg; break;
		case OPT_RESUME: o.resume = true; break;
		case OPT_ALLOW_MISSING: o.allow_missing = true; break;
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_COMPARE:
			if (!dochash_mode_parse(optarg, &o.mode))
				return cli_misuse(usage, "--compare takes binary, unordered or semantic, not '%s'", optarg);
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "diff") == 0) o.emit = EMIT_DIFF;
			else if (strcmp(optarg, "repair") == 0) o.emit = EMIT_REPAIR;
			else if (strcmp(optarg, "ids") == 0) o.emit = EMIT_IDS;
			else return cli_misuse(usage, "--emit takes diff, repair or ids, not '%s'", optarg);
			break;
		case OPT_PARALLEL:
			if (!cli_parse_int64(optarg, 1, 64, &v))
				return cli_misuse(usage, "--parallel takes 1 to 64, not '%s'", optarg);
			o.parallel = (int)v;
			break;
		case OPT_PARTITION:
			if (!cli_parse_share(optarg, &o.part_k, &o.part_n) || o.part_n > MAX_RANGES)
				return cli_misuse(usage, "--partition takes K/N with 1 <= K <= N <= %d, not '%s'",
					MAX_RANGES, optarg);
			break;
		case OPT_RECHECK:
			if (!cli_parse_int64(optarg, 0, 100, &v))
				return cli_misuse(usage, "--recheck takes 0 to 100, not '%s'", optarg);
			o.recheck = (int)v;
			break;
		case OPT_RECHECK_DELAY:
			if (!cli_parse_int64(optarg, 0, 86400, &v))
				return cli_misuse(usage, "--recheck-delay takes seconds, not '%s'", optarg);
			o.recheck_delay = (double)v;
			break;
		case OPT_BATCH_SIZE:
			if (!cli_parse_int64(optarg, 1, 1000000, &v))
				return cli_misuse(usage, "--batch-size takes 1 to 1000000, not '%s'", optarg);
			o.batch_size = v;
			break;
		default:
			return cli_misuse(usage, "unknown option");
		}
	}
	if ((rc = cli_common_finish(&o.c, usage, argc, argv, &ns, &db)) >= 0)
		return rc;
	rc = MP_EX_USAGE;
	if (o.c.uri || o.c.uri_file) {
		cli_misuse(usage, "two sides: --source URI (or --source-file) and --target URI (or --target-file)");
		goto done;
	}
	if ((!o.source && !o.source_file) || (!o.target && !o.target_file) || (o.source && o.source_file) ||
	    (o.target && o.target_file)) {
		cli_misuse(usage, "give one source (--source or --source-file) and one target (--target or --target-file)");
		goto done;
	}
	if ((o.source || o.target) && ns == NULL && db == NULL) {
		cli_misuse(usage, "say what to compare: --ns DB.COLL or --db DB");
		goto done;
	}
	if (ns == NULL && db && (o.source_file || o.target_file)) {
		cli_misuse(usage, "--db compares servers; a file is one collection: use --ns");
		goto done;
	}
	if ((o.parallel > 1 || o.part_n) && (o.source_file || o.target_file)) {
		cli_misuse(usage, "--parallel and --partition split servers' _id ranges, not files");
		goto done;
	}
	{
		struct dochash *h = dochash_new(o.hash, o.mode, o.ignore, &err);

		if (h == NULL) {
			cli_misuse(usage, "%s", err.message);
			goto done;
		}
		dochash_destroy(h);
	}
	if (o.resume && !o.checkpoint) {
		cli_misuse(usage, "--resume needs --checkpoint FILE");
		goto done;
	}
	if (o.emit == EMIT_REPAIR && o.c.format == DOCSTREAM_AUTO)
		o.c.format = DOCSTREAM_NDJSON;
	mongoc_init();
	diag_capture_driver_log();
	sig_install();
	stats = stats_open(o.c.stats_path, o.c.stats_fd, TOOL, &err);
	if (stats == NULL)
		goto fail;
	if (o.source) {
		char *u = conn_resolve_uri(o.source, NULL, "MP_NO_SUCH_VARIABLE", &err);

		if (u == NULL || (spool = conn_pool_new(u, TOOL, &err)) == NULL) {
			bson_free(u);
			goto fail;
		}
		bson_free(u);
	}
	if (o.target) {
		char *u = conn_resolve_uri(o.target, NULL, "MP_NO_SUCH_VARIABLE", &err);

		if (u == NULL || (tpool = conn_pool_new(u, TOOL, &err)) == NULL) {
			bson_free(u);
			goto fail;
		}
		bson_free(u);
	}
	{
		struct docstream_writer_opts wo = {o.c.format, o.c.json, o.c.gzip, 0};

		if ((out = docstream_writer_open(o.output, &wo, &err)) == NULL)
			goto fail;
	}
	if (ns == NULL && db) {
		char **names = list_collections(spool, db, &err), **tnames = NULL;
		const char *tdbname = o.target_ns ? o.target_ns : db;

		if (names == NULL)
			goto fail;
		if ((tnames = list_collections(tpool, tdbname, &err)) == NULL) {
			bson_strfreev(names);
			goto fail;
		}
		rc = MP_EX_OK;
		if (names[0] == NULL && tnames[0] == NULL && !o.allow_missing) {
			diag_error("no collections in database %s on either side (--allow-missing: equal)", db);
			rc = MP_EX_NOINPUT;
		}
		for (int pass = 0; pass < 2 && rc != MP_EX_NOINPUT; pass++) {
			char **list = pass == 0 ? names : tnames;

			for (int i = 0; list[i]; i++) {
				struct job j;
				bool seen = false;

				if (strncmp(list[i], "system.", 7) == 0)
					continue;
				for (int k = 0; pass == 1 && names[k]; k++)
					seen = seen || strcmp(names[k], list[i]) == 0;
				if (seen)
					continue; /* compared in the first pass */
				if (sig_stop_requested()) {
					rc = worse(rc, MP_EX_TEMPFAIL);
					break;
				}
				memset(&j, 0, sizeof j);
				j.o = &o;
				j.spool = spool;
				j.tpool = tpool;
				j.sdb = db;
				j.scoll = list[i];
				j.tdb = tdbname;
				j.tcoll = list[i];
				j.out = out;
				bson_snprintf(j.ns, sizeof j.ns, "%s.%s", db, list[i]);
				bson_snprintf(j.tns, sizeof j.tns, "%s.%s", tdbname, list[i]);
				rc = worse(rc, run_job(&j, stats));
			}
		}
		bson_strfreev(names);
		bson_strfreev(tnames);
	} else {
		struct job j;

		memset(&j, 0, sizeof j);
		j.o = &o;
		j.spool = spool;
		j.tpool = tpool;
		j.sfile = o.source_file;
		j.tfile = o.target_file;
		j.out = out;
		if (ns) {
			if (!conn_split_ns(ns, &sdb, &scoll, &err) ||
			    !conn_split_ns(o.target_ns ? o.target_ns : ns, &tdb, &tcoll, &err))
				goto fail;
		} else {
			sdb = bson_strdup("file");
			scoll = bson_strdup("source");
			tdb = bson_strdup("file");
			tcoll = bson_strdup("target");
		}
		j.sdb = sdb;
		j.scoll = scoll;
		j.tdb = tdb;
		j.tcoll = tcoll;
		bson_snprintf(j.ns, sizeof j.ns, "%s.%s", sdb, scoll);
		bson_snprintf(j.tns, sizeof j.tns, "%s.%s", tdb, tcoll);
		if ((rc = check_exists(&j, &err)) != MP_EX_OK) {
			if (rc != MP_EX_NOINPUT)
				goto fail;
			diag_fail(&err, NULL);
			goto cleanup;
		}
		rc = run_job(&j, stats);
	}
	if (!docstream_writer_close(out, &err)) {
		diag_fail(&err, NULL);
		rc = worse(rc, mp_error_exitcode(&err));
	}
	goto cleanup;
fail:
	diag_fail(&err, NULL);
	rc = mp_error_exitcode(&err);
cleanup:
	docstream_writer_destroy(out);
	stats_finish(stats, ns ? ns : db, rc);
	mongoc_client_pool_destroy(spool);
	mongoc_client_pool_destroy(tpool);
	mongoc_cleanup();
done:
	bson_free(ns);
	bson_free(db);
	bson_free(sdb);
	bson_free(scoll);
	bson_free(tdb);
	bson_free(tcoll);
	return rc;
}
