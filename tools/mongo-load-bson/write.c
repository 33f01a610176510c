/*
 * write.c: writing one batch.  A batch goes out in bulk rounds: each round
 * sends the documents still pending and libcommon/bulkwrite reads what the
 * server really did.  Refused documents are duplicates (--skip-duplicates,
 * a restore meeting an _id already there, or a retry meeting its own
 * earlier insert), rejects, or fatal; under
 * ordered execution what follows a refused document is sent in the next
 * round; a round whose outcome is unknown is sent again with backoff, and
 * when --retries run out the batch fails (69) naming its records.  Nothing
 * is counted that the server did not acknowledge.
 */
#include <string.h>

#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "idrange.h"
#include "load.h"
#include "sig.h"

/* The documents of a round: indexes into the batch, and the bulk write. */
struct round {
	uint32_t *pending, npending; /* still to write, in batch order */
	uint32_t *map, queued;       /* bulk position -> document */
	bool retrying;               /* an earlier round's outcome was unknown */
	struct counts c;
};

static bool
selector_for(const struct load *l, const bson_t *doc, bson_t *sel)
{
	bson_iter_t it;

	bson_init(sel);
	if (l->o->upsert_fields == NULL) {
		if (!bson_iter_init_find(&it, doc, "_id"))
			return false;
		bson_append_value(sel, "_id", 3, bson_iter_value(&it));
		return true;
	}
	for (char **f = l->o->upsert_fields; *f; f++) {
		if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, *f, &it))
			return false;
		bson_append_value(sel, *f, -1, bson_iter_value(&it));
	}
	return true;
}

/* {$set: every field but _id}, or {$setOnInsert: key} for a bare key. */
static void
merge_update(const bson_t *doc, const bson_t *sel, bson_t *upd)
{
	bson_t set;
	bson_iter_t it;

	bson_init(upd);
	bson_append_document_begin(upd, "$set", 4, &set);
	bson_iter_init(&it, doc);
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), "_id") != 0)
			bson_append_iter(&set, NULL, 0, &it);
	bson_append_document_end(upd, &set);
	if (bson_count_keys(&set) == 0) {
		bson_reinit(upd);
		BSON_APPEND_DOCUMENT(upd, "$setOnInsert", sel);
	}
}

/* Queue one document's write; false (with why) if it cannot be expressed. */
static bool
add_write(struct load *l, mongoc_bulk_operation_t *bulk, const bson_t *doc, bson_error_t *why)
{
	bson_t sel, upd, opts = BSON_INITIALIZER;
	bool ok = true;

	/* the reader checked structure and UTF-8: mongoc's own validation of
	 * each document would be the same work again */
	if (l->o->mode == MODE_INSERT)
		return mongoc_bulk_operation_insert_with_opts(bulk, doc, l->insert_opts, why);
	if (!selector_for(l, doc, &sel)) {
		bson_destroy(&sel);
		mp_error_set(why, MP_EX_DATAERR, "document lacks the key field(s) %s",
			l->o->upsert_fields ? "given by --upsert-fields" : "_id");
		return false;
	}
	if (l->o->mode != MODE_DELETE)
		BSON_APPEND_BOOL(&opts, "upsert", true);
	if (l->o->mode == MODE_UPSERT) {
		BSON_APPEND_BOOL(&opts, "validate", false);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &sel, doc, &opts, why);
	} else if (l->o->mode == MODE_MERGE) {
		merge_update(doc, &sel, &upd);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &upd, &opts, why);
		bson_destroy(&upd);
	} else {
		ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &sel, NULL, why);
	}
	bson_destroy(&sel);
	bson_destroy(&opts);
	return ok;
}

bool
reject_doc(struct load *l, const bson_t *doc, const char *msg, int32_t code, bson_error_t *err)
{
	struct reject_why why = {msg, code, 0, 0, 0};

	return reject_write(l->reject, &why, "doc", doc, NULL, NULL, 0, err);
}

static void
refused_error(const bson_t *doc, const char *msg, int32_t code, bson_error_t *err)
{
	bson_iter_t idit;
	char *id = NULL;

	if (bson_iter_init_find(&idit, doc, "_id")) {
		bson_t tmp = BSON_INITIALIZER;

		bson_append_value(&tmp, "_id", 3, bson_iter_value(&idit));
		id = ejson_from_bson_new(&tmp, EJSON_CANONICAL, NULL);
		bson_destroy(&tmp);
	}
	mp_error_set(err, MP_EX_DATAERR, "the server rejected document %s: %s (code %d); "
		"use --reject FILE to set such documents aside%s", id ? id : "(no _id)", msg, code,
		code == 121 ? ", or --bypass-document-validation to write them past the validator" : "");
	bson_free(id);
}

