/*
 * changeevent.h: change events as MongoDB writes them (DESIGN.md,
 * "Change-event stream"), and the idempotent writes that apply them.
 *
 * change_event_parse() reads the fields replay needs from one event without
 * copying it; change_event_writes() turns a document event into the writes
 * that bring a target document to the state after the event, whatever state
 * an earlier (partial or repeated) replay left it in:
 *   insert, replace  replaceOne(documentKey, fullDocument, upsert)
 *   update           updateOne(documentKey, {$set, $unset}) after a
 *                    {$push: {f: {$each: [], $slice: n}}} per truncated array;
 *                    or the fullDocument as a replacement when asked for
 *   delete           deleteOne(documentKey)
 * Everything else (drop, rename, dropDatabase, create, createIndexes,
 * dropIndexes, invalidate, ...) is a control event the tool decides on.
 */
#ifndef MP_CHANGEEVENT_H
#define MP_CHANGEEVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <bson/bson.h>

enum change_op {
	CHANGE_INSERT,
	CHANGE_REPLACE,
	CHANGE_UPDATE,
	CHANGE_DELETE,
	CHANGE_DROP,
	CHANGE_RENAME,
	CHANGE_DROP_DATABASE,
	CHANGE_INVALIDATE,
	CHANGE_OTHER_DDL, /* create, createIndexes, dropIndexes, modify, shardCollection, ... */
};

/*
 * A document of the event, viewed in place (data NULL when absent).  Not a
 * bson_t: one is 128 bytes aligned to 128, and five made each event 1.4 KB
 * to clear and to hand from the thread that reads it to the one that
 * applies it.  change_doc_bson() gives the bson_t.
 */
struct change_doc {
	const uint8_t *data;
	uint32_t len;
};

/* Borrowed views into one event document; valid while the event is. */
struct change_event {
	enum change_op op;
	const char *op_name;
	bool has_token;
	struct change_doc token; /* _id: the resume token */
	const char *db, *coll;   /* ns; coll NULL for database-wide events */
	const char *to_db, *to_coll; /* rename: `to` */
	bool has_key;
	struct change_doc key;   /* documentKey ({_id} or with the shard key) */
	bool has_full;
	struct change_doc full;  /* fullDocument (absent or null: has_full false) */
	bool has_update;
	struct change_doc update; /* updateDescription */
	bool has_txn;            /* lsid and txnNumber present */
	struct change_doc lsid;
	int64_t txn_number;
	uint32_t cluster_secs, cluster_inc; /* clusterTime, 0 when absent */
	int64_t wall_ms;         /* wallTime, 0 when absent */
	bool has_split;
	int32_t split_fragment, split_of; /* splitEvent {fragment, of} */
};

/* d as a bson_t in *b, a view (nothing to free), or an empty document when
 * absent; returns b. */
static inline const bson_t *
change_doc_bson(const struct change_doc *d, bson_t *b)
{
	if (d->data == NULL || !bson_init_static(b, d->data, d->len))
		bson_init(b);
	return b;
}

/* The event's resume token as canonical Extended JSON, or "(no _id)"; to
 * bson_free(). */
char *change_token_text(const struct change_event *ev);

/* True for insert, replace, update and delete. */
bool change_op_is_document(enum change_op op);

/* The operationType of `op` as the server spells it ("insert", "dropDatabase",
 * ...); "other" for CHANGE_OTHER_DDL, which stands for several.  A static
 * string, never NULL. */
const char *change_op_name(enum change_op op);
/* The op an operationType names; CHANGE_OTHER_DDL for any other (or NULL). */
enum change_op change_op_from_name(const char *name);

/*
 * Parse `doc` into `ev` (views into doc, nothing to free).  Fails (exit
 * status 65, a message naming the missing or mistyped field) when the event
 * lacks what its operationType needs.  Split fragments (splitEvent) parse
 * with only the fields they carry; join them first with change_event_join().
 */
bool change_event_parse(const bson_t *doc, struct change_event *ev, bson_error_t *err);

/*
 * Join fragments of a split event ($changeStreamSplitLargeEvent) in order:
 * their top-level fields, without splitEvent, the _id of the last one.
 * `out` is initialized here.  Fails (65) if they are not fragments 1..n of n.
 */
bool change_event_join(const bson_t *const *frags, int n, bson_t *out, bson_error_t *err);

enum change_write_kind { CHANGE_WRITE_REPLACE, CHANGE_WRITE_UPDATE, CHANGE_WRITE_DELETE };

struct change_write {
	enum change_write_kind kind;
	bson_t filter;
	bson_t doc;   /* replacement or update document; empty for delete */
	bool upsert;
};

/* Up to two writes per event (the truncation of arrays, then the update). */
#define CHANGE_MAX_WRITES 2

/*
 * The writes that apply a document event.  `prefer_full` uses a present
 * fullDocument of an update as a replacement.  An update whose paths cannot
 * be written with $set/$unset (field names holding '.' or starting with '$',
 * per disambiguatedPaths) is applied from its fullDocument when there is one,
 * and otherwise fails (65).  Returns the number of writes (0 for an update
 * that changes nothing), -1 on error; release them with
 * change_writes_destroy().
 */
int change_event_writes(const struct change_event *ev, bool prefer_full, struct change_write *w,
	bson_error_t *err);
void change_writes_destroy(struct change_write *w, int n);

/*
 * Order of two resume tokens: by their `_data` strings, which sort in commit
 * order (the reason a staging collection keyed on the token replays right).
 * Tokens without a string _data compare as documents.
 */
int change_token_cmp(const bson_t *a, const bson_t *b);

/*
 * The message key of an event in a partitioned log (mongo-watch --key):
 * 16 lowercase hex digits of a 64-bit FNV-1a hash of its documentKey's _id,
 * so that every event of one document lands in one partition, in order.
 * The _id is hashed as its BSON type and value bytes; int32, int64 and
 * doubles holding a whole int64 are hashed as that int64, since MongoDB
 * takes them as one _id (a Decimal128 is hashed by its bytes).  False (out
 * untouched) for an event without
 * documentKey._id: a control event, or a split fragment after the first.
 */
bool change_event_key(const bson_t *event, char out[17]);

/* The same hash of a documentKey's _id (of the whole documentKey when it
 * has no _id): mongo-replay's lanes, so that a document's events keep their
 * order however its _id's number is typed. */
uint64_t change_key_hash(const bson_t *document_key);

#endif
