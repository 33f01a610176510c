/*
 * merge.c: merge join of two sides read in _id order (two server cursors
 * sorted by _id, or two files already in that order), compared with the
 * libcommon comparator, which orders as the server sorts, mixed types
 * included; only a digest of each document is kept.  A single stream over
 * two servers records the last _id compared with --checkpoint and goes on
 * from it with --resume.
 */
#include <string.h>
#include <sys/stat.h>

#include "bsoncmp.h"
#include "checkpoint.h"
#include "diag.h"
#include "exitcode.h"
#include "idrange.h"
#include "mongo-hashdiff.h"
#include "sig.h"

/* One side of a merge join: a server cursor or a file already known sorted. */
struct src {
	const struct side *side;
	mongoc_cursor_t *cur;
	struct docstream_reader *r;
	bson_error_t err;
	bool failed;
};

/* A merge join under way. */
struct merge {
	struct job *j;
	struct dochash *h;
	struct src *a, *b;
	const bson_t *da, *db;
	bool has_a, has_b, checkpoints, ok;
	struct counts local;
	bson_error_t err;
	/* with --checkpoint, a copy of the last _id compared: a stop that comes
	 * while a side waits for its server is saved after the documents at
	 * hand are gone */
	bson_value_t last;
	bool has_last;
};

static bool
src_next(struct src *s, const bson_t **doc)
{
	int got;

	if (s->cur) {
		if (mongoc_cursor_next(s->cur, doc))
			return true;
		s->failed = mongoc_cursor_error(s->cur, &s->err);
		if (s->failed)
			side_error(s->side, &s->err);
		return false;
	}
	got = docstream_read(s->r, doc, &s->err);
	s->failed = got < 0;
	return got == 1;
}

static void
save_checkpoint(struct job *j, const bson_value_t *last)
{
	bson_t ck = BSON_INITIALIZER;
	bson_error_t err;

	bson_append_value(&ck, "_id", 3, last);
	BSON_APPEND_INT64(&ck, "compared", (int64_t)j->n.compared);
	BSON_APPEND_INT64(&ck, "equal", (int64_t)j->n.equal);
	BSON_APPEND_INT64(&ck, "missing", (int64_t)j->n.missing);
	BSON_APPEND_INT64(&ck, "extra", (int64_t)j->n.extra);
	BSON_APPEND_INT64(&ck, "changed", (int64_t)j->n.changed);
	if (!checkpoint_save(j->o->checkpoint, &ck, &err))
		job_fail_held(j, &err);
	bson_destroy(&ck);
}

/* The digest of doc, or false with the job failed. */
static bool
digest(struct merge *m, const bson_t *doc, uint8_t *out)
{
	bson_error_t err;

	if (dochash_doc(m->h, doc, out, &err))
		return true;
	job_fail(m->j, &err);
	return false;
}

/* A document on one side only: missing (source) or extra (target). */
static bool
merge_one_side(struct merge *m, enum kind k, const bson_t *doc, const bson_value_t *id)
{
	uint8_t d[DOCHASH_MAX];

	if (!digest(m, doc, d))
		return false;
	pthread_mutex_lock(&m->j->lock);
	if (k == MISSING)
		emit_difference(m->j, MISSING, id, d, NULL, doc);
	else
		emit_difference(m->j, EXTRA, id, NULL, d, NULL);
	pthread_mutex_unlock(&m->j->lock);
	m->local.bytes += doc->len;
	return true;
}

/* The same _id on both sides: equal or changed. */
static bool
merge_both(struct merge *m, const bson_value_t *id)
{
	uint8_t ha[DOCHASH_MAX], hb[DOCHASH_MAX];

	if (!digest(m, m->da, ha) || !digest(m, m->db, hb))
		return false;
	m->local.bytes += m->da->len + m->db->len;
	if (memcmp(ha, hb, m->j->hlen) == 0) {
		m->local.equal++;
		return true;
	}
	pthread_mutex_lock(&m->j->lock);
	emit_difference(m->j, CHANGED, id, ha, hb, m->da);
	pthread_mutex_unlock(&m->j->lock);
	return true;
}

/* Whether a checkpoint may record the position now (j->lock held): not
 * once a difference is held for --recheck (a resumed run would never report
 * it), nor once the job failed (an output that could not be written). */
