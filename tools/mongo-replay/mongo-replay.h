/*
 * mongo-replay.h: what the rooms of mongo-replay share.
 *
 *   main.c    options, setting up and tearing down, the exit status
 *   run.c     the main loop: each event read is handed to a lane, applied
 *             as a control event, gathered into a transaction or printed
 *   source.c  where events come from (a stream or a staging collection),
 *             split events joined, unreadable records set aside
 *   lanes.c   the worker threads that apply document events in order per
 *             document (the writes themselves: libcommon/changeapply.c)
 *   window.c  events in flight, the acknowledged prefix and the checkpoint
 *   counts.c  what was applied, per namespace, lag; --stats and progress
 */
#ifndef MONGO_REPLAY_H
#define MONGO_REPLAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "bulkwrite.h"
#include "changeapply.h"
#include "changeevent.h"
#include "nsmap.h"
#include "cli.h"
#include "docstream.h"
#include "progress.h"
#include "stats.h"
#include "reject.h"
#include "workpool.h"

#define TOOL "mongo-replay"
#define WINDOW 4096                       /* events in flight */
#define WINDOW_BYTES (64u * 1024 * 1024)  /* and their bytes */
#define MAX_FRAGMENTS 1024                /* of one split event */

enum txn_mode { TXN_EACH, TXN_ATOMIC };

struct opts {
	struct cli_common c;
	int64_t retries; /* writes of unknown outcome sent again before giving up */
	int64_t batch_size, workers;
	const char *from, *from_ns, *checkpoint, *write_concern, *reject;
	struct ns_map *map;
	bool only_mapped, prefer_full, dry_run;
	int on_ddl; /* enum change_ddl_policy */
	int txn;    /* enum txn_mode */
	mongoc_write_concern_t *wc;
};

/* One event on its way to the target.  `c` comes first: a pointer to it is
 * a pointer to the item (item_of). */
struct item {
	struct change_item c;
	uint64_t seq;   /* its slot in the window */
	bool unmapped;  /* its namespace is not to be applied */
	/* c.db and c.coll are views of the event or of --map's names, or
	 * these names renamed by --ns-from/--ns-to */
	char *own_db, *own_coll;
	size_t cap;          /* the bytes after the item that it may hold */
	struct item *spare;  /* in a list of items to reuse */
	struct wp_node node; /* its place in a lane's queue */
	bson_t event;        /* c.event: a view of the bytes after the item */
};

static inline struct item *
item_of(struct change_item *c)
{
	return (struct item *)c;
}

/* One event's place in the window. */
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

struct counts {
	uint64_t events, bytes, inserts, updates, replaces, deletes, ddl, skipped, skipped_ck, retries, txns,
		inserted, upserted, matched, modified, removed;
};

/* What was applied to one target namespace, for --stats. */
#define MAX_NS_COUNTS 256
struct ns_counts {
	char db[128], coll[256];
	struct counts n;
	int64_t last_wall_ms;
};

/* A target namespace, interned by the reader: the items of one namespace
 * carry the same key (change_item.ns_key), which the lanes compare instead
 * of the names.  Kept until the lanes have stopped. */
#define NS_KEY_BUCKETS 4096 /* a power of two */
#define MAX_NS_KEYS 65536   /* past it, names are compared */
#define NS_ROW_NONE (-2)    /* key->row: no row of counts left for it */
struct ns_key {
	char *db, *coll; /* coll NULL: a database */
	uint32_t hash;
	int row;             /* its row in by_ns, -1 until counted, or NS_ROW_NONE; wp.lock */
	struct ns_key *next; /* in its bucket */
};

struct replay {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	struct change_apply apply; /* how events are written (or printed) */
	/* the lanes; wp.lock also guards the window and the counts, and
	 * wp.failed / wp.err hold the first failure of any thread */
	struct workpool wp;

	/* events in flight: aw numbers them and retires them in order (the
	 * acknowledgement window of libcommon/bulkwrite.h, as the load's
	 * batches); ring[seq % WINDOW] holds what each one carries */
	struct ackwin aw;
	struct slot *ring;
	size_t inflight_bytes;