static enum bulk_kind
load_kind(const struct load *l)
{
	switch (l->o->mode) {
	case MODE_INSERT: return BULK_KIND_INSERT;
	case MODE_UPSERT:
	case MODE_MERGE: return BULK_KIND_UPSERT;
	default: return BULK_KIND_OTHER;
	}
}

/* A document that cannot be written at all: set aside, or fatal. */
static bool
refuse(struct load *l, struct round *rd, const bson_t *doc, const char *msg, int32_t code, bson_error_t *err)
{
	rd->c.rejected++;
	if (l->reject)
		return reject_doc(l, doc, msg, code, err);
	refused_error(doc, msg, code, err);
	return false;
}

/* Queue the pending documents into a bulk; false on a fatal refusal. */
static bool
queue_round(struct load *l, struct round *rd, struct batch *b, mongoc_bulk_operation_t *bulk, bson_error_t *err)
{
	rd->queued = 0;
	for (uint32_t i = 0; i < rd->npending; i++) {
		bson_t doc;
		bson_error_t why;

		batch_doc(b, rd->pending[i], &doc);
		if (add_write(l, bulk, &doc, &why))
			rd->map[rd->queued++] = rd->pending[i];
		else if (!refuse(l, rd, &doc, why.message, 0, err))
			return false;
	}
	return true;
}

/* What the target holds under a refused document's _id. */
enum held {
	HELD_UNASKED,
	HELD_NOTHING, /* nothing, or the target did not say */
	HELD_OURS,    /* exactly our document */
	HELD_OTHER,   /* another document with that _id */
};

/* Whether the target must be asked what it holds under the _id of a
 * duplicate (see settle_duplicate). */
static bool
must_ask(const struct load *l, const struct round *rd, const struct bulk_write_error *we)
{
	bool ours_possible = rd->retrying && l->o->mode == MODE_INSERT && !l->o->skip_dups;

	return bulk_code_duplicate(we->code) && !l->o->skip_dups &&
	       ((ours_possible && (we->on_id || !we->key_named)) || (l->o->restoring && !we->key_named));
}

/* Whether `found`, the target's document, is exactly `doc`: its bytes, or
 * those of doc with _id moved to the front, as MongoDB stores an insert. */
static bool
same_doc(const bson_t *found, const bson_t *doc)
{
	bson_t front = BSON_INITIALIZER;
	bson_iter_t it;
	bool same;

	if (found->len != doc->len)
		return false;
	if (memcmp(bson_get_data(found), bson_get_data(doc), doc->len) == 0)
		return true;
	if (!bson_iter_init_find(&it, doc, "_id"))
		return false;
	bson_append_iter(&front, "_id", 3, &it);
	bson_copy_to_excluding_noinit(doc, &front, "_id", NULL);
	same = front.len == found->len && memcmp(bson_get_data(&front), bson_get_data(found), found->len) == 0;
	bson_destroy(&front);
	return same;
}

/* held[k] for each write error k: what the target holds under its _id,
 * asked in one query for all that must be asked (a retry can meet a whole
 * batch of its own earlier inserts).  False with err when the target did
 * not answer: then nothing is known, and the round is sent again. */
static bool
ask_held(const struct load *l, mongoc_collection_t *coll, const struct round *rd, const struct batch *b,
	const struct bulk_result *res, enum held *held, bson_error_t *err)
{
	bson_value_t *ids = bson_malloc(sizeof *ids * (res->nerrors + 1));
	uint32_t *of = bson_malloc(sizeof *of * (res->nerrors + 1));
	bson_t **found = bson_malloc0(sizeof *found * (res->nerrors + 1));
	bool ok = true;
	int n = 0;

	for (uint32_t k = 0; k < res->nerrors; k++) {
		bson_t doc;
		bson_iter_t it;

		held[k] = HELD_UNASKED;
		if (!must_ask(l, rd, &res->errors[k]))
			continue;
		held[k] = HELD_NOTHING;
		batch_doc(b, rd->map[res->errors[k].index], &doc);
		if (bson_iter_init_find(&it, &doc, "_id"))
			ids[n] = *bson_iter_value(&it), of[n++] = k;
	}
	if (n > 0)
		ok = idrange_find_ids(coll, ids, n, found, err);
	for (int i = 0; ok && i < n; i++) {
		bson_t doc;

		if (found[i] == NULL)
			continue;
		batch_doc(b, rd->map[res->errors[of[i]].index], &doc);
		held[of[i]] = same_doc(found[i], &doc) ? HELD_OURS : HELD_OTHER;
	}
	for (int i = 0; i < n; i++)
		if (found[i] != NULL)
			bson_destroy(found[i]);
	bson_free(found);
	bson_free(of);
	bson_free(ids);
	return ok;
}

