/*
 * source.c: where mongo-replay's events come from: a change-event stream
 * (stdin or --from FILE) or a staging collection read in token order
 * (--from-ns), after the checkpoint.  Fragments of a split event are joined
 * into one event; a record that cannot be read or parsed is named by its
 * place in the input and set aside with --reject.
 */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "conn.h"
#include "diag.h"
#include "ejson.h"
#include "exitcode.h"
#include "mongo-replay.h"
#include "nsmap.h"
#include "sig.h"

/* The staging collection, sorted by _id, after the checkpoint's token. */
static bool
open_staging(const struct opts *o, mongoc_client_pool_t *pool, struct source *src, bson_error_t *err)
{
	char *db = NULL, *coll = NULL;
	mongoc_collection_t *c;
	bson_t filter = BSON_INITIALIZER, fopts = BSON_INITIALIZER, ck = BSON_INITIALIZER, gt;
	bool found = false, ok;

	if (!conn_split_ns(o->from_ns, &db, &coll, err))
		return false;
	ok = o->checkpoint == NULL || checkpoint_load(o->checkpoint, &ck, &found, err);
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

/* Open what --from or --from-ns names (stdin by default).  False with err. */
bool
source_open(const struct opts *o, mongoc_client_pool_t *pool, struct source *src, bson_error_t *err)
{
	struct docstream_reader_opts ro = {o->c.input_format, o->c.max_doc, false};

	memset(src, 0, sizeof *src);
	if (o->from_ns != NULL)
		return open_staging(o, pool, src, err);
	src->name = o->from && strcmp(o->from, "-") != 0 ? o->from : "stdin";
	src->reader = docstream_reader_open(o->from, &ro, err);
	return src->reader != NULL;
}

/* The next record: 1 with *doc, 0 at the end, -1 with err. */
int
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

/* Prefix err with where the current record is: "NAME: event N (line L)". */
void
source_wrap_error(const struct source *s, bson_error_t *err)
{
	unsigned long long rec = (unsigned long long)s->record;

	if (s->reader == NULL)
		mp_error_wrap(err, "%s: event %llu", s->name, rec);
	else if (docstream_reader_format(s->reader) == DOCSTREAM_NDJSON)
		mp_error_wrap(err, "%s: event %llu (line %llu)", s->name, rec,
			(unsigned long long)docstream_reader_line(s->reader));
	else
		mp_error_wrap(err, "%s: event %llu (byte offset %llu)", s->name, rec,
			(unsigned long long)docstream_reader_offset(s->reader));
}

/* Set the current record aside in --reject, saying why: `doc` if it was
 * read as a document, else its raw bytes (text for NDJSON). */
bool
source_reject(struct replay *r, struct source *s, const bson_error_t *why, const bson_t *doc, bson_error_t *err)
{
	struct reject_why w = {why->message, 0, s->record, 0, 0, true};

	diag_warn("%s; rejected", why->message);
	if (s->reader) { /* where in the input: a collection has no offsets */
		w.line = docstream_reader_line(s->reader);
		w.offset = docstream_reader_offset(s->reader);
		w.no_offset = false;
	}
	/* a document that is not a change event as JSON; a record the reader
	 * refused as it was read */
	if (doc != NULL)
		return reject_write(r->reject, &w, "event", doc, NULL, NULL, 0, err);
	return reject_write_read(r->reject, &w, "event", s->reader, err);
}

/*
 * Keep one fragment of a split event.  True with *joined initialised when it
 * was the last one (the fragments are then released), true with *complete
 * false while more are to come; false with err.
 */
static struct item *item_parse(struct replay *r, const bson_t *doc, uint64_t record, bson_error_t *err);
static struct item *item_map(struct replay *r, struct item *it, bson_error_t *err);

static bool
source_fragment(struct source *s, const bson_t *doc, bson_t *joined, bool *complete, bson_error_t *err)
{
	struct change_event fev;
	bool ok;

	*complete = false;
	if (!change_event_parse(doc, &fev, err)) {
		source_wrap_error(s, err);
		return false;
	}
	if (s->nfrags >= MAX_FRAGMENTS) {
		mp_error_set(err, MP_EX_DATAERR, "more than %d fragments of one split event", MAX_FRAGMENTS);
		return false;
	}
	s->frags[s->nfrags++] = bson_copy(doc);
	if (fev.split_fragment < fev.split_of)
		return true;
	ok = change_event_join((const bson_t *const *)s->frags, s->nfrags, joined, err);
	if (!ok) {
		source_wrap_error(s, err);
		bson_destroy(joined);
	}
	for (int i = 0; ok && i < s->nfrags; i++)
		bson_destroy(s->frags[i]);
	s->nfrags = ok ? 0 : s->nfrags;
	*complete = ok;
	return ok;
}

/* One record read into an item: *out NULL while a split event is not whole,
 * or when the record went to --reject.  False with err. */
static bool
source_event(struct replay *r, struct source *s, const bson_t *doc, struct item **out, bson_error_t *err)
{
	bson_iter_t sp;
	bson_t joined;
	bool complete;
	/* parsed first: the parse tells a fragment of a split event (a search
	 * for splitEvent in every event cost a walk of its fields) */
	struct item *it = item_parse(r, doc, s->record, err);
	bool fragment = it ? it->c.ev.has_split : bson_iter_init_find(&sp, doc, "splitEvent");

	if (fragment) {
		item_destroy(it);
		if (!source_fragment(s, doc, &joined, &complete, err))
			return false;
		if (!complete)
			return true;
		*out = item_new(r, &joined, s->record, err);
		bson_destroy(&joined);
	} else if (s->nfrags > 0) {
		item_destroy(it);
		mp_error_set(err, MP_EX_DATAERR, "an event arrived before the last fragment of a split event");
		source_wrap_error(s, err);
		return false;
	} else {
		*out = it ? item_map(r, it, err) : NULL;
	}
	if (*out != NULL)
		return true;
	source_wrap_error(s, err);
	return r->reject != NULL && source_reject(r, s, err, doc, err);
}

/*
 * Read the next event: 1 with *out (NULL when there is nothing to do yet:
 * a fragment kept, a record set aside), 0 at the end of the input, -1 with
 * err (a signal may be why: the caller checks).
 */
int
source_item(struct replay *r, struct source *s, struct item **out, bson_error_t *err)
{
	const bson_t *doc;
	int got = source_next(s, &doc, err);

	*out = NULL;
	if (got < 0 && !sig_stop_requested()) {
		source_wrap_error(s, err);
		if (r->reject && s->reader && docstream_reader_can_continue(s->reader))
			got = source_reject(r, s, err, NULL, err) ? 1 : -1;
		return got;
	}
	if (got <= 0)
		return got;
	r->n.events++;
	r->n.bytes += doc->len;
	return source_event(r, s, doc, out, err) ? 1 : -1;
}

/* At the end of the input: false (65) if it ended inside a split event. */
bool
source_finish(struct source *s, bson_error_t *err)
{
	if (s->nfrags == 0)
		return true;
	mp_error_set(err, MP_EX_DATAERR, "%s: the stream ended inside a split event (%d fragments read)", s->name,
		s->nfrags);
	return false;
}

void
source_close(struct source *src, mongoc_client_pool_t *pool)
{
	docstream_reader_destroy(src->reader);
	mongoc_cursor_destroy(src->cursor);
	if (src->client)
		mongoc_client_pool_push(pool, src->client);
	for (int i = 0; i < src->nfrags; i++)
		bson_destroy(src->frags[i]);
	src->nfrags = 0;
}

/* ---- items ---- */

/* An item for one event (NULL with err when it does not parse); `unmapped`
 * when its namespace is not to be applied. */
/* --ns-from/--ns-to: the target namespace renamed (names the item owns);
 * false (64) when the new name is not DB.COLL (opt_parse cannot know the
 * names to come). */
static bool
rename_target(struct item *it, bson_error_t *err)
{
	struct change_item *c = &it->c;
	char *ns = bson_strdup_printf("%s.%s", c->db, c->coll), *to = ns_rename(ns);
	bool ok = conn_split_ns(to, &it->own_db, &it->own_coll, NULL);

	if (ok) {
		c->db = it->own_db;
		c->coll = it->own_coll;
	} else {
		mp_error_set(err, MP_EX_USAGE, "--ns-to renames %s to '%s', which is not DB.COLL", ns, to);
	}
	bson_free(ns);
	bson_free(to);
	return ok;
}

/* Items of up to this many event bytes are reused; larger ones freed. */
#define ITEM_REUSE_MAX 65536

/* An item with room for len bytes of event after it, zeroed but for those:
 * one the lanes gave back if one is big enough, else a new one. */
static struct item *
item_alloc(struct replay *r, size_t len)
{
	struct item *it;
	size_t cap;

	if (r->spares == NULL && atomic_load_explicit(&r->returned, memory_order_relaxed) != NULL)
		r->spares = atomic_exchange_explicit(&r->returned, NULL, memory_order_acquire);
	while ((it = r->spares) != NULL) {
		r->spares = it->spare;
		if (it->cap >= len)
			break;
		free(it);
	}
	if (it != NULL) {
		cap = it->cap;
	} else {
		/* its bson_t wants 128-byte alignment, more than malloc gives; a
		 * size that is a multiple of it, the rest of which is room */
		size_t size = (sizeof *it + (len <= 1024 ? 1024 : len) + 127) / 128 * 128;

		it = aligned_alloc(128, size);
		BSON_ASSERT(it != NULL);
		cap = size - sizeof *it;
	}
	memset(it, 0, sizeof *it);
	it->cap = cap;
	return it;
}

/* The event copied into a new item and parsed (its namespace not mapped
 * yet); NULL with err when it is not a change event. */
static struct item *
item_parse(struct replay *r, const bson_t *doc, uint64_t record, bson_error_t *err)
{
	/* one allocation for the item and the bytes of its event */
	struct item *it = item_alloc(r, doc->len);

	it->c.record = record;
	memcpy(it + 1, bson_get_data(doc), doc->len);
	bson_init_static(&it->event, (const uint8_t *)(it + 1), doc->len);
	it->c.event = &it->event;
	if (!change_event_parse(it->c.event, &it->c.ev, err)) {
		item_destroy(it);
		return NULL;
	}
	return it;
}

static bool
key_is(const struct ns_key *k, const struct change_item *c)
{
	return strcmp(k->db, c->db) == 0 && (k->coll == NULL ? c->coll == NULL : c->coll && strcmp(k->coll, c->coll) == 0);
}

/* FNV-1a of db, a NUL, coll (nothing more for a database). */
static uint32_t
ns_hash(const char *db, const char *coll)
{
	uint32_t h = 2166136261u;

	for (const char *p = db; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0u) * 16777619u;
	for (const char *p = coll ? coll : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return coll ? h : h ^ 1u;
}

/* Give the item its namespace's key: the last one's (most events share
 * it), another one's, or a new one (past MAX_NS_KEYS none: the names are
 * compared). */
static void
item_intern(struct replay *r, struct change_item *c)
{
	struct ns_key *k = r->last_key, **b;
	uint32_t h;

	if (k != NULL && key_is(k, c)) {
		c->ns_key = k;
		return;
	}
	h = ns_hash(c->db, c->coll);
	if (r->keys == NULL)
		r->keys = bson_malloc0(sizeof(struct ns_key *) * NS_KEY_BUCKETS);
	b = &r->keys[h & (NS_KEY_BUCKETS - 1)];
	for (k = *b; k != NULL && !(k->hash == h && key_is(k, c)); k = k->next)
		;
	if (k == NULL) {
		if (r->nkeys == MAX_NS_KEYS)
			return;
		k = bson_malloc0(sizeof *k);
		k->db = bson_strdup(c->db);
		k->coll = c->coll ? bson_strdup(c->coll) : NULL;
		k->hash = h;
		k->row = -1;
		k->next = *b;
		*b = k;
		r->nkeys++;
	}
	c->ns_key = r->last_key = k;
}

/* The target namespace of a parsed item: it, or NULL with err (the item
 * freed). */
static struct item *
item_map(struct replay *r, struct item *it, bson_error_t *err)
{
	const struct change_event *ev = &it->c.ev;
	/* a whole database is dropped on the target only when no rule is given
	 * or a db.* rule maps it: never because one collection was mapped */
	bool keep = !r->o->only_mapped &&
		    (ev->op != CHANGE_DROP_DATABASE || (ns_map_empty(r->o->map) && !ns_rename_given()));

	if (ev->op != CHANGE_INVALIDATE && (!ns_selected(ev->db, ev->coll) ||
					     !ns_map_apply(r->o->map, ev->db, ev->coll, keep, &it->c.db, &it->c.coll)))
		it->unmapped = true; /* not selected (--ns-include...), or not mapped with --only-mapped */
	else if (it->c.coll != NULL && ns_rename_given() && !rename_target(it, err)) {
		item_destroy(it);
		return NULL;
	}
	if (!it->unmapped && it->c.db != NULL)
		item_intern(r, &it->c);
	return it;
}

struct item *
item_new(struct replay *r, const bson_t *doc, uint64_t record, bson_error_t *err)
{
	struct item *it = item_parse(r, doc, record, err);

	return it ? item_map(r, it, err) : NULL;
}

void
item_destroy(struct item *it)
{
	if (it == NULL)
		return;
	bson_free(it->own_db);
	bson_free(it->own_coll);
	free(it); /* aligned_alloc */
}

/* A lane is done with items[0..n): back to the reader to reuse (small
 * ones), or freed. */
void
items_return(struct replay *r, struct change_item **items, int n)
{
	struct item *head = NULL, **tail = &head, *old;

	for (int i = 0; i < n; i++) {
		struct item *it = item_of(items[i]);

		bson_free(it->own_db);
		bson_free(it->own_coll);
		it->own_db = it->own_coll = NULL;
		if (it->cap > ITEM_REUSE_MAX) {
			free(it);
			continue;
		}
		*tail = it;
		tail = &it->spare;
	}
	*tail = NULL;
	if (head == NULL)
		return;
	/* a lock-free push: only the reader takes, and it takes the whole list */
	old = atomic_load_explicit(&r->returned, memory_order_relaxed);
	do
		*tail = old;
	while (!atomic_compare_exchange_weak_explicit(&r->returned, &old, head, memory_order_release,
						      memory_order_relaxed));
}

/* Free the items kept for reuse (the lanes stopped). */
void
items_free(struct replay *r)
{
	struct item *lists[2] = {r->spares, atomic_exchange(&r->returned, NULL)};

	for (int i = 0; i < 2; i++)
		while (lists[i] != NULL) {
			struct item *next = lists[i]->spare;

			free(lists[i]);
			lists[i] = next;
		}
	r->spares = NULL;
	for (size_t i = 0; r->keys != NULL && i < NS_KEY_BUCKETS; i++)
		while (r->keys[i] != NULL) {
			struct ns_key *next = r->keys[i]->next;

			bson_free(r->keys[i]->db);
			bson_free(r->keys[i]->coll);
			bson_free(r->keys[i]);
			r->keys[i] = next;
		}
	bson_free(r->keys);
	r->keys = NULL;
	r->last_key = NULL;
	r->nkeys = 0;
}
