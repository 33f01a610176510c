/*
 * changeapply.h: bringing a target to the state change events lead to.
 *
 * The caller reads the events, orders them and keeps the checkpoint; this
 * module writes them (changeevent.h says which writes) and says what
 * happened:
 *   document events  of one namespace, as ordered bulk writes; an event the
 *                    target refuses, or that has no writes, goes to the
 *                    reject file and the rest goes on (or it is fatal, 65);
 *                    a bulk whose outcome is unknown is sent again from the
 *                    first unapplied event (every write is idempotent), then
 *                    it is fatal (69);
 *   control events   (drop, rename, dropDatabase, create, createIndexes,
 *                    dropIndexes) under a policy: stop, skip or apply;
 *   a transaction    of the source, applied as one transaction;
 *   a dry run        prints the writes (NDJSON {ns, op, ...}) instead.
 * Nothing here prints or exits; hooks report progress to the caller.
 */
#ifndef MP_CHANGEAPPLY_H
#define MP_CHANGEAPPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <mongoc/mongoc.h>

#include "bulkwrite.h"
#include "changeevent.h"
#include "docstream.h"
#include "reject.h"

/* One event on its way to the target. */
struct change_item {
	uint64_t record;        /* its number in the input, for messages and rejects */
	bson_t *event;          /* the event as read (joined, if it was split) */
	struct change_event ev; /* parsed: views into event */
	const char *db, *coll;  /* the target namespace (mapped); coll NULL for a database */
	/* NULL, or a key the caller gives each namespace: two items with keys
	 * are of one namespace exactly when their keys are equal (no need to
	 * compare the names) */
	const void *ns_key;
};

/* items a and b target one namespace. */
bool change_same_ns(const struct change_item *a, const struct change_item *b);

struct change_apply_hooks {
	void *ctx;
	/* items[0..n) are applied (n may be 0); res holds the server's counts
	 * for them, NULL for a transaction or a dry run.  May be NULL. */
	void (*applied)(void *ctx, struct change_item *const *items, int n, const struct bulk_result *res);
	/* Writes of unknown outcome from event `from` on are about to be sent
	 * again (err says why); false gives up.  NULL: always retry. */
	bool (*retrying)(void *ctx, const struct change_item *from, const bson_error_t *err);
};

/* How to apply; shared read-only by every thread that applies. */
struct change_apply {
	mongoc_write_concern_t *wc;     /* not changed here */
	bool prefer_full;              /* an update's fullDocument as a replacement */
	int retries;                   /* sends of a bulk of unknown outcome after the first */
	struct reject_file *reject;    /* NULL: a refused or unwritable event is fatal */
	struct docstream_writer *dry;  /* not NULL: a dry run, the writes printed there */
	const struct ns_map *map;      /* where a rename's target goes (unmapped: kept); may be NULL */
	struct change_apply_hooks hooks;
};

/* The end of the run of items sharing items[from]'s target namespace:
 * the first index after `from` (below n) naming another one, or n. */
int change_segment_end(struct change_item *const *items, int from, int n);

/*
 * Apply items[0..n), all of one namespace, as ordered bulk writes of at most
 * n events.  *done is how many items from the first are applied or set aside
 * (their writes acknowledged, or their line in the reject file).  False
 * with err when one could not be: refused without a reject file (65,
 * naming the event and the server's message), not acknowledged after
 * a->retries more attempts (69), a failed reject write (74), or a command
 * error.  Not for a dry run.
 */
bool change_apply_segment(const struct change_apply *a, mongoc_client_t *client, struct change_item *const *items,
	int n, int *done, bson_error_t *err);

enum change_ddl_policy { CHANGE_DDL_STOP, CHANGE_DDL_SKIP, CHANGE_DDL_APPLY };

/*
 * What to do with a control event of kind `op` under `policy`: stop (the
 * policy says so, or an invalidate unless the policy is skip), skip or
 * apply.
 */
enum change_ddl_policy change_ddl_decide(enum change_ddl_policy policy, enum change_op op);

enum change_ddl_result {
	CHANGE_DDL_FAILED,      /* err says why */
	CHANGE_DDL_APPLIED,     /* run on the target, or printed in a dry run */
	CHANGE_DDL_ALREADY,     /* the target is already as the event leaves it; err holds the server's word */
	CHANGE_DDL_UNSUPPORTED, /* not an event this module can apply (modify, shardCollection, ...) */
};

/*
 * Apply one control event: drop, rename (to the target a->map gives, with
 * dropTarget), dropDatabase, create, createIndexes, dropIndexes (these two
 * need operationDescription.indexes: 65 without).  In a dry run the command
 * is printed, `client` unused (may be NULL).
 */
enum change_ddl_result change_apply_ddl(const struct change_apply *a, mongoc_client_t *client,
	const struct change_item *it, bson_error_t *err);

/*
 * Apply items[0..n) (n >= 1, one source transaction) in one transaction with
 * a->wc, retried by the driver as transactions are; in a dry run print
 * startTransaction, the writes, commitTransaction.  The applied hook hears
 * of all n on success.  False with err naming the first event.
 */
bool change_apply_txn(const struct change_apply *a, mongoc_client_t *client, struct change_item *const *items,
	int n, bson_error_t *err);

/* Print one dry-run line {ns: "db.coll" or "db", op, ...extra} to w;
 * extra may be NULL.  False with err (74) when it cannot be written. */
bool change_dry_print(struct docstream_writer *w, const char *db, const char *coll, const char *op,
	const bson_t *extra, bson_error_t *err);

/* Print the writes of one document event: {ns, op: replaceOne|updateOne|
 * deleteOne, filter, replacement|update, upsert}.  False with err: an event
 * without writes (65), or the output (74). */
bool change_dry_writes(struct docstream_writer *w, const struct change_item *it, bool prefer_full,
	bson_error_t *err);

#endif