/* A duplicate key refusal, settled: our own earlier insert (counted as
 * inserted), a document that is there (a duplicate), or a refusal; `h` is
 * what the target holds under its _id, when it was asked.
 *
 * On a retry, a duplicate _id may be our own insert of an earlier round
 * whose reply was lost: it is, when the target holds exactly our document;
 * anything else is a duplicate like any other, never counted as written.
 * A duplicate means the document is there with --skip-duplicates, and on
 * _id when restoring a mongodump's output, as mongorestore goes past it; a
 * duplicate on another unique index is a document that is not there at
 * all.  A server that does not say which key was duplicated (no keyPattern,
 * no index in the message) is asked: a document under our _id means the
 * duplicate is on _id, whatever else the insert broke. */
enum dup_verdict { DUP_OURS, DUP_THERE, DUP_REFUSED };

static enum dup_verdict
settle_duplicate(const struct load *l, const struct round *rd, const struct bulk_write_error *we, enum held h)
{
	bool ours_possible = rd->retrying && l->o->mode == MODE_INSERT && !l->o->skip_dups;
	bool on_id = we->key_named ? we->on_id : h == HELD_OURS || h == HELD_OTHER;

	if (ours_possible && h == HELD_OURS)
		return DUP_OURS;
	if (l->o->skip_dups || (l->o->restoring && on_id))
		return DUP_THERE;
	return DUP_REFUSED;
}

/* The server answered: count what it did, deal with what it refused
 * (held[k]: what the target holds under error k's _id), and keep pending
 * what it never attempted.  False on a fatal refusal. */
static bool
settle_round(struct load *l, struct round *rd, struct batch *b, const struct bulk_result *res,
	const enum held *held, bson_error_t *err)
{
	rd->c.inserted += res->inserted, rd->c.upserted += res->upserted, rd->c.matched += res->matched;
	rd->c.modified += res->modified, rd->c.deleted += res->removed;
	for (uint32_t k = 0; k < res->nerrors; k++) {
		const struct bulk_write_error *we = &res->errors[k];
		bson_t doc;

		batch_doc(b, rd->map[we->index], &doc);
		if (bulk_code_duplicate(we->code)) {
			enum dup_verdict v = settle_duplicate(l, rd, we, held[k]);

			/* --skip-duplicates counts our own earlier insert a duplicate */
			if (v == DUP_OURS) {
				rd->c.inserted++;
				continue;
			}
			if (v == DUP_THERE) {
				rd->c.duplicates++;
				continue;
			}
		}
		if (!refuse(l, rd, &doc, we->msg, we->code, err))
			return false;
	}
	rd->npending = 0;
	for (uint32_t i = res->attempted; i < rd->queued; i++)
		rd->pending[rd->npending++] = rd->map[i];
	return true;
}

/* The round's outcome once the server answered: what its refusals mean
 * needs the target's word on their _ids; without it, nothing of the round
 * is counted and all of it is sent again, as after a lost reply. */
static enum bulk_outcome
answered_round(struct load *l, mongoc_collection_t *coll, struct round *rd, struct batch *b,
	const struct bulk_result *res, bson_error_t *err)
{
	enum held *held = bson_malloc(sizeof *held * (res->nerrors + 1));
	enum bulk_outcome out = res->outcome;

	if (!ask_held(l, coll, rd, b, res, held, err)) {
		mp_error_wrap(err, "asking the target what it holds under the refused _ids");
		out = BULK_UNKNOWN;
	} else if (!settle_round(l, rd, b, res, held, err)) {
		out = BULK_FAILED;
	}
	bson_free(held);
	return out;
}

