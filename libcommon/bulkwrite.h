/*
 * bulkwrite.h: what a bulk write really did, and the window of
 * acknowledgements that lets a checkpoint advance only over work the server
 * confirmed.  Shared by every tool that writes (mongo-load-bson,
 * mongo-replay).
 *
 * A bulk write ends in one of four ways, and only the first two say what the
 * server holds:
 *   BULK_DONE          every write was acknowledged, with the counts to prove it;
 *   BULK_WRITE_ERRORS  the server answered and refused some writes (listed);
 *                      under ordered execution the writes after the first
 *                      refused one were never attempted;
 *   BULK_UNKNOWN       no complete answer (the connection dropped after the
 *                      request was sent, a timeout, a write concern not met,
 *                      an acknowledgement short of what was sent): some,
 *                      all or none of the writes happened; retry idempotently;
 *   BULK_FAILED        the command failed for a reason a retry cannot cure.
 */
#ifndef MP_BULKWRITE_H
#define MP_BULKWRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <mongoc/mongoc.h>

enum bulk_outcome {
	BULK_DONE,
	BULK_WRITE_ERRORS,
	BULK_UNKNOWN,
	BULK_FAILED,
};

/* The kind of writes in a bulk, for the check that the server acknowledged
 * as many as were sent. */
enum bulk_kind {
	BULK_KIND_INSERT, /* nInserted == writes */
	BULK_KIND_UPSERT, /* nMatched + nUpserted == writes (replace/update with upsert) */
	BULK_KIND_OTHER,  /* deletes, updates without upsert, mixed: no count to expect */
};

struct bulk_write_error {
	uint32_t index; /* position of the write in the bulk, 0-based */
	int32_t code;
	bool on_id;     /* a duplicate key on _id (keyPattern {_id: 1}, or the _id_ index named) */
	bool key_named; /* the server said which key (keyPattern, or an index in the message);
	                 * when it did not, on_id is false and only the target can tell */
	char msg[256];
};

struct bulk_result {
	enum bulk_outcome outcome;
	uint64_t inserted, upserted, matched, modified, removed;
	struct bulk_write_error *errors; /* sorted by index */
	uint32_t nerrors;
	/* writes the server went through: all of them, or under ordered
	 * execution those up to and including the first refused one */
	uint32_t attempted;
	bson_error_t err; /* why, for BULK_UNKNOWN and BULK_FAILED */
};

/*
 * Read what mongoc_bulk_operation_execute() returned (exec_ok, its reply and
 * error) for a bulk of `nwrites` writes of `kind`, executed ordered or not,
 * into res.  res is initialised here; free it with bulk_result_cleanup().
 */
void bulk_result_read(struct bulk_result *res, uint32_t nwrites, enum bulk_kind kind, bool ordered,
	bool exec_ok, const bson_t *reply, const bson_error_t *err);

void bulk_result_cleanup(struct bulk_result *res);

/*
 * --write-concern: "majority" (the default, for NULL), a number of members
 * from 1 (w: 0 acknowledges nothing, so nothing could be counted),
 * or a document such as {"w": 1, "j": true, "wtimeout": 5000} ("w" a number
 * or a string, "j" a boolean, "wtimeout" milliseconds).  Returns a write
 * concern to destroy, or NULL with err (64) naming what is wrong.
 */
mongoc_write_concern_t *bulk_write_concern_parse(const char *text, bson_error_t *err);

/* The error codes that mean "already done" for an idempotent retry of an
 * insert: the document went in on an earlier attempt. */
bool bulk_code_duplicate(int32_t code);

/*
 * The acknowledgement window: units of work (batches, events) are numbered
 * 0, 1, 2, ... as they are issued, complete in any order, and are retired in
 * issue order, so "everything up to here was acknowledged" is the retired
 * prefix.  At most `size` units may be issued and not yet retired: the
 * issuer must wait while ackwin_full() is true.  Not thread-safe: callers
 * hold their own lock.
 */
struct ackwin {
	uint64_t next_retire; /* number of the oldest unit not yet retired */
	uint64_t issued;      /* units issued so far */
	uint32_t size;
	void **slot;          /* completed units waiting for earlier ones */
};

void ackwin_init(struct ackwin *w, uint32_t size);
/* Issue the next unit: returns its number.  The caller checked !ackwin_full(). */
uint64_t ackwin_issue(struct ackwin *w);
bool ackwin_full(const struct ackwin *w);
/* Units issued and not yet retired. */
uint32_t ackwin_pending(const struct ackwin *w);
/* Unit `seq` completed; `item` (not NULL) is handed back by ackwin_retire()
 * in issue order.  False if seq is outside the window or completed twice. */
bool ackwin_complete(struct ackwin *w, uint64_t seq, void *item);
/* The oldest unit once it and all before it completed, else NULL. */
void *ackwin_retire(struct ackwin *w);
/* Free the slots; free_item (may be NULL) gets every item still held. */
void ackwin_destroy(struct ackwin *w, void (*free_item)(void *));

#endif
