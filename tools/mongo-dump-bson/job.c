/*
 * job.c: the copy of one namespace.  Documents from one or several cursors
 * are written to one output under a lock; the job counts them, draws
 * progress, writes periodic --stats records, and saves --checkpoint (the
 * last _id written) now and then.
 */
#include <string.h>

#include "checkpoint.h"
#include "conn.h"
#include "exitcode.h"
#include "mongo-dump-bson.h"
#include "sig.h"

#define CHECKPOINT_EVERY 1.0 /* seconds */
/* An archive segment: big enough that headers cost nothing, small enough
 * that collections dumped at once interleave finely. */
#define SEGMENT_BYTES (1024 * 1024)

bool
job_init(struct job *j, const struct opts *o, mongoc_client_pool_t *pool, const char *ns, bson_error_t *err)
{
	memset(j, 0, sizeof *j);
	j->o = o;
	j->pool = pool;
	j->ns = bson_strdup(ns);
	j->total = -1;
	pthread_mutex_init(&j->wlock, NULL);
	return conn_split_ns(ns, &j->db, &j->coll, err);
}

void
job_clear(struct job *j)
{
	if (j->have_last_id)
		bson_value_destroy(&j->last_id);
	bson_free(j->seg);
	pthread_mutex_destroy(&j->wlock);
	bson_free(j->ns);
	bson_free(j->db);
	bson_free(j->coll);
}

void
job_set_progress(struct job *j, int64_t total)
{
	struct progress *old;

	pthread_mutex_lock(&j->wlock);
	old = j->p;
	j->p = progress_new(j->ns, total, j->o->c.progress);
	j->total = total;
	pthread_mutex_unlock(&j->wlock);
	progress_destroy(old);
}

void
job_end_progress(struct job *j)
{
	struct progress *p;

	pthread_mutex_lock(&j->wlock);
	p = j->p;
	j->p = NULL;
	pthread_mutex_unlock(&j->wlock);
	progress_update(p, atomic_load(&j->docs), atomic_load(&j->bytes));
	progress_finish(p);
	progress_destroy(p);
}

void
job_tick(struct job *j)
{
	uint64_t docs = atomic_load(&j->docs), bytes = atomic_load(&j->bytes);

	if (j->p)
		progress_update(j->p, docs, bytes);
	if (j->stats && stats_due(j->stats)) {
		bson_t extra = BSON_INITIALIZER;

		BSON_APPEND_UTF8(&extra, "phase", "dump");
		if (j->total >= 0)
			BSON_APPEND_INT64(&extra, "total", j->total);
		stats_emit(j->stats, "progress", j->ns, docs, bytes, 0, &extra);
		bson_destroy(&extra);
	}
}

/* Keep the first failure of the job; the caller holds wlock. */
void
job_fail(struct job *j, const bson_error_t *err)
{
	if (!j->failed) {
		j->failed = true;
		j->err = *err;
	}
}

static bool
flush_segment(struct job *j, bson_error_t *err)
{
	size_t len = j->seg_len;

	j->seg_len = 0;
	return archive_write_segment(j->ar, j->db, j->coll, j->seg, len, err);
}

/* --archive: the documents are kept for one segment of the archive, which
 * the other collections' threads are writing to as well. */
static bool
archive_add(struct job *j, const bson_t *doc, bson_error_t *err)
{
	if (j->seg_len + doc->len > j->seg_cap) {
		j->seg_cap = j->seg_len + doc->len > SEGMENT_BYTES ? j->seg_len + doc->len : SEGMENT_BYTES;
		j->seg = bson_realloc(j->seg, j->seg_cap);
	}
	memcpy(j->seg + j->seg_len, bson_get_data(doc), doc->len);
	j->seg_len += doc->len;
	j->crc = archive_crc64(j->crc, bson_get_data(doc), doc->len);
	return j->seg_len < SEGMENT_BYTES || flush_segment(j, err);
}

bool
job_end_archive(struct job *j, bson_error_t *err)
{
	return flush_segment(j, err) && archive_write_eof(j->ar, j->db, j->coll, j->crc, err);
}

/* Write a document under the lock; remember the last _id for checkpoints. */
static bool
emit_doc(struct job *j, const bson_t *doc, bool track_id)
{
	bson_error_t err;
	bson_iter_t it;
	bool ok;

	pthread_mutex_lock(&j->wlock);
	ok = j->ar ? archive_add(j, doc, &err) : docstream_write(j->w, doc, &err);
	if (!ok)
		job_fail(j, &err);
	if (ok && track_id && bson_iter_init_find(&it, doc, "_id")) {
		if (j->have_last_id)
			bson_value_destroy(&j->last_id);
		bson_value_copy(bson_iter_value(&it), &j->last_id);
		j->have_last_id = true;
	}
	atomic_fetch_add(&j->bytes, doc->len);
	if ((atomic_fetch_add(&j->docs, 1) & 255) == 255)
		job_tick(j);
	pthread_mutex_unlock(&j->wlock);
	return ok;
}

bool
job_save_checkpoint(struct job *j, bson_error_t *err)
{
	bson_t ck = BSON_INITIALIZER;
	bool ok;

	/* documents in a temporary file are not yet output: only its rename
	 * into place may move the checkpoint past them */
	if (j->o->checkpoint == NULL || !j->have_last_id || docstream_writer_replaces_file(j->w))
		return true;
	if (!docstream_flush(j->w, err))
		return false;
	bson_append_value(&ck, "_id", 3, &j->last_id);
	ok = checkpoint_save(j->o->checkpoint, &ck, err);
	bson_destroy(&ck);
	return ok;
}

bool
job_drain(struct job *j, mongoc_cursor_t *cur, bool track_id)
{
	const bson_t *doc;
	bson_error_t err;

	while (!j->failed && !sig_stop_requested() && mongoc_cursor_next(cur, &doc)) {
		if (!emit_doc(j, doc, track_id))
			return false;
		if (track_id && j->o->checkpoint && mongoc_cursor_more(cur) && mp_now() - j->last_ck > CHECKPOINT_EVERY) {
			pthread_mutex_lock(&j->wlock);
			if (!job_save_checkpoint(j, &err))
				job_fail(j, &err);
			pthread_mutex_unlock(&j->wlock);
			j->last_ck = mp_now();
		}
	}
	if (mongoc_cursor_error(cur, &err)) {
		mp_error_wrap(&err, "reading %s", j->ns);
		pthread_mutex_lock(&j->wlock);
		job_fail(j, &err);
		pthread_mutex_unlock(&j->wlock);
		return false;
	}
	return !j->failed;
}