static bool
may_save(const struct job *j)
{
	return j->nheld == 0 && !j->failed;
}

/* Fold the local counts into the job now and then (every compare with
 * --checkpoint, which is saved at most every second and at a stop). */
static void
merge_flush(struct merge *m, const bson_value_t *last)
{
	struct job *j = m->j;
	bool save = m->checkpoints && j->o->checkpoint;

	if (m->local.compared % 4096 != 0 && !save && !sig_stop_requested())
		return;
	if (save) {
		if (m->has_last)
			bson_value_destroy(&m->last);
		bson_value_copy(last, &m->last);
		m->has_last = true;
	}
	pthread_mutex_lock(&j->lock);
	job_add_held(j, &m->local);
	if (save && may_save(j) && (mp_now() - j->last_save >= 1.0 || sig_stop_requested())) {
		save_checkpoint(j, last);
		j->last_save = mp_now();
	}
	pthread_mutex_unlock(&j->lock);
}

/* Compare the current documents; false to stop (m->ok says whether it
 * is an error of the data). */
static bool
merge_step(struct merge *m, int *c)
{
	bson_value_t ia, ib;

	if (m->has_a && !job_doc_id(m->da, &ia)) {
		mp_error_set(&m->err, MP_EX_DATAERR, "%s: a source document without _id", m->j->src.ns);
		m->ok = false;
		return false;
	}
	if (m->has_b && !job_doc_id(m->db, &ib)) {
		mp_error_set(&m->err, MP_EX_DATAERR, "%s: a target document without _id", m->j->dst.ns);
		m->ok = false;
		return false;
	}
	*c = !m->has_b ? -1 : !m->has_a ? 1 : bsoncmp_value(&ia, &ib);
	if (!(*c < 0 ? merge_one_side(m, MISSING, m->da, &ia)
		     : *c > 0 ? merge_one_side(m, EXTRA, m->db, &ib) : merge_both(m, &ia)))
		return false;
	m->local.compared++; /* counted once compared: a checkpoint never counts more */
	merge_flush(m, *c <= 0 ? &ia : &ib);
	return true;
}

/* Merge-join two sides in _id order.  With `checkpoints`, --checkpoint
 * records the last _id compared. */
static bool
merge_join(struct job *j, struct src *a, struct src *b, bool checkpoints)
{
	struct merge m = {j, NULL, a, b, NULL, NULL, false, false, checkpoints, true, {0}, {0}, {0}, false};
	int c;

	m.h = dochash_new(j->o->hash, j->o->mode, j->o->ignore, NULL);
	m.has_a = src_next(a, &m.da);
	m.has_b = src_next(b, &m.db);
	/* a side that fails has not ended: nothing after it is a difference,
	 * not even the other side's document at hand when it failed */
	while ((m.has_a || m.has_b) && !a->failed && !b->failed && !sig_stop_requested() && merge_step(&m, &c)) {
		if (c <= 0)
			m.has_a = src_next(a, &m.da);
		if (c >= 0)
			m.has_b = src_next(b, &m.db);
	}
	if (m.ok && (a->failed || b->failed)) {
		m.err = a->failed ? a->err : b->err;
		m.ok = false;
	}
	pthread_mutex_lock(&j->lock);
	job_add_held(j, &m.local);
	if (m.has_last && may_save(j) && (sig_stop_requested() || a->failed || b->failed))
		save_checkpoint(j, &m.last); /* stopped or cut off: a rerun goes on from here */
	if (m.has_last)
		bson_value_destroy(&m.last);
	if (!m.ok)
		job_fail_held(j, &m.err);
	m.ok = m.ok && !j->failed;
	pthread_mutex_unlock(&j->lock);
	dochash_destroy(m.h);
	return m.ok;
}

static bool
merge_cursors(struct job *j, mongoc_client_t *sc, mongoc_client_t *tc, const bson_t *filter, bool checkpoints)
{
	struct src a = {0}, b = {0};
	bool ok;

	a.side = j->src.side;
	b.side = j->dst.side;
	a.cur = end_find_sorted(j->o, sc, &j->src, filter);
	b.cur = end_find_sorted(j->o, tc, &j->dst, filter);
	ok = merge_join(j, &a, &b, checkpoints);
	mongoc_cursor_destroy(a.cur);
	mongoc_cursor_destroy(b.cur);
	return ok;
}

