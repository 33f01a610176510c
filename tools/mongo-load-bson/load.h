/*
 * load.h: what the rooms of mongo-load-bson share.
 *
 *   main.c      the options (one table) and main
 *   load.c      one collection: prepare, read records into batches, finish;
 *               a mongodump directory
 *   batch.c     a batch: documents back to back in one buffer
 *   write.c     writing a batch: bulk rounds, rejects, retries of unknown
 *               outcomes (libcommon/bulkwrite reads each reply)
 *   workers.c   the writer threads, their queue, and the acknowledgement
 *               window that moves the checkpoint
 *   metadata.c  a mongodump metadata.json: options before, indexes after
 */
#ifndef MP_LOAD_H
#define MP_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <mongoc/mongoc.h>

#include "bulkwrite.h"
#include "cli.h"
#include "csv.h"
#include "progress.h"
#include "stats.h"
#include "reject.h"
#include "workpool.h"

#define TOOL "mongo-load-bson"
#define BATCH_BYTES_DEFAULT (8 * 1024 * 1024)

enum mode { MODE_INSERT, MODE_UPSERT, MODE_MERGE, MODE_DELETE };

struct opts {
	struct cli_common c;
	const char *from, *dir, *id_field, *reject, *checkpoint, *metadata, *write_concern;
	char **upsert_fields;
	int mode; /* enum mode */
	struct csv_spec csv;    /* CSV/TSV columns: --fields (or the lines of --field-file), --header-line, ... */
	const char *field_file;
	int grace;              /* enum csv_grace */
	bool skip_dups, drop, dry_run, ordered, allow_missing;
	int64_t batch_size, workers, retries;
};

struct batch {
	uint64_t seq;                 /* its number in the acknowledgement window */
	uint64_t first_rec, last_rec; /* input record numbers, for messages */
	uint8_t *buf;
	size_t len, cap;
	uint32_t *offs;
	uint32_t n, ncap;
	bson_value_t last_id;
	bool has_last_id;
	struct wp_node node;          /* its place in the workers' queue */
};

struct counts {
	uint64_t read, written, inserted, upserted, matched, modified, deleted, duplicates, rejected, retries,
		bytes;
};

/* One collection being loaded. */
struct load {
	const struct opts *o;
	mongoc_client_pool_t *pool;
	char *db, *coll, *ns;
	mongoc_write_concern_t *wc;
	bson_t *insert_opts; /* {validate: false} */
	struct reject_file *reject;

	/* the writer threads; wp.lock also guards the window and the counts,
	 * and wp.failed / wp.err hold the first failure of any thread */
	struct workpool wp;

	/* batches handed to the workers and not yet retired in order: the
	 * checkpoint is the last _id of the retired prefix */
	struct ackwin aw;
	bson_value_t ack_id;
	bool has_ack_id, ack_dirty;
	double last_save;

	struct counts n;
};

/* batch.c */
struct batch *batch_new(void);
void batch_add(struct batch *b, const bson_t *doc);
void batch_doc(const struct batch *b, uint32_t i, bson_t *out);
void batch_destroy(struct batch *b);
void batch_free(void *b);

/* write.c: false only for a fatal error (then in l->err) */
bool write_batch(struct load *l, mongoc_client_t *client, struct batch *b);
/* Set a refused document or a bad input record aside; false (74) if the
 * reject file cannot take it. */
bool reject_doc(struct load *l, const bson_t *doc, const char *msg, int32_t code, bson_error_t *err);

/* workers.c */
void workers_init(struct load *l);
void workers_start(struct load *l);
/* Hand a batch to the workers (blocks while the window is full); false
 * after a fatal error (the batch is freed). */
bool workers_enqueue(struct load *l, struct batch *b);
/* Let the workers finish what they were given, then join them. */
void workers_stop(struct load *l);
/* Save the checkpoint if it moved (the lock held, or no workers). */
bool checkpoint_save_ack(struct load *l, bson_error_t *err);

/* metadata.c */
bson_t *metadata_read(const char *path, bson_error_t *err);
bool metadata_create(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta,
	bson_error_t *err);
bool metadata_indexes(mongoc_client_t *client, const char *db, const char *coll, const bson_t *meta,
	bson_error_t *err);

/* load.c */
int load_one(const struct opts *o, mongoc_client_pool_t *pool, const char *ns, const char *input,
	const char *metapath, struct stats *stats);
int load_dir(const struct opts *o, mongoc_client_pool_t *pool, const char *only_db, struct stats *stats);

#endif