	bson_t ck;               /* token of the acknowledged prefix */
	bool has_ck, ck_dirty;
	uint32_t ck_secs;
	/* the saver (window.c): a thread that writes the checkpoint outside
	 * wp.lock, every 0.2 s while events flow and at once when the target
	 * holds all that was read.  ck_gen numbers the versions of ck,
	 * saved_gen the one on disk; save_io lets one writer at a time write
	 * the file, never an older version after a newer one. */
	uint64_t ck_gen, saved_gen;
	pthread_mutex_t save_io;
	pthread_cond_t save_cond;
	pthread_t saver;
	bool saver_started, saver_stop, save_now;

	struct counts n;
	struct ns_counts *by_ns;
	int nns;
	int last_ns; /* the row of the last event counted: most events share it */
	struct ns_key **keys; /* the reader's: NS_KEY_BUCKETS chains */
	struct ns_key *last_key;
	size_t nkeys;
	struct lag_hist lag;
	/* items the lanes are done with, for the reader to reuse: a lane
	 * pushes a batch (compare-and-swap), the reader takes them all (one
	 * exchange) when its own list runs out (an item freed on the lane's thread and allocated
	 * again on the reader's cost glibc a locked arena each way) */
	struct item *_Atomic returned; /* pushed by lanes, taken by the reader */
	struct item *spares;   /* the reader's */
	struct reject_file *reject;
	struct docstream_writer *dry;
	struct progress *progress;
	double progress_at; /* when counts_progress last looked (mp_now_coarse) */
	struct stats *stats;
};

/* Where events come from: a document stream, or a staging collection. */
struct source {
	struct docstream_reader *reader;
	mongoc_client_t *client;
	mongoc_cursor_t *cursor;
	uint64_t record;
	const char *name;
	bson_t *frags[MAX_FRAGMENTS]; /* of a split event, until the last one */
	int nfrags;
};

/* run.c */
int replay_run(struct replay *r, struct source *src);

/* source.c */
bool source_open(const struct opts *o, mongoc_client_pool_t *pool, struct source *src, bson_error_t *err);
int source_next(struct source *s, const bson_t **doc, bson_error_t *err);
void source_wrap_error(const struct source *s, bson_error_t *err);
bool source_reject(struct replay *r, struct source *s, const bson_error_t *why, const bson_t *doc,
	bson_error_t *err);
int source_item(struct replay *r, struct source *s, struct item **out, bson_error_t *err);
bool source_finish(struct source *s, bson_error_t *err);
void source_close(struct source *src, mongoc_client_pool_t *pool);
struct item *item_new(struct replay *r, const bson_t *doc, uint64_t record, bson_error_t *err);
void item_destroy(struct item *it);
void items_return(struct replay *r, struct change_item **items, int n);
void items_free(struct replay *r);

/* lanes.c */
void lanes_init(struct replay *r);
void lanes_start(struct replay *r);
bool lanes_dispatch(struct replay *r, struct item *it);
void lanes_stop(struct replay *r);

/* window.c */
bool window_take(struct replay *r, const struct change_event *ev, size_t bytes, uint64_t *seq);
void window_done_locked(struct replay *r, uint64_t seq);
/* The same in two steps for a run of events (a lane's batch): mark each
 * done at `now` (window_now_ms(), taken once), then settle once: move the
 * prefix, save when due, wake the reader; r->wp.lock held throughout. */
void window_mark_locked(struct replay *r, uint64_t seq, int64_t now);
void window_settle_locked(struct replay *r);
int64_t window_now_ms(void);
void window_done(struct replay *r, uint64_t seq);
bool window_drain_to(struct replay *r, uint64_t upto);
bool window_drain(struct replay *r);
bool window_save(struct replay *r, bson_error_t *err);
void window_last_save(struct replay *r);
void window_init(struct replay *r);
void window_saver_start(struct replay *r);
void window_saver_stop(struct replay *r);
void window_destroy(struct replay *r);

/* counts.c */
void counts_op(struct counts *c, enum change_op op);
void counts_applied(void *ctx, struct change_item *const *items, int n, const struct bulk_result *res);
bool counts_retrying(void *ctx, const struct change_item *from, const bson_error_t *err);
void counts_lag_add(struct lag_hist *h, int64_t ms);
void counts_progress(struct replay *r);
void counts_summary(struct replay *r);

#endif