bool
merge_range(struct job *j, mongoc_client_t *sc, mongoc_client_t *tc, const bson_t *filter)
{
	return merge_cursors(j, sc, tc, filter, false);
}

static uint64_t
count_of(const bson_t *ck, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, ck, key) ? (uint64_t)bson_iter_as_int64(&it) : 0;
}

/* With --resume: the filter after the checkpoint's _id, and its counts. */
static bool
resume_from_checkpoint(struct job *j, bson_t *filter)
{
	bson_t ck;
	bool found, ok = false;
	bson_iter_t it;
	bson_error_t err;

	if (!checkpoint_load(j->o->checkpoint, &ck, &found, &err)) {
		job_fail(j, &err);
		goto out;
	}
	if (found && !job_probe_types(j))
		goto out;
	if (found && !j->rangeable) {
		diag_warn("%s: cannot resume after the checkpoint (one side holds _ids of a type the other takes "
			"no type code of in a query): comparing from the start", j->src.ns);
		found = false;
	}
	if (found && bson_iter_init_find(&it, &ck, "_id")) {
		idrange_filter(filter, NULL, "_id", bson_iter_value(&it), false, NULL, false, j->omit);
		j->n.compared = count_of(&ck, "compared");
		j->n.equal = count_of(&ck, "equal");
		j->n.missing = count_of(&ck, "missing");
		j->n.extra = count_of(&ck, "extra");
		j->n.changed = count_of(&ck, "changed");
		diag_info("%s: resuming after the checkpoint (%llu compared)", j->src.ns,
			(unsigned long long)j->n.compared);
	}
	ok = true;
out:
	bson_destroy(&ck);
	return ok;
}

bool
merge_servers(struct job *j)
{
	mongoc_client_t *sc = mongoc_client_pool_pop(j->src.side->pool);
	mongoc_client_t *tc = mongoc_client_pool_pop(j->dst.side->pool);
	bson_t filter = BSON_INITIALIZER;
	bool ok = false;

	if (j->o->resume && j->o->checkpoint && !resume_from_checkpoint(j, &filter))
		goto out;
	ok = merge_cursors(j, sc, tc, &filter, true);
out:
	bson_destroy(&filter);
	mongoc_client_pool_push(j->src.side->pool, sc);
	mongoc_client_pool_push(j->dst.side->pool, tc);
	return ok && !j->failed;
}

bool
merge_file_sorted(const struct opts *o, const char *path)
{
	struct docstream_reader_opts ro = {o->c.input_format, o->c.max_doc, true};
	struct docstream_reader *r = NULL;
	const bson_t *doc;
	bson_value_t prev = {0}, id;
	bool sorted = false, has = false;
	bson_error_t err;
	struct stat st;

	/* only a regular file can be read twice: a FIFO or /dev/fd/N (a shell's
	 * <(...)) would be empty the second time, and compare as nothing */
	if (path == NULL || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (r = docstream_reader_open(path, &ro, &err)) == NULL)
		goto out;
	sorted = true;
	while (docstream_read(r, &doc, &err) == 1) {
		if (!job_doc_id(doc, &id) || (has && bsoncmp_value(&prev, &id) >= 0)) {
			sorted = false;
			break;
		}
		if (has)
			bson_value_destroy(&prev);
		bson_value_copy(&id, &prev);
		has = true;
	}
out:
	if (has)
		bson_value_destroy(&prev);
	docstream_reader_destroy(r);
	return sorted;
}

bool
merge_files(struct job *j)
{
	struct docstream_reader_opts ro = {j->o->c.input_format, j->o->c.max_doc, false};
	struct src a = {0}, b = {0};
	bson_error_t err;
	bool ok = false;

	a.side = j->src.side;
	b.side = j->dst.side;
	if ((a.r = docstream_reader_open(j->src.side->file, &ro, &err)) == NULL ||
	    (b.r = docstream_reader_open(j->dst.side->file, &ro, &err)) == NULL) {
		job_fail(j, &err);
		goto out;
	}
	ok = merge_join(j, &a, &b, false);
out:
	docstream_reader_destroy(a.r);
	docstream_reader_destroy(b.r);
	return ok;
}