/* One round: write the pending documents as one bulk. */
static enum bulk_outcome
write_round(struct load *l, mongoc_collection_t *coll, struct batch *b, struct round *rd, bson_error_t *err)
{
	bson_t bopts = BSON_INITIALIZER, reply;
	mongoc_bulk_operation_t *bulk;
	struct bulk_result res;
	enum bulk_outcome out = BULK_FAILED;

	BSON_APPEND_BOOL(&bopts, "ordered", l->o->ordered);
	mongoc_write_concern_append(l->wc, &bopts);
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
	if (l->o->bypass_validation)
		mongoc_bulk_operation_set_bypass_document_validation(bulk, true);
	if (!queue_round(l, rd, b, bulk, err))
		goto out;
	out = BULK_DONE;
	rd->npending = 0;
	if (rd->queued == 0)
		goto out;
	bulk_result_read(&res, rd->queued, load_kind(l), l->o->ordered,
		mongoc_bulk_operation_execute(bulk, &reply, err) != 0, &reply, err);
	bson_destroy(&reply);
	out = res.outcome;
	if (out == BULK_UNKNOWN || out == BULK_FAILED)
		*err = res.err;
	else
		out = answered_round(l, coll, rd, b, &res, err);
	if (out == BULK_UNKNOWN) {
		/* all of it again: every mode is idempotent by key */
		memcpy(rd->pending, rd->map, sizeof(uint32_t) * rd->queued);
		rd->npending = rd->queued;
	}
	bulk_result_cleanup(&res);
out:
	mongoc_bulk_operation_destroy(bulk);
	bson_destroy(&bopts);
	return out;
}

static void
add_counts(struct load *l, const struct batch *b, const struct counts *c)
{
	pthread_mutex_lock(&l->wp.lock);
	l->n.written += b->n - c->rejected;
	l->n.inserted += c->inserted;
	l->n.upserted += c->upserted;
	l->n.matched += c->matched;
	l->n.modified += c->modified;
	l->n.deleted += c->deleted;
	l->n.duplicates += c->duplicates;
	l->n.rejected += c->rejected;
	l->n.bytes += b->len;
	pthread_mutex_unlock(&l->wp.lock);
}

/* Retry an unknown outcome after a pause; false when retries are spent
 * (err then says which batch, with 69, or 75 after a signal). */
static bool
may_retry(struct load *l, const struct batch *b, int *attempt, bson_error_t *err)
{
	if (*attempt < l->o->retries && !sig_stop_requested()) {
		diag_warn("%s: batch %llu (records %llu-%llu): %s; writing it again", l->ns, (unsigned long long)b->seq,
			(unsigned long long)b->first_rec, (unsigned long long)b->last_rec, err->message);
		pthread_mutex_lock(&l->wp.lock);
		l->n.retries++;
		pthread_mutex_unlock(&l->wp.lock);
		mp_backoff((*attempt)++);
		return true;
	}
	mp_error_wrap(err, "batch %llu (records %llu-%llu) not acknowledged after %d attempts",
		(unsigned long long)b->seq, (unsigned long long)b->first_rec, (unsigned long long)b->last_rec,
		*attempt + 1);
	err->domain = MP_ERROR_DOMAIN;
	err->code = sig_stop_requested() ? MP_EX_TEMPFAIL : MP_EX_UNAVAILABLE;
	return false;
}

bool
write_batch(struct load *l, mongoc_client_t *client, struct batch *b)
{
	mongoc_collection_t *coll = mongoc_client_get_collection(client, l->db, l->coll);
	struct round rd = {0};
	bson_error_t err = {0};
	int attempt = 0;
	bool ok = true;

	rd.pending = bson_malloc(sizeof(uint32_t) * (b->n ? b->n : 1));
	rd.map = bson_malloc(sizeof(uint32_t) * (b->n ? b->n : 1));
	for (uint32_t i = 0; i < b->n; i++)
		rd.pending[rd.npending++] = i;
	while (ok && rd.npending > 0) {
		enum bulk_outcome out = write_round(l, coll, b, &rd, &err);

		if (out == BULK_UNKNOWN) {
			rd.retrying = true;
			ok = may_retry(l, b, &attempt, &err);
		} else if (out == BULK_FAILED) {
			ok = false;
		}
	}
	if (ok)
		add_counts(l, b, &rd.c);
	else
		workpool_fail(&l->wp, &err);
	bson_free(rd.pending);
	bson_free(rd.map);
	mongoc_collection_destroy(coll);
	return ok;
}
